"""The gold planner: runs a task's known-right tool calls through llmos's real tools, policy, journal and
audit, with no model. `llmos eval --validate` uses it to prove that each task's checks pass on a right outcome
(and, with an empty plan, fail on a wrong one).

Run as a worker (`python -m llmos.evals.gold`) whose HOME and XDG folders the runner sets: it reads one JSON
object per line, `{"request": str, "yes": bool, "calls": [{"tool", "args"}], "answer": str}`, and writes one
`llmos-ask --json` object per line.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from llmos.config import load_config
from llmos.events import RequestFinished, Step
from llmos.executor import Safety, StepRunner, new_request_id
from llmos.runtime import load_safety
from llmos.tools import load_builtin_tools
from llmos.tools.registry import Registry


def run_gold(registry: Registry, safety: Safety, line: dict[str, Any]) -> RequestFinished:
    started = time.perf_counter()
    request = str(line["request"])
    yes = bool(line.get("yes"))
    runner = StepRunner(
        safety, request_id=new_request_id(), request=request, allowed_effects=None,
        approver=(lambda step: yes), dry_run=False, result_budget_chars=2000,
    )
    steps: list[Step] = []
    error: str | None = None
    for index, call in enumerate(line.get("calls") or []):
        spec = registry.get(call["tool"])
        if spec is None:
            error = f"unknown tool {call['tool']}"
            break
        try:
            args = json.loads(json.dumps(spec.validate(call.get("args") or {}), default=lambda v: getattr(v, "value", str(v))))
        except Exception as exc:  # noqa: BLE001  a wrong gold plan is reported, not a crash
            error = f"gold call {call['tool']} has bad args: {exc}"
            break
        step = Step(index=index, tool=spec.name, args=args)
        steps.append(step)
        for _ in runner.run(spec, step):
            pass
    answer = str(line.get("answer") or "")
    return RequestFinished(
        request=request, ok=error is None and bool(answer or steps), answer=answer, steps=steps, model="gold",
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
