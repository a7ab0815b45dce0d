"""Attacks on the audit log that keep the log and its head consistent with each other: deleting both, emptying
the log and deleting the head, truncating and putting back an earlier signed head, rolling the pair back to an
earlier copy, forging the keyring's high-water mark; and corrupt records (NaN, Infinity, invalid JSON, wrong
types, deep nesting) that must be reported by line, with exit 1 and no traceback, by every `llmos log` form."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import keyring
import pytest
from file_keyring import KEYRING_FILE_ENV_VAR, FileKeyring
from llmos.policies.audit import AuditEntry, AuditLog, KeyringAuditMark, canonical_json, keyring_audit_log
from trees import isolate_xdg, use_memory_keyring

from llmos.cli import main
from llmos.commands.log import audit_path


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)


def append(log: AuditLog, count: int) -> AuditLog:
    for number in range(count):
        log.append(AuditEntry(request=f"request {number}", tool="files.delete", args={"path": f"~/f{number}"},
                              decision="allow", rule="r", approved=True, status="ok"))
    return log


def user_log(count: int) -> AuditLog:
    """The person's real audit log (keyring key and mark), with `count` records written by llmos."""
    return append(keyring_audit_log(audit_path()), count)


def verify_cli(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["log", "--verify"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out + captured.err


def test_deleting_the_log_and_its_head_is_detected(capsys):
    """With both files gone, `llmos log --verify` reports the deletion from the keyring's mark and exits 1."""
    log = user_log(3)
    log.path.unlink()
    log.head_path.unlink()
    code, out = verify_cli(capsys)
    assert code == 1 and "deleted" in out and "3 record(s)" in out


def test_emptying_the_log_and_deleting_the_head_is_detected(capsys):
    """An empty log without a head is not a fresh log when the mark says records were written."""
    log = user_log(2)
    log.path.write_text("")
    log.head_path.unlink()
    code, out = verify_cli(capsys)
    assert code == 1 and "truncated or rolled back" in out


def test_truncating_and_restoring_an_earlier_signed_head_is_detected(capsys):
    """A signed head saved earlier, put back after the log is cut to match it, does not hide the cut."""
    log = user_log(3)
    saved_head = log.head_path.read_bytes()
    kept = log.path.read_bytes()
    append(log, 2)
    log.path.write_bytes(kept)
    log.head_path.write_bytes(saved_head)
    code, out = verify_cli(capsys)
    assert code == 1 and "says 5 record(s)" in out


def test_rolling_back_to_a_complete_earlier_copy_then_appending_keeps_the_evidence(tmp_path):
    """Restoring an earlier copy of log and head and letting llmos append over it is still reported: the mark
    is never lowered in what it proves, and the head carries the breakage on."""
    log = user_log(2)
    backup = tmp_path / "backup"
    backup.mkdir()
    shutil.copy(log.path, backup / "log")
    shutil.copy(log.head_path, backup / "head")
    append(log, 3)
    shutil.copy(backup / "log", log.path)
    shutil.copy(backup / "head", log.head_path)
    append(log, 4)  # llmos keeps working over the rolled-back log: now 6 records, more than the mark's 5
    result = keyring_audit_log(log.path, create_key=False).verify()
    assert not result.ok
    assert any("rolled back" in problem for problem in result.problems)


def test_deleting_both_then_appending_keeps_the_evidence():
    """A new log started after the old one was deleted is reported, not taken for a fresh start."""
    log = user_log(3)
    log.path.unlink()
    log.head_path.unlink()
    append(keyring_audit_log(audit_path()), 5)
    result = keyring_audit_log(audit_path(), create_key=False).verify()
    assert not result.ok and any("deleted" in problem or "rolled back" in problem for problem in result.problems)


def test_a_rewritten_record_at_the_mark_is_detected():
    """A log rebuilt to the same length with another last record (and a head to match) differs from the mark."""
    log = user_log(3)
    other = append(AuditLog(log.path.with_name("other.jsonl"), key=log.key), 3)
    shutil.copy(other.path, log.path)
    shutil.copy(other.head_path, log.head_path)
    result = keyring_audit_log(log.path, create_key=False).verify()
    assert not result.ok and any("not the one written" in problem for problem in result.problems)


def test_a_mark_forged_without_the_key_is_detected():
    """Lowering the mark in the keyring without the audit key (to hide a truncation) is reported."""
    log = user_log(3)
    KeyringAuditMark(log.path).write(canonical_json({"seq": 0, "hash": "0" * 64}))
    result = keyring_audit_log(log.path, create_key=False).verify()
    assert not result.ok and any("forged" in problem for problem in result.problems)


def test_an_intact_log_with_its_mark_verifies(capsys):
    """The mark adds no false alarm to an intact log, and a fresh machine with no log at all is fine."""
    assert verify_cli(capsys)[0] == 0
    user_log(4)
    code, out = verify_cli(capsys)
    assert code == 0 and out.startswith("ok: 4 record(s)")


def test_a_log_from_before_the_mark_keeps_verifying():
    """A log written without a mark (older llmos) verifies, with a note; the next append sets the mark."""
    log = append(AuditLog(audit_path(), key=keyring_audit_log(audit_path()).key), 2)
    result = keyring_audit_log(log.path, create_key=False).verify()
    assert result.ok and any("no high-water mark" in note for note in result.notes)
    append(keyring_audit_log(log.path), 1)
    assert keyring_audit_log(log.path, create_key=False).verify().ok


CORRUPT_VALUES = {
    "nan": "NaN", "infinity": "Infinity", "minus-infinity": "-Infinity", "overflow": "1e999",
}


def corrupt_line(kind: str, good: dict) -> str:
    if kind in CORRUPT_VALUES:
        return canonical_json(good)[:-1] + f',"cost":{CORRUPT_VALUES[kind]}}}'
    if kind == "invalid-json":
        return canonical_json(good)[:-5]
    if kind == "deep":
        return canonical_json(good)[:-1] + ',"args":' + "[" * 100000 + "]" * 100000 + "}"
    wrong = {"seq-text": {"seq": str(good["seq"])}, "tool-number": {"tool": 5}, "args-list": {"args": [1]},
             "approved-text": {"approved": "yes"}}[kind]
    return canonical_json({**good, **wrong})


@pytest.mark.parametrize("kind", [*CORRUPT_VALUES, "invalid-json", "deep", "seq-text", "tool-number", "args-list",
                                  "approved-text"])
@pytest.mark.parametrize("argv", [["log", "--verify"], ["log"], ["log", "--json"], ["log", "--verify", "--json"]])
def test_a_corrupt_record_is_one_line_naming_it_and_exit_1(capsys, kind, argv):
    """Every form of `llmos log` reports a corrupt second record by its line, exits 1 and prints no traceback."""
    log = user_log(3)
    lines = log.path.read_text().splitlines()
    lines[1] = corrupt_line(kind, json.loads(lines[1]))
    log.path.write_text("\n".join(lines) + "\n")
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    text = captured.out + captured.err
    if "--json" in argv and "--verify" in argv:
        assert any("line 2" in problem for problem in json.loads(captured.out)["problems"])
    else:
        naming = [line for line in text.splitlines() if "line 2" in line]
        assert len(naming) == 1, text


def test_a_head_holding_nan_is_reported_not_a_traceback(capsys):
    """A head file with NaN in it is a malformed head."""
    log = user_log(2)
    head = log.head_path.read_text()
    log.head_path.write_text(head[:-2] + ',"x":NaN}\n')
    code, out = verify_cli(capsys)
    assert code == 1 and "head" in out


def test_a_non_finite_number_in_an_entry_is_stored_as_text():
    """What llmos writes is always strict JSON: a NaN argument is written as text and the log verifies."""
    log = AuditLog(audit_path())
    log.append(AuditEntry(request="x", args={"ratio": float("nan"), "big": float("inf")}))
    assert "NaN" not in log.path.read_text().replace('"NaN"', "")
    assert log.verify().ok


def test_the_mark_costs_little_per_append_with_the_file_keyring(tmp_path, monkeypatch):
    """One keyring read and write per append stays cheap with the file keyring the tests use (measured)."""
    monkeypatch.setenv(KEYRING_FILE_ENV_VAR, str(tmp_path / "keyring.json"))
    keyring.set_keyring(FileKeyring())
    with_mark = keyring_audit_log(tmp_path / "a.jsonl")
    without = AuditLog(tmp_path / "b.jsonl", key=with_mark.key)
    timings = []
    for log in (without, with_mark):
        started = time.perf_counter()
        append(log, 50)
        timings.append((time.perf_counter() - started) / 50)
    print(f"per append: {timings[0] * 1000:.2f} ms without the mark, {timings[1] * 1000:.2f} ms with it")
    assert timings[1] < timings[0] + 0.02
    assert keyring_audit_log(with_mark.path, create_key=False).verify().ok
