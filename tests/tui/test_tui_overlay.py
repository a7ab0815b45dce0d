"""`llmos overlay` through Pilot: one request, its plan with approvals, the answer, then Enter or Esc closes it
with the request's exit status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.shell.tui.messages import ApprovalRequested, SessionEventArrived
from llmos.shell.tui.overlay import OverlayApp, build_overlay
from llmos.shell.tui.plan import PlanPane
from llmos.shell.tui.request_input import RequestInput
from llmos.shell.tui.transcript import Transcript
from textual.message import Message
from textual.widgets import Markdown
from tui_support import StreamingUntilCancelled, factory_for, pilot_test, screen_text, settle, wait_until

from llmos.errors import ModelError
from llmos.events import RequestFinished


def make_overlay(backend: Any, tmp_path: Path, initial_request: str = "") -> OverlayApp:
    return build_overlay(factory_for(backend), history_path=tmp_path / "history.jsonl",
                         initial_request=initial_request)


def finished(messages: list[Message]) -> bool:
    return any(isinstance(m, SessionEventArrived) and isinstance(m.event, RequestFinished) for m in messages)


def answer_text(app: OverlayApp) -> str:
    return "\n".join(w.source for w in app.query_one(Transcript).children if isinstance(w, Markdown))


@pilot_test
async def test_initial_request_starts_typed_and_enter_sends_it(tui_home: Path, tmp_path: Path) -> None:
    """A request given on the command line starts typed in the request line and runs only on Enter; the answer
    then stays until Enter closes with exit 0."""
    app = make_overlay(ScriptedBackend([answer("I can tidy your folders.")]), tmp_path,
                       initial_request="how do you help with files?")
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await settle(pilot)
        request_input = app.query_one(RequestInput)
        assert request_input.value == "how do you help with files?"
        assert request_input.has_focus and not request_input.disabled
        assert app.control is None and not any(isinstance(m, SessionEventArrived) for m in messages)
        await pilot.press("enter")
        await wait_until(pilot, lambda: finished(messages))
        await settle(pilot)
        assert "I can tidy your folders." in answer_text(app)
        assert app.is_running  # it waits for the person to read the answer
        await pilot.press("enter")
        await pilot.pause()
        assert not app.is_running
    assert app.return_value == 0


@pilot_test
async def test_typed_request_with_denied_step_exits_3(tui_home: Path, tmp_path: Path) -> None:
    """A typed request's asked step is shown with buttons; n denies it, nothing moves, Esc closes with 3."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/"),
                               answer("I did not move it.")])
    app = make_overlay(backend, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        request_input = app.query_one(RequestInput)
        request_input.value = "move report.pdf from Downloads into Documents"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(isinstance(m, ApprovalRequested) for m in messages)
                         and app.query_one(PlanPane).asking_card() is not None)
        await pilot.press("n")
        await wait_until(pilot, lambda: finished(messages))
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
    assert (tui_home / "Downloads/report.pdf").exists()
    assert app.return_value == 3
    assert "move report.pdf from Downloads into Documents" in app.history.entries


@pilot_test
async def test_approved_step_by_click_runs(tui_home: Path, tmp_path: Path) -> None:
    """The overlay's step card buttons are the TUI's: clicking Approve moves the file."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/"),
                               answer("Moved.")])
    app = make_overlay(backend, tmp_path, initial_request="move report.pdf from Downloads into Documents")
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.query_one(PlanPane).asking_card() is not None)
        await pilot.pause()
        assert await pilot.click("#approve")
        await wait_until(pilot, lambda: finished(messages))
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
    assert (tui_home / "Documents/report.pdf").exists()
    assert app.return_value == 0


@pilot_test
async def test_escape_mid_request_cancels_and_exits_130(tui_home: Path, tmp_path: Path) -> None:
    """Esc while the model streams closes the overlay at once, cancels the request, and exits 130."""
    backend = StreamingUntilCancelled()
    app = make_overlay(backend, tmp_path, initial_request="tell me a long story")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: backend.pieces_sent > 3)
        control = app.control
        await pilot.press("escape")
        await pilot.pause()
        assert not app.is_running
    assert control is not None and control.cancel.is_set()
    assert app.return_value == 130


@pilot_test
async def test_model_error_shows_notice_and_exits_2(tui_home: Path, tmp_path: Path) -> None:
    """No model: the overlay says why and what to do, and closes with the usage-error status 2."""

    def broken_factory() -> Any:
        raise ModelError("no model found: qwen2.5-coder-0.5b-instruct is not in the cache")

    app = build_overlay(broken_factory, history_path=tmp_path / "history.jsonl", initial_request="hi")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.assistant_failure is not None)
        await settle(pilot)
        notices = "\n".join(str(w.render()) for w in app.query_one(Transcript).children)
        assert "no model found" in notices and "llmos doctor" in notices
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value == 2


@pytest.mark.parametrize("size", [(100, 16), (80, 24)], ids=["100x16", "80x24"])
@pilot_test
async def test_answer_is_visible_under_a_plan_at_the_readme_sizes(size: tuple[int, int], tui_home: Path,
                                                                 tmp_path: Path) -> None:
    """At the README's hotkey size (100x16) and at 80x24, the whole answer under a step card shows on screen (the
    plan takes at most half the rows), with the plan's step and the closing hint."""
    backend = ScriptedBackend([call("files.list", path="~/Downloads"), answer("Downloads holds a few files.")])
    app = make_overlay(backend, tmp_path, initial_request="what is in ~/Downloads?")
    messages: list[Message] = []
    async with app.run_test(size=size, message_hook=messages.append) as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: finished(messages))
        await settle(pilot)
        assert app.last_outcome is not None and app.last_outcome.answer
        answer_words = app.last_outcome.answer.split()
        await wait_until(pilot, lambda: all(word in screen_text(app) for word in answer_words))
        shown = screen_text(app)
    assert "1. files.list" in shown and "Enter or Esc closes" in shown
