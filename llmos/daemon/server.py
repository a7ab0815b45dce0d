"""The daemon process: one resident model behind a Unix socket, serving requests from several clients.

Each connection carries one operation. Requests take turns on the model (one lock); a client's events go only
to its own connection, approvals come back on it, and a client that goes away cancels its request: the
session stops at the next token or between steps, so every step that ran is journaled and audited.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gc
import os
import queue
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmos.config import Config, load_config
from llmos.daemon.location import pid_path, socket_path
from llmos.daemon.protocol import (
    ApproveMessage,
    CancelMessage,
    LineChannel,
    PlanRuleRequest,
    ProtocolError,
    RequestContext,
    RunRequest,
    StatusRequest,
    StopRequest,
    SuggestRequest,
    event_to_json,
    parse_request,
    parse_run_message,
)
from llmos.effects import Effect
from llmos.errors import LlmosError
from llmos.events import ApprovalNeeded, RequestFinished, Step
from llmos.paths import config_dir
from llmos.tools.piped import PipedDocument

if TYPE_CHECKING:
    from llmos.models.backend import Backend
    from llmos.models.remote import RemoteModel
    from llmos.models.resolve import ResolvedModel
    from llmos.session import Session

APPROVAL_TIMEOUT_S = 600.0
"""A person who never answers must not hold the model forever: the step is then not approved."""
MAX_CONNECTIONS = 16
"""Open connections at once; one more is refused with a one-line error, so a flood cannot pile up threads."""
PEER_NAMESPACES = ("user", "pid", "mnt", "net")
"""A client must share each of these with the daemon: a sandboxed command (own user, pid and mount namespaces)
that somehow reached the socket is refused, whatever its uid looks like from here."""


class ModelHost:
    """The loaded model and a `Session` per policy, loaded on first use, swapped when a request names another
    model, freed after the idle time. Callers hold `lock` around everything that touches the model."""

    def __init__(self, idle_unload_s: float | None = None) -> None:
        self.lock = threading.Lock()
        self.backend: Backend | None = None
        self.loaded_model: ResolvedModel | RemoteModel | None = None
        self.idle_unload_s_override = idle_unload_s
        self.last_used = time.monotonic()
        self.loads = 0
        self.unloads = 0
        self._sessions: dict[tuple[str | None, tuple[tuple[str, int], ...]], Session] = {}

    def session_for(self, model: str | None, policy: str | None) -> Session:
        from llmos.runtime import load_safety, plan_memory_for, session_options
        from llmos.session import Session
        from llmos.tools import load_builtin_tools

        config = load_config()
        resolved = self._resolve(model, config)
        backend = self.backend
        if backend is None or self.loaded_model != resolved:
            self.unload()
            backend = self.backend = self._load(resolved, config)
            self.loaded_model = resolved
            self.loads += 1
        # A changed config or policy file takes effect on the next request, as it would in a fresh process.
        key = (policy, _config_signature())
        session = self._sessions.get(key)
        if session is None:
            self._sessions = {k: v for k, v in self._sessions.items() if k[0] != policy}
            session = Session(backend, load_builtin_tools(), load_safety(policy, config),
                              session_options(config),
                              memory=plan_memory_for(config))
            self._sessions[key] = session
        return session

    def _resolve(self, model: str | None, config: Config) -> ResolvedModel | RemoteModel:
        """The verified model file, or the remote server, a request names (its identity decides whether the
        loaded one serves)."""
        from llmos.runtime import choose_model

        return choose_model(model, config, progress=False)

    def _load(self, resolved: ResolvedModel | RemoteModel, config: Config) -> Backend:
        from llmos.runtime import load_chosen_backend

        return load_chosen_backend(resolved, config)

    def warm(self, model: str | None) -> None:
        """Load the model and evaluate the prefix most requests use (read-only tools), so the first request is fast."""
        session = self.session_for(model, None)
        tools = session.tools_for(frozenset({Effect.READ}))
        session.backend.warm(session.prefix_for(tools)[0])

    def unload(self) -> None:
        if self.backend is None:
            return
        self.backend.close()
        self.backend = None
        self.loaded_model = None
        self._sessions.clear()
        self.unloads += 1
        gc.collect()

    def idle_unload_s(self) -> float:
        if self.idle_unload_s_override is not None:
            return self.idle_unload_s_override
        try:
            return load_config().daemon_idle_unload_s
        except LlmosError:
            return Config().daemon_idle_unload_s

    def unload_if_idle(self) -> bool:
        """Free the model when it has not been used for the idle time (never while a request holds it)."""
        if self.backend is None or time.monotonic() - self.last_used < self.idle_unload_s():
            return False
        if not self.lock.acquire(blocking=False):
            return False
        try:
            self.unload()
            return True
        finally:
            self.lock.release()

    def cache_counts(self) -> dict[str, int]:
        events = getattr(self.backend, "prefix_cache_events", []) if self.backend is not None else []
        return {kind: events.count(kind) for kind in ("memory", "restored", "evaluated")}


@dataclass
class DaemonStats:
    started_at: float = field(default_factory=time.time)
    requests_served: int = 0
    requests_running: int = 0
    clients_connected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, delta: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + delta)


class Daemon:
    """Owns the socket server, the model host, the counters and the idle watcher."""

    def __init__(self, *, preload_model: str | None = None, host: ModelHost | None = None) -> None:
        self.context = RequestContext.here()
        self.host = host or ModelHost()
        self.stats = DaemonStats()
        self.preload_model = preload_model
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.stopping = threading.Event()
        self.socket_path = socket_path()
        self._server: _Server | None = None
        self._pid_lock_fd: int | None = None
        self._running_clients: set[_ClientLink] = set()
        self.connection_slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._clients_lock = threading.Lock()
        self.automations: Any | None = None
        """The automation runner (llmos.automations.runner), started with the server."""

    # -- lifecycle --------------------------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until stopped (`stop` op, SIGTERM or SIGINT); returns the exit code."""
        from llmos.tools.process import hide_from_listings

        self._take_pid_lock()
        self._server = _bind(self.socket_path, self)
        hide_from_listings(os.getpid())
        if threading.current_thread() is threading.main_thread():
            for signal_number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signal_number, lambda *_: self.request_stop())
        threading.Thread(target=self._preload, name="preload", daemon=True).start()
        threading.Thread(target=self._watch_idle, name="idle", daemon=True).start()
        from llmos.tools.health import keep_history

        keep_history(stop=self.stopping)  # a baseline for system.health: memory that keeps growing
        self.automations = _start_automations()
        _log(f"listening on {self.socket_path} (pid {os.getpid()})")
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            if self.automations is not None:
                self.automations.stop()
            self._server.server_close()
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
            with self.host.lock:
                self.host.unload()
            with contextlib.suppress(FileNotFoundError):
                pid_path().unlink()
            _log("stopped")
        return 0

    def request_stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        with self._clients_lock:
            running = list(self._running_clients)
        for client in running:
            # A generation holds the model for up to a minute on a CPU; stopping must not wait for it. Cancelled,
            # the session stops at the next token, so what ran is still journaled and audited.
            client.cancel.set()
        if self._server is not None:
            # shutdown() waits for serve_forever to return, so it must not run on the serving thread.
            threading.Thread(target=self._server.shutdown, name="shutdown", daemon=True).start()

    def _take_pid_lock(self) -> None:
        """One daemon per runtime dir: the lock is held for life, so a stale pid file or socket from a crash
        (lock released by the kernel) is simply replaced."""
        path = pid_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise LlmosError(f"another llmos daemon is running (pid file {path})") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._pid_lock_fd = descriptor

    def _preload(self) -> None:
        try:
            with self.host.lock:
                self.host.warm(self.preload_model)
                self.host.last_used = time.monotonic()
        except Exception as exc:  # noqa: BLE001  reported by status and on each request; the daemon keeps serving
            self.load_error = str(exc)
            _log(f"preload failed: {exc}")
        self.ready.set()

    def _watch_idle(self) -> None:
        while not self.stopping.wait(min(5.0, max(0.2, self.host.idle_unload_s() / 4))):
            if self.host.unload_if_idle():
                _log("model unloaded after idle time")

    # -- operations -------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        import psutil

        return {
            "type": "status",
            "pid": os.getpid(),
            "ready": self.ready.is_set(),
            "load_error": self.load_error,
            "context": self.context.to_json(),
            "model": self.host.backend.name if self.host.backend is not None else None,
            "model_path": str(getattr(self.host.loaded_model, "path", "")) or None,
            "loads": self.host.loads,
            "unloads": self.host.unloads,
            "idle_unload_s": self.host.idle_unload_s(),
            "memory_rss_bytes": psutil.Process().memory_info().rss,
            "uptime_s": round(time.time() - self.stats.started_at, 1),
            "requests_served": self.stats.requests_served,
            "requests_running": self.stats.requests_running,
            "clients_connected": self.stats.clients_connected,
            "prefix_cache": self.host.cache_counts(),
            "automations": len(self.automations.active_rules) if self.automations is not None else 0,
            "automation_runs": self.automations.runs_done if self.automations is not None else 0,
            "socket": str(self.socket_path),
        }

    def handle(self, channel: LineChannel, peer_pid: int) -> None:
        message = channel.receive()
        if message is None:
            return
        request = parse_request(message)
        if isinstance(request, StatusRequest):
            channel.send(self.status())
            return
        if isinstance(request, StopRequest):
            channel.send({"type": "stopping"})
            self.request_stop()
            return
        mismatch = request.context.mismatch_with(self.context)
        if mismatch is not None:
            channel.send({"type": "error", "message": f"the daemon serves another setup: {mismatch}", "exit_code": 2})
            return
        if isinstance(request, SuggestRequest):
            self._suggest(channel, request)
        elif isinstance(request, PlanRuleRequest):
            self._plan_rule(channel, request)
        else:
            self._run(channel, request, peer_pid)

    def _suggest(self, channel: LineChannel, request: SuggestRequest) -> None:
        from llmos.suggest import suggest_command

        with self._model_turn(request.context):
            session = self.host.session_for(request.model, request.policy)
            suggestion = suggest_command(session, request.request)
        channel.send({"type": "suggestion", "command": suggestion.command, "verdict": suggestion.verdict,
                      "rule": suggestion.rule, "reason": suggestion.reason})

    def _plan_rule(self, channel: LineChannel, request: PlanRuleRequest) -> None:
        """`llmos automations add` with the resident model: the rule only; storing it is the client's (after the
        person approves)."""
        from llmos.automations.planner import plan_rule

        with self._model_turn(request.context):
            session = self.host.session_for(request.model, request.policy)
            rule = plan_rule(session.backend, session.registry, request.request)
        channel.send({"type": "rule", "rule": rule.model_dump(mode="json")})

    def _run(self, channel: LineChannel, request: RunRequest, peer_pid: int) -> None:
        document = _passed_document(channel, request)
        client = _ClientLink(channel)
        client.start_reading()
        self.stats.count("requests_running")
        with self._clients_lock:
            self._running_clients.add(client)
        if self.stopping.is_set():
            client.cancel.set()
        try:
            with self._model_turn(request.context):
                session = self.host.session_for(request.model, request.policy)
                options = dataclasses.replace(
                    session.options,
                    max_steps=request.max_steps or session.options.max_steps,
                    dry_run=request.dry_run,
                )
                with _protecting_client(session, peer_pid):
                    approver = client.approver if request.can_ask else None
                    events = session.run(request.request, document or request.stdin_data, approver,
                                         cancel=client.cancel, options=options)
                    for event in events:
                        if isinstance(event, RequestFinished):
                            # Counted before the client reads that its request finished: a status it asks for
                            # next counts it (counted after the send, two clients' status could miss one).
                            self.stats.count("requests_served")
                        client.send({"type": "event", "event": event_to_json(event)})
                        if isinstance(event, ApprovalNeeded):
                            client.expect_approval(event.step.index)
        finally:
            if document is not None:
                document.close()
            with self._clients_lock:
                self._running_clients.discard(client)
            self.stats.count("requests_running", -1)

    @contextlib.contextmanager
    def _model_turn(self, context: RequestContext):
        """Hold the model for one operation, in the client's working directory (tools resolve relative paths
        against it); the idle clock restarts when the turn ends."""
        with self.host.lock:
            previous_cwd = os.getcwd()
            try:
                os.chdir(context.cwd)
            except OSError as exc:
                raise LlmosError(f"cannot use the working directory {context.cwd}: {exc.strerror}") from None
            try:
                yield
            finally:
                self.host.last_used = time.monotonic()
                with contextlib.suppress(OSError):
                    os.chdir(previous_cwd)


def _passed_document(channel: LineChannel, request: RunRequest) -> PipedDocument | None:
    """The piped document whose open file came with the request (read in place, however large), or None."""
    if not request.stdin_passed:
        return None
    descriptor = channel.take_passed_descriptor()
    if descriptor is None:
        raise ProtocolError("the request says its piped data was passed, but no open file came with it")
    try:
        return PipedDocument.from_descriptor(descriptor)
    except (OSError, ValueError) as exc:
        raise ProtocolError(str(exc)) from None


class _ClientLink:
    """The connection of the client whose request is running: events out, approvals and cancel in.

    A reader thread watches the socket the whole time, so a client that goes away is noticed mid-generation
    and its request cancelled."""

    def __init__(self, channel: LineChannel) -> None:
        self.channel = channel
        self.cancel = threading.Event()
        self.gone = threading.Event()
        self._approvals: queue.Queue[tuple[int, bool] | None] = queue.Queue()
        self._expected_index: int | None = None

    def start_reading(self) -> None:
        threading.Thread(target=self._read, name="client-reader", daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                message = self.channel.receive()
                if message is None:
                    break
                received = parse_run_message(message)
                if isinstance(received, CancelMessage):
                    self.cancel.set()
                elif isinstance(received, ApproveMessage):
                    self._approvals.put((received.index, received.approved))
        except (OSError, ProtocolError, ValueError):
            pass
        self._went_away()

    def _went_away(self) -> None:
        self.gone.set()
        self.cancel.set()
        self._approvals.put(None)

    def send(self, message: dict[str, Any]) -> None:
        if self.gone.is_set():
            return  # the session still runs to its end (cancelled), so what ran is journaled and audited
        try:
            self.channel.send(message)
        except OSError:
            self._went_away()

    def expect_approval(self, index: int) -> None:
        self._expected_index = index

    def approver(self, step: Step) -> bool:
        """The client's answer for `step`; no answer (gone, cancelled, timed out) is not approved."""
        deadline = time.monotonic() + APPROVAL_TIMEOUT_S
        while not self.gone.is_set() and not self.cancel.is_set():
            try:
                answer = self._approvals.get(timeout=max(0.0, min(0.5, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() >= deadline:
                    return False
                continue
            if answer is None:
                return False
            index, approved = answer
            if index == step.index:
                return approved
        return False


@contextlib.contextmanager
def _protecting_client(session: Any, client_pid: int):
    """The client and its parent (the person's shell) are never signalled, as llmos and its parent are
    in-process; the client is left out of process listings, as llmos itself is."""
    if client_pid <= 0:
        yield
        return
    from llmos.tools.process import hidden_from_listings

    with hidden_from_listings(client_pid), _protected_from_signals(session, client_pid):
        yield


@contextlib.contextmanager
def _protected_from_signals(session: Any, client_pid: int):
    policy = session.safety.policy
    if not hasattr(policy, "protected_pids"):
        yield
        return
    import psutil

    saved = policy.protected_pids
    extra = {client_pid}
    with contextlib.suppress(psutil.Error):
        extra.add(psutil.Process(client_pid).ppid())
    policy.protected_pids = frozenset(saved | extra)
    try:
        yield
    finally:
        policy.protected_pids = saved


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    daemon: Daemon


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        daemon: Daemon = self.server.daemon  # type: ignore[attr-defined]
        connection: socket.socket = self.request
        channel = LineChannel(connection)
        if not daemon.connection_slots.acquire(blocking=False):
            _refuse(channel, f"refused: the daemon already has {MAX_CONNECTIONS} open connections; try again")
            return
        try:
            self._serve_peer(daemon, connection, channel)
        finally:
            daemon.connection_slots.release()

    def _serve_peer(self, daemon: Daemon, connection: socket.socket, channel: LineChannel) -> None:
        peer_pid, peer_uid = _peer_credentials(connection)
        if peer_uid != os.getuid():
            # The socket's mode already keeps others out; the peer check holds even if the mode were changed.
            _refuse(channel, "refused: the daemon serves only its own user")
            return
        foreign = foreign_namespace(peer_pid)
        if foreign is not None:
            _log(f"refused a client (pid {peer_pid}): {foreign}")
            _refuse(channel, f"refused: the client {foreign}; the daemon serves only processes of its own session, "
                             f"never a sandboxed command")
            return
        daemon.stats.count("clients_connected")
        try:
            daemon.handle(channel, peer_pid)
        except LlmosError as exc:
            with contextlib.suppress(OSError):
                channel.send({"type": "error", "message": str(exc), "exit_code": exc.exit_code})
        except ProtocolError as exc:
            with contextlib.suppress(OSError):
                channel.send({"type": "error", "message": f"protocol error: {exc}", "exit_code": 2})
        except OSError:
            pass  # the client went away
        except Exception as exc:  # noqa: BLE001  one bad request must not take the daemon down
            _log(f"request failed: {type(exc).__name__}: {exc}")
            with contextlib.suppress(OSError):
                channel.send({"type": "error", "message": f"the daemon failed: {exc}", "exit_code": 1})
        finally:
            channel.close_passed_descriptors()
            daemon.stats.count("clients_connected", -1)


def _refuse(channel: LineChannel, message: str) -> None:
    with contextlib.suppress(OSError):
        channel.send({"type": "error", "message": message, "exit_code": 2})


def foreign_namespace(peer_pid: int) -> str | None:
    """Why the process `peer_pid` is not in the daemon's own user, pid, mount and network namespaces, or None when
    it is. A namespace that cannot be read counts as foreign (fail closed)."""
    if peer_pid <= 0:
        return "cannot be identified (no process id)"
    for kind in PEER_NAMESPACES:
        try:
            own = os.readlink(f"/proc/self/ns/{kind}")
            theirs = os.readlink(f"/proc/{peer_pid}/ns/{kind}")
        except OSError:
            return f"cannot be checked (its {kind} namespace is unreadable)"
        if own != theirs:
            return f"runs in another {kind} namespace"
    return None


def _peer_credentials(connection: socket.socket) -> tuple[int, int]:
    raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return pid, uid


def _bind(path: Path, daemon: Daemon) -> _Server:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # stale from a crash: the pid lock proves no daemon owns it
    previous_umask = os.umask(0o177)
    try:
        server = _Server(str(path), _Handler, bind_and_activate=True)
    finally:
        os.umask(previous_umask)
    os.chmod(path, 0o600)
    server.daemon = daemon
    return server


def _start_automations() -> Any | None:
    """Run the stored automation rules on file events, under the configured policy, journal and audit log;
    a setup that cannot start them is logged and the daemon serves requests anyway."""
    from llmos.automations.runner import AutomationRunner
    from llmos.automations.store import AutomationStore
    from llmos.runtime import load_safety
    from llmos.tools import load_builtin_tools

    def safety() -> Any:
        config = load_config()
        return load_safety(config.policy, config)

    def tell_person(message: str) -> None:
        _log(message)
        desktop_notification(message)

    runner = AutomationRunner(AutomationStore(), load_builtin_tools(), safety,
                              watch_for_policy_changes=config_dir(), notify=tell_person)
    try:
        runner.start()
    except (OSError, LlmosError) as exc:
        _log(f"automations not started: {exc}")
        return None
    return runner


def desktop_notification(message: str) -> bool:
    """Show `message` as a desktop notification (`notify-send`) when one is installed and a graphical session is
    reachable; returns whether it was shown. The argv is fixed here, never chosen by a model."""
    import shutil
    import subprocess

    program = shutil.which("notify-send")
    session = any(os.environ.get(name) for name in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"))
    if program is None or not session:
        return False
    try:
        completed = subprocess.run([program, "--app-name=llmos", "llmos", message], stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0


def _config_signature() -> tuple[tuple[str, int], ...]:
    folder = config_dir()
    try:
        return tuple(sorted((entry.name, entry.stat().st_mtime_ns) for entry in os.scandir(folder)
                            if entry.name.endswith(".toml")))
    except OSError:
        return ()


def _log(line: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} llmos daemon: {line}", file=sys.stderr, flush=True)


def _name_process(name: str) -> None:
    """Show the daemon as `llmos-daemon` rather than `python` in ps, top and the TUI's process list."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        pr_set_name = 15  # prctl(PR_SET_NAME): the kernel's 15-character process name
        libc.prctl(pr_set_name, name.encode()[:15], 0, 0, 0)


def main() -> int:
    """`python -m llmos.daemon.server`: what `llmos daemon start` runs detached, logging to the daemon log."""
    from llmos.errors import exit_code_of

    _name_process("llmos-daemon")
    preload_model = os.environ.pop("LLMOS_MODEL", None)
    # The daemon's own environment must not choose a request's model: each client sends its own choice.
    return exit_code_of("llmos daemon", lambda: Daemon(preload_model=preload_model).serve())


if __name__ == "__main__":
    sys.exit(main())
