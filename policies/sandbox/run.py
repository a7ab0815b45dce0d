"""Run a command confined: bubblewrap namespaces, Landlock, rlimits, a per-run cgroup, a wall-clock timeout.

`run_sandboxed(spec)` executes `spec.argv` directly (never through a shell) inside bubblewrap:

- the whole file system read-only (`--ro-bind / /`), a fresh `/dev` and `/proc` (with `/proc/sys` read-only: as
  root it would otherwise be writable even without capabilities), private empty `/tmp` and `/run` (so the host's
  UNIX sockets there, e.g. D-Bus, Docker, ssh-agent, cannot be reached), the writable roots bound read-write
  with the protected paths inside them read-only again, and every secret the profile names (`~/.ssh`, keyrings,
  cloud and browser credentials, `*.key` files, `/etc/shadow`) and llmos's own folders (audit log, journal,
  daemon socket) hidden: `spec.confinement`, see `confine`;
- new user, PID, IPC, UTS, cgroup and (unless `spec.network`) network namespaces, no nested user namespaces,
  `--die-with-parent`, `--new-session` (no TIOCSTI into the person's terminal), all capabilities dropped;
- a seccomp filter (`syscall_filter`) that bubblewrap loads before the in-sandbox helper: io_uring, bpf, mounts,
  namespaces, ptrace, the keyring, kernel modules and other machine-wide controls fail with EPERM, and only the
  native ABI is let through;
- inside, before the exec, `inside.py` joins the run's cgroup, applies Landlock as a second, independent
  layer, and sets rlimits (see that module);
- the environment is built from an allow-list (`env`), plus the git settings that keep git from running any
  program a repository's configuration names (`git_env`); output is capped and neutralised (`output`);
- on timeout the namespace's PID 1 is killed, which makes the kernel kill every process in the namespace, daemons
  that double-forked with `setsid` included; when the command itself exits, the same happens to whatever it left.

Fail closed: if bubblewrap is missing or cannot create its namespaces here (checked once, then cached), the seccomp
filter cannot be built (pyseccomp or libseccomp missing) or was not in force when the helper ran, or the in-sandbox
helper cannot apply Landlock on a kernel that has it, `SandboxUnavailable` is raised and nothing runs.
"""

from __future__ import annotations

import json
import os
import select
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from llmos.policies.sandbox.bwrap import (
    HELPER,
    SandboxUnavailable,
    landlock_package_dir,
    mount_args,
    probe,
    reset_probe_cache,
    validated,
)
from llmos.policies.sandbox.cgroup import RunCgroup, create_run_cgroup
from llmos.policies.sandbox.confine import Confinement
from llmos.policies.sandbox.env import build_env
from llmos.policies.sandbox.git_env import git_environment
from llmos.policies.sandbox.output import CappedBuffer
from llmos.policies.sandbox.syscall_filter import filter_fd

__all__ = [
    "LayerStatus",
    "SandboxResult",
    "SandboxSpec",
    "SandboxUnavailable",
    "reset_probe_cache",
    "run_sandboxed",
]


@dataclass(frozen=True)
class SandboxSpec:
    argv: tuple[str, ...]
    cwd: Path
    writable_roots: tuple[Path, ...] = ()
    network: bool = False
    timeout_s: float = 30.0
    cpu_seconds: int = 60
    memory_bytes: int = 2 << 30
    """RLIMIT_AS per process, and the memory limit of the run's cgroup where there is one."""
    file_size_bytes: int = 1 << 30
    open_files: int = 256
    max_processes: int = 256
    """RLIMIT_NPROC (not applied by the kernel to root) and `pids.max` of the run's cgroup where there is one."""
    max_output_bytes: int = 64 * 1024
    """Per stream: stdout and stderr each keep at most this many bytes (head and tail)."""
    extra_env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    stdin: bytes | None = None
    confinement: Confinement | None = None
    """The secret, protected and llmos paths to hide or keep read-only (the active profile's, from
    `PolicyEngine.sandbox_confinement`); None means the default profile's, with `$HOME` as home."""
    hidden_paths: tuple[Path, ...] = ()
    """More paths made invisible (empty) inside the sandbox, besides what the confinement hides."""
    git_settings: tuple[tuple[str, str], ...] = ()
    """Overrides for repository-named git settings that run programs (`git_env.settings_to_neutralise`), on top of
    the fixed ones every run gets."""


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None
    """The command's exit status; None when it was killed for the timeout. A command killed by a signal reports
    128 + the signal number, as a shell does, and `signal` names it."""
    stdout: str
    stderr: str
    timed_out: bool
    output_truncated: bool
    layers: tuple[str, ...]
    """The layers that were applied to this run, e.g. ("bubblewrap", "seccomp", "landlock:abi7", "rlimits",
    "cgroup:pids")."""
    signal: str | None = None


@dataclass(frozen=True)
class LayerStatus:
    name: str
    working: bool
    detail: str


# ---------------------------------------------------------------------------------------------------------------
# running


_prctl = None


def _parent_death_signal() -> Callable[[], None]:
    """A preexec function for bwrap: if llmos dies, bwrap gets SIGKILL (and with it, through --die-with-parent,
    the whole sandbox). The prctl function is looked up here, in the parent, so the child between fork and exec
    only makes one foreign call (no dlopen, no import, no lock)."""
    global _prctl
    if _prctl is None:
        import ctypes

        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl = _prctl
    kill = int(signal.SIGKILL)

    def set_signal() -> None:
        prctl(1, kill, 0, 0, 0)  # PR_SET_PDEATHSIG

    return set_signal


class _Run:
    """The state of one bwrap process while it runs: pipes, the namespace's PID 1, the deadline."""

    def __init__(self, process: subprocess.Popen[bytes], spec: SandboxSpec, status_fd: int, info_fd: int) -> None:
        self.process = process
        self.spec = spec
        self.stdout = CappedBuffer(spec.max_output_bytes)
        self.stderr = CappedBuffer(spec.max_output_bytes)
        self.status = bytearray()
        self.info = bytearray()
        self.status_fd = status_fd
        self.info_fd = info_fd
        self.pidfd: int | None = None
        self.child_pid: int | None = None
        self.timed_out = False

    def _note_child(self) -> None:
        if self.child_pid is not None:
            return
        try:
            info = json.loads(self.info.decode())
        except ValueError:
            return
        self.child_pid = int(info.get("child-pid", 0)) or None
        if self.child_pid and self.process.poll() is None:
            try:
                self.pidfd = os.pidfd_open(self.child_pid)
            except (OSError, AttributeError):
                self.pidfd = None

    def kill_namespace(self) -> None:
        """SIGKILL the namespace's PID 1: the kernel then kills every process in the namespace."""
        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except (OSError, AttributeError):
                pass
        elif self.child_pid is not None and self.process.poll() is None:
            try:
                os.kill(self.child_pid, signal.SIGKILL)
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.kill()  # bwrap's --die-with-parent then kills the namespace too

    def pump(self) -> None:
        process, spec = self.process, self.spec
        assert process.stdout is not None and process.stderr is not None
        selector = selectors.DefaultSelector()
        sinks: dict[int, bytearray | CappedBuffer] = {
            process.stdout.fileno(): self.stdout,
            process.stderr.fileno(): self.stderr,
            self.status_fd: self.status,
            self.info_fd: self.info,
        }
        for fd in sinks:
            selector.register(fd, selectors.EVENT_READ)
        pending = memoryview(spec.stdin or b"")
        stdin_fd = -1
        if process.stdin is not None:
            if pending:
                stdin_fd = process.stdin.fileno()
                os.set_blocking(stdin_fd, False)
                selector.register(stdin_fd, selectors.EVENT_WRITE)
            else:
                process.stdin.close()
        deadline = time.monotonic() + spec.timeout_s
        give_up = None
        while selector.get_map():
            now = time.monotonic()
            if not self.timed_out and now >= deadline:
                self.timed_out = True
                self.kill_namespace()
                give_up = now + 10.0
            if give_up is not None and now >= give_up:
                break
            wait = (deadline if give_up is None else give_up) - now
            for key, _ in selector.select(timeout=max(0.0, min(wait, 1.0))):
                fd = key.fd
                if fd == stdin_fd:
                    try:
                        written = os.write(fd, pending[:65536])
                        pending = pending[written:]
                    except BlockingIOError:
                        continue
                    except OSError:
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(fd)
                        assert process.stdin is not None  # stdin_fd is set only for the stdin pipe
                        process.stdin.close()
                        stdin_fd = -1
                    continue
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    selector.unregister(fd)
                    continue
                sink = sinks[fd]
                if isinstance(sink, CappedBuffer):
                    sink.write(data)
                else:
                    sink.extend(data)
                    if fd == self.info_fd:
                        self._note_child()
        selector.close()
        remaining = max(0.1, deadline - time.monotonic()) if not self.timed_out else 10.0
        try:
            process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.kill_namespace()
            process.wait(timeout=10.0)
        if self.pidfd is not None:
            # Readable once PID 1 has exited, which the kernel allows only after every process in the namespace
            # is gone.
            select.select([self.pidfd], [], [], 10.0)


def _parse_report(raw: bytes) -> dict[str, list[str]]:
    report: dict[str, list[str]] = {}
    for line in raw.decode(errors="replace").splitlines():
        key, _, value = line.partition("=")
        report.setdefault(key, []).append(value)
    return report


def _layers(report: dict[str, list[str]], cgroup: RunCgroup) -> tuple[str, ...]:
    layers = ["bubblewrap"]
    if _seccomp_in_force(report):
        layers.append("seccomp")
    landlock = report.get("landlock", [""])[0]
    if landlock.startswith("applied"):
        abi = landlock.split("ABI ", 1)[1].split(",", 1)[0] if "ABI " in landlock else "?"
        layers.append(f"landlock:abi{abi}")
    if report.get("ready"):
        layers.append("rlimits")
    # One outcome per cgroup joined, one `applied` per controller: on cgroup v2 a cgroup carries both controllers,
    # so the lists need not be of the same length.
    for applied, outcome in zip(cgroup.applied, report.get("cgroup", []), strict=False):
        if outcome == "joined":
            layers.append("cgroup:" + applied.split()[0])
    return tuple(layers)


def _seccomp_in_force(report: dict[str, list[str]]) -> bool:
    """The helper found more seccomp filters on itself than llmos has (it does not exec otherwise)."""
    return report.get("seccomp", [""])[0].startswith("applied")


def _own_seccomp_filters() -> int:
    """How many seccomp filters this process already has (a container's, say): the helper must see more."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Seccomp_filters:"):
                    return int(line.split(":", 1)[1])
                if line.startswith("Seccomp:") and line.split(":", 1)[1].strip() == "0":
                    return 0
    except (OSError, ValueError):
        pass
    return -1  # unknown (a kernel before 5.9 without a filter count): the helper then checks the mode alone


def run_sandboxed(spec: SandboxSpec) -> SandboxResult:
    """Run `spec.argv` in the sandbox and return what happened. Raises `SandboxUnavailable` (nothing was run)
    when the sandbox cannot be applied, `ValueError` for a spec that cannot be honoured."""
    cwd, roots = validated(spec)
    bwrap = probe()
    seccomp_fd = filter_fd()
    env = build_env(os.environ, spec.extra_env)
    env.update(git_environment(spec.git_settings))  # after build_env: nothing a caller passes can undo it
    mounts = mount_args(spec, cwd, roots, os.environ.get("HOME"))
    network = () if spec.network else ("--unshare-net",)
    cgroup = create_run_cgroup(spec.max_processes, spec.memory_bytes)
    status_read, status_write = os.pipe2(os.O_CLOEXEC)
    info_read, info_write = os.pipe2(os.O_CLOEXEC)
    helper_args = ["--status-fd", str(status_write), "--seccomp-filters-above", str(_own_seccomp_filters())]
    for fd in cgroup.fds:
        helper_args += ["--cgroup-fd", str(fd)]
    for root in roots:
        helper_args += ["--writable", str(root)]
    if spec.network:
        helper_args.append("--network")
    package = landlock_package_dir()
    if package:
        helper_args += ["--landlock-package", package]
    limits = {
        "cpu": spec.cpu_seconds,
        "as": spec.memory_bytes,
        "fsize": spec.file_size_bytes,
        "nofile": spec.open_files,
        "nproc": spec.max_processes,
    }
    for name, value in limits.items():
        helper_args += ["--rlimit", f"{name}={int(value)}"]
    command = [bwrap.path, *bwrap.flags, *network, *mounts, "--info-fd", str(info_write)]
    command += ["--seccomp", str(seccomp_fd), "--"]
    command += [sys.executable, "-I", "-S", str(HELPER), *helper_args, "--", *spec.argv]
    try:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if spec.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                pass_fds=(status_write, info_write, seccomp_fd, *cgroup.fds),
                start_new_session=True,
                preexec_fn=_parent_death_signal(),  # one prctl call, prepared in the parent
            )
        finally:
            os.close(status_write)
            os.close(info_write)
            os.close(seccomp_fd)
            cgroup.close_fds()
        run = _Run(process, spec, status_read, info_read)
        try:
            run.pump()
        except BaseException:
            run.kill_namespace()
            process.wait(timeout=10.0)
            raise
        finally:
            for stream in (process.stdout, process.stderr, process.stdin):
                if stream is not None:
                    stream.close()
            if run.pidfd is not None:
                os.close(run.pidfd)
    finally:
        os.close(status_read)
        os.close(info_read)
        cgroup.close()
    report = _parse_report(bytes(run.status))
    layers = _layers(report, cgroup)
    if "error" in report:
        raise SandboxUnavailable(f"the sandbox could not be completed, so nothing was run: {report['error'][0]}")
    if not report.get("ready") and not run.timed_out:
        problem = run.stderr.text().strip() or f"bubblewrap exit status {process.returncode}"
        raise SandboxUnavailable(f"the sandbox could not be set up, so nothing was run: {problem}")

    code = process.returncode
    signal_name = None
    if run.timed_out:
        code, signal_name = None, "SIGKILL"
    elif code is not None and code < 0:
        signal_name, code = _signal_name(-code), 128 - code
    elif code is not None and 128 < code < 128 + 65:
        signal_name = _signal_name(code - 128)
    return SandboxResult(
        exit_code=code,
        stdout=run.stdout.text(),
        stderr=run.stderr.text(),
        timed_out=run.timed_out,
        output_truncated=run.stdout.truncated or run.stderr.truncated,
        layers=layers,
        signal=signal_name,
    )


def _signal_name(number: int) -> str | None:
    try:
        return signal.Signals(number).name
    except ValueError:
        return None
