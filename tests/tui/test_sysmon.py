"""llmos.shell.sysmon samples the real machine cheaply and headlessly; the system pane's graphs scale absolutely."""

from __future__ import annotations

import time
from pathlib import Path

from llmos.shell.sysmon import Sampler, human_bytes
from llmos.shell.tui.system_pane import bar, sparkline


def test_samples_are_plausible_and_rates_start_at_zero(tmp_path: Path) -> None:
    """Percentages lie in 0..100, the first network rates are 0, the top list is short and sorted by CPU."""
    sampler = Sampler(disk_path=str(tmp_path), top_count=3)
    first = sampler.sample()
    assert 0 <= first.cpu_percent <= 100 and 0 < first.memory_percent <= 100 and 0 <= first.disk_percent <= 100
    assert first.memory_total_bytes >= first.memory_used_bytes > 0
    assert (first.net_received_per_second, first.net_sent_per_second) == (0.0, 0.0)
    time.sleep(0.05)
    second = sampler.sample()
    assert second.net_received_per_second >= 0 and second.net_sent_per_second >= 0
    assert 0 < len(second.top_processes) <= 3
    cpu_shares = [process.cpu_percent for process in second.top_processes]
    assert cpu_shares == sorted(cpu_shares, reverse=True)


def test_sample_takes_well_under_a_second() -> None:
    """A sample is cheap enough for a 2-second timer (generous bound: CI machines are slow)."""
    sampler = Sampler()
    started = time.perf_counter()
    sampler.sample()
    assert time.perf_counter() - started < 1.0


def test_missing_disk_path_is_zero_not_an_error(tmp_path: Path) -> None:
    """A disk path that vanished reports 0% rather than breaking the pane."""
    sample = Sampler(disk_path=str(tmp_path / "gone")).sample()
    assert (sample.disk_percent, sample.disk_free_bytes) == (0.0, 0)


def test_human_bytes() -> None:
    """Sizes read short: bytes whole, then one decimal below 100 of a unit."""
    assert [human_bytes(n) for n in (512, 1536, 150 * 1024, 3 * 1024**3)] == ["512B", "1.5K", "150K", "3.0G"]


def test_sparkline_is_absolute_and_right_aligned() -> None:
    """0 is blank, any load shows, the ceiling is a full block whatever the other values; short history is
    padded on the left."""
    assert sparkline([0, 50, 100], 5, 100) == "   ▄█"
    assert sparkline([5, 5, 5], 3, 100) == "▁▁▁"
    assert len(sparkline(list(range(50)), 10, 100)) == 10
    assert sparkline([1, 2], 0, 100) == ""


def test_bar_fills_in_proportion() -> None:
    """A 50% bar of 10 cells is half full; 0% is empty and over 100% is full, never longer."""
    assert bar(50, 10) == "█████░░░░░"
    assert bar(0, 4) == "░░░░" and bar(140, 4) == "████"
