"""The evaluation baseline (llama-cpp-python's chatml-function-calling loop), driven by a scripted chat model."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fakes import DenyDeletes, RemovalRegistry
from llmos.evals.baseline import (
    SYSTEM_PROMPT,
    BaselineAgent,
    llmos_tool_names,
    openai_tools,
    serve,
)
from llmos.tools import load_builtin_tools
from trees import isolate_xdg

from llmos.config import load_config
from llmos.executor import Safety
from llmos.runtime import load_safety

STEP_KEYS = {"tool", "args", "decision", "rule", "approved", "status", "result", "undo_id"}


class ScriptedChatLlama:
    """Stands in for `llama_cpp.Llama`: answers `create_chat_completion` with queued OpenAI-style replies and
    keeps a copy of every request, so a test sees exactly which messages the model was given."""

    def __init__(self, replies: list[dict[str, Any] | Exception]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []

    def create_chat_completion(self, **request: Any) -> dict[str, Any]:
        self.requests.append(copy.deepcopy(request))
        if not self.replies:
            raise AssertionError("the scripted model ran out of replies")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def tool_reply(name: str, arguments: str) -> dict[str, Any]:
    """A reply calling one function, with `arguments` as the raw JSON text the library returns."""
    call = {"id": f"call_{name}", "type": "function", "function": {"name": name, "arguments": arguments}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"choices": [{"message": message}], "usage": {"prompt_tokens": 100, "completion_tokens": 10}}


def text_reply(content: str) -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 5},
    }


def agent_with(llm: ScriptedChatLlama, **kwargs: Any) -> BaselineAgent:
    return BaselineAgent(Path("/nonexistent/model.gguf"), "scripted", threads=1, llama_factory=lambda *a, **k: llm,
                         **kwargs)


@pytest.fixture
def removal_registry() -> RemovalRegistry:
    return RemovalRegistry()


@pytest.fixture
def real_safety(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Safety:
    """llmos's real default policy, journal and audit log, all inside a temp HOME and temp XDG folders."""
    isolate_xdg(tmp_path, monkeypatch)
    return load_safety(None, load_config())


def test_tool_schemas_use_openai_names_and_llmos_parameters() -> None:
    """Every built-in tool but `answer` becomes an OpenAI function named without dots, with llmos's own schema."""
    registry = load_builtin_tools()
    schemas = openai_tools(registry)
    by_name = {schema["function"]["name"]: schema for schema in schemas}
    assert "answer" not in by_name and len(schemas) == len(registry.names()) - 1
    assert all(schema["type"] == "function" and "." not in name for name, schema in by_name.items())
    files_list = registry.get("files.list")
    assert files_list is not None
    assert by_name["files_list"]["function"]["parameters"] == files_list.parameters_schema
    assert by_name["files_list"]["function"]["description"] == files_list.description
    assert llmos_tool_names(registry)["files_list"] == "files.list"
    assert llmos_tool_names(registry)["process_list"] == "process.list"


def test_tool_call_runs_through_the_real_policy_and_its_result_is_fed_back(real_safety: Safety) -> None:
    """files_list on ~/Downloads is allowed by the default policy, runs, and its result is the tool message."""
    llm = ScriptedChatLlama([tool_reply("files_list", '{"path": "~/Downloads"}'), text_reply("There are 5 files.")])
    result = agent_with(llm, safety=real_safety).run("list the files in ~/Downloads", None, approve_asks=False)
    assert result["ok"] and result["answer"] == "There are 5 files."
    [step] = result["steps"]
    assert (step["tool"], step["decision"], step["status"], step["approved"]) == ("files.list", "allow", "ok", True)
    assert step["args"]["path"] == "~/Downloads"
    assert "notes.txt" in step["result"]
    second = llm.requests[1]
    assert second["tool_choice"] == "auto" and second["temperature"] == 0
    assert second["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assistant, tool_message = second["messages"][2], second["messages"][3]
    assert assistant["tool_calls"][0]["function"]["name"] == "files_list"
    # A user message, not a `tool` one: the handler's template drops a tool message's content.
    assert tool_message == {"role": "user", "content": f"Result of files_list: {step['result']}"}


def test_call_the_real_policy_denies_is_reported_and_not_run(real_safety: Safety, temp_home: Path) -> None:
    """Reading ~/.ssh is refused by llmos's policy: the step says deny with its rule, and nothing was read."""
    (temp_home / ".ssh").mkdir()
    (temp_home / ".ssh" / "id_rsa").write_text("PRIVATE KEY MATERIAL\n")
    llm = ScriptedChatLlama([tool_reply("files_read", '{"path": "~/.ssh/id_rsa"}'), text_reply("I cannot.")])
    result = agent_with(llm, safety=real_safety).run("show my ssh key", None, approve_asks=True)
    [step] = result["steps"]
    assert (step["decision"], step["status"], step["approved"]) == ("deny", "denied", False)
    assert step["rule"]
    assert "PRIVATE KEY" not in step["result"] and "PRIVATE KEY" not in json.dumps(llm.requests)
    assert result["ok"] is True and result["answer"] == "I cannot."  # ok as llmos's: the model answered


def test_denied_delete_is_not_executed(removal_registry: RemovalRegistry) -> None:
    """A DELETE call under a deny-deletes policy is decided deny and the tool function never runs."""
    llm = ScriptedChatLlama([tool_reply("demo_remove", '{"path": "/tmp/x"}'), text_reply("Not allowed.")])
    agent = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes()))
    result = agent.run("remove /tmp/x", None, approve_asks=True)
    assert removal_registry.removed == []
    [step] = result["steps"]
    assert (step["tool"], step["decision"], step["rule"], step["status"]) == (
        "demo.remove", "deny", "no-deletes", "denied",
    )
    assert "denied by policy" in llm.requests[1]["messages"][-1]["content"]


def test_bad_arguments_json_becomes_an_error_result(removal_registry: RemovalRegistry) -> None:
    """Arguments that are not JSON are fed back as an error; no decision is made and nothing runs."""
    llm = ScriptedChatLlama([tool_reply("demo_remove", '{"path": /tmp/x'), text_reply("Sorry.")])
    agent = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes()))
    result = agent.run("remove /tmp/x", None, approve_asks=True)
    [step] = result["steps"]
    assert (step["status"], step["decision"]) == ("error", None)
    assert "not valid JSON" in json.loads(step["result"])["error"]
    assert llm.requests[1]["messages"][-1]["content"] == f"Result of demo_remove: {step['result']}"


def test_arguments_failing_validation_and_unknown_tools_become_error_results(removal_registry: RemovalRegistry) -> None:
    """A missing required argument and a tool name that is not registered are both errors the model reads."""
    llm = ScriptedChatLlama([tool_reply("demo_count", "{}"), tool_reply("demo_explode", "{}"), text_reply("Done.")])
    agent = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes()))
    result = agent.run("count", None, approve_asks=True)
    invalid, unknown = result["steps"]
    assert invalid["tool"] == "demo.count" and "invalid arguments" in invalid["result"]
    assert unknown["tool"] == "demo_explode" and "unknown tool" in unknown["result"]


def test_max_steps_stops_the_loop_with_a_final_call_without_tools(removal_registry: RemovalRegistry) -> None:
    """After max_steps calls the model is asked once more with tool_choice none, and that content is the answer."""
    llm = ScriptedChatLlama([tool_reply("demo_count", '{"folder": "a"}')] * 2 + [text_reply("3 things.")])
    agent = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes()))
    result = agent.run("count forever", None, approve_asks=False, max_steps=2)
    assert len(result["steps"]) == 2 and result["answer"] == "3 things." and result["ok"]
    assert [request["tool_choice"] for request in llm.requests] == ["auto", "auto", "none"]


def test_library_exception_becomes_a_failed_result_not_a_crash(removal_registry: RemovalRegistry) -> None:
    """llama-cpp-python raising (e.g. its call parser on bad output) ends the request with ok false and the error."""
    llm = ScriptedChatLlama([ValueError("Requested tokens exceed context window")])
    agent = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes()))
    result = agent.run("count", None, approve_asks=False)
    assert result["ok"] is False and result["answer"] is None
    assert "exceed context window" in result["error"]


def test_stdin_data_is_appended_plainly_to_the_user_message(removal_registry: RemovalRegistry) -> None:
    """Piped data follows the request in the one user message, with no llmos labelling."""
    llm = ScriptedChatLlama([text_reply("No errors.")])
    agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes())).run(
        "any disk errors?", "kernel: all good", approve_asks=False
    )
    assert llm.requests[0]["messages"][1] == {"role": "user", "content": "any disk errors?\n\nkernel: all good"}


def test_result_has_the_llmos_ask_json_shape_and_load_is_reported_once(removal_registry: RemovalRegistry) -> None:
    """Same keys as `llmos-ask --json`; load time only on the first request; usage summed over completions."""
    llm = ScriptedChatLlama([tool_reply("demo_count", '{"folder": "a"}'), text_reply("3."), text_reply("hi")])
    agent = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes()))
    first = agent.run("count", None, approve_asks=False)
    second = agent.run("hello", None, approve_asks=False)
    assert set(first) == {"request", "ok", "answer", "steps", "model", "timings_ms", "usage"}
    assert STEP_KEYS <= set(first["steps"][0])
    assert first["model"] == "scripted" and first["request"] == "count"
    assert set(first["timings_ms"]) == {"load", "plan", "total", "first_call"}
    assert second["timings_ms"]["load"] == 0 and "first_call" not in second["timings_ms"]
    assert first["usage"] == {"prompt_tokens": 220, "generated_tokens": 15}
    json.dumps(first)  # a worker writes it as one JSON line


def test_empty_answer_is_asked_again_without_tools(removal_registry: RemovalRegistry) -> None:
    """An empty reply under tool_choice=auto (what chatml-function-calling returns for a message turn) is asked
    again with tool_choice=none, which gives the text."""
    llm = ScriptedChatLlama([text_reply(""), text_reply("Hello!")])
    result = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes())).run("hi", None, False)
    assert result["ok"] is True and result["answer"] == "Hello!"
    assert [request["tool_choice"] for request in llm.requests] == ["auto", "none"]


def test_empty_answer_is_not_ok(removal_registry: RemovalRegistry) -> None:
    """Empty even when asked without tools: no answer."""
    llm = ScriptedChatLlama([text_reply(""), text_reply("")])
    result = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes())).run("hi", None, False)
    assert result["ok"] is False and result["answer"] == "" and "empty" in result["error"]


def test_worker_loop_answers_each_line_and_survives_bad_lines(removal_registry: RemovalRegistry) -> None:
    """One flushed result line per request; a line that is not a valid request gets an ok-false line."""
    llm = ScriptedChatLlama([text_reply("one"), text_reply("two")])
    agent = agent_with(llm, registry=removal_registry, safety=Safety(policy=DenyDeletes()))
    lines = io.StringIO(
        '{"request": "a", "stdin": null, "yes": false, "max_steps": 6}\n'
        "not json\n\n"
        '{"request": 5}\n'
        '{"request": "b", "yes": true}\n'
    )
    out = io.StringIO()
    serve(agent, lines, out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [result["ok"] for result in results] == [True, False, False, True]
    assert [result.get("answer") for result in results] == ["one", None, None, "two"]
    assert results[1]["error"].startswith("bad request line")
