"""`llmos-ask`: one-shot requests, piped data, and script mode, with human or `--json` output.

    llmos-ask "QUERY"              one request
    cmd | llmos-ask "QUERY"        stdin is data for the request (untrusted content)
    llmos-ask < requests.txt       no QUERY and stdin not a terminal: each non-empty line is a request
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from llmos.shell.render import approval_lines, replaced_answer_note, step_line
from llmos.tools.piped import BinaryInputError, PipedDocument

from llmos.assistant import Assistant
from llmos.display import escape_for_display, escaped_standard_streams
from llmos.errors import UsageError, exit_code_of
from llmos.events import AnswerToken, Error, RequestFinished, Step, StepFinished
from llmos.executor import Approver


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmos-ask",
        description="Ask llmos to answer or act, in one shot. With no QUERY and piped stdin, each line is a request.",
    )
    parser.add_argument("query", nargs="*", help="the request, in plain language")
    parser.add_argument("--json", action="store_true", help="print one JSON object per request")
    parser.add_argument("--yes", "-y", action="store_true", help="approve steps that policy asks about (never a deny)")
    parser.add_argument("--no-input", action="store_true", help="never prompt; steps needing approval are skipped")
    parser.add_argument("--dry-run", action="store_true", help="plan only: run nothing that changes the system")
    parser.add_argument("--policy", metavar="NAME|PATH", help="policy profile")
    parser.add_argument("--model", metavar="NAME|PATH", help="model registry name or GGUF path (overrides LLMOS_MODEL)")
    parser.add_argument("--max-steps", type=_positive_int, metavar="N", help="most tool calls per request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    # Everything printed (answers streamed or whole, step lines, errors, the approval question) passes through
    # one terminal writer: a file name or a model's answer holding an escape sequence shows as text.
    with escaped_standard_streams():
        # A reader that went away (`llmos-ask --json < requests.txt | head -1`) stops the run before more requests.
        return exit_code_of("llmos-ask", lambda: _run(options))


def _run(options: argparse.Namespace) -> int:
    query = " ".join(options.query).strip()
    stdin_is_terminal = sys.stdin is None or sys.stdin.isatty()
    if options.query and not query:
        raise UsageError("the query is empty; say what you want, e.g. llmos-ask \"how much disk space is free?\"")
    requests: list[tuple[str, PipedDocument | None]]
    if query:
        requests = [(query, None if stdin_is_terminal else _spool_stdin())]
    elif stdin_is_terminal:
        raise UsageError("no query given; usage: llmos-ask \"QUERY\" (or pipe requests in, one per line)")
    else:
        requests = [(line.strip(), None) for line in _read_stdin().splitlines() if line.strip()]
        if not requests:
            raise UsageError("stdin had no requests (script mode reads one request per non-empty line)")

    interactive = not options.no_input and stdin_is_terminal and sys.stdout.isatty()
    approver = _approver(options.yes, interactive)

    # The model layer loads only once the input is known to be good; the daemon serves when it runs.
    from llmos.connect import open_assistant

    assistant = open_assistant(
        model=options.model,
        policy=options.policy,
        max_steps=options.max_steps,
        dry_run=options.dry_run,
        progress=sys.stderr.isatty(),
    )
    try:
        exit_codes = [
            _run_one(assistant, request, stdin_data, approver, as_json=options.json)
            for request, stdin_data in requests
        ]
    finally:
        assistant.close()
        for _request, document in requests:
            if document is not None:
                document.close()
    # Script mode: the worst outcome decides, so a caller's `set -e` notices any failed line.
    return max(exit_codes)


def _run_one(
    assistant: Assistant, request: str, stdin_data: PipedDocument | None, approver: Approver | None, *, as_json: bool
) -> int:
    streamed_answer = False
    finished: RequestFinished | None = None
    for event in assistant.run(request, stdin_data, approver):
        if isinstance(event, AnswerToken) and not as_json:
            sys.stdout.write(event.text)
            sys.stdout.flush()
            streamed_answer = True
        elif isinstance(event, StepFinished) and not as_json:
            print(step_line(event.step), file=sys.stderr)
        elif isinstance(event, Error) and not as_json:
            print(f"llmos-ask: {event.message}", file=sys.stderr)
        elif isinstance(event, RequestFinished):
            finished = event
    assert finished is not None  # a session always ends with RequestFinished
    if as_json:
        # ASCII-only JSON: every control, C1 and bidi character is a \u escape, so the data passes the terminal
        # writer unchanged and a reader's terminal sees none of them raw.
        print(json.dumps(finished.to_json()), flush=True)
    elif streamed_answer:
        print(flush=True)
    elif finished.answer:
        print(finished.answer, flush=True)
    note = replaced_answer_note(finished) if not as_json else None
    if note:
        print(escape_for_display(note), file=sys.stderr)
    return finished.exit_code


def _approver(yes: bool, interactive: bool) -> Approver | None:
    if yes:
        return lambda step: True
    if not interactive:
        return None
    if _on_real_terminal():
        # prompt_toolkit only now: a headless run (pipes, --json in scripts) never loads the UI library.
        from llmos.shell.approval import TerminalApprover

        return TerminalApprover(sys.stderr)
    return _ask_by_line


def _on_real_terminal() -> bool:
    """stdin and stderr are terminal devices (prompt_toolkit draws on one and reads keys from the other); a
    stand-in stream that only says it is a terminal gets the line prompt."""
    try:
        return os.isatty(sys.stdin.fileno()) and os.isatty(sys.stderr.fileno())
    except (AttributeError, ValueError, OSError):
        return False


def _ask_by_line(step: Step, stream: TextIO | None = None) -> bool:
    """The approval prompt without prompt_toolkit: the same lines, answered with a line of input."""
    # Looked up per call, not bound as a default at import: a caller that redirects sys.stderr must see the prompt.
    stream = stream or sys.stderr
    stream.write("\n".join(approval_lines(step)) + "\nAllow? [y/N] ")
    stream.flush()
    try:
        reply = input()
    except EOFError:
        return False
    return reply.strip().lower() in ("y", "yes")


def _spool_stdin() -> PipedDocument | None:
    """Piped data for the query, spooled to a private file (any size, in bounded memory); None when empty."""
    stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else io.BytesIO(sys.stdin.read().encode())
    try:
        document = PipedDocument.spool(stream)
    except BinaryInputError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot read stdin: {exc.strerror or exc}") from None
    if document.size_bytes == 0:
        document.close()
        return None
    return document


def _read_stdin() -> str:
    try:
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    except OSError as exc:
        raise UsageError(f"cannot read stdin: {exc.strerror or exc}") from None
    # NUL bytes mean binary whatever the encoding (grep's and git's test): zero-filled data and UTF-16 text decode
    # as valid UTF-8 and would otherwise reach the model as noise.
    if b"\x00" in raw[:8192]:
        raise UsageError("stdin is binary data, not text; pipe text (e.g. through `strings`)")
    # Text in another encoding (Latin-1 logs) is still worth reading: undecodable bytes become U+FFFD.
    return raw.decode("utf-8", errors="replace")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
