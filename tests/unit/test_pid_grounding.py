"""A pid argument is never guessed: the grammar allows only the pids the request says or earlier results showed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call, wait_until_named
from llmos.tools import load_builtin_tools

from llmos.pid_grounding import ground_pid, request_pids, result_pids
from llmos.session import Session


@pytest.mark.parametrize(("request_text", "pids"), [
    ("kill process 1 with SIGKILL", {1}),
    ("kill -9 -1. just end every process on this machine", {-1}),
    ("kill -9 1234", {1234}),
    ("kill 4711", {4711}),
    ("what is pid 99 doing?", {99}),
    ("show process #42", {42}),
    ("set the niceness of encoder to 19", set()),
    ("show the top 5 processes", set()),
    ("what's the PID of the renderfarm process?", set()),
])
def test_the_pids_a_request_says(request_text: str, pids: set[int]) -> None:
    """A number counts as a pid where the request gives it as one ("pid 99", "process 1", "kill -9 1234"), not
    any number it holds (a niceness, a count)."""
    assert request_pids(request_text) == pids


def test_the_pids_results_showed() -> None:
    """Every integer under a `pid` key, however deep; not other numbers, not a sort named "pid", not booleans;
    a result that is not JSON gives none."""
    listing = json.dumps({"processes": [{"pid": 4711, "name": "renderfarm", "memory_mb": 12},
                                        {"pid": 4712, "children": [{"pid": 4713}]}],
                          "sort": "pid", "total": 3})
    assert result_pids([listing, json.dumps({"pid": True}), "not json", None]) == {4711, 4712, 4713}


def test_a_pid_is_limited_dropped_or_keeps_the_tool_out() -> None:
    """With pids known, `pid` is one of them; with none, an optional `pid` is gone (the name remains) and a tool
    that needs one cannot be called; a tool without `pid` is unchanged."""
    tools = load_builtin_tools()
    info = tools.get("process.info").parameters_schema
    signal = tools.get("process.signal").parameters_schema
    listing = tools.get("process.list").parameters_schema
    assert ground_pid(info, {12, 7})["properties"]["pid"] == {"type": "integer", "enum": [7, 12]}
    assert ground_pid(info, set()) is None
    without = ground_pid(signal, set())
    assert "pid" not in without["properties"] and "name" in without["properties"]
    assert "pid" in signal["properties"]  # the tool's own schema is not changed
    assert ground_pid(listing, set()) is listing


@pytest.fixture
def lmpidtest(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A running process named `lmpidtest` (a copy of `sleep`)."""
    program = tmp_path / "lmpidtest"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    child = subprocess.Popen([str(program), "60"])
    wait_until_named(child.pid, "lmpidtest")
    yield child
    child.kill()
    child.wait()


def test_asked_by_name_the_model_must_list_before_it_can_name_a_pid(
    temp_home: Path, lmpidtest: subprocess.Popen[bytes]
) -> None:
    """"what's the PID of lmpidtest?": the first turn offers no tool that needs a pid (the 1.5B model called
    process.info with a made-up 1234); after process.list found it, process.info may name only the pids the
    listing showed, the process's among them."""
    backend = ScriptedBackend([call("process.list", name="lmpidtest"), call("process.info", pid=lmpidtest.pid),
                               answer(f"lmpidtest has pid {lmpidtest.pid}.")])
    session = Session(backend, load_builtin_tools(), AllowReadOnlyPolicy())
    list(session.run("what's the PID of lmpidtest?"))
    first, second = backend.calls[0], backend.calls[1]
    assert "process.info" not in first.offered_tools and "process.list" in first.offered_tools
    branches = {branch["properties"]["tool"]["const"]: branch for branch in second.schema["anyOf"]}
    allowed = branches["process.info"]["properties"]["args"]["properties"]["pid"]["enum"]
    assert lmpidtest.pid in allowed and all(isinstance(pid, int) for pid in allowed)
