"""What a decision was made on, pinned so execution acts on the same thing: for each path a call touches, the
physical path (existing folders resolved through symlinks, as policy resolves them), the identity (device and
inode) of the deepest folder of it that existed, and the identity of what was at the path itself.

The executor pins a call's paths when it decides, checks the pins again just before the tool runs (a folder
swapped for a symlink while the approval was pending fails the step), and hands each pin to the journal's file
operations, which act on the pinned physical path through a folder descriptor opened without following any
symlink and refuse when that folder is no longer the pinned one. So no swap after the check matters either.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from llmos.policies.journal.fs import JournalError, canonical, shown, split

Identity = tuple[int, int, int]
"""(device, inode, file type bits)"""


@dataclass(frozen=True)
class PathPin:
    """One path as it was when the call was decided."""

    path: str
    """The path as the call names it (absolute, normalised, not resolved)."""
    physical: str | None
    """`path` with its existing folders resolved through symlinks; None when it cannot be resolved (refused)."""
    anchor: str | None
    """The deepest existing folder on the way to `physical` (its parent, unless folders are still to be made)."""
    anchor_id: Identity | None
    leaf_id: Identity | None
    """What was at `physical` itself (never followed); None when nothing was there."""

    def __fspath__(self) -> str:
        return self.physical if self.physical is not None else self.path


def _identity(path: str) -> Identity | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, stat.S_IFMT(info.st_mode)


def pin_path(path: str | os.PathLike[str]) -> PathPin:
    """Pin `path` now. Never raises: a path that cannot be resolved is pinned as unresolvable, which fails
    closed wherever the pin is used to act."""
    raw = os.fspath(path)
    try:
        physical = canonical(raw)
    except (JournalError, OSError):
        return PathPin(raw, None, None, None, None)
    anchor = split(physical)[0]
    while anchor != "/" and not os.path.lexists(anchor):
        anchor = split(anchor)[0]
    return PathPin(raw, physical, anchor, _identity(anchor), _identity(physical))


def pin_change(pin: PathPin) -> str | None:
    """Why `pin.path` is no longer what was decided on, in words fit to show; None when it still is."""
    now = pin_path(pin.path)
    where = shown(pin.path)
    if pin.physical is None:
        return f"{where} could not be resolved when it was decided; refusing to act on it"
    if now.physical != pin.physical:
        return (f"{where} now leads to {shown(now.physical or '?')}, not to {shown(pin.physical)} as when it was "
                f"decided (a folder on the way was replaced or became a symbolic link)")
    if now.anchor != pin.anchor or now.anchor_id != pin.anchor_id:
        return f"the folder {shown(pin.anchor or '?')} holding {where} was replaced after it was decided"
    if now.leaf_id != pin.leaf_id:
        return f"{where} was replaced, removed or created after it was decided"
    return None


def check_held_folder(pin: PathPin, folder: str, dir_fd: int) -> None:
    """Refuse when the folder now held open for acting on `pin` is not the folder that was decided on (checked
    only where that folder existed then: one made since is reached without following any symlink)."""
    if pin.anchor != folder or pin.anchor_id is None:
        return
    info = os.fstat(dir_fd)
    if (info.st_dev, info.st_ino, stat.S_IFMT(info.st_mode)) != pin.anchor_id:
        raise JournalError(f"the folder {shown(folder)} was replaced after {shown(pin.path)} was decided; "
                           "refusing to act on it")
