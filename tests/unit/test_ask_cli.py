"""`llmos-ask` in-process: human and `--json` output, piped data, script mode, exit codes and usage errors.

The model is a `ScriptedBackend` behind a stand-in for `llmos.runtime.open_session` that builds the session from
the options it receives, so the tests also see what the front end passes on. The usage-error tests for `--model`
go through the real resolver (and, for a GGUF-looking file, the real llama.cpp loader).
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes import AllowReadOnlyPolicy, RemovalRegistry, ScriptedBackend, answer, call
from llmos.shell.ask import main
from llmos.tools import load_builtin_tools
from llmos.tools.registry import Registry

import llmos.runtime
from llmos.session import Session, SessionOptions

DESIGN_REQUEST_FIELDS = {"request", "ok", "answer", "steps", "model", "timings_ms", "answer_source"}
DESIGN_STEP_FIELDS = {"tool", "args", "decision", "rule", "approved", "status", "result", "undo_id"}


# -- stand-ins ------------------------------------------------------------------------------------------------


class FakeTerminal:
    """stdin attached to a terminal; `readline` answers an approval prompt with `reply`."""

    def __init__(self, reply: str = "") -> None:
        self.reply = reply
        self.buffer = io.BytesIO(b"")

    def isatty(self) -> bool:
        return True

    def readline(self, *args: Any) -> str:
        return self.reply

    def read(self, *args: Any) -> str:
        raise AssertionError("stdin on a terminal must not be read as data")


def piped(data: bytes) -> io.TextIOWrapper:
    """stdin from a pipe or file holding `data`."""
    return io.TextIOWrapper(io.BytesIO(data))


@dataclass
class SessionFactory:
    """Replaces `llmos.runtime.open_session`; records every call's options and the sessions it built."""

    backend: ScriptedBackend
    registry: Registry
    opened: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def __call__(
        self, *, model: str | None, policy: str | None, max_steps: int | None, dry_run: bool, progress: bool,
        stays_open: bool = False,
    ) -> Session:
        self.opened.append({"model": model, "policy": policy, "max_steps": max_steps, "dry_run": dry_run,
                            "progress": progress, "stays_open": stays_open})
        options = SessionOptions(max_steps=max_steps or SessionOptions().max_steps, dry_run=dry_run)
        session = Session(self.backend, self.registry, AllowReadOnlyPolicy(), options)
        self.sessions.append(session)
        return session


def scripted(
    monkeypatch: pytest.MonkeyPatch, replies: list[dict[str, Any] | str], registry: Registry | None = None
) -> SessionFactory:
    factory = SessionFactory(ScriptedBackend(replies), registry or load_builtin_tools())
    monkeypatch.setattr(llmos.runtime, "open_session", factory)
    return factory


def json_lines(stdout: str) -> list[dict[str, Any]]:
    lines = stdout.splitlines()
    return [json.loads(line) for line in lines]


def assert_one_usage_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("llmos-ask:"), err
    assert "Traceback" not in err


@pytest.fixture
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG folders in tmp and no LLMOS_MODEL, so the real resolver sees nothing of this machine."""
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    monkeypatch.delenv("LLMOS_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # The real open_session hides its pid (this test run's) from process listings; keep that out of other tests.
    monkeypatch.setattr("llmos.tools.process._hidden_pids", set())
    return tmp_path


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to load a model."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a model load was attempted")

    monkeypatch.setattr(llmos.runtime, "LlamaBackend", refuse)


# -- human output ---------------------------------------------------------------------------------------------


def test_human_output_answer_on_stdout_one_step_line_per_step_on_stderr(
    temp_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real files.list against the temp home: the answer alone on stdout, `tool ... -> ok` on stderr, exit 0."""
    factory = scripted(monkeypatch, [call("files.list", path="~/Downloads"), answer("Downloads holds 4 files.")])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["tell me about my Downloads folder"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == "Downloads holds 4 files.\n"
    step_lines = [line for line in err.splitlines() if line.strip()]
    assert len(step_lines) == 1
    assert "files.list" in step_lines[0] and '"~/Downloads"' in step_lines[0] and "-> ok" in step_lines[0]
    # The tool really ran against the temp home and the model read its result.
    tool_response = factory.backend.calls[1].conversation.split("<tool_response>")[1].split("</tool_response>")[0]
    for name in ("report.pdf", "notes.txt", "photo.JPG", "archive"):
        assert name in tool_response
    assert ".hidden_token" not in tool_response


def test_human_output_shows_policy_verdict_for_steps_not_allowed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step that policy asked about says so on its step line, with the rule."""
    scripted(monkeypatch, [call("demo.remove", path="a.txt"), answer("Not removed.")], RemovalRegistry())
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    main(["--no-input", "remove a.txt"])
    err = capsys.readouterr().err
    assert "demo.remove" in err and "-> skipped" in err and "[ask: effect:delete]" in err


def test_options_reach_open_session_and_session_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-steps, --dry-run, --model and --policy are passed on; max_steps and dry_run land in SessionOptions;
    a one-shot does not stay open (its model loads mapped, not repacked)."""
    factory = scripted(monkeypatch, [answer("ok")])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["--max-steps", "3", "--dry-run", "--model", "0.5b", "--policy", "default", "hi"])
    assert code == 0
    assert factory.opened == [
        {"model": "0.5b", "policy": "default", "max_steps": 3, "dry_run": True, "progress": False,
         "stays_open": False}
    ]
    assert factory.sessions[0].options.max_steps == 3
    assert factory.sessions[0].options.dry_run is True


def test_max_steps_limits_tool_calls_then_only_answer_is_offered(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --max-steps 1, after one call the model is offered only `answer`."""
    factory = scripted(monkeypatch, [call("demo.count", folder="a"), answer("3")], RemovalRegistry())
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main(["--max-steps", "1", "count a"]) == 0
    calls = factory.backend.calls
    assert "demo.count" in calls[0].offered_tools
    assert calls[1].offered_tools == ["answer"]


def test_dry_run_plans_a_change_without_running_it_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run: a DELETE step is shown as skipped, never executed, and that is not a failure."""
    registry = RemovalRegistry()
    scripted(monkeypatch, [call("demo.remove", path="a.txt"), answer("Would remove a.txt.")], registry)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["--dry-run", "--json", "remove a.txt"])
    (payload,) = json_lines(capsys.readouterr().out)
    assert code == 0
    assert registry.removed == []
    assert payload["steps"][0]["status"] == "skipped"
    assert "dry run" in payload["steps"][0]["result"]


# -- --json ---------------------------------------------------------------------------------------------------


def test_json_prints_exactly_one_line_with_design_fields(
    temp_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json: one JSON line on stdout with DESIGN.md's request, step and timing fields; nothing else on stdout."""
    scripted(monkeypatch, [call("files.list", path="~/Downloads"), answer("4 files.")])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["--json", "tell me about my Downloads folder"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.endswith("\n") and out.count("\n") == 1
    payload = json.loads(out)
    assert DESIGN_REQUEST_FIELDS <= set(payload)
    assert set(payload) - DESIGN_REQUEST_FIELDS <= {"usage", "error", "fast_path"}
    assert payload["fast_path"] is False  # the model planned this request (fast path off in this session)
    assert payload["answer_source"] == "model"  # the answer is the model's own words, checked
    assert payload["request"] == "tell me about my Downloads folder"
    assert payload["ok"] is True
    assert payload["answer"] == "4 files."
    assert payload["model"] == "scripted"
    # first_call: request to the first planned tool call (this request made one).
    assert set(payload["timings_ms"]) == {"load", "plan", "total", "first_call"}
    assert all(isinstance(value, int) for value in payload["timings_ms"].values())
    (step,) = payload["steps"]
    assert DESIGN_STEP_FIELDS <= set(step) and set(step) - DESIGN_STEP_FIELDS <= {"reason", "preview"}
    assert step["tool"] == "files.list"
    assert step["args"]["path"] == "~/Downloads"
    assert (step["decision"], step["rule"], step["approved"], step["status"]) == ("allow", "effect:read", True, "ok")
    assert "report.pdf" in step["result"]
    assert step["undo_id"] is None
    assert "Traceback" not in err


def test_json_keeps_step_lines_and_answer_text_off_stderr_and_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json does not stream the answer or print human step lines: the JSON object is the whole output."""
    scripted(monkeypatch, [call("demo.count", folder="a"), answer("three")], RemovalRegistry())
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    main(["--json", "count a"])
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1
    assert "demo.count" not in err and "three" not in err


# -- piped data and script mode -------------------------------------------------------------------------------


def test_piped_stdin_with_query_reaches_model_as_labelled_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cmd | llmos-ask QUERY`: stdin is data inside <data source="stdin">, the query is the request."""
    factory = scripted(monkeypatch, [answer("No disk errors.")])
    monkeypatch.setattr("sys.stdin", piped(b"[ 1.0] sda: attached\n[ 2.0] ext4 mounted\n"))
    code = main(["any disk errors?"])
    assert code == 0
    conversation = factory.backend.calls[0].conversation
    assert conversation.count('<data source="stdin">') == 1
    before, data_block = conversation.split('<data source="stdin">')
    assert "any disk errors?" in before
    assert "[ 1.0] sda: attached\n[ 2.0] ext4 mounted" in data_block.split("</data>")[0]
    assert capsys.readouterr().out == "No disk errors.\n"


def test_empty_piped_stdin_with_query_sends_no_data_block(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A query with an empty pipe (`true | llmos-ask Q`) is a plain request, without an empty data block."""
    factory = scripted(monkeypatch, [answer("hi")])
    monkeypatch.setattr("sys.stdin", piped(b""))
    assert main(["hello"]) == 0
    assert "<data" not in factory.backend.calls[0].conversation


def test_non_utf8_text_on_stdin_is_accepted_with_replacement_characters(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Latin-1 text (invalid UTF-8 but no NUL bytes) is still text: it reaches the model with U+FFFD in place."""
    factory = scripted(monkeypatch, [answer("ok")])
    monkeypatch.setattr("sys.stdin", piped("caf\u00e9 au lait\n".encode("latin-1")))
    assert main(["summarize"]) == 0
    assert "caf\ufffd au lait" in factory.backend.calls[0].conversation


def test_script_mode_runs_each_non_empty_line_with_one_model_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No QUERY and piped stdin: each non-empty line is a request, one JSON line each, the model opened once."""
    factory = scripted(monkeypatch, [answer("first answer"), answer("second answer")])
    monkeypatch.setattr("sys.stdin", piped(b"how much disk is free?\n\n  what time is it?  \n"))
    code = main(["--json"])
    assert code == 0
    payloads = json_lines(capsys.readouterr().out)
    assert [p["request"] for p in payloads] == ["how much disk is free?", "what time is it?"]
    assert [p["answer"] for p in payloads] == ["first answer", "second answer"]
    assert len(factory.opened) == 1
    # Lines are requests, not data: no stdin block reaches the model.
    assert all("<data" not in recorded.conversation for recorded in factory.backend.calls)
    # The load time is reported once, with the first request.
    assert payloads[0]["timings_ms"]["load"] == 12 and payloads[1]["timings_ms"]["load"] == 0


def test_script_mode_worst_exit_code_wins(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Script mode: an unapproved step on one line (3) outranks a clean line (0); every line still runs."""
    registry = RemovalRegistry()
    replies = [answer("fine"), call("demo.remove", path="x"), answer("not removed"), answer("also fine")]
    scripted(monkeypatch, replies, registry)
    monkeypatch.setattr("sys.stdin", piped(b"one\nremove x\nthree\n"))
    code = main(["--json", "--no-input"])
    payloads = json_lines(capsys.readouterr().out)
    assert code == 3
    assert len(payloads) == 3
    assert registry.removed == []


def test_script_mode_failed_line_gives_exit_1_even_after_clean_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Script mode: a model failure on the last line makes the whole run exit 1."""
    scripted(monkeypatch, [answer("fine"), "not a tool call"])
    monkeypatch.setattr("sys.stdin", piped(b"one\ntwo\n"))
    assert main(["--json"]) == 1
    payloads = json_lines(capsys.readouterr().out)
    assert [p["ok"] for p in payloads] == [True, False]


# -- exit codes -----------------------------------------------------------------------------------------------


def test_invalid_model_call_exits_1_with_error_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model producing something that is not a tool call fails the request: exit 1, a readable error."""
    scripted(monkeypatch, ['{"tool": "files.list", "args": '])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["list my files"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "llmos-ask: the model produced no valid tool call" in err
    assert "Traceback" not in err


def test_invalid_model_call_in_json_reports_ok_false_and_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json with an invalid call: ok false, an error field, exit 1."""
    scripted(monkeypatch, ["garbage"])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main(["--json", "list my files"]) == 1
    (payload,) = json_lines(capsys.readouterr().out)
    assert payload["ok"] is False and payload["answer"] is None
    assert "no valid tool call" in payload["error"]


def test_tool_error_step_exits_1(
    temp_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step whose tool fails (reading a missing file) makes the run exit 1 even though the model answered."""
    scripted(monkeypatch, [call("files.read", path="~/missing.txt"), answer("That file does not exist.")])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["--json", "read ~/missing.txt"])
    (payload,) = json_lines(capsys.readouterr().out)
    assert code == 1
    assert payload["ok"] is True
    assert payload["steps"][0]["status"] == "error"
    assert "error" in json.loads(payload["steps"][0]["result"])


def test_step_needing_approval_with_no_input_is_skipped_and_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--no-input: a step policy asks about is not run, reported as skipped/not approved, exit 3."""
    registry = RemovalRegistry()
    scripted(monkeypatch, [call("demo.remove", path="a.txt"), answer("I could not remove it.")], registry)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["--json", "--no-input", "remove a.txt"])
    (payload,) = json_lines(capsys.readouterr().out)
    assert code == 3
    assert registry.removed == []
    step = payload["steps"][0]
    assert (step["decision"], step["approved"], step["status"]) == ("ask", False, "skipped")


def test_step_needing_approval_without_terminal_is_skipped_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --no-input but with stdout not a terminal, nobody is asked: the step is skipped, exit 3."""
    registry = RemovalRegistry()
    scripted(monkeypatch, [call("demo.remove", path="a.txt"), answer("Not removed.")], registry)
    monkeypatch.setattr("sys.stdin", FakeTerminal(reply="y\n"))
    assert main(["remove a.txt"]) == 3
    assert registry.removed == []


def test_yes_approves_asked_step_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--yes approves an `ask` step: it runs and the run exits 0."""
    registry = RemovalRegistry()
    scripted(monkeypatch, [call("demo.remove", path="a.txt"), answer("Removed a.txt.")], registry)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["--json", "--yes", "--no-input", "remove a.txt"])
    (payload,) = json_lines(capsys.readouterr().out)
    assert code == 0
    assert registry.removed == ["a.txt"]
    assert (payload["steps"][0]["approved"], payload["steps"][0]["status"]) == (True, "ok")


def test_interactive_terminal_prompt_approves_on_yes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal (stdin and stdout), an `ask` step prompts on stderr and `y` runs it."""
    registry = RemovalRegistry()
    scripted(monkeypatch, [call("demo.remove", path="a.txt"), answer("Removed.")], registry)
    monkeypatch.setattr("sys.stdin", FakeTerminal(reply="y\n"))
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    code = main(["remove a.txt"])
    err = capsys.readouterr().err
    assert code == 0
    assert registry.removed == ["a.txt"]
    assert "llmos wants to run demo.remove" in err and "Allow? [y/N]" in err


def test_interactive_terminal_prompt_declines_on_empty_reply(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal, just pressing Enter declines (the default is No): not run, exit 3."""
    registry = RemovalRegistry()
    scripted(monkeypatch, [call("demo.remove", path="a.txt"), answer("Not removed.")], registry)
    monkeypatch.setattr("sys.stdin", FakeTerminal(reply="\n"))
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["remove a.txt"]) == 3
    assert registry.removed == []


def test_keyboard_interrupt_during_run_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while the model generates: exit 130, one `llmos-ask: interrupted` line, no traceback."""

    class InterruptedBackend(ScriptedBackend):
        def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
            yield '{"tool": '
            raise KeyboardInterrupt

    factory = scripted(monkeypatch, [])
    factory.backend = InterruptedBackend()
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["--json", "list my files"])
    out, err = capsys.readouterr()
    assert code == 130
    assert out == ""
    assert_one_usage_line(err)
    assert "interrupted" in err


# -- usage errors: exit 2, one line -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["   ", "", "\t\n"])
def test_blank_query_is_a_usage_error(
    query: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A QUERY that is only whitespace: exit 2, one line, and no model is opened."""
    factory = scripted(monkeypatch, [])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main([query]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_usage_line(err)
    assert "empty" in err
    assert factory.opened == []


def test_no_query_on_a_terminal_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No QUERY and stdin is a terminal: exit 2 with a usage hint, no model opened."""
    factory = scripted(monkeypatch, [])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main([]) == 2
    err = capsys.readouterr().err
    assert_one_usage_line(err)
    assert "no query" in err
    assert factory.opened == []


@pytest.mark.parametrize("data", [b"", b"\n\n   \n\t\n"], ids=["empty", "only-blank-lines"])
def test_no_query_and_no_requests_on_stdin_is_a_usage_error(
    data: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Script mode with nothing to do (empty or blank-only stdin): exit 2, one line, no model opened."""
    factory = scripted(monkeypatch, [])
    monkeypatch.setattr("sys.stdin", piped(data))
    assert main(["--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_usage_line(err)
    assert factory.opened == []


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe\x80" + bytes(range(256)),  # NUL bytes and invalid UTF-8
        b"\x00" * 1000,  # zero-filled: valid UTF-8, but not text
        "disk errors?\n".encode("utf-16-le"),  # UTF-16 text: every other byte is NUL
    ],
    ids=["elf", "zeros", "utf16"],
)
@pytest.mark.parametrize("with_query", [True, False], ids=["query", "script"])
def test_binary_stdin_is_a_usage_error(
    data: bytes, with_query: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdin holding NUL bytes is binary, whether or not it decodes as UTF-8: exit 2, one line, no model."""
    factory = scripted(monkeypatch, [])
    monkeypatch.setattr("sys.stdin", piped(data))
    assert main(["what is this?"] if with_query else []) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_usage_line(err)
    assert "binary" in err
    assert factory.opened == []


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_max_steps_below_one_is_rejected_by_argparse(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-steps must be a positive integer: argparse exits 2 and names the option; no model opened."""
    factory = scripted(monkeypatch, [])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    with pytest.raises(SystemExit) as exit_info:
        main(["--max-steps", value, "hi"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--max-steps" in err and "Traceback" not in err
    assert factory.opened == []


def test_unknown_policy_is_a_usage_error_before_any_model_load(
    isolated_dirs: Path, no_model_load: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--policy with an unknown name: exit 2, one line naming it, and no model is loaded."""
    monkeypatch.chdir(isolated_dirs)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main(["--policy", "yolo", "hi"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_usage_line(err)
    assert "unknown profile 'yolo'" in err


def test_unknown_model_name_is_a_usage_error_before_any_model_load(
    isolated_dirs: Path, no_model_load: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--model with a name the registry does not know: the real resolver fails first; exit 2, one line."""
    monkeypatch.chdir(isolated_dirs)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main(["--model", "gpt-17", "hi"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_usage_line(err)
    assert "unknown model 'gpt-17'" in err
    models_cache = isolated_dirs / "xdg_cache_home" / "llmos" / "models"
    assert not models_cache.exists() or list(models_cache.iterdir()) == []


def test_missing_model_path_is_a_usage_error(
    isolated_dirs: Path, no_model_load: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--model naming a file that does not exist: exit 2, one line with the path."""
    monkeypatch.chdir(isolated_dirs)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main(["--model", "./nowhere/model.gguf", "hi"]) == 2
    err = capsys.readouterr().err
    assert_one_usage_line(err)
    assert "model file not found" in err and "model.gguf" in err


def test_model_file_that_is_not_gguf_is_a_usage_error(
    isolated_dirs: Path, no_model_load: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--model naming a file of random bytes: rejected by its magic before llama.cpp sees it; exit 2, one line."""
    monkeypatch.chdir(isolated_dirs)
    junk = random.Random(7).randbytes(4096)
    model_file = isolated_dirs / "junk.gguf"
    model_file.write_bytes(b"JUNK" + junk)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main(["--model", str(model_file), "hi"]) == 2
    err = capsys.readouterr().err
    assert_one_usage_line(err)
    assert "is not a GGUF model file" in err


@pytest.mark.parametrize(
    "body",
    [
        random.Random(11).randbytes(4096),
        # A plausible header (version 3) with absurd tensor and key counts, then garbage.
        (3).to_bytes(4, "little") + (2**40).to_bytes(8, "little") * 2 + random.Random(13).randbytes(4096),
        b"",
    ],
    ids=["random", "v3-absurd-counts", "magic-only"],
)
def test_gguf_magic_followed_by_garbage_fails_in_llama_loader_as_usage_error(
    body: bytes, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that starts with b"GGUF" but is garbage reaches llama.cpp's loader, which fails; exit 2, one line."""
    monkeypatch.chdir(isolated_dirs)
    model_file = isolated_dirs / "broken.gguf"
    model_file.write_bytes(b"GGUF" + body)
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    assert main(["--model", str(model_file), "hi"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_usage_line(err)
    assert "cannot load model" in err and "broken.gguf" in err


# -- closed output pipe -----------------------------------------------------------------------------------------

BROKEN_PIPE_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer
import llmos.runtime
from llmos.session import Session
from llmos.shell.ask import main
from llmos.tools import load_builtin_tools

backend = ScriptedBackend([answer("one"), answer("two"), answer("three")])
llmos.runtime.open_session = lambda **options: Session(backend, load_builtin_tools(), AllowReadOnlyPolicy())
code = main(sys.argv[2:])
print(f"requests run: {len(backend.calls)}", file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("json_flag", [["--json"], []], ids=["json", "human"])
def test_closed_stdout_pipe_stops_script_mode_quietly_with_141(json_flag: list[str], tmp_path: Path) -> None:
    """`llmos-ask < requests | head` with the reader gone: exit 128+SIGPIPE, no traceback, no further requests."""
    tests_dir = Path(__file__).resolve().parents[1]
    requests = tmp_path / "requests.txt"
    requests.write_text("first\nsecond\nthird\n", encoding="utf-8")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before llmos-ask writes: every write fails with EPIPE
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    try:
        with open(requests, "rb") as stdin:
            completed = subprocess.run(
                [sys.executable, "-c", BROKEN_PIPE_SCRIPT, str(tests_dir), *json_flag],
                stdin=stdin,
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                env=environment,
                timeout=120,
            )
    finally:
        os.close(write_end)
    assert completed.returncode == 141, completed.stderr
    assert completed.stderr == "requests run: 1\n"
