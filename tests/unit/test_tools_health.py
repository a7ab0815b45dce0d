"""system.health against the real machine: a process spinning on a core is named as the hog, with the calls that
would help; llmos itself never is; the numbers are the machine's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from llmos.tools.registry import Registry


@pytest.fixture
def cpu_hog() -> Iterator[subprocess.Popen[bytes]]:
    """A child process that keeps one core busy until the test ends it."""
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)  # let it start spinning
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
                                                            cpu_hog: subprocess.Popen[bytes]) -> None:
    """The spinning child is a cpu_hog finding with its pid and name, a renice/suspend/terminate remedy naming its
    pid, and it leads the top-CPU list."""
    report = health(builtin_tools)
    hogs = [finding for finding in report["findings"] if finding["kind"] == "cpu_hog"]
    assert cpu_hog.pid in [hog["pid"] for hog in hogs], report
    hog = next(hog for hog in hogs if hog["pid"] == cpu_hog.pid)
    assert hog["name"] == psutil.Process(cpu_hog.pid).name()
    assert f"pid={cpu_hog.pid}" in hog["remedies"] and "process.renice" in hog["remedies"]
    assert report["top_cpu"][0]["cpu_percent"] >= 50
    assert cpu_hog.pid in [row["pid"] for row in report["top_cpu"]]


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
