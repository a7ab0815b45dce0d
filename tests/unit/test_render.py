"""What the model reads of a tool result: compact, tabular, and never over budget without saying so."""

from __future__ import annotations

import json

from llmos.tools.registry import ToolResult
from llmos.tools.render import compact_for_model


def test_human_twin_replaces_the_raw_number() -> None:
    """`size` with a `size_human` twin is shown once, as the human string."""
    assert compact_for_model({"size": 4096, "size_human": "4.0 KB", "name": "a"}) == {"size": "4.0 KB", "name": "a"}


def test_records_become_a_table_with_union_of_columns() -> None:
    """A list of records is shown as columns + rows; a key missing from a record is null in its row."""
    entries = [{"name": "sub", "type": "folder"}, {"name": "a.pdf", "type": "file", "size": 1, "size_human": "1 B"}]
    assert compact_for_model({"entries": entries}) == {
        "entries": {"columns": ["name", "type", "size"], "rows": [["sub", "folder", None], ["a.pdf", "file", "1 B"]]}
    }


def test_nested_records_stay_records() -> None:
    """Records holding lists or dicts are not flattened into a table (the cells would be unreadable)."""
    data = [{"name": "eth0", "addresses": ["10.0.0.2"]}, {"name": "lo", "addresses": ["127.0.0.1"]}]
    assert compact_for_model(data) == data


def test_table_is_smaller_than_records() -> None:
    """The point of tables: the same 50 entries cost far fewer characters."""
    entries = [{"name": f"file{n}.txt", "type": "file", "size": n, "size_human": f"{n} B"} for n in range(50)]
    plain = len(json.dumps({"entries": entries}, separators=(",", ":")))
    compact = len(ToolResult(ok=True, data={"entries": entries}).for_model(100_000))
    assert compact < plain * 0.6


def test_truncated_table_rows_say_how_many_were_cut() -> None:
    """Cutting a table keeps its columns and notes `showing N of M` beside the rows."""
    entries = [{"name": f"file{n:03d}.txt", "type": "file"} for n in range(300)]
    shown = json.loads(ToolResult(ok=True, data={"files": 300, "entries": entries}).for_model(800))
    assert shown["files"] == 300
    assert shown["entries"]["columns"] == ["name", "type"]
    assert shown["entries"]["rows_note"].endswith("of 300")
    assert len(shown["entries"]["rows"]) < 300
