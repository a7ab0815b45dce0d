"""The daemon's side of automations: watch the rules' folders with watchdog and run each rule's call,
deterministically and without the model, through the same policy, journal and audit log as any request.

- Debounce: events for one file (or, for a batch rule, one folder) within the rule's quiet time make one run, so a
  download written in pieces is moved once, complete.
- No self-trigger: what a run wrote is ignored by its own rule for a while, a rule whose action writes into its
  own watched folder is refused when it is made, a rule that runs more than `STORM_RUNS_PER_MINUTE` times a
  minute is paused, and so is one that runs on the same file over `SAME_FILE_RUNS` times in ten minutes (two
  rules handing a file back and forth).
- A rule that fails `MAX_CONSECUTIVE_FAILURES` times in a row is paused, and the person told (a notice).
- Calls the rule's approval does not cover wait in the pending queue (`llmos automations pending`); never run.
- The rules file and the policy profiles are watched too: a change takes effect without a restart.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from llmos.automations.planner import load_problem
from llmos.automations.rules import NOTIFY_TOOL, UNDOABLE_EFFECTS, EventKind, Rule, UnsafeEventName
from llmos.automations.store import RUN_LOG_KEEP, AutomationStore, PendingAction
from llmos.display import escape_for_display
from llmos.effects import Effect
from llmos.errors import LlmosError
from llmos.events import Step, StepInProgress
from llmos.executor import Approver, Safety, StepRunner, new_request_id
from llmos.policies.decision import Decision, Policy, PolicyCall
from llmos.policies.impact import Impact
from llmos.policies.sandbox.confine import Confinement
from llmos.tools.paths import display_path
from llmos.tools.registry import Registry, ToolError, ToolSpec

MAX_CONSECUTIVE_FAILURES = 3
STORM_RUNS_PER_MINUTE = 120
SAME_FILE_RUNS = 5
SAME_FILE_WINDOW_S = 600.0
OWN_OUTPUT_QUIET_S = 10.0
"""How long a rule ignores events on the files its own run wrote (the writes' events arrive just after it)."""
TICK_S = 0.05
RELOAD_DELAY_S = 0.2
MISSING_FOLDER_RETRY_S = 5.0
RESULT_BUDGET_CHARS = 2000

OUTPUT_ACTIONS = frozenset({"create", "modify", "move_to", "chmod"})
EVENT_PATH_ACTIONS = frozenset({"read", "modify", "delete", "move_from", "chmod"})


@dataclass(frozen=True)
class RunOutcome:
    """What one run of a rule came to (also the run log's record)."""

    rule_id: str
    event_path: str | None
    status: str
    """ok, error, denied, pending (queued for approval), skipped (the file was gone), notice"""
    detail: str = ""
    undo_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "event_path": self.event_path, "status": self.status,
                "detail": self.detail, "undo_id": self.undo_id}


class AutomationRunner:
    """Runs the stored rules while started. `safety_factory` builds the policy, journal and audit the calls go
    through (called again after a policy file changes); `notify` tells the person (the daemon logs it)."""

    def __init__(
        self,
        store: AutomationStore,
        registry: Registry,
        safety_factory: Callable[[], Safety],
        *,
        watch_for_policy_changes: Path | None = None,
        notify: Callable[[str], None] | None = None,
        was_undone: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.safety_factory = safety_factory
        self.policy_folder = watch_for_policy_changes
        self.notify = notify or (lambda message: None)
        self.was_undone = was_undone or undone_in_journal
        """Whether a run's undo id (an action or a request) has been undone since."""
        self.runs_done = 0
        self._lock = threading.Lock()
        self._rules: dict[str, Rule] = {}
        self._due: dict[tuple[str, str | None], float] = {}
        """(rule id, file path or None for a batch rule) -> when it runs, if no event comes before."""
        self._own_outputs: dict[str, dict[str, float]] = collections.defaultdict(dict)
        self._recent_runs: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._same_file_runs: dict[tuple[str, str], collections.deque[float]] = collections.defaultdict(
            collections.deque)
        self._safety: Safety | None = None
        self._reload_at: float | None = None
        self._missing_folders: set[str] = set()
        self._observer: Any = None
        self._rule_watches: list[Any] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.store.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._observer = Observer()
        self._observer.schedule(_Forward(self._on_own_files_changed), str(self.store.folder), recursive=False)
        if self.policy_folder is not None:
            self.policy_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._observer.schedule(_Forward(self._on_policy_changed), str(self.policy_folder), recursive=False)
        self._observer.start()
        self.reload()
        self._thread = threading.Thread(target=self._loop, name="automations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
            with contextlib.suppress(RuntimeError):
                self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def active_rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules.values())

    def reload(self) -> None:
        """Read the rules again and watch the folders of the active ones. Called from `start` and then only from
        the scheduling thread. The observer's own lock is held while it calls our handlers, which take `_lock`:
        so the watches are changed outside `_lock`, never inside it (that order would deadlock)."""
        try:
            rules = self._admitted([rule for rule in self.store.rules() if rule.active])
        except LlmosError as exc:
            self.notify(f"automations not reloaded: {exc}")
            return
        with self._lock:
            self._rules = {rule.id: rule for rule in rules}
            self._due = {key: at for key, at in self._due.items() if key[0] in self._rules}
        for watch in self._rule_watches:
            with contextlib.suppress(KeyError, ValueError):
                self._observer.unschedule(watch)
        self._rule_watches = []
        self._missing_folders = set()
        folders: dict[str, bool] = {}
        for rule in rules:
            folder = str(rule.trigger.folder())
            folders[folder] = folders.get(folder, False) or rule.trigger.recursive
        for folder, recursive in folders.items():
            try:
                self._rule_watches.append(self._observer.schedule(_Forward(self._on_file_event), folder,
                                                                  recursive=recursive))
            except OSError:
                # Not created here: llmos makes no folders nobody asked for. Retried until it exists.
                self._missing_folders.add(folder)

    def _admitted(self, rules: list[Rule]) -> list[Rule]:
        """The rules that pass, as stored now, the checks they passed when added (the rules file may have been
        edited by hand); each other one is paused with the reason, and its folder is not watched."""
        admitted = []
        for rule in rules:
            problem = self._load_problem(rule)
            if problem is None:
                admitted.append(rule)
            else:
                self._pause(rule, f"it is refused as stored: {problem}")
        return admitted

    def _load_problem(self, rule: Rule) -> str | None:
        try:
            return load_problem(rule, self.registry, self._current_safety().policy)
        except Exception as exc:  # noqa: BLE001  a policy that does not load admits no rule (fail closed)
            return f"the policy could not judge it ({type(exc).__name__}: {exc})"

    # -- events -----------------------------------------------------------------------------------------------

    def _on_own_files_changed(self, event: FileSystemEvent) -> None:
        names = {Path(str(event.src_path)).name, Path(str(getattr(event, "dest_path", "") or "")).name}
        if self.store.rules_path.name in names:
            self._reload_soon()

    def _on_policy_changed(self, event: FileSystemEvent) -> None:
        paths = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
        if any(path.endswith(".toml") for path in paths):
            with self._lock:
                self._safety = None  # rebuilt from the changed files before the next run

    def _reload_soon(self) -> None:
        with self._lock:
            self._reload_at = time.monotonic() + RELOAD_DELAY_S

    def _on_file_event(self, event: FileSystemEvent) -> None:
        for kind, path in _event_kinds(event):
            self.note_event(kind, path, is_directory=event.is_directory)

    def note_event(self, kind: EventKind, path: Path, *, is_directory: bool = False) -> None:
        """Schedule the runs an event calls for (each rule's quiet time restarts on every event)."""
        now = time.monotonic()
        with self._lock:
            for rule in self._rules.values():
                trigger = rule.trigger
                if trigger.batch:
                    folder = trigger.folder()
                    if path == folder or folder in path.parents:
                        self._due[(rule.id, None)] = now + trigger.debounce_s
                    continue
                key = (rule.id, str(path))
                if key in self._due:
                    # Still being written: any event on a file already waiting restarts its quiet time.
                    self._due[key] = now + trigger.debounce_s
                    continue
                if is_directory or kind not in trigger.events or not trigger.matches(path):
                    continue
                quiet_until = self._own_outputs[rule.id].get(str(path))
                if quiet_until is not None and now < quiet_until:
                    continue  # its own output: never a trigger for itself
                self._due[key] = now + trigger.debounce_s

    # -- scheduling -------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        last_missing_check = time.monotonic()
        while not self._stop.wait(TICK_S):
            now = time.monotonic()
            with self._lock:
                reload_now = self._reload_at is not None and now >= self._reload_at
                if reload_now:
                    self._reload_at = None
                due = sorted((at, key) for key, at in self._due.items() if at <= now)
                for _at, key in due:
                    del self._due[key]
            if reload_now or (self._missing_folders and now - last_missing_check > MISSING_FOLDER_RETRY_S):
                last_missing_check = now
                self.reload()
            for _at, (rule_id, path) in due:
                try:
                    self.run_rule(rule_id, Path(path) if path is not None else None)
                except Exception as exc:  # noqa: BLE001  one broken run must not stop every rule
                    self.notify(f"automation {rule_id} failed unexpectedly: {type(exc).__name__}: {exc}")

    # -- running ----------------------------------------------------------------------------------------------

    def run_rule(self, rule_id: str, event_path: Path | None) -> RunOutcome | None:
        """Run one rule for one event now (the scheduler calls this once the quiet time has passed)."""
        with self._lock:
            rule = self._rules.get(rule_id)
        if rule is None or not rule.active:
            return None
        if event_path is not None and "deleted" not in rule.trigger.events and not event_path.exists():
            return None  # a temporary file already renamed or removed: its final name brings its own event
        if event_path is not None and self._undone_by_person(rule, event_path):
            # `llmos undo` put the file back, which is an event too: redoing the move would defeat the undo.
            outcome = RunOutcome(rule.id, _shown(event_path), "skipped",
                                 "you undid this rule's last action on this file, so it is not redone")
            self.store.log_run(outcome.to_json())
            return outcome
        if self._storming(rule):
            self._pause(rule, f"it ran over {STORM_RUNS_PER_MINUTE} times in a minute (an event storm)")
            return None
        if event_path is not None and self._looping(rule, event_path):
            self._pause(rule, f"it ran {SAME_FILE_RUNS} times on {_shown(event_path)} within "
                              f"{SAME_FILE_WINDOW_S // 60:.0f} minutes: the file keeps coming back (two rules "
                              "moving it back and forth?)")
            return None
        problem = self._load_problem(rule)  # judged at each run too: the policy may have changed since it loaded
        if problem is not None:
            outcome = RunOutcome(rule.id, _shown(event_path), "denied", f"the rule is refused: {problem}")
        elif rule.action.tool == NOTIFY_TOOL:
            outcome = self._notify(rule, event_path)
        else:
            outcome = self._call(rule, event_path)
        self.runs_done += 1
        self.store.log_run(outcome.to_json())
        self._count(rule, outcome)
        return outcome

    def _undone_by_person(self, rule: Rule, event_path: Path) -> bool:
        shown = _shown(event_path)
        earlier = [record for record in self.store.runs(rule.id, limit=RUN_LOG_KEEP)
                   if record.get("event_path") == shown and record.get("status") in ("ok", "skipped")]
        if not earlier or earlier[-1].get("status") != "ok" or not earlier[-1].get("undo_id"):
            return False
        return self.was_undone(str(earlier[-1]["undo_id"]))

    def _notify(self, rule: Rule, event_path: Path | None) -> RunOutcome:
        try:
            filled = rule.action.for_event(event_path)
        except UnsafeEventName as exc:
            return RunOutcome(rule.id, _shown(event_path), "skipped", str(exc))
        # A file name is data: a newline or a bidi override in it must not forge a line of the notice.
        text = escape_for_display(str(filled.get("text") or rule.describe()))
        self.notify(f"automation {rule.id}: {text}")
        return RunOutcome(rule.id, _shown(event_path), "notice", text)

    def _call(self, rule: Rule, event_path: Path | None) -> RunOutcome:
        spec = self.registry.get(rule.action.tool)
        if spec is None:
            return RunOutcome(rule.id, _shown(event_path), "error", f"no tool {rule.action.tool!r}")
        try:
            args = spec.validate_as_json(rule.action.for_event(event_path, spec.pattern_args))
            impact = spec.impact(args)
        except UnsafeEventName as exc:
            return RunOutcome(rule.id, _shown(event_path), "skipped", str(exc))
        except ToolError as exc:
            return RunOutcome(rule.id, _shown(event_path), "error", str(exc))
        problem = self._outside_approval(rule, spec.effect, impact, event_path)
        queued: list[PendingAction] = []

        def approver(step: Step) -> bool:
            if problem is None:
                return True  # the person approved this very call when they approved the rule
            item = PendingAction(rule_id=rule.id, event_path=_shown(event_path), tool=spec.name, args=step.args,
                                 preview=list(step.preview), reason=problem)
            self.store.queue(item)
            queued.append(item)
            return False

        if problem is None:
            # Known before the call, so the events its writes raise while it runs are already ignored.
            self._remember_outputs(rule, impact)
        safety = self._current_safety()
        if problem is not None:
            # The rule's scope holds whatever the profile says: a call it does not cover waits for a person even
            # where the policy would allow it (power-user allows writes; an event file must not widen the rule).
            safety = replace(safety, policy=_AskBeyondTheRule(safety.policy, problem))
        # The impact the scope was judged on is the one decided and run (not a second preview of changed files).
        step = run_call(safety, spec, args, rule, approver, impact)
        if queued:
            self.notify(f"automation {rule.id} waits for approval: llmos automations pending ({queued[0].id})")
            return RunOutcome(rule.id, _shown(event_path), "pending", f"queued as {queued[0].id}: {problem}")
        return RunOutcome(rule.id, _shown(event_path), step.status or "error", step.result or "", step.undo_id)

    def _outside_approval(self, rule: Rule, effect: Effect, impact: Impact, event_path: Path | None) -> str | None:
        """Why a call is not covered by the rule's approval, or None when it is (then the policy alone decides;
        otherwise the call waits for a person, whatever the policy's verdict short of deny)."""
        if rule.confirm_each:
            return "the rule asks before each run"
        if effect not in UNDOABLE_EFFECTS:
            return f"{effect} actions cannot be undone, so each one is asked"
        if impact.processes or impact.argv is not None or impact.network or impact.all_processes:
            return "the call reaches beyond files"
        roots = rule.approved_roots()
        for effect_on_path in impact.paths:
            path = effect_on_path.path
            if event_path is not None and path == event_path and effect_on_path.action in EVENT_PATH_ACTIONS:
                continue
            if effect_on_path.action in OUTPUT_ACTIONS and any(path == root or root in path.parents
                                                               for root in roots):
                continue
            return f"it would {effect_on_path.action.replace('_', ' ')} {path}, beyond the event's file"
        return None

    def _remember_outputs(self, rule: Rule, impact: Impact) -> None:
        quiet_until = time.monotonic() + OWN_OUTPUT_QUIET_S + rule.trigger.debounce_s
        with self._lock:
            outputs = self._own_outputs[rule.id]
            now = time.monotonic()
            for stale in [path for path, until in outputs.items() if until < now]:
                del outputs[stale]
            for effect_on_path in impact.paths:
                if effect_on_path.action in OUTPUT_ACTIONS:
                    outputs[str(effect_on_path.path)] = quiet_until
                    self._due.pop((rule.id, str(effect_on_path.path)), None)

    def _current_safety(self) -> Safety:
        with self._lock:
            if self._safety is None:
                self._safety = self.safety_factory()
            return self._safety

    def _storming(self, rule: Rule) -> bool:
        return _runs_within(self._recent_runs[rule.id], 60.0) > STORM_RUNS_PER_MINUTE

    def _looping(self, rule: Rule, event_path: Path) -> bool:
        """Whether the rule is about to run on the same file once too often: each rule ignores its own output,
        but two rules can hand a file back and forth, slowly enough to stay under the storm limit."""
        return _runs_within(self._same_file_runs[(rule.id, str(event_path))], SAME_FILE_WINDOW_S) > SAME_FILE_RUNS

    def _count(self, rule: Rule, outcome: RunOutcome) -> None:
        if outcome.status in ("ok", "notice", "pending"):
            if rule.consecutive_failures:
                self._update(rule, consecutive_failures=0)
            return
        failures = rule.consecutive_failures + 1
        if failures >= MAX_CONSECUTIVE_FAILURES:
            self._pause(rule, f"it failed {failures} times in a row (last: {outcome.detail[:200]})",
                        consecutive_failures=failures)
        else:
            self._update(rule, consecutive_failures=failures)

    def _pause(self, rule: Rule, reason: str, **changes: Any) -> None:
        self._update(rule, paused_reason=reason, **changes)
        with self._lock:
            self._rules.pop(rule.id, None)
        self.notify(f"automation {rule.id} paused: {reason}; llmos automations enable {rule.id} resumes it")
        self.store.log_run(RunOutcome(rule.id, None, "paused", reason).to_json())

    def _update(self, rule: Rule, **changes: Any) -> None:
        try:
            updated = self.store.update(rule.id, **changes)
        except LlmosError:
            return  # removed meanwhile
        with self._lock:
            if rule.id in self._rules and updated.active:
                self._rules[rule.id] = updated


def undone_in_journal(undo_id: str) -> bool:
    """Whether the journaled action, or any action of the request, `undo_id` names was undone."""
    from llmos.paths import data_dir
    from llmos.policies.journal import Journal

    entries = Journal(data_dir() / "journal", repair=False).entries()
    return any(entry.undone_at and undo_id in (entry.id, entry.request_id) for entry in entries)


def run_call(safety: Safety, spec: ToolSpec, args: dict[str, Any], rule: Rule, approver: Approver,
             impact: Impact | None = None) -> Step:
    """One call of `rule` through policy, approval, the journal and the audit log, as a request's step runs;
    the audit names the rule as the request. `impact`: the preview the caller judged the call on, if any."""
    step = StepInProgress(index=0, tool=spec.name, args=args)
    runner = StepRunner(
        safety,
        request_id=new_request_id(),
        request=f"automation {rule.id}: {rule.description or rule.describe()}",
        # The person's approval of the rule stands for the words of a request: its own effect is allowed.
        allowed_effects=frozenset({spec.effect}),
        approver=approver,
        dry_run=False,
        result_budget_chars=RESULT_BUDGET_CHARS,
    )
    for _event in runner.run(spec, step, impact):
        pass
    return step.snapshot()


class _AskBeyondTheRule:
    """The policy, except that a call the policy would allow is asked about instead, for `problem` (why the rule's
    approval does not cover it); deny and ask stand as the policy says."""

    def __init__(self, policy: Policy, problem: str) -> None:
        self.policy = policy
        self.problem = problem
        self.name = policy.name

    def decide(self, call: PolicyCall) -> Decision:
        decision = self.policy.decide(call)
        return Decision("ask", "automation:scope", self.problem) if decision.verdict == "allow" else decision

    def decide_command(self, argv: Sequence[str]) -> Decision:
        return self.policy.decide_command(argv)

    def grants_network(self, call: PolicyCall) -> bool:
        return self.policy.grants_network(call)

    def is_secret(self, path: Path) -> bool | None:
        return self.policy.is_secret(path)

    def sandbox_confinement(self) -> Confinement | None:
        return self.policy.sandbox_confinement()


class _Forward(FileSystemEventHandler):
    def __init__(self, handle: Callable[[FileSystemEvent], None]) -> None:
        self._handle = handle

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        self._handle(event)


def _runs_within(run_times: collections.deque[float], window_s: float) -> int:
    """Count a run now in `run_times` and return how many fall within the last `window_s` (older ones dropped)."""
    now = time.monotonic()
    run_times.append(now)
    while run_times and now - run_times[0] > window_s:
        run_times.popleft()
    return len(run_times)


def _event_kinds(event: FileSystemEvent) -> list[tuple[EventKind, Path]]:
    """watchdog's event as the rule kinds it means: a move is a deletion at its source and a creation at its
    destination (a browser's `x.pdf.part` renamed to `x.pdf` is a PDF created); a file closed after writing is
    a modification."""
    source = Path(str(event.src_path))
    if event.event_type == "moved":
        return [("deleted", source), ("created", Path(str(event.dest_path)))]
    kind: dict[str, EventKind] = {"created": "created", "modified": "modified", "closed": "modified",
                                  "deleted": "deleted"}
    return [(kind[event.event_type], source)] if event.event_type in kind else []


def _shown(path: Path | None) -> str | None:
    return display_path(path) if path is not None else None
