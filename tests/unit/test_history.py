"""Input history at rest: encrypted with a key from the OS keyring, shared across instances, 0600; in memory
only when no keyring works; unreadable lines skipped, never shown."""

from __future__ import annotations

import stat
from pathlib import Path

import keyring
import pytest
from cryptography.fernet import Fernet
from keyring.backends import fail
from llmos.shell.history import KEYRING_SERVICE, KEYRING_USER, MAX_HISTORY_ENTRIES, InputHistory
from trees import MemoryKeyring, use_memory_keyring

REQUEST = "move the invoices from ~/Downloads to ~/Documents/Tax 2026"


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    return use_memory_keyring(monkeypatch)


def test_history_is_encrypted_at_rest_and_read_back_by_the_next_instance(memory_keyring: MemoryKeyring,
                                                                        tmp_path: Path) -> None:
    """The file (0600) holds no request text; a second instance with the keyring's key reads the entries."""
    path = tmp_path / "history.jsonl"
    history = InputHistory(path)
    history.append(REQUEST)
    history.append("what is using the most memory?")
    raw = path.read_bytes()
    assert b"invoices" not in raw and b"Downloads" not in raw and b"memory" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert memory_keyring.store[(KEYRING_SERVICE, KEYRING_USER)]
    assert InputHistory(path).entries == [REQUEST, "what is using the most memory?"]


def test_without_a_keyring_history_stays_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's fail backend: entries are kept for the session, no file is written, and nothing is read."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(fail.Keyring())
    path = tmp_path / "history.jsonl"
    history = InputHistory(path)
    history.append(REQUEST)
    assert history.entries == [REQUEST] and not history.persistent
    assert not path.exists()


def test_lines_it_cannot_decrypt_are_skipped(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    """An old plain-text line, a torn line and another key's line are left out; the good ones remain."""
    path = tmp_path / "history.jsonl"
    InputHistory(path).append("first")
    with path.open("ab") as stream:
        stream.write(b'"plain old request"\n')
        stream.write(b"gAAAAAtorn\n")
    with path.open("ab") as stream:
        stream.write(InputHistory(tmp_path / "other.jsonl", cipher=Fernet(Fernet.generate_key()))._line("foreign"))
    history = InputHistory(path)
    history.append("second")
    assert InputHistory(path).entries == ["first", "second"]


def test_history_is_cut_to_the_newest_entries(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    """Past MAX_HISTORY_ENTRIES the file is rewritten with the newest ones, still encrypted."""
    path = tmp_path / "history.jsonl"
    history = InputHistory(path)
    for index in range(MAX_HISTORY_ENTRIES + 5):
        history.append(f"request {index}")
    reread = InputHistory(path).entries
    assert len(reread) == MAX_HISTORY_ENTRIES and reread[-1] == f"request {MAX_HISTORY_ENTRIES + 4}"
    assert b"request" not in path.read_bytes()
