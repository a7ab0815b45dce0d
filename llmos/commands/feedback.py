"""`llmos feedback list|export|forget|clear`: the plans kept by learning from approvals (`learn_from_approvals`).

`export` writes them as a JSONL fine-tuning set in the common chat shape, with llmos's own system text and calls
in exactly the form llmos decodes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from llmos.errors import LlmosError, UsageError
from llmos.learning import LearnedPlan, PlanMemory, training_example


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    feedback = commands.add_parser("feedback", help="plans kept from your approvals: list, export, forget, clear")
    actions = feedback.add_subparsers(dest="feedback_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="kept plans: id, date, request, tools")
    listing.add_argument("--json", action="store_true", help="output as JSON")
    export = actions.add_parser("export", help="write the kept plans as a JSONL fine-tuning set")
    export.add_argument("--output", "-o", metavar="PATH", help="file to write (default: stdout)")
    forget = actions.add_parser("forget", help="remove one kept plan")
    forget.add_argument("id", metavar="ID", help="a plan id, as `llmos feedback list` shows it")
    actions.add_parser("clear", help="remove every kept plan")
    feedback.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    memory = PlanMemory()
    try:
        if options.feedback_command == "list":
            return _list(memory, as_json=options.json)
        if options.feedback_command == "export":
            return _export(memory, options.output)
        if options.feedback_command == "forget":
            if not memory.forget(options.id.strip()):
                raise UsageError(f"no kept plan has the id {options.id!r} (llmos feedback list shows them)")
            print(f"forgot {options.id.strip()}")
            return 0
        removed = memory.clear()
        print(f"removed {removed} kept plan{'' if removed == 1 else 's'}")
        return 0
    except OSError as exc:
        from llmos.paths import folder_error

        raise folder_error(exc) or LlmosError(str(exc)) from None


def _list(memory: PlanMemory, *, as_json: bool) -> int:
    plans = memory.plans()
    if as_json:
        # ASCII-only JSON: controls, C1 and bidi characters stay \u escapes on the way to a terminal.
        print(json.dumps([plan.to_json() for plan in plans], indent=2))
        return 0
    learning_on = _learning_on()
    if not plans:
        if learning_on:
            print("no plans kept yet: one is kept when you approve a step and the request finishes ok")
        else:
            print(_how_to_turn_on())
        return 0
    _print_plans(plans)
    if not learning_on:
        print(f"learning is off, so no new plans are kept. {_how_to_turn_on()}", file=sys.stderr)
    return 0


def _print_plans(plans: list[LearnedPlan]) -> None:
    header = ("id", "date", "request", "tools")
    rows = []
    for plan in reversed(plans):  # newest first, as `llmos undo --list`
        request = " ".join(plan.request.split())
        request = request if len(request) <= 48 else request[:47] + "…"
        rows.append((plan.id, plan.time[:10], request, ", ".join(plan.tool_names)))
    widths = [max(len(title), *(len(row[column]) for row in rows)) for column, title in enumerate(header)]
    print("  ".join(title.ljust(width) for title, width in zip(header, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _export(memory: PlanMemory, output: str | None) -> int:
    from llmos.tools import load_builtin_tools

    registry = load_builtin_tools()
    lines = []
    for plan in memory.plans():
        # The tools the model was offered for this request, as the registry describes them now; a plan from
        # before that list was kept is taught with every tool.
        specs = [spec for spec in (registry.get(name) for name in plan.offered_tools) if spec is not None]
        tool_lines = [spec.signature_line() for spec in specs or registry.specs()]
        lines.append(json.dumps(training_example(plan, tool_lines), ensure_ascii=False) + "\n")
    if output is None:
        sys.stdout.writelines(lines)
        return 0
    path = Path(output).expanduser()
    try:
        # The set holds the person's own requests: readable by them only, as the file it comes from.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.writelines(lines)
    except OSError as exc:
        raise LlmosError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"wrote {len(lines)} example{'' if len(lines) == 1 else 's'} to {path}", file=sys.stderr)
    return 0


def _learning_on() -> bool:
    from llmos.config import load_config

    return load_config().learn_from_approvals


def _how_to_turn_on() -> str:
    from llmos.paths import config_file

    return (f"learning from approvals is off: put `learn_from_approvals = true` in {config_file()} "
            "to keep plans you approve (locally) and offer them as examples for similar requests")

