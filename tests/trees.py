"""Test helpers shared by the journal, undo and audit tests: a tree's exact state, and an in-memory keyring."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import pytest


def snapshot(root: Path, *, include_root: bool = False) -> dict[str, tuple]:
    """Every path below `root`: kind, permission bits, and bytes (regular files) or link target; with
    `include_root`, the root folder's own mode too."""
    found: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            relative = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[relative] = ("dir", stat.S_IMODE(info.st_mode))
            elif stat.S_ISREG(info.st_mode):
                found[relative] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
            else:
                found[relative] = ("other", stat.S_IMODE(info.st_mode))
    if include_root:
        found["."] = ("dir", stat.S_IMODE(root.stat().st_mode))
    return found


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict, for tests."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def use_memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """Install a fresh in-memory keyring for this test; the real backend is restored afterwards."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def isolate_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XDG cache, config and data folders under `tmp_path`, so nothing real is read or written."""
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
