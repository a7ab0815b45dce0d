"""system.health: processes over half a core are named as hogs, busiest first, with the calls that would help
(from known figures; a real spinning process is read with its real CPU share); llmos itself never is; the
numbers are the machine's."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from fakes import CpuReading, cpu_share_bounds, read_cpu, wait_until_it_ran
from llmos.tools import health as health_module
from llmos.tools.health import SAMPLE_SECONDS, ProcessUse, ResourceHistory, keep_history, use_history
from llmos.tools.registry import Registry


@pytest.fixture
def cpu_hog() -> Iterator[subprocess.Popen[bytes]]:
    """A child process that keeps one core busy until the test ends it."""
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def health(registry: Registry) -> dict[str, Any]:
    result = registry.get("system.health").call({})
    assert result.ok, result.error
    return result.data


def test_a_process_spinning_on_a_core_is_named_as_the_hog(builtin_tools: Registry,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed a known sample with other processes busy too, each process at half a core or more is a cpu_hog
    finding, busiest first, with its pid and name and a renice/suspend/terminate remedy naming its pid; one just
    under is not; the busiest leads the verdict and the top-CPU list."""
    sample = [ProcessUse(300, "editor", "ann", 49.9, 800), ProcessUse(100, "lmhog", "ann", 97.0, 1),
              ProcessUse(400, "renderfarm", "bob", 180.0, 500), ProcessUse(200, "cc1plus", "ann", 64.0, 300),
              ProcessUse(500, "sleepy", "ann", 0.0, 70)]
    monkeypatch.setattr(health_module, "_sample_processes", lambda seconds, own: (sample, 40.0, 0.0))
    report = health(builtin_tools)
    hogs = [finding for finding in report["findings"] if finding["kind"] == "cpu_hog"]
    assert [(hog["pid"], hog["name"]) for hog in hogs] == [(400, "renderfarm"), (100, "lmhog"), (200, "cc1plus")]
    assert hogs[1]["text"] == "lmhog (pid 100) is using 97% of a CPU core"
    for hog in hogs:
        assert f"process.renice pid={hog['pid']} " in hog["remedies"]
        assert f"process.signal pid={hog['pid']} with signal=suspend" in hog["remedies"]
    assert report["verdict"] == "renderfarm (pid 400) is using 180% of a CPU core"
    assert [(row["pid"], row["cpu_percent"]) for row in report["top_cpu"]] == [(400, 180.0), (100, 97.0),
                                                                              (200, 64.0)]


def test_a_spinning_process_is_sampled_with_its_real_cpu_share(cpu_hog: subprocess.Popen[bytes]) -> None:
    """The sampler reads a real spinning child with its pid, name, user and the share of a core it really had
    over the sample: within what the test saw it use around and within the interval, however busy the machine."""
    inner: list[CpuReading] = []

    def wait(seconds: float) -> None:
        inner.extend(wait_until_it_ran(cpu_hog.pid, seconds))

    before = read_cpu(cpu_hog.pid)
    uses, _busy, _io_wait = health_module._sample_processes(SAMPLE_SECONDS, {os.getpid()}, wait)
    after = read_cpu(cpu_hog.pid)
    use = next(use for use in uses if use.pid == cpu_hog.pid)
    child = psutil.Process(cpu_hog.pid)
    assert (use.name, use.user) == (child.name(), child.username())
    least, most = cpu_share_bounds((before, after), (inner[0], inner[1]))
    assert least <= use.cpu_percent <= most, (least, use.cpu_percent, most)
    assert os.getpid() not in [use.pid for use in uses]


def test_llmos_itself_is_never_the_cause(builtin_tools: Registry) -> None:
    """The process running the tool (the model's own process) is left out of findings and top lists."""
    report = health(builtin_tools)
    pids = [row["pid"] for row in report["top_cpu"] + report["top_memory"]]
    pids += [finding.get("pid") for finding in report["findings"]]
    assert os.getpid() not in pids


def test_the_figures_are_the_machines(builtin_tools: Registry) -> None:
    """Core count and the disk holding HOME are the machine's own; the verdict is a sentence either way."""
    report = health(builtin_tools)
    assert report["cpu"]["cores"] == psutil.cpu_count()
    assert 0 <= report["cpu"]["percent"] <= 100
    assert report["disk"]["path"] == "~"
    assert abs(report["disk"]["percent"] - psutil.disk_usage(os.path.expanduser("~")).percent) < 1
    assert report["verdict"] == (report["findings"][0]["text"] if report["findings"] else
                                 "nothing stands out: CPU, memory, swap and disk look normal")


MB = 1024 * 1024


def growing_history(pid: int, name: str, start_mb: int, step_mb: int, samples: int = 10) -> ResourceHistory:
    history = ResourceHistory()
    for index in range(samples):
        history.add(1000.0 + 15 * index, {pid: (name, (start_mb + step_mb * index) * MB), 1: ("init", 5 * MB)})
    return history


def test_memory_that_keeps_rising_over_the_window_is_growth() -> None:
    """Rising in every sample by 150 MB in all (and over 20%): the process is reported with both sizes."""
    assert growing_history(4321, "leaky", 300, 15).growing() == [(4321, "leaky", 300 * MB, 435 * MB, 2.25)]


@pytest.mark.parametrize(("start_mb", "step_mb", "samples"), [(300, 0, 10), (2000, 15, 10), (300, 15, 5)])
def test_flat_small_or_short_histories_are_not_growth(start_mb: int, step_mb: int, samples: int) -> None:
    """Flat memory, a rise under 20% of a big process, or too few samples: nothing is reported."""
    assert growing_history(4321, "steady", start_mb, step_mb, samples).growing() == []


def test_health_names_a_growing_process_from_the_daemons_history(builtin_tools: Registry) -> None:
    """With a history set (as the daemon keeps one), system.health adds a memory_growth finding for a process
    whose memory kept rising; excluded pids (llmos) never appear."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        use_history(growing_history(child.pid, "leaky", 300, 20))
        findings = health(builtin_tools)["findings"]
        growth = [finding for finding in findings if finding["kind"] == "memory_growth"]
        assert [(finding["pid"], finding["name"]) for finding in growth] == [(child.pid, "leaky")]
        assert "300.0 MB to 480.0 MB" in growth[0]["text"]
        use_history(growing_history(os.getpid(), "llmos", 300, 20))
        assert not [f for f in health(builtin_tools)["findings"] if f["kind"] == "memory_growth"]
    finally:
        use_history(None)
        child.kill()
        child.wait()


def test_keep_history_samples_in_the_background_until_stopped() -> None:
    """The daemon's sampler thread records this machine's processes (this one included) until its stop event."""
    stop = threading.Event()
    try:
        history = keep_history(interval=0.05, stop=stop)
        deadline = time.monotonic() + 10
        while len(history) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(history) >= 3
    finally:
        stop.set()
        use_history(None)
