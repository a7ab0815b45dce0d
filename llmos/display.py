"""Escaping text before a person reads it, so that what is shown is what runs, and what reaches a terminal is
text, never a command to the terminal.

Part of the bottom layer: previews (policies), reports (core) and front ends (shell) all escape with these
functions; it imports nothing of llmos.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import TextIO, cast

# Control characters, C1 controls, zero-width and bidirectional marks: anything that could make a preview show
# something other than what runs (a reversed extension, a hidden newline, a terminal escape).
_HIDDEN_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# The same, less the two controls that only lay text out (a new line, a tab stop) and cannot rewrite what a
# terminal already shows. Carriage return and backspace can, so they stay escaped.
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char, f"\\u{ord(char):04x}" if ord(char) > 0xFF else f"\\x{ord(char):02x}")


def escape_for_display(text: str) -> str:
    """`text` with every control, zero-width and bidi character shown as a visible escape (`\\u202e`, `\\n`)."""
    return _HIDDEN_OR_CONTROL.sub(_visible, text)


def escape_for_terminal(text: str) -> str:
    """`text` fit for a terminal: line breaks and tabs kept, every other control, zero-width or bidi character
    (ESC and so CSI/OSC sequences, CR, backspace, C1 controls, bidi overrides) shown as a visible escape. Works
    character by character, so text cut anywhere (streamed tokens) escapes the same as whole."""
    return _TERMINAL_UNSAFE.sub(_visible, text)


class TerminalWriter:
    """A text stream that escapes everything written to it with `escape_for_terminal` before it reaches the
    stream it wraps: the one place a front end's or a command's human output passes through. JSON output
    (`json.dumps` with its default `ensure_ascii`) is printable ASCII and passes unchanged. Code that draws on
    the terminal on purpose (a progress bar, a prompt) writes to `raw_stream(...)` instead."""

    def __init__(self, stream: TextIO) -> None:
        self.raw = raw_stream(stream)

    def write(self, text: str) -> int:
        self.raw.write(escape_for_terminal(text))
        return len(text)

    def writelines(self, lines: Iterator[str] | list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return getattr(self.raw, "encoding", None) or "utf-8"

    @property
    def closed(self) -> bool:
        return bool(getattr(self.raw, "closed", False))

    def as_text_stream(self) -> TextIO:
        """This writer where a `TextIO` is expected (`sys.stdout`, `redirect_stdout`)."""
        return cast(TextIO, self)


def raw_stream(stream: TextIO) -> TextIO:
    """The stream under a `TerminalWriter` (or `stream` itself): for output that draws on the terminal on
    purpose and holds no text from outside llmos."""
    while isinstance(stream, TerminalWriter):
        stream = stream.raw
    return stream


@contextlib.contextmanager
def escaped_standard_streams() -> Iterator[None]:
    """While inside, everything written to `sys.stdout` and `sys.stderr` goes through a `TerminalWriter`."""
    saved = sys.stdout, sys.stderr
    sys.stdout = TerminalWriter(sys.stdout).as_text_stream()
    sys.stderr = TerminalWriter(sys.stderr).as_text_stream()
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
