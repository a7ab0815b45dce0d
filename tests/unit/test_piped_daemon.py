"""Piped data through the daemon: the spooled file's open descriptor travels with the request, never the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.tools.piped import PipedDocument
from test_daemon import RunningDaemon, ScriptedHost, daemon_env  # noqa: F401  (daemon_env: a fixture)

import llmos.daemon.server
from llmos.daemon.client import DaemonAssistant
from llmos.events import RequestFinished

LINE = b"[ 1234.567890] I/O error, dev sdb, sector 123456789 op 0x0:(READ) flags 0x0 phys_seg 1 prio 2\n"


@pytest.mark.usefixtures("daemon_env")
def test_a_large_piped_document_reaches_the_daemon_as_an_open_file(temp_home: Path, monkeypatch: Any) -> None:
    """60 MB piped through the daemon: the request on the socket carries no data (only `stdin_passed`), the
    daemon reads the passed file and its stdin tool counts every line; the protocol's inline cap still holds."""
    received: list[dict[str, Any]] = []
    parse = llmos.daemon.server.parse_request
    monkeypatch.setattr(llmos.daemon.server, "parse_request", lambda message: received.append(message) or
                        parse(message))
    host = ScriptedHost(lambda: ScriptedBackend([call("stdin.stats"), answer("done")]))
    log = temp_home / "big.log"
    log.write_bytes(LINE * (60 * 1024 * 1024 // len(LINE)))
    with RunningDaemon(host), log.open("rb") as stream, PipedDocument.spool(stream) as document:
        assistant = DaemonAssistant(model=None, policy=None, max_steps=None, dry_run=False)
        events = list(assistant.run("how many lines?", document))
    finished = events[-1]
    assert isinstance(finished, RequestFinished) and finished.ok, finished
    assert json.loads(finished.steps[0].result)["lines"] == 60 * 1024 * 1024 // len(LINE)
    run_request = next(message for message in received if message.get("op") == "run")
    assert run_request["stdin_passed"] is True and run_request["stdin_data"] is None
    assert len(json.dumps(run_request)) < 4096
