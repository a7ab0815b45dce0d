"""`llmos`: with no command, the interactive TUI; otherwise a management command. Each command group lives in
`llmos.commands.<group>` and registers its own parser and handler."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from llmos import __version__
from llmos.commands import (
    automations,
    daemon,
    doctor,
    eval_suite,
    feedback,
    interactive,
    log,
    models,
    policy,
    secrets_command,
    suggest,
    undo,
)
from llmos.display import escaped_standard_streams
from llmos.errors import exit_code_of

COMMAND_MODULES = (
    interactive, models, policy, undo, log, daemon, automations, suggest, doctor, feedback, secrets_command,
    eval_suite,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmos",
        description="llmos: a local-first natural-language shell assistant. With no command: the interactive TUI. "
        "One-shot requests: llmos-ask \"QUERY\".",
    )
    parser.add_argument("--version", action="version", version=f"llmos {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)

    if options.command is None:

        def run_without_command() -> int:
            if not _on_terminal():
                # A full-screen app cannot run in a pipe or script: say what there is instead.
                parser.print_help()
                return 0
            return interactive.run_tui(argparse.Namespace(model=None, policy=None))

        return exit_code_of("llmos", run_without_command)
    if getattr(options, "draws_on_terminal", False):
        # The TUI, overlay and REPL draw with escape sequences of their own and escape what they show.
        return exit_code_of("llmos", lambda: options.handler(options))
    # Every other command prints text that may hold names from outside (files, processes, audit records, rules):
    # all of it passes one terminal writer, so an escape sequence in a name shows as text.
    with escaped_standard_streams():
        return exit_code_of("llmos", lambda: options.handler(options))


def _on_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()


if __name__ == "__main__":
    sys.exit(main())
