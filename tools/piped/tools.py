"""The stdin tools: read-only tools over the current request's piped document, offered only when there is one.

Each is a function of the request's `DocumentView` plus the arguments the model gives. Its spec (the schema the
model sees) is built once from the arguments alone; `piped_tools(view)` binds the specs to one request's
document, so the daemon's concurrent requests each read their own. Results are computed facts (exact counts,
totals, the lines asked for), never a dump for the model to count.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from llmos.tools._format import clamp, human_size
from llmos.tools.piped.search import SHOWN_LINE_CHARS, most_repeated, search_lines
from llmos.tools.piped.sql import PipedTable
from llmos.tools.piped.table import sniff_format, summarize_table
from llmos.tools.piped.view import DocumentView, Line, RepeatCounter, clip_line
from llmos.tools.registry import ToolError, ToolSpec, build_spec

from llmos.effects import Effect

MAX_SHOWN_LINES = 50
"""Most lines one call shows (the result budget would cut more anyway)."""
REPEATED_SHOWN = 5

_SPECS: list[tuple[ToolSpec, Callable[..., Any]]] = []


def _stdin_tool(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Build the spec of a stdin tool from its signature without its first parameter (the view)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)
        arguments = list(signature.parameters.values())[1:]
        hints = typing.get_type_hints(func)

        def described(**args: Any) -> Any:
            raise ToolError("there is no piped data in this request")

        described.__signature__ = signature.replace(parameters=arguments)  # type: ignore[attr-defined]
        described.__annotations__ = {argument.name: hints[argument.name] for argument in arguments}
        described.__doc__ = func.__doc__
        _SPECS.append((build_spec(described, name, Effect.READ), func))
        return func

    return decorate


TABLE_TOOLS = {"stdin.sql"}
"""Offered only when the piped data is a table."""


def piped_tools(view: DocumentView) -> list[ToolSpec]:
    """The stdin tools, reading `view` (one request's document), in the order the model sees them."""
    tabular = PipedTable.of(view) is not None
    return [dataclasses.replace(spec, func=functools.partial(func, view)) for spec, func in _SPECS
            if tabular or spec.name not in TABLE_TOOLS]


def piped_tool_names() -> list[str]:
    return [spec.name for spec, _func in _SPECS]


def _line_rows(lines: list[Line]) -> dict[str, Any]:
    return {"columns": ["line", "text"], "rows": [[line.number, clip_line(line.text, SHOWN_LINE_CHARS)]
                                                  for line in lines]}


def _repeat_rows(repeats: RepeatCounter, limit: int) -> dict[str, Any]:
    return {"columns": ["times", "line (numbers as #)"], "rows": [list(row) for row in repeats.most_common(limit)]}


@_stdin_tool("stdin.stats")
def stats(view: DocumentView) -> dict[str, Any]:
    """Count the piped data's lines, words and bytes; say its format and first and last timestamps."""
    counts = view.document.counts
    first, last = view.timestamps()
    result: dict[str, Any] = {"lines": counts.lines, "words": counts.words, "bytes": counts.bytes,
                              "size": human_size(counts.bytes),
                              "format": sniff_format([line.text for line in view.head(20)])}
    if first is not None:
        result["first_timestamp"] = first
    if last is not None:
        result["last_timestamp"] = last
    return result


@_stdin_tool("stdin.search")
def search(view: DocumentView, pattern: str, limit: int = 10) -> dict[str, Any]:
    """Count the piped lines matching words or a regex (any case); show the first ones and the most repeated.

    Args:
        pattern: the words to find, or a regex such as "error|fail".
        limit: how many matching lines to show.
    """
    outcome = search_lines(view, pattern, clamp(limit, 0, MAX_SHOWN_LINES))
    result: dict[str, Any] = {"pattern": pattern, "matching_lines": outcome.matching_lines,
                              "total_lines": view.document.counts.lines}
    if outcome.first:
        result["first_matches"] = _line_rows(outcome.first)
    if outcome.matching_lines > len(outcome.first):
        result["most_repeated_matches"] = _repeat_rows(outcome.repeats, REPEATED_SHOWN)
        if not outcome.repeats.exact:
            result["note"] = "too many different matching lines: the repeat counts are lower bounds"
    return result


@_stdin_tool("stdin.lines")
def lines(view: DocumentView, start: int = 1, count: int = 20) -> dict[str, Any]:
    """Show piped lines by number; a negative start counts from the end (-20: the last 20 lines).

    Args:
        start: the first line to show (1 is the first line, -1 the last).
        count: how many lines to show.
    """
    total = view.document.counts.lines
    count = clamp(count, 1, MAX_SHOWN_LINES)
    first = total + start + 1 if start < 0 else max(start, 1)
    first = max(first, 1)
    if first > total:
        raise ToolError(f"there are only {total} lines")
    shown = view.range(first, count)
    return {"total_lines": total, "lines": _line_rows(shown)}


@_stdin_tool("stdin.top")
def top(view: DocumentView, limit: int = 10) -> dict[str, Any]:
    """The most repeated piped lines and how often each occurs (numbers and ids masked as #, so similar lines
    group together).

    Args:
        limit: how many lines to show.
    """
    repeats = most_repeated(view)
    result: dict[str, Any] = {"total_lines": view.document.counts.lines, "distinct_lines": len(repeats.counts),
                              "most_repeated": _repeat_rows(repeats, clamp(limit, 1, MAX_SHOWN_LINES))}
    if not repeats.exact:
        result["distinct_lines"] = f"over {len(repeats.counts)}"
        result["note"] = "too many different lines to count them all: the counts are lower bounds"
    return result


@_stdin_tool("stdin.table")
def table(view: DocumentView, column: str | None = None, by: str | None = None) -> dict[str, Any]:
    """Sum, min, max, mean and top values of the columns of piped CSV, TSV or JSON; with by, a column's total
    per group.

    Args:
        column: one column to describe (or to total per group).
        by: the column to group rows by, e.g. "region".
    """
    # The docstring stays as measured: naming the aligned formats in it moved the model's plans and cost a task
    # (BENCHMARKS.md, session 20); the tool reads them all the same.
    return summarize_table(view, _given(column), _given(by))


@_stdin_tool("stdin.sql")
def sql(view: DocumentView, query: str) -> dict[str, Any]:
    """Run one SQLite SELECT on the piped table `data` (its CREATE TABLE comes with the data); select the columns
    the answer names.

    Args:
        query: e.g. "SELECT region, SUM(amount) FROM data GROUP BY region ORDER BY 2 DESC LIMIT 1".
    """
    table = PipedTable.of(view)
    if table is None:
        raise ToolError("the piped data is not a table")
    return table.query(query)


def _given(value: str | None) -> str | None:
    """An optional column as the model meant it: it writes "none" or "" for "no column"."""
    return None if value is None or value.strip().lower() in ("", "none", "null", "all", "*") else value
