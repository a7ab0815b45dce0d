"""The audit log: hash-chained JSONL records (seq, time, prev, hash), a signed head, redaction of secrets, 0600
files; verify passes on an intact log and names each kind of damage. Keys come from an in-memory keyring backend,
never the machine's real keyring."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.backends import chainer, fail, null
from llmos.policies.audit import (
    GENESIS,
    NO_KEY_NOTE,
    REDACTED,
    AuditEntry,
    AuditLog,
    audit_key_from_keyring,
    canonical_json,
    is_secret_key,
    record_hash,
    redact,
)
from trees import MemoryKeyring, use_memory_keyring

KEY = b"k" * 32


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    return use_memory_keyring(monkeypatch)


def step(number: int, **extra: object) -> dict[str, object]:
    return {"request_id": "r1", "request": f"request {number}", "tool": "files.write", "args": {"path": f"/f{number}"},
            "decision": "allow", "rule": "default-write", "approved": True, "status": "ok",
            "undo_id": f"20260101T000000-{number:04x}", **extra}


def entry(number: int, **extra: object) -> AuditEntry:
    return AuditEntry.model_validate(step(number, **extra))


def write_log(path: Path, count: int, key: bytes | None = None) -> AuditLog:
    log = AuditLog(path, key=key)
    for number in range(1, count + 1):
        log.append(entry(number))
    return log


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def set_lines(path: Path, content: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in content))


# -- appending -----------------------------------------------------------------------------------------------------


def test_append_adds_seq_time_prev_and_hash_chained_from_genesis(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    first = log.append(entry(1)).as_json()
    second = log.append(entry(2)).as_json()
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["prev"] == GENESIS and second["prev"] == first["hash"]
    assert first["time"].endswith("Z") and "T" in first["time"]
    body = {key: value for key, value in first.items() if key != "hash"}
    assert first["hash"] == hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert record_hash(first) == first["hash"]
    assert [json.loads(line) for line in lines(log.path)] == [first, second]


def test_lines_are_canonical_json(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 2)
    for line in lines(log.path):
        assert line == canonical_json(json.loads(line))


def test_chain_fields_in_the_input_are_replaced(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    record = log.append(AuditEntry.model_validate(
        {**step(1), "seq": 99, "prev": "forged", "hash": "forged", "time": "then"})).as_json()
    assert record["seq"] == 1 and record["prev"] == GENESIS and record["hash"] != "forged"
    assert log.verify().ok


def test_log_and_head_are_created_0600_and_tightened(tmp_path):
    path = tmp_path / "data" / "audit.jsonl"
    path.parent.mkdir()
    path.touch(mode=0o644)
    path.chmod(0o644)
    log = write_log(path, 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.head_path.stat().st_mode) == 0o600
    assert log.head_path.name == "audit.head"


def test_head_holds_seq_hash_and_hmac_with_a_key(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    head = json.loads(log.head_path.read_text())
    last = json.loads(lines(log.path)[-1])
    assert head["seq"] == 3 and head["hash"] == last["hash"] and len(head["hmac"]) == 64
    assert "hmac" not in json.loads(write_log(tmp_path / "plain.jsonl", 1).head_path.read_text())


def test_records_returns_the_last_n(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 5)
    assert [r.seq for r in log.records()] == [1, 2, 3, 4, 5]
    assert [r.seq for r in log.records(last=2)] == [4, 5]
    assert AuditLog(tmp_path / "none.jsonl").records() == []


def test_concurrent_appends_keep_one_chain(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", key=KEY)

    def worker(number: int) -> None:
        for index in range(20):
            AuditLog(log.path, key=KEY).append(entry(number * 100 + index))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = log.verify()
    assert result.ok, result.problems
    assert result.records == 80 and [r.seq for r in log.records()] == list(range(1, 81))


# -- verification --------------------------------------------------------------------------------------------------


def test_verify_passes_on_an_intact_signed_log(tmp_path):
    result = write_log(tmp_path / "audit.jsonl", 4, key=KEY).verify()
    assert result.ok and result.records == 4 and result.problems == [] and result.signed
    assert result.notes == []


def test_verify_without_a_key_says_the_head_is_not_signed(tmp_path):
    result = write_log(tmp_path / "audit.jsonl", 2).verify()
    assert result.ok and not result.signed
    assert NO_KEY_NOTE in result.notes
    assert NO_KEY_NOTE == ("head not signed (no keyring): truncation of the tail can only be detected against "
                           "the head file")


def test_verify_of_a_missing_log_is_ok_and_empty(tmp_path):
    result = AuditLog(tmp_path / "audit.jsonl", key=KEY).verify()
    assert result.ok and result.records == 0


def test_edited_record_is_detected(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    content = lines(log.path)
    content[1] = content[1].replace('"decision":"allow"', '"decision":"deny"')
    set_lines(log.path, content)
    result = log.verify()
    assert not result.ok
    assert any("line 2" in p and "edited" in p for p in result.problems)


def test_edited_record_with_recomputed_hash_breaks_the_next_link(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    content = lines(log.path)
    record = json.loads(content[1])
    record["status"] = "denied"
    record["hash"] = record_hash(record)
    content[1] = canonical_json(record)
    set_lines(log.path, content)
    result = log.verify()
    assert not result.ok
    assert any("line 3" in p and "does not chain" in p for p in result.problems)


def test_edited_last_record_with_recomputed_hash_differs_from_the_head(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    content = lines(log.path)
    record = json.loads(content[-1])
    record["tool"] = "files.read"
    record["hash"] = record_hash(record)
    content[-1] = canonical_json(record)
    set_lines(log.path, content)
    result = log.verify()
    assert not result.ok and any("not the one the head recorded" in p for p in result.problems)


def test_removed_record_is_detected(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 4, key=KEY)
    content = lines(log.path)
    del content[1]
    set_lines(log.path, content)
    result = log.verify()
    assert not result.ok and result.records == 3
    assert any("1 record(s) removed" in p for p in result.problems)


def test_reordered_records_are_detected(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 4, key=KEY)
    content = lines(log.path)
    content[1], content[2] = content[2], content[1]
    set_lines(log.path, content)
    result = log.verify()
    assert not result.ok and any("out of order" in p for p in result.problems)


def test_truncated_tail_is_detected_against_the_head_without_a_key(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 5)
    set_lines(log.path, lines(log.path)[:3])
    result = log.verify()
    assert not result.ok and any("truncated" in p and "2 missing" in p for p in result.problems)


def test_truncated_tail_with_a_rewritten_head_is_detected_with_a_key(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 5, key=KEY)
    kept = lines(log.path)[:3]
    set_lines(log.path, kept)
    last = json.loads(kept[-1])
    head = json.loads(log.head_path.read_text())
    log.head_path.write_text(json.dumps({**head, "seq": last["seq"], "hash": last["hash"]}))
    result = log.verify()
    assert not result.ok and any("signature does not match" in p for p in result.problems)


def test_truncated_tail_with_the_head_rewritten_and_no_key_is_the_stated_limit(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 5)
    kept = lines(log.path)[:3]
    set_lines(log.path, kept)
    last = json.loads(kept[-1])
    log.head_path.write_text(json.dumps({"seq": last["seq"], "hash": last["hash"]}))
    result = log.verify()
    assert result.ok and NO_KEY_NOTE in result.notes, "without a key only the head can show truncation; it says so"


def test_forged_head_is_detected(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    head = json.loads(log.head_path.read_text())
    head["seq"] = 2
    log.head_path.write_text(json.dumps(head))
    result = log.verify()
    assert not result.ok and any("forged" in p for p in result.problems)


def test_head_without_hmac_while_a_key_exists_is_forged(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    head = json.loads(log.head_path.read_text())
    del head["hmac"]
    log.head_path.write_text(json.dumps(head))
    result = log.verify()
    assert not result.ok and any("not signed although a key" in p for p in result.problems)


def test_removed_head_is_detected(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    log.head_path.unlink()
    result = log.verify()
    assert not result.ok and any("head file is missing" in p for p in result.problems)


def test_malformed_lines_are_detected(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    content = lines(log.path)
    content.insert(1, "{not json")
    content.append('{"seq": "x"}')
    set_lines(log.path, content)
    result = log.verify()
    assert not result.ok and result.records == 3
    assert sum("malformed" in p for p in result.problems) == 2


def test_append_after_truncation_does_not_hide_it(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 5, key=KEY)
    set_lines(log.path, lines(log.path)[:3])
    log.append(entry(6))
    result = log.verify()
    assert not result.ok and any("removed" in p for p in result.problems)


def test_append_over_a_forged_head_marks_it_for_good(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 3, key=KEY)
    head = json.loads(log.head_path.read_text())
    head["hmac"] = "0" * 64
    log.head_path.write_text(json.dumps(head))
    log.append(entry(4))
    log.append(entry(5))
    result = log.verify()
    assert not result.ok and any("tampered" in p for p in result.problems)


class SimulatedCrash(BaseException):
    """The process died here."""


def crash_on_head_write(monkeypatch: pytest.MonkeyPatch, which: int) -> None:
    """Die at the `which`-th head write (an append writes the head twice: naming the record, then after it)."""
    real = AuditLog._write_head
    calls = {"count": 0}

    def write_head(self, head):
        calls["count"] += 1
        if calls["count"] == which:
            raise SimulatedCrash()
        return real(self, head)

    monkeypatch.setattr(AuditLog, "_write_head", write_head)


def test_a_crash_after_the_record_is_written_is_accounted_for(tmp_path, monkeypatch):
    log = write_log(tmp_path / "audit.jsonl", 2, key=KEY)
    crash_on_head_write(monkeypatch, 2)
    with pytest.raises(SimulatedCrash):
        log.append(entry(3))
    monkeypatch.undo()
    result = log.verify()
    assert result.ok and result.records == 3, result.problems
    assert any("interrupted after the record was written" in note for note in result.notes)
    log.append(entry(4))
    result = log.verify()
    assert result.ok and result.records == 4 and not result.notes


def test_a_crash_before_the_record_is_written_is_accounted_for(tmp_path, monkeypatch):
    log = write_log(tmp_path / "audit.jsonl", 2, key=KEY)
    crash_on_head_write(monkeypatch, 1)
    with pytest.raises(SimulatedCrash):
        log.append(entry(3))
    crash_on_head_write(monkeypatch, 2)
    with pytest.raises(SimulatedCrash):
        log.append(entry(3))  # this time the head named record 3, and then the process died
    monkeypatch.undo()
    assert len(lines(log.path)) == 3
    log.path.write_text("".join(line + "\n" for line in lines(log.path)[:2]))  # as if the write never landed
    result = log.verify()
    assert result.ok and any("interrupted before the record was written" in n for n in result.notes)
    log.append(entry(3))
    result = log.verify()
    assert result.ok and result.records == 3


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path):
    log = write_log(tmp_path / "audit.jsonl", 2)
    with open(log.path, "ab") as handle:
        handle.write(b'{"seq": 3, "ti')
    log.append(entry(3))
    result = log.verify()
    assert result.records == 3 and sum("malformed" in p for p in result.problems) == 1


# -- redaction -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["password", "api_key", "apiKey", "GITHUB_TOKEN", "client-secret", "key",
                                  "Authorization", "private_key", "passphrase", "db.password", "ssh_key"])
def test_secret_looking_keys(name):
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["path", "request", "undo_id", "keyword", "monkey", "tool", "rule", "status",
                                  "author", "args", "destination"])
def test_ordinary_keys_are_not_secret(name):
    assert not is_secret_key(name)


def test_secret_values_never_reach_the_file(tmp_path):
    secret = "correct-horse-battery-staple"
    log = AuditLog(tmp_path / "audit.jsonl", redact_values={secret})
    record = log.append(AuditEntry.model_validate({
        "request": f"log in with {secret} please",
        "tool": "secrets.get",
        "args": {"name": "github", "password": "hunter2hunter2", "nested": [{"token": "t0k3n-value"}],
                 "argv": ["env", "API_TOKEN=abc123def456", "curl", "-H", "Authorization: Bearer abcdefghijklmnop"],
                 "url": "https://user:pa55word@example.com/x", "text": "ghp_" + "a" * 36,
                 "value": secret},
        "result": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
    })).as_json()
    raw = log.path.read_text()
    for leaked in (secret, "hunter2hunter2", "t0k3n-value", "abc123def456", "abcdefghijklmnop", "pa55word",
                   "ghp_aaaa", "b3BlbnNzaC1rZXk"):
        assert leaked not in raw
    assert record["args"]["password"] == REDACTED and record["args"]["value"] == REDACTED
    assert record["request"] == f"log in with {REDACTED} please"
    assert record["args"]["argv"][1] == f"API_TOKEN={REDACTED}"
    assert record["args"]["name"] == "github" and log.verify().ok


def test_redact_values_added_later_apply_to_later_records(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.add_redact_values(["s3cr3t-value"])
    assert "s3cr3t-value" not in json.dumps(log.append(AuditEntry(request="use s3cr3t-value")).as_json())


def test_redact_makes_any_value_json_safe():
    cleaned = redact({"n": float("nan"), 3: b"bytes", "t": (1, 2), "o": object(), "ok": 1.5})
    json.dumps(cleaned, allow_nan=False)
    assert cleaned["3"] == "bytes" and cleaned["t"] == [1, 2] and cleaned["ok"] == 1.5


def test_short_secret_values_only_redact_exact_matches():
    assert redact({"a": "abc", "b": "abcdef"}, ["abc"]) == {"a": REDACTED, "b": "abcdef"}


# -- the keyring key -----------------------------------------------------------------------------------------------


def test_key_is_created_once_in_the_keyring_and_reused(memory_keyring):
    first = audit_key_from_keyring()
    assert first is not None and len(first) == 32
    assert audit_key_from_keyring() == first
    assert ("llmos", "audit-hmac") in memory_keyring.store


def test_key_is_not_created_when_create_is_false(memory_keyring):
    assert audit_key_from_keyring(create=False) is None
    assert memory_keyring.store == {}


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_key_without_a_usable_keyring(monkeypatch, backend):
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(backend)
    assert audit_key_from_keyring() is None


def test_no_key_from_an_empty_chainer(monkeypatch):
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(chainer.ChainerBackend())
    assert audit_key_from_keyring() is None


def test_a_log_signed_with_the_keyring_key_verifies(tmp_path, memory_keyring):
    write_log(tmp_path / "audit.jsonl", 2, key=audit_key_from_keyring())
    result = AuditLog(tmp_path / "audit.jsonl", key=audit_key_from_keyring(create=False)).verify()
    assert result.ok and result.signed


def test_os_level_append_uses_o_append(tmp_path, monkeypatch):
    flags_seen = []
    real_open = os.open

    def spy(path, flags, *args, **kwargs):
        if str(path).endswith("audit.jsonl"):
            flags_seen.append(flags)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    AuditLog(tmp_path / "audit.jsonl").append(entry(1))
    assert flags_seen and all(flags & os.O_APPEND for flags in flags_seen)
