"""Piped stdin as a read-only document: spooled in chunks to a private unlinked file, counted as it arrives.

Memory stays bounded whatever the input's size: stdin is copied a chunk at a time, and everything read later
(lines, searches, the prompt's excerpt) streams from the file. The file is private (0600, in a 0700 llmos folder)
and unlinked as soon as it is created, so it is gone when the last descriptor closes, whatever way the request
or the process ends. The daemon gets the same open file through its socket (`fileno`), never the data inline.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from llmos.paths import cache_dir

CHUNK_BYTES = 1 << 20
"""Bytes read or scanned at a time: large enough that counting is C-speed, small enough to keep memory flat."""
BINARY_SNIFF_BYTES = 8192
"""A NUL byte in the first bytes means binary data (grep's and git's test)."""
_WHITESPACE = b" \t\n\r\v\f"
_WORD_MAP = bytes.maketrans(bytes(range(256)), bytes(32 if byte in _WHITESPACE else 120 for byte in range(256)))
"""Whitespace bytes -> b" ", every other byte -> b"x": words are then the places where " x" occurs."""


class BinaryInputError(ValueError):
    """The piped data holds NUL bytes: it is binary, not text."""


@dataclass(frozen=True)
class DocumentCounts:
    """What `wc` would say of the document, counted on its raw bytes."""

    lines: int
    """Lines as a person counts them: a last line without a newline counts too."""
    bytes: int
    words: int


class _Counter:
    """Counts lines, words and bytes of data that arrives in chunks."""

    def __init__(self) -> None:
        self.newlines = 0
        self.words = 0
        self.size = 0
        self.last_byte = b"\n"
        """The byte before the next chunk; "nothing yet" counts as whitespace, so a first word is counted."""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.newlines += chunk.count(b"\n")
        mapped = (b" " if self.last_byte in _WHITESPACE else b"x") + chunk.translate(_WORD_MAP)
        self.words += mapped.count(b" x")
        self.size += len(chunk)
        self.last_byte = chunk[-1:]

    def counts(self) -> DocumentCounts:
        unterminated = self.size > 0 and self.last_byte != b"\n"
        return DocumentCounts(lines=self.newlines + int(unterminated), bytes=self.size, words=self.words)


def spool_folder() -> Path:
    """The private folder piped data is spooled into (`$XDG_CACHE_HOME/llmos/stdin`, mode 0700): on disk, not in
    a tmpfs, so a gigabyte of input does not sit in memory."""
    folder = cache_dir() / "stdin"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def _private_unlinked_file(folder: Path) -> int:
    """A descriptor of a new 0600 file in `folder` that has no name (gone when closed)."""
    flags = os.O_RDWR | os.O_CLOEXEC
    if hasattr(os, "O_TMPFILE"):
        with contextlib.suppress(OSError):
            return os.open(folder, flags | os.O_TMPFILE, 0o600)
    descriptor, name = tempfile.mkstemp(dir=folder, prefix="stdin-")
    os.unlink(name)
    return descriptor


class PipedDocument:
    """Piped data, read only through `read_at`; the owner closes it (a context manager)."""

    def __init__(self, file: BinaryIO, counts: DocumentCounts | None = None) -> None:
        self._file = file
        self._counts = counts
        self._lock = threading.Lock()

    # -- opening ----------------------------------------------------------------------------------------------

    @classmethod
    def spool(cls, stream: BinaryIO, folder: Path | None = None) -> PipedDocument:
        """Copy `stream` (read to its end) into a private unlinked file, counting it on the way. Raises
        `BinaryInputError` for binary data; nothing is left on disk either way."""
        descriptor = _private_unlinked_file(folder or spool_folder())
        file = os.fdopen(descriptor, "w+b", buffering=0)
        try:
            counter = _Counter()
            while True:
                chunk = stream.read(CHUNK_BYTES)
                if not chunk:
                    break
                if counter.size < BINARY_SNIFF_BYTES and b"\x00" in chunk[: BINARY_SNIFF_BYTES - counter.size]:
                    raise BinaryInputError("stdin is binary data, not text; pipe text (e.g. through `strings`)")
                counter.feed(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[file.write(view) or 0:]
        except BaseException:
            file.close()
            raise
        return cls(file, counter.counts())

    @classmethod
    def from_text(cls, text: str) -> PipedDocument:
        """A document held in memory (data that already was a string: a test, a front end's paste)."""
        return cls(io.BytesIO(text.encode("utf-8")))

    @classmethod
    def from_descriptor(cls, descriptor: int) -> PipedDocument:
        """The document whose open file another process passed over a socket; this one owns `descriptor` now.
        Only a regular file is accepted (never a pipe, device or socket that could block or change)."""
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError("the piped data passed to the daemon is not a regular file")
            if info.st_uid != os.getuid():
                raise ValueError("the piped data passed to the daemon belongs to another user")
        except BaseException:
            os.close(descriptor)
            raise
        return cls(os.fdopen(descriptor, "rb", buffering=0))

    # -- reading ----------------------------------------------------------------------------------------------

    @property
    def size_bytes(self) -> int:
        if self._counts is not None:
            return self._counts.bytes
        with self._lock:
            return self._file.seek(0, os.SEEK_END)

    @property
    def counts(self) -> DocumentCounts:
        """Lines, bytes and words; counted once (a passed file is counted here, in one streaming pass)."""
        if self._counts is None:
            counter = _Counter()
            for _offset, chunk in self.chunks():
                counter.feed(chunk)
            self._counts = counter.counts()
        return self._counts

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer at the end)."""
        with self._lock:
            self._file.seek(offset)
            return self._file.read(length) or b""

    def chunks(self, start: int = 0, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[int, bytes]]:
        """(offset, bytes) from `start` to the end, a chunk at a time."""
        offset = start
        while True:
            chunk = self.read_at(offset, chunk_bytes)
            if not chunk:
                return
            yield offset, chunk
            offset += len(chunk)

    def fileno(self) -> int | None:
        """The descriptor of the spooled file (to pass to the daemon), or None for data held in memory."""
        try:
            return self._file.fileno()
        except (OSError, io.UnsupportedOperation):
            return None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> PipedDocument:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

