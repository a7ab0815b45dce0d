"""The model cache: where model files live, hashing them, and `.verified` markers so a file is hashed once."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from llmos import paths
from llmos.display import raw_stream

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes just processed."""

HASH_CHUNK_BYTES = 4 * 1024 * 1024
MARKER_SUFFIX = ".verified"


def models_dir() -> Path:
    """`$XDG_CACHE_HOME/llmos/models`, read at call time so a changed environment is honoured."""
    return paths.models_cache_dir()


def cached_model_path(file_name: str, cache_dir: Path | None = None) -> Path:
    return (cache_dir or models_dir()) / file_name


def sha256_file(path: Path, progress: ProgressCallback | None = None) -> str:
    """Hex sha256 of a file, read in large chunks into one reused buffer (a 1 GB model takes a few seconds)."""
    digest = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK_BYTES)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as stream:
        while count := stream.readinto(buffer):
            digest.update(view[:count])
            if progress is not None:
                progress(count)
    return digest.hexdigest()


@dataclass(frozen=True)
class VerifiedMarker:
    """What was true of a file when its hash was last checked: if size and mtime still match, so does the hash."""

    sha256: str
    size: int
    mtime_ns: int


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def read_marker(path: Path) -> VerifiedMarker | None:
    """The marker beside `path`, or None when it is missing or unreadable (then the file is simply re-hashed)."""
    try:
        raw = json.loads(marker_path(path).read_text(encoding="utf-8"))
        return VerifiedMarker(sha256=str(raw["sha256"]), size=int(raw["size"]), mtime_ns=int(raw["mtime_ns"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_verified(path: Path, expected_sha256: str) -> bool:
    """True when a marker says this exact file (same size and mtime_ns) hashed to `expected_sha256`."""
    marker = read_marker(path)
    if marker is None or marker.sha256 != expected_sha256:
        return False
    try:
        stat = path.stat()
    except OSError:
        return False
    # Any rewrite (a copy over it, a truncation, `touch`) changes size or mtime_ns, which sends it back to hashing.
    return stat.st_size == marker.size and stat.st_mtime_ns == marker.mtime_ns


def mark_verified(path: Path, sha256: str) -> None:
    """Record that `path`, as it is now, hashes to `sha256`. Call only after hashing it.

    Written to a unique temp file and renamed, so a reader never sees half a marker and two writers cannot mix.
    """
    stat = path.stat()
    payload = json.dumps({"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    target = marker_path(path)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(payload)
        # mkstemp makes 0600; the marker is as public as the model file it describes.
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def try_mark_verified(path: Path, sha256: str) -> bool:
    """`mark_verified`, tolerating a folder we may not write (a person's own model dir): then we hash next time."""
    try:
        mark_verified(path, sha256)
    except OSError:
        return False
    return True


def clear_marker(path: Path) -> None:
    """Drop a marker that turned out wrong, so no later run trusts it."""
    with contextlib.suppress(FileNotFoundError):
        marker_path(path).unlink()


@contextlib.contextmanager
def byte_progress(description: str, total_bytes: int, enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr for a long byte-counting job, or None when there is no terminal to draw on.

    rich is imported only here, only when a bar is drawn: headless imports (daemon, pipe mode) stay light and
    stdout stays clean for results.
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        # Below any terminal writer: the bar draws with escape sequences of its own (its text is llmos's).
        console=Console(file=raw_stream(sys.stderr)),
        transient=True,
    ) as bar:
        task_id = bar.add_task(description, total=total_bytes)
        yield lambda count: bar.advance(task_id, count)
