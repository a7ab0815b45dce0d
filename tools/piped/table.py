"""Piped tables (CSV, TSV, JSON lines, a JSON array of objects, and aligned columns under a header line, as `ps
aux`, `df -h` or `free` print them): per-column totals and top values, the row where a number column is largest
and smallest, and totals grouped by a column, computed in one streaming pass with bounded memory."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from llmos.tools._format import human_size
from llmos.tools.piped.view import DocumentView
from llmos.tools.registry import ToolError

MAX_JSON_ARRAY_BYTES = 64 << 20
"""A JSON array is parsed whole; a larger one is refused (JSON lines stream at any size)."""
MAX_DISTINCT_VALUES = 10_000
"""Distinct values (or groups) tracked per column; beyond this, counts of rarer ones are lower bounds."""
NUMERIC_SHARE = 0.9
"""A column is numeric when at least this share of its non-empty values read as numbers."""
TOP_VALUES = 5
TOP_GROUPS = 10


def sniff_format(head: list[str]) -> str:
    """csv, tsv, jsonl, json or text, from the first lines."""
    lines = [text for text in head if text.strip()]
    if not lines:
        return "text"
    first = lines[0].lstrip()
    if first.startswith(("[{", "[[", '["')) or first.rstrip() == "[":
        return "json"
    if first.startswith("{"):
        # JSON lines hold one object per line; a pretty-printed document opens with a line that does not parse.
        return "jsonl" if _json_object(first) else "json"
    delimiter = _delimiter(lines)
    if delimiter is None:
        return "columns" if _aligned_width(lines) is not None else "text"
    return "tsv" if delimiter == "\t" else "csv"


MIN_ALIGNED_COLUMNS = 3
ALIGNED_SHARE = 0.8
"""Aligned columns: at least this share of the sampled rows have the usual number of fields (or more: the last
column, a command line, may hold spaces)."""


def _aligned_width(lines: list[str]) -> int | None:
    """The number of columns of whitespace-aligned text under a header line of names (`USER PID %CPU ...`), or
    None when the lines are not such a table. A header with more words than the rows have fields ends in a name
    of several words (`Mounted on`); rows with one field more than the header start with a label (`free`'s
    `Mem:`). Rows may be short (`Swap:` has no shared or cache figures)."""
    header, *rows = [text.split() for text in lines[:21]]
    if not rows or len(header) < MIN_ALIGNED_COLUMNS or any(number_in(name) is not None for name in header):
        return None
    if sum(1 for fields in rows if len(fields) >= MIN_ALIGNED_COLUMNS) < ALIGNED_SHARE * len(rows):
        return None
    usual = Counter(len(fields) for fields in rows).most_common(1)[0][0]
    labelled = lines[0][:1].isspace() and usual == len(header) + 1  # the header is indented over the labels
    width = len(header) + 1 if labelled else min(usual, len(header))
    if width < MIN_ALIGNED_COLUMNS:
        return None
    # A table has a column of numbers; text whose lines merely have the same number of words does not.
    for index in range(width):
        cells = [fields[index] for fields in rows if len(fields) > index]
        if cells and sum(1 for cell in cells if number_in(cell) is not None) >= ALIGNED_SHARE * len(rows):
            return width
    return None


def _aligned_names(header: list[str], width: int) -> list[str]:
    if width == len(header) + 1:
        return ["label", *header]
    return [*header[:width - 1], " ".join(header[width - 1:])]


def _delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits the first lines into the same number (over one) of fields, if any."""
    sample = [text for text in lines if text.strip()][:20]
    for delimiter in ("\t", ",", ";", "|"):
        try:
            fields = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        except csv.Error:  # a field over csv's size limit (one huge line): not a table this way
            continue
        if fields and fields[0] > 1 and all(count == fields[0] for count in fields):
            return delimiter
    return None


def number_in(value: Any) -> float | None:
    """A cell as a number: `1,200`, `$5`, `99%` (as 99) and `1.5G` (as bytes, as `df -h` and `free -h` print
    sizes) read as numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip().lstrip("$€£").rstrip("%").replace(",", "").replace("_", "")
    if not text:
        return None
    multiplier = 1.0
    if sized := _SIZE.match(text):
        text, multiplier = sized.group(1), _SIZE_SUFFIXES[sized.group(2).upper()]
    try:
        return float(text) * multiplier
    except ValueError:
        return None


_SIZE_SUFFIXES = {"K": 1024.0, "M": 1024.0 ** 2, "G": 1024.0 ** 3, "T": 1024.0 ** 4, "P": 1024.0 ** 5}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTP])(?:i?B?)?$", re.IGNORECASE)


def sized_number(value: Any) -> tuple[float | None, bool]:
    """A cell as a number (`number_in`) and whether it was written as a size (`1.5G`)."""
    number = number_in(value)
    return number, number is not None and isinstance(value, str) and _SIZE.match(value.strip()) is not None


@dataclass
class _Column:
    name: str
    filled: int = 0
    numbers: int = 0
    total: float = 0.0
    smallest: float | None = None
    largest: float | None = None
    values: Counter[str] = field(default_factory=Counter)
    exact: bool = True
    sized: bool = False
    """Some values were written as sizes (`1.5G`): the figures are shown as sizes too."""
    smallest_row: list[Any] | None = None
    largest_row: list[Any] | None = None
    """The first row holding the smallest and the largest number ("which process uses the most memory")."""

    def add(self, value: Any, row: list[Any] | None = None) -> None:
        if value is None or value == "":
            return
        self.filled += 1
        number, sized = sized_number(value)
        if number is not None:
            self.numbers += 1
            self.total += number
            self.sized = self.sized or sized
            if self.smallest is None or number < self.smallest:
                self.smallest, self.smallest_row = number, row
            if self.largest is None or number > self.largest:
                self.largest, self.largest_row = number, row
        text = str(value).strip()[:100]
        if text in self.values or len(self.values) < MAX_DISTINCT_VALUES:
            self.values[text] += 1
        else:
            self.exact = False

    @property
    def numeric(self) -> bool:
        return self.filled > 0 and self.numbers >= NUMERIC_SHARE * self.filled

    def summary(self, top: int, names: list[str] | None = None) -> dict[str, Any]:
        """`names`: the table's columns, to show the rows of the smallest and largest value (None: not shown)."""
        if self.numeric:
            shown: Callable[[float | None], Any] = _shown_size if self.sized else _round
            numbers: dict[str, Any] = {
                "name": self.name, "type": "size" if self.sized else "number", "values": self.numbers,
                "sum": shown(self.total), "min": shown(self.smallest), "max": shown(self.largest),
                "mean": shown(self.total / self.numbers)}
            if names is not None:
                numbers["row_with_max"] = _row_facts(names, self.largest_row)
                numbers["row_with_min"] = _row_facts(names, self.smallest_row)
            return numbers
        summary: dict[str, Any] = {"name": self.name, "type": "text", "values": self.filled,
                                   "distinct": len(self.values) if self.exact else f"over {MAX_DISTINCT_VALUES}",
                                   "top": [[value, seen] for value, seen in self.values.most_common(top)]}
        return summary


ROW_CELL_CHARS = 80


def _row_facts(names: list[str], row: list[Any] | None) -> dict[str, Any] | None:
    """A row as column -> cell, each cell as written (clipped)."""
    if row is None:
        return None
    return {name: (cell[:ROW_CELL_CHARS] if isinstance(cell, str) else cell)
            for name, cell in zip(names, row, strict=False)}


def _shown_size(value: float | None) -> str | None:
    return None if value is None else human_size(int(value))


def _round(value: float | None) -> float | int | None:
    if value is None:
        return None
    rounded = round(value, 4)
    return int(rounded) if rounded.is_integer() else rounded


def records(view: DocumentView, kind: str) -> tuple[list[str], Iterator[list[Any]]]:
    """The column names and the rows (lists in column order)."""
    if kind in ("csv", "tsv"):
        delimiter = _delimiter([line.text for line in view.head(20)]) or ","
        rows = csv.reader((line.text for line in view.lines()), delimiter=delimiter)
        header = next(rows, [])
        return [name.strip() for name in header], rows
    if kind == "columns":
        head = [line.text for line in view.head(21) if line.text.strip()]
        width = _aligned_width(head) or len(head[0].split())
        texts = (line.text for line in view.lines() if line.text.strip())
        header = next(texts, "").split()
        # The last column takes the rest of the line: a command line keeps its arguments.
        return _aligned_names(header, width), (text.split(None, width - 1) for text in texts)
    if kind == "jsonl":
        objects = (_json_object(line.text) for line in view.lines() if line.text.strip())
    else:
        if view.document.size_bytes > MAX_JSON_ARRAY_BYTES:
            raise ToolError("the JSON array is too large to read whole; pipe it as JSON lines (jq -c '.[]')")
        try:
            parsed = json.loads("\n".join(block for _number, block in view.blocks()))
        except json.JSONDecodeError as exc:
            raise ToolError(f"the piped JSON does not parse: {exc}") from None
        rows_of = _object_array(parsed)
        if rows_of is None:
            raise ToolError("the piped JSON holds no array of objects")
        objects = (item for item in rows_of if isinstance(item, dict))
    first_objects = list(itertools.islice(objects, 100))
    names: list[str] = []
    for item in first_objects:
        names.extend(str(key) for key in item if str(key) not in names)
    return names, ([item.get(name) for name in names] for item in itertools.chain(first_objects, objects))


def _object_array(parsed: Any, depth: int = 2) -> list[Any] | None:
    """The array of objects a JSON document holds: the document itself, or the longest such array among an
    object's values (`{"generated_at": ..., "users": [{...}, ...]}`), searched `depth` levels deep."""
    if isinstance(parsed, list):
        return parsed if any(isinstance(item, dict) for item in parsed) else None
    if not isinstance(parsed, dict) or depth == 0:
        return None
    found = [array for value in parsed.values() if (array := _object_array(value, depth - 1)) is not None]
    return max(found, key=len, default=None)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _column_index(names: list[str], wanted: str) -> int:
    lowered = [name.lower() for name in names]
    if wanted.strip().lower() in lowered:
        return lowered.index(wanted.strip().lower())
    raise ToolError(f"no column {wanted!r}", hint=f"the columns are: {', '.join(names)}")


def summarize_table(view: DocumentView, column: str | None, by: str | None) -> dict[str, Any]:
    """Per-column facts, or (with `by`) the total of `column` (rows, without one) per value of `by`."""
    kind = sniff_format([line.text for line in view.head(20)])
    if kind == "text":
        raise ToolError("the piped data is not a table (CSV, TSV, JSON lines, a JSON array, or aligned columns "
                        "under a header line)")
    names, rows = records(view, kind)
    if not names:
        raise ToolError("the piped table has no columns")
    if by is not None:
        return _grouped(names, rows, column, by, kind)
    wanted = [_column_index(names, column)] if column is not None else list(range(len(names)))
    columns = [_Column(names[index]) for index in wanted]
    count = 0
    for row in rows:
        count += 1
        for accumulator, index in zip(columns, wanted, strict=True):
            accumulator.add(row[index] if index < len(row) else None, row)
    top = TOP_GROUPS if column is not None else TOP_VALUES
    # The rows of the extremes only for one column asked about: for every column they would crowd the result.
    return {"format": kind, "rows": count,
            "columns": [accumulator.summary(top, names if column is not None else None) for accumulator in columns]}


def _grouped(names: list[str], rows: Iterator[list[Any]], column: str | None, by: str, kind: str) -> dict[str, Any]:
    group_index = _column_index(names, by)
    value_index = _column_index(names, column) if column is not None else None
    totals: dict[str, float] = {}
    counts: Counter[str] = Counter()
    exact = True
    count = 0
    grand_total = 0.0
    for row in rows:
        count += 1
        number = (number_in(row[value_index]) or 0.0) if value_index is not None and value_index < len(row) else 0.0
        grand_total += number
        group = str(row[group_index]).strip()[:100] if group_index < len(row) else ""
        if group not in counts and len(counts) >= MAX_DISTINCT_VALUES:
            exact = False
            continue
        counts[group] += 1
        if value_index is not None:
            totals[group] = totals.get(group, 0.0) + number
    if value_index is not None:
        ranked = sorted(totals.items(), key=lambda item: -item[1])[:TOP_GROUPS]
        groups = [[group, _round(total), counts[group]] for group, total in ranked]
        columns = [by, f"sum of {names[value_index]}", "rows"]
    else:
        groups = [[group, seen] for group, seen in counts.most_common(TOP_GROUPS)]
        columns = [by, "rows"]
    result: dict[str, Any] = {"format": kind, "rows": count, "groups": len(counts)}
    if value_index is not None:
        # The whole column's total beside the groups': asked for "the total of the units column", the model
        # grouped by region unasked and listed the groups' totals.
        result[f"total of {names[value_index]}"] = _round(grand_total)
    result["largest_first"] = {"columns": columns, "rows": groups}
    if not exact:
        result["note"] = f"over {MAX_DISTINCT_VALUES} groups: only the first {MAX_DISTINCT_VALUES} are counted"
    return result
