"""`llmos log [--verify] [--json] [-n N]` in-process, through a parser built here: a readable table, JSON, and
--verify exiting 0 on an intact log and 1 on a broken one with each problem on its own line. XDG folders are in
tmp and the keyring is in memory."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.backends import fail
from llmos.policies.audit import NO_KEY_NOTE, AuditEntry, AuditLog, audit_key_from_keyring
from trees import isolate_xdg, use_memory_keyring

from llmos.commands import log as log_command
from llmos.errors import LlmosError
from llmos.paths import data_dir


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="llmos")
    log_command.register(parser.add_subparsers(dest="command"))
    options = parser.parse_args(argv)
    try:
        return options.handler(options)
    except LlmosError as exc:
        print(f"llmos: {exc}", file=sys.stderr)
        return exc.exit_code


def session_log(count: int) -> AuditLog:
    """A log as a session writes it (key from the keyring, created on first use)."""
    log = AuditLog(data_dir() / "audit.jsonl", key=audit_key_from_keyring())
    for number in range(1, count + 1):
        log.append(AuditEntry(request_id=f"r{number}", request=f"move the PDFs {number}", tool="files.move",
                              args={"path": "~/Downloads/*.pdf"}, decision="allow", rule="default-write",
                              approved=True, status="ok", undo_id=f"r{number}"))
    return log


def test_empty_log(capsys):
    assert run_cli(["log"]) == 0
    assert "the audit log is empty" in capsys.readouterr().out


def test_table_shows_time_request_tool_decision_status_and_undo_id(capsys):
    session_log(3)
    assert run_cli(["log"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["time", "request", "tool", "decision", "(rule)", "status", "undo", "id"]
    assert len(out) == 4
    assert "move the PDFs 1" in out[1] and "files.move" in out[1] and "allow (default-write)" in out[1]
    assert out[1].rstrip().endswith("r1") and " ok " in out[1]


def test_last_n_and_json(capsys):
    session_log(5)
    assert run_cli(["log", "-n", "2", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in records] == [4, 5]
    assert run_cli(["log", "-n", "0"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_negative_n_is_a_usage_error(capsys):
    assert run_cli(["log", "-n", "-1"]) == 2
    assert capsys.readouterr().err.startswith("llmos: -n must be 0 or more")


def test_verify_passes_on_a_real_log(capsys):
    session_log(4)
    assert run_cli(["log", "--verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 4 record(s), hash chain intact, head signed")


def test_verify_fails_on_an_edited_log_with_each_problem_on_its_own_line(capsys):
    log = session_log(4)
    lines = log.path.read_text().splitlines()
    lines[1] = lines[1].replace('"allow"', '"deny"')
    del lines[2]
    log.path.write_text("\n".join(lines) + "\n")
    assert run_cli(["log", "--verify"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("BROKEN: ")
    problems = [line for line in out[1:] if not line.startswith("note:")]
    assert len(problems) == int(out[0].split()[1]) >= 2
    assert any("edited" in line for line in problems) and any("removed" in line for line in problems)


def test_verify_json(capsys):
    session_log(2)
    assert run_cli(["log", "--verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["records"] == 2 and result["signed"]


def test_verify_without_a_keyring_notes_the_unsigned_head(capsys):
    keyring.set_keyring(fail.Keyring())
    session_log(2)
    assert run_cli(["log", "--verify"]) == 0
    assert f"note: {NO_KEY_NOTE}" in capsys.readouterr().out


def test_verify_never_creates_a_key(capsys):
    backend = keyring.get_keyring()
    assert run_cli(["log", "--verify"]) == 0
    assert backend.store == {}
