"""Process tools that change things: `process.signal` and `process.renice`. The preview names each target
process with its owner, so policy can refuse another user's process, PID 1 or "all" before anything is sent."""

from __future__ import annotations

import os
import signal as signals
from typing import Any, Literal

import psutil

from llmos.policies.impact import Impact, ProcessEffect
from llmos.tools.registry import Effect, ToolError, tool

SignalName = Literal["terminate", "kill", "suspend", "resume"]
_SIGNALS: dict[str, signals.Signals] = {
    "terminate": signals.SIGTERM,
    "kill": signals.SIGKILL,
    "suspend": signals.SIGSTOP,
    "resume": signals.SIGCONT,
}


def _target(pid: int, action: str) -> Impact:
    if pid <= 0:
        # 0, -1 and negative pids mean process groups or every process to kill(2): never a single target.
        return Impact(all_processes=True, notes=(f"pid {pid} means a whole group or every process",))
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            name = process.name()
            try:
                user = process.username()
            except (psutil.AccessDenied, KeyError):
                user = None
    except psutil.NoSuchProcess:
        raise ToolError(f"no process with pid {pid}") from None
    return Impact(processes=(ProcessEffect(pid=pid, name=name, user=user, action=action),))


def preview_signal(pid: int, signal: SignalName = "terminate") -> Impact:
    return _target(pid, signal)


@tool("process.signal", Effect.PROCESS, preview=preview_signal)
def signal_process(pid: int, signal: SignalName = "terminate") -> dict[str, Any]:
    """Stop, kill, suspend or resume one process by pid.

    Args:
        pid: the process id (from process.list).
        signal: terminate (ask to quit), kill (force), suspend or resume.
    """
    if pid <= 0:
        raise ToolError("a single positive pid is required")
    impact = _target(pid, signal)
    try:
        os.kill(pid, _SIGNALS[signal])
    except ProcessLookupError:
        raise ToolError(f"no process with pid {pid}") from None
    except PermissionError:
        raise ToolError(f"not allowed to signal pid {pid}") from None
    name = impact.processes[0].name
    return {"pid": pid, "name": name, "sent": signal}


def preview_renice(pid: int, priority: int) -> Impact:
    impact = _target(pid, "renice")
    return Impact(processes=impact.processes, all_processes=impact.all_processes,
                  notes=(*impact.notes, f"new niceness {priority}"))


@tool("process.renice", Effect.PROCESS, preview=preview_renice)
def renice_process(pid: int, priority: int) -> dict[str, Any]:
    """Change a process's CPU priority (niceness 0 to 19; higher is gentler).

    Args:
        pid: the process id.
        priority: niceness from 0 (normal) to 19 (lowest priority).
    """
    if pid <= 0:
        raise ToolError("a single positive pid is required")
    if not 0 <= priority <= 19:
        raise ToolError("priority must be between 0 and 19")
    try:
        process = psutil.Process(pid)
        before = process.nice()
        process.nice(priority)
    except psutil.NoSuchProcess:
        raise ToolError(f"no process with pid {pid}") from None
    except psutil.AccessDenied:
        raise ToolError(f"not allowed to change the priority of pid {pid}") from None
    return {"pid": pid, "name": process.name(), "niceness_before": before, "niceness": priority}
