"""`llmos automations add|list|show|enable|disable|remove|pending|approve|reject|log`: rules the daemon runs on
file events (see llmos/automations/).

`add` has the model turn the request into a rule once, shows it, and stores it only when the person approves
(`--yes`, or `y` at the prompt); with no terminal and no `--yes` nothing is stored (exit 3).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import pydantic

from llmos.automations.rules import NOTIFY_TOOL, UNDOABLE_EFFECTS, Action, Rule, Trigger
from llmos.automations.store import AutomationStore, PendingAction
from llmos.display import escape_for_display
from llmos.errors import UsageError
from llmos.events import Step
from llmos.tools.paths import display_path

EXIT_NOT_APPROVED = 3


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("automations", help="rules the daemon runs on file events: add, list, pending, ...")
    actions = parser.add_subparsers(dest="automations_command", metavar="ACTION", required=True)
    adding = actions.add_parser("add", help='make a rule from a request ("whenever a PDF lands in ~/Downloads, '
                                            'move it to ~/Documents/PDFs"), show it, store it once approved')
    adding.add_argument("request", nargs="?", metavar="REQUEST", help="the rule in plain language")
    adding.add_argument("--rule", metavar="JSON", help="a rule as JSON ({\"trigger\": ..., \"action\": ...}) "
                                                       "instead of a request: no model")
    adding.add_argument("--yes", action="store_true", help="approve the rule without asking")
    adding.add_argument("--confirm-each", action="store_true", help="ask before every run (the pending queue)")
    adding.add_argument("--model", metavar="NAME|PATH", help="the model that writes the rule")
    adding.add_argument("--json", action="store_true", help="print the rule as JSON")
    listing = actions.add_parser("list", help="the rules, with their state")
    listing.add_argument("--json", action="store_true", help="print the rules as a JSON array")
    for name, help_text in (("show", "one rule and its latest runs"), ("enable", "run a rule again (clears a pause)"),
                            ("disable", "stop running a rule, keeping it"), ("remove", "delete a rule")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("id", metavar="ID", help="the rule's id (llmos automations list)")
        if name == "show":
            action.add_argument("--json", action="store_true", help="print the rule and its runs as JSON")
    pending = actions.add_parser("pending", help="calls waiting for your approval")
    pending.add_argument("--json", action="store_true", help="print the waiting calls as a JSON array")
    approving = actions.add_parser("approve", help="run a pending call now")
    approving.add_argument("id", metavar="PENDING_ID", help="the call's id (llmos automations pending)")
    rejecting = actions.add_parser("reject", help="drop a pending call")
    rejecting.add_argument("id", metavar="PENDING_ID", help="the call's id (llmos automations pending)")
    log = actions.add_parser("log", help="the latest runs and notices (of one rule, or all)")
    log.add_argument("id", nargs="?", metavar="ID", help="only this rule's runs (default: every rule's)")
    log.add_argument("-n", type=int, default=20, metavar="N", help="the newest N runs (default 20)")
    log.add_argument("--json", action="store_true", help="print the run records as a JSON array")
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    store = AutomationStore()
    action = options.automations_command
    if action == "add":
        return add(options, store)
    if action == "list":
        return list_rules(store, options.json)
    if action == "show":
        return show(store, options.id, options.json)
    if action in ("enable", "disable"):
        rule = store.update(options.id, enabled=action == "enable", consecutive_failures=0, paused_reason=None)
        print(f"{action}d automation {rule.id}: {rule.describe()}")
        _say_if_no_daemon()
        return 0
    if action == "remove":
        rule = store.remove(options.id)
        print(f"removed automation {rule.id}: {rule.describe()}")
        return 0
    if action == "pending":
        return list_pending(store, options.json)
    if action == "approve":
        return approve(store, options.id)
    if action == "reject":
        item = store.take_pending(options.id)
        print(f"dropped {item.id}: {item.tool} for {item.event_path or 'its folder'} (not run)")
        return 0
    return show_log(store, options.id, options.n, options.json)


# -- add ------------------------------------------------------------------------------------------------------


def add(options: argparse.Namespace, store: AutomationStore) -> int:
    from llmos.automations.planner import check_rule
    from llmos.tools import load_builtin_tools

    registry = load_builtin_tools()
    if (options.request is None) == (options.rule is None):
        raise UsageError("give a request in words, or a rule with --rule JSON (one of them)")
    if options.rule is not None:
        rule = check_rule(_rule_from_json(options.rule), registry)
    else:
        if not options.request.strip():
            raise UsageError("the request is empty")
        rule = _planned_rule(options.request, options.model)
    if options.confirm_each:
        rule = rule.model_copy(update={"confirm_each": True})
    _refuse_what_policy_denies(rule, registry)
    if options.json:
        print(json.dumps(rule.model_dump(mode="json"), indent=2))
    else:
        print(f"rule: {rule.describe()}")
        print(f"approving it: {approval_scope(rule, registry)}")
    if not (options.yes or _confirmed("add this automation? [y/N] ")):
        print("llmos: not added: the rule needs your approval (--yes, or answer y on a terminal)", file=sys.stderr)
        return EXIT_NOT_APPROVED
    store.add(rule)
    if not options.json:
        print(f"added automation {rule.id}")
        if not rule.trigger.folder().is_dir():
            print(f"note: {rule.trigger.path} does not exist yet; the rule starts watching it once it does",
                  file=sys.stderr)
        _say_if_no_daemon()
    return 0


def _refuse_what_policy_denies(rule: Rule, registry: Any) -> None:
    """A rule every run of which the policy would deny is refused now, not paused after three failures; so is one
    that watches or names a secret or protected folder (whatever its tool, notify included)."""
    from llmos.automations.planner import policy_refusal, protected_folder_problem
    from llmos.config import load_config
    from llmos.runtime import load_policy

    config = load_config()
    policy = load_policy(config.policy, config)
    denied = policy_refusal(rule, registry, policy)
    if denied is not None:
        raise UsageError(f"this rule is refused: the policy would deny every run ({denied.rule}: {denied.reason})")
    protected = protected_folder_problem(rule, policy)
    if protected is not None:
        raise UsageError(f"this rule is refused: {protected}")


def approval_scope(rule: Rule, registry: Any) -> str:
    """What approving the rule lets run without asking again, in words."""
    if rule.action.tool == NOTIFY_TOOL:
        return "it only tells you (llmos automations log, the TUI)"
    spec = registry.get(rule.action.tool)
    if rule.confirm_each or spec is None or spec.effect not in UNDOABLE_EFFECTS:
        return "every run waits for you in llmos automations pending"
    roots = ", ".join(display_path(root) for root in rule.approved_roots())
    into = f", putting results in {roots}" if roots else ""
    return (f"{rule.action.tool} runs on each matching file without asking{into}, journaled (llmos undo) and "
            "audited; the policy still decides, and a call that reaches further waits in llmos automations pending")


def _planned_rule(request: str, model: str | None) -> Rule:
    """The model's rule: the daemon's resident model when it runs, else one loaded here."""
    from llmos.connect import open_assistant

    assistant = open_assistant(model=model, policy=None, progress=sys.stderr.isatty())
    try:
        return assistant.plan_rule(request)
    finally:
        assistant.close()


def _rule_from_json(text: str) -> Rule:
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("a rule is a JSON object")
        extra = set(raw) - {"trigger", "action", "description"}
        if extra:
            raise ValueError(f"unknown fields {sorted(extra)}")
        return Rule(description=str(raw.get("description", "")), trigger=Trigger.model_validate(raw["trigger"]),
                    action=Action.model_validate(raw["action"]))
    except KeyError as exc:
        raise UsageError(f"--rule: the rule needs {exc}") from None
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"--rule: {where}: {first['msg']}") from None
    except ValueError as exc:
        raise UsageError(f"--rule: {exc}") from None


def _confirmed(question: str) -> bool:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


# -- views ----------------------------------------------------------------------------------------------------


def list_rules(store: AutomationStore, as_json: bool) -> int:
    rules = store.rules()
    if as_json:
        print(json.dumps([rule.model_dump(mode="json") for rule in rules], indent=2))
        return 0
    if not rules:
        print("no automations: llmos automations add "
              '"whenever a PDF lands in ~/Downloads, move it to ~/Documents/PDFs"')
        return 0
    for rule in rules:
        print(f"{rule.id}  {_state(rule):<8}  {rule.describe()}")
        if rule.paused_reason:
            print(f"          paused: {rule.paused_reason}")
    waiting = len(store.pending())
    if waiting:
        print(f"{waiting} call(s) wait for approval: llmos automations pending")
    _say_if_no_daemon()
    return 0


def show(store: AutomationStore, rule_id: str, as_json: bool) -> int:
    rule = store.rule(rule_id)
    runs = store.runs(rule_id, limit=10)
    if as_json:
        print(json.dumps({"rule": rule.model_dump(mode="json"), "runs": runs}, indent=2))
        return 0
    print(f"{rule.id}  {_state(rule)}")
    print(f"rule: {rule.describe()}")
    if rule.description:
        print(f"from: {rule.description}")
    if rule.paused_reason:
        print(f"paused: {rule.paused_reason} (llmos automations enable {rule.id} resumes it)")
    print("latest runs:" if runs else "no runs yet")
    for record in runs:
        print(f"  {run_line(record)}")
    return 0


def list_pending(store: AutomationStore, as_json: bool) -> int:
    items = store.pending()
    if as_json:
        print(json.dumps([item.model_dump(mode="json") for item in items], indent=2))
        return 0
    for line in pending_lines(items):
        print(line)
    if items:
        print("llmos automations approve ID runs one; llmos automations reject ID drops it")
    return 0


def pending_lines(items: list[PendingAction]) -> list[str]:
    """The queue as the CLI and the TUI's /automations show it."""
    if not items:
        return ["nothing waits for approval"]
    lines = []
    for item in items:
        lines.append(f"{item.id}  rule {item.rule_id}  {item.tool} {json.dumps(item.args)}  ({_age(item.queued_at)})")
        lines.extend(f"          {line}" for line in item.preview)
        lines.append(f"          waits because {item.reason}")
    return lines


def show_log(store: AutomationStore, rule_id: str | None, limit: int, as_json: bool) -> int:
    if limit < 1:
        raise UsageError("-n must be 1 or more")
    if rule_id is not None:
        store.rule(rule_id)
    runs = store.runs(rule_id, limit=limit)
    if as_json:
        print(json.dumps(runs, indent=2))
    elif not runs:
        print("no runs yet")
    for record in [] if as_json else runs:
        print(run_line(record))
    return 0


# -- approving a pending call ---------------------------------------------------------------------------------


def approve(store: AutomationStore, pending_id: str) -> int:
    step, record = run_pending(store, pending_id)
    for line in step.preview:
        print(f"  {line}")
    print(run_line(record))
    if step.status == "denied":
        return EXIT_NOT_APPROVED
    return 0 if step.status == "ok" else 1


def run_pending(store: AutomationStore, pending_id: str) -> tuple[Step, dict[str, Any]]:
    """Run a queued call now, as the person just approved it: through the policy (decided afresh, a deny still
    refuses), the journal and the audit log; the run is logged with the rule's."""
    from llmos.automations.runner import run_call
    from llmos.config import load_config
    from llmos.runtime import load_safety
    from llmos.tools import load_builtin_tools

    item = store.pending_item(pending_id)
    rule = store.rule(item.rule_id)
    spec = load_builtin_tools().get(item.tool)
    if spec is None:
        raise UsageError(f"the pending call names an unknown tool {item.tool!r}")
    store.take_pending(item.id)
    config = load_config()
    step = run_call(load_safety(config.policy, config), spec, item.args, rule, approver=lambda _step: True)
    record = {"rule_id": rule.id, "event_path": item.event_path, "status": step.status, "detail": step.result or "",
              "undo_id": step.undo_id, "approved_pending": item.id}
    return step, store.log_run(record)


# -- helpers --------------------------------------------------------------------------------------------------


def _state(rule: Rule) -> str:
    if rule.paused_reason:
        return "paused"
    return "enabled" if rule.enabled else "disabled"


DETAIL_WIDTH = 160
"""Most characters of a run's detail on its line; a longer one is cut at a word."""


def run_line(record: dict[str, Any]) -> str:
    """One line per run: when, rule, status, the file that set it off, what it did (readable, cut at a word),
    the undo command. Names come from outside (file names, results): every control or bidi character shows as a
    visible escape, so the record stays one line and cannot act on the terminal."""
    logged_at = record.get("time")
    when = (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(logged_at)) if isinstance(logged_at, (int, float))
            else "(time unknown)     ")
    what = record.get("event_path") or "(folder)"
    detail = readable_detail(str(record.get("detail") or ""))
    undo = f"  undo: llmos undo {record['undo_id']}" if record.get("undo_id") else ""
    return escape_for_display(f"{when}  {record.get('rule_id')}  {record.get('status')}  {what}  {detail}{undo}")


def readable_detail(detail: str, width: int = DETAIL_WIDTH) -> str:
    """A run's detail as words: a tool's JSON result as `key: value` pairs (a table's rows as their cells, undo
    ids left to the undo command), plain text as it is; cut at a word with `...` when longer than `width`."""
    try:
        text = _plain(json.loads(detail))
    except ValueError:
        text = detail
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 3]
    word_end = cut.rfind(" ")
    if word_end > width // 2:
        cut = cut[:word_end]
    return cut.rstrip(" ,;:") + "..."


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        columns, rows = value.get("columns"), value.get("rows")
        if isinstance(columns, list) and isinstance(rows, list) and set(value) <= {"columns", "rows", "truncated"}:
            shown = [index for index, name in enumerate(columns) if not str(name).endswith("undo_id")]
            return ", ".join(
                " ".join(_plain(row[index]) for index in shown if index < len(row) and row[index] is not None)
                for row in rows if isinstance(row, list)
            )
        return "; ".join(f"{key}: {_plain(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _age(timestamp: float) -> str:
    seconds = max(0, int(time.time() - timestamp))
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


def _say_if_no_daemon() -> None:
    from llmos.daemon.client import daemon_status

    if daemon_status() is None:
        print("note: rules run only while the daemon runs: llmos daemon start", file=sys.stderr)
