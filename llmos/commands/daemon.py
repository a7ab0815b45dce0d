"""`llmos daemon start|stop|status|run`: the resident model that makes every front end fast.

`start` launches it detached (logging to the data dir's daemon.log) and returns once the model is loaded and
its prefix warm (a broken config, an unusable folder or a model that does not load is exit 2 with the reason,
and leaves no daemon running); `run` serves in the foreground (for a systemd user unit); `stop` asks it to finish
the request in hand and exit; `status` shows model, memory, uptime, requests served and prefix-cache hits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from llmos.errors import LlmosError, UsageError

START_TIMEOUT_S = 600.0
"""Long enough to assemble the bundled model on first use (minutes on a slow disk), then load it."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("daemon", help="start, stop or inspect the resident model daemon")
    actions = parser.add_subparsers(dest="daemon_command", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="start the daemon in the background; returns when the model is ready")
    start.add_argument("--model", metavar="NAME|PATH", help="model to load now (default: the configured one)")
    run = actions.add_parser("run", help="serve in the foreground (for a service manager)")
    run.add_argument("--model", metavar="NAME|PATH", help="model to load now (default: the configured one)")
    actions.add_parser("stop", help="stop the daemon")
    status = actions.add_parser("status", help="model, memory, uptime, requests served, cache hits")
    status.add_argument("--json", action="store_true", help="print the status as one JSON object")
    bench = actions.add_parser("bench", help="llmos-ask one-shot wall time with and without the daemon (medians)")
    bench.add_argument("--runs", type=int, default=5, help="one-shots each way (default 5)")
    bench.add_argument("--model", metavar="NAME|PATH", help="model (default: the configured one)")
    bench.add_argument("--request", default=None, help="the request to time (default: a single-step one)")
    parser.set_defaults(handler=handle)


def handle(options: argparse.Namespace) -> int:
    command = options.daemon_command
    if command == "start":
        return start(options.model)
    if command == "run":
        from llmos.daemon.server import Daemon

        return Daemon(preload_model=options.model or os.environ.pop("LLMOS_MODEL", None)).serve()
    if command == "stop":
        return stop()
    if command == "bench":
        from llmos.daemon.bench import DEFAULT_BENCH_REQUEST, run_daemon_bench

        if options.runs < 1:
            raise UsageError("--runs must be at least 1")
        report = run_daemon_bench(options.request or DEFAULT_BENCH_REQUEST, options.runs, options.model)
        print("\n".join(report.lines()))
        return 0
    return status(options.json)


def start(model: str | None) -> int:
    from llmos.daemon.client import DaemonUnavailable, ask_daemon
    from llmos.daemon.location import log_path, socket_path

    try:
        reply = ask_daemon({"op": "status"})
        print(f"llmos daemon: already running (pid {reply.get('pid')}) on {reply.get('socket')}")
        return 0
    except DaemonUnavailable:
        pass
    from llmos.config import load_config
    from llmos.daemon.location import pid_path

    # What the daemon would only find after it detached (a broken config, a folder it cannot use, a socket path
    # too long) is said here, as a configuration error, before anything is started.
    load_config()
    socket_path()
    pid_path().parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_file = log_path()
    log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    environment = dict(os.environ)
    if model:
        environment["LLMOS_MODEL"] = model
    descriptor = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "ab") as log_stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "llmos.daemon.server"],
            stdin=subprocess.DEVNULL, stdout=log_stream, stderr=log_stream, env=environment,
            start_new_session=True, cwd="/",
        )
    reply = _wait_until_ready(process, log_file)
    if reply.get("load_error"):
        # A daemon without its model would answer every request with the same error: `start` promised a
        # resident model, so it stops the daemon rather than leave it running broken.
        _stop_started(process)
        raise UsageError(f"the model did not load, so the daemon was stopped: {reply['load_error']}")
    print(f"llmos daemon: started (pid {reply['pid']}), model {reply.get('model')} ready")
    return 0


def _wait_until_ready(process: subprocess.Popen[bytes], log_file: Path) -> dict[str, Any]:
    from llmos.daemon.client import DaemonUnavailable, ask_daemon

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            failure = UsageError if process.returncode == UsageError.exit_code else LlmosError
            raise failure(f"the daemon exited at start (code {process.returncode}): {_last_line(log_file)}")
        try:
            reply = ask_daemon({"op": "status"})
        except DaemonUnavailable:
            reply = {}
        if reply.get("ready"):
            return reply
        time.sleep(0.2)
    raise LlmosError(f"the daemon was not ready after {START_TIMEOUT_S:.0f} s; see {log_file}")


def _stop_started(process: subprocess.Popen[bytes]) -> None:
    """Stop the daemon this `start` launched, and wait for it to be gone."""
    from llmos.daemon.client import DaemonUnavailable, ask_daemon

    try:
        ask_daemon({"op": "stop"})
        process.wait(timeout=30)
    except (DaemonUnavailable, subprocess.TimeoutExpired):
        process.terminate()
        process.wait(timeout=30)


def _last_line(log_file: Path) -> str:
    try:
        lines = [line for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "no log"


def stop() -> int:
    from llmos.daemon.client import DaemonUnavailable, ask_daemon
    from llmos.daemon.location import socket_path

    try:
        pid = ask_daemon({"op": "status"}).get("pid")
        ask_daemon({"op": "stop"})
    except DaemonUnavailable:
        print("llmos daemon: not running")
        return 0
    path = socket_path()
    deadline = time.monotonic() + 30
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if path.exists():
        raise LlmosError(f"the daemon (pid {pid}) did not stop within 30 s")
    print(f"llmos daemon: stopped (pid {pid})")
    return 0


def status(as_json: bool) -> int:
    from llmos.daemon.client import DaemonUnavailable, ask_daemon

    try:
        reply = ask_daemon({"op": "status"})
    except DaemonUnavailable:
        _check_runtime_folder()
        if as_json:
            print(json.dumps({"running": False}))
        else:
            print("llmos daemon: not running (start it with: llmos daemon start)")
        return 1
    if as_json:
        print(json.dumps({"running": True, **{k: v for k, v in reply.items() if k != "type"}}, indent=2))
        return 0
    cache = reply.get("prefix_cache") or {}
    model = reply.get("model")
    load_error = f"; last error: {reply['load_error']}" if reply.get("load_error") else ""
    model_line = (f"{model} (loaded; unloads after {reply['idle_unload_s']:.0f} s idle)" if model
                  else f"not loaded (loads on the next request){load_error}")
    print(f"llmos daemon: running (pid {reply['pid']}), up {_duration(reply['uptime_s'])}")
    print(f"  socket     {reply['socket']}")
    print(f"  model      {model_line}")
    print(f"  memory     {reply['memory_rss_bytes'] / 1e9:.2f} GB resident")
    print(f"  requests   {reply['requests_served']} served, {reply['requests_running']} running, "
          f"{max(0, reply['clients_connected'] - 1)} other clients connected")
    print(f"  prefix     {cache.get('memory', 0)} cache hits in memory, {cache.get('restored', 0)} restored from "
          f"disk, {cache.get('evaluated', 0)} evaluated; model loaded {reply['loads']}x, unloaded {reply['unloads']}x")
    return 0


def _check_runtime_folder() -> None:
    """A daemon that cannot be reached because its folder cannot be used (a file in the way) is a configuration
    error to name, not a daemon that merely is not running: the OSError is left to the command-line boundary,
    which names the folder."""
    from llmos.daemon.location import socket_path

    try:
        socket_path().stat()
    except FileNotFoundError:
        pass


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"
