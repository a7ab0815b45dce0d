"""Shared fixtures: a throwaway home folder with a small, realistic tree, and the built-in tool registry."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import settings
from llmos.tools import load_builtin_tools
from llmos.tools.registry import Registry
from treedata import BIG_LOG_LINES, BINARY_BYTES, DAY, JPEG_BYTES, PDF_BYTES

# Property tests draw the same examples on every run (a seed per test, no example database), so a test that
# passes here passes in CI; a counterexample hypothesis once found is pinned with @example. To search with new
# random examples on each run while working on the journal or the parser: HYPOTHESIS_PROFILE=explore.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(autouse=True)
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Front ends load the model in-process unless a test starts its own daemon: a daemon the person runs on
    this machine must never serve (or see) a test's requests."""
    monkeypatch.setenv("LLMOS_NO_DAEMON", "1")


@pytest.fixture
def builtin_tools() -> Registry:
    """The default registry with the built-in tools loaded."""
    return load_builtin_tools()


@pytest.fixture
def temp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp `$HOME` (also the working directory) holding:

    ~/Downloads: report.pdf, notes.txt, photo.JPG, setup.sh, .hidden_token, archive/old.txt (30 days old)
    ~/Documents: big.log (~1.2 MB of text), Projects/llmos/{README.md, main.py, .git/config}, Taxes/2023/return.pdf
    ~/program.bin: an ELF-like binary
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)

    def write(relative: str, content: str | bytes, age_days: float = 1.0) -> Path:
        target = home / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        stamp = time.time() - age_days * DAY
        os.utime(target, (stamp, stamp))
        return target

    write("Downloads/report.pdf", PDF_BYTES)
    write("Downloads/notes.txt", "hello world\nTODO: buy milk\n")
    write("Downloads/photo.JPG", JPEG_BYTES)
    write("Downloads/setup.sh", "#!/bin/sh\necho installing\n")
    write("Downloads/.hidden_token", "secret-token-value\n")
    write("Downloads/archive/old.txt", "an old note\n", age_days=30)
    write("Documents/big.log", "".join(f"line {number:05d} status ok\n" for number in range(BIG_LOG_LINES)))
    write("Documents/Projects/llmos/README.md", "# llmos\n\nA shell assistant.\n")
    write("Documents/Projects/llmos/main.py", "def main():\n    # TODO: parse arguments\n    return 0\n")
    write("Documents/Projects/llmos/.git/config", "[core]\n# TODO hidden from search\n")
    write("Documents/Taxes/2023/return.pdf", PDF_BYTES)
    write("program.bin", BINARY_BYTES)
    return home
