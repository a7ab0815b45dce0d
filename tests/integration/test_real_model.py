"""Real requests through the real models, real tools and a temp HOME: what a person gets from `llmos-ask`.

The small (0.5B) model carries most checks because it is fast; the default 1.5B model carries the foundation's
acceptance request and the multi-step plan, which the small model does not reliably make. Decoding is greedy,
so each outcome is repeatable on a given build.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from llmos.models.grammar import call_schema
from llmos.models.llama_backend import LlamaBackend, LoadOptions
from llmos.models.prompt import Turn, build_prefix, render_conversation
from llmos.models.resolve import resolve_model
from llmos.tools import load_builtin_tools
from realmodel import DEFAULT_MODEL, DOWNLOADS_FILE_COUNT, SMALL_MODEL, AskResult

pytestmark = pytest.mark.model


def mentions_number(text: str, number: int) -> bool:
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    return re.search(rf"\b({number}|{words.get(number, '')})\b", text, re.IGNORECASE) is not None


def listed_path(step: dict, home: Path) -> Path:
    return Path(step["args"]["path"].replace("~", str(home), 1)).resolve()


def test_default_model_counts_files_in_downloads(ask, real_home: Path) -> None:
    """The foundation's acceptance check: `HOME=<temp> llmos-ask --json "how many files are in ~/Downloads?"`
    with the default model gives the right count (5: the hidden file and the subfolder do not count) and
    shows the listing step it took."""
    result: AskResult = ask("--json", "how many files are in ~/Downloads?", model=DEFAULT_MODEL)
    assert result.exit_code == 0, result.stderr
    payload = result.only_json()
    assert payload["ok"] is True and payload["model"] == DEFAULT_MODEL
    assert mentions_number(payload["answer"], DOWNLOADS_FILE_COUNT), payload["answer"]
    first = payload["steps"][0]
    assert first["tool"] in ("files.list", "files.find") and first["status"] == "ok"
    assert listed_path(first, real_home) == real_home / "Downloads"
    assert first["decision"] == "allow" and first["rule"] == "effect:read"
    assert {"load", "plan", "total", "first_call"} <= set(payload["timings_ms"]) and payload["timings_ms"]["load"] > 0


def test_small_model_counts_files_in_downloads(ask, real_home: Path) -> None:
    """The same request through the 0.5B model: also correct, with a files.list step on ~/Downloads."""
    payload = ask("--json", "how many files are in ~/Downloads?").only_json()
    assert payload["ok"] and mentions_number(payload["answer"], DOWNLOADS_FILE_COUNT), payload["answer"]
    assert payload["steps"][0]["tool"] == "files.list"
    assert listed_path(payload["steps"][0], real_home) == real_home / "Downloads"


def test_default_model_plans_two_steps_find_then_read(ask) -> None:
    """A request that needs a search and then a read: the model finds the file, reads it, and answers with its
    content, which it could only know from the second tool's result."""
    result = ask("--json", "find the todo.txt file somewhere in my home folder and tell me what it says",
                 model=DEFAULT_MODEL)
    payload = result.only_json()
    assert result.exit_code == 0, result.stderr
    tools_used = [step["tool"] for step in payload["steps"]]
    assert tools_used[:2] == ["files.find", "files.read"], tools_used
    assert payload["steps"][1]["args"]["path"].endswith("Documents/todo.txt")
    assert "oat milk" in payload["answer"] and "passport" in payload["answer"]


def test_human_output_answers_on_stdout_and_steps_on_stderr(ask) -> None:
    """Without --json: the answer alone on stdout, one line per step on stderr."""
    result = ask("how much disk space is free?")
    assert result.exit_code == 0, result.stderr
    assert "system.info" in result.stderr and "-> ok" in result.stderr
    assert result.stdout.strip() and "{" not in result.stdout


def test_stdin_is_read_as_data(ask) -> None:
    """Piped data answers the question: the model reports the address found only in the piped log, reading it
    (the stdin tools, if it calls any) and never the files or the system. (Asked "any disk errors in this log?"
    about a kernel log, both bundled models answer wrongly or search HOME for the text; BENCHMARKS.md's stdin
    category counts such failures.)"""
    log = (
        "Nov 22 10:01:07 host sshd[812]: Failed password for invalid user oracle from 203.0.113.7 port 52144 ssh2\n"
        "Nov 22 10:02:13 host sshd[815]: Accepted publickey for sam from 192.0.2.10 port 40022 ssh2\n"
    )
    payload = ask("--json", "which IP address failed to log in, according to this log?", stdin=log).only_json()
    assert payload["ok"], payload
    assert "203.0.113.7" in payload["answer"], payload["answer"]
    assert all(step["tool"].startswith("stdin.") for step in payload["steps"]), payload["steps"]


def test_script_mode_answers_each_line(ask) -> None:
    """No QUERY and piped stdin: each non-empty line is a request, one JSON line each, in order."""
    result = ask("--json", stdin="how many files are in ~/Downloads?\n\nwrite a haiku about the sea\n")
    lines = result.json_lines()
    assert [line["request"] for line in lines] == ["how many files are in ~/Downloads?", "write a haiku about the sea"]
    assert mentions_number(lines[0]["answer"], DOWNLOADS_FILE_COUNT)
    assert lines[1]["steps"] == [] and lines[1]["answer"]
    assert lines[0]["timings_ms"]["load"] > 0 and lines[1]["timings_ms"]["load"] == 0  # loaded once


def test_request_no_tool_serves_calls_nothing(ask) -> None:
    """Restraint: a request no tool can serve is answered directly, with no tool call."""
    payload = ask("--json", "write a haiku about autumn rain").only_json()
    assert payload["ok"] and payload["steps"] == [] and payload["answer"]


# -- the backend itself: grammar and the persisted prompt prefix ----------------------------------------------


@pytest.fixture(scope="module")
def small_model_path(model_cache_home: Path) -> Path:
    return resolve_model(SMALL_MODEL, progress=False, cache_dir=model_cache_home / "llmos" / "models").path


def _reply(backend: LlamaBackend, prefix: str, request: str, tools: list[tuple[str, dict]]) -> dict:
    text = "".join(backend.generate(prefix, render_conversation([Turn("user", request)]), call_schema(tools), 120))
    return json.loads(text)


def test_grammar_offers_only_the_given_tools(small_model_path: Path) -> None:
    """Decoding is constrained to the offered branches: asked to list a folder with only `answer` offered,
    the model can only answer; with only files.list offered, it can only call files.list, with valid args."""
    registry = load_builtin_tools()
    prefix = build_prefix([spec.signature_line() for spec in registry.specs()])
    backend = LlamaBackend(small_model_path, "small", "test-grammar", LoadOptions(prompt_cache_dir=None))
    answer_spec = registry.get("answer")
    list_spec = registry.get("files.list")
    only_answer = _reply(backend, prefix, "list the files in ~/Downloads", [("answer", answer_spec.parameters_schema)])
    assert only_answer["tool"] == "answer" and isinstance(only_answer["args"]["text"], str)
    only_list = _reply(backend, prefix, "write a poem", [("files.list", list_spec.parameters_schema)])
    assert only_list["tool"] == "files.list"
    list_spec.validate(only_list["args"])


def test_prefix_state_is_saved_and_restored_across_loads(small_model_path: Path, tmp_path: Path) -> None:
    """A fresh load finds the prefix's KV state in the prompt cache instead of evaluating it again, and the
    restored state gives exactly the reply a from-scratch evaluation gives."""
    registry = load_builtin_tools()
    prefix = build_prefix([spec.signature_line() for spec in registry.specs()])
    tools = [(spec.name, spec.parameters_schema) for spec in registry.specs()]
    options = LoadOptions(prompt_cache_dir=tmp_path / "prompt-cache")

    first = LlamaBackend(small_model_path, "small", "test-model-id", options)
    first_reply = _reply(first, prefix, "how much memory is free?", tools)
    assert first.prefix_cache_events == ["evaluated"]
    saved = list((tmp_path / "prompt-cache").glob("*.kv"))
    assert len(saved) == 1 and saved[0].stat().st_size > 0
    del first

    second = LlamaBackend(small_model_path, "small", "test-model-id", options)
    second_reply = _reply(second, prefix, "how much memory is free?", tools)
    assert second.prefix_cache_events == ["restored"]
    assert second.last_stats.cached_tokens >= second.count_tokens(prefix)
    assert second_reply == first_reply

    other_model = LlamaBackend(small_model_path, "small", "another-model-id", options)
    _reply(other_model, prefix, "how much memory is free?", tools)
    assert other_model.prefix_cache_events == ["evaluated"]  # the key includes the model: no cross-model reuse


def test_a_one_shot_load_maps_the_weights_unrepacked_and_plans_the_same(small_model_path: Path, tmp_path: Path) -> None:
    """A one-shot process loads the model without repacking (mapped, llama.cpp's --no-repack): the calls it plans
    are the repacked load's, and it keeps its own prefix state (the other layout's rounding never mixes in)."""
    registry = load_builtin_tools()
    prefix = build_prefix([spec.signature_line() for spec in registry.specs()])
    tools = [(spec.name, spec.parameters_schema) for spec in registry.specs()]
    cache = tmp_path / "prompt-cache"
    repacked = LlamaBackend(small_model_path, "small", "test-layout", LoadOptions(prompt_cache_dir=cache))
    requests = ("how much memory is free?", "how many pdf files are in ~/Downloads?")
    repacked_replies = [_reply(repacked, prefix, request, tools) for request in requests]
    repacked.close()
    mapped = LlamaBackend(small_model_path, "small", "test-layout",
                          LoadOptions(prompt_cache_dir=cache, repack_weights=False))
    mapped_replies = [_reply(mapped, prefix, request, tools) for request in requests]
    assert mapped.prefix_cache_events[0] == "evaluated"
    assert len(list(cache.glob("*.kv"))) == 2
    assert mapped_replies == repacked_replies
    mapped.close()
