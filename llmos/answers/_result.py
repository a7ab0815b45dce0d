"""Reading a tool result as the model read it: parsed JSON, tables turned back into records, sizes either as
bytes or as the human form `compact_for_model` left, and the small words every rendered answer shares."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from llmos.tools._format import human_size

TextRenderer = Callable[[str], "str | None"]
"""The tool's result (the JSON text the model would read) -> the answer; None when it cannot be read."""

UNREADABLE = (ValueError, KeyError, TypeError, IndexError, AttributeError)
"""What reading an unexpected result shape raises; a renderer that meets one answers None, never a guess."""


def parsed_result(result_text: str | None) -> dict[str, Any] | None:
    """The result as a dict, or None for anything that is not one: an error, a step that did not run, a result
    hard-cut to the budget (no longer JSON), a list or a bare value."""
    if not result_text:
        return None
    try:
        result = json.loads(result_text)
    except ValueError:
        result = fields_before_cut(result_text)
    if not isinstance(result, dict) or "error" in result or "not_run" in result:
        return None
    return result


HARD_CUT_MARK = "... [truncated: "
"""How `render_within_budget` ends a result it had to cut mid-text (`llmos.tools.render`)."""


def fields_before_cut(result_text: str) -> dict[str, Any] | None:
    """The top-level fields a hard-cut result still holds whole (a file's path, size and line count come before
    its cut content), or None when the text is not such a result. Only fields that parse in full are kept."""
    if not result_text.startswith("{") or HARD_CUT_MARK not in result_text:
        return None
    decoder = json.JSONDecoder()
    fields: dict[str, Any] = {}
    position = 1
    try:
        while result_text[position] == '"':
            key, position = decoder.raw_decode(result_text, position)
            if result_text[position] != ":":
                break
            value, position = decoder.raw_decode(result_text, position + 1)
            if result_text[position] not in ",}":
                break  # a number cut short ("12" of "1234") parses, but is not the value
            fields[key] = value
            if result_text[position] != ",":
                break
            position += 1
    except (ValueError, IndexError):
        pass
    return fields or None


def reads_result(render: Callable[[dict[str, Any]], str]) -> TextRenderer:
    """A renderer of the parsed result that answers None for anything unexpected: a result cut short to fit the
    model's budget, or a shape this code does not know. The session then lets the model read it."""

    def from_text(result_text: str) -> str | None:
        result = parsed_result(result_text)
        if result is None:
            return None
        try:
            return render(result)
        except UNREADABLE:
            return None

    from_text.__name__ = render.__name__
    from_text.__doc__ = render.__doc__
    return from_text


def size_text(value: Any) -> str:
    """A size as people read it: bytes are formatted; a result already compacted for the model holds the text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return human_size(value)
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"not a size: {value!r}")


def percent_text(value: Any) -> str:
    return f"{float(value):g}%"


def records(value: Any) -> list[dict[str, Any]]:
    """A list of records, whether as written or as the model's table (`{"columns": [...], "rows": [[...]]}`)."""
    if isinstance(value, dict) and "columns" in value and "rows" in value:
        columns = list(value["columns"])
        return [dict(zip(columns, row, strict=False)) for row in value["rows"]]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise ValueError("not a list of records")


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def true_total(result: dict[str, Any], list_key: str, count: Any = None) -> int:
    """How many items `result[list_key]` stands for: the tool's own count when it gave one, else the total in
    the budget's cut note ("showing 20 of 312"), else the rows shown (then nothing was cut)."""
    if isinstance(count, int) and not isinstance(count, bool):
        return count
    note = result.get(f"{list_key}_note")
    if isinstance(note, str) and note.startswith("showing ") and " of " in note:
        return int(note.rsplit(" of ", 1)[1])
    return len(records(result[list_key])) if result.get(list_key) else 0


def named_list(names: list[str], total: int, limit: int) -> str:
    """`a, b, c and 9 more`: at most `limit` names, then how many of the `total` were not named."""
    shown = names[:limit]
    text = ", ".join(shown)
    more = total - len(shown)
    return f"{text} and {more} more" if more > 0 else text
