"""Where a path physically leads, as the process that opens it would see it: symlinks are followed component by
component before `..` applies (the kernel's order, os.path.realpath's semantics), so `lnk/..` is the parent of
where `lnk` points, not the folder that holds `lnk`.

The links the kernel makes per process are taken as the command's own, not the policy's: `/proc/self/cwd` (and
`/proc/thread-self/cwd`) is the command's working folder, `/proc/self/root` is `/`, `/dev/fd/N`, `/dev/stdin` and
`/proc/self/fd/N` are the command's own descriptors (opened by redirections, which are judged themselves). What
cannot be known before the command runs is refused with `UnresolvablePath`: a path beneath a descriptor
(`/dev/fd/3/x`, fd 3 may be a folder), and any path through another process's `cwd`, `root`, `exe` or fds
(`/proc/<pid>/cwd/...`: that process decides where it leads, and it may move).
"""

from __future__ import annotations

import os
import posixpath
import re
import stat

_MAX_LINKS = 40
_SELF = ("self", "thread-self")
# /proc/<pid> or one of its threads (/proc/<pid>/task/<tid>), with <pid> as written (`self`, a number).
_PROC_PROCESS = re.compile(r"^/proc/(self|thread-self|\d+)(?:/task/(?:\d+|self))?$")
_INSIDE_PROC_PROCESS = re.compile(r"^/proc/(?:self|thread-self|\d+)/")
_MAGIC_ENTRIES = frozenset({"cwd", "root", "exe", "fd", "map_files"})
_STANDARD_FDS = {"stdin": "0", "stdout": "1", "stderr": "2"}


class UnresolvablePath(ValueError):
    """The path leads somewhere only known when the command runs (says why)."""


def physical_path(path: str, cwd: str | None) -> str:
    """The physical path an absolute `path` (not normalised: `..` still in it) leads to. `cwd` is the folder the
    command runs in, for `/proc/self/cwd`; None when it is not known. Components that do not exist are kept as
    written. Raises UnresolvablePath."""
    if not path.startswith("/"):
        raise UnresolvablePath("is not an absolute path")
    pending = _components(path)
    current = "/"
    links_followed = 0
    while pending:
        name = pending.pop()
        if name == "..":
            current = posixpath.dirname(current)
            continue
        process = _PROC_PROCESS.match(current)
        if current == "/proc" and (name in _SELF or name.isdigit()):
            current = f"/proc/{name}"  # never followed: /proc/self in the policy is not the command
        elif process is not None and name in _MAGIC_ENTRIES:
            if process.group(1) not in _SELF:
                raise UnresolvablePath(f"goes through the {name} of process {process.group(1)}, which that process "
                                       f"decides")
            current = _own_magic_entry(name, pending, cwd)
            if current.startswith("/proc/self/"):
                return current  # a descriptor or the program itself: nothing may follow
        elif _INSIDE_PROC_PROCESS.match(current + "/") and current != "/proc":
            current = posixpath.join(current, name)  # per-process files: as written (/proc/self/environ)
        elif current == "/dev" and name == "fd":
            current = "/proc/self"
            pending.append("fd")
        elif current == "/dev" and name in _STANDARD_FDS:
            current = "/proc/self"
            pending.extend([_STANDARD_FDS[name], "fd"])
        else:
            candidate = posixpath.join(current, name)
            target = _link_target(candidate)
            if target is None:
                current = candidate
                continue
            links_followed += 1
            if links_followed > _MAX_LINKS:
                raise UnresolvablePath("goes through too many symbolic links")
            if target.startswith("/"):
                current = "/"
            pending.extend(_components(target))
    return current


def _own_magic_entry(name: str, pending: list[str], cwd: str | None) -> str:
    """Where the command's own /proc/self/NAME leads; `pending` (reversed) is what follows it."""
    if name == "cwd":
        if cwd is None:
            raise UnresolvablePath("goes through the command's working folder, which is only known when it runs")
        return physical_path(cwd, None)
    if name == "root":
        return "/"
    if name == "fd" and pending:
        number = pending.pop()
        if pending or not number.isdigit():
            raise UnresolvablePath(f"goes through the command's descriptor {number}, which is only known when it "
                                   f"runs")
        return f"/proc/self/fd/{number}"
    if pending:
        raise UnresolvablePath(f"goes through the command's /proc/self/{name}")
    return f"/proc/self/{name}"


def _components(path: str) -> list[str]:
    """The names of `path` in reverse order (for popping), without empty and `.` components."""
    return [part for part in reversed(path.split("/")) if part not in ("", ".")]


def _link_target(path: str) -> str | None:
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            return None
        return os.readlink(path)
    except (OSError, ValueError):
        return None  # missing or unreadable: kept as written
