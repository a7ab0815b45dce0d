"""`llmos`: the management commands. Requests go through `llmos-ask`; each command group lives in
`llmos.commands.<group>` and registers its own parser and handler."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from llmos import __version__
from llmos.commands import doctor, log, models, policy, undo
from llmos.errors import LlmosError

COMMAND_MODULES = (models, policy, undo, log, doctor)
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmos",
        description="llmos: a local-first natural-language shell assistant. Ask with: llmos-ask \"QUERY\".",
    )
    parser.add_argument("--version", action="version", version=f"llmos {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    try:
        if options.command is None:
            parser.print_help()
            exit_code = 0
        else:
            exit_code = options.handler(options)
        # Output to a pipe is buffered, so a reader that went away shows only at a flush: make it here, where it
        # is handled, not in the interpreter's exit.
        sys.stdout.flush()
        return exit_code
    except LlmosError as exc:
        print(f"llmos: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("llmos: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`llmos models list --json | head`): stop quietly, as `cat` would.
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def _discard_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's flush at exit does not raise BrokenPipeError again."""
    try:
        stdout_fd = sys.stdout.fileno()
    except (OSError, ValueError):  # stdout replaced in-process: no descriptor for the exit flush to fail on
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stdout_fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
