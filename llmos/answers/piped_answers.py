"""Answers rendered from piped-data results: the rows a `stdin.sql` query returned, as they are (SQLite computed
them; nothing is added or left out without saying so)."""

from __future__ import annotations

from typing import Any

from llmos.answers._result import plural, records

SHOWN_ROWS = 10


def answer_sql(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """One value alone; one row as its fields; several rows one per line, with how many there are."""
    rows = records(result["rows"])
    count = result.get("row_count", len(rows))
    if not rows:
        return "The piped data has no rows that match."
    if len(rows) == 1 and len(rows[0]) == 1:
        name, value = next(iter(rows[0].items()))
        return f"{_value(name, value)}."
    lines = [", ".join(f"{name}: {_value(name, value)}" for name, value in row.items() if value is not None)
             for row in rows[:SHOWN_ROWS]]
    lines = [line for line in lines if line]  # a row of nothing but empty cells (free's Swap: no "available")
    if len(lines) == 1:
        return f"{lines[0]}."
    shown = len(lines)
    total = count if isinstance(count, int) else None
    heading = (f"{plural(total, 'row')}" if total is not None and total == shown
               else f"{shown} of {total if total is not None else count} rows")
    return f"{heading}:\n" + "\n".join(lines)


def _value(name: str, value: Any) -> str:
    """A cell as a person reads it: a percentage column's number with its sign (`use_percent` 98 -> 98%)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and name.lower().endswith(("percent", "pct")):
        return f"{value}%"
    return "none" if value is None else str(value)
