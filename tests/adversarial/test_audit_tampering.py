"""Attacks on the audit log that must be detected (or must fail): edited, removed, inserted, replayed and
reordered records, a re-chained log, truncation with and without the key, a forged or removed head, junk lines,
terminal escapes in what `llmos log` prints, secrets in requests and arguments, and symlinks planted where the log
is written. Keys come from an in-memory keyring, never the machine's."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pytest
from llmos.policies.audit import GENESIS, AuditEntry, AuditLog, audit_key_from_keyring, canonical_json, record_hash
from trees import isolate_xdg, use_memory_keyring

from llmos.commands import log as log_command
from llmos.errors import LlmosError
from llmos.paths import data_dir

KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)


def steps(log: AuditLog, count: int) -> AuditLog:
    for number in range(1, count + 1):
        decision = "deny" if number == 2 else "allow"
        log.append(AuditEntry(request_id=f"r{number}", request=f"request {number}", tool="files.delete",
                              args={"path": f"~/file{number}"}, decision=decision, rule=f"rule-{number}",
                              approved=decision == "allow", status="denied" if decision == "deny" else "ok",
                              undo_id=f"u{number}"))
    return log


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return steps(AuditLog(tmp_path / "audit.jsonl", key=KEY), 5)


def records(log: AuditLog) -> list[dict]:
    return [json.loads(line) for line in log.path.read_text().splitlines()]


def save(log: AuditLog, rows: list[dict]) -> None:
    log.path.write_text("".join(canonical_json(row) + "\n" for row in rows))


def rechain(rows: list[dict]) -> list[dict]:
    """What an attacker without the key can do: renumber and recompute every hash so the chain is consistent."""
    prev = GENESIS
    for seq, row in enumerate(rows, 1):
        row.update(seq=seq, prev=prev)
        row["hash"] = record_hash(row)
        prev = row["hash"]
    return rows


def forge_head(log: AuditLog, rows: list[dict]) -> None:
    log.head_path.write_text(json.dumps({"seq": rows[-1]["seq"], "hash": rows[-1]["hash"]}))


def broken(log: AuditLog) -> str:
    result = log.verify()
    assert not result.ok, "the tampering went unnoticed"
    return " | ".join(result.problems)


def test_flipping_a_deny_to_allow_is_detected(log):
    rows = records(log)
    rows[1]["decision"] = "allow"
    save(log, rows)
    assert "edited" in broken(log)


def test_removing_the_denied_step_is_detected(log):
    rows = records(log)
    del rows[1]
    save(log, rows)
    assert "removed" in broken(log)


def test_removing_a_record_and_renumbering_the_rest_is_detected(log):
    rows = records(log)
    del rows[1]
    for row in rows[1:]:
        row["seq"] -= 1
        row["hash"] = record_hash(row)
    save(log, rows)
    assert "does not chain" in broken(log)


def test_inserting_a_forged_record_is_detected(log):
    rows = records(log)
    forged = {**rows[1], "decision": "allow", "status": "ok", "request": "nothing to see"}
    forged["hash"] = record_hash(forged)
    rows.insert(2, forged)
    save(log, rows)
    assert "out of order or duplicated" in broken(log)


def test_replaying_an_old_record_at_the_end_is_detected(log):
    rows = records(log)
    rows.append(rows[0])
    save(log, rows)
    assert "out of order" in broken(log)


def test_appending_a_well_chained_record_without_the_key_is_detected(log):
    rows = records(log)
    extra = {**rows[-1], "seq": 6, "prev": rows[-1]["hash"], "request": "planted"}
    extra["hash"] = record_hash(extra)
    save(log, [*rows, extra])
    assert "after the head" in broken(log)


def test_swapping_two_records_is_detected(log):
    rows = records(log)
    rows[0], rows[3] = rows[3], rows[0]
    save(log, rows)
    assert "out of order" in broken(log)


def test_a_rechained_edit_with_an_unsigned_head_is_detected_with_the_key(log):
    rows = rechain([row for row in records(log) if row["decision"] != "deny"])
    save(log, rows)
    forge_head(log, rows)
    assert "not signed although a key" in broken(log)


def test_a_rechained_edit_with_a_copied_signature_is_detected(log):
    head = json.loads(log.head_path.read_text())
    rows = rechain([row for row in records(log) if row["decision"] != "deny"])
    save(log, rows)
    log.head_path.write_text(json.dumps({"seq": rows[-1]["seq"], "hash": rows[-1]["hash"], "hmac": head["hmac"]}))
    assert "signature does not match" in broken(log)


def test_a_head_signed_with_another_key_is_detected(log):
    rows = records(log)[:3]
    save(log, rows)
    AuditLog(log.path, key=b"attacker key")._write_head({"seq": 3, "hash": rows[-1]["hash"]})
    assert "signature does not match" in broken(log)


def test_truncating_the_tail_is_detected_without_a_key(tmp_path):
    log = steps(AuditLog(tmp_path / "plain.jsonl"), 5)
    save(log, records(log)[:4])
    assert "truncated" in broken(log)


def test_emptying_the_log_is_detected(log):
    log.path.write_text("")
    assert "truncated" in broken(log)


def test_deleting_the_log_is_detected(log):
    log.path.unlink()
    assert "truncated" in broken(log)


def test_deleting_the_head_is_detected(log):
    log.head_path.unlink()
    assert "head file is missing" in broken(log)


def test_a_garbled_head_is_detected(log):
    log.head_path.write_text("\x00\x01 not json")
    assert "malformed" in broken(log)


def test_junk_lines_are_detected(log):
    with open(log.path, "ab") as handle:
        handle.write(b"\xff\xfe binary junk\n[1, 2, 3]\n\n")
    assert broken(log).count("malformed") == 3


def test_a_blanked_record_is_detected(log):
    lines = log.path.read_text().splitlines()
    lines[2] = ""
    log.path.write_text("\n".join(lines) + "\n")
    problems = broken(log)
    assert "malformed" in problems and "removed" in problems


def test_appending_over_a_forged_head_keeps_the_evidence(log):
    head = json.loads(log.head_path.read_text())
    head["hmac"] = "f" * 64
    log.head_path.write_text(json.dumps(head))
    steps(log, 3)
    assert "tampered" in broken(log)


def test_the_log_is_not_written_through_a_planted_symlink(tmp_path):
    victim = tmp_path / "bashrc"
    victim.write_text("alias ls='ls --color'\n")
    os.symlink(victim, tmp_path / "audit.jsonl")
    with pytest.raises(OSError):
        AuditLog(tmp_path / "audit.jsonl").append(AuditEntry(request="x"))
    assert victim.read_text() == "alias ls='ls --color'\n"


def test_the_head_is_not_written_through_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    os.symlink(victim, tmp_path / ".audit.head.tmp")
    AuditLog(tmp_path / "audit.jsonl").append(AuditEntry(request="x"))
    assert victim.read_text() == "keep me\n"
    assert AuditLog(tmp_path / "audit.jsonl").verify().ok


def test_secrets_in_requests_and_arguments_never_reach_the_log(tmp_path):
    keyring_secret = "s3cret-from-the-keyring-0001"
    log = AuditLog(tmp_path / "audit.jsonl", redact_values={keyring_secret})
    log.append(AuditEntry.model_validate({
        "request": f"set my token to ghp_{'x' * 36} and use {keyring_secret}", "tool": "shell.run",
        "args": {"argv": ["mysql", "--password=hunter2hunter2", "-e", "select 1"],
                 "env": {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"}, "api_key": "sk-" + "y" * 40},
        "result": f"AKIAIOSFODNN7EXAMPLE {keyring_secret}"}))
    raw = log.path.read_bytes()
    for secret in (b"ghp_xxxx", keyring_secret.encode(), b"hunter2hunter2", b"wJalrXUtnFEMI", b"sk-yyyy",
                   b"AKIAIOSFODNN7EXAMPLE"):
        assert secret not in raw
    assert log.verify().ok


def run_log(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="llmos")
    log_command.register(parser.add_subparsers(dest="command"))
    options = parser.parse_args(argv)
    try:
        return options.handler(options)
    except LlmosError as exc:
        print(f"llmos: {exc}", file=sys.stderr)
        return exc.exit_code


def test_terminal_escapes_in_records_are_shown_escaped_by_llmos_log(capsys):
    log = AuditLog(data_dir() / "audit.jsonl", key=audit_key_from_keyring())
    log.append(AuditEntry(request="innocent\x1b]0;pwned\x07\x1b[2J\u202eexe.txt\nrm -rf ~", tool="files.read\x1b[31m",
                          decision="allow", rule="r\u200b", status="ok", undo_id="\x9b31m"))
    assert run_log(["log"]) == 0
    out = capsys.readouterr().out
    for raw in ("\x1b", "\x07", "\u202e", "\u200b", "\x9b"):
        assert raw not in out
    assert len(out.splitlines()) == 2, "a newline in a request cannot forge an extra table row"


def test_llmos_log_verify_exits_1_on_a_tampered_real_log(capsys):
    log = steps(AuditLog(data_dir() / "audit.jsonl", key=audit_key_from_keyring()), 3)
    rows = records(log)
    rows[1]["status"] = "ok"  # the denied step now claims it ran
    save(log, rows)
    assert run_log(["log", "--verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN") and "edited" in out


def test_verify_problems_are_one_per_line_even_with_hostile_content(capsys):
    log = steps(AuditLog(data_dir() / "audit.jsonl", key=audit_key_from_keyring()), 2)
    with open(log.path, "a") as handle:
        handle.write("\u202e\x1b[31m junk\n")
    assert run_log(["log", "--verify"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
