"""The journal's moving layer: fsync'd writes, no-replace renames, copies of files and trees (links copied as
links, special files refused), and `transfer`, a move that falls back to copy + fsync + remove across file
systems, with `settle_transfer` to finish or roll back one that a crash interrupted.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from typing import Any

from llmos.policies.journal import fs
from llmos.policies.journal.fs import CHUNK, O_CLOEXEC, O_NOFOLLOW, JournalError, Loc, at, shown

# -- writing --------------------------------------------------------------------------------------------


def write_new(loc: Loc, chunks: Any, mode: int | None, *, owner: tuple[int, int] | None = None) -> str:
    """Create `loc` (it must not exist) from byte chunks, fsync it; returns its sha256. `mode` None: 0o666
    less the umask."""
    fd = os.open(loc.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0o600 if mode is not None else 0o666, dir_fd=loc.dir_fd)
    digest = hashlib.sha256()
    try:
        for chunk in chunks:
            digest.update(chunk)
            view = memoryview(chunk)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        if owner is not None:
            with contextlib.suppress(OSError):
                os.fchown(fd, *owner)
        if mode is not None:
            os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)
    return digest.hexdigest()


def file_chunks(loc: Loc) -> Iterator[bytes]:
    fd, _ = fs.open_regular(loc)
    try:
        while chunk := os.read(fd, CHUNK):
            yield chunk
    finally:
        os.close(fd)


_libc: Any = None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _renameat2 = _libc.renameat2
    _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    _renameat2.restype = ctypes.c_int
except (OSError, AttributeError):
    _renameat2 = None
_RENAME_NOREPLACE = 1


def rename_noreplace(src: Loc, dst: Loc) -> None:
    """Rename that refuses (FileExistsError) to replace anything at `dst` (renameat2 RENAME_NOREPLACE where the
    kernel and file system have it; a check just before the rename elsewhere)."""
    if _renameat2 is not None:
        result = _renameat2(src.dir_fd, os.fsencode(src.name), dst.dir_fd, os.fsencode(dst.name), _RENAME_NOREPLACE)
        if result == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), dst.path)
    if dst.exists():
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst.path)
    rename(src, dst)


def rename(src: Loc, dst: Loc) -> None:
    """Plain rename (replaces a file at `dst`)."""
    os.rename(src.name, dst.name, src_dir_fd=src.dir_fd, dst_dir_fd=dst.dir_fd)


def cross_device(src_parent: str, dst_parent: str) -> bool:
    """Whether two folders are on different file systems (a rename between them would fail)."""
    try:
        return os.stat(src_parent).st_dev != os.stat(dst_parent).st_dev
    except OSError:
        return False


def copy_entry(src: Loc, dst: Loc) -> None:
    """Copy a file, folder tree or symlink from `src` to the new name `dst`: bytes, modes and times, links copied
    as links (never followed), every file fsync'd. FIFOs, sockets and devices are refused."""
    info = src.lstat()
    if info is None:
        raise JournalError(f"{shown(src.path)} does not exist")
    kind = fs.kind_of(info.st_mode)
    if kind == "symlink":
        os.symlink(os.readlink(src.name, dir_fd=src.dir_fd), dst.name, dir_fd=dst.dir_fd)
    elif kind == "file":
        write_new(dst, file_chunks(src), stat.S_IMODE(info.st_mode))
        with contextlib.suppress(OSError):
            os.utime(dst.name, ns=(info.st_atime_ns, info.st_mtime_ns), dir_fd=dst.dir_fd, follow_symlinks=False)
        fs.checkpoint("copy:file")
    elif kind == "dir":
        os.mkdir(dst.name, 0o700, dir_fd=dst.dir_fd)
        src_fd = os.open(src.name, fs.O_LIST, dir_fd=src.dir_fd)
        dst_fd = os.open(dst.name, fs.O_LIST, dir_fd=dst.dir_fd)
        try:
            for name in sorted(os.listdir(src_fd)):
                copy_entry(Loc(os.path.join(src.path, name), src.path, name, src_fd),
                           Loc(os.path.join(dst.path, name), dst.path, name, dst_fd))
            os.fsync(dst_fd)
            os.chmod(dst_fd, stat.S_IMODE(info.st_mode))
            with contextlib.suppress(OSError):
                os.utime(dst_fd, ns=(info.st_atime_ns, info.st_mtime_ns))
        finally:
            os.close(src_fd)
            os.close(dst_fd)
    else:
        raise JournalError(f"{shown(src.path)} is a special file ({fs.other_type(info.st_mode)}); refusing to copy it")
    fs.fsync_parent(dst)


def remove_tree(loc: Loc) -> None:
    """Remove what is at `loc` (our own partial copies, or an original whose complete copy is in the journal)."""
    info = loc.lstat()
    if info is None:
        return
    if stat.S_ISDIR(info.st_mode):
        _make_writable_tree(loc)
        shutil.rmtree(loc.name, dir_fd=loc.dir_fd)
    else:
        os.unlink(loc.name, dir_fd=loc.dir_fd)
    fs.fsync_parent(loc)


def _make_writable_tree(loc: Loc) -> None:
    """Give the owner rwx on every folder of a tree so it can be emptied (a read-only folder cannot be)."""
    fd = os.open(loc.name, fs.O_LIST, dir_fd=loc.dir_fd)
    try:
        with contextlib.suppress(OSError):
            os.chmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) | stat.S_IRWXU)
        for name in os.listdir(fd):
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                _make_writable_tree(Loc(os.path.join(loc.path, name), loc.path, name, fd))
    finally:
        os.close(fd)


def transfer(src_path: str, dst_path: str, tmp_name: str) -> bool:
    """Move `src_path` to the new name `dst_path`: a rename on one file system (same inode kept); across file
    systems a copy into `tmp_name` beside the destination, fsync, rename into place, then removal of the
    source. Returns True when it had to copy. Crash states are settled by `settle_transfer`."""
    with at(src_path) as src, at(dst_path) as dst:
        if not src.exists():
            raise JournalError(f"{shown(src_path)} does not exist")
        if dst.exists():
            raise JournalError(f"{shown(dst_path)} exists; refusing to replace it")
        if not cross_device(src.parent, dst.parent):
            try:
                rename_noreplace(src, dst)
                fs.fsync_parent(dst)
                if src.parent != dst.parent:
                    fs.fsync_parent(src)
                return False
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
        temp = dst.sibling(tmp_name)
        remove_tree(temp)
        copy_entry(src, temp)
        fs.checkpoint("transfer:copied")
        rename_noreplace(temp, dst)
        fs.fsync_parent(dst)
        fs.checkpoint("transfer:renamed")
        remove_tree(src)
        return True


def settle_transfer(src_path: str, dst_path: str, tmp_name: str) -> str | None:
    """After a crash inside `transfer`: a partial copy is removed (the source is intact); a complete copy whose
    source is still there (or partly removed) gets the removal finished, but only when what is left of the
    source is contained in the copy. Returns a note when something was left in place."""
    if not fs.lexists(dst_path) and not os.path.isdir(fs.split(dst_path)[0]):
        return None  # the destination's folder was never made: the transfer never started
    with at(dst_path) as dst:
        remove_tree(dst.sibling(tmp_name))
        dst_exists = dst.exists()
    if not (dst_exists and fs.lexists(src_path)):
        return None
    copied = fs.state_of(dst_path, keep_listing=True)
    with at(src_path) as src:
        left = fs.state_at(src, keep_listing=True)
        if not _contained(left, copied):
            return f"left {shown(src_path)} in place: it differs from the copy at {shown(dst_path)}"
        remove_tree(src)
    return None


def _contained(part: dict[str, Any], whole: dict[str, Any]) -> bool:
    """Whether `part` is `whole` or, for folders, a partly removed `whole` (every entry left is in `whole`)."""
    if part["kind"] != whole["kind"]:
        return False
    if part["kind"] != "dir":
        return fs.same_state(part, whole)
    entries = whole.get("listing", {})
    return all(entries.get(name, [None])[:1] == [entry[0]] and (entry[0] == "dir" or entries[name] == entry)
               for name, entry in part.get("listing", {}).items())
