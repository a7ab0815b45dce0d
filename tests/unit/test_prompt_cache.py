"""The prompt cache on disk stays within its budget, removing the least recently used prefix states first."""

from __future__ import annotations

import os
import time
from pathlib import Path

from llmos.models import prompt_cache


def _state(folder: Path, name: str, size: int, age_s: float) -> Path:
    path = folder / f"{name}.kv"
    path.write_bytes(b"\0" * size)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_the_least_recently_used_states_go_until_the_rest_fit(tmp_path: Path) -> None:
    oldest = _state(tmp_path, "oldest", 400, age_s=300)
    older = _state(tmp_path, "older", 400, age_s=200)
    recent = _state(tmp_path, "recent", 400, age_s=100)
    newest = _state(tmp_path, "newest", 400, age_s=0)
    removed = prompt_cache.prune(tmp_path, budget_bytes=900, keep=newest)
    assert removed == [oldest, older]
    assert sorted(tmp_path.iterdir()) == sorted([recent, newest])


def test_a_restored_state_counts_as_just_used(tmp_path: Path) -> None:
    """Restoring marks a state: an old state a person's requests keep using outlives newer unused ones."""
    in_use = _state(tmp_path, "in-use", 400, age_s=1000)
    unused = _state(tmp_path, "unused", 400, age_s=10)
    prompt_cache.mark_used(in_use)
    assert prompt_cache.prune(tmp_path, budget_bytes=500) == [unused]


def test_the_state_just_written_stays_even_over_budget(tmp_path: Path) -> None:
    """One state bigger than the budget is still kept: the write it came from must be restorable next time."""
    written = _state(tmp_path, "big", 2000, age_s=500)
    other = _state(tmp_path, "other", 100, age_s=0)
    assert prompt_cache.prune(tmp_path, budget_bytes=1000, keep=written) == [other]
    assert written.exists()


def test_within_budget_nothing_is_removed_and_other_files_are_left_alone(tmp_path: Path) -> None:
    states = [_state(tmp_path, f"s{number}", 100, age_s=number) for number in range(3)]
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("not a state")
    assert prompt_cache.prune(tmp_path, budget_bytes=1000) == []
    assert all(path.exists() for path in [*states, unrelated])


def test_an_abandoned_temporary_write_is_removed_and_a_fresh_one_kept(tmp_path: Path) -> None:
    """A write whose process died leaves `.NAME.PID.tmp`; one still being written (recent) is not touched."""
    abandoned = tmp_path / ".x.kv.123.tmp"
    abandoned.write_bytes(b"\0")
    stamp = time.time() - prompt_cache.ABANDONED_WRITE_S - 60
    os.utime(abandoned, (stamp, stamp))
    in_progress = tmp_path / ".y.kv.456.tmp"
    in_progress.write_bytes(b"\0")
    assert prompt_cache.prune(tmp_path, budget_bytes=1000) == [abandoned]
    assert in_progress.exists()


def test_a_missing_cache_folder_prunes_nothing(tmp_path: Path) -> None:
    assert prompt_cache.prune(tmp_path / "absent", budget_bytes=0) == []
