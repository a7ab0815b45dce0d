"""Process tools that change things: `process.signal` and `process.renice`. The preview names each target
process with its owner, so policy can refuse another user's process, PID 1 or "all" before anything is sent."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import signal as signals
from collections.abc import Callable
from typing import Any, Literal

import psutil
from llmos.policies.impact import Impact, ProcessEffect
from llmos.tools.process import hidden_pids
from llmos.tools.registry import ToolError, tool

from llmos.effects import Effect

SignalName = Literal["terminate", "kill", "suspend", "resume"]
_SIGNALS: dict[str, signals.Signals] = {
    "terminate": signals.SIGTERM,
    "kill": signals.SIGKILL,
    "suspend": signals.SIGSTOP,
    "resume": signals.SIGCONT,
}


# More matches than this for one name is not "that program" any more; the call is refused before the preview
# lists hundreds of processes.
MAX_NAME_MATCHES = 64


def _target(pid: int, action: str) -> Impact:
    if pid <= 0:
        # 0, -1 and negative pids mean process groups or every process to kill(2): never a single target.
        return Impact(all_processes=True, notes=(f"pid {pid} means a whole group or every process",))
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            return Impact(processes=(_effect(process, action),))
    except psutil.NoSuchProcess:
        raise ToolError(f"no process with pid {pid}") from None


def _effect(process: psutil.Process, action: str) -> ProcessEffect:
    try:
        user = process.username()
    except (psutil.AccessDenied, KeyError):
        user = None
    return ProcessEffect(pid=process.pid, name=process.name(), user=user, action=action)


def _names(process: psutil.Process) -> set[str]:
    """What a person calls the process: its name, and the file name of the program its command line starts with
    (the kernel's name is cut to 15 characters; interpreters show as python3 with the script after)."""
    names = {process.name().casefold()}
    with contextlib.suppress(psutil.Error, IndexError):
        names.add(os.path.basename(process.cmdline()[0]).casefold())
    return names


def _by_name(pattern: str, action: str) -> Impact:
    """Every process called `pattern` (exactly, ignoring case; * and ? as wildcards), except llmos itself."""
    wanted = pattern.strip().casefold()
    if not wanted:
        raise ToolError("give a process name or a pid")
    if not wanted.strip("*"):
        return Impact(all_processes=True, process_names=(pattern,),
                      notes=(f"the name {pattern!r} matches every process",))
    has_wildcards = any(char in wanted for char in "*?[")
    own = {os.getpid(), *hidden_pids()}
    matched: list[ProcessEffect] = []
    for process in psutil.process_iter():
        if process.pid in own:
            continue
        try:
            with process.oneshot():
                names = _names(process)
                if wanted in names or (has_wildcards and any(fnmatch.fnmatchcase(n, wanted) for n in names)):
                    matched.append(_effect(process, action))
        except psutil.Error:
            continue  # gone, or not ours to inspect
    if not matched:
        raise ToolError(f"no process named {pattern!r} (process.list with name={pattern!r} finds similar ones)",
                        named=Impact(process_names=(pattern,)))
    if len(matched) > MAX_NAME_MATCHES:
        return Impact(all_processes=True, process_names=(pattern,),
                      notes=(f"the name {pattern!r} matches {len(matched)} processes",))
    return Impact(processes=tuple(matched), process_names=(pattern,))


def _targets(pid: int | None, name: str | None, action: str) -> Impact:
    if (pid is None) == (name is None):
        raise ToolError("give either pid or name (not both)")
    return _target(pid, action) if pid is not None else _by_name(name or "", action)


def preview_signal(pid: int | None = None, name: str | None = None, signal: SignalName = "terminate") -> Impact:
    return _targets(pid, name, signal)


@tool("process.signal", Effect.PROCESS, preview=preview_signal)
def signal_process(pid: int | None = None, name: str | None = None, signal: SignalName = "terminate") -> dict[str, Any]:
    """Stop, kill, suspend or resume a process, by name or by pid.

    Args:
        pid: the process id (from process.list).
        name: the program's name, e.g. firefox: every process of that name.
        signal: terminate (ask to quit), kill (force), suspend or resume.
    """

    def send(target: ProcessEffect) -> dict[str, Any]:
        try:
            os.kill(target.pid, _SIGNALS[signal])
        except ProcessLookupError:
            raise ToolError(f"pid {target.pid} had already exited") from None
        except PermissionError:
            raise ToolError(f"not allowed to signal pid {target.pid}") from None
        return {"pid": target.pid, "name": target.name}

    return {"sent": signal, **_on_each_target(pid, name, signal, send)}


def preview_renice(priority: int, pid: int | None = None, name: str | None = None) -> Impact:
    impact = _targets(pid, name, "renice")
    return Impact(processes=impact.processes, all_processes=impact.all_processes,
                  notes=(*impact.notes, f"new niceness {priority}"))


@tool("process.renice", Effect.PROCESS, preview=preview_renice)
def renice_process(priority: int, pid: int | None = None, name: str | None = None) -> dict[str, Any]:
    """Change a process's CPU priority (niceness 0 to 19; higher is gentler), by name or by pid.

    Args:
        priority: niceness from 0 (normal) to 19 (lowest priority).
        pid: the process id.
        name: the program's name: every process of that name.
    """
    if not 0 <= priority <= 19:
        raise ToolError("priority must be between 0 and 19")

    def renice(target: ProcessEffect) -> dict[str, Any]:
        try:
            process = psutil.Process(target.pid)
            before = process.nice()
            process.nice(priority)
        except psutil.NoSuchProcess:
            raise ToolError(f"pid {target.pid} had already exited") from None
        except psutil.AccessDenied:
            raise ToolError(f"not allowed to change the priority of pid {target.pid}") from None
        return {"pid": target.pid, "name": target.name, "niceness_before": before}

    return {"niceness": priority, **_on_each_target(pid, name, "renice", renice)}


def _on_each_target(pid: int | None, name: str | None, action: str,
                    act: Callable[[ProcessEffect], dict[str, Any]]) -> dict[str, Any]:
    """`act` on each process the call targets: what it did to each, and why it failed for others (a ToolError
    from `act`); an error only when it succeeded for none."""
    impact = _targets(pid, name, action)
    if impact.all_processes:
        raise ToolError("a single pid or a program's name is required")
    done: list[dict[str, Any]] = []
    failed: list[str] = []
    for target in impact.processes:
        try:
            done.append(act(target))
        except ToolError as exc:
            failed.append(str(exc))
    if not done:
        raise ToolError("; ".join(failed))
    return {"processes": done, "failed": failed} if failed else {"processes": done}
