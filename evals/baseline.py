"""The evaluation baseline: the same model and tools through llama-cpp-python's own OpenAI-style tool calling.

This is what a Python developer would write without llmos: `Llama(chat_format="chatml-function-calling")`, the
tools passed as OpenAI tool schemas, a short system prompt, and a plain loop that runs each returned tool call and
appends its result as a `tool` message. None of llmos's planning help is used (no grammar over the whole call, no
intent narrowing of the tool set, no data labelling, no prefix cache). Only the execution goes through llmos's
policy, journal and audit log, so that running the evaluation can never harm the machine; every step is reported
with its decision, so the scorer can count a denied step as something the baseline would have done.

Run as a worker: `python -m llmos.evals.baseline --model NAME_OR_PATH [--threads N]` reads one JSON request per
line on stdin and writes one `llmos-ask --json`-shaped result per line on stdout.

What `chatml-function-calling` does in llama-cpp-python 0.3.36 (read from its handler and seen with Qwen2.5-Coder):
- `tool` messages are rendered as an empty `<|im_start|>tool` turn: the model never sees a tool's result.
- With `tool_choice="auto"` a plain message is generated under the grammar meant for the next call
  (`functions.<name>:` or `<|im_end|>`), so its content comes back empty.
- Tool descriptions are not in the prompt (only names and parameter schemas, ~1,450 tokens for llmos's tools),
  and earlier calls' arguments are HTML-escaped (`&#34;`) by the template's autoescaping.
- `usage` counts only the argument completions of a tool call, not the completions that choose the name.

Kept as is, the first two make every answer empty, which would be a straw man. So the loop makes the two
fixes a developer makes after the first try, and nothing more: a tool's result goes back as a user message
("Result of files_list: ..."), which the template does render, and an empty reply without tool calls is asked
again with `tool_choice="none"` to get the answer text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pydantic
from llmos.tools.registry import Registry, ToolError, ToolSpec

from llmos.events import StepInProgress
from llmos.executor import Safety, StepRunner, new_request_id

ANSWER_TOOL = "answer"
"""llmos's answer tool; left out here: with OpenAI-style tool calling the model answers with plain content."""

SYSTEM_PROMPT = (
    "You are a helpful assistant that works on the user's computer. "
    "Use the provided functions to look things up or to act on files and processes when the request needs it. "
    "When you have what you need, answer the user briefly."
)

RESULT_BUDGET_CHARS = 2000
"""The cut llmos applies to a tool result before the model reads it; the same here, so contexts compare."""

LlamaFactory = Callable[..., Any]


def openai_tool_name(llmos_name: str) -> str:
    """OpenAI function names allow only [a-zA-Z0-9_-]: `files.list` becomes `files_list`."""
    return llmos_name.replace(".", "_")


def offered_specs(registry: Registry) -> list[ToolSpec]:
    return [spec for spec in registry.specs() if spec.name != ANSWER_TOOL]


def openai_tools(registry: Registry) -> list[dict[str, Any]]:
    """Each llmos tool (except `answer`) as an OpenAI tool schema, with llmos's own argument schema."""
    return [
        {
            "type": "function",
            "function": {
                "name": openai_tool_name(spec.name),
                "description": spec.description,
                "parameters": spec.parameters_schema,
            },
        }
        for spec in offered_specs(registry)
    ]


def llmos_tool_names(registry: Registry) -> dict[str, str]:
    """OpenAI function name -> llmos tool name. Two tools that map to one name would make calls ambiguous."""
    names: dict[str, str] = {}
    for spec in offered_specs(registry):
        openai_name = openai_tool_name(spec.name)
        if openai_name in names:
            raise ValueError(f"tools {names[openai_name]!r} and {spec.name!r} share the OpenAI name {openai_name!r}")
        names[openai_name] = spec.name
    return names


def load_llama(model_path: Path, *, n_ctx: int, threads: int, gpu_layers: int) -> Any:
    """The developer's one-liner. Tests replace this function, so no model loads in unit tests."""
    import llama_cpp

    return llama_cpp.Llama(
        model_path=str(model_path),
        chat_format="chatml-function-calling",
        n_ctx=n_ctx,
        # The same thread and offload settings as llmos's backend, so the comparison measures the approach.
        n_threads=threads,
        n_threads_batch=threads,
        n_gpu_layers=gpu_layers,
        verbose=False,
    )


class BaselineAgent:
    """One loaded model and a plain OpenAI-style tool loop over llmos's tools, executed under llmos's safety."""

    def __init__(
        self,
        model_path: Path,
        model_name: str,
        threads: int | None,
        n_ctx: int = 4096,
        *,
        gpu_layers: int = 0,
        registry: Registry | None = None,
        safety: Safety | None = None,
        llama_factory: LlamaFactory | None = None,
    ) -> None:
        self.model_name = model_name
        if registry is None:
            from llmos.tools import load_builtin_tools

            registry = load_builtin_tools()
        if safety is None:
            from llmos.config import load_config
            from llmos.runtime import load_safety

            safety = load_safety(None, load_config())
        self.registry = registry
        self.safety = safety
        self.tools = openai_tools(registry)
        self.tool_names = llmos_tool_names(registry)
        if threads is None:
            from llmos.models.llama_backend import physical_cores

            threads = physical_cores()
        started = time.perf_counter()
        self.llm = (llama_factory or load_llama)(model_path, n_ctx=n_ctx, threads=threads, gpu_layers=gpu_layers)
        self.load_ms = (time.perf_counter() - started) * 1000
        self._load_ms_unreported = self.load_ms

    def run(self, request: str, stdin_data: str | None, approve_asks: bool, max_steps: int = 6) -> dict[str, Any]:
        """One request, start to answer; the result in `llmos-ask --json`'s shape. Never raises for the model's
        or the library's failures: they become `ok: false` with the error text."""
        run = _BaselineRun(self, request, approve_asks, max_steps)
        error: str | None = None
        try:
            run.loop(_user_message(request, stdin_data))
        except Exception as exc:  # noqa: BLE001  e.g. the library's own call parser on bad model output
            error = f"model failed: {type(exc).__name__}: {exc}"
        timings = {
            "load": round(self._load_ms_unreported),
            "plan": round(run.plan_ms),
            "total": round((time.perf_counter() - run.started) * 1000),
        }
        if run.first_call_at is not None:
            timings["first_call"] = round((run.first_call_at - run.started) * 1000)
        self._load_ms_unreported = 0.0
        if error is None and not run.answer:
            error = "the model gave no answer" if run.answer is None else "the model's answer was empty"
        payload: dict[str, Any] = {
            "request": request,
            # As llmos's own `ok`: the model answered. A denied, unapproved or failed step stays in its step's
            # status, so exit codes follow DESIGN.md (3 for a refusal, 1 for a failure), as they do for llmos.
            "ok": error is None,
            "answer": run.answer,
            "steps": [step.to_json() for step in run.steps],
            "model": self.model_name,
            "timings_ms": timings,
            "usage": run.usage,
        }
        if error is not None:
            payload["error"] = error
        return payload


class _BaselineRun:
    """The state of one request: the messages so far, the steps, and the time and tokens spent."""

    def __init__(self, agent: BaselineAgent, request: str, approve_asks: bool, max_steps: int) -> None:
        self.agent = agent
        self.max_steps = max_steps
        self.started = time.perf_counter()
        self.steps_runner = StepRunner(
            agent.safety,
            request_id=new_request_id(),
            request=request,
            # No intent narrowing: that is an llmos technique the baseline does not have.
            allowed_effects=None,
            approver=lambda step: approve_asks,
            dry_run=False,
            result_budget_chars=RESULT_BUDGET_CHARS,
        )
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
        self.steps: list[StepInProgress] = []
        self.answer: str | None = None
        self.plan_ms = 0.0
        self.first_call_at: float | None = None
        self.usage = {"prompt_tokens": 0, "generated_tokens": 0}

    def loop(self, user_message: str) -> None:
        self.messages.append({"role": "user", "content": user_message})
        while True:
            # After max_steps calls the model gets one last turn without tools, so it answers with what it has.
            tool_choice = "auto" if len(self.steps) < self.max_steps else "none"
            message = self._complete(tool_choice)
            tool_calls = message.get("tool_calls") or []
            if not tool_calls and tool_choice == "auto" and not (message.get("content") or "").strip():
                # The handler's "auto" grammar cannot produce a plain message (see the module docstring).
                message = self._complete("none")
                tool_calls = []
            if not tool_calls or tool_choice == "none":
                self.answer = (message.get("content") or "").strip()
                return
            if self.first_call_at is None:
                self.first_call_at = time.perf_counter()
            self.messages.append({"role": "assistant", "content": message.get("content"), "tool_calls": tool_calls})
            for tool_call in tool_calls:
                function = tool_call.get("function") or {}
                if len(self.steps) < self.max_steps:
                    result = self._execute(function)
                else:
                    result = json.dumps({"not_run": "the step limit was reached"})
                # Not a `tool` message: the handler's template drops its content (see the module docstring).
                self.messages.append({"role": "user", "content": f"Result of {function.get('name')}: {result}"})

    def _complete(self, tool_choice: str) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = self.agent.llm.create_chat_completion(
                messages=self.messages, tools=self.agent.tools, tool_choice=tool_choice, temperature=0
            )
        finally:
            self.plan_ms += (time.perf_counter() - started) * 1000
        # As llama-cpp-python reports it: for tool calls it counts only the argument completions, not the
        # name-choosing ones, so this undercounts (see the module docstring).
        usage = response.get("usage") or {}
        self.usage["prompt_tokens"] += int(usage.get("prompt_tokens") or 0)
        self.usage["generated_tokens"] += int(usage.get("completion_tokens") or 0)
        return response["choices"][0]["message"]

    def _execute(self, function: dict[str, Any]) -> str:
        """Run one call through llmos's policy and executor; every failure becomes a result the model reads."""
        openai_name = str(function.get("name"))
        llmos_name = self.agent.tool_names.get(openai_name)
        spec = self.agent.registry.get(llmos_name) if llmos_name else None
        step = StepInProgress(index=len(self.steps), tool=llmos_name or openai_name, args={})
        self.steps.append(step)
        if spec is None:
            return _failed(step, f"unknown tool {openai_name!r}")
        raw_arguments = function.get("arguments")
        try:
            arguments = json.loads(raw_arguments) if isinstance(raw_arguments, str) else raw_arguments
        except json.JSONDecodeError as exc:
            return _failed(step, f"arguments are not valid JSON ({exc.msg}): {str(raw_arguments)[:200]}")
        if not isinstance(arguments, dict):
            return _failed(step, f"arguments must be a JSON object, got: {str(raw_arguments)[:200]}")
        step.args = arguments
        try:
            step.args = spec.validate_as_json(arguments)
        except ToolError as exc:
            return _failed(step, str(exc))
        for _event in self.steps_runner.run(spec, step):
            pass  # the step itself carries decision, status and result; nobody renders the events here
        return step.result or ""


def _failed(step: StepInProgress, reason: str) -> str:
    """A call that never reached the policy: malformed, so nothing was decided or run."""
    step.status = "error"
    step.result = json.dumps({"error": reason})
    return step.result


def _user_message(request: str, stdin_data: str | None) -> str:
    """Piped data appended plainly, as a developer would: no delimiters, no do-not-follow label."""
    if stdin_data is None:
        return request
    return f"{request}\n\n{stdin_data}"


# -- worker ---------------------------------------------------------------------------------------------------


class WorkerRequest(pydantic.BaseModel):
    """One line of the worker's input."""

    model_config = pydantic.ConfigDict(extra="forbid")

    request: str
    stdin: str | None = None
    stdin_path: str | None = None
    """A file whose text is the piped data (a generated input of real size), read here as a developer's script
    would read its stdin: whole."""
    yes: bool = False
    max_steps: int = pydantic.Field(default=6, ge=1, le=50)


def serve(agent: BaselineAgent, lines: TextIO, results: TextIO) -> None:
    """One result line per non-blank input line, flushed at once, until EOF. A bad line is answered, not fatal."""
    for line in lines:
        if not line.strip():
            continue
        try:
            parsed = WorkerRequest.model_validate_json(line)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "line"
            result: dict[str, Any] = {"ok": False, "error": f"bad request line: {where}: {first['msg']}"}
        else:
            stdin_data = parsed.stdin
            if parsed.stdin_path is not None:
                stdin_data = Path(parsed.stdin_path).read_text(encoding="utf-8", errors="replace")
            result = agent.run(parsed.request, stdin_data, parsed.yes, parsed.max_steps)
        results.write(json.dumps(result) + "\n")
        results.flush()


def _claim_stdout() -> TextIO:
    """A private handle on the real stdout for result lines; fd 1 itself then points at stderr, so whatever
    llama.cpp or a library prints can never corrupt the JSON lines the parent reads."""
    results = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m llmos.evals.baseline",
        description="Serve JSON-line requests with llama-cpp-python's chatml-function-calling over llmos's tools.",
    )
    parser.add_argument("--model", default=None, help="registry name or GGUF path (default: as llmos resolves it)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: config, else cores)")
    options = parser.parse_args(argv)
    results = _claim_stdout()

    from llmos.models.llama_backend import gpu_backend_name
    from llmos.models.resolve import resolve_model

    from llmos.config import load_config
    from llmos.errors import UsageError

    try:
        config = load_config()
        resolved = resolve_model(options.model, None, progress=False)
        agent = BaselineAgent(
            resolved.path,
            resolved.name,
            options.threads or config.threads,
            gpu_layers=config.gpu_layers if gpu_backend_name() else 0,
        )
    except (UsageError, ValueError, RuntimeError, OSError) as exc:
        # llama-cpp-python raises ValueError for a file it cannot load: a setup error, said in one line.
        print(f"llmos.evals.baseline: {exc}", file=sys.stderr)
        return 2
    serve(agent, sys.stdin, results)
    agent.llm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
