"""Piped tables as one SQLite table, `data`, that the model queries with a SELECT (`stdin.sql`).

A coder model writes SQL far more reliably than it picks and fills a table tool's arguments: given `CREATE TABLE
data (...)`, the 1.5B model wrote a correct query for every table question of the eval's stdin category we tried
(totals, per-group totals, the row with the largest value, counts since a date), where it had chosen the wrong tool
or column for most of them. SQLite then does the arithmetic, so no count or total in an answer is the model's.

What becomes a table: CSV, TSV, JSON lines, a JSON array of objects (or the largest such array in a JSON object),
aligned command output under a header line (`ps aux`, `df -h`, `free`) and `git log`'s default format (one row per
commit). Column names become plain SQL identifiers (`%CPU` -> `cpu_percent`, `Mounted on` -> `mounted_on`);
numbers written as `1,200`, `98%` or `$5` are stored as numbers, sizes (`3.2G`) as bytes and shown as sizes again
in results.

The query runs under an authorizer that allows reading and nothing else (no ATTACH, PRAGMA or write), one
statement at a time, with a bounded number of SQLite VM steps, a bounded value size and its sorts held in a
capped amount of memory (never spilled to disk), against a private temporary database that SQLite deletes when
the request ends. The table is loaded on the first query only.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from llmos.tools._format import human_size
from llmos.tools.piped.table import records, sized_number, sniff_format
from llmos.tools.piped.view import DocumentView, clip_line
from llmos.tools.registry import ToolError

TABLE_NAME = "data"
SAMPLE_ROWS = 500
"""Rows read to decide each column's type before loading."""
NUMERIC_SHARE = 0.9
MAX_LOADED_ROWS = 20_000_000
"""Rows loaded at most; a longer table is queried over its first rows, and results say so."""
MAX_SHOWN_ROWS = 20
MAX_COUNTED_ROWS = 100_000
"""A result's rows are counted up to this many; past it the count is a lower bound."""
SHOWN_CELL_CHARS = 160
PROGRESS_EVERY = 10_000
"""SQLite VM instructions between checks of the step budget."""
MAX_PROGRESS_CALLS = 50_000
"""The step budget: 500 million VM instructions, a few full scans of a large table. Counted in instructions, not
seconds, so a query is stopped at the same point on any machine and under any load."""
MAX_VALUE_BYTES = 1 << 20
"""The longest string or blob a query may build (`randomblob(1e9)` stops here)."""
MAX_HEAP_BYTES = 512 << 20
"""SQLite's memory, sorts and temporary tables included, at most: a query that needs more fails readably."""

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_RESERVED = {
    "abort", "add", "all", "alter", "and", "as", "asc", "between", "by", "case", "check", "collate", "column",
    "create", "default", "delete", "desc", "distinct", "drop", "else", "end", "escape", "except", "exists",
    "from", "glob", "group", "having", "if", "in", "index", "insert", "intersect", "into", "is", "join", "key",
    "like", "limit", "match", "natural", "not", "null", "of", "offset", "on", "or", "order", "primary",
    "references", "regexp", "select", "set", "table", "then", "to", "union", "unique", "update", "using",
    "values", "when", "where", "with",
}  # fmt: skip
_GIT_COMMIT = re.compile(r"^commit ([0-9a-f]{7,40})\b")
_GIT_AUTHOR = re.compile(r"^Author:\s*(.*?)\s*(?:<([^>]*)>)?\s*$")
_GIT_DATE_FORMAT = "%a %b %d %H:%M:%S %Y %z"


@dataclass(frozen=True)
class Column:
    name: str
    """The SQL identifier the model uses."""
    kind: str
    """INTEGER, REAL or TEXT."""
    sized: bool = False
    """Written as sizes (`3.2G`): stored as bytes, shown as sizes in results."""


@dataclass(frozen=True)
class TableShape:
    format: str
    columns: tuple[Column, ...]

    def create_statement(self) -> str:
        columns = ", ".join(f"{column.name} {column.kind}" for column in self.columns)
        return f"CREATE TABLE {TABLE_NAME} ({columns});"


def sql_name(raw: str, index: int, taken: set[str]) -> str:
    """A column's heading as a plain SQL identifier, unique among `taken` (which it joins)."""
    text = str(raw).strip().lower()
    percent = "%" in text
    text = re.sub(r"[^0-9a-z]+", "_", text.replace("%", " ")).strip("_")
    if percent and "percent" not in text:
        text = f"{text}_percent" if text else "percent"
    if not text:
        text = f"column_{index + 1}"
    if text[0].isdigit():
        text = f"c_{text}"
    if text in _RESERVED or text == TABLE_NAME:
        text = f"{text}_"
    name, suffix = text, 2
    while name in taken:
        name, suffix = f"{text}_{suffix}", suffix + 1
    taken.add(name)
    return name


def _headed_rows(view: DocumentView, kind: str) -> tuple[list[str], Iterator[list[Any]]]:
    if kind == "git_log":
        return ["hash", "author", "email", "date", "message"], _git_commits(view)
    return records(view, kind)


def table_format(view: DocumentView) -> str | None:
    """The piped data's table format, or None when it is not a table."""
    head = [line.text for line in view.head(20)]
    first = next((text for text in head if text.strip()), "")
    if _GIT_COMMIT.match(first):
        return "git_log"
    kind = sniff_format(head)
    return None if kind == "text" else kind


def _git_commits(view: DocumentView) -> Iterator[list[Any]]:
    """`git log`'s default output, one row per commit: hash, author, email, date (ISO, so text comparison with
    '2024-03-01' works), message (its lines joined)."""
    commit: list[Any] | None = None
    message: list[str] = []
    for line in view.lines():
        text = line.text
        if matched := _GIT_COMMIT.match(text):
            if commit is not None:
                yield [*commit, " ".join(message)]
            commit, message = [matched.group(1), None, None, None], []
        elif commit is None:
            continue
        elif text.startswith("Author:") and (author := _GIT_AUTHOR.match(text)):
            commit[1], commit[2] = author.group(1), author.group(2)
        elif text.startswith("Date:"):
            commit[3] = _git_date(text[5:].strip())
        elif text.startswith("    "):
            message.append(text.strip())
    if commit is not None:
        yield [*commit, " ".join(message)]


def _git_date(text: str) -> str:
    try:
        return datetime.strptime(text, _GIT_DATE_FORMAT).isoformat(sep=" ")
    except ValueError:
        return text


def _cell_number(value: Any) -> tuple[float | None, bool]:
    """A cell as a number and whether it was written as a size; JSON's true and false are 1 and 0 here."""
    if isinstance(value, bool):
        return float(value), False
    return sized_number(value)


def _infer(names: list[str], sample: list[list[Any]]) -> tuple[Column, ...]:
    taken: set[str] = set()
    columns = []
    for index, raw in enumerate(names):
        cells = [row[index] for row in sample if index < len(row) and row[index] not in (None, "")]
        numbers = [_cell_number(cell) for cell in cells]
        numeric = [number for number, _sized in numbers if number is not None]
        name = sql_name(raw, index, taken)
        if cells and len(numeric) >= NUMERIC_SHARE * len(cells):
            sized = any(sized for _number, sized in numbers)
            whole = all(float(number).is_integer() for number in numeric)
            columns.append(Column(name, "INTEGER" if whole or sized else "REAL", sized))
        else:
            columns.append(Column(name, "TEXT"))
    return tuple(columns)


def _stored(value: Any, column: Column) -> Any:
    """A cell as SQLite stores it: a number in a number column when it reads as one, JSON text for nested
    values, else the text as written."""
    if value is None or value == "":
        return None
    if column.kind != "TEXT":
        number, _sized = _cell_number(value)
        if number is not None:
            return int(number) if column.kind == "INTEGER" and math.isfinite(number) and (
                column.sized or float(number).is_integer()) else number
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, (int, float)) else str(value)


class PipedTable:
    """One request's piped table: its shape (from the first rows) and, once queried, its SQLite copy."""

    def __init__(self, view: DocumentView, shape: TableShape) -> None:
        self.view = view
        self.shape = shape
        self._connection: sqlite3.Connection | None = None
        self.cut = False
        self._lock = threading.Lock()

    @classmethod
    def of(cls, view: DocumentView) -> PipedTable | None:
        """The view's table (made once per view), or None when the piped data is not a table."""
        with _TABLES_LOCK:
            if view in _TABLES:
                return _TABLES[view]
        kind = table_format(view)
        table: PipedTable | None = None
        if kind is not None:
            try:
                names, rows = _headed_rows(view, kind)
                sample = list(itertools.islice(rows, SAMPLE_ROWS))
            except ToolError:
                names, sample = [], []
            if names and sample:
                table = cls(view, TableShape(kind, _infer(names, sample)))
        with _TABLES_LOCK:
            return _TABLES.setdefault(view, table)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        # "": a private temporary database, spilled to a temporary file when large and deleted on close.
        connection = sqlite3.connect("", check_same_thread=False)
        connection.execute(self.shape.create_statement())
        width = len(self.shape.columns)
        _names, rows = _headed_rows(self.view, self.shape.format)
        placeholders = ", ".join("?" * width)

        def stored_rows() -> Iterator[list[Any]]:
            for count, row in enumerate(rows):
                if count >= MAX_LOADED_ROWS:
                    self.cut = True
                    return
                cells = list(row[:width]) + [None] * (width - len(row))
                yield [_stored(cell, column) for cell, column in zip(cells, self.shape.columns, strict=True)]

        try:
            with connection:
                connection.executemany(f"INSERT INTO {TABLE_NAME} VALUES ({placeholders})", stored_rows())
        except ToolError:
            connection.close()
            raise
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        # A query's sorts and temporary tables stay in memory, under a heap cap, instead of spilling to disk: the
        # step budget bounds instructions, not bytes, and `ORDER BY randomblob(1e6)` over a few thousand rows (or
        # a cross join of the table with itself) would otherwise write gigabytes of temporary files. The table
        # itself was loaded before this, into a file. The cap is process-wide; nothing else in llmos uses SQLite.
        connection.execute("PRAGMA temp_store = MEMORY")
        connection.execute(f"PRAGMA hard_heap_limit = {MAX_HEAP_BYTES}")
        connection.set_authorizer(_read_only)
        self._connection = connection
        return connection

    def query(self, sql: str) -> dict[str, Any]:
        """Run one SELECT; its first rows, how many there are, and the query as run."""
        statement = sql.strip().rstrip(";").strip()
        if not re.match(r"(?is)^\s*(select|with)\b", statement):
            raise ToolError("only a SELECT query can run", hint=f"the table is: {self.shape.create_statement()}")
        with self._lock:
            connection = self._connect()
            steps = [0]

            def budget() -> int:
                steps[0] += 1
                return 1 if steps[0] > MAX_PROGRESS_CALLS else 0

            connection.set_progress_handler(budget, PROGRESS_EVERY)
            try:
                cursor = connection.execute(statement)
                shown = cursor.fetchmany(MAX_SHOWN_ROWS)
                counted = len(shown)
                while counted < MAX_COUNTED_ROWS and (more := cursor.fetchmany(1000)):
                    counted += len(more)
            except sqlite3.Error as exc:
                message = "the query ran too long" if steps[0] > MAX_PROGRESS_CALLS else str(exc)
                raise ToolError(f"SQL error: {message}",
                                hint=f"the table is: {self.shape.create_statement()}") from None
            except MemoryError:
                raise ToolError(f"SQL error: the query needs more than {MAX_HEAP_BYTES >> 20} MB of memory",
                                hint="select fewer or smaller values, or aggregate first") from None
            finally:
                connection.set_progress_handler(None, 0)
            names = [description[0] for description in cursor.description or ()]
        sized = _sized_outputs(names, self.shape.columns)
        keys = _unique(names)
        # Rows as records: a small model reads `"use_percent": 99` right where it misread a value's column in a
        # list of rows (the result's compaction shows two rows or more as a table again).
        result: dict[str, Any] = {
            "query": statement,
            "row_count": counted if counted < MAX_COUNTED_ROWS else f"over {MAX_COUNTED_ROWS}",
            "rows": [{key: _shown(value, index in sized) for index, (key, value) in enumerate(zip(keys, row,
                                                                                                    strict=True))}
                     for row in shown],
        }
        if counted > len(shown):
            result["note"] = f"only the first {len(shown)} rows are shown"
        if self.cut:
            result["table_note"] = f"only the first {MAX_LOADED_ROWS} rows of the piped table were loaded"
        return result


_TABLES: weakref.WeakKeyDictionary[DocumentView, PipedTable | None] = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


def _read_only(action: int, *_args: Any) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


_AGGREGATE = re.compile(r"^\s*(?:sum|min|max|avg|total)\s*\(\s*(?:distinct\s+)?\"?(\w+)\"?\s*\)\s*$", re.IGNORECASE)


def _sized_outputs(names: list[str], columns: tuple[Column, ...]) -> set[int]:
    """The result columns that hold sizes: a size column as it is, or its sum, min, max or mean."""
    sized = {column.name for column in columns if column.sized}
    found = set()
    for index, name in enumerate(names):
        plain = name.strip().strip('"').lower()
        aggregate = _AGGREGATE.match(plain)
        if plain in sized or (aggregate and aggregate.group(1).lower() in sized):
            found.add(index)
    return found


def _unique(names: list[str]) -> list[str]:
    """Result column names made unique (`SELECT a, a`), so each row is a record."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def _shown(value: Any, sized: bool) -> Any:
    if sized and isinstance(value, (int, float)):
        return human_size(value)
    if isinstance(value, float):
        rounded = round(value, 4)
        return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return clip_line(value, SHOWN_CELL_CHARS)
    return value
