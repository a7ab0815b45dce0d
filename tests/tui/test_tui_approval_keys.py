"""Which keys and clicks may answer a waiting step in the TUI and the overlay. Only `y`, `a` or a click on a
button approves; `n` and Esc deny. Enter, space, Tab then Enter, Ctrl+M, a click elsewhere, or Enter in the
request line must leave the step waiting: no approval control may hold focus where a key would press it.

Each case waits on a delete of ~/Downloads/report.pdf (policy asks before a delete): the file still being there
is the proof that nothing was approved."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.shell.tui.app import build_app
from llmos.shell.tui.base import AssistantApp
from llmos.shell.tui.messages import SessionEventArrived
from llmos.shell.tui.overlay import build_overlay
from llmos.shell.tui.plan import PlanPane
from llmos.shell.tui.request_input import RequestInput
from textual.message import Message
from textual.widgets import Button
from tui_support import factory_for, pilot_test, settle, wait_until

from llmos.events import RequestFinished

DELETE_REQUEST = "delete report.pdf in Downloads"

# Each: keys pressed (and what is clicked first, if anything) while the delete waits.
STRAY_INPUTS: dict[str, tuple[str | None, Sequence[str]]] = {
    "enter": (None, ["enter"]),
    "space": (None, ["space"]),
    "ctrl+m": (None, ["ctrl+m"]),
    "ctrl+j": (None, ["ctrl+j"]),
    "tab-enter": (None, ["tab", "enter"]),
    "tab-space": (None, ["tab", "space"]),
    "tab-tab-enter": (None, ["tab", "tab", "enter"]),
    "shift+tab-enter": (None, ["shift+tab", "enter"]),
    "click-plan-then-enter": ("#plan", ["enter", "space"]),
    "click-card-text-then-enter": (".step-args", ["enter", "space"]),
    "click-transcript-then-enter": ("#transcript", ["enter", "space"]),
}


def delete_backend() -> ScriptedBackend:
    return ScriptedBackend([call("files.delete", path="~/Downloads/report.pdf"), answer("Done.")])


def make(kind: str, tmp_path: Path) -> AssistantApp:
    history_path = tmp_path / "history.jsonl"
    if kind == "tui":
        return build_app(factory_for(delete_backend()), history_path=history_path, sampler=None)
    return build_overlay(factory_for(delete_backend()), history_path=history_path)


def outcome_of(messages: list[Message]) -> RequestFinished | None:
    return next((m.event for m in messages
                 if isinstance(m, SessionEventArrived) and isinstance(m.event, RequestFinished)), None)


async def ask_for_delete(pilot: Any, app: AssistantApp) -> None:
    await wait_until(pilot, lambda: app.assistant is not None)
    request_input = app.query_one(RequestInput)
    request_input.focus()
    request_input.value = DELETE_REQUEST
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.query_one(PlanPane).asking_card() is not None)
    await pilot.pause()


async def let_it_run(pilot: Any) -> None:
    """Give a wrongly approved step time to run, so that a test would see it."""
    for _ in range(5):
        await pilot.pause(0.05)


def still_waiting(app: AssistantApp) -> bool:
    return app.control is not None and app.control.pending is not None and not app.control.pending.answered


async def deny_and_finish(pilot: Any, app: AssistantApp, messages: list[Message]) -> RequestFinished:
    """Deny with the card's button (focus may be in the request line, where `n` is typing) and wait for the end."""
    assert await pilot.click("#deny")
    await wait_until(pilot, lambda: outcome_of(messages) is not None)
    await settle(pilot)
    outcome = outcome_of(messages)
    assert outcome is not None
    return outcome


@pytest.mark.parametrize("kind", ["tui", "overlay"])
@pytest.mark.parametrize("stray", list(STRAY_INPUTS), ids=list(STRAY_INPUTS))
@pilot_test
async def test_stray_keys_and_clicks_never_approve_a_delete(kind: str, stray: str, tui_home: Path,
                                                            tmp_path: Path) -> None:
    """Enter, space, Tab/Shift+Tab then Enter, Ctrl+M/Ctrl+J and clicks off the buttons leave the delete
    waiting (the file stays); Deny then ends it."""
    clicked, keys = STRAY_INPUTS[stray]
    app = make(kind, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_delete(pilot, app)
        if clicked is not None:
            await pilot.click(clicked)
        await pilot.press(*keys)
        await let_it_run(pilot)
        assert (tui_home / "Downloads/report.pdf").exists()
        assert still_waiting(app), "a stray key or click answered the approval"
        outcome = await deny_and_finish(pilot, app, messages)
    assert (tui_home / "Downloads/report.pdf").exists()
    assert outcome.steps[0].approved is False and outcome.exit_code == 3


@pytest.mark.parametrize("kind", ["tui", "overlay"])
@pilot_test
async def test_no_approval_button_can_take_focus(kind: str, tui_home: Path, tmp_path: Path) -> None:
    """The cause, not one key: no approval button is focusable, so even focusing one by hand and pressing
    Enter or space approves nothing; the focused widget while asking is not a button."""
    app = make(kind, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_delete(pilot, app)
        buttons = list(app.query(Button).results(Button))
        assert buttons and not any(button.focusable for button in buttons)
        assert not isinstance(app.focused, Button)
        for button in buttons:
            button.focus()
            await pilot.press("enter", "space")
        await let_it_run(pilot)
        assert still_waiting(app) and (tui_home / "Downloads/report.pdf").exists()
        await deny_and_finish(pilot, app, messages)
    assert (tui_home / "Downloads/report.pdf").exists()


@pytest.mark.parametrize("typed", ["", "y", "yes"])
@pilot_test
async def test_enter_in_the_request_line_does_not_approve(typed: str, tui_home: Path, tmp_path: Path) -> None:
    """With a delete waiting, Enter in the TUI's request line (empty, or holding `y`) sends nothing that
    approves: the step keeps waiting."""
    app = make("tui", tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_delete(pilot, app)
        request_input = app.query_one(RequestInput)
        request_input.focus()
        request_input.value = typed
        await pilot.press("enter")
        await let_it_run(pilot)
        assert still_waiting(app) and (tui_home / "Downloads/report.pdf").exists()
        await deny_and_finish(pilot, app, messages)
    assert (tui_home / "Downloads/report.pdf").exists()


@pytest.mark.parametrize("kind", ["tui", "overlay"])
@pilot_test
async def test_y_approves_the_delete(kind: str, tui_home: Path, tmp_path: Path) -> None:
    """`y` is an approval: the delete runs (the file leaves Downloads for the undo journal)."""
    app = make(kind, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_delete(pilot, app)
        await pilot.press("y")
        await wait_until(pilot, lambda: outcome_of(messages) is not None)
        await settle(pilot)
    outcome = outcome_of(messages)
    assert outcome is not None and outcome.steps[0].approved is True and outcome.steps[0].status == "ok"
    assert not (tui_home / "Downloads/report.pdf").exists()


@pytest.mark.parametrize("kind", ["tui", "overlay"])
@pytest.mark.parametrize("key", ["n", "escape"])
@pilot_test
async def test_n_and_escape_deny_the_delete(kind: str, key: str, tui_home: Path, tmp_path: Path) -> None:
    """`n` and Esc deny (the overlay's Esc also closes it, cancelling the request): the file stays."""
    app = make(kind, tmp_path)
    messages: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await ask_for_delete(pilot, app)
        control = app.control
        assert control is not None and control.pending is not None
        slot = control.pending
        await pilot.press(key)
        await let_it_run(pilot)
        assert slot.answered and slot.reply == "no"
        if app.is_running:
            await wait_until(pilot, lambda: outcome_of(messages) is not None)
            await settle(pilot)
    assert (tui_home / "Downloads/report.pdf").exists()
