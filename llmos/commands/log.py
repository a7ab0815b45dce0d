"""`llmos log [--verify] [--json] [-n N]`: the audit log, readably; --verify checks the hash chain and the head."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from llmos.display import escape_for_display
from llmos.errors import UsageError
from llmos.policies.audit import AuditLog, AuditRecord, keyring_audit_log


def audit_path() -> Path:
    from llmos.paths import data_dir

    return data_dir() / "audit.jsonl"


def open_audit_log(*, create_key: bool = True) -> AuditLog:
    """The user's audit log, its head signed with the keyring key and its high-water mark kept in the keyring
    where a keyring works. Reading and verifying never create a key (`create_key=False`): a key made now would
    make the existing head look forged."""
    return keyring_audit_log(audit_path(), create_key=create_key)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("log", help="show the audit log; --verify checks its hash chain")
    parser.add_argument("--verify", action="store_true",
                        help="check the chain and the head; exit 0 if intact, 1 if broken")
    parser.add_argument("--json", action="store_true", help="records (or the verification) as JSON")
    parser.add_argument("-n", type=int, default=20, metavar="N", help="show the last N records (default 20; 0: all)")
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    if options.n < 0:
        raise UsageError("-n must be 0 or more")
    log = open_audit_log(create_key=False)
    if options.verify:
        result = log.verify()
        if options.json:
            print(json.dumps(result.as_dict(), indent=2))
        else:
            if result.ok:
                signed = ", head signed" if result.signed else ""
                print(f"ok: {result.records} record(s), hash chain intact{signed} ({log.path})")
            else:
                print(f"BROKEN: {len(result.problems)} problem(s) in {log.path} ({result.records} record(s) read)")
                for problem in result.problems:
                    print(escape_for_display(problem))
            for note in result.notes:
                print(f"note: {escape_for_display(note)}")
        return 0 if result.ok else 1
    records, corrupt = log.read(last=options.n or None)
    if options.json:
        print(json.dumps([record.as_json() for record in records], indent=2))
    elif not records and not corrupt:
        print(f"the audit log is empty ({log.path})")
    elif records:
        print_table(records)
    for problem in corrupt:
        print(f"llmos: {log.path}: {escape_for_display(problem)}", file=sys.stderr)
    return 1 if corrupt else 0


COLUMNS = ("time", "request", "tool", "decision (rule)", "status", "undo id")


def row(record: AuditRecord) -> list[str]:
    time = record.time[:19].replace("T", " ")
    decision = record.decision or "-"
    if record.rule:
        decision += f" ({record.rule})"
    status = record.status or "-"
    if record.approved is False and status not in ("denied", "skipped"):
        status += ", not approved"
    return [time, _short(record.request or "", 40), record.tool or "-", decision, status, record.undo_id or "-"]


def print_table(records: list[AuditRecord]) -> None:
    for line in table_lines(records):
        print(line)


def table_lines(records: list[AuditRecord]) -> list[str]:
    """The records as aligned text lines under a header, as `llmos log` prints them."""
    rows = [[escape_for_display(cell) for cell in row(record)] for record in records]
    widths = [max(len(header), *(len(r[index]) for r in rows)) for index, header in enumerate(COLUMNS)]
    lines = ["  ".join(header.ljust(width) for header, width in zip(COLUMNS, widths, strict=True)).rstrip()]
    for cells in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())
    return lines


def recent_log_lines(count: int = 20) -> list[str]:
    """The newest `count` audit records as `llmos log -n COUNT` shows them (for the TUI's /log)."""
    log = open_audit_log(create_key=False)
    records = log.records(last=count or None)
    if not records:
        return [f"the audit log is empty ({log.path})"]
    return table_lines(records)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
