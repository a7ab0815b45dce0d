"""Open a path beneath an allowed root without ever following a symlink (or `..`) out of it.

A file tool that checks a path and then opens it separately can be raced: between the check and the open, a
directory on the way can be swapped for a symlink to `/etc`. So the check *is* the open: `open_beneath` returns a
file descriptor, and that descriptor is the thing the tool reads or writes.

- Where the kernel has `openat2` (Linux 5.6+), the path is resolved by the kernel with `RESOLVE_BENEATH` (no
  component may leave the root: `..` above it, an absolute symlink, a relative symlink climbing out all fail) and
  `RESOLVE_NO_MAGICLINKS` (no `/proc/*/root`, `/proc/*/fd/*` jumps). Symlinks that stay inside the root work.
- Elsewhere, the path is walked one component at a time with `openat(O_PATH | O_DIRECTORY | O_NOFOLLOW)` from
  the root's descriptor and the last component opened with `O_NOFOLLOW`: every symlink is refused, inside or not.
- Both refuse `..` components and absolute paths that are not beneath the root, before any lookup.
- Opening something that is not a regular file or a directory (a FIFO, a device such as `/dev/zero`, a socket) is
  refused unless `allow_special=True`: the open uses `O_NONBLOCK` so a FIFO cannot hang it, then `fstat` decides.
- Hard links: a hard link inside the root to a file outside it is indistinguishable by path (both names are the
  same inode; neither "points" anywhere), so it cannot be detected on read. What is prevented: opening a regular
  file *for writing* when it has more than one link (`st_nlink > 1`), since the other name may be outside the root
  (e.g. a link to `~/.bashrc` planted in the workspace). `O_TRUNC` is applied only after that check, with
  `ftruncate`, so a refused open changes nothing. What is not prevented: reading such a file (its content is
  whatever the other name holds; readable-root policy is the only guard), and writing a file whose other names
  were all removed (`st_nlink == 1` again, harmless).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import platform
import stat
import threading
from pathlib import Path, PurePath, PurePosixPath

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08

_SYS_OPENAT2 = {"x86_64": 437, "aarch64": 437, "arm64": 437}

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_TRUNC | os.O_APPEND


class PathEscapeError(PermissionError):
    """The path would leave the allowed root (`..`, an absolute path, a symlink out, a magic link), or is a
    symlink where none may be followed, or is a hard-linked file opened for writing."""


class SpecialFileError(PermissionError):
    """The path is a FIFO, a device or a socket, and the caller did not ask for one."""


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_lock = threading.Lock()
_openat2_state: bool | None = None  # None: not tried yet
_libc: ctypes.CDLL | None = None


def _syscall_number() -> int | None:
    if not platform.system() == "Linux":
        return None
    return _SYS_OPENAT2.get(platform.machine())


def openat2_available() -> bool:
    """Whether this kernel has a usable openat2 (checked once)."""
    global _openat2_state, _libc
    with _lock:
        if _openat2_state is None:
            number = _syscall_number()
            if number is None:
                _openat2_state = False
            else:
                _libc = ctypes.CDLL(None, use_errno=True)
                _libc.syscall.restype = ctypes.c_long
                try:
                    root_fd = os.open("/", os.O_PATH | os.O_CLOEXEC)
                    fd = _openat2(root_fd, ".", os.O_PATH, 0, RESOLVE_BENEATH, close_dir=True)
                    os.close(fd)
                    _openat2_state = True
                except OSError:
                    _openat2_state = False
        return _openat2_state


def _openat2(dir_fd: int, path: str, flags: int, mode: int, resolve: int, close_dir: bool = False) -> int:
    assert _libc is not None
    how = _OpenHow(flags=flags, mode=mode, resolve=resolve)
    try:
        for _ in range(16):
            result = _libc.syscall(
                _syscall_number(), dir_fd, os.fsencode(path), ctypes.byref(how), ctypes.sizeof(how)
            )
            if result >= 0:
                return int(result)
            err = ctypes.get_errno()
            if err not in (errno.EAGAIN, errno.EINTR):  # EAGAIN: a concurrent rename; the kernel asks to retry
                raise OSError(err, os.strerror(err), path)
        raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN), path)
    finally:
        if close_dir:
            os.close(dir_fd)


def _relative_parts(root: Path, relative: PurePath | str) -> tuple[str, ...]:
    """The components of `relative` beneath `root`, refusing NUL, `..`, and absolute paths outside `root`."""
    text = os.fspath(relative)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if "\x00" in text:
        raise ValueError(f"path contains a NUL byte: {text!r}")
    path = PurePosixPath(text)
    if path.is_absolute():
        root_parts = PurePosixPath(os.fspath(root)).parts
        if path.parts[: len(root_parts)] != root_parts:
            raise PathEscapeError(errno.EXDEV, f"absolute path is not beneath {str(root)!r}", text)
        beneath = path.parts[len(root_parts) :]
        path = PurePosixPath(*beneath) if beneath else PurePosixPath(".")
    parts = tuple(part for part in path.parts if part != ".")
    if ".." in parts:
        raise PathEscapeError(errno.EXDEV, f"'..' is not allowed in a path beneath {str(root)!r}", text)
    return parts


def _is_write(flags: int) -> bool:
    return bool(flags & _WRITE_FLAGS) or (flags & os.O_ACCMODE) != os.O_RDONLY


def _escape(err: OSError, root: Path, shown: str) -> OSError:
    if err.errno == errno.EXDEV:
        return PathEscapeError(errno.EXDEV, f"path leaves {str(root)!r} (through '..' or a symlink)", shown)
    if err.errno == errno.ELOOP:
        return PathEscapeError(errno.ELOOP, "path goes through a symlink that may not be followed here", shown)
    return err


def _open_with_openat2(root_fd: int, parts: tuple[str, ...], flags: int, mode: int) -> int:
    return _openat2(root_fd, "/".join(parts) or ".", flags, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)


def _open_by_walking(root_fd: int, parts: tuple[str, ...], flags: int, mode: int) -> int:
    """Component by component; any symlink is refused (ELOOP)."""
    if not parts:
        return os.open(".", flags | os.O_CLOEXEC, mode, dir_fd=root_fd)
    current = os.dup(root_fd)
    try:
        for name in parts[:-1]:
            try:
                next_fd = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=current)
            except NotADirectoryError:
                # A symlink (O_NOFOLLOW), or a directory that a racing rename swapped in and out: refuse both.
                kind = os.stat(name, dir_fd=current, follow_symlinks=False).st_mode
                if stat.S_ISLNK(kind) or stat.S_ISDIR(kind):
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), name) from None
                raise
            os.close(current)
            current = next_fd
        try:
            fd = os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=current)
        except FileExistsError:
            if stat.S_ISLNK(os.stat(parts[-1], dir_fd=current, follow_symlinks=False).st_mode):
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), parts[-1]) from None
            raise
        if flags & os.O_PATH and stat.S_ISLNK(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), parts[-1])
        return fd
    finally:
        os.close(current)


def open_beneath(
    root: Path,
    relative: PurePath | str,
    flags: int,
    mode: int = 0o644,
    *,
    allow_special: bool = False,
) -> int:
    """Open `relative` beneath `root` and return the fd (`O_CLOEXEC` added). Raises `PathEscapeError` when the
    path would leave `root`, `SpecialFileError` for a FIFO/device/socket without `allow_special`, `ValueError` for
    a NUL byte, and the usual `OSError`s (`FileNotFoundError`, ...) otherwise."""
    root = Path(root)
    shown = os.fsdecode(os.fspath(relative)) if not isinstance(relative, str) else relative
    parts = _relative_parts(root, relative)
    open_flags = flags | os.O_CLOEXEC
    truncate = bool(flags & os.O_TRUNC) and not (flags & os.O_PATH)
    open_flags &= ~os.O_TRUNC  # applied after the checks below, so a refused open changes nothing
    if not allow_special and not flags & os.O_PATH:
        open_flags |= os.O_NONBLOCK
    tmpfile = getattr(os, "O_TMPFILE", 0)
    if not flags & os.O_CREAT and not (tmpfile and flags & tmpfile == tmpfile):
        mode = 0  # openat2 refuses a mode without O_CREAT
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            if openat2_available():
                fd = _open_with_openat2(root_fd, parts, open_flags, mode)
            else:
                fd = _open_by_walking(root_fd, parts, open_flags, mode)
        except OSError as exc:
            if exc.errno == errno.ENXIO and not allow_special:
                # O_NONBLOCK | O_WRONLY on a FIFO without a reader.
                raise SpecialFileError(errno.ENXIO, "refusing to open a FIFO", shown) from None
            raise _escape(exc, root, shown) from None
    finally:
        os.close(root_fd)
    try:
        info = os.fstat(fd)
        if not allow_special and not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            if not (flags & os.O_PATH and stat.S_ISLNK(info.st_mode)):
                kind = _kind(info.st_mode)
                raise SpecialFileError(errno.EPERM, f"refusing to open a {kind} (pass allow_special=True)", shown)
        if _is_write(flags) and stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            raise PathEscapeError(
                errno.EMLINK,
                f"refusing to write a file with {info.st_nlink} hard links: another name for it may be outside "
                f"{str(root)!r}",
                shown,
            )
        if not allow_special and not flags & os.O_NONBLOCK and not flags & os.O_PATH:
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        if truncate and stat.S_ISREG(info.st_mode):
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "special file"


def resolve_beneath(root: Path, path: Path | str) -> Path:
    """The real absolute path of `path` beneath `root`, resolved the same way `open_beneath` resolves it; raises
    `PathEscapeError` if it would leave `root`. A missing last component is allowed (the parent must exist).
    For checks and display only: open with `open_beneath`, never with the string this returns."""
    root = Path(root)
    parts = _relative_parts(root, path)
    real_root = Path(os.path.realpath(root))
    try:
        fd = open_beneath(root, PurePosixPath(*parts) if parts else ".", os.O_PATH, allow_special=True)
        leaf: tuple[str, ...] = ()
    except FileNotFoundError:
        if not parts:
            raise
        fd = open_beneath(root, PurePosixPath(*parts[:-1]) if parts[:-1] else ".", os.O_PATH | os.O_DIRECTORY)
        leaf = (parts[-1],)
    try:
        resolved = Path(os.readlink(f"/proc/self/fd/{fd}"), *leaf)
    finally:
        os.close(fd)
    if resolved != real_root and real_root not in resolved.parents:
        raise PathEscapeError(errno.EXDEV, f"path leaves {str(root)!r}", os.fsdecode(os.fspath(path)))
    return resolved
