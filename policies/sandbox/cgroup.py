"""A per-run cgroup that bounds a sandbox's process count and total memory, where llmos may create one.

rlimits are per process (RLIMIT_AS) or per user (RLIMIT_NPROC), and the kernel does not apply RLIMIT_NPROC to
root at all, so on their own they do not bound a fork bomb run as root, or the total memory of many processes.
When llmos can write the cgroup file system (root, or a delegated cgroup v2 subtree), each run gets its own child
cgroup with `pids.max` and a memory limit. The parent opens its `cgroup.procs` and passes the fd into the sandbox;
the in-sandbox helper writes "0" to it (moving itself) before it starts the command, so everything the command
starts is inside from the first instruction. Without a writable cgroup this layer is reported as unavailable and
the run goes on with rlimits and the PID namespace (the wall-clock timeout still ends everything).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "llmos-sandbox-"
_counter = itertools.count()


@dataclass
class _Hierarchy:
    version: int
    mount: Path
    controllers: frozenset[str]
    own_path: str  # our cgroup inside this hierarchy, "/" rooted


def _hierarchies() -> list[_Hierarchy]:
    own: dict[str, str] = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            number, controller_names, path = line.split(":", 2)
            own[controller_names if number != "0" else ""] = path
    except (OSError, ValueError):
        return []
    found: list[_Hierarchy] = []
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in mountinfo:
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount, fstype, options = Path(fields[4]), tail[0], tail[2].split(",")
        if fstype == "cgroup2" and "" in own:
            controllers: set[str] = set()
            for directory in (mount / own[""].lstrip("/"), mount):
                with contextlib.suppress(OSError):
                    controllers |= set((directory / "cgroup.controllers").read_text().split())
            found.append(_Hierarchy(2, mount, frozenset(controllers & {"pids", "memory"}), own[""]))
        elif fstype == "cgroup":
            for key, path in own.items():
                names = set(key.split(",")) if key else set()
                if names and names <= set(options) and names & {"pids", "memory"}:
                    found.append(_Hierarchy(1, mount, frozenset(names & {"pids", "memory"}), path))
                    break
    return found


@dataclass
class RunCgroup:
    """The cgroups made for one run. `fds` go to the helper; `close()` removes the directories."""

    dirs: list[Path] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def close_fds(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = []

    def close(self) -> None:
        self.close_fds()
        for directory in self.dirs:
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    # Tasks of a killed PID namespace can take a moment to leave.
                    time.sleep(0.01)
        self.dirs = []


def _sweep_stale(parent: Path) -> None:
    """Remove run cgroups left behind by an llmos process that no longer exists."""
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            if not entry.name.startswith(PREFIX):
                continue
            pid_text = entry.name[len(PREFIX) :].split("-", 1)[0]
            if pid_text.isdigit() and not Path(f"/proc/{pid_text}").exists():
                with contextlib.suppress(OSError):
                    entry.rmdir()


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _v2_parent(hierarchy: _Hierarchy, controllers: list[str], problems: list[str]) -> Path | None:
    """Where a v2 child with `controllers` can be made: our own cgroup when it can delegate them (it usually
    holds processes, which v2 forbids for a cgroup that enables controllers for children), else the hierarchy's
    root (root only)."""
    candidates = [hierarchy.mount / hierarchy.own_path.lstrip("/")]
    if hierarchy.own_path != "/":
        candidates.append(hierarchy.mount)
    tried: list[str] = []
    for parent in candidates:
        try:
            available = set((parent / "cgroup.controllers").read_text().split())
            if not set(controllers) <= available:
                tried.append(f"{parent}: {', '.join(sorted(set(controllers) - available))} not available")
                continue
            enabled = set((parent / "cgroup.subtree_control").read_text().split())
            missing = [c for c in controllers if c not in enabled]
            if missing:
                _write(parent / "cgroup.subtree_control", " ".join("+" + c for c in missing))
            if not os.access(parent, os.W_OK):
                tried.append(f"{parent}: not writable")
                continue
            return parent
        except OSError as exc:
            tried.append(f"{parent}: cannot enable {', '.join(controllers)} ({exc.strerror})")
    problems.append("cgroup v2 " + "; ".join(tried))
    return None


def create_run_cgroup(max_processes: int, memory_bytes: int) -> RunCgroup:
    """Make cgroups bounding pids and memory for one run, as far as this machine allows."""
    run = RunCgroup()
    wanted = {"pids": str(max_processes), "memory": str(memory_bytes)}
    name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
    for hierarchy in _hierarchies():
        controllers = sorted(hierarchy.controllers & set(wanted) - {a.split()[0] for a in run.applied})
        if not controllers:
            continue
        parent: Path | None = hierarchy.mount / hierarchy.own_path.lstrip("/")
        if hierarchy.version == 2:
            parent = _v2_parent(hierarchy, controllers, run.problems)
            if parent is None:
                continue
        assert parent is not None
        _sweep_stale(parent)
        directory = parent / name
        try:
            directory.mkdir()
        except OSError as exc:
            run.problems.append(f"cgroup v{hierarchy.version} {parent}: cannot create a child ({exc.strerror})")
            continue
        run.dirs.append(directory)
        try:
            for controller in controllers:
                if controller == "pids":
                    _write(directory / "pids.max", wanted["pids"])
                else:
                    limit_file = "memory.max" if hierarchy.version == 2 else "memory.limit_in_bytes"
                    _write(directory / limit_file, wanted["memory"])
                    if hierarchy.version == 2:
                        with contextlib.suppress(OSError):
                            _write(directory / "memory.swap.max", "0")
                run.applied.append(f"{controller} (cgroup v{hierarchy.version})")
            run.fds.append(os.open(directory / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
        except OSError as exc:
            run.problems.append(f"cgroup v{hierarchy.version} {directory}: {exc.strerror}")
            run.applied = [a for a in run.applied if not a.endswith(f"(cgroup v{hierarchy.version})")]
    if not run.applied and not run.problems:
        run.problems.append("no cgroup hierarchy with the pids or memory controller is mounted")
    return run
