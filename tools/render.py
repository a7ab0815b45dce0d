"""How tool results are shown to the model: compact, tabular where that saves tokens, and cut to a budget.

Every token of a result is prefilled on a CPU before the model can answer, so results are shrunk here, in one
place, instead of each tool guessing; the model is always told what was cut.
"""

from __future__ import annotations

import json
from typing import Any

HUMAN_SUFFIX = "_human"
MIN_TABLE_ROWS = 2


def compact_for_model(data: Any) -> Any:
    """The same facts in fewer tokens: a number with a `<key>_human` twin is shown once, as the human form
    (the model quotes "4.1 MB", it does not do arithmetic on bytes), and a list of records becomes a table
    (`{"columns": [...], "rows": [[...], ...]}`) so the keys are not repeated on every row."""
    if isinstance(data, dict):
        compacted: dict[str, Any] = {}
        for key, value in data.items():
            if key.endswith(HUMAN_SUFFIX) and key[: -len(HUMAN_SUFFIX)] in data:
                continue
            human_twin = data.get(f"{key}{HUMAN_SUFFIX}")
            compacted[key] = human_twin if human_twin is not None else compact_for_model(value)
        return compacted
    if isinstance(data, list):
        items = [compact_for_model(item) for item in data]
        if len(items) >= MIN_TABLE_ROWS and all(isinstance(item, dict) for item in items):
            columns: list[str] = []
            for item in items:
                columns.extend(key for key in item if key not in columns)
            if all(not isinstance(item.get(column), (dict, list)) for item in items for column in columns):
                return {"columns": columns, "rows": [[item.get(column) for column in columns] for item in items]}
        return items
    return data


REDACTION_MARKER_START = "[secret "
"""How a redaction marker (`[secret NAME]`, `llmos.secrets`) begins: a hard cut never falls inside one."""


def cut_outside_markers(text: str, cut: int) -> int:
    """`cut`, moved back to the start of a redaction marker it would fall inside."""
    start = text.rfind(REDACTION_MARKER_START, 0, cut)
    if start != -1 and text.find("]", start) >= cut:
        return start
    return cut


def render_within_budget(data: Any, budget_chars: int) -> str:
    """Compact JSON no longer than `budget_chars`. The longest lists are halved first, each cut noted beside
    it (`entries_note: "showing 20 of 312"`), so the model always knows what it is not seeing; a hard cut with
    a note is the last resort."""
    text = _dumps(data)
    if len(text) <= budget_chars:
        return text
    shrunk = json.loads(text)
    if isinstance(shrunk, list):
        shrunk = {"items": shrunk}
    lists = _lists_in_dicts(shrunk)
    original_lengths = {id(items): len(items) for _, _, items in lists}
    while lists:
        parent, key, items = max(lists, key=lambda entry: len(entry[2]))
        if not items:
            break
        del items[len(items) // 2 :]
        parent[f"{key}_note"] = f"showing {len(items)} of {original_lengths[id(items)]}"
        text = _dumps(shrunk)
        if len(text) <= budget_chars:
            return text
    note = f"... [truncated: {len(text)} chars cut to {budget_chars}]"
    if len(note) > budget_chars:
        return text[:cut_outside_markers(text, budget_chars)]
    return text[:cut_outside_markers(text, budget_chars - len(note))] + note


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))


def _lists_in_dicts(node: Any) -> list[tuple[dict[str, Any], str, list[Any]]]:
    """Every (parent dict, key, list) below `node`, so a cut list can carry a note beside it."""
    found: list[tuple[dict[str, Any], str, list[Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, list):
                found.append((node, key, value))
            found.extend(_lists_in_dicts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_lists_in_dicts(item))
    return found
