"""The gold planner: runs a task's known-right tool calls through llmos's real tools, policy, journal and
audit, with no model. `llmos eval --validate` uses it to prove that each task's checks pass on a right outcome
(and, with an empty plan, fail on a wrong one).

Run as a worker (`python -m llmos.evals.gold`) whose HOME and XDG folders the runner sets: it reads one JSON
object per line, `{"request": str, "yes": bool, "calls": [{"tool", "args"}], "answer": str}`, and writes one
`llmos-ask --json` object per line.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from llmos.tools import load_builtin_tools
from llmos.tools.registry import Registry

from llmos.config import load_config
from llmos.events import RequestFinished, StepInProgress
from llmos.executor import Safety, StepRunner, new_request_id
from llmos.runtime import load_safety

_PID = re.compile(r"\{pid:([\w.-]+)\}")


def _fixture_pid(name: str) -> int:
    """The pid of the task's fixture process `name`: the copy of `sleep` in this workspace's bin/ (HOME's
    sibling), so that a gold plan can name it as "{pid:NAME}", which no task file can know in advance."""
    program = str((Path(os.environ["HOME"]).parent / "bin" / name).resolve())
    for process in psutil.process_iter(["pid", "exe"]):
        if process.info["exe"] == program:
            return int(process.info["pid"])
    raise ValueError(f"no fixture process {name}")


def _with_pids(value: Any) -> Any:
    """A gold arg or answer with each "{pid:NAME}" replaced by that fixture process's pid (an int when the
    whole value is the placeholder)."""
    if not isinstance(value, str) or "{pid:" not in value:
        return value
    whole = _PID.fullmatch(value)
    if whole:
        return _fixture_pid(whole.group(1))
    return _PID.sub(lambda match: str(_fixture_pid(match.group(1))), value)


def run_gold(registry: Registry, safety: Safety, line: dict[str, Any]) -> RequestFinished:
    started = time.perf_counter()
    request = str(line["request"])
    yes = bool(line.get("yes"))
    runner = StepRunner(
        safety, request_id=new_request_id(), request=request, allowed_effects=None,
        approver=(lambda step: yes), dry_run=False, result_budget_chars=2000,
    )
    steps: list[StepInProgress] = []
    error: str | None = None
    for index, call in enumerate(line.get("calls") or []):
        spec = registry.get(call["tool"])
        if spec is None:
            error = f"unknown tool {call['tool']}"
            break
        try:
            raw_args = {key: _with_pids(value) for key, value in (call.get("args") or {}).items()}
            args = json.loads(json.dumps(spec.validate(raw_args), default=lambda v: getattr(v, "value", str(v))))
        except Exception as exc:  # noqa: BLE001  a wrong gold plan is reported, not a crash
            error = f"gold call {call['tool']} has bad args: {exc}"
            break
        step = StepInProgress(index=index, tool=spec.name, args=args)
        steps.append(step)
        for _ in runner.run(spec, step):
            pass
    answer = str(_with_pids(str(line.get("answer") or "")))
    return RequestFinished(
        request=request, ok=error is None and bool(answer or steps), answer=answer,
        steps=[step.snapshot() for step in steps], model="gold",
        timings_ms={"load": 0, "plan": 0, "total": round((time.perf_counter() - started) * 1000)}, error=error,
    )


def main() -> int:
    registry = load_builtin_tools()
    safety = load_safety(None, load_config())
    for raw in sys.stdin:
        if not raw.strip():
            continue
        try:
            finished = run_gold(registry, safety, json.loads(raw))
            payload = {**finished.to_json(), "exit_code": finished.exit_code}
        except Exception as exc:  # noqa: BLE001  one bad line must not end the worker
            payload = {"ok": False, "error": f"gold worker: {exc}", "exit_code": 2, "steps": []}
        print(json.dumps(payload), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
