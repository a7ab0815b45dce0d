"""`llmos suggest QUERY...`: one shell command line for the request, printed for the shell keybinding to put
on the person's command line. Nothing runs. A command policy would deny is printed commented out."""

from __future__ import annotations

import argparse
import json
import sys

from llmos.errors import UsageError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("suggest", help="print a shell command for a request (used by shell-init)")
    parser.add_argument("query", nargs="*", help="the request, in plain language")
    parser.add_argument("--model", metavar="NAME|PATH", help="model registry name or GGUF path")
    parser.add_argument("--policy", metavar="NAME|PATH", help="policy profile")
    parser.add_argument("--json", action="store_true", help="the command with policy's verdict, as JSON")
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    request = " ".join(options.query).strip()
    if not request:
        raise UsageError("no request given; usage: llmos suggest \"find pdfs bigger than 10 MB in my home\"")
    from llmos.connect import open_assistant

    assistant = open_assistant(model=options.model, policy=options.policy, progress=sys.stderr.isatty())
    try:
        suggestion = assistant.suggest_command(request)
    finally:
        assistant.close()
    if options.json:
        print(json.dumps({"request": request, "command": suggestion.command, "verdict": suggestion.verdict,
                          "rule": suggestion.rule, "reason": suggestion.reason}))
    else:
        print(suggestion.as_shell_line())
    if not suggestion.command:
        return 1
    return 3 if suggestion.verdict == "deny" else 0
