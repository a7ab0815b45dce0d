"""Telling text from binary and naming a binary file's type, from its first bytes."""

from __future__ import annotations

import codecs
import mimetypes
from pathlib import Path

SNIFF_BYTES = 8192

_MAGIC_TYPES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x7fELF", "application/x-executable"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
    (b"GGUF", "application/x-gguf"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
)

_TEXT_CONTROLS = frozenset("\t\n\r\f\v\b\x1b")


def looks_binary(sample: bytes) -> bool:
    """A NUL byte, or more than 30% of characters that are neither valid UTF-8 nor ordinary whitespace."""
    if b"\x00" in sample:
        return True
    # Incremental so a multi-byte character cut at the end of the sample is not counted as garbage.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    if not text:
        return False
    unprintable = sum(1 for char in text if char == "\ufffd" or (ord(char) < 32 and char not in _TEXT_CONTROLS))
    return unprintable > 0.3 * len(text)


def guess_type(path: Path, head: bytes) -> str:
    """A MIME type from magic bytes, refined by the extension for zip containers (docx, xlsx, jar, epub)."""
    by_extension = mimetypes.guess_type(path.name)[0]
    by_magic = next((mime for magic, mime in _MAGIC_TYPES if head.startswith(magic)), None)
    if by_magic and not (by_magic == "application/zip" and by_extension):
        return by_magic
    return by_extension or "application/octet-stream"


def decode_text(data: bytes, final: bool) -> str:
    """UTF-8 with bad bytes replaced; when not `final`, a character cut at the end is dropped, not garbled."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=final)
