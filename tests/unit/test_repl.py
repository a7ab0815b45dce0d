"""`llmos repl` driven through prompt_toolkit's pipe input (keys typed ahead; nothing drawn): streamed answers,
step lines, y/n/a approvals, / commands (undo with the real journal), shared history, completion, Ctrl+C and
Ctrl+D, and a model that cannot be opened. The model is a ScriptedBackend behind a real Session."""

from __future__ import annotations

import io
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes import AllowReadOnlyPolicy, RemovalRegistry, ScriptedBackend, answer, call
from llmos.policies.audit import AuditLog
from llmos.shell.history import InputHistory
from llmos.shell.repl import Repl
from llmos.shell.repl_input import ReplCompleter
from llmos.tools import load_builtin_tools
from llmos.tools.registry import Registry
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from trees import isolate_xdg, use_memory_keyring

from llmos.assistant import Assistant, LocalAssistant
from llmos.config import load_config
from llmos.errors import ModelError
from llmos.paths import data_dir
from llmos.runtime import load_safety
from llmos.session import Session

pytestmark = pytest.mark.timeout(60)

CTRL_C, CTRL_D, ALT_ENTER, UP = "\x03", "\x04", "\x1b\r", "\x1b[A"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XDG folders (history, journal, audit) in tmp and an in-memory keyring."""
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)


@pytest.fixture
def keys() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


@dataclass
class Factory:
    """The REPL's assistant factory: a LocalAssistant over `session`; records (model, policy) per call and
    the cancel event each request ran with."""

    session: Session
    opened: list[tuple[str | None, str | None]] = field(default_factory=list)
    cancel_events: list[threading.Event] = field(default_factory=list)

    def __call__(self, model: str | None, policy: str | None) -> Assistant:
        self.opened.append((model, policy))
        factory = self

        class RecordingAssistant(LocalAssistant):
            def run(self, *args: Any, cancel: threading.Event | None = None, **kwargs: Any):
                assert cancel is not None
                factory.cancel_events.append(cancel)
                return super().run(*args, cancel=cancel, **kwargs)

        return RecordingAssistant(self.session)


def scripted_factory(replies: list[dict[str, Any] | str], registry: Registry | None = None) -> Factory:
    backend = ScriptedBackend(replies)
    return Factory(Session(backend, registry or RemovalRegistry(), AllowReadOnlyPolicy()))


@dataclass
class Outcome:
    exit_code: int
    out: str
    err: str


def run_repl(keys: PipeInput, typed: str, factory: Callable[[str | None, str | None], Assistant],
             on_start: Callable[[Repl], None] | None = None) -> Outcome:
    """Type `typed` ahead into a new Repl and run it until it exits (the keys must end it)."""
    out, err = io.StringIO(), io.StringIO()
    keys.send_text(typed)
    repl = Repl(factory, input=keys, output=DummyOutput(), stream=out, error_stream=err)
    if on_start is not None:
        on_start(repl)
    exit_code = repl.run()
    return Outcome(exit_code, out.getvalue(), err.getvalue())


def requests_received(factory: Factory) -> list[str]:
    backend = factory.session.backend
    assert isinstance(backend, ScriptedBackend)
    return [recorded.conversation for recorded in backend.calls]


# -- requests -------------------------------------------------------------------------------------------------


def test_a_request_streams_its_answer_then_ctrl_d_exits_0(keys: PipeInput) -> None:
    """A typed request reaches the model; its answer is printed (streamed) on its own line; Ctrl+D exits 0."""
    factory = scripted_factory([answer("I look after your files.")])
    outcome = run_repl(keys, f"how do you help with files?\r{CTRL_D}", factory)
    assert outcome.exit_code == 0
    assert outcome.out.splitlines()[0] == "llmos: loading the model..."
    assert "I look after your files.\n" in outcome.out
    assert "how do you help with files?" in requests_received(factory)[0]
    assert factory.opened == [(None, None)]  # loaded once, at start
    assert outcome.err == ""


def test_with_a_daemon_serving_the_repl_does_not_say_it_loads_the_model(keys: PipeInput) -> None:
    """When the daemon serves (its model already loaded), no "loading the model" line: the first line names the
    model and where it runs, and nothing is loaded here."""
    local = scripted_factory([])
    daemon = scripted_factory([answer("I look after your files.")])
    out, err = io.StringIO(), io.StringIO()
    keys.send_text(f"how do you help with files?\r/model other\r{CTRL_D}")
    repl = Repl(local, input=keys, output=DummyOutput(), stream=out, error_stream=err,
                connect_to_daemon=daemon)
    assert repl.run() == 0
    assert "loading" not in out.getvalue() and out.getvalue().startswith("llmos repl: ")
    assert "I look after your files.\n" in out.getvalue()
    assert local.opened == [] and daemon.opened == [(None, None), ("other", None)]


def test_answer_text_with_terminal_escapes_is_shown_escaped(keys: PipeInput) -> None:
    """An escape sequence in the model's answer (it may repeat what it read) never reaches the terminal."""
    factory = scripted_factory([answer("clear \x1b[2J this")])
    outcome = run_repl(keys, f"say it\r{CTRL_D}", factory)
    assert "\x1b" not in outcome.out and "clear \\x1b[2J this" in outcome.out


def test_step_approved_with_y_runs_and_its_step_line_is_shown(keys: PipeInput) -> None:
    """`y` at the approval prompt runs the step; the prompt showed tool, rule and reason; the step line says ok."""
    factory = scripted_factory([call("demo.remove", path="a.txt"), answer("Removed.")])
    outcome = run_repl(keys, f"remove a.txt\ry{CTRL_D}", factory)
    assert factory.session.registry.removed == ["a.txt"]  # type: ignore[attr-defined]  # a RemovalRegistry in these tests
    assert "llmos wants to run demo.remove (effect:delete:" in outcome.out
    assert '  · demo.remove path="a.txt" -> ok [ask: effect:delete]' in outcome.out
    assert "Removed." in outcome.out


def test_step_denied_with_n_is_skipped(keys: PipeInput) -> None:
    """`n` declines: the tool does not run and its step line says skipped."""
    factory = scripted_factory([call("demo.remove", path="a.txt"), answer("Not removed.")])
    outcome = run_repl(keys, f"remove a.txt\rn{CTRL_D}", factory)
    assert factory.session.registry.removed == []  # type: ignore[attr-defined]  # a RemovalRegistry in these tests
    assert '  · demo.remove path="a.txt" -> skipped [ask: effect:delete]' in outcome.out


@pytest.mark.parametrize("typed", ["\r", "\n", " \t\r", ALT_ENTER, "\x1b"],
                         ids=["enter", "ctrl-j", "space-tab-enter", "alt-enter", "escape"])
def test_enter_or_escape_at_the_approval_prompt_declines(typed: str, keys: PipeInput) -> None:
    """The REPL's default answer is No: Enter (an empty answer), Ctrl+J, Alt+Enter or Esc skips the delete."""
    factory = scripted_factory([call("demo.remove", path="a.txt"), answer("Not removed.")])
    outcome = run_repl(keys, f"remove a.txt\r{typed}{CTRL_D}", factory)
    assert factory.session.registry.removed == []  # type: ignore[attr-defined]  # a RemovalRegistry in these tests
    assert '  · demo.remove path="a.txt" -> skipped [ask: effect:delete]' in outcome.out


def test_a_approves_every_remaining_step_of_the_request_only(keys: PipeInput) -> None:
    """`a` approves this step and the request's later ones without asking again; the next request asks anew."""
    factory = scripted_factory([
        call("demo.remove", path="a.txt"), call("demo.remove", path="b.txt"), answer("Both removed."),
        call("demo.remove", path="c.txt"), answer("Not this one."),
    ])
    outcome = run_repl(keys, f"remove a and b\ra" f"remove c\rn{CTRL_D}", factory)
    assert factory.session.registry.removed == ["a.txt", "b.txt"]  # type: ignore[attr-defined]  # a RemovalRegistry in these tests
    assert outcome.out.count("llmos wants to run demo.remove") == 2  # a.txt, then c.txt in the next request


def test_multi_line_input_with_alt_enter_and_trailing_backslash(keys: PipeInput) -> None:
    """Alt+Enter adds a line, a trailing backslash continues (and is dropped), Enter sends the whole request."""
    factory = scripted_factory([answer("ok")])
    run_repl(keys, f"first line{ALT_ENTER}second line\\\rthird\r{CTRL_D}", factory)
    assert "first line\nsecond line\nthird" in requests_received(factory)[0]


def test_ctrl_c_at_the_prompt_clears_the_line_only(keys: PipeInput) -> None:
    """Ctrl+C while typing discards that line and the REPL goes on; the next line is the request."""
    factory = scripted_factory([answer("ok")])
    outcome = run_repl(keys, f"half typed{CTRL_C}real request\r{CTRL_D}", factory)
    assert outcome.exit_code == 0
    conversations = requests_received(factory)
    assert len(conversations) == 1 and "real request" in conversations[0] and "half typed" not in conversations[0]


class SlowBackend(ScriptedBackend):
    """Streams its reply slowly and says when streaming has begun."""

    def __init__(self, replies: list[dict[str, Any] | str]) -> None:
        super().__init__(replies)
        self.streaming = threading.Event()
        self.pieces_streamed = 0

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        for piece in super().generate(*args, **kwargs):
            self.streaming.set()
            self.pieces_streamed += 1
            time.sleep(0.02)
            yield piece


def test_cancel_hook_stops_the_running_request(keys: PipeInput) -> None:
    """Repl.cancel() while the answer streams sets the request's cancel event: generation stops early, the
    REPL says it was cancelled and reads the next line."""
    long_answer = "word " * 200
    backend = SlowBackend([answer(long_answer)])
    factory = Factory(Session(backend, RemovalRegistry(), AllowReadOnlyPolicy()))

    def cancel_once_streaming(repl: Repl) -> None:
        def cancel() -> None:
            assert backend.streaming.wait(10)
            repl.cancel()

        threading.Thread(target=cancel, daemon=True).start()

    outcome = run_repl(keys, f"tell me a long story\r{CTRL_D}", factory, on_start=cancel_once_streaming)
    assert outcome.exit_code == 0
    assert factory.cancel_events[0].is_set()
    assert "llmos: cancelled" in outcome.err
    assert backend.pieces_streamed < len(long_answer) // 5


def test_ctrl_c_during_a_request_cancels_it(keys: PipeInput) -> None:
    """A real SIGINT (Ctrl+C) while a request runs cancels that request instead of ending the REPL."""
    backend = SlowBackend([answer("word " * 200), answer("second")])
    factory = Factory(Session(backend, RemovalRegistry(), AllowReadOnlyPolicy()))
    main_thread_id = threading.get_ident()

    def interrupt_once_streaming(repl: Repl) -> None:
        def interrupt() -> None:
            assert backend.streaming.wait(10)
            signal.pthread_kill(main_thread_id, signal.SIGINT)

        threading.Thread(target=interrupt, daemon=True).start()

    outcome = run_repl(keys, f"tell me a long story\ranother\r{CTRL_D}", factory, on_start=interrupt_once_streaming)
    assert outcome.exit_code == 0
    assert factory.cancel_events[0].is_set() and not factory.cancel_events[1].is_set()
    assert "second" in outcome.out


def test_assistant_that_cannot_open_prints_one_line_and_exits_2(keys: PipeInput) -> None:
    """A factory error (no such model) is one `llmos:` line on the error stream and exit 2, no prompt."""

    def failing_factory(model: str | None, policy: str | None) -> Assistant:
        raise ModelError(f"no model named {model!r}; see llmos models list")

    outcome = run_repl(keys, "never read\r", failing_factory)
    assert outcome.exit_code == 2
    assert outcome.err == "llmos: no model named None; see llmos models list\n"


# -- history and completion -------------------------------------------------------------------------------------


def test_history_is_shared_across_repl_instances_through_the_history_file(keys: PipeInput) -> None:
    """A request typed in one REPL is recalled with Up in the next (InputHistory, as the TUI uses); / commands
    are not stored."""
    run_repl(keys, f"how big is Downloads?\r/help\r{CTRL_D}", scripted_factory([answer("12 MB")]))
    assert InputHistory().entries == ["how big is Downloads?"]
    second = scripted_factory([answer("still 12 MB")])
    run_repl(keys, f"{UP}\r{CTRL_D}", second)
    assert "how big is Downloads?" in requests_received(second)[0]


def completions_for(text: str) -> list[tuple[str, int]]:
    document = Document(text)
    return [(c.text, c.start_position) for c in ReplCompleter().get_completions(document, CompleteEvent(True))]


def test_slash_commands_complete() -> None:
    """`/un` completes to `/undo` (replacing what was typed); `/` alone offers every command."""
    assert completions_for("/un") == [("/undo", -3)]
    assert {text for text, _ in completions_for("/")} == {
        "/undo", "/log", "/policy", "/model", "/help", "/clear", "/quit"}


def test_path_under_the_cursor_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A word that looks like a path (./, ~/, absolute) completes from the file system; a plain word does not."""
    (tmp_path / "reports-2024").mkdir()
    (tmp_path / "readme.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert completions_for("summarize ./rep") == [("orts-2024", 0)]
    assert completions_for("summarize ~/rea") == [("dme.txt", 0)]
    assert completions_for(f"what is in {tmp_path}/re") == [("adme.txt", 0), ("ports-2024", 0)]
    assert completions_for("summarize rep") == []


# -- / commands -------------------------------------------------------------------------------------------------


def test_unknown_slash_command_is_reported_not_sent(keys: PipeInput) -> None:
    """`/frobnicate` is answered with one line pointing at /help; the model is not asked."""
    factory = scripted_factory([])
    outcome = run_repl(keys, f"/frobnicate\r{CTRL_D}", factory)
    assert "llmos: no command /frobnicate; /help lists them" in outcome.err
    assert requests_received(factory) == []


def test_help_quit_and_model(keys: PipeInput) -> None:
    """/help lists the commands and keys, /model names the model and where it runs, /quit exits 0."""
    outcome = run_repl(keys, "/help\r/model\r/quit\r", scripted_factory([]))
    assert outcome.exit_code == 0
    assert "/undo [ID]" in outcome.out and "Alt+Enter" in outcome.out
    assert "model: scripted (in-process)" in outcome.out


def test_model_name_switches_only_when_the_new_one_opens(keys: PipeInput) -> None:
    """/model NAME opens a new assistant with that name (same policy); a name that fails keeps the old one."""
    factory = scripted_factory([])
    real_call = factory.__call__

    def open_or_fail(model: str | None, policy: str | None) -> Assistant:
        if model == "missing":
            raise ModelError("no model named 'missing'")
        return real_call(model, policy)

    outcome = run_repl(keys, f"/model missing\r/model small\r{CTRL_D}", open_or_fail)
    assert factory.opened == [(None, None), ("small", None)]
    assert "llmos: no model named 'missing' (still using the previous setup)" in outcome.err
    assert "now using scripted" in outcome.out


def test_policy_shows_the_profile(keys: PipeInput) -> None:
    """/policy prints the effective profile as `llmos policy show` does."""
    outcome = run_repl(keys, f"/policy\r{CTRL_D}", scripted_factory([]))
    assert "profile: default" in outcome.out and "writable roots:" in outcome.out


@pytest.fixture
def real_safety_factory(temp_home: Path) -> Callable[[list[dict[str, Any]]], Factory]:
    """A session with the real default policy, journal and audit log (in the tmp XDG data dir)."""

    def make(replies: list[dict[str, Any]]) -> Factory:
        return Factory(Session(ScriptedBackend(replies), load_builtin_tools(), load_safety(None, load_config())))

    return make


def test_undo_restores_a_moved_file_and_is_audited(
    keys: PipeInput, temp_home: Path, real_safety_factory: Callable[[list[dict[str, Any]]], Factory]
) -> None:
    """An approved files.move runs through the real journal; /undo moves the file back and the audit log
    records the undo; /log then shows both."""
    factory = real_safety_factory([
        call("files.move", source="~/Downloads/notes.txt", destination="~/Documents"), answer("Moved."),
    ])
    outcome = run_repl(keys, f"move notes.txt from Downloads into Documents\ry/undo\r/log\r{CTRL_D}", factory)
    assert "-> ok" in outcome.out, outcome.err
    assert (temp_home / "Downloads" / "notes.txt").read_text() == "hello world\nTODO: buy milk\n"
    assert not (temp_home / "Documents" / "notes.txt").exists()
    assert "undone: move ~/Downloads/notes.txt -> ~/Documents/notes.txt" in outcome.out
    tools_audited = [record.tool for record in AuditLog(data_dir() / "audit.jsonl").records()]
    assert tools_audited[-1] == "undo" and "files.move" in tools_audited
    log_lines = outcome.out.split("undone: ", 1)[1].splitlines()
    assert any("files.move" in line for line in log_lines) and any(" undo " in line for line in log_lines)


def test_undo_with_nothing_to_undo_is_one_line(keys: PipeInput) -> None:
    """/undo on an empty journal prints the one-line reason and the REPL goes on."""
    outcome = run_repl(keys, f"/undo\r{CTRL_D}", scripted_factory([]))
    assert outcome.exit_code == 0
    assert len(outcome.err.splitlines()) == 1 and outcome.err.startswith("llmos: ")


def test_ctrl_c_at_the_approval_prompt_declines_and_cancels_the_request(keys: PipeInput) -> None:
    """Ctrl+C while asked to approve: the step does not run, the request is cancelled, its worker thread
    ends (nothing is left waiting on an answer) and the REPL reads the next line."""
    factory = scripted_factory([call("demo.remove", path="a.txt"), answer("Not removed.")])
    outcome = run_repl(keys, f"remove a.txt\r{CTRL_C}{CTRL_D}", factory)
    assert outcome.exit_code == 0
    assert factory.session.registry.removed == []  # type: ignore[attr-defined]  # a RemovalRegistry in these tests
    assert factory.cancel_events[0].is_set()
    assert not any(thread.name == "llmos-request" for thread in threading.enumerate())
