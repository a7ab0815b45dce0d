"""`llmos automations ...` in-process: adding a structured rule needs approval, the views, enable/disable,
pending approve/reject, and clear one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from trees import isolate_xdg, use_memory_keyring

from llmos.automations.store import AutomationStore, PendingAction
from llmos.cli import main

PDF_RULE = json.dumps({
    "trigger": {"path": "~/Downloads", "glob": "*.pdf"},
    "action": {"tool": "files.move", "args": {"source": "{path}", "destination": "~/Documents/PDFs/"}},
})


@pytest.fixture(autouse=True)
def home(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))  # no daemon there
    return temp_home


def test_a_rule_is_stored_only_once_approved(capsys) -> None:
    assert main(["automations", "add", "--rule", PDF_RULE]) == 3
    captured = capsys.readouterr()
    assert "rule: when a file matching *.pdf is created in ~/Downloads: files.move(" in captured.out
    assert "without asking, putting results in ~/Documents/PDFs" in captured.out
    assert "not added" in captured.err
    assert AutomationStore().rules() == []

    assert main(["automations", "add", "--rule", PDF_RULE, "--yes"]) == 0
    captured = capsys.readouterr()
    assert "added automation" in captured.out and "llmos daemon start" in captured.err
    assert len(AutomationStore().rules()) == 1


def test_list_show_disable_enable_remove(capsys) -> None:
    main(["automations", "add", "--rule", PDF_RULE, "--yes", "--json"])
    rule_id = json.loads(capsys.readouterr().out)["id"]
    assert main(["automations", "list"]) == 0
    assert f"{rule_id}  enabled" in capsys.readouterr().out
    assert main(["automations", "disable", rule_id]) == 0
    assert main(["automations", "list", "--json"]) == 0
    capsys.readouterr()
    assert AutomationStore().rule(rule_id).enabled is False
    AutomationStore().update(rule_id, enabled=True, paused_reason="it failed 3 times in a row")
    assert main(["automations", "show", rule_id]) == 0
    shown = capsys.readouterr().out
    assert "paused: it failed 3 times" in shown and f"llmos automations enable {rule_id}" in shown
    assert main(["automations", "enable", rule_id]) == 0
    assert AutomationStore().rule(rule_id).active
    assert main(["automations", "remove", rule_id]) == 0
    assert AutomationStore().rules() == []


def test_pending_calls_are_listed_and_rejected_without_running(capsys, home: Path) -> None:
    main(["automations", "add", "--rule", PDF_RULE, "--yes", "--confirm-each", "--json"])
    rule_id = json.loads(capsys.readouterr().out)["id"]
    store = AutomationStore()
    item = PendingAction(rule_id=rule_id, event_path="~/Downloads/report.pdf", tool="files.move",
                         args={"source": str(home / "Downloads" / "report.pdf"), "destination": "~/Documents/PDFs/"},
                         preview=["move ~/Downloads/report.pdf -> ~/Documents/PDFs/report.pdf"],
                         reason="the rule asks before each run")
    store.queue(item)
    assert main(["automations", "pending"]) == 0
    listed = capsys.readouterr().out
    assert item.id in listed and "waits because the rule asks before each run" in listed
    assert main(["automations", "reject", item.id]) == 0
    assert store.pending() == [] and (home / "Downloads" / "report.pdf").exists()
    assert main(["automations", "approve", item.id]) == 2  # gone: nothing to approve


def test_approving_a_pending_call_runs_it_and_logs_it(capsys, home: Path) -> None:
    main(["automations", "add", "--rule", PDF_RULE, "--yes", "--json"])
    rule_id = json.loads(capsys.readouterr().out)["id"]
    item = PendingAction(rule_id=rule_id, event_path="~/Downloads/report.pdf", tool="files.move",
                         args={"source": str(home / "Downloads" / "report.pdf"), "destination": "~/Documents/PDFs/"})
    AutomationStore().queue(item)
    assert main(["automations", "approve", item.id]) == 0
    assert "move_to ~/Documents/PDFs/report.pdf" in capsys.readouterr().out
    assert (home / "Documents" / "PDFs" / "report.pdf").exists()
    assert main(["automations", "log", rule_id, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[-1]["status"] == "ok" and runs[-1]["approved_pending"] == item.id


@pytest.mark.parametrize(("arguments", "message"), [
    (["automations", "add"], "give a request in words, or a rule"),
    (["automations", "add", "--rule", "{not json"], "--rule:"),
    (["automations", "add", "--rule", '{"trigger": {"path": "~/x"}}'], "the rule needs 'action'"),
    (["automations", "add", "--rule", '{"trigger": {"path": "~/x", "glob": "a/b"}, "action": {"tool": "notify", '
                                      '"args": {"text": "hi"}}}'], "glob matches file names"),
    (["automations", "show", "nope"], "no automation 'nope'"),
    (["automations", "reject", "nope"], "no pending action 'nope'"),
    (["automations", "log", "-n", "0"], "-n must be 1 or more"),
])
def test_bad_input_is_one_line_and_exit_2(arguments: list[str], message: str, capsys) -> None:
    assert main(arguments) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error and "Traceback" not in error


@pytest.mark.parametrize(("destination", "watched", "rule_name"), [
    ("~/.ssh/", "~/Downloads", "protected-path"),
    ("~/Documents/PDFs/", "/etc", "system-path"),
])
def test_a_rule_the_policy_would_always_deny_is_refused_when_added(destination: str, watched: str, rule_name: str,
                                                                  capsys) -> None:
    rule = json.dumps({"trigger": {"path": watched, "glob": "*.pdf"},
                       "action": {"tool": "files.move", "args": {"source": "{path}", "destination": destination}}})
    assert main(["automations", "add", "--rule", rule, "--yes"]) == 2
    error = capsys.readouterr().err
    assert "the policy would deny every run" in error and rule_name in error
    assert AutomationStore().rules() == []


def test_approve_and_log_print_the_real_time_and_a_readable_detail(capsys, home: Path) -> None:
    """`approve` and `log` show when the run happened (not 1970) and what it did in words, on one line, with no
    raw JSON and no word cut in half."""
    import time

    main(["automations", "add", "--rule", PDF_RULE, "--yes", "--json"])
    rule_id = json.loads(capsys.readouterr().out)["id"]
    item = PendingAction(rule_id=rule_id, event_path="~/Downloads/report.pdf", tool="files.move",
                         args={"source": str(home / "Downloads" / "report.pdf"), "destination": "~/Documents/PDFs/"})
    AutomationStore().queue(item)
    day_before = time.strftime("%Y-%m-%d")
    assert main(["automations", "approve", item.id]) == 0
    approved_line = capsys.readouterr().out.splitlines()[-1]
    assert main(["automations", "log"]) == 0
    (logged_line,) = capsys.readouterr().out.splitlines()
    assert approved_line == logged_line
    assert logged_line.startswith((day_before, time.strftime("%Y-%m-%d")))  # either side of a midnight
    assert f"{rule_id}  ok  ~/Downloads/report.pdf  moved: 1; done: " in logged_line
    assert "move ~/Downloads/report.pdf ~/Documents/PDFs/report.pdf" in logged_line
    assert "{" not in logged_line and '"' not in logged_line and "undo: llmos undo " in logged_line


def test_a_long_or_hostile_run_detail_is_cut_at_a_word_and_escaped(capsys) -> None:
    """A detail longer than the line allows ends at a whole word with `...`; a file name holding a newline or a
    terminal escape shows as visible escapes, so each record stays one line."""
    from llmos.commands.automations import DETAIL_WIDTH

    store = AutomationStore()
    store.log_run({"rule_id": "r1", "event_path": "~/Downloads/evil\n\x1b[2Jname.pdf", "status": "error",
                   "detail": " ".join(["overflowing"] * 40)})
    assert main(["automations", "log"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert "evil\\n\\x1b[2Jname.pdf" in line and "\x1b" not in line
    detail = line.split("name.pdf  ", 1)[1]
    assert detail.endswith("overflowing...") and len(detail) <= DETAIL_WIDTH
