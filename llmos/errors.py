"""Errors that front ends turn into one clear line and an exit code, never a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


class LlmosError(Exception):
    """An error whose message is fit to show a person as it is."""

    exit_code = 1


class UsageError(LlmosError):
    """Bad input or configuration: exit 2."""

    exit_code = 2


class ModelError(UsageError):
    """The model cannot be found, assembled, verified or loaded."""


class ModelLoadError(ModelError):
    """A model that was found could not be loaded when first needed (the backend loads lazily): a setup error
    that ends the whole run, not one request's failure."""


EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away


def exit_code_of(program: str, action: Callable[[], int]) -> int:
    """Run a command-line action and turn its failures into one line on stderr and an exit code: an
    LlmosError its own code, an unusable llmos folder 2, Ctrl+C 130, a reader that went away (`... | head`) a
    quiet 141. Never a traceback."""
    try:
        exit_code = action()
        # Output to a pipe is buffered, so a reader that went away shows only at a flush: make it here, where it
        # is handled, not in the interpreter's exit.
        sys.stdout.flush()
        return exit_code
    except LlmosError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        # A folder of llmos's own that cannot be used (a file in the way, not writable, a full disk) is a
        # configuration error wherever it strikes; any other OSError is a bug and keeps its traceback.
        from llmos.paths import folder_error

        problem = folder_error(exc)
        if problem is None:
            raise
        print(f"{program}: {problem}", file=sys.stderr)
        return problem.exit_code


def _discard_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's flush at exit does not raise BrokenPipeError again."""
    try:
        stdout_fd = sys.stdout.fileno()
    except (OSError, ValueError):  # stdout replaced in-process: no descriptor for the exit flush to fail on
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stdout_fd)
    os.close(devnull)
