"""What the TUI and the overlay show of outside text (a model's answer repeating file names, a model's name) is
text: no raw control, C1 or bidi character reaches the screen, and Textual markup in a name renders literally."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fakes import ScriptedBackend, answer
from llmos.shell.tui.app import build_app
from llmos.shell.tui.messages import SessionEventArrived
from llmos.shell.tui.overlay import build_overlay
from llmos.shell.tui.request_input import RequestInput
from llmos.shell.tui.transcript import Transcript
from textual.message import Message
from textual.widgets import Markdown
from tui_support import factory_for, pilot_test, settle, wait_until

from llmos.events import RequestFinished

HOSTILE = ("evil\x1b[31mred clip\x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b]8;;http:evil\x1b\\link\x1b]8;;\x1b\\ "
           "invoice\u202efdp.exe innocent\rEVIL good\b\bbad x\x9b31m")
MARKUP = "[bold red]x[/][@click=app.quit]y[/]"
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def screen_text(app: Any) -> str:
    """Every character the screen would send to the terminal, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def finished(messages: list[Message]) -> bool:
    return any(isinstance(m, SessionEventArrived) and isinstance(m.event, RequestFinished) for m in messages)


@pilot_test
async def test_tui_answer_with_escapes_and_markup_is_shown_as_text(tui_home: Path, tmp_path: Path) -> None:
    """An answer holding escape sequences, bidi overrides, CR, backspaces and Textual markup: the transcript
    holds them as visible escapes, and the rendered screen has no raw control and shows the markup literally."""
    backend = ScriptedBackend([answer(f"{HOSTILE} {MARKUP}")])
    app = build_app(factory_for(backend), history_path=tmp_path / "history.jsonl", sampler=None)
    messages: list[Message] = []
    async with app.run_test(size=(160, 40), message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        request_input = app.query_one(RequestInput)
        request_input.value = f"list {HOSTILE}"
        await pilot.press("enter")
        await wait_until(pilot, lambda: finished(messages))
        await settle(pilot)
        sources = [w.source for w in app.query_one(Transcript).children if isinstance(w, Markdown)]
        answer_widget = app.query_one(Transcript).query_one(Markdown)
        # What the answer's blocks render: the characters that go to the terminal for them.
        shown = "\n".join(str(block.render()) for block in answer_widget.query("*"))
        shown += screen_text(app)
    assert sources and UNSAFE.search("".join(sources)) is None
    assert "evil\\x1b[31mred" in sources[0]
    assert UNSAFE.search(shown) is None
    assert "[bold red]x" in shown and "[@click=app.quit]y" in shown


@pilot_test
async def test_overlay_model_name_is_not_markup(tui_home: Path, tmp_path: Path) -> None:
    """The overlay's border title names the model: markup and escapes in that name show as text."""
    backend = ScriptedBackend([answer("ok")], name=f"[@click=app.quit]m\x1b[31m{MARKUP}")
    app = build_overlay(factory_for(backend), history_path=tmp_path / "history.jsonl", initial_request="hi")
    messages: list[Message] = []
    async with app.run_test(size=(100, 24), message_hook=messages.append) as pilot:
        await pilot.press("enter")
        await wait_until(pilot, lambda: finished(messages))
        await settle(pilot)
        shown = screen_text(app)
    assert UNSAFE.search(shown) is None
    assert "[@click=app.quit]m" in shown
