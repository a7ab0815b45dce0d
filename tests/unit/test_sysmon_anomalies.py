"""The system pane's warnings: a process spinning on a core is named from real samples, llmos itself never is,
and memory and disk use over system.health's thresholds are noted."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import busy_process
from llmos.shell.sysmon import ProcessLoad, Sampler, anomalies
from llmos.tools import process as process_tools


@pytest.fixture
def spinning(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`lmhog`: a copy of sh in a busy loop."""
    with busy_process(tmp_path, "lmhog") as child:
        yield child


def test_a_spinning_process_is_named_in_the_samples_anomalies(spinning: subprocess.Popen[bytes]) -> None:
    """The second sample (CPU shares need two readings) names lmhog with its CPU share."""
    sampler = Sampler()
    sampler.sample()
    time.sleep(0.6)
    notes = sampler.sample().anomalies
    assert any(note.startswith("lmhog ") and note.endswith("% cpu") for note in notes), notes


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
