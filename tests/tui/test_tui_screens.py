"""The screens the README shows, rendered from the real TUI and overlay at the sizes people use (80x24, a
hotkey overlay at 100x16, a large terminal at 160x45), each checked for what a person must see there: the
request, the step and its verdict, the answer, the keys. `make screens` also writes them to docs/screens/ as SVG
(`LLMOS_WRITE_SCREENS=DIR`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.shell.tui.app import build_app
from llmos.shell.tui.overlay import build_overlay
from llmos.shell.tui.plan import PlanPane
from llmos.shell.tui.request_input import RequestInput
from tui_support import factory_for, pilot_test, screen_text, settle, wait_until

SCREEN_SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((100, 16), id="100x16"),
                pytest.param((160, 45), id="160x45")]
REQUEST = "tell me about my Downloads folder"
ANSWER = "Your Downloads folder holds 4 files and one folder, archive."
MOVE_REQUEST = "move report.pdf from Downloads into Documents"
THEME = "textual-dark"


@pytest.fixture(autouse=True)
def colour_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


def keep(app: Any, name: str) -> None:
    folder = os.environ.get("LLMOS_WRITE_SCREENS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=f"{name}.svg", path=folder)


async def send(pilot: Any, text: str) -> None:
    request_input = pilot.app.query_one(RequestInput)
    request_input.focus()
    request_input.value = text
    await pilot.press("enter")


@pytest.mark.parametrize("size", SCREEN_SIZES)
@pilot_test
async def test_the_tui_after_an_answered_request(size: tuple[int, int], tui_home: Path, tmp_path: Path) -> None:
    """The TUI after a request: the request, its allowed step, the answer and the quit key are on screen."""
    backend = ScriptedBackend([call("files.list", path="~/Downloads"), answer(ANSWER)])
    app = build_app(factory_for(backend), history_path=tmp_path / "history.jsonl", sampler=None)
    app.theme = THEME
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, REQUEST)
        await wait_until(pilot, lambda: app.control is None and app.last_outcome is not None)
        await settle(pilot)
        text = screen_text(app)
        keep(app, f"tui-answered-{size[0]}x{size[1]}")
    assert "files.list" in text and "tell me about my Downloads folder" in text
    assert "holds 4 files" in text and "archive." in text  # the answer, wrapped to the pane


SEEN_WHILE_ASKING = ("~/Downloads/report.pdf", "~/Documents/report.pdf", "Approve", "Deny")
"""What the move touches, and the approve/deny keys."""


@pytest.mark.parametrize("size", SCREEN_SIZES)
@pilot_test
async def test_the_tui_asking_for_approval(size: tuple[int, int], tui_home: Path, tmp_path: Path) -> None:
    """A move waiting for approval: the card with its preview and the approve/deny keys are on screen."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/")])
    app = build_app(factory_for(backend), history_path=tmp_path / "history.jsonl", sampler=None)
    app.theme = THEME
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.assistant is not None)
        await send(pilot, MOVE_REQUEST)
        await wait_until(pilot, lambda: app.query_one(PlanPane).asking_card() is not None)
        # The card lays out its preview and keys over later refreshes (later still on a loaded machine): wait
        # for what a person must see, then keep that frame.
        await wait_until(pilot, lambda: all(part in screen_text(app) for part in SEEN_WHILE_ASKING))
        text = screen_text(app)
        keep(app, f"tui-approval-{size[0]}x{size[1]}")
    app.stop_request()  # release the worker waiting on the approval
    assert all(part in text for part in SEEN_WHILE_ASKING)


@pytest.mark.parametrize("size", SCREEN_SIZES)
@pilot_test
async def test_the_overlay_after_an_answered_request(size: tuple[int, int], tui_home: Path, tmp_path: Path) -> None:
    """The hotkey overlay: the request, its step and the whole answer are visible, at 100x16 too."""
    backend = ScriptedBackend([call("files.list", path="~/Downloads"), answer(ANSWER)])
    app = build_overlay(factory_for(backend), history_path=tmp_path / "history.jsonl")
    app.theme = THEME
    async with app.run_test(size=size) as pilot:
        await send(pilot, REQUEST)
        await wait_until(pilot, lambda: app.last_outcome is not None)
        await settle(pilot)
        text = screen_text(app)
        keep(app, f"overlay-answered-{size[0]}x{size[1]}")
    assert "files.list" in text
    assert "holds 4 files" in text and "archive." in text  # the answer, wrapped to the box
