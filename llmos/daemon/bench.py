"""`llmos daemon bench`: the wall time of real `llmos-ask` one-shots with and without the daemon, as medians.

Each run is a fresh `llmos-ask` process, as a person or script would start it; the in-process runs load the
model each time (prefix KV restored from the prompt cache), the daemon runs reach the resident model."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BENCH_REQUEST = "how much memory is free?"


@dataclass
class DaemonBenchReport:
    request: str
    runs: int
    without_daemon_s: list[float]
    with_daemon_s: list[float]

    @property
    def speedup(self) -> float:
        return statistics.median(self.without_daemon_s) / statistics.median(self.with_daemon_s)

    def lines(self) -> list[str]:
        def row(label: str, times: list[float]) -> str:
            spread = ", ".join(f"{value:.2f}" for value in times)
            return f"  {label:<16} median {statistics.median(times):6.2f} s   ({spread})"

        return [
            f"llmos-ask {self.request!r}, {self.runs} runs each (fresh process per run):",
            row("without daemon", self.without_daemon_s),
            row("with daemon", self.with_daemon_s),
            f"  speed-up         {self.speedup:.1f}x",
        ]


def run_daemon_bench(request: str, runs: int, model: str | None) -> DaemonBenchReport:
    """Time `runs` one-shots in-process, then start a daemon (unless one runs), time `runs` through it, and
    stop the daemon again if this bench started it."""
    from llmos.daemon.client import DaemonUnavailable, ask_daemon

    ask_executable = str(Path(sys.executable).with_name("llmos-ask"))
    llmos_executable = str(Path(sys.executable).with_name("llmos"))
    environment = dict(os.environ)
    if model:
        environment["LLMOS_MODEL"] = model
    try:
        ask_daemon({"op": "status"})
        started_here = False
    except DaemonUnavailable:
        started_here = True
    without = [_timed([ask_executable, request], {**environment, "LLMOS_NO_DAEMON": "1"}) for _ in range(runs)]
    if started_here:
        subprocess.run([llmos_executable, "daemon", "start"], env=environment, check=True, stdout=subprocess.DEVNULL)
    try:
        environment.pop("LLMOS_NO_DAEMON", None)
        with_daemon = [_timed([ask_executable, request], environment) for _ in range(runs)]
    finally:
        if started_here:
            subprocess.run([llmos_executable, "daemon", "stop"], env=environment, check=False,
                           stdout=subprocess.DEVNULL)
    return DaemonBenchReport(request, runs, without, with_daemon)


def _timed(argv: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(argv, env=environment, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        from llmos.errors import LlmosError

        raise LlmosError(f"llmos-ask failed during the bench (exit {completed.returncode}): "
                         f"{completed.stderr.strip().splitlines()[-1:] or ['no output']}")
    return elapsed
