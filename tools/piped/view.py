"""The document as the model may see it: decoded, with stored secrets redacted, read by streaming scans.

Everything derived from piped data (the prompt's excerpt and every stdin tool result) comes through here, so a
stored secret never reaches the model, not even masked or cut in half: text is redacted as a stream before it is
split into lines, masked, counted or clipped. Counts of lines, bytes and words come from the raw bytes
(`PipedDocument.counts`); line numbers are those of the raw data (a stored secret spanning lines, once redacted,
shifts the numbers after it).
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from llmos.tools.piped.document import PipedDocument
from llmos.tools.render import cut_outside_markers

MAX_LINE_CHARS = 1 << 20
"""A line up to this long is scanned whole (a 1 MB JSON line is searched like any other); a longer one keeps only
its start and end, so one endless line cannot fill memory."""
LONG_LINE_HEAD_CHARS = 8192
LONG_LINE_TAIL_CHARS = 2048
MAX_DISTINCT_LINES = 100_000
"""Distinct (masked) lines counted exactly by `most_repeated`; beyond this, lines seen once are dropped and the
counts become lower bounds (said in the result)."""
_VARYING = re.compile(r"[0-9][0-9a-fA-F.:x-]*")
"""Numbers, hex, times, sector and process ids: what differs between lines that say the same thing."""
_TIMESTAMP = re.compile(
    r"\s*(?:<\d+>)?\s*("
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"  # ISO 8601
    r"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}"  # syslog: May  3 12:00:01
    r"|\[\s*\d+\.\d+\]"  # dmesg: seconds since boot
    r")"
)


class Redactor(Protocol):
    """The session's secret redaction (`llmos.secrets.SecretRedactor`): text -> text with secrets replaced."""

    def __call__(self, text: str) -> str: ...

    def longest(self) -> int: ...

    def stream(self) -> PieceRedactor:
        """Redaction of text arriving in pieces, holding back what may be the start of a secret."""
        ...


class PieceRedactor(Protocol):
    def feed(self, piece: str) -> str: ...

    def flush(self) -> str: ...


@dataclass(frozen=True)
class Line:
    number: int
    text: str


def mask_varying(text: str) -> str:
    """`text` with numbers, hex and ids as `#`: "sector 123" and "sector 456" read the same."""
    return _VARYING.sub("#", text)


def clip_line(text: str, max_chars: int) -> str:
    """`text`, or its start and end with the cut said, never cutting a redaction marker."""
    if len(text) <= max_chars:
        return text
    kept = max(2, max_chars - len(f" [... {len(text)} characters cut ...] "))
    head = cut_outside_markers(text, max(1, kept * 2 // 3))
    tail_chars = max(1, kept - head)
    tail_start = len(text) - tail_chars
    marker = text.rfind("[secret ", 0, tail_start)
    if marker != -1 and text.find("]", marker) >= tail_start:
        tail_start = text.find("]", marker) + 1
    return f"{text[:head]} [... {tail_start - head} characters cut ...] {text[tail_start:]}"


class _Unredacted:
    """The stream of a view without a redactor: pieces pass as they are."""

    def feed(self, piece: str) -> str:
        return piece

    def flush(self) -> str:
        return ""


class _PartialLine:
    """The unfinished last line of the text so far; one longer than `MAX_LINE_CHARS` keeps its start and end."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.head: str | None = None
        self.tail = ""
        self.cut = 0

    def add(self, piece: str) -> None:
        if self.head is None:
            self.parts.append(piece)
            self.kept += len(piece)
            if self.kept > MAX_LINE_CHARS:
                joined = "".join(self.parts)
                self.parts, self.kept = [], 0
                self.head, self.tail = joined[:LONG_LINE_HEAD_CHARS], joined[-LONG_LINE_TAIL_CHARS:]
                self.cut = len(joined) - LONG_LINE_HEAD_CHARS - LONG_LINE_TAIL_CHARS
            return
        joined = self.tail + piece
        self.cut += len(joined) - min(len(joined), LONG_LINE_TAIL_CHARS)
        self.tail = joined[-LONG_LINE_TAIL_CHARS:]

    def take(self) -> str:
        if self.head is None:
            text = "".join(self.parts)
        else:
            text = f"{self.head} [... {self.cut} characters of this line cut ...] {self.tail}"
        self._reset()
        return text

    @property
    def empty(self) -> bool:
        return self.head is None and not self.kept


class DocumentView:
    """Reads a `PipedDocument` as redacted text: whole-line blocks, head and tail, line ranges."""

    def __init__(self, document: PipedDocument, redactor: Redactor | None = None) -> None:
        self.document = document
        self.redactor = redactor

    def _pad_bytes(self) -> int:
        """Bytes to read before a start offset, so a secret crossing it is seen whole and redacted."""
        return 4 * self.redactor.longest() if self.redactor is not None else 0

    def text(self) -> str:
        """The whole document as one redacted string (for a small one: callers check `size_bytes` first)."""
        text = self.document.read_at(0, self.document.size_bytes).decode("utf-8", errors="replace")
        return self.redactor(text) if self.redactor is not None else text

    def blocks(self, line_number: int = 1) -> Iterator[tuple[int, str]]:
        """(number of its first line, text) for whole lines from line `line_number` to the end; each block is
        lines joined by "\\n" (no newline at its end)."""
        offset, skip_newlines = self._start_of(line_number)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        redacted: PieceRedactor = self.redactor.stream() if self.redactor is not None else _Unredacted()
        partial = _PartialLine()
        number = line_number

        def complete(text: str, final: bool) -> Iterator[tuple[int, str]]:
            nonlocal number, skip_newlines
            while skip_newlines and text:
                newline = text.find("\n")
                if newline == -1:
                    return
                text = text[newline + 1:]
                skip_newlines -= 1
            if skip_newlines:
                return
            cut = text.rfind("\n")
            if cut == -1:
                partial.add(text)
            else:
                block = partial.take() + text[:cut]
                yield number, block
                number += block.count("\n") + 1
                partial.add(text[cut + 1:])
            if final and not partial.empty:
                yield number, partial.take()

        for _offset, chunk in self.document.chunks(offset):
            yield from complete(redacted.feed(decoder.decode(chunk)), final=False)
        yield from complete(redacted.feed(decoder.decode(b"", final=True)) + redacted.flush(), final=True)

    def _start_of(self, line_number: int) -> tuple[int, int]:
        """Where to start reading for line `line_number`: (byte offset, newlines to skip there first)."""
        if line_number <= 1:
            return 0, 0
        offset = self._offset_of_line(line_number)
        start = max(0, offset - self._pad_bytes())
        if start == offset:
            return offset, 0
        return start, self.document.read_at(start, offset - start).count(b"\n")

    def _offset_of_line(self, line_number: int) -> int:
        """The byte offset where line `line_number` starts (the size when there are fewer lines)."""
        wanted = line_number - 1
        for offset, chunk in self.document.chunks():
            found = chunk.count(b"\n")
            if found < wanted:
                wanted -= found
                continue
            position = -1
            for _ in range(wanted):
                position = chunk.find(b"\n", position + 1)
            return offset + position + 1
        return self.document.size_bytes

    def lines(self, line_number: int = 1) -> Iterator[Line]:
        for first, block in self.blocks(line_number):
            for index, text in enumerate(block.split("\n")):
                yield Line(first + index, text)

    def head(self, count: int) -> list[Line]:
        taken: list[Line] = []
        for line in self.lines():
            if len(taken) >= count:
                break
            taken.append(line)
        return taken

    def tail(self, count: int) -> list[Line]:
        total = self.document.counts.lines
        return list(self.lines(max(1, total - count + 1)))[-count:] if count > 0 else []

    def range(self, start: int, count: int) -> list[Line]:
        taken: list[Line] = []
        for line in self.lines(start):
            if len(taken) >= count:
                break
            taken.append(line)
        return taken

    def timestamps(self) -> tuple[str | None, str | None]:
        """The timestamps the first and last lines start with (ISO, syslog or dmesg), where they do."""
        first = next((line.text for line in self.head(5) if line.text.strip()), "")
        last = next((line.text for line in reversed(self.tail(5)) if line.text.strip()), "")
        return _timestamp(first), _timestamp(last)


def _timestamp(line: str) -> str | None:
    found = _TIMESTAMP.match(line[:80])
    return found.group(1) if found else None


class RepeatCounter:
    """Counts lines, masked, in bounded memory: exact up to `MAX_DISTINCT_LINES` distinct ones."""

    def __init__(self, line_chars: int = 200) -> None:
        self.counts: Counter[str] = Counter()
        self.line_chars = line_chars
        self.exact = True

    def add_lines(self, lines: list[str]) -> None:
        """Count `lines`: exact texts first (in C), then each distinct one masked, so a repetitive log masks
        a handful of texts per block rather than every line."""
        for text, seen in Counter(lines).items():
            self.counts[mask_varying(text[: self.line_chars])] += seen
        self._bound()

    def _bound(self) -> None:
        if len(self.counts) > MAX_DISTINCT_LINES:
            self.counts = Counter({text: seen for text, seen in self.counts.items() if seen > 1})
            self.exact = False

    def most_common(self, limit: int) -> list[tuple[int, str]]:
        return [(seen, text) for text, seen in self.counts.most_common(limit)]

