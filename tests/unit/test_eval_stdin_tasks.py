"""The stdin tasks with generated inputs state true facts: each input is regenerated and its facts counted
here independently of the generator (by parsing the text as a person's script would), and every fact must be
what the task's checks ask for."""

from __future__ import annotations

import collections
import csv
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from llmos.evals.piped_inputs import GeneratedInput, write_generated_input
from llmos.evals.tasks import Task, load_tasks


def dmesg_disk_errors(path: Path) -> list[str]:
    """The failing device and how many I/O error lines name it."""
    devices = collections.Counter(
        match.group(1) for line in path.open(encoding="utf-8")
        if (match := re.search(r"I/O error, dev (\w+)", line)))
    assert len(devices) == 1, devices
    ((device, count),) = devices.items()
    return [device, str(count)]


def error_line_count(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [str(sum(1 for line in handle if "ERROR" in line))]


def most_common_error(path: Path) -> list[str]:
    messages: collections.Counter[str] = collections.Counter()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if " ERROR " in line:
                # timestamp ERROR [thread] logger request_id=... MESSAGE
                messages[line.rstrip("\n").split(" ERROR ", 1)[1].split(" ", 3)[3]] += 1
    (top, top_count), (_, second_count) = messages.most_common(2)
    assert top_count > second_count * 1.2
    assert top.startswith("upstream timed out")
    return ["upstream timed out"]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def units_total(path: Path) -> list[str]:
    return [str(sum(int(row["units"]) for row in csv_rows(path)))]


def top_region(path: Path) -> list[str]:
    totals: collections.Counter[str] = collections.Counter()
    for row in csv_rows(path):
        totals[row["region"]] += round(float(row["amount"]) * 100)
    (top, amount), (_, second) = totals.most_common(2)
    assert amount > second
    return [top]


def top_memory_process(path: Path) -> list[str]:
    rows = [line.split(None, 10) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    by_rss = sorted(rows, key=lambda row: int(row[5]), reverse=True)
    top = by_rss[0]
    assert int(top[5]) > int(by_rss[1][5])
    # Nor do all processes of another program add up to more.
    groups: collections.Counter[str] = collections.Counter()
    for row in rows:
        groups[row[10].split()[0]] += int(row[5])
    assert groups.most_common(1)[0][0] == top[10].split()[0]
    assert "elasticsearch" in top[10]
    return ["elasticsearch", top[1]]


def fullest_filesystem(path: Path) -> list[str]:
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    by_use = sorted(rows, key=lambda row: int(row[4].rstrip("%")), reverse=True)
    assert by_use[0][4] != by_use[1][4]
    return [by_use[0][4].rstrip("%"), by_use[0][5], by_use[0][0]]


def commit_dates(path: Path) -> list[datetime]:
    text = path.read_text(encoding="utf-8")
    return [datetime.strptime(date, "%a %b %d %H:%M:%S %Y %z") for date in re.findall(r"^Date:\s+(.+)$", text, re.M)]


def top_author(path: Path) -> list[str]:
    authors = collections.Counter(re.findall(r"^Author: (.+?) <", path.read_text(encoding="utf-8"), re.M))
    (top, count), (_, second) = authors.most_common(2)
    assert count > second
    return [top]


def commits_since_march(path: Path) -> list[str]:
    """Counted by the commit's own date and by UTC: the two agree (no commit near the boundary)."""
    dates = commit_dates(path)
    local = sum(1 for date in dates if date.date().isoformat() >= "2024-03-01")
    utc = sum(1 for date in dates if date.astimezone(UTC).date().isoformat() >= "2024-03-01")
    assert local == utc
    return [str(local)]


def inactive_users(path: Path) -> list[str]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return [str(sum(1 for user in document["users"] if user["active"] is False))]


def line_count(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return [str(sum(1 for _ in handle))]


FACTS: dict[str, Callable[[Path], list[str]]] = {
    "stdin-big-dmesg-disk-errors": dmesg_disk_errors,
    "stdin-big-dmesg-16k-disk-errors": dmesg_disk_errors,
    "stdin-big-dmesg-tail-disk-errors": dmesg_disk_errors,
    "stdin-big-app-log-error-count": error_line_count,
    "stdin-big-app-log-top-error": most_common_error,
    "stdin-big-csv-units-total": units_total,
    "stdin-big-csv-top-region": top_region,
    "stdin-big-ps-top-memory": top_memory_process,
    "stdin-big-df-fullest": fullest_filesystem,
    "stdin-big-git-top-author": top_author,
    "stdin-big-git-commits-since": commits_since_march,
    "stdin-big-json-inactive-users": inactive_users,
    "stdin-big-access-log-line-count": line_count,
}
"""Task id -> the facts its checks must ask for, counted from the regenerated input."""

GENERATED_TASKS = {task.id: task for task in load_tasks() if task.stdin_generated is not None}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[GeneratedInput], Path]:
    """Each distinct spec generated once for the module (two tasks share the 50 MB log)."""
    folder = tmp_path_factory.mktemp("piped")
    made: dict[GeneratedInput, Path] = {}

    def path_of(spec: GeneratedInput) -> Path:
        if spec not in made:
            made[spec] = folder / f"{len(made)}.txt"
            write_generated_input(spec, made[spec])
        return made[spec]

    return path_of


def test_every_generated_stdin_task_has_its_facts_counted_here() -> None:
    """A new generated task needs an independent count here, or its checks are unproven."""
    assert set(GENERATED_TASKS) == set(FACTS)
    assert len(GENERATED_TASKS) >= 12 and all(task.category == "stdin" for task in GENERATED_TASKS.values())


@pytest.mark.parametrize("task_id", sorted(FACTS))
def test_generated_stdin_task_checks_state_the_facts_of_its_input(
    task_id: str, inputs: Callable[[GeneratedInput], Path]
) -> None:
    """Each fact counted from the input is what the task checks (answer_has, or one of answer_has_any), and the
    gold answer states it."""
    task: Task = GENERATED_TASKS[task_id]
    assert task.stdin_generated is not None and task.note and task.gold_answer
    facts = FACTS[task_id](inputs(task.stdin_generated))
    checked = {text.casefold() for text in task.check.answer_has}
    any_of = {text.casefold() for text in task.check.answer_has_any}
    for fact in facts:
        assert fact.casefold() in checked | any_of, (fact, task.check)
    assert checked <= {fact.casefold() for fact in facts}, "a check that the input does not support"
    gold = re.sub(r"(?<=\d),(?=\d{3})", "", str(task.gold_answer)).casefold()
    assert all(fact.casefold() in gold or fact.casefold() not in checked for fact in facts), gold
