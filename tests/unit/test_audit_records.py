"""Audit records are typed (`AuditEntry` appended, `AuditRecord` read back) while the hash chain covers the same
canonical bytes as before: a log written by the dict-based code (`audit_logs/`, key b"k" * 32) still verifies,
reads as typed records and can be continued."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from llmos.policies.audit import AuditEntry, AuditLog

FIXTURES = Path(__file__).parent / "audit_logs"
KEY = b"k" * 32


@pytest.fixture
def old_log(tmp_path: Path) -> AuditLog:
    for name in ("audit.jsonl", "audit.head"):
        shutil.copy(FIXTURES / name, tmp_path / name)
        (tmp_path / name).chmod(0o600)
    return AuditLog(tmp_path / "audit.jsonl", key=KEY)


def test_a_log_written_before_the_typed_records_verifies_and_reads_typed(old_log: AuditLog) -> None:
    """Both records (a step, and an undo with its own fields and no reason) verify and read as attributes;
    as_json() is the stored object exactly."""
    assert old_log.verify().ok
    step, undo = old_log.records()
    assert (step.seq, step.tool, step.approved, step.args) == (1, "files.move", True,
                                                                {"password": "[redacted]", "source": "~/a"})
    assert (undo.tool, undo.request_id, undo.undone, undo.refused) == ("undo", None, ["20260101T000000-0001"], [])
    stored = (FIXTURES / "audit.jsonl").read_text().splitlines()[1]
    assert "reason" not in undo.as_json() and undo.as_json()["hash"] in stored


def test_appending_typed_entries_continues_an_old_log(old_log: AuditLog) -> None:
    """A typed entry chains onto the old records; only the fields given are written."""
    written = old_log.append(AuditEntry(request="list files", tool="files.list", args={}, status="ok"))
    assert written.seq == 3 and written.prev == old_log.records()[1].hash
    assert set(written.as_json()) == {"request", "tool", "args", "status", "seq", "time", "prev", "hash"}
    assert old_log.verify().ok
