"""`llmos undo [ID] [--list] [--json]`: reverse the last request's journaled actions, or the request or action
ID names; --list shows the journal. A file changed since its action is never overwritten: the undo is refused. A
manifest that fails its MAC is never acted on, and undo never changes a protected, persistence or secret path,
whatever a manifest says (the policy's path guard judges every path an undo would change)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llmos.display import escape_for_display
from llmos.errors import LlmosError, UsageError
from llmos.policies.audit import AuditEntry
from llmos.policies.journal import Journal, JournalEntry, NothingToUndo, UndoReport, UnknownUndoTarget


def journal_root() -> Path:
    from llmos.paths import data_dir

    return data_dir() / "journal"


def open_journal(*, repair: bool = True) -> Journal:
    """The person's journal, its manifests authenticated with their journal key."""
    return Journal.authenticated(journal_root(), repair=repair)


def undo_guard() -> Callable[[str, str], str | None]:
    """The path guard of the person's policy, as undo asks it: why a path must not be changed, or None. Where a
    file goes is the undo's business, not the writable roots' (they may have changed since), so only protected,
    persistence, secret, system and llmos's own paths are refused."""
    from llmos.config import load_config
    from llmos.runtime import load_policy

    guard = load_policy(None, load_config()).guard

    def check(path: str, action: str) -> str | None:
        decision = guard.check(path, action, cwd="/")
        if decision is None or decision.rule == "outside-writable-roots":
            return None
        return decision.reason

    return check


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("undo", help="reverse the last (or the given) journaled request or action")
    parser.add_argument("id", nargs="?", metavar="ID", help="an action id or a request id (default: the last request)")
    parser.add_argument("--list", action="store_true", help="show journaled actions, newest first")
    parser.add_argument("--json", action="store_true", help="output as JSON")
    parser.add_argument("--trust-unsigned", action="store_true",
                        help="also undo actions whose manifest has no MAC (written outside llmos or before MACs)")
    parser.add_argument("-n", type=int, default=30, metavar="N", help="with --list: the newest N (default 30; 0: all)")
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    if options.list:
        if options.id:
            raise UsageError("--list takes no ID")
        if options.n < 0:
            raise UsageError("-n must be 0 or more")
        entries = open_journal().entries()
        entries = entries[: options.n] if options.n else entries
        if options.json:
            print(json.dumps([entry.as_dict() for entry in entries], indent=2))
        elif not entries:
            print("the journal is empty: nothing to undo")
        else:
            print_entries(entries)
        return 0
    if options.id is not None and not options.id.strip():
        raise UsageError("the ID is empty")
    outcome = undo(options.id, trust_unsigned=getattr(options, "trust_unsigned", False))
    if outcome.audit_warning:
        print(f"llmos: warning: {outcome.audit_warning}", file=sys.stderr)
    report = outcome.report
    if options.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for line in outcome.undone_lines():
            print(line)
        for line in outcome.refused_lines():
            print(f"llmos: {line}", file=sys.stderr)
    return 0 if report.ok else 1


@dataclass(frozen=True)
class UndoOutcome:
    """What an undo did, for any front end to show: `llmos undo`, the TUI's Ctrl+Z and /undo."""

    report: UndoReport
    audit_warning: str | None = None
    """Set when the undo happened but its audit record could not be written."""

    def undone_lines(self) -> list[str]:
        return [f"undone: {describe(entry)}" for entry in self.report.undone]

    def refused_lines(self) -> list[str]:
        return [escape_for_display(line) for line in self.report.refused]


def undo(target: str | None = None, *, trust_unsigned: bool = False) -> UndoOutcome:
    """Reverse the last request's journaled actions (or the request or action `target` names) and audit the undo.
    Raises UsageError for an unknown target and LlmosError when there is nothing to undo."""
    guard = undo_guard()
    journal = open_journal()
    try:
        report = journal.undo(target, guard=guard, trust_unsigned=trust_unsigned)
    except UnknownUndoTarget as exc:
        raise UsageError(str(exc)) from None
    except NothingToUndo as exc:
        raise LlmosError(str(exc)) from None
    return UndoOutcome(report, _audit(target, report))


def describe(entry: JournalEntry) -> str:
    shown = [entry.paths[-1]] if entry.op == "mkdir" else list(entry.paths[:2])
    return f"{entry.op} {' -> '.join(escape_for_display(_short_home(path)) for path in shown)} ({entry.id})"


def _short_home(path: str) -> str:
    home = os.path.realpath(os.path.expanduser("~"))
    return "~" + path[len(home):] if home != "/" and (path == home or path.startswith(home + "/")) else path


def print_entries(entries: list[JournalEntry]) -> None:
    header = ("id", "time", "status", "request", "op and paths")
    rows = []
    for entry in entries:
        time = entry.time[:19].replace("T", " ")
        status = entry.status + (" *" if entry.undoable else "") + ("" if entry.verified else " (unverified)")
        request = escape_for_display(" ".join(entry.request.split()))
        request = request if len(request) <= 32 else request[:31] + "…"
        rows.append((entry.id, time, status, f"{request} [{entry.request_id}]", describe(entry).rsplit(" (", 1)[0]))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print("* can be undone: llmos undo ID (an action or request id); llmos undo alone undoes the last request")


def _audit(target: str | None, report: UndoReport) -> str | None:
    """Record the undo in the audit log like a step: what was asked, what was reversed, what was refused.
    Returns a warning when the record could not be written."""
    from llmos.commands.log import open_audit_log

    try:
        open_audit_log().append(AuditEntry(
            request_id=report.request_id, request=f"llmos undo {target or ''}".strip(), tool="undo",
            args={"target": target}, decision="allow", rule="user-command", approved=True,
            status="ok" if report.ok else "error", undo_id=None,
            undone=[entry.id for entry in report.undone], refused=report.refused,
        ))
    except OSError as exc:
        return f"could not write the audit log: {exc}"
    return None
