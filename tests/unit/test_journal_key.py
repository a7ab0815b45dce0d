"""The journal's file key (used where no keyring works) is created once and read whole by every process: one
that starts while another is creating it gets the same key, never a "damaged" empty file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from llmos.policies.journal import seal


def test_a_reader_in_the_middle_of_creation_gets_the_finished_key(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process asks for the key at the worst moment (the creator has made its file but not yet
    written the key): both end with one and the same 32-byte key, and only one of them says it created it."""
    path = tmp_path / seal.KEY_FILE
    real_write = os.write
    other: list[tuple[bytes, bool]] = []

    def another_process_reads_then_write(fd: int, data: bytes) -> int:
        if not other:
            other.append((b"", False))  # re-entry guard: the inner creation writes too
            other[0] = seal._file_key(path)
        return real_write(fd, data)

    monkeypatch.setattr(seal.os, "write", another_process_reads_then_write)
    key, created = seal._file_key(path)
    other_key, other_created = other[0]

    assert key == other_key == path.read_bytes()
    assert len(key) == 32
    assert [created, other_created].count(True) == 1
    assert sorted(os.listdir(tmp_path)) == [seal.KEY_FILE]  # no temp file is left behind
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_short_key_file_is_reported_damaged(tmp_path: Path) -> None:
    """A key file cut short is refused in one line, never used as a weak key."""
    (tmp_path / seal.KEY_FILE).write_bytes(b"short")
    with pytest.raises(OSError, match="is damaged"):
        seal._file_key(tmp_path / seal.KEY_FILE)


def test_the_key_is_created_once_and_then_read(tmp_path: Path) -> None:
    first = seal._file_key(tmp_path / seal.KEY_FILE)
    again = seal._file_key(tmp_path / seal.KEY_FILE)
    assert first[1] is True and again == (first[0], False)
