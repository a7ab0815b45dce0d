"""render_step: answers worded from one successful read step's result, with the tool's own counts (never the rows
that fit the budget), names up to a limit, and None for anything it cannot read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from llmos.tools.piped import piped_tool_names
from llmos.tools.registry import Registry
from llmos.tools.render import render_within_budget

from llmos.answers import render_step
from llmos.answers.render import STEP_RENDERERS
from llmos.events import Step


def step(tool: str, result: Any, status: str = "ok", **args: Any) -> Step:
    text = result if isinstance(result, str) else json.dumps(result)
    return Step(index=0, tool=tool, args=args, status=status, result=text)  # type: ignore[arg-type]


def real_step(registry: Registry, tool: str, budget_chars: int = 6000, **args: Any) -> Step:
    """A built-in tool's step as the session records it: the result compacted and cut to a budget."""
    spec = registry.get(tool)
    assert spec is not None
    result = spec.call(spec.validate(args))
    assert result.ok, result.error
    return Step(index=0, tool=tool, args=args, status="ok", result=result.for_model(budget_chars))


def test_every_read_tool_with_a_renderer_is_a_builtin(builtin_tools: Registry) -> None:
    """The renderer table names only tools that exist, and covers every read tool the brief lists."""
    assert set(STEP_RENDERERS) <= {spec.name for spec in builtin_tools.specs()} | set(piped_tool_names())
    assert {"files.list", "files.find", "files.stat", "files.read", "files.search", "files.disk_usage", "files.hash",
            "process.list", "process.info", "system.info", "system.health"} <= set(STEP_RENDERERS)


def test_folder_answer_for_a_kind_of_file_uses_the_type_count(temp_home: Path, builtin_tools: Registry) -> None:
    """ "list the pdf files in Downloads" over a files.list result: the tool's count of that kind and its names."""
    for name in ("b.pdf", "c.PDF"):
        (temp_home / "Downloads" / name).write_text("x")
    listing = real_step(builtin_tools, "files.list", path="~/Downloads")
    assert render_step(listing, "list all the pdf files in Downloads") == (
        "~/Downloads has 3 PDF files (1 hidden entry not looked at): b.pdf, c.PDF, report.pdf.")
    assert render_step(listing, "any mp3s in Downloads?") == (
        "~/Downloads has no MP3 files (1 hidden entry not looked at).")


def test_find_answer_says_the_true_total_and_size_when_cut(temp_home: Path, builtin_tools: Registry) -> None:
    """files.find with a limit: the count of every match, their total size, the paths shown and how many more."""
    found = real_step(builtin_tools, "files.find", type="file", limit=3)
    text = render_step(found, "find all files")
    result = json.loads(found.result or "")
    assert text is not None and text.startswith(f"{result['matches']} files in ~ ({result['total_size']} in all): ")
    assert text.endswith(f" and {result['matches'] - 3} more.")


def test_find_answer_uses_the_budget_note_total_and_the_pattern_noun() -> None:
    """A list the budget cut says its true total in the result's count; `*.pdf` makes the noun "PDF files"."""
    result = {"path": "~/Downloads", "matches": 312, "total_size": "1.2 GB", "skipped": 0, "shown": 50,
              "results": [{"path": f"~/Downloads/f{number}.pdf", "size": "4 KB"} for number in range(20)],
              "results_note": "showing 20 of 50"}
    text = render_step(step("files.find", result, name="*.pdf"), "find my pdfs")
    assert text == ("312 PDF files in ~/Downloads (1.2 GB in all): f0.pdf, f1.pdf, f2.pdf, f3.pdf, f4.pdf, f5.pdf, "
                    "f6.pdf, f7.pdf, f8.pdf, f9.pdf and 302 more.")
    nothing = {"path": "~", "matches": 0, "total_size": "0 B", "skipped": 0, "shown": 0, "results": []}
    assert render_step(step("files.find", nothing, name="*.iso", min_size="1GB"), "") == (
        "No ISO files of at least 1GB were found in ~.")


def test_read_answer_gives_the_line_count_not_the_content(temp_home: Path, builtin_tools: Registry) -> None:
    """files.read: lines and size; whether all was read; never the content."""
    short = real_step(builtin_tools, "files.read", path="~/Downloads/notes.txt")
    assert render_step(short, "count the lines in notes.txt") == (
        "~/Downloads/notes.txt has 2 lines (27 B) and was read in full.")
    cut = real_step(builtin_tools, "files.read", path="~/Documents/big.log", max_bytes=100)
    text = render_step(cut, "how many lines in big.log?")
    assert text is not None and "line 00000" not in text and text.endswith("; the first 100 B of it were read.")
    binary = real_step(builtin_tools, "files.read", path="~/program.bin")
    assert "binary file" in (render_step(binary, "") or "")


def test_read_answer_survives_a_content_cut_by_the_budget(temp_home: Path, builtin_tools: Registry) -> None:
    """A result hard-cut inside its content still holds the line count before it: the answer uses that."""
    cut = real_step(builtin_tools, "files.read", budget_chars=300, path="~/Documents/big.log", max_bytes=5000)
    assert "[truncated:" in (cut.result or "")
    text = render_step(cut, "how many lines")
    assert text is not None and text.startswith("~/Documents/big.log has ") and " lines (" in text


def test_search_answer_counts_lines_and_files(temp_home: Path, builtin_tools: Registry) -> None:
    """files.search: matching lines and files from the tool's counts, each file with its count when all are shown."""
    (temp_home / "Downloads" / "more.txt").write_text("todo one\nTODO two\n")
    found = real_step(builtin_tools, "files.search", text="todo", path="~/Downloads")
    assert render_step(found, "") == '"todo" is on 3 lines in 2 files under ~/Downloads: more.txt (2), notes.txt (1).'
    one_file = real_step(builtin_tools, "files.search", text="todo", path="~/Downloads/more.txt")
    # A few lines of one file are quoted: they are what "any TODOs in more.txt?" asks to see.
    assert render_step(one_file, "") == ('"todo" is on 2 lines of ~/Downloads/more.txt:\nline 1: todo one\n'
                                         'line 2: TODO two')
    # A folder's search that hit one file names the file by its whole path (it had read "of more.txt,:").
    (temp_home / "Inbox").mkdir()
    (temp_home / "Inbox" / "more.txt").write_text("todo one\nTODO two\n")
    in_folder = real_step(builtin_tools, "files.search", text="todo", path="~/Inbox")
    assert render_step(in_folder, "") == ('"todo" is on 2 lines of ~/Inbox/more.txt:\nline 1: todo one\n'
                                          'line 2: TODO two')
    many = temp_home / "Downloads" / "many.txt"
    many.write_text("todo\n" * 6)
    six = real_step(builtin_tools, "files.search", text="todo", path="~/Downloads/many.txt")
    assert render_step(six, "") == '"todo" is on 6 lines of ~/Downloads/many.txt (line 1, 2, 3, 4, 5, 6).'
    many.unlink()
    cut = real_step(builtin_tools, "files.search", text="todo", path="~/Downloads", limit=1)
    assert render_step(cut, "") == '"todo" is on 3 lines in 2 files under ~/Downloads: more.txt and 1 more.'


def test_stat_disk_usage_and_hash_answers(temp_home: Path, builtin_tools: Registry) -> None:
    """files.stat, files.disk_usage and files.hash name their path and the fact asked for."""
    stat_text = render_step(real_step(builtin_tools, "files.stat", path="~/Downloads/notes.txt"), "") or ""
    assert stat_text.startswith("~/Downloads/notes.txt is a file of 27 B, modified ")
    usage_text = render_step(real_step(builtin_tools, "files.disk_usage", path="~/Downloads"), "") or ""
    assert usage_text.startswith("~/Downloads takes ") and "The biggest: " in usage_text
    hash_step = real_step(builtin_tools, "files.hash", path="~/Downloads/notes.txt")
    digest = json.loads(hash_step.result or "")["hash"]
    assert render_step(hash_step, "") == f"The sha256 checksum of ~/Downloads/notes.txt is {digest}."


def test_system_summary_answers_the_section_asked_about() -> None:
    """system.info's summary: "what is the hostname?" gets the hostname alone; an open question every section."""
    summary = {"os": "Debian 12; Linux 6.1 x86_64", "hostname": "kestrel", "uptime": "3 days, 4:05",
               "cpu": {"model": "AMD EPYC", "cores": 2, "percent": 12.5, "load_average": [0.5, 0.4, 0.3]},
               "memory": {"percent": 41.0, "human": "6.5 GB used of 15.6 GB, 9.1 GB available"},
               "swap": {"percent": 0.0, "human": "no swap"}, "disks": [], "network": {}, "battery": "not available",
               "max_temperature_c": "not available"}
    assert render_step(step("system.info", summary), "what is the hostname of this machine?") == (
        "The hostname is kestrel.")
    everything = render_step(step("system.info", summary), "how is my computer doing") or ""
    assert everything.startswith("The hostname is kestrel. Operating system: Debian 12; Linux 6.1 x86_64. Up for 3 "
                                 "days, 4:05 (hours:minutes). CPU: AMD EPYC, 2 cores, 12.5% busy. Memory: ")
    assert "No swap." in everything and "Battery" not in everything


def test_process_answers() -> None:
    """process.list filtered by name: the tool's matching count and names; process.info: name, pid and measures."""
    listed = {"total": 90, "matching": 3, "sort": "cpu", "shown": 2,
              "processes": {"columns": ["pid", "name"], "rows": [[10, "firefox"], [11, "firefox"]]}}
    assert render_step(step("process.list", listed, name="firefox"), "") == (
        '3 processes match "firefox": firefox (pid 10), firefox (pid 11) and 1 more.')
    info = {"pid": 10, "name": "firefox", "user": "ada", "status": "sleeping", "started": "2026-01-02T03:04:05",
            "cpu_percent": 1.5, "memory_percent": 3.2, "rss": "512.0 MB"}
    assert render_step(step("process.info", info), "") == (
        "firefox (pid 10) is sleeping, run by ada: 1.5% CPU, 512.0 MB memory (3.2%); started 2026-01-02T03:04:05.")


@pytest.mark.parametrize("status", ["error", "denied", "skipped"])
def test_steps_that_did_not_succeed_render_nothing(status: str) -> None:
    """Only a successful step is a source: an error, a denial or a skip renders None."""
    assert render_step(step("files.hash", {"path": "~/a", "algorithm": "md5", "hash": "00"}, status=status), "") is None


@pytest.mark.parametrize("result", ['{"error": "no such folder"}', '{"not_run": "denied"}', "[]", "not json",
                                    '{"path": "~"}'])
def test_results_it_cannot_read_render_nothing(result: str) -> None:
    """Errors, refusals, unknown shapes and missing fields give None: llmos never guesses."""
    for tool in STEP_RENDERERS:
        assert render_step(step(tool, result), "what is here?") is None


def test_a_tool_without_a_renderer_renders_nothing() -> None:
    """A write tool (or any tool not in the table) has no rendered answer."""
    assert render_step(step("files.move", {"moved": 1}), "") is None


def test_renderers_read_results_the_budget_cut_to_tables_with_notes() -> None:
    """A folder listing cut by render_within_budget still says the folder's true counts."""
    entries = [{"name": f"file{number:03d}.txt", "type": "file", "size": 10} for number in range(300)]
    full = {"path": "~/big", "files": 300, "folders": 0, "links": 0, "count": 300, "total_size": 3000,
            "files_by_type": {"txt": 300}, "entries": entries}
    text = render_within_budget(full, 2000)
    assert "entries_note" in text
    answer = render_step(Step(index=0, tool="files.list", args={"path": "~/big"}, status="ok", result=text), "ls")
    assert answer is not None and answer.startswith("~/big has 300 files") and answer.endswith(" and 290 more.")
