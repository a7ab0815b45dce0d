"""Walking folder trees for the file tools: name order, hidden names left out, symlinked folders never entered,
unreadable folders counted rather than fatal, and a cap so a walk over `/` ends and says so."""

from __future__ import annotations

import fnmatch
import heapq
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

WALK_MAX_ENTRIES = 200_000
DISK_USAGE_MAX_ENTRIES = 1_000_000
LARGEST_KEPT = 8
"""Largest files a disk-usage walk keeps (more than it shows: secret ones are left out afterwards)."""
# Kernel views hold hundreds of thousands of entries and no user files: a walk from `/` passes them by
# (a walk that starts inside one still works).
_KERNEL_VIEWS = frozenset({"/proc", "/sys", "/dev"})


@dataclass
class WalkTally:
    """What a walk could not see: unreadable folders (and files), and whether it stopped at the entry cap."""

    skipped: int = 0
    incomplete: bool = False
    secret: int = 0
    """Secret files left unread and secret folders left unentered (`llmos.tools.secret_files`)."""


@dataclass
class UsageTally:
    """Counts for a disk-usage walk; hard-linked files count once, as `du` does."""

    device: int
    files: int = 0
    folders: int = 0
    errors: int = 0
    entries: int = 0
    incomplete: bool = False
    seen_inodes: set[tuple[int, int]] = field(default_factory=set)
    largest: list[tuple[int, str]] = field(default_factory=list)
    """A min-heap of the largest files seen anywhere below the root: (size, path)."""

    def count_file(self, path: str, info: os.stat_result) -> int:
        """The bytes a file adds to the total: 0 for a hard link already counted. A regular file is kept among
        the largest when it is one of them."""
        if stat.S_ISREG(info.st_mode):
            if len(self.largest) < LARGEST_KEPT:
                heapq.heappush(self.largest, (info.st_size, path))
            elif (info.st_size, path) > self.largest[0]:
                heapq.heapreplace(self.largest, (info.st_size, path))
        if info.st_nlink > 1:
            inode = (info.st_dev, info.st_ino)
            if inode in self.seen_inodes:
                return 0
            self.seen_inodes.add(inode)
        return info.st_size


def walk(root: Path, include_hidden: bool, tally: WalkTally,
         is_secret: Callable[[Path], bool] | None = None) -> Iterator[os.DirEntry[str]]:
    """Every entry below `root`, depth-first in name order. Unreadable folders are counted in `tally.skipped`,
    hidden names are left out unless asked for, and symlinked folders (and /proc, /sys, /dev) are listed but
    never entered; nor are secret folders (`is_secret`, counted in `tally.secret`), whose listing policy refuses."""
    pending = [str(root)]
    visited = 0
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as scanned:
                entries = sorted(scanned, key=lambda entry: entry.name)
        except OSError:
            tally.skipped += 1
            continue
        subfolders: list[str] = []
        for entry in entries:
            if entry.name.startswith(".") and not include_hidden:
                continue
            visited += 1
            if visited > WALK_MAX_ENTRIES:
                tally.incomplete = True
                return
            yield entry
            if entry_kind(entry) == "folder" and entry.path not in _KERNEL_VIEWS:
                if is_secret is not None and is_secret(Path(entry.path)):
                    tally.secret += 1
                    continue
                subfolders.append(entry.path)
        pending.extend(reversed(subfolders))


def tree_size(folder: str, tally: UsageTally) -> int:
    """Total bytes of the files below `folder`, hidden ones included, staying on one file system (like
    `du -x`) and never following links."""
    total = 0
    pending = [folder]
    while pending:
        try:
            scanned = os.scandir(pending.pop())
        except OSError:
            tally.errors += 1
            continue
        with scanned:
            for entry in scanned:
                tally.entries += 1
                if tally.entries > DISK_USAGE_MAX_ENTRIES:
                    tally.incomplete = True
                    return total
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    tally.errors += 1
                    continue
                if stat.S_ISDIR(info.st_mode):
                    tally.folders += 1
                    if info.st_dev == tally.device:
                        pending.append(entry.path)
                else:
                    tally.files += stat.S_ISREG(info.st_mode)
                    total += tally.count_file(entry.path, info)
    return total


def entry_kind(entry: os.DirEntry[str]) -> str:
    """`link`, `folder` or `file` (anything else that is not a folder counts as a file)."""
    try:
        if entry.is_symlink():
            return "link"
        return "folder" if entry.is_dir(follow_symlinks=False) else "file"
    except OSError:
        return "file"


def mode_kind(mode: int) -> str:
    """The type word for an `st_mode`: link, folder, file, fifo, socket or device."""
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


GLOB_CHARS = frozenset("*?[")
"""The characters that make a path or a name a glob."""


def name_matcher(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive glob; text without wildcards matches anywhere in the name (a small model often
    writes `report` meaning `*report*`)."""
    folded = pattern.strip().casefold() or "*"
    if not GLOB_CHARS & set(folded):
        return lambda name: folded in name.casefold()
    return lambda name: fnmatch.fnmatchcase(name.casefold(), folded)


def targets_hidden(pattern: str) -> bool:
    """Whether a name pattern asks for dotfiles, so hidden names and folders are walked."""
    return pattern.strip().startswith(".")


def mtime_or_zero(path: Path) -> float:
    """A path's own modification time (a link's, not its target's), 0 when it cannot be read."""
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def size_or_zero(path: Path) -> int:
    """A path's own size (a link's, not its target's), 0 when it cannot be read."""
    try:
        return path.lstat().st_size
    except OSError:
        return 0
