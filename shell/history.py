"""Input history shared by the TUI, the overlay and the REPL: the requests a person typed, newest last,
persisted across sessions in the data dir (mode 0600; only the person's own requests, never tool output).

At rest each line is encrypted (Fernet: AES-CBC with an HMAC) with a key kept in the OS keyring. Where no keyring
backend works, the history lives in memory only, for the session: requests name files, people and hosts, and a
key beside the file it protects would protect nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from llmos.paths import data_dir

MAX_HISTORY_ENTRIES = 1000
KEYRING_SERVICE = "llmos"
KEYRING_USER = "history-key"


def history_cipher() -> Fernet | None:
    """The history's cipher, its key from the OS keyring (created there on first use); None without a usable
    keyring or when the key cannot be read or stored."""
    from llmos.policies.audit import keyring_key

    key = keyring_key(KEYRING_SERVICE, KEYRING_USER, lambda: Fernet.generate_key().decode("ascii"))
    try:
        return Fernet(key.encode("ascii")) if key is not None else None
    except ValueError:  # a malformed key stored by hand: keep the history in memory rather than fail
        return None


def history_file() -> Path:
    return data_dir() / "history.jsonl"


class InputHistory:
    """Requests in the order typed. A line that fails to parse is skipped (a torn write loses one entry, not
    the file); consecutive duplicates are stored once; the file is cut to the newest MAX_HISTORY_ENTRIES."""

    def __init__(self, path: Path | None = None, cipher: Fernet | None | bool = True) -> None:
        """`cipher`: True finds the keyring's key (the default); None keeps the history in memory only."""
        self.path = path or history_file()
        self.cipher: Fernet | None = history_cipher() if cipher is True else cipher or None
        self.entries: list[str] = self._load()

    @property
    def persistent(self) -> bool:
        return self.cipher is not None

    def _load(self) -> list[str]:
        if self.cipher is None:
            return []
        try:
            lines = self.path.read_bytes().splitlines()
        except OSError:
            return []
        entries: list[str] = []
        for line in lines:
            try:
                value = json.loads(self.cipher.decrypt(line.strip()))
            except (InvalidToken, ValueError):
                continue  # a torn write, another key's line, or an old plain-text line: skipped, never shown
            if isinstance(value, str) and value.strip():
                entries.append(value)
        return entries[-MAX_HISTORY_ENTRIES:]

    def _line(self, entry: str) -> bytes:
        assert self.cipher is not None
        return self.cipher.encrypt(json.dumps(entry, ensure_ascii=False).encode("utf-8")) + b"\n"

    def append(self, request: str) -> None:
        request = request.strip()
        if not request or (self.entries and self.entries[-1] == request):
            return
        self.entries.append(request)
        if self.cipher is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if len(self.entries) > MAX_HISTORY_ENTRIES:
                self.entries = self.entries[-MAX_HISTORY_ENTRIES:]
                self._rewrite()
            else:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(descriptor, "ab") as stream:
                    stream.write(self._line(request))
        except OSError:
            pass  # history is a convenience: a read-only data dir must not break a request

    def _rewrite(self) -> None:
        temp_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.writelines(self._line(entry) for entry in self.entries)
        os.replace(temp_path, self.path)
