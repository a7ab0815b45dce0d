"""The journal's file-system layer: symlink-safe access through folder descriptors, content states (sha256 of a
file, a digest over a folder tree), fsync'd writes, and moves that fall back to copy + fsync + remove across file
systems. Every path handled here is absolute with a resolved parent; a component that is (or became) a symbolic
link is refused, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CHUNK = 1 << 20
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# O_PATH lets the walk pass folders the user may search but not list; it still serves as a dir_fd for *at calls.
_O_WALK = getattr(os, "O_PATH", os.O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
O_LIST = os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
_O_READ = os.O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC

MISSING: dict[str, Any] = {"kind": "missing"}


class JournalError(ValueError):
    """A journaled operation or an undo was refused or failed; the message is fit to show a person as it is.
    (A ValueError, so tool runners that show ValueErrors readably show this one too.)"""


class UnknownUndoTarget(JournalError):
    """`undo ID` named no action and no request in the journal."""


class NothingToUndo(JournalError):
    """The journal holds no action that can still be undone."""


def checkpoint(name: str) -> None:
    """A named point between two steps of an operation. Does nothing; tests replace it to simulate a crash there."""


def shown(path: str) -> str:
    """A path as it may be shown in a message: control, zero-width and bidi characters escaped, quoted."""
    escaped = []
    for char in path:
        code = ord(char)
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or char in _INVISIBLE:
            escaped.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        elif char == "\\":
            escaped.append("\\\\")
        else:
            escaped.append(char)
    return "'" + "".join(escaped) + "'"


_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\ufeff"
)


# -- paths ---------------------------------------------------------------------------------------------------------


def canonical(path: str | os.PathLike[str]) -> str:
    """Absolute path whose existing folders are resolved now (so the journal keeps the real location); the parts
    that do not exist yet, and the last component, are kept as given. NUL, empty, `.` and `..` names are refused."""
    raw = os.fspath(path)
    if not isinstance(raw, str):
        raise JournalError("paths must be text")
    if "\0" in raw:
        raise JournalError(f"{shown(raw)} contains a NUL character; refusing")
    if not raw:
        raise JournalError("an empty path was given")
    absolute = os.path.join(os.getcwd(), raw) if not os.path.isabs(raw) else raw
    stripped = absolute.rstrip("/") or "/"
    head, name = os.path.split(stripped)
    if name in ("", ".", ".."):
        raise JournalError(f"{shown(raw)} does not name a file or folder")
    missing: list[str] = [name]
    while head != "/" and not os.path.lexists(head):
        head, part = os.path.split(head)
        if part in (".", ".."):
            raise JournalError(f"{shown(raw)} has '.' or '..' below a folder that does not exist")
        missing.append(part)
    return os.path.join(os.path.realpath(head), *reversed(missing))


def is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def split(path: str) -> tuple[str, str]:
    head, name = os.path.split(path)
    return head or "/", name


def open_dir(path: str, *, listable: bool = False) -> int:
    """A descriptor of the folder `path`, opened one component at a time from `/` without following any symlink:
    a folder on the way that is (or was swapped for) a symbolic link is refused, never followed."""
    fd = os.open("/", O_LIST if listable and path == "/" else _O_WALK)
    walked = ""
    try:
        parts = [part for part in path.split("/") if part]
        for index, part in enumerate(parts):
            walked += "/" + part
            flags = O_LIST if listable and index == len(parts) - 1 else _O_WALK
            try:
                next_fd = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise JournalError(
                        f"{shown(walked)} is a symbolic link or not a folder; refusing to go through it"
                    ) from None
                if exc.errno == errno.ENOENT:
                    raise JournalError(f"the folder {shown(walked)} does not exist") from None
                raise
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass
class Loc:
    """A path whose parent folder is held open: operations use (dir_fd, name), so the parent cannot be swapped
    for a symlink between a check and the operation."""

    path: str
    parent: str
    name: str
    dir_fd: int

    def lstat(self) -> os.stat_result | None:
        try:
            return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return self.lstat() is not None

    def sibling(self, name: str) -> Loc:
        return Loc(os.path.join(self.parent, name), self.parent, name, self.dir_fd)


@contextlib.contextmanager
def at(path: str) -> Iterator[Loc]:
    parent, name = split(path)
    fd = open_dir(parent)
    try:
        yield Loc(path, parent, name, fd)
    finally:
        os.close(fd)


def lexists(path: str) -> bool:
    """Whether `path` exists (a symlink counts), reached without following links on the way; False where a
    folder on the way is missing."""
    try:
        with at(path) as loc:
            return loc.exists()
    except JournalError:
        return False


def fsync_dir(path_or_fd: str | int) -> None:
    if isinstance(path_or_fd, int):
        fd = path_or_fd
        with contextlib.suppress(OSError):
            os.fsync(fd)
        return
    with contextlib.suppress(OSError):
        fd = os.open(path_or_fd, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_parent(loc: Loc) -> None:
    # An O_PATH descriptor cannot be fsync'd; open the folder for reading beside it.
    with contextlib.suppress(OSError):
        fd = os.open(".", os.O_RDONLY | O_DIRECTORY | O_CLOEXEC, dir_fd=loc.dir_fd)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- states --------------------------------------------------------------------------------------------------------


_hash_cache: dict[tuple[int, ...], str] | None = None


@contextlib.contextmanager
def hash_cache() -> Iterator[None]:
    """Within this block a file whose device, inode, size, mtime and ctime are unchanged is hashed once (an undo
    checks every file before acting, then again just before each step). Any write changes the ctime."""
    global _hash_cache
    previous = _hash_cache
    _hash_cache = {} if previous is None else previous
    try:
        yield
    finally:
        _hash_cache = previous


def _hash_fd(fd: int) -> str:
    info = os.fstat(fd)
    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    cache = _hash_cache
    if cache is not None and key in cache:
        return cache[key]
    digest = hashlib.sha256()
    while chunk := os.read(fd, CHUNK):
        digest.update(chunk)
    if cache is not None:
        cache[key] = digest.hexdigest()
    return digest.hexdigest()


def open_regular(loc: Loc) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without following a final symlink or blocking on a FIFO."""
    fd = os.open(loc.name, _O_READ, dir_fd=loc.dir_fd)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise JournalError(f"{shown(loc.path)} is not a regular file")
    os.set_blocking(fd, True)
    return fd, info


def kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


def listing(dir_fd: int) -> dict[str, list[Any]]:
    """Everything below an open folder: relative path -> [kind, mode, sha256 | link target | ""], no link
    followed, FIFOs and devices never opened."""
    found: dict[str, list[Any]] = {}

    def walk(fd: int, prefix: str) -> None:
        for name in sorted(os.listdir(fd)):
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            kind = kind_of(info.st_mode)
            relative = prefix + name
            if kind == "file":
                file_fd = os.open(name, _O_READ, dir_fd=fd)
                try:
                    os.set_blocking(file_fd, True)
                    found[relative] = ["file", stat.S_IMODE(info.st_mode), _hash_fd(file_fd)]
                finally:
                    os.close(file_fd)
            elif kind == "dir":
                found[relative] = ["dir", stat.S_IMODE(info.st_mode), ""]
                child = os.open(name, O_LIST, dir_fd=fd)
                try:
                    walk(child, relative + "/")
                finally:
                    os.close(child)
            elif kind == "symlink":
                found[relative] = ["symlink", 0, os.readlink(name, dir_fd=fd)]
            else:
                found[relative] = ["other", stat.S_IMODE(info.st_mode), other_type(info.st_mode)]

    walk(dir_fd, "")
    return found


def tree_digest(entries: dict[str, list[Any]]) -> str:
    text = json.dumps(sorted([name, *entry] for name, entry in entries.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def other_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special"


def state_at(loc: Loc, *, shallow: bool = False, keep_listing: bool = False) -> dict[str, Any]:
    """What is at `loc` now: {"kind": missing | file | dir | symlink | other, "mode", "sha256" (file), "size",
    "tree" (digest of everything below a folder, unless shallow), "target" (symlink)}."""
    info = loc.lstat()
    if info is None:
        return dict(MISSING)
    kind = kind_of(info.st_mode)
    state: dict[str, Any] = {"kind": kind, "mode": stat.S_IMODE(info.st_mode), "ino": info.st_ino}
    if kind == "file":
        state["size"] = info.st_size
        if not shallow:
            fd, _ = open_regular(loc)
            try:
                state["sha256"] = _hash_fd(fd)
            finally:
                os.close(fd)
    elif kind == "dir" and not shallow:
        fd = os.open(loc.name, O_LIST, dir_fd=loc.dir_fd)
        try:
            entries = listing(fd)
        finally:
            os.close(fd)
        state["tree"] = tree_digest(entries)
        state["entries"] = len(entries)
        if keep_listing:
            state["listing"] = entries
    elif kind == "symlink":
        state["target"] = os.readlink(loc.name, dir_fd=loc.dir_fd)
        state["mode"] = 0
    elif kind == "other":
        state["type"] = other_type(info.st_mode)
    return state


def state_of(path: str, *, shallow: bool = False, keep_listing: bool = False) -> dict[str, Any]:
    """`state_at` by path; a folder on the way that is missing reads as missing, one that is a symlink is refused."""
    try:
        with at(path) as loc:
            return state_at(loc, shallow=shallow, keep_listing=keep_listing)
    except JournalError:
        if _missing_on_the_way(split(path)[0]):
            return dict(MISSING)
        raise


def _missing_on_the_way(parent: str) -> bool:
    """True when the walk to `parent` ends at a missing component (not at a symlink)."""
    walked = ""
    for part in [part for part in parent.split("/") if part]:
        walked += "/" + part
        try:
            info = os.lstat(walked)
        except FileNotFoundError:
            return True
        if not stat.S_ISDIR(info.st_mode):
            return False
    return False


def same_state(current: dict[str, Any], expected: dict[str, Any], *, check_mode: bool = True) -> bool:
    """Whether `current` is what `expected` describes: kind, content (sha256 / tree digest / link target), mode."""
    if current.get("kind") != expected.get("kind"):
        return False
    kind = expected["kind"]
    if kind == "missing":
        return True
    if check_mode and expected.get("mode") is not None and current.get("mode") != expected.get("mode"):
        return False
    if kind == "file" and expected.get("sha256") is not None:
        return current.get("sha256") == expected["sha256"]
    if kind == "dir" and expected.get("tree") is not None:
        return current.get("tree") == expected["tree"]
    if kind == "symlink":
        return current.get("target") == expected.get("target")
    return True


def describe_change(current: dict[str, Any], expected: dict[str, Any]) -> str:
    """Why `current` is not `expected`, in a few words."""
    if current["kind"] == "missing":
        return "it no longer exists"
    if expected["kind"] == "missing":
        return "something is there now"
    if current["kind"] != expected["kind"]:
        names = {"file": "a file", "dir": "a folder", "symlink": "a symbolic link", "other": "a special file"}
        return f"it is now {names[current['kind']]}, not {names[expected['kind']]}"
    if current["kind"] == "file" and current.get("sha256") != expected.get("sha256"):
        return "its content changed (the sha256 no longer matches)"
    if current["kind"] == "dir" and expected.get("tree") is not None and current.get("tree") != expected.get("tree"):
        return "its contents changed"
    if current["kind"] == "symlink":
        return "the link points elsewhere"
    return f"its mode changed ({current.get('mode', 0):o}, was {expected.get('mode', 0):o})"


def public_state(state: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in state.items() if key != "listing"}
