"""`llmos undo [ID] [--list] [--json]` in-process, through a parser built here: undo the last request, a request
or an action; list the journal; one-line errors; exit 0 done, 1 refused or nothing to undo, 2 bad id or usage.
XDG folders are in tmp and the keyring is in memory."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest
from llmos.policies.audit import AuditLog
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps
from trees import isolate_xdg, use_memory_keyring

from llmos.commands import log as log_command
from llmos.commands import undo as undo_command
from llmos.errors import LlmosError
from llmos.paths import data_dir


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)
    home = tmp_path / "home"
    home.mkdir()
    return home


def run_cli(argv: list[str]) -> int:
    """Parse and run like `llmos.cli.main` does: LlmosError -> one line on stderr and its exit code."""
    parser = argparse.ArgumentParser(prog="llmos")
    commands = parser.add_subparsers(dest="command")
    undo_command.register(commands)
    log_command.register(commands)
    options = parser.parse_args(argv)
    try:
        return options.handler(options)
    except LlmosError as exc:
        print(f"llmos: {exc}", file=sys.stderr)
        return exc.exit_code


def journal() -> Journal:
    return Journal(data_dir() / "journal")


def test_undo_without_id_reverses_the_last_request(isolated, capsys):
    (isolated / "notes.txt").write_bytes(b"original")
    ops = FileOps(journal(), "req-a", "rewrite my notes", "files.write")
    ops.write(isolated / "notes.txt", b"rewritten")
    ops.write(isolated / "new.txt", b"new")
    assert run_cli(["undo"]) == 0
    out = capsys.readouterr().out
    assert out.count("undone: ") == 2 and "notes.txt" in out
    assert (isolated / "notes.txt").read_bytes() == b"original" and not (isolated / "new.txt").exists()


def test_undo_by_action_id_and_json_report(isolated, capsys):
    action = FileOps(journal(), "req-a", "x").write(isolated / "a.txt", b"a")
    assert run_cli(["undo", action, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["undone"][0]["id"] == action and report["refused"] == []


def test_undo_is_recorded_in_the_audit_log(isolated, capsys):
    FileOps(journal(), "req-a", "x").write(isolated / "a.txt", b"a")
    assert run_cli(["undo", "req-a"]) == 0
    [record] = AuditLog(data_dir() / "audit.jsonl").records()
    assert record.tool == "undo" and record.args == {"target": "req-a"} and record.status == "ok"
    assert record.request_id == "req-a" and record.undone is not None and len(record.undone) == 1


def test_unknown_id_is_a_one_line_error_with_exit_2(capsys):
    FileOps(journal(), "req-a", "x")
    assert run_cli(["undo", "20990101T000000-dead"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("llmos: no action or request with id")


def test_empty_id_is_a_usage_error(capsys):
    assert run_cli(["undo", " "]) == 2
    assert capsys.readouterr().err.startswith("llmos: the ID is empty")


def test_nothing_to_undo_exits_1_with_one_line(capsys):
    assert run_cli(["undo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to undo" in err


def test_refused_undo_exits_1_names_the_file_and_changes_nothing(isolated, capsys):
    action = FileOps(journal(), "req-a", "x").write(isolated / "a.txt", b"by llmos")
    (isolated / "a.txt").write_bytes(b"edited since")
    assert run_cli(["undo", action]) == 1
    err = capsys.readouterr().err
    assert "a.txt" in err and "changed since" in err
    assert all(line.startswith("llmos: ") for line in err.splitlines())
    assert (isolated / "a.txt").read_bytes() == b"edited since"


def test_double_undo_exits_1(isolated, capsys):
    action = FileOps(journal(), "req-a", "x").write(isolated / "a.txt", b"a")
    assert run_cli(["undo", action]) == 0
    assert run_cli(["undo", action]) == 1
    assert "already undone" in capsys.readouterr().err


def test_list_shows_actions_newest_first_with_status(isolated, capsys):
    ops = FileOps(journal(), "req-a", "tidy the downloads", "files.move")
    first = ops.mkdir(isolated / "PDFs")
    second = ops.write(isolated / "PDFs" / "index.txt", b"x")
    journal().undo(second)
    assert run_cli(["undo", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "time", "status", "request", "op", "and", "paths"]
    assert out[1].startswith(second) and "undone" in out[1]
    assert out[2].startswith(first) and "done *" in out[2] and "tidy the downloads" in out[2]
    assert "llmos undo ID" in out[-1]


def test_list_json_and_limit(isolated, capsys):
    ops = FileOps(journal(), "req-a", "x")
    ids = [ops.write(isolated / f"{n}.txt", b"x") for n in range(3)]
    assert run_cli(["undo", "--list", "--json", "-n", "2"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in entries] == ids[::-1][:2]
    assert entries[0]["undoable"] and entries[0]["request_id"] == "req-a"


def test_list_of_an_empty_journal(capsys):
    assert run_cli(["undo", "--list"]) == 0
    assert "the journal is empty" in capsys.readouterr().out


def test_list_with_an_id_is_a_usage_error(capsys):
    assert run_cli(["undo", "--list", "abc"]) == 2
    assert capsys.readouterr().err.startswith("llmos: --list takes no ID")
