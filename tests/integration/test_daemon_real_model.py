"""The real daemon process with the real small model: start, serve `llmos-ask` (the same answer as in-process),
report status, stop. Timing is measured by `llmos daemon bench`, never asserted here."""

from __future__ import annotations

import json

import pytest
from realmodel import DOWNLOADS_FILE_COUNT, SMALL_MODEL, run_llmos

pytestmark = pytest.mark.model


def test_daemon_serves_llmos_ask_like_in_process(daemon_environment: dict[str, str]) -> None:
    """With the daemon started, `llmos-ask` is served by it (status counts the requests and a prefix cache
    hit) and answers the single-step request as the in-process run does; stop removes the socket."""
    request = "how many files are in ~/Downloads?"
    in_process = run_llmos({**daemon_environment, "LLMOS_NO_DAEMON": "1"}, "--json", request, program="llmos-ask")
    assert in_process.returncode == 0, in_process.stderr

    started = run_llmos(daemon_environment, "daemon", "start")
    assert started.returncode == 0, started.stderr
    assert f"model {SMALL_MODEL} ready" in started.stdout
    served = [run_llmos(daemon_environment, "--json", request, program="llmos-ask") for _ in range(2)]
    for result in served:
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout)
        assert str(DOWNLOADS_FILE_COUNT) in outcome["answer"]
        assert [step["tool"] for step in outcome["steps"]] == [
            step["tool"] for step in json.loads(in_process.stdout)["steps"]]

    status = json.loads(run_llmos(daemon_environment, "daemon", "status", "--json").stdout)
    assert status["running"] and status["model"] == SMALL_MODEL
    assert status["requests_served"] == 2
    assert status["prefix_cache"]["memory"] >= 1

    stopped = run_llmos(daemon_environment, "daemon", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    not_running = run_llmos(daemon_environment, "daemon", "status")
    assert not_running.returncode == 1 and "not running" in not_running.stdout
