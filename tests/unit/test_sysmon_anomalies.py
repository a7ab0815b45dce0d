"""The system pane's warnings: processes over half a core are named (from known figures, and a real process is
read with its real CPU share), llmos itself never is, and memory and disk use over system.health's thresholds
are noted."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import busy_process, cpu_share_bounds, read_cpu, wait_until_it_ran
from llmos.shell.sysmon import ProcessLoad, ProcessReader, ProcessReading, Sampler, anomalies
from llmos.tools import process as process_tools


@pytest.fixture
def spinning(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`lmhog`: a copy of sh in a busy loop."""
    with busy_process(tmp_path, "lmhog") as child:
        yield child


def test_a_spinning_process_is_named_in_the_samples_anomalies(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed known figures with other processes busy too, the sample names the two busiest processes at half a core
    or more, busiest first, with their shares; llmos itself (busiest of all) is listed but never named."""
    monkeypatch.setattr(process_tools, "_hidden_pids", set())
    llmos = ProcessLoad("llmos", 250.0, 900)
    renderfarm, lmhog = ProcessLoad("renderfarm", 180.0, 500), ProcessLoad("lmhog", 97.0, 1)
    compiler, idle = ProcessLoad("cc1plus", 64.0, 300), ProcessLoad("editor", 49.9, 800)
    readings = [ProcessReading(300, idle), ProcessReading(os.getpid(), llmos), ProcessReading(100, lmhog),
                ProcessReading(200, compiler), ProcessReading(400, renderfarm),
                ProcessReading(500, ProcessLoad("sleepy", 0.0, 70))]
    sample = Sampler(disk_path=str(tmp_path), read_processes=lambda: readings).sample()
    assert [note for note in sample.anomalies if note.endswith("% cpu")] == ["renderfarm 180% cpu", "lmhog 97% cpu"]
    assert sample.top_processes == (llmos, renderfarm, lmhog, compiler, idle)


def test_a_spinning_process_is_read_with_its_real_cpu_share(spinning: subprocess.Popen[bytes]) -> None:
    """A real process, read twice, is named lmhog with the share of a core it really had between the readings:
    within what the test saw it use around them, however busy the machine is."""
    reader = ProcessReader()
    before = read_cpu(spinning.pid)
    reader()
    inner = wait_until_it_ran(spinning.pid, 0.5)
    readings = reader()
    after = read_cpu(spinning.pid)
    load = next(reading.load for reading in readings if reading.pid == spinning.pid)
    least, most = cpu_share_bounds((before, after), inner)
    assert load.name == "lmhog"
    assert least <= load.cpu_percent <= most, (least, load.cpu_percent, most)


def test_a_hidden_process_is_never_named(spinning: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """A pid a front end hid (llmos itself, busy with the model) is not an anomaly, however busy."""
    monkeypatch.setattr(process_tools, "_hidden_pids", set())
    process_tools.hide_from_listings(spinning.pid)
    sampler = Sampler()
    sampler.sample()
    time.sleep(0.6)
    assert not any(note.startswith("lmhog ") for note in sampler.sample().anomalies)


def test_memory_and_disk_over_the_thresholds_are_noted_after_the_hogs() -> None:
    """Hogs first (at most two), then memory at 90%+ used, then a disk 90%+ full; calm figures note nothing."""
    hogs = [ProcessLoad("a", 180.0, 1), ProcessLoad("b", 95.0, 1), ProcessLoad("c", 60.0, 1)]
    assert anomalies(hogs, 93.4, 97.0) == ("a 180% cpu", "b 95% cpu", "memory 93% used", "disk 97% full")
    assert anomalies([], 40.0, 60.0) == ()
