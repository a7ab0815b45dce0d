"""Who may talk to the daemon: not a sandboxed command (it cannot see the socket, and even with the socket made
visible on purpose it is refused, since it runs in other namespaces), not a process in another user namespace,
and not more than `MAX_CONNECTIONS` clients at once. The daemon runs for real on its Unix socket, with a scripted
model; the socket sits in the data dir (XDG_RUNTIME_DIR unset), as in the red-team's setup.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer
from llmos.policies.engine import PolicyEngine
from llmos.policies.profile import load_profile
from llmos.policies.sandbox import SandboxSpec, run_sandboxed
from llmos.policies.sandbox import bwrap as sandbox_bwrap
from sandboxing import needs_sandbox

from llmos.daemon.location import socket_path
from llmos.daemon.server import MAX_CONNECTIONS, Daemon, ModelHost
from llmos.paths import data_dir
from llmos.runtime import llmos_protected_paths

# Connects to the socket given, sends a status request, prints the reply (or the error connecting).
PROBE = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as exc:
    print("UNREACHABLE", exc)
    sys.exit()
try:
    s.sendall(b'{"op": "status"}\\n')
except OSError:
    pass  # refused before it could ask: the refusal is still there to read
print(s.recv(65536).decode().strip() or "CLOSED")
"""


class ScriptedHost(ModelHost):
    def _resolve(self, model: str | None, config: Any) -> Any:
        return model or "scripted"

    def _load(self, resolved: Any, config: Any) -> Any:
        return ScriptedBackend([answer("hi")] * 50)


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp HOME outside /tmp (private inside the sandbox), with no XDG_RUNTIME_DIR: the socket is in the data
    dir. The path stays short enough for a Unix socket."""
    path = Path(tempfile.mkdtemp(prefix="lh-", dir="/var/tmp"))
    monkeypatch.setenv("HOME", str(path))
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "LLMOS_MODEL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr("llmos.tools.process._hidden_pids", set())
    monkeypatch.setattr("llmos.daemon.server._start_automations", lambda: None)
    (path / "work").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def daemon(home: Path) -> Iterator[Daemon]:
    running = Daemon(host=ScriptedHost(idle_unload_s=300.0))
    thread = threading.Thread(target=running.serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (running.ready.is_set() and socket_path().exists()):
        assert time.monotonic() < deadline, "the daemon did not come up"
        time.sleep(0.02)
    yield running
    running.request_stop()
    thread.join(timeout=30)


def probe_reply(argv_prefix: list[str]) -> str:
    completed = subprocess.run([*argv_prefix, sys.executable, "-I", "-c", PROBE, str(socket_path())],
                               capture_output=True, text=True, timeout=60, check=False)
    return completed.stdout.strip() or completed.stderr.strip()


@needs_sandbox
def test_a_sandboxed_command_cannot_see_or_reach_the_daemon_socket(home: Path, daemon: Daemon) -> None:
    """With the socket in the data dir, a sandboxed command finds no socket there and cannot connect: no status,
    no stop, no run that approves its own steps."""
    assert socket_path().parent == data_dir()
    engine = PolicyEngine(load_profile("default"), home=home, protected_paths=llmos_protected_paths())
    for confinement in (engine.sandbox_confinement(), None):
        result = run_sandboxed(SandboxSpec(argv=(sys.executable, "-I", "-c", PROBE, str(socket_path())),
                                           cwd=home / "work", timeout_s=30.0, confinement=confinement))
        assert result.stdout.startswith("UNREACHABLE"), result.stdout + result.stderr
    assert not daemon.stopping.is_set()
    assert daemon.stats.requests_served == 0


@needs_sandbox
def test_a_sandboxed_peer_with_the_socket_made_visible_is_refused(home: Path, daemon: Daemon) -> None:
    """bubblewrap with the socket left visible on purpose (the whole file system bound, new user and pid
    namespaces): the connection reaches the daemon, which refuses it by its namespaces, before any operation."""
    bwrap = sandbox_bwrap.probe().path
    reply = probe_reply([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-user",
                         "--unshare-pid", "--"])
    message = json.loads(reply)
    assert message["type"] == "error" and "namespace" in message["message"], reply
    assert not daemon.stopping.is_set()


def test_a_peer_in_another_user_namespace_is_refused(home: Path, daemon: Daemon) -> None:
    """`unshare -Ur` (same uid outside, new user namespace): refused, though its uid looks like the daemon's."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not installed")
    if subprocess.run([unshare, "-Ur", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("unprivileged user namespaces are not available here")
    message = json.loads(probe_reply([unshare, "-Ur"]))
    assert message["type"] == "error" and "user namespace" in message["message"]


def test_a_peer_in_the_daemons_own_namespaces_is_served(home: Path, daemon: Daemon) -> None:
    """Positive control: the same probe run plainly gets the status."""
    assert json.loads(probe_reply([]))["type"] == "status"


def test_connections_past_the_cap_are_refused_with_one_line(home: Path, daemon: Daemon) -> None:
    """`MAX_CONNECTIONS` silent clients hold every slot; the next one gets a one-line error at once, and a slot
    freed is usable again."""
    held = []
    try:
        for _ in range(MAX_CONNECTIONS):
            client = socket.socket(socket.AF_UNIX)
            client.connect(str(socket_path()))
            held.append(client)
        time.sleep(0.5)  # every held connection is being handled (waiting for its request)
        extra = socket.socket(socket.AF_UNIX)
        extra.settimeout(10)
        extra.connect(str(socket_path()))
        reply = extra.recv(4096).decode()
        extra.close()
        assert reply.count("\n") == 1
        message = json.loads(reply)
        assert message["type"] == "error" and "open connections" in message["message"]
    finally:
        for client in held:
            client.close()
    deadline = time.monotonic() + 10
    while True:
        reply = probe_reply([])
        if json.loads(reply)["type"] == "status" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert json.loads(reply)["type"] == "status"
