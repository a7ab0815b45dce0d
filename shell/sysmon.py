"""Samples of the machine's load (CPU, memory, disk, network, top processes) for the TUI's system pane.

Headless: plain dataclasses from psutil, no UI library, so it can be tested and reused (a future `llmos top`).
A `Sampler` keeps what rates need between samples (network counters, per-process CPU times); each `sample()`
call is cheap enough (a few ms to tens of ms) to run every second or two from a thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil
from llmos.tools.health import DISK_FULL_PERCENT, HOG_CORE_PERCENT, MEMORY_PRESSURE_PERCENT
from llmos.tools.process import hidden_pids

TOP_PROCESS_COUNT = 5


@dataclass(frozen=True)
class ProcessLoad:
    """One process as the system pane lists it: no pid, so a fixed sample renders the same frame everywhere."""

    name: str
    cpu_percent: float
    memory_bytes: int


@dataclass(frozen=True)
class SystemSample:
    cpu_percent: float
    """All cores together, 0-100, since the previous sample."""
    memory_percent: float
    memory_used_bytes: int
    memory_total_bytes: int
    disk_percent: float
    """Of the file system holding $HOME."""
    disk_free_bytes: int
    net_received_per_second: float
    net_sent_per_second: float
    top_processes: tuple[ProcessLoad, ...] = field(default_factory=tuple)
    anomalies: tuple[str, ...] = ()
    """What stands out, by system.health's thresholds ("renderfarm 98% cpu", "disk 95% full"); llmos itself is
    never named (it uses the CPU while it answers)."""
    automation_notes: tuple[str, ...] = ()
    """Automations that need the person: calls waiting for approval, rules paused (`attention_notes`)."""


SampleSource = Callable[[], SystemSample]
"""What the TUI calls to get a sample; tests pass one that returns fixed samples."""


@dataclass(frozen=True)
class ProcessReading:
    """One process as a sample read it; the pid decides whether it is llmos's own (never named as a hog)."""

    pid: int
    load: ProcessLoad


ProcessSource = Callable[[], list[ProcessReading]]
"""What a `Sampler` reads the processes with: a `ProcessReader`, or in tests one that returns known figures."""


class ProcessReader:
    """Reads every process's CPU share since the previous call, with its memory and name (the first call's
    shares are zero)."""

    def __init__(self) -> None:
        # psutil measures a process's CPU share between two calls on the same Process object, so keep them.
        self._processes: dict[int, psutil.Process] = {}

    def __call__(self) -> list[ProcessReading]:
        readings: list[ProcessReading] = []
        alive: dict[int, psutil.Process] = {}
        for process in psutil.process_iter():
            known = self._processes.get(process.pid, process)
            try:
                with known.oneshot():
                    cpu = known.cpu_percent(interval=None)
                    memory = known.memory_info().rss
                    name = known.name()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            alive[process.pid] = known
            readings.append(ProcessReading(process.pid, ProcessLoad(name=name, cpu_percent=cpu, memory_bytes=memory)))
        self._processes = alive
        return readings


class Sampler:
    """Takes samples; the first one's rates are zero (there is nothing to compare against yet)."""

    def __init__(self, disk_path: str | None = None, top_count: int = TOP_PROCESS_COUNT,
                 read_processes: ProcessSource | None = None) -> None:
        self.disk_path = disk_path or os.path.expanduser("~")
        self.top_count = top_count
        self.read_processes = read_processes or ProcessReader()
        self._last_net: tuple[float, int, int] | None = None
        psutil.cpu_percent(interval=None)  # primes the system-wide counter so the first sample is not 0 or 100

    def __call__(self) -> SystemSample:
        return self.sample()

    def sample(self) -> SystemSample:
        memory = psutil.virtual_memory()
        received_rate, sent_rate = self._net_rates()
        disk_percent, disk_free = self._disk()
        top_processes, hogs = self._top_processes()
        return SystemSample(
            cpu_percent=psutil.cpu_percent(interval=None),
            memory_percent=memory.percent,
            memory_used_bytes=memory.total - memory.available,
            memory_total_bytes=memory.total,
            disk_percent=disk_percent,
            disk_free_bytes=disk_free,
            net_received_per_second=received_rate,
            net_sent_per_second=sent_rate,
            top_processes=top_processes,
            anomalies=anomalies(hogs, memory.percent, disk_percent),
            automation_notes=attention_notes(),
        )

    def _disk(self) -> tuple[float, int]:
        try:
            usage = psutil.disk_usage(self.disk_path)
        except OSError:
            return 0.0, 0
        return usage.percent, usage.free

    def _net_rates(self) -> tuple[float, float]:
        try:
            counters = psutil.net_io_counters()
        except (OSError, RuntimeError):  # no network statistics here (some containers)
            return 0.0, 0.0
        if counters is None:
            return 0.0, 0.0
        now = time.monotonic()
        previous, self._last_net = self._last_net, (now, counters.bytes_recv, counters.bytes_sent)
        if previous is None or now <= previous[0]:
            return 0.0, 0.0
        elapsed = now - previous[0]
        return (
            max(0.0, (counters.bytes_recv - previous[1]) / elapsed),
            max(0.0, (counters.bytes_sent - previous[2]) / elapsed),
        )

    def _top_processes(self) -> tuple[tuple[ProcessLoad, ...], list[ProcessLoad]]:
        """The busiest processes, and those of them (other than llmos) that hog a core."""
        own = {os.getpid(), *hidden_pids()}
        readings = self.read_processes()
        loads = sorted((reading.load for reading in readings),
                       key=lambda load: (load.cpu_percent, load.memory_bytes), reverse=True)
        hogs = sorted((reading.load for reading in readings
                       if reading.load.cpu_percent >= HOG_CORE_PERCENT and reading.pid not in own),
                      key=lambda load: load.cpu_percent, reverse=True)
        return tuple(loads[: self.top_count]), hogs


def anomalies(hogs: list[ProcessLoad], memory_percent: float, disk_percent: float) -> tuple[str, ...]:
    """Short notes for what system.health would report, most pressing first."""
    notes = [f"{hog.name} {hog.cpu_percent:.0f}% cpu" for hog in hogs[:2]]
    if memory_percent >= MEMORY_PRESSURE_PERCENT:
        notes.append(f"memory {memory_percent:.0f}% used")
    if disk_percent >= DISK_FULL_PERCENT:
        notes.append(f"disk {disk_percent:.0f}% full")
    return tuple(notes)


def human_bytes(count: float) -> str:
    """1536 -> '1.5K': short enough for a narrow pane."""
    value = float(count)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"


NOTICE_SHOWN_S = 600
"""How long an automation's notice ("~/build stopped changing") stays in the TUI's system pane."""


def attention_notes() -> tuple[str, ...]:
    """What the person should know about their automations: the latest notices, calls waiting for approval and
    paused rules (read from the data dir each sample: three small files). A damaged store is said, not raised."""
    from llmos.automations.store import AutomationStore
    from llmos.errors import LlmosError

    store = AutomationStore()
    try:
        waiting = len(store.pending())
        paused = [rule.id for rule in store.rules() if rule.paused_reason]
    except LlmosError:
        return ("automations: the rules file is damaged (llmos automations list)",)
    notes = [f"automation {record.get('rule_id')}: {record.get('detail')}" for record in store.runs(limit=50)
             if record.get("status") == "notice" and time.time() - float(record.get("time", 0)) < NOTICE_SHOWN_S][-2:]
    if waiting:
        verb = "calls wait" if waiting != 1 else "call waits"
        notes.append(f"{waiting} automation {verb} for approval: llmos automations pending")
    if paused:
        notes.append(f"automation {', '.join(paused)} paused: llmos automations list")
    return tuple(notes)

