"""SVG snapshots of the main screens at fixed sizes (pytest-textual-snapshot). Frames are deterministic: a
scripted model, the fixed temp HOME of tests/conftest.py, fixed system samples fed directly (no timer), no clock,
hostname or pid anywhere, the cursor does not blink, and neither the theme nor colour depends on the environment
(TEXTUAL_THEME, NO_COLOR).

Regenerate after an intended change with `pytest tests/tui/test_tui_snapshots.py --snapshot-update` and look
at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.shell.tui.app import LlmosApp, build_app
from llmos.shell.tui.overlay import build_overlay
from llmos.shell.tui.plan import PlanPane
from llmos.shell.tui.request_input import RequestInput
from llmos.shell.tui.system_pane import SystemPane
from textual.pilot import Pilot
from tui_support import factory_for, fixed_samples, settle, wait_until

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
LIST_ANSWER = "Your **Downloads** folder holds 5 files (report.pdf, notes.txt, photo.JPG, setup.sh and a hidden " \
              "token) and one folder, `archive`."
MOVE_REQUEST = "move report.pdf from Downloads into Documents"

PilotStep = Callable[[Pilot[Any]], Awaitable[None]]
SNAPSHOT_THEME = "textual-dark"
"""Textual's default theme comes from TEXTUAL_THEME when it is set, so every app here names its theme."""


@pytest.fixture(autouse=True)
def colour_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NO_COLOR in the environment (some CI machines set it) would make every frame monochrome: Textual reads it
    when an app is built."""
    monkeypatch.delenv("NO_COLOR", raising=False)


def tui(backend: Any, tmp_path: Path) -> LlmosApp:
    app = build_app(factory_for(backend), history_path=tmp_path / "history.jsonl", sampler=None)
    app.theme = SNAPSHOT_THEME
    return app


async def steady(pilot: Pilot[Any]) -> None:
    """Model loaded, system pane fed its fixed history, cursor steady."""
    app = pilot.app
    await wait_until(pilot, lambda: app.assistant is not None or app.assistant_failure is not None)
    for pane in app.query(SystemPane).results(SystemPane):
        for sample in fixed_samples():
            pane.add_sample(sample)
    app.query_one(RequestInput).cursor_blink = False
    await until_stable(pilot)


def sending(request: str, *, until: Callable[[Any], bool]) -> PilotStep:
    async def run_before(pilot: Pilot[Any]) -> None:
        await steady(pilot)
        app = pilot.app
        request_input = app.query_one(RequestInput)
        request_input.value = request
        await pilot.press("enter")
        await wait_until(pilot, lambda: until(app))
        if app.control is None:
            await settle(pilot)
        else:
            await pilot.pause(0.2)  # a step waits: let the layout settle around its card
        app.query_one(RequestInput).cursor_blink = False
        await until_stable(pilot)

    return run_before


async def until_stable(pilot: Pilot[Any], attempts: int = 40) -> None:
    """Wait until two frames 0.1 s apart are the same: layout passes (scrollbars appearing after content
    overflows, anchoring) settle a moment after the last message."""
    previous = pilot.app.export_screenshot()
    for _ in range(attempts):
        # A layout pass asked for each time: under load, a scrollbar for content that overflows after a class
        # change (a step asking) was drawn only by a later pass, and two frames could match before it ran.
        pilot.app.screen.refresh(layout=True)
        await pilot.pause(0.1)
        current = pilot.app.export_screenshot()
        if current == previous:
            return
        previous = current
    raise AssertionError("the frame never settled")


def is_idle(app: Any) -> bool:
    return app.control is None and app.last_outcome is not None


def is_asking(app: Any) -> bool:
    return app.query_one(PlanPane).asking_card() is not None


@pytest.mark.parametrize("size", SIZES)
def test_empty_tui(size: tuple[int, int], snap_compare: Any, tui_home: Path, tmp_path: Path) -> None:
    """The TUI at rest: title with model and where it runs, welcome, empty plan, system pane, footer keys."""
    assert snap_compare(tui(ScriptedBackend([]), tmp_path), terminal_size=size, run_before=steady)


@pytest.mark.parametrize("size", SIZES)
def test_answered_request_with_a_step(size: tuple[int, int], snap_compare: Any, tui_home: Path,
                                      tmp_path: Path) -> None:
    """After a request: the request and its Markdown answer, and the allowed step's card with rule and preview."""
    backend = ScriptedBackend([call("files.list", path="~/Downloads"), answer(LIST_ANSWER)])
    run_before = sending("tell me about my Downloads folder", until=is_idle)
    assert snap_compare(tui(backend, tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_approval_pending(size: tuple[int, int], snap_compare: Any, tui_home: Path, tmp_path: Path) -> None:
    """A files.move waiting for approval: its card with decision, rule, preview and the three buttons; y/n/a
    in the footer."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/")])
    run_before = sending(MOVE_REQUEST, until=is_asking)
    app = tui(backend, tmp_path)
    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.stop_request()  # release the worker waiting on the approval


def test_approval_pending_light_theme(snap_compare: Any, tui_home: Path, tmp_path: Path) -> None:
    """The same pending approval in the light theme stays readable (theme variables only)."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/")])
    app = tui(backend, tmp_path)
    app.theme = "textual-light"
    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=sending(MOVE_REQUEST, until=is_asking))
    finally:
        app.stop_request()


def test_approval_pending_at_40_columns(snap_compare: Any, tui_home: Path, tmp_path: Path) -> None:
    """At 40 columns the panes stack, the system pane hides, and while a step waits its card takes the room the
    conversation had, buttons included."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/")])
    app = tui(backend, tmp_path)
    try:
        assert snap_compare(app, terminal_size=(40, 24), run_before=sending(MOVE_REQUEST, until=is_asking))
    finally:
        app.stop_request()


def test_overlay_answered(snap_compare: Any, tui_home: Path, tmp_path: Path) -> None:
    """The overlay after its one request: the request line, the approved step, the answer, the closing hint."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/"),
                               answer("Moved **report.pdf** into Documents.")])
    app = build_overlay(factory_for(backend), history_path=tmp_path / "history.jsonl", initial_request=MOVE_REQUEST)
    app.theme = SNAPSHOT_THEME

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")  # the request from the command line starts typed
        await wait_until(pilot, lambda: is_asking(app))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.last_outcome is not None)
        await settle(pilot)
        app.query_one(RequestInput).cursor_blink = False
        await until_stable(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_overlay_approval_pending(snap_compare: Any, tui_home: Path, tmp_path: Path) -> None:
    """The overlay with a step waiting: the shared step card and buttons, and the running hint."""
    backend = ScriptedBackend([call("files.move", source="~/Downloads/report.pdf", destination="~/Documents/")])
    app = build_overlay(factory_for(backend), history_path=tmp_path / "history.jsonl", initial_request=MOVE_REQUEST)
    app.theme = SNAPSHOT_THEME

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")  # the request from the command line starts typed
        await wait_until(pilot, lambda: is_asking(app))
        await until_stable(pilot)

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
    finally:
        app.stop_request()
