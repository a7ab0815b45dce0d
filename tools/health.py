"""`system.health`: why the computer is slow, in numbers. One sample of CPU (overall, per process, I/O wait),
memory, swap and the disk holding HOME, turned into findings that name the processes behind them and the
ordinary tool calls that would help (renice, suspend, terminate, look for big files), which still go through
policy when someone makes them.

Judged against fixed thresholds from one sample, and, where the daemon keeps a rolling history of per-process
memory (`ResourceHistory`, sampled in the background), against that baseline too: a process whose memory keeps
growing is named. llmos itself (the model answering this question uses the CPU) is never named as the cause.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from llmos.tools._format import human_size
from llmos.tools.paths import display_path
from llmos.tools.process import hidden_pids, process_snapshots
from llmos.tools.registry import tool

from llmos.effects import Effect

SAMPLE_SECONDS = 0.5
"""CPU shares are measured between two readings this far apart."""
HOG_CORE_PERCENT = 50.0
"""A process using at least half of one core over the sample is named as a CPU hog."""
BUSY_CPU_PERCENT = 85.0
LOAD_PER_CORE = 1.5
"""A one-minute load average above this many runnable tasks per core means work is queueing for the CPU."""
MEMORY_PRESSURE_PERCENT = 90.0
SWAP_PERCENT = 50.0
DISK_FULL_PERCENT = 90.0
IO_WAIT_PERCENT = 20.0
TOP_COUNT = 3
HISTORY_SAMPLE_SECONDS = 15.0
HISTORY_LENGTH = 40
"""Samples kept: ten minutes at one every 15 s."""
GROWTH_MIN_SAMPLES = 8
GROWTH_MIN_BYTES = 100 * 1024 * 1024
GROWTH_MIN_RATIO = 1.2
"""A process is "growing" when its memory rose in most samples, by at least 100 MB and 20% over the window."""


class ResourceHistory:
    """A rolling record of each process's resident memory, for the baseline `system.health` compares against.
    Thread-safe: the daemon's sampler thread adds, requests read."""

    def __init__(self, length: int = HISTORY_LENGTH) -> None:
        self._samples: deque[tuple[float, dict[int, tuple[str, int]]]] = deque(maxlen=length)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)

    def add(self, at: float, memory_by_pid: dict[int, tuple[str, int]]) -> None:
        with self._lock:
            self._samples.append((at, dict(memory_by_pid)))

    def sample_now(self) -> None:
        memory: dict[int, tuple[str, int]] = {}
        for process, info in process_snapshots(["name", "memory_info"]):
            if info.get("memory_info") is not None:
                memory[process.pid] = (info.get("name") or "?", info["memory_info"].rss)
        self.add(time.time(), memory)

    def growing(self, exclude: Collection[int] = ()) -> list[tuple[int, str, int, int, float]]:
        """(pid, name, first rss, last rss, minutes) for each process whose memory kept growing, biggest gain
        first."""
        with self._lock:
            samples = list(self._samples)
        if len(samples) < GROWTH_MIN_SAMPLES:
            return []
        found: list[tuple[int, str, int, int, float]] = []
        for pid, (name, last) in samples[-1][1].items():
            if pid in exclude:
                continue
            series = [memory[pid][1] for _, memory in samples if pid in memory]
            if len(series) < GROWTH_MIN_SAMPLES:
                continue
            rises = sum(1 for before, after in itertools.pairwise(series) if after > before)
            first = series[0]
            grows_steadily = rises * 4 >= (len(series) - 1) * 3
            if grows_steadily and last - first >= GROWTH_MIN_BYTES and last >= first * GROWTH_MIN_RATIO:
                found.append((pid, name, first, last, (samples[-1][0] - samples[0][0]) / 60))
        return sorted(found, key=lambda item: item[2] - item[3])


_history: ResourceHistory | None = None


def keep_history(interval: float = HISTORY_SAMPLE_SECONDS, stop: threading.Event | None = None) -> ResourceHistory:
    """Start sampling per-process memory in a background thread (the daemon does, so health checks have a
    baseline); returns the history, which `system.health` reads from then on."""
    global _history
    history = ResourceHistory()
    _history = history
    stopping = stop or threading.Event()

    def run() -> None:
        while not stopping.is_set():
            with contextlib.suppress(Exception):  # a sampling hiccup must never end the daemon
                history.sample_now()
            stopping.wait(interval)

    threading.Thread(target=run, name="health-history", daemon=True).start()
    return history


def use_history(history: ResourceHistory | None) -> None:
    """Set (or clear) the history `system.health` compares against."""
    global _history
    _history = history


@dataclass(frozen=True)
class ProcessUse:
    pid: int
    name: str
    user: str | None
    cpu_percent: float
    """Of one core (a process busy on two cores shows 200)."""
    rss: int


@tool("system.health", Effect.READ)
def system_health() -> dict[str, Any]:
    """Why the computer is slow: CPU, memory and disk pressure, and the processes causing it."""
    own = {os.getpid(), *hidden_pids()}
    processes, busy_cpu, io_wait = _sample_processes(SAMPLE_SECONDS, own)
    cores = psutil.cpu_count() or 1
    load_1m = psutil.getloadavg()[0]
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    home = os.path.expanduser("~")
    disk = psutil.disk_usage(home)

    by_cpu = sorted(processes, key=lambda use: -use.cpu_percent)
    by_memory = sorted(processes, key=lambda use: -use.rss)
    findings: list[dict[str, Any]] = []
    for use in by_cpu:
        if use.cpu_percent < HOG_CORE_PERCENT:
            break
        findings.append({
            "kind": "cpu_hog", "pid": use.pid, "name": use.name,
            "text": f"{use.name} (pid {use.pid}) is using {use.cpu_percent:.0f}% of a CPU core",
            "remedies": f"process.renice pid={use.pid} priority=19 (lower its priority), or process.signal "
                        f"pid={use.pid} with signal=suspend (pause) or signal=terminate (stop)",
        })
    if busy_cpu >= BUSY_CPU_PERCENT:
        findings.append({"kind": "cpu_busy", "text": f"the CPU is {busy_cpu:.0f}% busy across {cores} cores"})
    if load_1m > LOAD_PER_CORE * cores:
        findings.append({"kind": "load", "text": f"load average {load_1m:.1f} on {cores} cores: work is waiting "
                                                 "for the CPU"})
    if io_wait >= IO_WAIT_PERCENT:
        findings.append({"kind": "io_wait", "text": f"the CPU waits on the disk {io_wait:.0f}% of the time"})
    if memory.percent >= MEMORY_PRESSURE_PERCENT:
        biggest = by_memory[0] if by_memory else None
        findings.append({
            "kind": "memory_pressure",
            "text": f"memory is {memory.percent:.0f}% used ({human_size(memory.available)} available)"
                    + (f"; the biggest user is {biggest.name} (pid {biggest.pid}, {human_size(biggest.rss)})"
                       if biggest else ""),
            **({"pid": biggest.pid, "name": biggest.name} if biggest else {}),
        })
    if _history is not None:
        for pid, name, first, last, minutes in _history.growing(own):
            findings.append({
                "kind": "memory_growth", "pid": pid, "name": name,
                "text": f"{name} (pid {pid}) keeps growing: {human_size(first)} to {human_size(last)} in "
                        f"{minutes:.0f} min",
                "remedies": f"process.signal pid={pid} signal=terminate (stop it; restarting it frees the memory)",
            })
    if swap.total and swap.percent >= SWAP_PERCENT:
        findings.append({"kind": "swap", "text": f"swap is {swap.percent:.0f}% used: memory is being paged to "
                                                 "disk"})
    if disk.percent >= DISK_FULL_PERCENT:
        findings.append({
            "kind": "disk_full",
            "text": f"the disk holding {display_path(Path(home))} is {disk.percent:.0f}% full "
                    f"({human_size(disk.free)} free)",
            "remedies": "files.disk_usage path=~ shows what takes the space",
        })

    result: dict[str, Any] = {
        "verdict": findings[0]["text"] if findings else "nothing stands out: CPU, memory, swap and disk look normal",
        "findings": findings,
        "cpu": {"percent": round(busy_cpu, 1), "cores": cores, "load_average_1m": round(load_1m, 2),
                "io_wait_percent": round(io_wait, 1)},
        "memory": {"percent": memory.percent, "available": human_size(memory.available)},
        "swap": {"percent": swap.percent, "used": human_size(swap.used)} if swap.total else "none",
        "disk": {"path": display_path(Path(home)), "percent": disk.percent, "free": human_size(disk.free)},
        "top_cpu": [_row(use) for use in by_cpu[:TOP_COUNT]],
        "top_memory": [_row(use) for use in by_memory[:TOP_COUNT]],
    }
    return result


def _row(use: ProcessUse) -> dict[str, Any]:
    return {"pid": use.pid, "name": use.name, "user": use.user, "cpu_percent": round(use.cpu_percent, 1),
            "rss": human_size(use.rss)}


def _sample_processes(seconds: float, own: Collection[int], wait: Callable[[float], object] = time.sleep,
                      ) -> tuple[list[ProcessUse], float, float]:
    """Every process's CPU share over `seconds`, with the whole CPU's busy and I/O-wait percents over the same
    interval; the `own` pids (llmos itself and the processes front ends hid) are left out. `wait` spends the
    interval between the two readings (a test measures a process within it)."""
    tracked: list[psutil.Process] = []
    for process in psutil.process_iter():
        if process.pid in own:
            continue
        with contextlib.suppress(psutil.Error):
            process.cpu_percent(None)  # the first reading; the second, after the sleep, gives the share
            tracked.append(process)
    before = psutil.cpu_times()
    wait(seconds)
    after = psutil.cpu_times()
    uses: list[ProcessUse] = []
    for process in tracked:
        try:
            with process.oneshot():
                share = process.cpu_percent(None)
                try:
                    user = process.username()
                except (psutil.AccessDenied, KeyError):
                    user = None
                uses.append(ProcessUse(process.pid, process.name(), user, share, process.memory_info().rss))
        except psutil.Error:
            continue  # exited during the sample, or not ours to read
    return uses, *_busy_and_io_wait(before, after)


def _busy_and_io_wait(before: Any, after: Any) -> tuple[float, float]:
    deltas = {name: getattr(after, name) - getattr(before, name) for name in after._fields}
    total = sum(deltas.values()) or 1.0
    idle = deltas.get("idle", 0.0) + deltas.get("iowait", 0.0)
    return 100.0 * (total - idle) / total, 100.0 * deltas.get("iowait", 0.0) / total
