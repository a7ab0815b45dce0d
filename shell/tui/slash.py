"""The TUI's slash commands (/undo, /log, /policy, /model, /automations, /approve, /help, /clear): what each shows.

/undo, /log and /policy call the same functions as `llmos undo`, `llmos log` and `llmos policy show`, so the
TUI's undo is journaled and audited exactly like the command's. They touch files and the keyring, so the app
runs them in a thread worker; these functions return text and never touch widgets.
"""

from __future__ import annotations

from llmos.shell.tui.messages import CommandOutput

from llmos.assistant import Assistant
from llmos.errors import LlmosError

LOG_RECORD_COUNT = 10

HELP_LINES = [
    "Type a request and press Enter; the answer streams into this pane and the plan shows each step.",
    "",
    "keys",
    "  Enter          send the request",
    "  Up / Down      earlier requests (history is kept between sessions)",
    "  y / n / a      approve / deny / approve every step of this request (or click the buttons)",
    "  Ctrl+C         cancel the running request (a pending approval is denied)",
    "  Ctrl+Z         undo the last request's changes (like `llmos undo`)",
    "  F1             this help",
    "  q / Ctrl+Q     quit (q on an empty request line; while you type, q is a letter)",
    "",
    "commands",
    "  /undo          undo the last request's changes",
    "  /log           the newest audit log records",
    "  /policy        the policy profile in use",
    "  /model         the model and where it runs",
    "  /automations   your automation rules and the calls waiting for approval",
    "  /approve ID    run a waiting automation call",
    "  /clear         clear the conversation",
    "  /help          this help",
]

SLASH_COMMANDS = ("/undo", "/log", "/policy", "/model", "/automations", "/approve", "/help", "/clear")


def undo_output() -> CommandOutput:
    from llmos.commands.undo import undo

    try:
        outcome = undo()
    except LlmosError as exc:
        return CommandOutput("undo", [str(exc)], failed=True)
    except OSError as exc:
        return CommandOutput("undo", [f"the journal could not be read: {exc}"], failed=True)
    lines = outcome.undone_lines() + [f"refused: {line}" for line in outcome.refused_lines()]
    if outcome.audit_warning:
        lines.append(f"warning: {outcome.audit_warning}")
    undone_ids = frozenset(entry.id for entry in outcome.report.undone) | frozenset(
        entry.request_id for entry in outcome.report.undone)
    return CommandOutput("undo", lines or ["nothing needed undoing"], failed=not outcome.report.ok,
                         undone_ids=undone_ids)


def log_output(count: int = LOG_RECORD_COUNT) -> CommandOutput:
    from llmos.commands.log import recent_log_lines

    try:
        lines = recent_log_lines(count)
    except (LlmosError, OSError, ValueError) as exc:
        return CommandOutput("log", [f"the audit log could not be read: {exc}"], failed=True)
    return CommandOutput(f"log (newest {count}; `llmos log --verify` checks the chain)", lines)


def policy_output(policy: str | None) -> CommandOutput:
    from llmos.commands.policy import effective_profile, profile_summary_lines

    try:
        profile = effective_profile(policy)
    except LlmosError as exc:
        return CommandOutput("policy", [str(exc)], failed=True)
    return CommandOutput("policy", profile_summary_lines(profile))


def model_output(assistant: Assistant | None) -> CommandOutput:
    if assistant is None:
        return CommandOutput("model", ["no model is loaded yet"])
    return CommandOutput("model", [f"{assistant.model_name} ({assistant.where})"])


def automations_output() -> CommandOutput:
    from llmos.automations.store import AutomationStore
    from llmos.commands.automations import pending_lines

    store = AutomationStore()
    try:
        rules, pending = store.rules(), store.pending()
    except LlmosError as exc:
        return CommandOutput("automations", [str(exc)], failed=True)
    lines = [f"{rule.id}  {'paused' if rule.paused_reason else 'enabled' if rule.enabled else 'disabled'}  "
             f"{rule.describe()}" for rule in rules] or ["no automations (llmos automations add \"...\")"]
    if pending:
        lines += ["", "waiting for approval (/approve ID runs one):", *pending_lines(pending)]
    else:
        lines.append("nothing waits for approval")
    return CommandOutput("automations", lines)


def approve_output(pending_id: str) -> CommandOutput:
    """Run one waiting automation call, as `llmos automations approve ID` does (journaled and audited)."""
    from llmos.automations.store import AutomationStore
    from llmos.commands.automations import run_line, run_pending

    if not pending_id:
        return CommandOutput("approve", ["/approve needs the ID that /automations shows"], failed=True)
    try:
        step, record = run_pending(AutomationStore(), pending_id)
    except LlmosError as exc:
        return CommandOutput("approve", [str(exc)], failed=True)
    return CommandOutput("approve", [*step.preview, run_line(record)], failed=step.status != "ok")


def help_output() -> CommandOutput:
    return CommandOutput("help", list(HELP_LINES))
