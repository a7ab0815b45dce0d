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
        return f"{next(iter(rows[0].values()))}."
    lines = [", ".join(f"{name}: {value}" for name, value in row.items()) for row in rows[:SHOWN_ROWS]]
    if len(rows) == 1:
        return f"{lines[0]}."
    shown = len(lines)
    total = count if isinstance(count, int) else None
    heading = (f"{plural(total, 'row')}" if total is not None and total == shown
               else f"{shown} of {total if total is not None else count} rows")
    return f"{heading}:\n" + "\n".join(lines)
