"""The prompt cache on disk kept to a size: prefix KV states, the least recently used removed first.

A state is one prefix's KV cache (about 30 MB for the 1.5B model with ~1,000 prefix tokens), written once per
prefix text, model, llama-cpp-python version and context settings. Each tool set has its own prefix, and an upgrade
or another model writes new states beside the old, which nothing read again: on the development machine the cache
had grown to 3.4 GB in 128 states. A state that is used (restored, or written) has its modification time set to
now, and after each write the oldest states beyond the budget are removed: a person's common tool sets stay
restored from disk, and what an upgrade left behind goes.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

PROMPT_CACHE_BYTES = 1 << 30
"""The states kept: about 30 of the 1.5B model's, more than the tool sets a person's requests use (the eval suite
uses 19)."""

STATE_SUFFIX = ".kv"
ABANDONED_WRITE_S = 3600.0
"""A temporary file this old is a write that never finished (the process died): removed with the old states."""


def mark_used(state: Path) -> None:
    """Record that `state` was just restored: it is the last to be removed."""
    # Another process may have removed it since; a cache that cannot be marked only costs speed later.
    with contextlib.suppress(OSError):
        os.utime(state)


def prune(folder: Path, budget_bytes: int = PROMPT_CACHE_BYTES, *, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used states in `folder` until the rest fit in `budget_bytes`, never `keep`
    (the state just written), and abandoned temporary files; return what was removed. Files another process
    removes meanwhile are skipped: several llmos processes may share the cache."""
    states: list[tuple[float, int, Path]] = []
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        try:
            status = entry.stat()
        except OSError:
            continue
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            if now - status.st_mtime > ABANDONED_WRITE_S and _remove(entry):
                removed.append(entry)
        elif entry.suffix == STATE_SUFFIX:
            states.append((status.st_mtime, status.st_size, entry))
    total = sum(size for _mtime, size, _path in states)
    for _mtime, size, path in sorted(states):
        if total <= budget_bytes:
            break
        if path == keep:
            continue
        if _remove(path):
            removed.append(path)
        total -= size
    return removed


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except OSError:  # removed by another process meanwhile, or not ours to remove
        return False
    return True
