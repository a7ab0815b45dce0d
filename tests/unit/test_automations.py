"""Automations without the model: rules, their checks, the store, and the runner on real watchdog events in a temp
HOME, acting through the real policy, journal and audit log (keyring in memory)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from llmos.models.backend import GenerationStats
from llmos.models.prompt import RULE_EXAMPLES
from llmos.policies.audit import AuditLog, audit_key_from_keyring
from llmos.policies.journal import Journal
from llmos.tools import load_builtin_tools
from trees import isolate_xdg, use_memory_keyring

from llmos.automations import runner as runner_module
from llmos.automations.planner import check_rule, plan_rule, rule_prefix, rule_schema
from llmos.automations.rules import Action, Rule, Trigger, self_trigger_problem
from llmos.automations.runner import AutomationRunner
from llmos.automations.store import AutomationStore, PendingAction
from llmos.config import load_config
from llmos.errors import UsageError
from llmos.paths import config_dir, data_dir
from llmos.runtime import load_safety

PDF_RULE = {
    "trigger": {"path": "~/Downloads", "events": ["created"], "glob": "*.pdf"},
    "action": {"tool": "files.move", "args": {"source": "{path}", "destination": "~/Documents/PDFs/"}},
}


@pytest.fixture
def home(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)
    return temp_home


def make_rule(raw: dict[str, Any] = PDF_RULE, **changes: Any) -> Rule:
    rule = Rule(trigger=Trigger.model_validate(raw["trigger"]), action=Action.model_validate(raw["action"]))
    return rule.model_copy(update=changes)


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def running(home: Path) -> Iterator[Callable[..., AutomationRunner]]:
    """Start a runner over the stored rules (real watchdog observer, the default policy, journal, audit)."""
    started: list[AutomationRunner] = []
    notices: list[str] = []

    def start() -> AutomationRunner:
        config = load_config()
        runner = AutomationRunner(AutomationStore(), load_builtin_tools(), lambda: load_safety(None, config),
                                  watch_for_policy_changes=config_dir(), notify=notices.append)
        runner.notices = notices  # type: ignore[attr-defined]  # the tests read the notices off the runner
        runner.start()
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.stop()


def audit_records() -> list[dict[str, Any]]:
    path = data_dir() / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# -- rules ----------------------------------------------------------------------------------------------------


def test_trigger_matches_names_case_insensitively_in_its_folder_only(home: Path) -> None:
    trigger = Trigger.model_validate(PDF_RULE["trigger"])
    assert trigger.matches(home / "Downloads" / "Report.PDF")
    assert not trigger.matches(home / "Downloads" / "notes.txt")
    assert not trigger.matches(home / "Downloads" / "archive" / "x.pdf")
    assert trigger.model_copy(update={"recursive": True}).matches(home / "Downloads" / "archive" / "x.pdf")
    assert not trigger.matches(home / "Documents" / "x.pdf")


def test_placeholders_fill_in_the_event_file_and_nothing_else(home: Path) -> None:
    action = Action(tool="files.copy", args={"source": "{path}", "destination": "~/Backup/{stem}-copy{ext}",
                                             "other": "{unknown} {folder}"})
    filled = action.for_event(home / "Downloads" / "a b.pdf")
    assert filled == {"source": str(home / "Downloads" / "a b.pdf"), "destination": "~/Backup/a b-copy.pdf",
                      "other": f"{{unknown}} {home / 'Downloads'}"}


def test_approved_roots_are_the_folders_the_arguments_name(home: Path) -> None:
    assert make_rule().approved_roots() == (home / "Documents" / "PDFs",)
    renamed = make_rule(action=Action(tool="files.move", args={"source": "{path}",
                                                               "destination": "~/Sorted/{name}"}))
    assert renamed.approved_roots() == (home / "Sorted",)
    # The whole home is never a root, whatever the arguments say.
    assert make_rule(action=Action(tool="files.move", args={"source": "{path}", "destination": "~/"})
                     ).approved_roots() == ()


def test_a_rule_writing_into_its_own_watched_folder_is_refused(home: Path, builtin_tools) -> None:
    looping = make_rule(action=Action(tool="files.copy", args={"source": "{path}",
                                                               "destination": "~/Downloads/{stem}-copy.pdf"}))
    assert self_trigger_problem(looping) is not None
    nested = make_rule(trigger=Trigger(path="~/Downloads", glob="*", recursive=True),
                       action=Action(tool="files.move",
                                     args={"source": "{path}", "destination": "~/Downloads/sorted/"}))
    with pytest.raises(UsageError, match="its own output"):
        check_rule(nested, builtin_tools)
    assert self_trigger_problem(make_rule()) is None


def test_check_rule_makes_the_folder_absolute_and_rejects_what_cannot_run(home: Path, builtin_tools) -> None:
    checked = check_rule(make_rule(trigger=Trigger(path="Downloads", glob="*.pdf")), builtin_tools)
    assert checked.trigger.path == "~/Downloads"
    with pytest.raises(UsageError, match="cannot use 'shell.run'"):
        check_rule(make_rule(action=Action(tool="shell.run", args={"argv": ["rm", "{path}"]})), builtin_tools)
    with pytest.raises(UsageError, match="invalid arguments for files.move"):
        check_rule(make_rule(action=Action(tool="files.move", args={"source": "{path}"})), builtin_tools)
    with pytest.raises(UsageError, match="never names the event's file"):
        check_rule(make_rule(action=Action(tool="files.delete", args={"path": "~/Downloads/old.txt"})), builtin_tools)
    with pytest.raises(UsageError, match="cannot name one file"):
        check_rule(make_rule(trigger=Trigger(path="~/Downloads", batch=True)), builtin_tools)
    with_deleted = check_rule(make_rule(trigger=Trigger(path="~/Downloads", glob="*.pdf",
                                                        events=["created", "deleted"])), builtin_tools)
    assert with_deleted.trigger.events == ["created"]  # moving a file that is gone can only fail
    with pytest.raises(UsageError, match="is a file"):
        check_rule(make_rule(trigger=Trigger(path="~/program.bin")), builtin_tools)


# -- store ----------------------------------------------------------------------------------------------------


def test_store_keeps_rules_and_pending_calls_and_removing_a_rule_drops_its_queue(home: Path) -> None:
    store = AutomationStore()
    rule = make_rule()
    store.add(rule)
    store.queue(PendingAction(rule_id=rule.id, event_path="~/Downloads/a.pdf", tool="files.move", args={}))
    assert [item.id for item in store.rules()] == [rule.id]
    assert store.update(rule.id, enabled=False).enabled is False
    assert oct((store.folder / "rules.json").stat().st_mode & 0o777) == "0o600"
    store.remove(rule.id)
    assert store.rules() == [] and store.pending() == []
    with pytest.raises(UsageError, match="no automation"):
        store.remove(rule.id)


def test_a_damaged_rules_file_is_one_clear_error(home: Path) -> None:
    store = AutomationStore()
    store.folder.mkdir(parents=True)
    store.rules_path.write_text('{"rules": [{"id": 3}]}')
    with pytest.raises(UsageError, match="is damaged"):
        store.rules()


# -- the runner -----------------------------------------------------------------------------------------------


def test_the_pdf_rule_moves_a_dropped_file_journaled_and_audited(home: Path, running) -> None:
    store = AutomationStore()
    rule = make_rule(description="whenever a PDF lands in ~/Downloads, move it to ~/Documents/PDFs")
    store.add(rule)
    runner = running()
    dropped = home / "Downloads" / "invoice.pdf"
    dropped.write_bytes(b"%PDF-1.4 invoice")
    moved = home / "Documents" / "PDFs" / "invoice.pdf"
    assert wait_for(moved.exists), runner.notices
    assert not dropped.exists() and moved.read_bytes() == b"%PDF-1.4 invoice"
    assert (home / "Downloads" / "notes.txt").exists()  # not a PDF: untouched

    assert wait_for(lambda: bool(store.runs(rule.id)))
    run = store.runs(rule.id)[-1]
    assert run["status"] == "ok" and run["undo_id"]
    record = next(item for item in audit_records() if item["tool"] == "files.move")
    assert record["request"].startswith(f"automation {rule.id}:")
    assert record["decision"] == "ask" and record["approved"] is True and record["status"] == "ok"
    assert AuditLog(data_dir() / "audit.jsonl", key=audit_key_from_keyring()).verify().ok

    Journal(data_dir() / "journal").undo(run["undo_id"])
    assert dropped.exists() and not moved.exists()
    # Putting the file back is an event in ~/Downloads too; the undo must stick, not be redone.
    assert wait_for(lambda: store.runs(rule.id)[-1]["status"] == "skipped")
    time.sleep(0.5)
    assert dropped.exists() and not moved.exists()
    assert "you undid" in store.runs(rule.id)[-1]["detail"]


def test_a_file_written_in_pieces_is_moved_once_complete(home: Path, running) -> None:
    store = AutomationStore()
    store.add(make_rule(trigger=Trigger(path="~/Downloads", glob="*.pdf", debounce_s=0.6)))
    running()
    dropped = home / "Downloads" / "big.pdf"
    with dropped.open("wb") as handle:
        for _ in range(4):
            handle.write(b"x" * 1000)
            handle.flush()
            time.sleep(0.25)  # shorter than the quiet time: still one file being written
    moved = home / "Documents" / "PDFs" / "big.pdf"
    assert wait_for(moved.exists)
    assert moved.stat().st_size == 4000
    # The run is logged just after the move (and its audit record); then there is exactly one.
    assert wait_for(lambda: bool(store.runs()))
    time.sleep(0.5)
    assert len(store.runs()) == 1


def test_a_browser_download_renamed_into_place_counts_as_created(home: Path, running) -> None:
    store = AutomationStore()
    store.add(make_rule())
    running()
    partial = home / "Downloads" / "paper.pdf.part"
    partial.write_bytes(b"%PDF")
    partial.rename(home / "Downloads" / "paper.pdf")
    assert wait_for((home / "Documents" / "PDFs" / "paper.pdf").exists)


def test_a_call_the_approval_does_not_cover_waits_in_the_queue_until_approved(home: Path, running) -> None:
    from llmos.commands.automations import approve

    store = AutomationStore()
    rule = make_rule(confirm_each=True)
    store.add(rule)
    runner = running()
    dropped = home / "Downloads" / "contract.pdf"
    dropped.write_bytes(b"%PDF")
    assert wait_for(lambda: bool(store.pending()))
    time.sleep(0.3)
    assert dropped.exists()  # queued, never run unapproved
    item = store.pending()[0]
    assert item.rule_id == rule.id and item.reason == "the rule asks before each run"
    assert any("contract.pdf" in line for line in item.preview)
    assert any("waits for approval" in notice for notice in runner.notices)

    assert approve(store, item.id) == 0
    assert (home / "Documents" / "PDFs" / "contract.pdf").exists() and store.pending() == []


def test_a_call_reaching_beyond_the_event_file_is_queued_not_run(home: Path, running) -> None:
    store = AutomationStore()
    # A glob source that would sweep up every PDF, not just the one that arrived.
    store.add(make_rule(action=Action(tool="files.move", args={"source": "{folder}/*.pdf",
                                                               "destination": "~/Documents/PDFs/"})))
    running()
    (home / "Downloads" / "new.pdf").write_bytes(b"%PDF")
    assert wait_for(lambda: bool(store.pending()))
    assert "beyond the event's file" in store.pending()[0].reason
    assert (home / "Downloads" / "report.pdf").exists() and (home / "Downloads" / "new.pdf").exists()


def test_a_rule_that_keeps_failing_is_paused_and_the_person_told(home: Path, running) -> None:
    store = AutomationStore()
    # Policy denies every write into a system folder: each run is refused, and counts as a failure. (A rule
    # naming ~/.ssh is refused as soon as it is loaded: tests/adversarial/test_automation_attacks.py.)
    rule = make_rule(action=Action(tool="files.copy", args={"source": "{path}", "destination": "/usr/local/llmos/"}))
    store.add(rule)
    runner = running()
    for number in range(runner_module.MAX_CONSECUTIVE_FAILURES):
        (home / "Downloads" / f"f{number}.pdf").write_bytes(b"%PDF")
        assert wait_for(lambda runs_before=number: len(store.runs(rule.id)) > runs_before)
    assert wait_for(lambda: store.rule(rule.id).paused_reason is not None)
    assert "failed 3 times in a row" in str(store.rule(rule.id).paused_reason)
    # The pause is recorded as a run just after the rule is marked paused: wait for the record, not a moment.
    assert wait_for(lambda: {run["status"] for run in store.runs(rule.id)} >= {"denied", "paused"})
    assert any("paused" in notice for notice in runner.notices)
    runs_before = runner.runs_done
    (home / "Downloads" / "later.pdf").write_bytes(b"%PDF")
    time.sleep(1.0)
    assert runner.runs_done == runs_before  # paused: no longer runs


def test_a_rule_ignores_the_files_its_own_run_wrote(home: Path, running, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a rule that slipped past the check (written straight into the file) does not run on its own output."""
    monkeypatch.setattr(runner_module, "load_problem", lambda *args: None)  # past the check at load too
    store = AutomationStore()
    rule = make_rule(trigger=Trigger(path="~/Downloads", glob="*.txt", recursive=True),
                     action=Action(tool="files.copy", args={"source": "{path}", "destination": "~/Downloads/copies/"}))
    store.add(rule)
    runner = running()
    (home / "Downloads" / "copies").mkdir()
    (home / "Downloads" / "memo.txt").write_text("memo")
    assert wait_for((home / "Downloads" / "copies" / "memo.txt").exists)
    time.sleep(1.5)
    assert not (home / "Downloads" / "copies" / "copies").exists()
    assert runner.runs_done == 1


def test_an_event_storm_pauses_the_rule(home: Path, running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "STORM_RUNS_PER_MINUTE", 2)
    store = AutomationStore()
    rule = make_rule(trigger=Trigger(path="~/Downloads", glob="*.pdf", debounce_s=0))
    store.add(rule)
    running()
    for number in range(4):
        (home / "Downloads" / f"s{number}.pdf").write_bytes(b"%PDF")
        time.sleep(0.2)
    assert wait_for(lambda: store.rule(rule.id).paused_reason is not None)
    assert "event storm" in str(store.rule(rule.id).paused_reason)


def test_a_batch_rule_tells_once_when_the_folder_stops_changing(home: Path, running) -> None:
    store = AutomationStore()
    (home / "build").mkdir()
    rule = make_rule(trigger=Trigger(path="~/build", events=["created", "modified", "deleted"], batch=True,
                                     debounce_s=0.5, recursive=True),
                     action=Action(tool="notify", args={"text": "~/build stopped changing"}))
    store.add(rule)
    runner = running()
    for number in range(5):
        (home / "build" / f"out{number}.o").write_text("x")
        time.sleep(0.1)
    assert wait_for(lambda: bool(store.runs(rule.id)))
    time.sleep(1.0)
    runs = store.runs(rule.id)
    assert [run["status"] for run in runs] == ["notice"] and runs[0]["detail"] == "~/build stopped changing"
    assert runner.notices == [f"automation {rule.id}: ~/build stopped changing"]


def test_rules_added_while_running_take_effect_without_a_restart(home: Path, running) -> None:
    store = AutomationStore()
    runner = running()
    assert runner.active_rules == []
    store.add(make_rule())
    assert wait_for(lambda: len(runner.active_rules) == 1)
    (home / "Downloads" / "late.pdf").write_bytes(b"%PDF")
    assert wait_for((home / "Documents" / "PDFs" / "late.pdf").exists)
    store.update(runner.active_rules[0].id, enabled=False)
    assert wait_for(lambda: runner.active_rules == [])


def test_a_watched_folder_that_appears_later_is_watched_then(home: Path, running, monkeypatch) -> None:
    monkeypatch.setattr(runner_module, "MISSING_FOLDER_RETRY_S", 0.2)
    store = AutomationStore()
    store.add(make_rule(trigger=Trigger(path="~/Inbox", glob="*.pdf")))
    running()
    (home / "Inbox").mkdir()
    time.sleep(0.6)
    (home / "Inbox" / "scan.pdf").write_bytes(b"%PDF")
    assert wait_for((home / "Documents" / "PDFs" / "scan.pdf").exists)


# -- the planner (a scripted model) ---------------------------------------------------------------------------


class RuleBackend:
    """Replies with one fixed text and records what it was asked."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.name = "scripted"
        self.load_ms = 0.0
        self.n_ctx = 4096
        self.last_stats = GenerationStats()
        self.asked: list[tuple[str, str, dict[str, Any]]] = []

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        self.asked.append((prefix, conversation, schema))
        yield self.reply

    def count_tokens(self, text: str) -> int:
        return len(text) // 4


def test_the_planner_turns_the_model_reply_into_a_checked_rule(home: Path, builtin_tools) -> None:
    reply = {"trigger": {"path": "~/Downloads", "events": ["created"], "glob": "*.pdf", "recursive": False,
                         "batch": False, "debounce_s": 0.5},
             "action": {"tool": "files.move", "args": {"source": "{path}", "destination": "~/Documents/PDFs"}}}
    backend = RuleBackend(json.dumps(reply))
    request = "whenever a PDF lands in ~/Downloads, move it to ~/Documents/PDFs"
    rule = plan_rule(backend, builtin_tools, request)
    assert rule.description == request and rule.trigger.glob == "*.pdf" and rule.action.tool == "files.move"
    prefix, conversation, schema = backend.asked[0]
    assert request in conversation and "files.move(" in prefix and "shell.run" not in prefix
    branches = [branch["properties"]["tool"]["const"] for branch in schema["properties"]["action"]["anyOf"]]
    assert "notify" in branches and "shell.run" not in branches


def test_a_reply_that_is_no_rule_is_a_usage_error(home: Path, builtin_tools) -> None:
    with pytest.raises(UsageError, match="did not produce a usable rule"):
        plan_rule(RuleBackend('{"trigger": {}}'), builtin_tools, "whenever something happens")


def test_the_rule_schema_compiles_to_a_grammar(builtin_tools) -> None:
    """The real model decodes under this schema: llama.cpp's converter must accept it (no silent fallback)."""
    from llmos.models.llama_backend import compile_grammar

    assert compile_grammar(rule_schema(builtin_tools)) is not None
    assert rule_prefix(builtin_tools).count("<|im_start|>user") == len(RULE_EXAMPLES)


def test_the_tui_sampler_notes_pending_calls_and_paused_rules(home: Path) -> None:
    from llmos.shell.sysmon import attention_notes

    assert attention_notes() == ()
    store = AutomationStore()
    rule = make_rule(paused_reason="it failed 3 times in a row")
    store.add(rule)
    store.queue(PendingAction(rule_id=rule.id, event_path=None, tool="files.move", args={}))
    assert attention_notes() == ("1 automation call waits for approval: llmos automations pending",
                                 f"automation {rule.id} paused: llmos automations list")
    store.log_run({"rule_id": rule.id, "event_path": None, "status": "notice", "detail": "~/build stopped changing"})
    assert attention_notes()[0] == f"automation {rule.id}: ~/build stopped changing"


def test_two_rules_handing_a_file_back_and_forth_are_stopped(home: Path, running,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Each rule ignores its own output, but A (Downloads -> Inbox) and B (Inbox -> Downloads) would ping-pong a
    file for ever below the storm limit: a rule about to run on the same file more than `SAME_FILE_RUNS` times
    is paused instead, after exactly that many runs, and the file rests where nothing active watches for it."""
    monkeypatch.setattr(runner_module, "SAME_FILE_RUNS", 2)
    (home / "Inbox").mkdir()
    store = AutomationStore()
    there = make_rule(trigger=Trigger(path="~/Downloads", glob="*.pdf", debounce_s=0.1),
                      action=Action(tool="files.move", args={"source": "{path}", "destination": "~/Inbox/"}))
    back = make_rule(trigger=Trigger(path="~/Inbox", glob="*.pdf", debounce_s=0.1),
                     action=Action(tool="files.move", args={"source": "{path}", "destination": "~/Downloads/"}))
    store.add(there)
    store.add(back)
    runner = running()
    (home / "Downloads" / "ball.pdf").write_bytes(b"%PDF")
    # The run log's "paused" record is the last thing a pause writes (after the rule's paused reason): waiting
    # for it, not for the rule, means the pause is complete when the records are read.
    assert wait_for(lambda: any(run["status"] == "paused" for run in store.runs()), timeout_s=60)
    runs = [(run["rule_id"], run["status"]) for run in store.runs()]
    assert runs == [(there.id, "ok"), (back.id, "ok"), (there.id, "ok"), (back.id, "ok"), (there.id, "paused")]
    assert "keeps coming back" in str(store.rule(there.id).paused_reason)
    assert store.rule(back.id).paused_reason is None
    assert [rule.id for rule in runner.active_rules] == [back.id]
    # The loop has stopped: the file lies in ~/Downloads, which only the paused rule watched.
    assert (home / "Downloads" / "ball.pdf").exists() and not (home / "Inbox" / "ball.pdf").exists()
    assert not wait_for(lambda: len(store.runs()) > len(runs), timeout_s=1.0)


def test_a_policy_file_changed_while_running_governs_the_next_run(home: Path, running) -> None:
    """The runner rebuilds its policy when a profile file changes: a destination the person now protects is
    refused at the next event, without a restart."""
    store = AutomationStore()
    rule = make_rule()
    store.add(rule)
    running()
    (home / "Downloads" / "first.pdf").write_bytes(b"%PDF")
    assert wait_for(lambda: [run["status"] for run in store.runs(rule.id)] == ["ok"])
    (config_dir() / "policy.toml").write_text('denied_paths = ["~/Documents/PDFs"]\n')
    time.sleep(0.5)
    (home / "Downloads" / "second.pdf").write_bytes(b"%PDF")
    assert wait_for(lambda: len(store.runs(rule.id)) == 2)
    assert store.runs(rule.id)[-1]["status"] == "denied"
    assert (home / "Downloads" / "second.pdf").exists()
