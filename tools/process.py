"""Read-only process tools: which programs run, and what one of them is using.

Fields a process will not show us (another user's, without privileges) come back as null rather than failing
the call; a process that exits while we look is left out of a list, or reported as gone for `process.info`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import psutil
from llmos.tools._format import clamp, human_size, iso_time, trim_text
from llmos.tools.paths import display_path
from llmos.tools.registry import ToolError, tool

from llmos.effects import Effect

COMMAND_LINE_CHARS = 120
# Per-process CPU percent is the CPU time used between two samples; this is the gap between them.
CPU_SAMPLE_SECONDS = 0.2
_LIST_ATTRS = ["pid", "name", "username", "status", "cmdline"]

# Processes left out of listings: llmos itself, once a front end says so. "What is using the most memory?" is
# never usefully answered with "llmos, which is answering you" (it holds a 1 GB model).
_hidden_pids: set[int] = set()


def hide_from_listings(pid: int) -> None:
    """Leave `pid` out of process.list (the running llmos front end or daemon calls this for itself)."""
    _hidden_pids.add(pid)


@contextlib.contextmanager
def hidden_from_listings(pid: int) -> Iterator[None]:
    """Leave `pid` out of process.list while the block runs: the daemon's client (`llmos-ask`), whose command
    line holds the request ("what command line is renderfarm running with?" matched it, not renderfarm)."""
    added = pid not in _hidden_pids
    _hidden_pids.add(pid)
    try:
        yield
    finally:
        if added:
            _hidden_pids.discard(pid)


def hidden_pids() -> frozenset[int]:
    """The pids front ends asked to leave out (llmos itself)."""
    return frozenset(_hidden_pids)


@tool("process.list", Effect.READ)
def list_processes(
    sort: Literal["cpu", "memory", "name", "pid"] = "cpu", name: str | None = None, limit: int = 15
) -> dict[str, Any]:
    """List running processes, busiest first.

    Args:
        sort: cpu, memory, name or pid.
        name: only processes whose name or command contains this.
        limit: most processes to show.
    """
    all_processes = process_snapshots(_LIST_ATTRS)
    wanted = name.strip().casefold() if name else ""
    chosen = [
        (proc, info)
        for proc, info in all_processes
        if proc.pid not in _hidden_pids and (not wanted or wanted in _searchable_text(info))
    ]
    for proc, _ in chosen:
        with contextlib.suppress(psutil.Error):
            proc.cpu_percent(None)  # first sample; the second, after the sleep, gives the percent
    if chosen:
        time.sleep(CPU_SAMPLE_SECONDS)
    rows = [row for row in (_process_row(proc, info) for proc, info in chosen) if row is not None]
    rows.sort(key=_SORT_KEYS[sort])
    shown = rows[: clamp(limit, 1, 500)]
    result: dict[str, Any] = {"total": len(all_processes)}
    if name:
        result["matching"] = len(rows)
    result.update(sort=sort, shown=len(shown), processes=shown)
    hidden_here = sorted(pid for pid in _hidden_pids if psutil.pid_exists(pid))
    if hidden_here:
        result["not_shown"] = f"llmos itself (pid {', '.join(map(str, hidden_here))})"
    return result


@tool("process.info", Effect.READ)
def process_info(pid: int) -> dict[str, Any]:
    """Show details of one process by pid.

    Args:
        pid: process id.
    """
    try:
        proc = psutil.Process(pid)
        proc.cpu_percent(None)
        time.sleep(CPU_SAMPLE_SECONDS)
        with proc.oneshot():
            name = proc.name()
            parent = _allowed(proc.parent)
            memory_info = _allowed(proc.memory_info)
            cmdline = _allowed(proc.cmdline)
            cwd = _allowed(proc.cwd)
            exe = _allowed(proc.exe)
            open_files = _allowed(proc.open_files)
            result: dict[str, Any] = {
                "pid": pid,
                "name": name,
                "exe": exe or None,
                "cmdline": trim_text(_command_text(cmdline), 1000) if cmdline else None,
                "user": _allowed(proc.username),
                "status": _allowed(proc.status),
                "started": iso_time(proc.create_time()),
                "cpu_percent": _rounded(_allowed(proc.cpu_percent, None)),
                "memory_percent": _rounded(_allowed(proc.memory_percent)),
                "rss": memory_info.rss if memory_info else None,
                "rss_human": human_size(memory_info.rss) if memory_info else None,
                "threads": _allowed(proc.num_threads),
                "open_files": len(open_files) if open_files is not None else None,
                "cwd": display_path(Path(cwd)) if cwd else None,
                "parent_pid": parent.pid if parent else None,
                "parent_name": _allowed(parent.name) if parent else None,
                "children": len(_allowed(proc.children) or []),
            }
    except psutil.NoSuchProcess:
        raise ToolError(f"no process with pid {pid} (it may have exited)") from None
    except psutil.AccessDenied:
        raise ToolError(f"not allowed to inspect process {pid}") from None
    return result


def process_snapshots(attrs: list[str]) -> list[tuple[psutil.Process, dict[str, Any]]]:
    """Every running process with `attrs` read now (None where not allowed); one that exits meanwhile is left
    out. Not `process_iter(attrs)`: psutil shares its Process objects between callers, and the `.info` that call
    sets on them was overwritten by another thread's call (the daemon's memory sampler), so a list lost its pids
    (a KeyError: 'pid' in the eval)."""
    found: list[tuple[psutil.Process, dict[str, Any]]] = []
    for proc in psutil.process_iter():
        try:
            found.append((proc, proc.as_dict(attrs=attrs, ad_value=None)))
        except psutil.NoSuchProcess:
            continue
    return found


def _searchable_text(info: dict[str, Any]) -> str:
    return f"{info.get('name') or ''} {' '.join(info.get('cmdline') or [])}".casefold()


def _process_row(proc: psutil.Process, info: dict[str, Any]) -> dict[str, Any] | None:
    """One line of the list, or None when the process exited meanwhile."""
    try:
        with proc.oneshot():
            cpu = _allowed(proc.cpu_percent, None)
            memory_percent = _allowed(proc.memory_percent)
            memory_info = _allowed(proc.memory_info)
    except psutil.NoSuchProcess:
        return None
    cmdline = _command_text(info.get("cmdline") or [])
    return {
        "pid": proc.pid,
        "name": info.get("name") or "",
        "user": info.get("username"),
        "cpu_percent": _rounded(cpu),
        "memory_percent": _rounded(memory_percent),
        "rss": memory_info.rss if memory_info else None,
        "rss_human": human_size(memory_info.rss) if memory_info else None,
        "status": info.get("status"),
        "command": trim_text(cmdline, COMMAND_LINE_CHARS) if cmdline else None,
    }


_SORT_KEYS = {
    "cpu": lambda row: (-(row["cpu_percent"] or 0.0), -(row["memory_percent"] or 0.0), row["pid"]),
    # The percent is rounded to 0.1: below it, resident bytes order the many small processes (not their pids).
    "memory": lambda row: (-(row["memory_percent"] or 0.0), -(row["rss"] or 0), row["pid"]),
    "name": lambda row: (row["name"].casefold(), row["pid"]),
    "pid": lambda row: row["pid"],
}


def _command_text(argv: list[str]) -> str:
    """The command line on one line: arguments joined, runs of whitespace (newlines in `-c` code) made single."""
    return " ".join(" ".join(argv).split())


def _allowed(method: Any, *args: Any) -> Any:
    """The method's value, or None where the process will not tell us (another user's, a zombie)."""
    try:
        return method(*args)
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
