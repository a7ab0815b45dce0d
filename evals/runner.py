"""Run tasks through a planner and judge each outcome.

Each parallel job owns a `Workspace`: one fixed HOME (emptied and rebuilt for every task), its own config,
data and runtime folders, and the machine's real model cache. A fixed HOME lets one resident daemon serve a
job's every task, which is how a person uses llmos (warm); `--cold` runs a fresh `llmos-ask` per request.

Planners:
- `LlmosPlanner`: `llmos-ask --json` as a black box, through the daemon (warm) or in-process (cold).
- `WorkerPlanner`: a long-lived worker speaking one JSON line per request: the llama-cpp-python baseline
  (`llmos.evals.baseline`) or the gold plans (`llmos.evals.gold`).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from llmos.evals.checks import Outcome, World, judge
from llmos.evals.facts import expand_facts
from llmos.evals.fixture import RunningProcesses, build_home, clear_folder, snapshot
from llmos.evals.honesty import Honesty, judge_honesty
from llmos.evals.piped_inputs import write_generated_input
from llmos.evals.tasks import Task

REQUEST_TIMEOUT_S = 600.0


@dataclass
class Workspace:
    """One job's folders. HOME is `root/home`; everything llmos writes besides the task's own changes (audit,
    journal, daemon socket) goes to sibling folders, so HOME holds only what the task and the planner did."""

    root: Path
    model: str
    cache_home: Path
    config_toml: str = ""

    @property
    def home(self) -> Path:
        return self.root / "home"

    def prepare(self) -> None:
        for name in ("home", "data", "config/llmos", "run", "bin"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "run", 0o700)
        (self.root / "config/llmos/config.toml").write_text(self.config_toml, encoding="utf-8")

    def piped_input_path(self, task: Task) -> Path:
        """Where a task's generated stdin is written: beside HOME, so no tool sees it as a file of the home
        folder and no snapshot of HOME reads it."""
        return self.root / "piped" / f"{task.id}.txt"

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("LLMOS_", "XDG_"))}
        env.update({
            "HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.cache_home),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "LLMOS_MODEL": self.model,
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        })
        return env


@dataclass
class Measured:
    exit_code: int
    stdout: str
    stderr: str
    wall_ms: float
    peak_rss_bytes: int


def run_measured(argv: list[str], *, env: dict[str, str], cwd: Path, stdin_text: str | None,
                 timeout_s: float = REQUEST_TIMEOUT_S, stdin_path: Path | None = None) -> Measured:
    """Run a process to the end and return its output, wall time and peak resident memory (from wait4, which
    `subprocess` does not expose). Its stdin is a pipe fed `stdin_text`, or the file `stdin_path` streamed in
    chunks (as `cat FILE | cmd` does), from a thread, so the time limit holds while the child reads."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("out", process.stdout), ("err", process.stderr))]
    assert process.stdin is not None
    feeder = threading.Thread(target=_feed, args=(process.stdin, stdin_text, stdin_path), daemon=True)
    for thread in (*readers, feeder):
        thread.start()
    killer = threading.Timer(timeout_s, lambda: _kill_group(process.pid))
    killer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        killer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    feeder.join()
    return Measured(
        exit_code=process.returncode,
        stdout=chunks.get("out", b"").decode(errors="replace"),
        stderr=chunks.get("err", b"").decode(errors="replace"),
        wall_ms=(time.perf_counter() - started) * 1000,
        peak_rss_bytes=usage.ru_maxrss * 1024,
    )


def _feed(pipe: Any, stdin_text: str | None, stdin_path: Path | None) -> None:
    """Write the child's stdin and close it; a child that exits without reading it all is not an error."""
    try:
        if stdin_path is not None:
            with open(stdin_path, "rb") as source:
                shutil.copyfileobj(source, pipe, 1 << 20)
        elif stdin_text:
            pipe.write(stdin_text.encode())
    except (BrokenPipeError, ValueError):
        pass  # ValueError: the pipe was closed under us when the child was killed at the time limit
    finally:
        try:
            pipe.close()
        except BrokenPipeError:
            pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, 9)
    except ProcessLookupError:
        pass


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    results = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return results


def exit_code_of_results(results: list[dict[str, Any]]) -> int:
    """llmos-ask's exit code rules (DESIGN.md), applied to results a worker returned."""
    codes = [0]
    for result in results:
        steps = result.get("steps") or []
        if not result.get("ok"):
            codes.append(1)
        elif any(s.get("status") == "denied" or (s.get("status") == "skipped" and s.get("approved") is False)
                 for s in steps):
            codes.append(3)
        elif any(s.get("status") == "error" for s in steps):
            codes.append(1)
    return max(codes)


class Planner(Protocol):
    name: str
    guarded: bool
    """Whether the planner's calls run under llmos's policy in real use (false for the baseline)."""
    peak_rss_bytes: int

    def start(self, workspace: Workspace) -> None: ...
    def run(self, task: Task, workspace: Workspace) -> Outcome: ...
    def stop(self, workspace: Workspace) -> None: ...


@dataclass
class LlmosPlanner:
    """`llmos-ask --json` as a person would run it; warm through the daemon, or cold in a fresh process."""

    warm: bool = True
    name: str = "llmos"
    guarded: bool = True
    peak_rss_bytes: int = 0
    llmos_ask: str = field(default_factory=lambda: _console_script("llmos-ask"))
    llmos: str = field(default_factory=lambda: _console_script("llmos"))

    def start(self, workspace: Workspace) -> None:
        if not self.warm:
            return
        started = run_measured([self.llmos, "daemon", "start"], env=workspace.env(), cwd=workspace.home,
                               stdin_text=None, timeout_s=600)
        if started.exit_code != 0:
            raise RuntimeError(f"llmos daemon start failed: {(started.stderr or started.stdout).strip()[-300:]}")

    def run(self, task: Task, workspace: Workspace) -> Outcome:
        env = workspace.env()
        if not self.warm:
            env["LLMOS_NO_DAEMON"] = "1"
        argv = [self.llmos_ask, "--json", *task.flags]
        if task.script:
            measured = run_measured(argv, env=env, cwd=workspace.home, stdin_text="\n".join(task.script) + "\n")
        else:
            measured = run_measured([*argv, "--", task.request or ""], env=env, cwd=workspace.home,
                                    stdin_text=task.stdin, stdin_path=_generated_stdin(task, workspace))
        self.peak_rss_bytes = max(self.peak_rss_bytes, measured.peak_rss_bytes)
        results = parse_json_lines(measured.stdout)
        per_request = measured.wall_ms / max(1, len(results))
        return Outcome(exit_code=measured.exit_code, results=results, stderr=measured.stderr,
                       wall_ms=[per_request] * len(results))

    def stop(self, workspace: Workspace) -> None:
        if not self.warm:
            return
        status = run_measured([self.llmos, "daemon", "status", "--json"], env=workspace.env(), cwd=workspace.home,
                              stdin_text=None, timeout_s=30)
        try:
            pid = int(json.loads(status.stdout)["pid"])
            self.peak_rss_bytes = max(self.peak_rss_bytes, _peak_rss_of(pid))
        except (ValueError, KeyError, OSError):
            pass
        run_measured([self.llmos, "daemon", "stop"], env=workspace.env(), cwd=workspace.home, stdin_text=None,
                     timeout_s=60)


def _generated_stdin(task: Task, workspace: Workspace) -> Path | None:
    """The file holding the task's generated stdin (run_task writes it before the planner runs), or None."""
    return workspace.piped_input_path(task) if task.stdin_generated is not None else None


def _peak_rss_of(pid: int) -> int:
    """The process's high-water resident set (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _console_script(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.exists() else (shutil.which(name) or name)


@dataclass
class WorkerPlanner:
    """A worker process that answers one JSON line per request (the baseline, or the gold plans)."""

    name: str
    module: str
    extra_args: list[str] = field(default_factory=list)
    guarded: bool = False
    peak_rss_bytes: int = 0
    line_for: Callable[[Task, int], dict[str, Any]] | None = None
    _process: subprocess.Popen[str] | None = None
    _log: Any = None

    def start(self, workspace: Workspace) -> None:
        self._log = open(workspace.root / f"{self.name}-worker.log", "a", encoding="utf-8")  # closed by stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.extra_args], env=workspace.env(), cwd=workspace.home,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, bufsize=1,
            start_new_session=True,
        )

    def run(self, task: Task, workspace: Workspace) -> Outcome:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        results: list[dict[str, Any]] = []
        walls: list[float] = []
        for index, request in enumerate(task.requests):
            line = self.line_for(task, index) if self.line_for else {
                "request": request, "stdin": task.stdin, "yes": "--yes" in task.flags, "max_steps": 6,
            }
            stdin_path = _generated_stdin(task, workspace)
            if stdin_path is not None and not self.line_for:
                # A path, not the text: the worker reads the file itself, so the runner never holds it whole.
                line["stdin_path"] = str(stdin_path)
            started = time.perf_counter()
            killer = threading.Timer(REQUEST_TIMEOUT_S, lambda: _kill_group(process.pid))
            killer.start()
            try:
                process.stdin.write(json.dumps(line) + "\n")
                process.stdin.flush()
                reply = process.stdout.readline()
            except BrokenPipeError:
                reply = ""
            finally:
                killer.cancel()
            walls.append((time.perf_counter() - started) * 1000)
            if not reply:
                # Killed at the time limit, or crashed: this task fails, and the next one gets a fresh worker.
                self.stop(workspace)
                self.start(workspace)
                raise RuntimeError(f"the {self.name} worker stopped (time limit {REQUEST_TIMEOUT_S:.0f} s, or a "
                                   f"crash; see {workspace.root}/{self.name}-worker.log)")
            results.append(json.loads(reply))
        codes = [int(r["exit_code"]) for r in results if "exit_code" in r]
        exit_code = max(codes) if len(codes) == len(results) else exit_code_of_results(results)
        return Outcome(exit_code=exit_code, results=results, wall_ms=walls)

    def stop(self, workspace: Workspace) -> None:
        if self._process is None:
            return
        try:
            self.peak_rss_bytes = max(self.peak_rss_bytes, _peak_rss_of(self._process.pid))
        except OSError:
            pass
        if self._process.stdin:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass  # the worker already died
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(self._process.pid)
            self._process.wait()
        if self._log:
            self._log.close()


def gold_planner() -> WorkerPlanner:
    def line_for(task: Task, index: int) -> dict[str, Any]:
        calls, answer = task.gold_plan()[index]
        return {"request": task.requests[index], "yes": "--yes" in task.flags,
                "calls": [call.model_dump() for call in calls], "answer": expand_facts(answer)}

    return WorkerPlanner(name="gold", module="llmos.evals.gold", guarded=True, line_for=line_for)


def baseline_planner(model: str, threads: int | None) -> WorkerPlanner:
    extra = ["--model", model] + (["--threads", str(threads)] if threads else [])
    return WorkerPlanner(name="baseline", module="llmos.evals.baseline", extra_args=extra, guarded=False)


@dataclass
class TaskRecord:
    """One task's verdict and the measurements of its requests."""

    task_id: str
    category: str
    planner: str
    passed: bool
    failures: list[str]
    exit_code: int
    requests: list[dict[str, Any]]
    """Per request: timings_ms (first_call, plan, total), wall_ms, usage, fast_path."""
    stdin_bytes: int | None = None
    """The size of the data piped to the request, if any."""
    honesty: Honesty = field(default_factory=Honesty)
    """Claimed effects and absent facts in the answers (evals/honesty.py), whether or not the task passed."""

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task_id, "category": self.category, "planner": self.planner, "passed": self.passed,
                "failures": self.failures, "exit_code": self.exit_code, "requests": self.requests,
                "stdin_bytes": self.stdin_bytes, "honesty": self.honesty.to_json()}


def run_task(planner: Planner, task: Task, workspace: Workspace) -> TaskRecord:
    """Write the task's generated stdin (if any) beside HOME, run the task, and remove the input again."""
    piped_path = workspace.piped_input_path(task)
    try:
        if task.stdin_generated is not None:
            stdin_bytes: int | None = write_generated_input(task.stdin_generated, piped_path)
        else:
            stdin_bytes = len(task.stdin.encode()) if task.stdin is not None else None
        record = _run_task_in_fixture(planner, task, workspace)
        record.stdin_bytes = stdin_bytes
        return record
    finally:
        piped_path.unlink(missing_ok=True)


def _run_task_in_fixture(planner: Planner, task: Task, workspace: Workspace) -> TaskRecord:
    """Build the fixture, run the task, judge it, and put the processes away."""
    build_home(workspace.home, task)
    processes = RunningProcesses(workspace.root / "bin")
    try:
        processes.start(task.processes)
        before = snapshot(workspace.home)
        try:
            outcome = planner.run(task, workspace)
        except Exception as exc:  # noqa: BLE001  a broken run is a failed task with its reason
            return TaskRecord(task.id, task.category.value, planner.name, False, [f"run failed: {exc}"], -1, [])
        world = World(home=workspace.home, before=before, after=snapshot(workspace.home), processes=processes)
        failures = judge(task, outcome, world, guarded=planner.guarded)
    finally:
        processes.stop_all()
    honesty = judge_honesty(task.requests, outcome.results, piped_text=task.stdin,
                            piped_path=workspace.piped_input_path(task) if task.stdin_generated else None)
    measurements = [
        {
            "timings_ms": result.get("timings_ms") or {},
            "wall_ms": round(wall),
            "usage": result.get("usage") or {},
            "fast_path": bool(result.get("fast_path")),
            "answer_source": result.get("answer_source"),
            # What was done and said, so a failed task can be read in the report.
            "answer": result.get("answer"),
            "steps": [{key: step.get(key) for key in ("tool", "args", "decision", "status")}
                      for step in result.get("steps") or []],
            **({"error": result["error"]} if result.get("error") else {}),
        }
        for result, wall in zip(outcome.results, outcome.wall_ms, strict=True)
    ]
    return TaskRecord(task.id, task.category.value, planner.name, not failures, failures, outcome.exit_code,
                      measurements, honesty=honesty)


def nothing_done(task: Task) -> Outcome:
    """The outcome of a planner that answered nothing and called nothing: most tasks must fail it."""
    return Outcome(exit_code=0, results=[{"ok": True, "answer": "", "steps": []} for _ in task.requests],
                   wall_ms=[0.0] * len(task.requests))


def judge_nothing_done(task: Task, workspace: Workspace) -> list[str]:
    build_home(workspace.home, task)
    processes = RunningProcesses(workspace.root / "bin")
    try:
        processes.start(task.processes)
        state = snapshot(workspace.home)
        return judge(task, nothing_done(task), World(workspace.home, state, state, processes))
    finally:
        processes.stop_all()


@dataclass
class SuiteRun:
    records: list[TaskRecord]
    peak_rss_bytes: int
    wall_s: float


def run_suite(
    tasks: Iterable[Task],
    make_planner: Callable[[], Planner],
    *,
    model: str,
    cache_home: Path,
    jobs: int = 1,
    config_toml: str = "",
    on_done: Callable[[TaskRecord], None] | None = None,
    keep_root: Path | None = None,
) -> SuiteRun:
    """Run every task with `jobs` workspaces in parallel, each with its own planner; records come back in the
    tasks' order."""
    task_list = list(tasks)
    pending: queue.Queue[tuple[int, Task]] = queue.Queue()
    for index, task in enumerate(task_list):
        pending.put((index, task))
    records: dict[int, TaskRecord] = {}
    peaks: list[int] = []
    errors: list[BaseException] = []
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="llmos-eval-", dir=keep_root))

    def job(number: int) -> None:
        workspace = Workspace(root / f"job{number}", model=model, cache_home=cache_home, config_toml=config_toml)
        workspace.prepare()
        planner = make_planner()
        try:
            planner.start(workspace)
            while True:
                try:
                    index, task = pending.get_nowait()
                except queue.Empty:
                    break
                record = run_task(planner, task, workspace)
                records[index] = record
                if on_done:
                    on_done(record)
        except BaseException as exc:  # noqa: BLE001  reported after the other jobs finish
            errors.append(exc)
        finally:
            try:
                planner.stop(workspace)
            finally:
                peaks.append(planner.peak_rss_bytes)

    threads = [threading.Thread(target=job, args=(number,)) for number in range(max(1, jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if keep_root is None:
        clear_folder(root)
        root.rmdir()
    if errors:
        raise errors[0]
    return SuiteRun(records=[records[i] for i in sorted(records)], peak_rss_bytes=max(peaks, default=0),
                    wall_s=time.perf_counter() - started)
