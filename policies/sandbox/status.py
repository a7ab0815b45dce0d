"""What each confinement layer does on this machine, checked for real (for `llmos doctor`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from llmos.policies.sandbox.bwrap import landlock_package_dir, probe
from llmos.policies.sandbox.cgroup import create_run_cgroup
from llmos.policies.sandbox.run import LayerStatus, SandboxSpec, SandboxUnavailable, run_sandboxed
from llmos.policies.sandbox.syscall_filter import REFUSED_SYSCALLS, compiled_filter

# Runs inside the sandbox (python -I -S): what the namespaces and limits look like from there.
_INSIDE = """
import os, resource
print("pid", os.getpid())
print("uid_map", " ".join(open("/proc/self/uid_map").read().split()))
print("ifaces", ",".join(line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]))
for name in ("CPU", "AS", "FSIZE", "NOFILE", "NPROC"):
    print("rlimit", name, resource.getrlimit(getattr(resource, "RLIMIT_" + name))[0])
try:
    open("/usr/.llmos-sandbox-probe", "w")
    print("rootwrite", "allowed")
except OSError as exc:
    print("rootwrite", exc.errno)
"""


def _landlock_abi() -> tuple[int, str]:
    if not sys.platform.startswith("linux"):
        return 0, "Landlock is Linux only"
    if landlock_package_dir() is None:
        return 0, "the landlockpy package is not installed (pip install landlockpy)"
    try:
        import landlockpy

        abi = landlockpy.abi_version()
    except Exception as exc:  # noqa: BLE001 - any failure: report it
        return 0, f"cannot query Landlock: {exc}"
    if abi < 1:
        return 0, "the kernel has no Landlock (too old, or not enabled with lsm=...,landlock at boot)"
    return abi, f"kernel Landlock ABI {abi}"


def layer_status() -> list[LayerStatus]:
    statuses: list[LayerStatus] = []
    try:
        bwrap = probe()
    except SandboxUnavailable as exc:
        statuses.append(LayerStatus("bubblewrap", False, f"{exc}; commands are refused (fail closed)"))
        for name in ("user namespace", "pid namespace", "network namespace"):
            statuses.append(LayerStatus(name, False, "needs bubblewrap"))
        abi, detail = _landlock_abi()
        statuses.append(LayerStatus("landlock", False, f"{detail}; not applied: it runs inside the bubblewrap sandbox"))
        statuses.append(LayerStatus("rlimits", False, "not applied: they are set inside the bubblewrap sandbox"))
        statuses.append(_cgroup_status())
        statuses.append(_seccomp_status_without_bubblewrap())
        return statuses
    facts: dict[str, str] = {}
    limits: dict[str, str] = {}
    layers: tuple[str, ...] = ()
    problem = ""
    try:
        result = run_sandboxed(
            SandboxSpec(argv=(sys.executable, "-I", "-S", "-c", _INSIDE), cwd=Path("/"), timeout_s=20.0)
        )
        layers = result.layers
        for line in result.stdout.splitlines():
            key, _, value = line.partition(" ")
            if key == "rlimit":
                name, _, number = value.partition(" ")
                limits[name] = number
            else:
                facts[key] = value
        if result.exit_code != 0:
            problem = f"the probe command failed: {result.stderr.strip()[:300]}"
    except SandboxUnavailable as exc:
        problem = str(exc)
    notes = f" ({'; '.join(bwrap.notes)})" if bwrap.notes else ""
    statuses.append(
        LayerStatus(
            "bubblewrap",
            # Working only when the probe command ran: a run refused for any reason means commands are refused.
            "rootwrite" in facts and facts["rootwrite"] != "allowed",
            f"{bwrap.version} at {bwrap.path}: read-only root, private /tmp and /run, writable roots only, "
            f"capabilities dropped, new session{notes}",
        )
    )
    uid_map = facts.get("uid_map", "")
    statuses.append(
        LayerStatus(
            "user namespace",
            bool(uid_map) and uid_map != "0 0 4294967295",
            (f"uid map inside: {uid_map}; " if uid_map else problem)
            + ("nested user namespaces disabled" if "--disable-userns" in bwrap.flags
               else "nested user namespaces allowed"),
        )
    )
    pid = facts.get("pid", "")
    statuses.append(
        LayerStatus(
            "pid namespace",
            pid.isdigit() and int(pid) <= 3,
            f"the command runs as pid {pid} and sees only its own processes; the timeout kills the namespace"
            if pid
            else problem,
        )
    )
    ifaces = facts.get("ifaces", "")
    statuses.append(
        LayerStatus(
            "network namespace",
            ifaces == "lo",
            f"interfaces inside: {ifaces or 'none'}; a command gets the host network only when a rule allows it"
            if "ifaces" in facts
            else problem,
        )
    )
    abi, detail = _landlock_abi()
    applied = [layer for layer in layers if layer.startswith("landlock")]
    if applied:
        landlock = LayerStatus(
            "landlock",
            True,
            f"{detail}; applied inside the sandbox: writes only beneath the writable roots"
            + (", TCP bind/connect denied without a network rule" if abi >= 4 else "")
            + (", signals and abstract UNIX sockets scoped" if abi >= 6 else "")
            + (", pathname UNIX sockets outside writable roots refused" if abi >= 9 else ""),
        )
    else:
        landlock = LayerStatus("landlock", False, f"{detail}; bubblewrap alone confines writes" if abi < 1 else problem)
    statuses.append(landlock)
    root_note = (
        "; as root the kernel does not apply RLIMIT_NPROC (uid 0 is exempt), so process count relies on the cgroup "
        "and the timeout"
        if os.geteuid() == 0
        else "; RLIMIT_NPROC counts this user's processes in the sandbox's own user namespace"
    )
    statuses.append(
        LayerStatus(
            "rlimits",
            "rlimits" in layers and bool(limits),
            ", ".join(f"{name} {value}" for name, value in limits.items()) + root_note if limits else problem,
        )
    )
    statuses.append(_cgroup_status())
    statuses.append(_seccomp_status("seccomp" in layers, problem))
    return statuses


def _cgroup_status() -> LayerStatus:
    run = create_run_cgroup(256, 2 << 30)
    try:
        if run.applied:
            detail = "a cgroup per run bounds " + ", ".join(run.applied)
            if run.problems:
                detail += f" (not: {'; '.join(run.problems)})"
            return LayerStatus("cgroup", True, detail)
        return LayerStatus(
            "cgroup",
            False,
            "no writable cgroup for pids/memory here ("
            + "; ".join(run.problems)
            + "); the pid namespace, rlimits and the timeout bound the run instead",
        )
    finally:
        run.close()


_SECCOMP_SUMMARY = (
    "{count} system calls fail with EPERM (io_uring, bpf, userfaultfd, perf events, the keyring, mounts, "
    "namespaces, ptrace and other processes' memory, kernel modules, kexec, reboot, clock, swap, quotas), as do "
    "namespace flags to clone, personality flags and terminal input injection; only the native ABI is let through"
)


def _seccomp_summary() -> str:
    return _SECCOMP_SUMMARY.format(count=sum(len(names) for _why, names in REFUSED_SYSCALLS))


def _seccomp_status(applied: bool, problem: str) -> LayerStatus:
    if applied:
        return LayerStatus("seccomp", True, f"libseccomp filter loaded by bubblewrap: {_seccomp_summary()}")
    return LayerStatus("seccomp", False, f"{problem or 'not in force'}; commands are refused (fail closed)")


def _seccomp_status_without_bubblewrap() -> LayerStatus:
    if not sys.platform.startswith("linux"):
        return LayerStatus("seccomp", False, "seccomp is Linux only")
    try:
        compiled_filter()
    except SandboxUnavailable as exc:
        return LayerStatus("seccomp", False, str(exc))
    return LayerStatus("seccomp", False, f"built, but not applied: bubblewrap loads it ({_seccomp_summary()})")
