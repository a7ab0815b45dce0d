"""The process tools, checked against this test's own process and children it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from fakes import wait_until_named
from llmos.tools.registry import Registry


def ok(registry: Registry, tool_name: str, **args: Any) -> Any:
    result = registry.get(tool_name).call(args)
    assert result.ok, result.error
    return result.data


def own_row(listing: dict[str, Any]) -> dict[str, Any]:
    rows = [row for row in listing["processes"] if row["pid"] == os.getpid()]
    assert len(rows) == 1, f"pid {os.getpid()} not in {[row['pid'] for row in listing['processes']]}"
    return rows[0]


@pytest.fixture
def sleeping_child() -> Iterator[subprocess.Popen[bytes]]:
    """A child process that sleeps until the test ends it."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def test_list_finds_own_process_by_name_filter(builtin_tools: Registry) -> None:
    me = psutil.Process()
    listing = ok(builtin_tools, "process.list", name=me.name().upper(), sort="pid", limit=500)
    row = own_row(listing)
    assert row["name"] == me.name()
    assert row["user"] == me.username()
    assert row["status"] in (psutil.STATUS_RUNNING, psutil.STATUS_SLEEPING)
    assert row["rss"] > 0 and row["rss_human"].endswith("B")
    command = " ".join(" ".join(me.cmdline()).split())
    assert row["command"] == (command if len(command) <= 120 else command[:119] + "…")
    assert row["cpu_percent"] is not None and row["memory_percent"] is not None


def test_list_filter_matches_the_command_line_too(
    builtin_tools: Registry, sleeping_child: subprocess.Popen[bytes]
) -> None:
    listing = ok(builtin_tools, "process.list", name="time.sleep(60)", limit=50)
    assert [row["pid"] for row in listing["processes"]] == [sleeping_child.pid]
    assert listing["matching"] == 1


def test_list_reports_total_and_shown_counts(builtin_tools: Registry) -> None:
    listing = ok(builtin_tools, "process.list", limit=3)
    assert listing["shown"] == len(listing["processes"]) == 3
    assert listing["total"] >= 3
    assert "matching" not in listing  # only said when a filter was given


def test_list_with_no_match_is_empty_not_an_error(builtin_tools: Registry) -> None:
    listing = ok(builtin_tools, "process.list", name="no-such-program-7f3a")
    assert listing["matching"] == 0 and listing["processes"] == []


def test_list_sorts_by_each_key(builtin_tools: Registry) -> None:
    by_pid = [row["pid"] for row in ok(builtin_tools, "process.list", sort="pid", limit=50)["processes"]]
    assert by_pid == sorted(by_pid)
    by_memory = [
        row["memory_percent"] or 0.0 for row in ok(builtin_tools, "process.list", sort="memory", limit=50)["processes"]
    ]
    assert by_memory == sorted(by_memory, reverse=True)
    by_cpu = [row["cpu_percent"] or 0.0 for row in ok(builtin_tools, "process.list", sort="cpu", limit=50)["processes"]]
    assert by_cpu == sorted(by_cpu, reverse=True)
    by_name = [row["name"].casefold() for row in ok(builtin_tools, "process.list", sort="name", limit=50)["processes"]]
    assert by_name == sorted(by_name)


def test_list_rejects_an_unknown_sort_key(builtin_tools: Registry) -> None:
    result = builtin_tools.get("process.list").call({"sort": "size"})
    assert not result.ok and result.error.startswith("invalid arguments for process.list: sort:")
    assert "'memory'" in result.error


def test_list_shows_access_denied_fields_as_null(builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: psutil.Process, *args: Any) -> Any:
        raise psutil.AccessDenied(self.pid)

    # memory_percent, not memory_info: psutil's oneshot() needs memory_info's cache hooks.
    monkeypatch.setattr(psutil.Process, "memory_percent", denied)
    row = own_row(ok(builtin_tools, "process.list", name=psutil.Process().name(), limit=500))
    assert row["memory_percent"] is None and row["rss"] > 0


def test_list_leaves_out_a_process_that_exits_while_listed(
    builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_memory_percent = psutil.Process.memory_percent

    def gone_for_me(self: psutil.Process, *args: Any) -> Any:
        if self.pid == os.getpid():
            raise psutil.NoSuchProcess(self.pid)
        return real_memory_percent(self, *args)

    monkeypatch.setattr(psutil.Process, "memory_percent", gone_for_me)
    listing = ok(builtin_tools, "process.list", name=psutil.Process().name(), limit=500)
    assert os.getpid() not in [row["pid"] for row in listing["processes"]]


def test_info_of_own_pid_matches_psutil(temp_home: Path, builtin_tools: Registry) -> None:
    me = psutil.Process()
    info = ok(builtin_tools, "process.info", pid=os.getpid())
    assert info["pid"] == os.getpid()
    assert info["name"] == me.name()
    assert info["exe"] == me.exe()
    assert info["user"] == me.username()
    assert info["started"] == datetime.fromtimestamp(me.create_time()).isoformat(timespec="seconds")
    assert info["parent_pid"] == os.getppid()
    assert info["parent_name"] == psutil.Process(os.getppid()).name()
    assert info["cwd"] == "~"  # temp_home is the working directory, shown under ~
    assert info["threads"] >= 1 and info["rss"] > 0
    assert isinstance(info["open_files"], int)
    assert info["cmdline"].startswith(" ".join(me.cmdline()[:1]))


def test_info_counts_children(builtin_tools: Registry, sleeping_child: subprocess.Popen[bytes]) -> None:
    info = ok(builtin_tools, "process.info", pid=os.getpid())
    assert info["children"] == len(psutil.Process().children()) >= 1
    child = ok(builtin_tools, "process.info", pid=sleeping_child.pid)
    assert child["parent_pid"] == os.getpid() and child["cmdline"].endswith("time.sleep(60)")


def test_info_access_denied_fields_are_null(builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: psutil.Process, *args: Any) -> Any:
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "cwd", denied)
    monkeypatch.setattr(psutil.Process, "open_files", denied)
    info = ok(builtin_tools, "process.info", pid=os.getpid())
    assert info["cwd"] is None and info["open_files"] is None
    assert info["name"] == psutil.Process().name()


def test_info_of_missing_pid_is_a_readable_error(builtin_tools: Registry) -> None:
    missing_pid = next(pid for pid in range(4_000_000, 3_000_000, -1) if not psutil.pid_exists(pid))
    result = builtin_tools.get("process.info").call({"pid": missing_pid})
    assert not result.ok
    assert result.error == f"no process with pid {missing_pid} (it may have exited)"


def test_info_requires_an_integer_pid(builtin_tools: Registry) -> None:
    result = builtin_tools.get("process.info").call({"pid": "firefox"})
    assert not result.ok and result.error.startswith("invalid arguments for process.info: pid:")


def test_a_hidden_pid_is_left_out_and_said(
    builtin_tools: Registry, sleeping_child: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pid the front end hides (llmos itself) is not listed, and the listing says it was left out."""
    from llmos.tools import process

    monkeypatch.setattr(process, "_hidden_pids", set())
    process.hide_from_listings(sleeping_child.pid)
    listing = ok(builtin_tools, "process.list", sort="pid", limit=500)
    assert sleeping_child.pid not in [row["pid"] for row in listing["processes"]]
    assert listing["not_shown"] == f"llmos itself (pid {sleeping_child.pid})"


@pytest.fixture
def named_sleepers(tmp_path: Path) -> Iterator[dict[str, list[subprocess.Popen[bytes]]]]:
    """Two processes named `lmtestworker` and one named `lmtestworker-helper` (copies of `sleep`)."""
    import shutil

    started: dict[str, list[subprocess.Popen[bytes]]] = {"lmtestworker": [], "lmtestworker-helper": []}
    for name, count in (("lmtestworker", 2), ("lmtestworker-helper", 1)):
        program = tmp_path / name
        shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
        started[name] = [subprocess.Popen([str(program), "60"]) for _ in range(count)]
    for name, children in started.items():
        for child in children:
            wait_until_named(child.pid, name)
    try:
        yield started
    finally:
        for children in started.values():
            for child in children:
                child.kill()
                child.wait()


def _exited(child: subprocess.Popen[bytes]) -> bool:
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_signal_by_name_reaches_every_process_of_exactly_that_name(
    builtin_tools: Registry, named_sleepers: dict[str, list[subprocess.Popen[bytes]]]
) -> None:
    """process.signal with a name terminates each process called that (not one whose name merely starts with
    it) and reports the pids it signalled."""
    result = ok(builtin_tools, "process.signal", name="LmTestWorker")
    targets = named_sleepers["lmtestworker"]
    assert sorted(row["pid"] for row in result["processes"]) == sorted(child.pid for child in targets)
    assert result["sent"] == "terminate"
    assert all(_exited(child) for child in targets)
    assert named_sleepers["lmtestworker-helper"][0].poll() is None


def test_signal_by_pid_still_works_and_the_preview_names_the_owner(
    builtin_tools: Registry, named_sleepers: dict[str, list[subprocess.Popen[bytes]]]
) -> None:
    """A pid targets that one process; the preview names it with its owner for policy."""
    helper = named_sleepers["lmtestworker-helper"][0]
    spec = builtin_tools.get("process.signal")
    impact = spec.impact(spec.validate({"pid": helper.pid, "signal": "kill"}))
    assert [(effect.pid, effect.name, effect.user) for effect in impact.processes] == [
        (helper.pid, "lmtestworker-helper", psutil.Process().username())
    ]
    ok(builtin_tools, "process.signal", pid=helper.pid, signal="kill")
    assert _exited(helper)


@pytest.mark.parametrize("args, error", [
    ({}, "give either pid or name"),
    ({"pid": 1234, "name": "x"}, "give either pid or name"),
    ({"name": "no-such-program-lm"}, "no process named 'no-such-program-lm'"),
])
def test_signal_needs_exactly_one_existing_target(builtin_tools: Registry, args: dict[str, Any], error: str) -> None:
    """Neither or both of pid and name, or a name nothing has, is a readable error and signals nothing."""
    result = builtin_tools.get("process.signal").call(args)
    assert not result.ok and error in result.error


@pytest.mark.parametrize("name", ["*", "**"])
def test_a_name_matching_everything_is_every_process_for_policy(builtin_tools: Registry, name: str) -> None:
    """A wildcard for every name previews as "every process", which policy denies, and the tool itself refuses."""
    spec = builtin_tools.get("process.signal")
    assert spec.impact(spec.validate({"name": name})).all_processes
    result = spec.call({"name": name})
    assert not result.ok and "single pid or a program's name" in result.error


def test_name_matching_leaves_out_llmos_itself(builtin_tools: Registry) -> None:
    """The running llmos process is never among a name's targets (policy would also refuse it)."""
    me = psutil.Process()
    spec = builtin_tools.get("process.signal")
    try:
        impact = spec.impact(spec.validate({"name": me.name()}))
    except Exception as error:  # noqa: BLE001  no other process of this name is a valid outcome
        assert "no process named" in str(error)
        return
    assert os.getpid() not in [effect.pid for effect in impact.processes]


def test_renice_by_name_lowers_the_priority_of_each_match(
    builtin_tools: Registry, named_sleepers: dict[str, list[subprocess.Popen[bytes]]]
) -> None:
    """process.renice with a name sets the niceness of every process of that name and only those."""
    result = ok(builtin_tools, "process.renice", name="lmtestworker", priority=15)
    assert result["niceness"] == 15 and len(result["processes"]) == 2
    assert [psutil.Process(child.pid).nice() for child in named_sleepers["lmtestworker"]] == [15, 15]
    assert psutil.Process(named_sleepers["lmtestworker-helper"][0].pid).nice() == psutil.Process().nice()


def test_a_listing_survives_another_thread_reading_processes_meanwhile(
    builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psutil shares its Process objects between callers: the daemon's memory sampler reading other attributes
    while a list waits for its CPU sample once left the list without pids (KeyError: 'pid'). Here the sampler runs
    exactly in that wait."""
    import llmos.tools.process as process_module
    from llmos.tools.health import ResourceHistory

    real_sleep = process_module.time.sleep

    def sample_while_waiting(seconds: float) -> None:
        ResourceHistory().sample_now()
        list(psutil.process_iter(["name"]))  # any caller's attrs replace the shared objects' .info
        real_sleep(seconds)

    monkeypatch.setattr(process_module.time, "sleep", sample_while_waiting)
    listing = ok(builtin_tools, "process.list", sort="pid", limit=500)
    assert own_row(listing)["name"]
    assert all(isinstance(row["pid"], int) for row in listing["processes"])
