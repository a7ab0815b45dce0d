"""Fixtures for the TUI and overlay tests: an isolated home, data dirs and keyring, and no daemon."""

from __future__ import annotations

from pathlib import Path

import pytest
from trees import isolate_xdg, use_memory_keyring


@pytest.fixture
def tui_home(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temp HOME of tests/conftest.py, XDG dirs under tmp_path, an in-memory keyring, no daemon."""
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)
    monkeypatch.setenv("LLMOS_NO_DAEMON", "1")
    return temp_home

