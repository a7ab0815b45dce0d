"""The daemon over its real Unix socket, with a scripted model in place of llama.cpp: the protocol, approvals,
several clients at once, a client that goes away, socket permissions, stale sockets, idle unload and reload."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call, wait_until_named
from llmos.policies.audit import AuditRecord
from llmos.policies.decision import Decision
from llmos.shell import ask
from llmos.tools import load_builtin_tools
from trees import isolate_xdg

import llmos.runtime
from llmos.assistant import LocalAssistant
from llmos.config import load_config
from llmos.connect import connect_to_daemon
from llmos.daemon.client import DaemonAssistant, ask_daemon, open_channel
from llmos.daemon.location import pid_path, socket_path
from llmos.daemon.protocol import RequestContext, event_from_json, event_to_json
from llmos.daemon.server import Daemon, ModelHost
from llmos.errors import LlmosError
from llmos.events import Answer, AnswerStarted, AnswerToken, ApprovalNeeded, Error, RequestFinished, Step
from llmos.runtime import load_safety, session_options
from llmos.session import Session


class EchoBackend(ScriptedBackend):
    """Answers every request with its own words (so two clients' streams cannot be confused), optionally
    after queued calls, streaming slowly when `delay_s` is set."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.pieces_sent = 0

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        if not self._replies:
            # The request is the last user message (library examples come before it).
            asked = re.findall(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", conversation, re.S)[-1]
            self._replies.append(answer(f"you asked: {asked}"))
        for piece in super().generate(prefix, conversation, schema, max_tokens):
            if self.delay_s:
                time.sleep(self.delay_s)
            self.pieces_sent += 1
            yield piece


class ScriptedHost(ModelHost):
    """The daemon's model host with a scripted backend: 'loading' builds a new one and counts it."""

    def __init__(self, backend_factory: Any = EchoBackend, idle_unload_s: float | None = 300.0) -> None:
        super().__init__(idle_unload_s)
        self.backend_factory = backend_factory
        self.backends: list[Any] = []

    def _resolve(self, model: str | None, config: Any) -> Any:
        return model or "scripted"

    def _load(self, resolved: Any, config: Any) -> Any:
        backend = self.backend_factory()
        self.backends.append(backend)
        return backend


@pytest.fixture
def daemon_env(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp HOME and XDG dirs, and a short runtime dir (a socket path must fit in 107 bytes)."""
    isolate_xdg(tmp_path, monkeypatch)
    runtime = Path(tempfile.mkdtemp(prefix="llmos-rt-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("LLMOS_NO_DAEMON", raising=False)
    monkeypatch.delenv("LLMOS_MODEL", raising=False)
    # The daemon hides its own pid from process listings; here that pid is the test run's own.
    monkeypatch.setattr("llmos.tools.process._hidden_pids", set())
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


class RunningDaemon:
    def __init__(self, host: ScriptedHost) -> None:
        self.host = host
        self.daemon = Daemon(host=host)
        self.thread = threading.Thread(target=self.daemon.serve, daemon=True)

    def __enter__(self) -> RunningDaemon:
        self.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.daemon.ready.is_set() and socket_path().exists():
                return self
            time.sleep(0.02)
        raise AssertionError("the daemon did not come up")

    def __exit__(self, *exc_info: Any) -> None:
        self.daemon.request_stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


class TerminalStdin:
    """stdin on a terminal: llmos-ask reads no data from it."""

    def isatty(self) -> bool:
        return True


def assistant() -> DaemonAssistant:
    remote = connect_to_daemon(model=None, policy=None, max_steps=None, dry_run=False)
    assert remote is not None
    return remote


def finished(events: list[Any]) -> RequestFinished:
    assert isinstance(events[-1], RequestFinished)
    return events[-1]


def test_event_round_trip_keeps_every_field() -> None:
    """Every event kind survives the wire unchanged, including a step's decision, preview and undo id."""
    step = Step(index=1, tool="files.move", args={"source": "~/a", "destination": "~/b/"},
                decision=Decision("ask", "files.move", "moves files"), approved=True, status="ok",
                result='{"moved": 1}', undo_id="abc", preview=["move ~/a (3 B) -> ~/b/a"])
    events = [ApprovalNeeded(step), AnswerToken("Hi"), Answer("Hi there"), Error("boom"),
              RequestFinished(request="r", ok=True, answer="Hi there", steps=[step], model="m",
                              timings_ms={"total": 5}, usage={"prompt_tokens": 3}, cancelled=False),
              RequestFinished(request="r", ok=True, answer="4 GB free", steps=[step], model="m",
                              timings_ms={"total": 5, "first_call": 1}, fast_path=True)]
    for event in events:
        assert event_from_json(json.loads(json.dumps(event_to_json(event)))) == event


def test_status_and_socket_permissions(daemon_env: Path) -> None:
    """The socket is 0600 in a 0700 folder; status reports readiness, the loaded model and counters."""
    with RunningDaemon(ScriptedHost()):
        path = socket_path()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        status = ask_daemon({"op": "status"})
        assert status["ready"] is True
        assert status["model"] == "scripted"
        assert status["requests_served"] == 0
        assert pid_path().read_text().strip() == str(os.getpid())
    assert not socket_path().exists()


def test_request_through_daemon_yields_same_events_as_in_process(daemon_env: Path) -> None:
    """A request answered by the daemon yields the same events, in the same order, as the same model in-process."""
    replies = [call("files.list", path="~/Downloads"), answer("There are 5 files.")]
    with RunningDaemon(ScriptedHost(lambda: ScriptedBackend(list(replies)))):
        remote_events = list(assistant().run("tell me about the files in ~/Downloads"))
    config = load_config()
    local_session = Session(ScriptedBackend(list(replies)), load_builtin_tools(), load_safety(None, config),
                            session_options(config))
    local_events = list(LocalAssistant(local_session).run("tell me about the files in ~/Downloads"))
    assert [type(event) for event in remote_events] == [type(event) for event in local_events]
    remote, local = finished(remote_events).to_json(), finished(local_events).to_json()
    remote.pop("timings_ms"), local.pop("timings_ms")
    assert remote == local
    assert remote["answer"] == "There are 5 files."
    assert remote["steps"][0]["status"] == "ok"


def test_approval_travels_back_to_the_client_that_asked(daemon_env: Path, temp_home: Path) -> None:
    """A step policy asks about reaches the client's approver; its yes moves the file (journaled), its no does not."""
    move = call("files.move", source="~/Downloads/notes.txt", destination="~/Documents/")
    replies = [move, answer("Moved."), move, answer("Not moved.")]
    host = ScriptedHost(lambda: ScriptedBackend(list(replies)))
    asked: list[Step] = []
    with RunningDaemon(host):
        events = list(assistant().run("move notes.txt into Documents", approver=lambda s: asked.append(s) is None))
        step = finished(events).steps[0]
        assert step.decision is not None and step.decision.verdict == "ask"
        assert step.approved is True and step.status == "ok" and step.undo_id
        assert (temp_home / "Documents" / "notes.txt").exists()
        assert asked and asked[0].preview
        (temp_home / "Documents" / "notes.txt").rename(temp_home / "Downloads" / "notes.txt")
        events = list(assistant().run("move notes.txt into Documents", approver=lambda s: False))
        assert finished(events).steps[0].status == "skipped"
        assert finished(events).exit_code == 3
    assert (temp_home / "Downloads" / "notes.txt").exists()


def test_a_client_that_cannot_ask_gets_not_asked_rather_than_declined(daemon_env: Path, temp_home: Path) -> None:
    """A client with no approver (`--no-input`, a script) is never sent an approval to answer: the step is
    skipped as "nobody could be asked", and the answer says so, as without the daemon."""
    move = call("files.move", source="~/Downloads/notes.txt", destination="~/Documents/")
    host = ScriptedHost(lambda: ScriptedBackend([move, answer("The user did not approve this step.")]))
    with RunningDaemon(host):
        outcome = finished(list(assistant().run("move notes.txt into Documents")))
    step = outcome.steps[0]
    assert (step.status, outcome.exit_code) == ("skipped", 3)
    assert "nobody could be asked" in (step.result or "") and "nobody could be asked" in (outcome.answer or "")
    assert (temp_home / "Downloads" / "notes.txt").exists()


def test_two_concurrent_clients_get_only_their_own_streams(daemon_env: Path) -> None:
    """Two clients at once: requests take turns on the model, and each stream holds only its own request's events."""
    results: dict[str, list[Any]] = {}

    def client(request: str) -> None:
        results[request] = list(assistant().run(request))

    with RunningDaemon(ScriptedHost(lambda: EchoBackend(delay_s=0.01))):
        threads = [threading.Thread(target=client, args=(f"request number {n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert ask_daemon({"op": "status"})["requests_served"] == 2
    for request, events in results.items():
        streamed = "".join(event.text for event in events if isinstance(event, AnswerToken))
        assert streamed == f"you asked: {request}"
        assert finished(events).answer == f"you asked: {request}"


LONG_REQUEST = "tell me a long story " * 10


def long_request_streaming() -> Any:
    """A raw connection whose long request is running: returned once the model has begun its answer."""
    channel = open_channel()
    channel.send({"op": "run", "request": LONG_REQUEST, "stdin_data": None,
                  "context": RequestContext.here().to_json(), "model": None, "policy": None,
                  "max_steps": None, "dry_run": False})
    while (message := channel.receive()) is not None and message["event"]["kind"] != "answer_started":
        pass
    return channel


def test_client_that_disconnects_mid_request_cancels_it(daemon_env: Path) -> None:
    """A client gone mid-generation cancels its request: the model stops early and the daemon serves the next."""
    host = ScriptedHost(lambda: EchoBackend(delay_s=0.05))
    with RunningDaemon(host):
        channel = long_request_streaming()
        channel.connection.close()
        deadline = time.monotonic() + 10
        while ask_daemon({"op": "status"})["requests_running"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ask_daemon({"op": "status"})["requests_running"] == 0
        backend = host.backends[0]
        assert backend.pieces_sent < len(json.dumps(answer("you asked: " + LONG_REQUEST))) // 5
        assert finished(list(assistant().run("still there?"))).answer == "you asked: still there?"


def test_client_gone_while_approval_pending_leaves_nothing_half_done(daemon_env: Path, temp_home: Path) -> None:
    """A client that disconnects while its approval is pending: the step is not run, and the audit log says so."""
    host = ScriptedHost(lambda: ScriptedBackend([call("files.move", source="~/Downloads/notes.txt",
                                                      destination="~/Documents/"), answer("done")]))
    with RunningDaemon(host):
        channel = open_channel()
        channel.send({"op": "run", "request": "move notes.txt into Documents", "stdin_data": None,
                      "context": RequestContext.here().to_json(), "model": None, "policy": None,
                      "max_steps": None, "dry_run": False})
        while (message := channel.receive()) is not None and message["event"]["kind"] != "approval_needed":
            pass
        channel.connection.close()
        deadline = time.monotonic() + 10
        while ask_daemon({"op": "status"})["requests_running"] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert (temp_home / "Downloads" / "notes.txt").exists()
    moves = [record for record in _audit_records() if record.tool == "files.move"]
    assert moves and moves[-1].approved is False and moves[-1].status == "skipped"


def _audit_records() -> list[AuditRecord]:
    from llmos.policies.audit import AuditLog

    from llmos.paths import data_dir

    return AuditLog(data_dir() / "audit.jsonl").records()


def test_cancel_from_the_client_stops_the_request(daemon_env: Path) -> None:
    """Setting the client's cancel flag stops generation in the daemon; the request ends cancelled (exit 130)
    and none of the unfinished answer is shown."""
    cancel = threading.Event()
    host = ScriptedHost(lambda: EchoBackend(delay_s=0.05))
    with RunningDaemon(host):
        events = []
        for event in assistant().run("a long request " * 10, cancel=cancel):
            events.append(event)
            if isinstance(event, AnswerStarted):
                cancel.set()
    outcome = finished(events)
    assert outcome.cancelled and outcome.exit_code == 130
    assert not [event for event in events if isinstance(event, AnswerToken)]
    assert host.backends[0].pieces_sent < len(json.dumps(answer("you asked: " + "a long request " * 10)))


def test_stale_socket_after_a_crash_is_replaced(daemon_env: Path) -> None:
    """A socket and pid file left by a crashed daemon: clients fall back (None), and a new daemon starts cleanly."""
    path = socket_path()
    path.parent.mkdir(parents=True, mode=0o700)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()
    pid_path().write_text("999999\n")
    assert connect_to_daemon(model=None, policy=None, max_steps=None, dry_run=False) is None
    with RunningDaemon(ScriptedHost()):
        assert finished(list(assistant().run("hello"))).answer == "you asked: hello"


def test_second_daemon_is_refused_while_one_runs(daemon_env: Path) -> None:
    """One daemon per runtime folder: a second one says another is running and leaves the first serving."""
    with RunningDaemon(ScriptedHost()):
        with pytest.raises(LlmosError, match="another llmos daemon is running"):
            Daemon(host=ScriptedHost()).serve()
        assert ask_daemon({"op": "status"})["ready"] is True


def test_idle_unload_then_reload_on_next_request(daemon_env: Path) -> None:
    """After the idle time the model is freed; the next request loads it again and is answered."""
    host = ScriptedHost(idle_unload_s=0.3)
    with RunningDaemon(host):
        assert finished(list(assistant().run("first"))).ok
        deadline = time.monotonic() + 10
        while ask_daemon({"op": "status"})["model"] is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        status = ask_daemon({"op": "status"})
        assert status["model"] is None and status["unloads"] >= 1
        assert finished(list(assistant().run("second"))).answer == "you asked: second"
        assert ask_daemon({"op": "status"})["loads"] == status["loads"] + 1


def test_client_of_another_setup_is_not_served(
    daemon_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client with another HOME or data dir falls back to in-process; a forced run is refused with a clear error."""
    with RunningDaemon(ScriptedHost()):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "other-data"))
        assert connect_to_daemon(model=None, policy=None, max_steps=None, dry_run=False) is None
        forced = DaemonAssistant(model=None, policy=None, max_steps=None, dry_run=False)
        with pytest.raises(LlmosError, match="serves another setup: data_dir differs"):
            list(forced.run("hello"))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
def test_other_users_are_refused_by_peer_credentials(daemon_env: Path) -> None:
    """Even with the socket's mode opened up, a client of another uid is refused by the peer-credential check."""
    with RunningDaemon(ScriptedHost()):
        path = socket_path()
        os.chmod(path.parent, 0o755)
        os.chmod(daemon_env, 0o755)
        os.chmod(path, 0o666)
        # The refusal comes before the client says anything: it only connects and reads.
        probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
                 "print(s.recv(4096).decode())")
        # The venv's interpreter may sit in root's home, out of nobody's reach; the probe needs only the stdlib.
        interpreter = next((c for c in ("/usr/bin/python3", "/usr/local/bin/python3") if os.path.exists(c)), None)
        if interpreter is None:
            pytest.skip("no system python3 that another user can run")
        completed = subprocess.run([interpreter, "-c", probe, str(path)], user=65534, capture_output=True,
                                   text=True, timeout=30, cwd="/")
        assert completed.returncode == 0, completed.stderr
        reply = json.loads(completed.stdout)
        assert reply["type"] == "error" and "only its own user" in reply["message"]


def test_llmos_ask_prints_the_same_with_and_without_the_daemon(
    daemon_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`llmos-ask --json` and human output are identical whether the daemon or an in-process session serves."""
    replies = [call("files.list", path="~/Downloads"), answer("There are 5 files.")]
    monkeypatch.setattr("sys.stdin", TerminalStdin())
    with RunningDaemon(ScriptedHost(lambda: ScriptedBackend(list(replies * 2)))):
        outputs_daemon = []
        for flags in (["--json"], []):
            assert ask.main([*flags, "tell me about the files in ~/Downloads"]) == 0
            outputs_daemon.append(capsys.readouterr())
    monkeypatch.setenv("LLMOS_NO_DAEMON", "1")
    monkeypatch.setattr(llmos.runtime, "open_session", lambda **_: Session(
        ScriptedBackend(list(replies)), load_builtin_tools(), load_safety(None, load_config()),
        session_options(load_config())))
    outputs_local = []
    for flags in (["--json"], []):
        assert ask.main([*flags, "tell me about the files in ~/Downloads"]) == 0
        outputs_local.append(capsys.readouterr())
    strip = lambda text: re.sub(r'"timings_ms": \{[^}]*\}', "", text)  # noqa: E731  times differ by nature
    assert strip(outputs_daemon[0].out) == strip(outputs_local[0].out)
    assert outputs_daemon[1].out == outputs_local[1].out
    assert outputs_daemon[1].err == outputs_local[1].err


def test_stop_op_ends_the_daemon_and_removes_the_socket(daemon_env: Path) -> None:
    """`stop` answers, then the daemon exits and removes its socket; clients then fall back to in-process."""
    running = RunningDaemon(ScriptedHost())
    with running:
        assert ask_daemon({"op": "stop"})["type"] == "stopping"
        running.thread.join(timeout=30)
        assert not socket_path().exists()
        assert connect_to_daemon(model=None, policy=None, max_steps=None, dry_run=False) is None


def test_suggest_through_the_daemon_carries_policys_verdict(daemon_env: Path) -> None:
    """`suggest` over the socket returns the model's command line with the policy's verdict on it."""
    lines = [call("command", line="du -sh -- ~/Downloads/*"), call("command", line="rm -rf ~")]
    with RunningDaemon(ScriptedHost(lambda: ScriptedBackend(list(lines)))):
        allowed = assistant().suggest_command("how big is each thing in Downloads")
        denied = assistant().suggest_command("wipe my home")
    assert allowed.command == "du -sh -- ~/Downloads/*" and allowed.verdict == "allow"
    assert allowed.as_shell_line() == "du -sh -- ~/Downloads/*"
    assert denied.verdict == "deny" and denied.as_shell_line().startswith("# llmos denied (")


def test_stored_automations_run_while_the_daemon_runs(daemon_env: Path, temp_home: Path) -> None:
    """The daemon starts the automation runner: a PDF dropped into ~/Downloads is moved by the stored rule,
    without the model, and status counts the rule and its run."""
    from llmos.automations.rules import Action, Rule, Trigger
    from llmos.automations.store import AutomationStore

    store = AutomationStore()
    store.add(Rule(trigger=Trigger(path="~/Downloads", glob="*.pdf"),
                   action=Action(tool="files.move", args={"source": "{path}", "destination": "~/Documents/PDFs/"})))
    host = ScriptedHost()
    with RunningDaemon(host):
        assert ask_daemon({"op": "status"})["automations"] == 1
        (temp_home / "Downloads" / "bill.pdf").write_bytes(b"%PDF")
        moved = temp_home / "Documents" / "PDFs" / "bill.pdf"
        deadline = time.monotonic() + 10
        while not moved.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert moved.exists()
        # Counted once the run is audited and logged, just after the move itself.
        while ask_daemon({"op": "status"})["automation_runs"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ask_daemon({"op": "status"})["automation_runs"] == 1
    assert host.loads <= 1 and all(not backend.calls for backend in host.backends)  # no model call


def test_stopping_cancels_a_running_generation_instead_of_waiting_for_it(daemon_env: Path) -> None:
    """SIGTERM or `llmos daemon stop` mid-generation: the request is cancelled at the next token (its client told),
    and the daemon stops without running the generation to its end."""
    host = ScriptedHost(lambda: EchoBackend(delay_s=0.05))
    running = RunningDaemon(host)
    running.__enter__()
    channel = long_request_streaming()
    running.__exit__(None, None, None)
    kinds = []
    while (message := channel.receive()) is not None:
        kinds.append(message["event"]["kind"] if message.get("type") == "event" else message["type"])
    assert "error" in kinds and "answer" not in kinds  # cancelled, never finished
    backend = host.backends[0]
    assert backend.pieces_sent < len(json.dumps(answer("you asked: " + LONG_REQUEST))) // 5


class RuleWritingBackend(ScriptedBackend):
    """Writes the PDF rule whatever it is asked (the automation planner's schema has no tool branches)."""

    RULE = {"trigger": {"path": "~/Downloads", "events": ["created"], "glob": "*.pdf", "recursive": False,
                        "batch": False, "debounce_s": 0.5},
            "action": {"tool": "files.move", "args": {"source": "{path}", "destination": "~/Documents/PDFs/"}}}

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        self.calls.append(conversation)  # type: ignore[arg-type]  # only the conversation is checked
        yield json.dumps(self.RULE)


def test_automations_add_uses_the_daemons_resident_model(daemon_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With the daemon running, `llmos automations add` has the resident model write the rule (no load here);
    the rule is stored by the client once approved, and the daemon's runner picks it up."""
    from llmos.automations.store import AutomationStore
    from llmos.cli import main

    host = ScriptedHost(RuleWritingBackend)
    with RunningDaemon(host) as running:
        request = "whenever a PDF lands in ~/Downloads, move it to ~/Documents/PDFs"
        assert main(["automations", "add", request, "--yes"]) == 0
        assert len(host.backends) == 1 and request in host.backends[0].calls[0]
        rule = AutomationStore().rules()[0]
        assert rule.description == request and rule.action.tool == "files.move"
        deadline = time.monotonic() + 10
        while not running.daemon.automations.active_rules and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [item.id for item in running.daemon.automations.active_rules] == [rule.id]


def test_desktop_notification_uses_notify_send_when_a_session_is_reachable(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Automation notices reach the desktop through notify-send (fixed argv); without it or a session, nothing."""
    from llmos.daemon.server import desktop_notification

    recorded = tmp_path / "argv"
    program = tmp_path / "bin" / "notify-send"
    program.parent.mkdir()
    program.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {recorded}\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{program.parent}:{os.environ['PATH']}")
    for name in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert desktop_notification("automation 1a2b: ~/build stopped changing") is False
    assert not recorded.exists()
    monkeypatch.setenv("DISPLAY", ":0")
    assert desktop_notification("automation 1a2b: ~/build stopped changing") is True
    assert recorded.read_text().splitlines() == [
        "--app-name=llmos", "llmos", "automation 1a2b: ~/build stopped changing",
    ]


def test_the_client_is_left_out_of_process_listings_while_its_request_runs(
    daemon_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`llmos-ask "what command line is renderfarm running with?"` holds the name in its own command line: while
    its request runs, process.list leaves the client out (as llmos itself), and it may not be signalled; after
    the request it is listed again."""
    from llmos.tools.process import list_processes

    from llmos.daemon import server

    client = subprocess.Popen(["sleep", "60"])
    try:
        wait_until_named(client.pid, "sleep")
        session = Session(ScriptedBackend([]), load_builtin_tools(), load_safety(None, load_config()))
        with server._protecting_client(session, client.pid):
            listed = {row["pid"] for row in list_processes(name="sleep", limit=500)["processes"]}
            assert client.pid not in listed
            assert client.pid in session.safety.policy.protected_pids
        listed = {row["pid"] for row in list_processes(name="sleep", limit=500)["processes"]}
        assert client.pid in listed
        assert client.pid not in session.safety.policy.protected_pids
    finally:
        client.kill()
        client.wait()
