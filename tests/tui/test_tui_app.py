"""The TUI driven through Textual's Pilot with a scripted model under the real default policy, journal and audit
log: streaming, approvals by key and click, cancel, undo, history, slash commands, errors and small terminals."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.shell.tui.app import LlmosApp, build_app
from llmos.shell.tui.messages import ApprovalRequested, AssistantFailed, CommandOutput, SessionEventArrived
from llmos.shell.tui.plan import PlanPane, StepCard
from llmos.shell.tui.request_input import RequestInput
from llmos.shell.tui.slash import help_output
from llmos.shell.tui.system_pane import SystemPane
from llmos.shell.tui.transcript import Transcript
from textual.message import Message
from textual.widgets import Markdown, Static
from tui_support import StreamingUntilCancelled, factory_for, fixed_samples, pilot_test, settle, wait_until

from llmos.commands.log import open_audit_log
from llmos.errors import ModelError
from llmos.events import AnswerStarted, AnswerToken, RequestFinished

MOVE_REQUEST = "move report.pdf from Downloads into Documents"


def make_app(backend: Any, tmp_path: Path, **options: Any) -> LlmosApp:
    return build_app(factory_for(backend), history_path=tmp_path / "history.jsonl", sampler=None, **options)


def move_backend(*extra_replies: dict[str, Any]) -> ScriptedBackend:
    return ScriptedBackend([
        call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/"),
        *extra_replies,
        answer("Moved report.pdf into Documents."),
    ])


def transcript_text(app: LlmosApp) -> str:
    """Everything the conversation pane holds: plain blocks' text and answers' Markdown source."""
    parts = []
    for widget in app.query_one(Transcript).children:
        parts.append(widget.source if isinstance(widget, Markdown) else str(widget.render()))
    return "\n".join(parts)


def outcomes(messages: list[Message]) -> list[RequestFinished]:
    return [m.event for m in messages if isinstance(m, SessionEventArrived) and isinstance(m.event, RequestFinished)]


async def send(pilot: Any, text: str) -> None:
    request_input = pilot.app.query_one(RequestInput)
    request_input.focus()
    request_input.value = text
    await pilot.press("enter")


async def until_asked(pilot: Any, messages: list[Message], count: int = 1) -> None:
    await wait_until(pilot, lambda: sum(isinstance(m, ApprovalRequested) for m in messages) >= count
                     and pilot.app.query_one(PlanPane).asking_card() is not None)


async def until_finished(pilot: Any, messages: list[Message]) -> None:
    """Wait until a request has finished and the UI has rendered its outcome."""
    await wait_until(pilot, lambda: bool(outcomes(messages)))
    await settle(pilot)


async def ask_for_move(pilot: Any, app: Any, messages: list[Message]) -> None:
    """Wait for the assistant, send MOVE_REQUEST and wait until its step asks for approval."""
    await wait_until(pilot, lambda: app.assistant is not None)
    await send(pilot, MOVE_REQUEST)
    await until_asked(pilot, messages)


@pilot_test
async def test_answer_arrives_checked_into_the_conversation(tui_home: Path, tmp_path: Path) -> None:
    """The model's answer reaches the TUI only once llmos has checked it: an AnswerStarted while the model
    writes, then the whole answer as one AnswerToken, shown whole in the pane."""
    text = "I can **find**, move and tidy your files, and tell you what is slowing the machine."
    app = make_app(ScriptedBackend([answer(text)]), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "how do you help with files?")
        await until_finished(pilot, messages)
        tokens = [m.event.text for m in messages
                  if isinstance(m, SessionEventArrived) and isinstance(m.event, AnswerToken)]
        assert tokens == [text]
        assert any(isinstance(m, SessionEventArrived) and isinstance(m.event, AnswerStarted) for m in messages)
        assert "› how do you help with files?" in transcript_text(app)
        assert text in transcript_text(app)
        assert app.query_one(PlanPane).has_class("empty")  # no steps: the plan says so
        assert app.control is None


@pilot_test
async def test_step_approved_with_y_runs_the_move(tui_home: Path, tmp_path: Path) -> None:
    """A files.move under the default profile asks; pressing y approves it, the file moves, the card says done."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_move(pilot, app, messages)
        card = app.query_one(PlanPane).asking_card()
        assert card is not None and card.step.tool == "files.move"
        assert card.step.decision is not None and card.step.decision.verdict == "ask"
        assert any("report.pdf" in line for line in card.step.preview)
        assert not (tui_home / "Documents/report.pdf").exists()  # nothing moves before the answer
        await pilot.press("y")
        await until_finished(pilot, messages)
        assert "Moved report.pdf into Documents." in transcript_text(app)
        assert str(app.query_one(StepCard).query_one(".step-status").render()) == "done"
    assert (tui_home / "Documents/report.pdf").exists() and not (tui_home / "Downloads/report.pdf").exists()
    outcome = outcomes(messages)[0]
    assert outcome.steps[0].approved is True and outcome.steps[0].status == "ok" and outcome.exit_code == 0


@pilot_test
async def test_step_approved_with_a_click(tui_home: Path, tmp_path: Path) -> None:
    """Clicking the card's Approve button approves the step just like the y key."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_move(pilot, app, messages)
        await pilot.pause()
        assert await pilot.click("#approve")
        await until_finished(pilot, messages)
    assert (tui_home / "Documents/report.pdf").exists()
    assert outcomes(messages)[0].steps[0].approved is True


@pilot_test
async def test_step_denied_with_n_changes_nothing(tui_home: Path, tmp_path: Path) -> None:
    """Pressing n skips the step: the file stays, the request exits 3 and the card says it was not approved."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_move(pilot, app, messages)
        await pilot.press("n")
        await until_finished(pilot, messages)
        status = str(app.query_one(StepCard).query_one(".step-status").render())
    assert (tui_home / "Downloads/report.pdf").exists() and not (tui_home / "Documents/report.pdf").exists()
    step = outcomes(messages)[0].steps[0]
    assert (step.approved, step.status, outcomes(messages)[0].exit_code) == (False, "skipped", 3)
    assert status == "not approved"


@pilot_test
async def test_approve_all_answers_the_rest_of_the_request(tui_home: Path, tmp_path: Path) -> None:
    """One a approves this step and every later asked step of the same request: a single question, two moves."""
    backend = move_backend(call("files.move", source="~/Downloads/notes.txt", destination="~/Documents/"))
    app = make_app(backend, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "move report.pdf and notes.txt from Downloads into Documents")
        await until_asked(pilot, messages)
        await pilot.press("a")
        await until_finished(pilot, messages)
    assert sum(isinstance(m, ApprovalRequested) for m in messages) == 1
    assert (tui_home / "Documents/report.pdf").exists() and (tui_home / "Documents/notes.txt").exists()
    assert [s.approved for s in outcomes(messages)[0].steps] == [True, True]


@pilot_test
async def test_ctrl_c_cancels_a_streaming_answer(tui_home: Path, tmp_path: Path) -> None:
    """Ctrl+C while the model generates stops it (the backend's stream is closed early); the pane says so."""
    backend = StreamingUntilCancelled()
    app = make_app(backend, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "tell me a long story")
        await wait_until(pilot, lambda: backend.pieces_sent > 5)
        await pilot.press("ctrl+c")
        await until_finished(pilot, messages)
        assert "Cancelled." in transcript_text(app)
        assert app.control is None
    assert outcomes(messages)[0].cancelled and outcomes(messages)[0].exit_code == 130
    assert backend.closed_early and backend.pieces_sent < backend.limit


@pilot_test
async def test_ctrl_c_during_an_approval_denies_it(tui_home: Path, tmp_path: Path) -> None:
    """Ctrl+C with a step waiting answers it no: nothing moves and the request ends cancelled."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_move(pilot, app, messages)
        await pilot.press("ctrl+c")
        await until_finished(pilot, messages)
        assert app.query_one(PlanPane).asking_card() is None
    assert (tui_home / "Downloads/report.pdf").exists()
    outcome = outcomes(messages)[0]
    assert outcome.cancelled and outcome.steps[0].approved is False


@pilot_test
async def test_ctrl_z_undoes_the_last_request_and_audits_it(tui_home: Path, tmp_path: Path) -> None:
    """After an approved move, Ctrl+Z puts the file back (as `llmos undo`) and the audit log records the undo."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_move(pilot, app, messages)
        await pilot.press("y")
        await until_finished(pilot, messages)
        assert (tui_home / "Documents/report.pdf").exists()
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: any(isinstance(m, CommandOutput) for m in messages))
        await settle(pilot)
        output = next(m for m in messages if isinstance(m, CommandOutput))
        assert not output.failed and output.lines[0].startswith("undone: move ~/Downloads/report.pdf")
        assert "undone: move" in transcript_text(app)
    assert (tui_home / "Downloads/report.pdf").exists() and not (tui_home / "Documents/report.pdf").exists()
    records = open_audit_log(create_key=False).records()
    assert [r.tool for r in records] == ["files.move", "undo"]
    assert records[-1].status == "ok" and records[-1].undone


@pytest.mark.parametrize("how", ["ctrl+z", "/undo"])
@pilot_test
async def test_undo_marks_the_undone_step_in_the_plan(how: str, tui_home: Path, tmp_path: Path) -> None:
    """After an undo (the key or /undo) the plan no longer says the step is done: its card says it was undone."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_move(pilot, app, messages)
        await pilot.press("y")
        await until_finished(pilot, messages)
        await settle(pilot)
        status = app.query_one(PlanPane).cards[0].query_one(".step-status", Static)
        assert str(status.render()) == "done"
        if how == "ctrl+z":
            await pilot.press("ctrl+z")
        else:
            app.query_one(RequestInput).value = "/undo"
            await pilot.press("enter")
        await wait_until(pilot, lambda: any(isinstance(m, CommandOutput) for m in messages))
        await settle(pilot)
        assert str(status.render()) == "undone"
        assert status.has_class("status-undone")
    assert (tui_home / "Downloads/report.pdf").exists()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pilot_test
async def test_pane_widths_stay_the_same_while_a_step_waits(size: tuple[int, int], tui_home: Path,
                                                            tmp_path: Path) -> None:
    """An approval does not move the panes: the conversation and the plan keep their widths while a step waits."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=size, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await settle(pilot)
        before = (app.query_one(Transcript).size.width, app.query_one(PlanPane).size.width)
        await ask_for_move(pilot, app, messages)
        await wait_until(pilot, lambda: app.screen.has_class("asking"))
        await pilot.pause()
        during = (app.query_one(Transcript).size.width, app.query_one(PlanPane).size.width)
        await pilot.press("n")
        await until_finished(pilot, messages)
    assert during == before


@pilot_test
async def test_slash_undo_with_nothing_to_undo_says_so(tui_home: Path, tmp_path: Path) -> None:
    """/undo on an empty journal shows the journal's reason as an error notice, and nothing crashes."""
    app = make_app(ScriptedBackend([]), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await send(pilot, "/undo")
        await wait_until(pilot, lambda: any(isinstance(m, CommandOutput) for m in messages))
        await settle(pilot)
        output = next(m for m in messages if isinstance(m, CommandOutput))
        assert output.failed and "undo" in output.lines[0].lower()


@pilot_test
async def test_slash_commands_show_model_policy_log_and_help(tui_home: Path, tmp_path: Path) -> None:
    """/model names the model and where it runs, /policy the profile, /log the audit records, /help the keys."""
    app = make_app(ScriptedBackend([call("files.list", path="~/Downloads"), answer("5 files.")]), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "list my Downloads")
        await wait_until(pilot, lambda: bool(outcomes(messages)))
        for command in ("/model", "/policy", "/log", "/help"):
            await send(pilot, command)
        await wait_until(pilot, lambda: sum(isinstance(m, CommandOutput) for m in messages) >= 2)
        await settle(pilot)
        text = transcript_text(app)
    assert "scripted (in-process)" in text
    assert "profile: default" in text and "effects:" in text
    assert "files.list" in text and "allow" in text  # the audit record of the listing
    assert "Ctrl+Z" in text and "/undo" in text


@pilot_test
async def test_slash_log_shows_one_line_per_record(tui_home: Path, tmp_path: Path) -> None:
    """/log is a table: each audit record takes one line of the pane (cut with an ellipsis, never wrapped), at
    the TUI's usual widths."""
    replies = [call("files.list", path="~/Downloads"), answer("5 files."),
               call("files.find", path="~", name="*.pdf"), answer("2 PDFs.")]
    app = make_app(ScriptedBackend(replies), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 36), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "tell me about my Downloads")
        await wait_until(pilot, lambda: len(outcomes(messages)) >= 1)
        await send(pilot, "tell me about my PDFs")
        await wait_until(pilot, lambda: len(outcomes(messages)) >= 2)
        await send(pilot, "/log")
        await wait_until(pilot, lambda: any(isinstance(m, CommandOutput) for m in messages))
        await settle(pilot)
        output = next(m for m in messages if isinstance(m, CommandOutput))
        notice = app.query_one(Transcript).query(".notice.output").last()
        assert any(len(line) > notice.content_size.width for line in output.lines)  # the records are wide
        assert notice.content_size.height == 1 + len(output.lines)  # the title, then one line per record


@pilot_test
async def test_unknown_slash_command_is_named(tui_home: Path, tmp_path: Path) -> None:
    """A mistyped command gets a notice listing the real ones instead of being sent to the model."""
    backend = ScriptedBackend([])
    app = make_app(backend, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "/frobnicate")
        await settle(pilot)
        assert "unknown command /frobnicate" in transcript_text(app)
    assert backend.calls == []


@pilot_test
async def test_history_walks_with_up_and_down_and_persists(tui_home: Path, tmp_path: Path) -> None:
    """Up recalls earlier requests newest first, Down returns to the draft; a new app instance has them too."""
    app = make_app(ScriptedBackend([answer("one"), answer("two")]), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        for request in ("first request", "second request"):
            await send(pilot, request)
            await wait_until(pilot, lambda: app.control is None and bool(outcomes(messages)))
            await settle(pilot)
        request_input = app.query_one(RequestInput)
        request_input.focus()
        request_input.value = "draft"
        await pilot.press("up")
        assert request_input.value == "second request"
        await pilot.press("up", "up")
        assert request_input.value == "first request"
        await pilot.press("down")
        assert request_input.value == "second request"
        await pilot.press("down")
        assert request_input.value == "draft"
    second = make_app(ScriptedBackend([]), tmp_path)
    async with second.run_test(size=(100, 30)) as pilot:
        await pilot.press("up")
        assert second.query_one(RequestInput).value == "second request"


@pilot_test
async def test_model_error_from_the_factory_is_a_readable_notice(tui_home: Path, tmp_path: Path) -> None:
    """A ModelError while opening the assistant shows its line and what to do; the app keeps running."""

    def broken_factory() -> Any:
        raise ModelError("model file is corrupt: sha256 does not match the registry")

    app = build_app(broken_factory, history_path=tmp_path / "history.jsonl", sampler=None)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: any(isinstance(m, AssistantFailed) for m in messages))
        await settle(pilot)
        await send(pilot, "hello?")
        await settle(pilot)
        text = transcript_text(app)
        assert app.is_running
    assert "model file is corrupt: sha256 does not match the registry" in text
    assert "llmos models pull" in text and "Traceback" not in text
    assert "No model is loaded" in text


@pilot_test
async def test_unexpected_factory_error_is_a_notice_not_a_crash(tui_home: Path, tmp_path: Path) -> None:
    """Even an exception that is not an LlmosError (a bug) becomes one line in the pane."""

    def broken_factory() -> Any:
        raise RuntimeError("sandbox helper missing")

    app = build_app(broken_factory, history_path=tmp_path / "history.jsonl", sampler=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.assistant_failure is not None)
        await settle(pilot)
        assert "RuntimeError: sandbox helper missing" in transcript_text(app)


@pilot_test
async def test_a_request_sent_while_loading_runs_once_ready(tui_home: Path, tmp_path: Path) -> None:
    """Enter before the model is loaded queues the request; it runs as soon as the assistant is ready."""
    import threading

    release = threading.Event()
    backend = ScriptedBackend([answer("ready now")])

    def slow_factory() -> Any:
        release.wait(10)
        return factory_for(backend)()

    app = build_app(slow_factory, history_path=tmp_path / "history.jsonl", sampler=None)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await send(pilot, "are you there?")
        await pilot.pause()
        assert "Loading the model" in transcript_text(app)
        release.set()
        await until_finished(pilot, messages)
        assert "ready now" in transcript_text(app)


@pilot_test
async def test_resize_to_40_columns_while_asking_does_not_crash(tui_home: Path, tmp_path: Path) -> None:
    """Shrinking to 40 columns with an approval pending stacks the panes; the step can still be approved."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await ask_for_move(pilot, app, messages)
        await pilot.resize_terminal(40, 24)
        await pilot.pause()
        assert app.screen.has_class("narrow")
        assert not app.query_one(SystemPane).display
        await pilot.resize_terminal(30, 12)
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(outcomes(messages)))
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert not app.screen.has_class("narrow")
    assert (tui_home / "Documents/report.pdf").exists()


@pilot_test
async def test_system_pane_shows_samples(tui_home: Path, tmp_path: Path) -> None:
    """Samples from the injected sampler reach the system pane: percentages and the busiest process."""
    samples = iter(fixed_samples())
    app = build_app(factory_for(ScriptedBackend([])), history_path=tmp_path / "h.jsonl",
                    sampler=lambda: next(samples), sample_seconds=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(SystemPane)
        await wait_until(pilot, lambda: len(pane.cpu_history) >= 3)
        await pilot.pause()
        processes = str(pane.query_one(".processes").render())
        assert "llama-worker" in processes and "87%" in processes
        assert pane.latest is not None and pane.latest.cpu_percent in {s.cpu_percent for s in fixed_samples()}


@pilot_test
async def test_system_pane_warns_of_what_stands_out(tui_home: Path, tmp_path: Path) -> None:
    """A sample with anomalies shows them on one warning line above the processes; a calm sample hides it."""
    calm = fixed_samples()[0]
    busy = dataclasses.replace(calm, anomalies=("renderfarm 98% cpu", "disk 95% full"))
    samples = iter([busy, busy, calm, calm, calm] + fixed_samples())
    app = build_app(factory_for(ScriptedBackend([])), history_path=tmp_path / "h.jsonl",
                    sampler=lambda: next(samples), sample_seconds=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(SystemPane)
        warning = pane.query_one(".anomalies")
        await wait_until(pilot, lambda: len(pane.cpu_history) >= 1 and warning.display)
        assert str(warning.render()) == "⚠ renderfarm 98% cpu · disk 95% full"
        await wait_until(pilot, lambda: len(pane.cpu_history) >= 4)
        await pilot.pause()
        assert not warning.display


@pilot_test
async def test_q_quits_on_an_empty_request_line_and_is_a_letter_while_typing(tui_home: Path, tmp_path: Path) -> None:
    """One rule for q (README, /help and footer): while something is typed it is a letter (a request may hold q);
    on an empty request line it quits, and only then does the footer offer it."""

    def footer_offers_q() -> bool:
        active = app.active_bindings.get("q")
        return active is not None and active.enabled and active.binding.show

    app = make_app(ScriptedBackend([]), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        request_input = app.query_one(RequestInput)
        assert footer_offers_q()
        await pilot.press("s", "q", "l", "q")
        assert request_input.value == "sqlq"
        assert app.is_running and not footer_offers_q()
        app.set_focus(None)
        await pilot.press("q")  # text is typed: q does not quit from elsewhere either
        assert app.is_running and request_input.value == "sqlq"
        request_input.focus()
        await pilot.press("ctrl+u")
        await wait_until(pilot, lambda: request_input.value == "" and footer_offers_q())
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_value == 0
    assert any("q on an empty request line" in line for line in help_output().lines)


@pilot_test
async def test_ctrl_q_quits_while_a_request_runs(tui_home: Path, tmp_path: Path) -> None:
    """Ctrl+Q exits even mid-generation, and the running request is cancelled so its thread ends."""
    backend = StreamingUntilCancelled()
    app = make_app(backend, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "tell me a long story")
        await wait_until(pilot, lambda: backend.pieces_sent > 2)
        control = app.control
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert control is not None and control.cancel.is_set()
    assert app.return_value == 0


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pilot_test
async def test_renders_in_light_and_dark_themes(theme: str, tui_home: Path, tmp_path: Path) -> None:
    """Both themes render a pending approval (the stylesheet uses only theme variables)."""
    app = make_app(move_backend(), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        app.theme = theme
        await ask_for_move(pilot, app, messages)
        await pilot.pause()
        assert app.query_one("#approve").region.width > 0
        await pilot.press("n")
        await wait_until(pilot, lambda: bool(outcomes(messages)))


@pilot_test
async def test_f1_shows_the_keys(tui_home: Path, tmp_path: Path) -> None:
    """F1 shows the help (keys and commands) in the conversation, whatever has focus."""
    app = make_app(ScriptedBackend([]), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.set_focus(None)
        await pilot.press("f1")
        await pilot.pause()
        text = transcript_text(app)
    assert "Ctrl+C" in text and "y / n / a" in text and "/policy" in text


@pilot_test
async def test_denied_step_shows_rule_and_reason_without_asking(tui_home: Path, tmp_path: Path) -> None:
    """A read of a secret is denied by policy: no question is asked, the card says denied with the rule's reason,
    and the file's content never reaches the screen."""
    secret = tui_home / ".ssh" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- do-not-show\n")
    backend = ScriptedBackend([call("files.read", path="~/.ssh/id_rsa"), answer("I may not read that file.")])
    app = make_app(backend, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "show me ~/.ssh/id_rsa")
        await until_finished(pilot, messages)
        card = app.query_one(StepCard)
        status = str(card.query_one(".step-status").render())
        decision = str(card.query_one(".step-decision").render())
        result = str(card.query_one(".step-result").render())
        screen_text = transcript_text(app) + decision + result
    assert not any(isinstance(m, ApprovalRequested) for m in messages)
    step = outcomes(messages)[0].steps[0]
    assert step.status == "denied" and step.decision is not None
    assert status == "denied" and decision.startswith("deny · ") and step.decision.rule in decision
    assert "denied by policy" in result
    assert "do-not-show" not in screen_text


class BrokenConnection:
    """An assistant whose connection drops mid-request, as a daemon that went away would."""

    model_name = "remote"
    where = "daemon"

    def run(self, request: str, stdin_data: str | None = None, approver: Any = None, *, cancel: Any = None) -> Any:
        yield AnswerToken("Let me")
        raise ConnectionResetError("the daemon closed the connection")

    def suggest_command(self, request: str) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


@pilot_test
async def test_assistant_failing_mid_request_ends_it_readably(tui_home: Path, tmp_path: Path) -> None:
    """An exception out of the assistant's event stream becomes an error notice and a failed RequestFinished;
    the app is idle again and takes the next request."""
    app = build_app(lambda: BrokenConnection(), history_path=tmp_path / "history.jsonl", sampler=None)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "anything")
        await until_finished(pilot, messages)
        assert app.control is None and "working" not in str(app.query_one("#title").render())
        assert "ConnectionResetError: the daemon closed the connection" in transcript_text(app)
    outcome = outcomes(messages)[0]
    assert not outcome.ok and outcome.exit_code == 1


@pilot_test
async def test_stays_responsive_while_the_model_generates(tui_home: Path, tmp_path: Path) -> None:
    """While an answer streams, typing, history and slash commands still work, and a second request is
    refused with a notice rather than queued behind the first."""
    backend = StreamingUntilCancelled(delay=0.02)
    app = make_app(backend, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "tell me a long story")
        await wait_until(pilot, lambda: backend.pieces_sent > 3)
        await send(pilot, "/model")
        await pilot.pause()
        assert "slow (in-process)" in transcript_text(app)
        await send(pilot, "another request")
        await pilot.pause()
        assert "another request" not in transcript_text(app)
        await pilot.press("up")
        assert app.query_one(RequestInput).value == "another request"
        assert app.control is not None and not outcomes(messages)  # still generating all along
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: bool(outcomes(messages)))


@pilot_test
async def test_system_pane_says_when_automations_need_the_person(tui_home: Path, tmp_path: Path) -> None:
    """Calls waiting for approval and paused rules are shown under the warnings, with the command to act."""
    busy = dataclasses.replace(fixed_samples()[0], anomalies=("disk 95% full",),
                               automation_notes=("2 automation calls wait for approval: llmos automations pending",))
    app = build_app(factory_for(ScriptedBackend([])), history_path=tmp_path / "h.jsonl",
                    sampler=lambda: busy, sample_seconds=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(SystemPane)
        warning = pane.query_one(".anomalies")
        await wait_until(pilot, lambda: len(pane.cpu_history) >= 1 and warning.display)
        assert str(warning.render()) == ("⚠ disk 95% full\n"
                                         "⚑ 2 automation calls wait for approval: llmos automations pending")


@pilot_test
async def test_slash_automations_lists_the_queue_and_approve_runs_a_call(tui_home: Path, tmp_path: Path) -> None:
    """/automations shows the rules and the calls waiting for approval; /approve ID runs one, journaled."""
    from llmos.automations.rules import Action, Rule, Trigger
    from llmos.automations.store import AutomationStore, PendingAction

    store = AutomationStore()
    rule = Rule(trigger=Trigger(path="~/Downloads", glob="*.pdf"), confirm_each=True,
                action=Action(tool="files.move", args={"source": "{path}", "destination": "~/Documents/PDFs/"}))
    store.add(rule)
    item = PendingAction(rule_id=rule.id, event_path="~/Downloads/report.pdf", tool="files.move",
                         args={"source": str(tui_home / "Downloads" / "report.pdf"),
                               "destination": "~/Documents/PDFs/"},
                         reason="the rule asks before each run")
    store.queue(item)
    app = make_app(ScriptedBackend([]), tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, "/automations")
        await wait_until(pilot, lambda: sum(isinstance(m, CommandOutput) for m in messages) >= 1)
        await send(pilot, f"/approve {item.id}")
        await wait_until(pilot, lambda: sum(isinstance(m, CommandOutput) for m in messages) >= 2)
        await settle(pilot)
        text = transcript_text(app)
    assert f"{rule.id}  enabled" in text and item.id in text and "waits because the rule asks" in text
    assert (tui_home / "Documents" / "PDFs" / "report.pdf").exists() and store.pending() == []
