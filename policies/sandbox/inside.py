"""The last step inside the bubblewrap sandbox, just before the command: cgroup, Landlock, rlimits, then exec.

bubblewrap runs this file as `python -I -S inside.py OPTIONS -- ARGV...`: isolated mode, no site
packages, no llmos import (so nothing from the working directory or the environment can take part), and only a
few cheap imports, since this runs before every sandboxed command. Options: `--status-fd N`, `--cgroup-fd N`
(repeatable), `--writable DIR` (repeatable), `--network`, `--landlock-package DIR`, `--rlimit NAME=VALUE`
(repeatable), `--seccomp-filters-above N`. It

1. checks that the seccomp filter bubblewrap was given is in force: more filters on this process than the N that
   llmos itself has (N = -1, the default: the kernel does not count them; then seccomp mode 2, "filter", is
   enough);
2. moves itself into the per-run cgroups whose `cgroup.procs` files the parent opened and passed as fds;
3. restricts itself with Landlock (when the kernel has it): read and execute everywhere, write only beneath the
   writable roots and the sandbox's private /tmp and /dev/shm; TCP bind/connect denied when network is off
   (ABI 4+); signals and abstract UNIX sockets scoped to the sandbox (ABI 6+); pathname UNIX sockets outside the
   writable roots refused (ABI 9+). Landlock is inherited by everything the command starts and cannot be undone;
4. sets the rlimits (soft = hard, so the command cannot raise them back);
5. reports on the status fd what it applied (`key=value` lines), closes it, and execs the argv (PATH lookup in the
   already sanitized environment).

If the seccomp filter is not in force, or the kernel has Landlock but applying it fails, it does not exec: the
parent sees no "ready" report and refuses the run (fail closed). Exit codes when the command cannot be started
follow the shell: 127 not found, 126 not executable.
"""

from __future__ import annotations

import os
import resource
import sys
import types

_RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
}


def _import_landlock(package_dir: str) -> types.SimpleNamespace:
    """landlockpy's ruleset and flags, without its package `__init__` (which imports a testing helper: ~50 ms)
    and without `ctypes.util.find_library` (which runs a subprocess): landlockpy then opens libc as
    `ctypes.CDLL(None)`, the C library python itself is linked against. This process execs right after."""
    import ctypes
    import importlib

    if "ctypes.util" not in sys.modules:
        util = types.ModuleType("ctypes.util")
        util.find_library = lambda name: None  # type: ignore[attr-defined]  # a stand-in module built here
        sys.modules["ctypes.util"] = util
        ctypes.util = util  # type: ignore[attr-defined]  # the submodule attribute an import would have set
    if "landlockpy" not in sys.modules:
        package = types.ModuleType("landlockpy")
        package.__path__ = [package_dir]
        sys.modules["landlockpy"] = package
    return types.SimpleNamespace(
        syscall=importlib.import_module("landlockpy._syscall"),
        ruleset=importlib.import_module("landlockpy.ruleset"),
        flags=importlib.import_module("landlockpy.flags"),
    )


def apply_landlock(config: Config) -> str:
    """Restrict this process with Landlock; returns what was applied, or 'unavailable: why'."""
    package_dir = config.landlock_package
    if not package_dir:
        return "unavailable: the landlockpy package is not installed"
    landlock = _import_landlock(package_dir)
    try:
        abi = landlock.syscall.abi_version()
    except OSError as exc:
        return f"unavailable: the kernel has no Landlock ({exc.strerror or exc})"
    if abi < 1:
        return "unavailable: the kernel has no Landlock"
    access, net, scope = landlock.flags.AccessFS, landlock.flags.AccessNet, landlock.flags.Scope
    all_fs = landlock.flags.fs_for_abi(abi)
    read = access.READ_FILE | access.READ_DIR | access.EXECUTE
    handled_net = net.NONE
    if not config.network and abi >= 4:
        handled_net = net.BIND_TCP | net.CONNECT_TCP
    scoped = scope.ABSTRACT_UNIX_SOCKET | scope.SIGNAL if abi >= 6 else scope.NONE
    with landlock.ruleset.Ruleset(handled_fs=all_fs, handled_net=handled_net, scoped=scoped) as rules:
        rules.allow_path("/", read)
        device_rights = read | access.WRITE_FILE
        if abi >= 5:
            device_rights |= access.IOCTL_DEV
        rules.allow_path("/dev", device_rights)
        for private in ("/tmp", "/dev/shm"):
            if os.path.isdir(private):
                rules.allow_path(private, all_fs)
        for root in config.writable:
            rules.allow_path(root, all_fs)
        rules.restrict()
    parts = [f"ABI {abi}", "write only beneath the writable roots"]
    if handled_net:
        parts.append("TCP denied")
    if scoped:
        parts.append("signals and abstract sockets scoped")
    return "applied: " + ", ".join(parts)


def seccomp_state(filters_above: int) -> str:
    """'applied: ...' when this process has more seccomp filters than `filters_above`, else 'missing: ...'."""
    fields: dict[str, str] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("Seccomp", "Seccomp_filters"):
                fields[key] = value.strip()
    mode, count = fields.get("Seccomp", "?"), fields.get("Seccomp_filters")
    if mode == "2" and (filters_above < 0 or (count is not None and int(count) > filters_above)):
        return f"applied: mode 2, {count or 'uncounted'} filter(s)"
    return f"missing: seccomp mode {mode}, {count or 'uncounted'} filter(s), more than {filters_above} expected"


def apply_rlimits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        kind = _RLIMITS[name]
        _soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        if name == "cpu":
            # Soft limit sends SIGXCPU; the hard limit one second later kills.
            resource.setrlimit(kind, (value, value + 1 if hard == resource.RLIM_INFINITY else min(value + 1, hard)))
        else:
            resource.setrlimit(kind, (value, value))


class Config:
    def __init__(self, args: list[str]) -> None:
        self.status_fd = -1
        self.cgroup_fds: list[int] = []
        self.writable: list[str] = []
        self.network = False
        self.landlock_package = ""
        self.rlimits: dict[str, int] = {}
        self.seccomp_filters_above = -1
        self.argv: list[str] = []
        index = 0
        while index < len(args):
            option = args[index]
            if option == "--":
                self.argv = args[index + 1 :]
                break
            if option == "--network":
                self.network = True
                index += 1
                continue
            value = args[index + 1]
            if option == "--status-fd":
                self.status_fd = int(value)
            elif option == "--cgroup-fd":
                self.cgroup_fds.append(int(value))
            elif option == "--writable":
                self.writable.append(value)
            elif option == "--landlock-package":
                self.landlock_package = value
            elif option == "--seccomp-filters-above":
                self.seccomp_filters_above = int(value)
            elif option == "--rlimit":
                name, _, number = value.partition("=")
                self.rlimits[name] = int(number)
            else:
                raise ValueError(f"unknown option {option!r}")
            index += 2


def _report(fd: int, key: str, value: str) -> None:
    os.write(fd, f"{key}={value.replace(chr(10), ' ')}\n".encode(errors="replace"))


def main(args: list[str]) -> int:
    config = Config(args)
    status = config.status_fd
    try:
        seccomp = seccomp_state(config.seccomp_filters_above)
    except (OSError, ValueError) as exc:
        seccomp = f"missing: cannot read /proc/self/status ({exc})"
    _report(status, "seccomp", seccomp)
    if not seccomp.startswith("applied"):
        _report(status, "error", f"the seccomp filter is not in force ({seccomp})")
        return 125
    for fd in config.cgroup_fds:
        try:
            os.write(fd, b"0")
            _report(status, "cgroup", "joined")
        except OSError as exc:
            _report(status, "cgroup", f"failed: {exc.strerror}")
        os.close(fd)
    try:
        _report(status, "landlock", apply_landlock(config))
    except Exception as exc:  # noqa: BLE001 - any failure here means: do not run the command
        _report(status, "error", f"Landlock could not be applied: {exc!r}")
        return 125
    try:
        apply_rlimits(config.rlimits)
    except (OSError, ValueError) as exc:
        _report(status, "error", f"rlimits could not be set: {exc!r}")
        return 125
    _report(status, "ready", "1")
    os.close(status)
    argv = config.argv
    if not argv:
        return 0
    try:
        os.execvpe(argv[0], argv, os.environ)
    except FileNotFoundError:
        os.write(2, f"llmos sandbox: command not found: {argv[0]!r}\n".encode(errors="replace"))
        return 127
    except OSError as exc:
        os.write(2, f"llmos sandbox: cannot run {argv[0]!r}: {exc.strerror}\n".encode(errors="replace"))
        return 126
    return 126  # pragma: no cover - execvpe does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
