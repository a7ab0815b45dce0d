"""The real daemon process with the real small model: start, serve `llmos-ask` (the same answer as in-process),
report status, stop. Timing is measured by `llmos daemon bench`, never asserted here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from realmodel import DOWNLOADS_FILE_COUNT, SMALL_MODEL, isolated_llmos_env

pytestmark = pytest.mark.model


@pytest.fixture
def daemon_environment(real_home: Path, model_cache_home: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    runtime = Path(tempfile.mkdtemp(prefix="llmos-rt-", dir="/tmp"))
    environment = {
        **{key: value for key, value in os.environ.items() if key != "LLMOS_NO_DAEMON"},
        **isolated_llmos_env(real_home, model_cache_home, tmp_path),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    yield environment
    _llmos(environment, "daemon", "stop")
    shutil.rmtree(runtime, ignore_errors=True)


def _llmos(environment: dict[str, str], *args: str, program: str = "llmos") -> subprocess.CompletedProcess[str]:
    executable = str(Path(sys.executable).with_name(program))
    return subprocess.run([executable, *args], env=environment, capture_output=True, text=True, timeout=600,
                          cwd=environment["HOME"], stdin=subprocess.DEVNULL)


def test_daemon_serves_llmos_ask_like_in_process(daemon_environment: dict[str, str]) -> None:
    """With the daemon started, `llmos-ask` is served by it (status counts the requests and a prefix cache
    hit) and answers the single-step request as the in-process run does; stop removes the socket."""
    request = "how many files are in ~/Downloads?"
    in_process = _llmos({**daemon_environment, "LLMOS_NO_DAEMON": "1"}, "--json", request, program="llmos-ask")
    assert in_process.returncode == 0, in_process.stderr

    started = _llmos(daemon_environment, "daemon", "start")
    assert started.returncode == 0, started.stderr
    assert f"model {SMALL_MODEL} ready" in started.stdout
    served = [_llmos(daemon_environment, "--json", request, program="llmos-ask") for _ in range(2)]
    for result in served:
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout)
        assert str(DOWNLOADS_FILE_COUNT) in outcome["answer"]
        assert [step["tool"] for step in outcome["steps"]] == [
            step["tool"] for step in json.loads(in_process.stdout)["steps"]]

    status = json.loads(_llmos(daemon_environment, "daemon", "status", "--json").stdout)
    assert status["running"] and status["model"] == SMALL_MODEL
    assert status["requests_served"] == 2
    assert status["prefix_cache"]["memory"] >= 1

    stopped = _llmos(daemon_environment, "daemon", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    not_running = _llmos(daemon_environment, "daemon", "status")
    assert not_running.returncode == 1 and "not running" in not_running.stdout
