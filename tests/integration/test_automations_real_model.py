"""Issue 6's automation check, end to end with real processes: the real model turns the PDF request into a rule,
the real daemon runs it on a file dropped into ~/Downloads (watchdog, policy, journal, audit), and `llmos undo`
puts the file back. How long the move took is printed, never asserted (tests do not time the machine)."""

from __future__ import annotations

import fnmatch
import json
import time
from pathlib import Path

import pytest
from realmodel import run_llmos

pytestmark = pytest.mark.model

PDF_REQUEST = "whenever a PDF lands in ~/Downloads, move it to ~/Documents/PDFs"


def test_the_pdf_rule_from_words_moves_a_dropped_pdf_audited_and_undoable(
        daemon_environment: dict[str, str]) -> None:
    environment = daemon_environment
    home = Path(environment["HOME"])
    added = run_llmos(environment, "automations", "add", PDF_REQUEST, "--yes", "--json")
    assert added.returncode == 0, added.stderr
    rule = json.loads(added.stdout)
    trigger, action = rule["trigger"], rule["action"]
    assert trigger["path"] == "~/Downloads" and "created" in trigger["events"] and not trigger["batch"]
    assert fnmatch.fnmatch("statement.pdf", trigger["glob"].lower())
    assert not fnmatch.fnmatch("notes.txt", trigger["glob"].lower())
    assert action["tool"] == "files.move" and "{path}" in action["args"]["source"]
    assert action["args"]["destination"].rstrip("/") == "~/Documents/PDFs"

    started = run_llmos(environment, "daemon", "start")
    assert started.returncode == 0, started.stderr
    status = json.loads(run_llmos(environment, "daemon", "status", "--json").stdout)
    assert status["automations"] == 1

    dropped = home / "Downloads" / "statement.pdf"
    moved = home / "Documents" / "PDFs" / "statement.pdf"
    dropped_at = time.monotonic()
    dropped.write_bytes(b"%PDF-1.4 bank statement")
    deadline = dropped_at + 30
    while not moved.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    print(f"moved {time.monotonic() - dropped_at:.2f} s after the drop")
    assert moved.exists() and not dropped.exists()

    # The audit record is appended just after the move itself: the file can be seen moved a moment before.
    audit_path = Path(environment["XDG_DATA_HOME"]) / "llmos" / "audit.jsonl"
    records: list[dict] = []
    while not records and time.monotonic() < deadline:
        lines = audit_path.read_text().splitlines() if audit_path.exists() else []
        records = [record for line in lines if (record := json.loads(line))["tool"] == "files.move"]
        time.sleep(0.02)
    assert records, "the move was not audited"
    record = records[0]
    assert record["request"].startswith(f"automation {rule['id']}:") and record["status"] == "ok"
    assert run_llmos(environment, "log", "--verify").returncode == 0

    undone = run_llmos(environment, "undo")
    assert undone.returncode == 0, undone.stderr
    assert dropped.read_bytes() == b"%PDF-1.4 bank statement" and not moved.exists()
    # The file put back is a new event in ~/Downloads; the rule must not undo the undo.
    runs: list[dict] = []
    while not any(run["status"] == "skipped" for run in runs) and time.monotonic() < deadline + 30:
        log = run_llmos(environment, "automations", "log", rule["id"], "--json")
        runs = json.loads(log.stdout) if log.returncode == 0 else []
        time.sleep(0.1)
    assert [run["status"] for run in runs] == ["ok", "skipped"]
    assert dropped.exists() and not moved.exists()
