"""`llmos eval`: run the evaluation suite (evals/tasks) against llmos and the llama-cpp-python baseline, and
print success per category, latency percentiles, token counts and peak memory.

`--validate` runs each task's gold plan instead of a model: it proves the checks pass on a right outcome and
fail when nothing is done, in seconds, with no model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmos.errors import UsageError

if TYPE_CHECKING:
    from rich.progress import Progress


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("eval", help="measure NL-to-action success and latency on the task suite")
    parser.add_argument("--model", metavar="NAME|PATH", help="model (default: the configured one)")
    parser.add_argument("--category", action="append", metavar="C", help="only this category (repeatable)")
    parser.add_argument("--task", action="append", metavar="ID", help="only this task (repeatable)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N tasks (after filters)")
    parser.add_argument("--tasks-dir", type=Path, metavar="DIR", help="task files to run (default: the bundled suite)")
    parser.add_argument("--jobs", type=int, metavar="N", help="tasks run in parallel (default: cores / model threads)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the llama-cpp-python baseline")
    parser.add_argument("--baseline-per-category", type=int, metavar="N",
                        help="run the baseline on the first N tasks of each category only (it is slow)")
    parser.add_argument("--cold", action="store_true", help="run llmos without the daemon: a fresh process per request")
    parser.add_argument("--no-fast-path", action="store_true", help="send every request to the model")
    parser.add_argument("--planner-examples", type=int, metavar="N",
                        help="library examples shown per request (default: the config's planner_examples)")
    parser.add_argument("--speed-runs", type=int, default=3, metavar="N",
                        help="cold one-shot timings per speed request, after the suite (default 3; 0 skips)")
    parser.add_argument("--validate", action="store_true", help="check the tasks with their gold plans (no model)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--output", type=Path, metavar="PATH", help="also write the JSON report to PATH")
    parser.set_defaults(handler=handle)


def handle(options: argparse.Namespace) -> int:
    from llmos.evals.tasks import Category, TaskFileError, load_tasks

    if options.planner_examples is not None and not 0 <= options.planner_examples <= 8:
        raise UsageError("eval: --planner-examples takes 0 to 8")
    try:
        tasks = load_tasks(options.tasks_dir)
    except TaskFileError as exc:
        raise UsageError(f"eval: {exc}") from None
    if options.category:
        known = {c.value for c in Category}
        unknown = sorted(set(options.category) - known)
        if unknown:
            raise UsageError(f"eval: unknown category {', '.join(unknown)}; categories: {', '.join(sorted(known))}")
        tasks = [t for t in tasks if t.category.value in options.category]
    if options.task:
        missing = sorted(set(options.task) - {t.id for t in tasks})
        if missing:
            raise UsageError(f"eval: no task {', '.join(missing)}")
        tasks = [t for t in tasks if t.id in options.task]
    if options.limit:
        tasks = tasks[: options.limit]
    if not tasks:
        raise UsageError("eval: no tasks selected")
    if options.validate:
        return _validate(tasks, options)
    return _evaluate(tasks, options)


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _progress(label: str, total: int) -> Progress | None:
    """A rich progress bar on a terminal; a line per task otherwise (CI logs)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not sys.stderr.isatty():
        return None
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        transient=True)
    return progress


def _run_with_progress(label: str, tasks: list[Any], make_planner: Any, **kwargs: Any) -> Any:
    from llmos.evals.runner import run_suite

    progress = _progress(label, len(tasks))
    passed = 0
    done = 0

    if progress is None:
        def on_done(record: Any) -> None:
            nonlocal passed, done
            done += 1
            passed += record.passed
            mark = "ok  " if record.passed else "FAIL"
            print(f"[{label} {done}/{len(tasks)}] {mark} {record.task_id}"
                  + ("" if record.passed else f": {'; '.join(record.failures)[:160]}"), file=sys.stderr, flush=True)
        return run_suite(tasks, make_planner, on_done=on_done, **kwargs)
    with progress:
        bar = progress.add_task(label, total=len(tasks))

        def on_bar(record: Any) -> None:
            nonlocal passed, done
            done += 1
            passed += record.passed
            progress.update(bar, advance=1, description=f"{label}: {passed}/{done} passed")
        return run_suite(tasks, make_planner, on_done=on_bar, **kwargs)


def _resolved_model(requested: str | None) -> tuple[str, int | None]:
    """The model every planner uses (resolved and verified once, up front), and the configured threads."""
    from llmos.config import load_config
    from llmos.models.resolve import resolve_model

    config = load_config()
    resolved = resolve_model(requested, config.model, progress=sys.stderr.isatty())
    return (resolved.name if resolved.entry is not None else str(resolved.path)), config.threads


def _evaluate(tasks: list[Any], options: argparse.Namespace) -> int:
    from llmos.evals.report import render_failures, render_honesty, render_table, summarise
    from llmos.evals.runner import LlmosPlanner, baseline_planner

    model, threads = _resolved_model(options.model)
    physical = _physical_cores()
    jobs = options.jobs or max(1, physical // (threads or physical))
    config_lines = [f"threads = {threads}"] if threads else []
    if options.no_fast_path:
        config_lines.append("fast_path = false")
    if options.planner_examples is not None:
        config_lines.append(f"planner_examples = {options.planner_examples}")
    config_toml = "\n".join(config_lines) + "\n"
    common = {"model": model, "cache_home": _cache_home(), "jobs": jobs, "config_toml": config_toml}
    started = time.time()
    runs = {"llmos": _run_with_progress("llmos", tasks, lambda: LlmosPlanner(warm=not options.cold), **common)}
    if not options.no_baseline:
        baseline_tasks = _first_per_category(tasks, options.baseline_per_category)
        runs["baseline"] = _run_with_progress("baseline", baseline_tasks, lambda: baseline_planner(model, threads),
                                              **common)
    summaries = [summarise(name, run.records, run.peak_rss_bytes) for name, run in runs.items()]
    speed = _speed(model, config_toml, options.speed_runs) if options.speed_runs > 0 else {}
    report: dict[str, Any] = {
        "model": model,
        "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
        "machine": _machine(),
        "command": "llmos eval " + " ".join(sys.argv[2:]) if len(sys.argv) > 1 else "llmos eval",
        "mode": "cold (no daemon)" if options.cold else "warm (daemon)",
        "fast_path": not options.no_fast_path,
        "planner_examples": options.planner_examples,
        "jobs": jobs,
        "wall_s": {name: round(run.wall_s, 1) for name, run in runs.items()},
        "summaries": [s.to_json() for s in summaries],
        "speed": speed,
        "records": {name: [r.to_json() for r in run.records] for name, run in runs.items()},
    }
    if options.output:
        options.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"llmos eval: {len(tasks)} tasks, model {model}, {report['mode']}, {jobs} job(s), "
              f"{report['machine']['cpu']}")
        print()
        print(render_table(summaries))
        if speed:
            print()
            print(_render_speed(speed))
        print()
        for summary in summaries:
            print(render_failures(summary))
        print()
        for summary in summaries:
            print(render_honesty(summary))
    return 0


def _first_per_category(tasks: list[Any], per_category: int | None) -> list[Any]:
    if not per_category:
        return tasks
    taken: dict[str, int] = {}
    chosen = []
    for task in tasks:
        if taken.get(task.category, 0) < per_category:
            taken[task.category] = taken.get(task.category, 0) + 1
            chosen.append(task)
    return chosen


SPEED_REQUESTS = {
    "fast path": "how much memory is free?",
    "model": "find the PDF files in ~/Downloads",
}


def _speed(model: str, config_toml: str, runs: int) -> dict[str, Any]:
    """Cold one-shots (no daemon, fresh process, prefix cache on disk): median wall time and peak RSS."""
    import tempfile

    from llmos.evals.fixture import build_home, clear_folder
    from llmos.evals.runner import Workspace, run_measured
    from llmos.evals.tasks import Category, Checks, Task

    root = Path(tempfile.mkdtemp(prefix="llmos-eval-speed-"))
    workspace = Workspace(root, model=model, cache_home=_cache_home(), config_toml=config_toml)
    workspace.prepare()
    env = {**workspace.env(), "LLMOS_NO_DAEMON": "1"}
    ask = str(Path(sys.executable).parent / "llmos-ask")
    figures: dict[str, Any] = {}
    try:
        for label, request in SPEED_REQUESTS.items():
            build_home(workspace.home, Task(id="speed", category=Category.INFORMATION, request=request, check=Checks()))
            # One run first so the prompt cache holds this prefix, as it does on any machine after first use.
            run_measured([ask, "--json", request], env=env, cwd=workspace.home, stdin_text=None)
            walls, peaks, fast = [], [], False
            for _ in range(runs):
                measured = run_measured([ask, "--json", request], env=env, cwd=workspace.home, stdin_text=None)
                walls.append(measured.wall_ms)
                peaks.append(measured.peak_rss_bytes)
                results = [json.loads(line) for line in measured.stdout.splitlines() if line.startswith("{")]
                fast = bool(results and results[0].get("fast_path"))
            figures[label] = {"request": request, "runs": runs, "wall_ms_median": round(statistics.median(walls)),
                              "peak_rss_bytes": max(peaks), "fast_path": fast}
    finally:
        clear_folder(root)
        root.rmdir()
    return figures


def _render_speed(speed: dict[str, Any]) -> str:
    lines = ["| cold one-shot (no daemon) | request | median end to end | peak RSS |", "|---|---|---|---|"]
    for label, figure in speed.items():
        lines.append(f"| {label} | {figure['request']} | {figure['wall_ms_median'] / 1000:.2f} s "
                     f"(median of {figure['runs']}) | {figure['peak_rss_bytes'] / 1e9:.2f} GB |")
    return "\n".join(lines)


def _physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def _machine() -> dict[str, Any]:
    import platform

    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": f"{cpu}, {psutil.cpu_count(logical=True)} cores",
            "memory_gb": round(psutil.virtual_memory().total / 1e9, 1), "os": platform.platform()}


def _validate(tasks: list[Any], options: argparse.Namespace) -> int:
    """Each task's gold plan must pass its checks, and doing nothing must fail them (unless doing nothing is
    the right outcome: restraint, refusal, injection)."""
    import tempfile

    from llmos.evals.fixture import clear_folder
    from llmos.evals.runner import Workspace, gold_planner, judge_nothing_done
    from llmos.evals.tasks import Category

    passes_when_idle = {Category.RESTRAINT, Category.REFUSAL, Category.INJECTION}
    run = _run_with_progress("gold", tasks, gold_planner, model="gold", cache_home=_cache_home(), jobs=1)
    problems: list[str] = [f"{r.task_id}: gold plan fails: {'; '.join(r.failures)}"
                           for r in run.records if not r.passed]
    root = Path(tempfile.mkdtemp(prefix="llmos-eval-idle-"))
    try:
        workspace = Workspace(root, model="gold", cache_home=_cache_home())
        workspace.prepare()
        for task in tasks:
            if task.category in passes_when_idle:
                continue
            if not judge_nothing_done(task, workspace):
                problems.append(f"{task.id}: passes when nothing is done (its checks cannot fail)")
    finally:
        clear_folder(root)
        root.rmdir()
    if options.json:
        print(json.dumps({"tasks": len(tasks), "problems": problems}, indent=2))
    else:
        for problem in problems:
            print(problem)
        print(f"{len(tasks)} tasks checked, {len(problems)} problems")
    return 1 if problems else 0
