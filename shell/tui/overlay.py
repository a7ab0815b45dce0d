"""`llmos overlay`: a compact Textual app rendered inline under the shell prompt (not full screen), for a
desktop or shell hotkey. One request line, the plan with approvals, and the answer.

Lifecycle: it takes one request (typed, or given on the command line, which starts typed: Enter sends it, and it
can be edited first). While it runs,
y / n / a or the buttons answer approvals and Ctrl+C cancels the request. When the request ends the answer
stays on screen until Enter or Esc closes the overlay; Esc (and Ctrl+C when nothing runs) also closes it at any
earlier point, cancelling a running request.
The exit status is the request's (DESIGN.md's codes: 0 done, 1 failed, 3 denied or not approved, 130
cancelled), 2 when the model could not be loaded, and 0 when closed before any request.

The plan cards, approval logic, transcript and input are the TUI's own widgets (see `base.py`).
"""

from __future__ import annotations

from pathlib import Path

from llmos.shell.history import InputHistory
from llmos.shell.tui.base import AssistantApp, AssistantFactory
from llmos.shell.tui.messages import AssistantFailed, SessionEventArrived
from llmos.shell.tui.plan import PlanPane
from llmos.shell.tui.request_input import RequestInput
from llmos.shell.tui.transcript import Transcript
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.markup import escape as escape_markup
from textual.widgets import Input, Static

from llmos.assistant import Assistant
from llmos.display import escape_for_display
from llmos.events import RequestFinished

EXIT_CANCELLED = 130
HINT_IDLE = "Enter sends · Esc closes"
HINT_RUNNING = "y/n/a answers a step · Ctrl+C cancels · Esc closes"
HINT_DONE = "Enter or Esc closes"
OVERLAY_MAX_ROWS = 24
"""overlay.tcss's Screen max-height: the overlay never takes more rows than this, whatever the terminal's."""
FIXED_ROWS = 4
"""Rows the request line (3) and the hint (1) always take; the plan and the answer share the rest."""
PANE_MAX_ROWS = 12
"""The most rows the plan or the answer takes, on a terminal tall enough for both."""


class OverlayApp(AssistantApp):
    CSS_PATH = ["common.tcss", "overlay.tcss"]
    INLINE_PADDING = 0
    ECHO_REQUESTS = False
    BINDINGS = [
        Binding("escape", "close", "Close", priority=True),
        Binding("ctrl+q", "close", "Close", show=False, priority=True),
        Binding("enter", "finish", "Close", show=False, priority=True),
    ]

    def __init__(
        self, assistant_factory: AssistantFactory, history: InputHistory, *, initial_request: str = ""
    ) -> None:
        super().__init__(assistant_factory, history)
        self.initial_request = initial_request.strip()
        self.exit_code = 0

    def compose(self) -> ComposeResult:
        yield RequestInput(self.history, placeholder="Ask llmos…", id="request")
        yield PlanPane(id="plan")
        yield Transcript(id="transcript")
        yield Static(HINT_IDLE, id="hint", markup=False)

    def on_mount(self) -> None:
        # AssistantApp.on_mount runs too and starts opening the assistant. A request from the command line is
        # typed, not sent: the person reads (or edits) it and presses Enter.
        if self.initial_request:
            self.request_input.value = self.initial_request
            self.request_input.cursor_position = len(self.initial_request)
        self._fit_panes()

    # -- layout ------------------------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._fit_panes()

    async def on_session_event_arrived(self, message: SessionEventArrived) -> None:
        # AssistantApp's handler (which runs after this one) may show the plan or the answer: fit after it.
        self.call_after_refresh(self._fit_panes)

    def _fit_panes(self) -> None:
        """Share the rows between the plan and the answer so that both show on a short terminal (the README's
        100x16 hotkey window): with both on screen the plan gets at most half, the answer the rest. The panes are
        as tall as their content, so an inline overlay clipped to the terminal would otherwise cut off the answer,
        the pane below the plan."""
        rows = max(0, min(self.size.height, OVERLAY_MAX_ROWS) - FIXED_ROWS)
        plan_shown = not self.plan.has_class("empty")
        answer_shown = not self.transcript.has_class("empty")
        plan_rows = min(PANE_MAX_ROWS, rows // 2 if answer_shown else rows) if plan_shown else 0
        self.plan.styles.max_height = max(plan_rows, 1)
        self.transcript.styles.max_height = max(min(PANE_MAX_ROWS, rows - plan_rows), 1)

    @property
    def done(self) -> bool:
        return self.last_outcome is not None or self.assistant_failure is not None

    def _send(self, request: str) -> None:
        if self.submit_request(request):
            self.request_input.remember(request)
            self.request_input.disabled = True
            if self.control is not None:  # started now, not queued behind the model's loading
                self.query_one("#hint", Static).update(HINT_RUNNING)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.control is None and self.queued_request is None and not self.done:
            self._send(event.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "finish":
            # Enter closes only a finished overlay; before that it belongs to the request line (or a button).
            return self.done
        return super().check_action(action, parameters)

    def action_finish(self) -> None:
        self.action_close()

    def assistant_opened(self, assistant: Assistant) -> None:
        # A border title is markup: the model's name (a file name) is escaped for both markup and the terminal.
        self.transcript.border_title = escape_markup(escape_for_display(f"{assistant.model_name} ({assistant.where})"))
        if self.queued_request is not None:
            self.query_one("#hint", Static).update(HINT_RUNNING)

    def on_assistant_failed(self, message: AssistantFailed) -> None:
        # AssistantApp's handler shows the notice; this one only decides how the overlay ends.
        self.exit_code = message.exit_code
        self._settle(HINT_DONE)
        self.call_after_refresh(self._fit_panes)

    def request_finished(self, outcome: RequestFinished) -> None:
        self.exit_code = outcome.exit_code
        self._settle(HINT_DONE)

    def _settle(self, hint: str) -> None:
        self.query_one("#hint", Static).update(hint)
        self.request_input.disabled = True
        self.refresh_bindings()

    def show_loading(self) -> None:
        self.query_one("#hint", Static).update("Loading the model…  Esc closes")

    def nothing_to_cancel(self) -> None:
        self.action_close()

    def action_close(self) -> None:
        if self.control is not None:
            self.stop_request()
            self.exit_code = EXIT_CANCELLED
        self.exit(self.exit_code)


def build_overlay(
    assistant_factory: AssistantFactory, *, history_path: Path | None = None, initial_request: str = ""
) -> OverlayApp:
    return OverlayApp(assistant_factory, InputHistory(history_path), initial_request=initial_request)


def run_overlay(model: str | None, policy: str | None, initial_request: str) -> int:
    """`llmos overlay [QUERY]`: inline under the prompt; returns the request's exit status."""
    from llmos.connect import open_assistant

    def open_real_assistant() -> Assistant:
        return open_assistant(model=model, policy=policy, progress=False, preload=True)

    app = build_overlay(open_real_assistant, initial_request=initial_request)
    try:
        result = app.run(inline=True)
    finally:
        app.stop_request()
        if app.assistant is not None:
            app.assistant.close()
    return result if isinstance(result, int) else app.exit_code
