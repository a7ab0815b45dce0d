"""What the TUI and the overlay share: opening the assistant off the UI thread, running each request in a thread
worker that only posts messages, rendering the session's events into a `Transcript` and a `PlanPane`, and
answering approvals from keys (y / n / a; Esc denies) and clicks on the buttons, which never take focus.
Ctrl+C cancels the running request.

Threading rule (harlequin's): worker bodies call the assistant and `post_message`, nothing else; the `on_*`
handlers below run on the UI thread and own every change to widgets and to `self.control`.
"""

from __future__ import annotations

from collections.abc import Callable

from llmos.shell.history import InputHistory
from llmos.shell.render import replaced_answer_note
from llmos.shell.tui.approval import ApprovalSlot, Reply, RequestControl, make_approver
from llmos.shell.tui.messages import (
    ApprovalRequested,
    AssistantFailed,
    AssistantReady,
    SessionEventArrived,
)
from llmos.shell.tui.plan import PlanPane, StepCard
from llmos.shell.tui.request_input import RequestInput
from llmos.shell.tui.transcript import Transcript
from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.widgets import Input

from llmos.assistant import Assistant
from llmos.display import escape_for_display
from llmos.errors import LlmosError, ModelError, UsageError
from llmos.events import (
    AnswerToken,
    ApprovalNeeded,
    Error,
    RequestFinished,
    Step,
    StepDecided,
    StepFinished,
    StepPlanned,
)
from llmos.session import CANCELLED_MESSAGE

AssistantFactory = Callable[[], Assistant]
"""Opens the assistant (slow: loads a model); called once, in a thread worker."""

EXIT_NOT_LOADED = 2


def hint_for(error: BaseException) -> str:
    """What a person can do about an assistant that would not open."""
    if isinstance(error, ModelError):
        return ("Check the model: `llmos models list` shows what is installed, `llmos models pull NAME` fetches "
                "one, --model or LLMOS_MODEL picks another; `llmos doctor` shows what works here.")
    if isinstance(error, UsageError):
        return "Check --policy and your config.toml; `llmos policy check` says what is wrong with a profile."
    return "`llmos doctor` shows what works on this machine (model, GPU, sandbox, keyring)."


class AssistantApp(App[int]):
    """Base of the TUI and the overlay. Subclasses compose a `Transcript` (#transcript), a `PlanPane` (#plan)
    and a `RequestInput` (#request), and may override the `assistant_opened`, `request_finished` and
    `nothing_to_cancel` hooks."""

    BINDINGS = [
        Binding("ctrl+c", "cancel_request", "Cancel", priority=True),
        Binding("y", "answer('yes')", "Approve"),
        Binding("n", "answer('no')", "Deny"),
        Binding("escape", "answer('no')", "Deny", show=False),
        Binding("a", "answer('all')", "Approve all"),
    ]

    ECHO_REQUESTS = True
    """Repeat each request in the transcript (the overlay's request line already shows it)."""

    def __init__(self, assistant_factory: AssistantFactory, history: InputHistory) -> None:
        super().__init__()
        self.assistant_factory = assistant_factory
        self.history = history
        self.assistant: Assistant | None = None
        self.assistant_failure: AssistantFailed | None = None
        self.control: RequestControl | None = None
        """The running request; None when idle. Only UI-thread handlers change it."""
        self.queued_request: str | None = None
        """A request sent while the model was still loading; it runs once the model is ready."""
        self.last_outcome: RequestFinished | None = None

    # -- widgets the subclasses compose ------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        return self.query_one("#transcript", Transcript)

    @property
    def plan(self) -> PlanPane:
        return self.query_one("#plan", PlanPane)

    @property
    def request_input(self) -> RequestInput:
        return self.query_one("#request", RequestInput)

    # -- opening the assistant ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.request_input.focus()
        self.open_assistant()

    @work(thread=True, exclusive=True, exit_on_error=False, group="assistant")
    def open_assistant(self) -> None:
        try:
            assistant = self.assistant_factory()
        except LlmosError as exc:
            self.post_message(AssistantFailed(str(exc), hint_for(exc), exc.exit_code))
        except Exception as exc:  # noqa: BLE001  shown as a notice: the person gets a line, not a traceback
            self.post_message(AssistantFailed(f"{type(exc).__name__}: {exc}", hint_for(exc), EXIT_NOT_LOADED))
        else:
            self.post_message(AssistantReady(assistant))

    def on_assistant_ready(self, message: AssistantReady) -> None:
        self.assistant = message.assistant
        self.assistant_opened(message.assistant)
        if self.queued_request is not None:
            request, self.queued_request = self.queued_request, None
            self.submit_request(request)

    def on_assistant_failed(self, message: AssistantFailed) -> None:
        self.assistant_failure = message
        self.queued_request = None
        self.transcript.add_notice(f"The model could not be loaded: {message.message}\n{message.hint}", "error")
        # A model's path or name is in the message: plain text, never markup.
        self.notify(escape_for_display(message.message), title="llmos could not start", severity="error",
                    timeout=10, markup=False)

    def assistant_opened(self, assistant: Assistant) -> None:
        """Hook: the assistant is ready."""

    # -- running a request -------------------------------------------------------------------------------

    def submit_request(self, request: str) -> bool:
        """Start `request`, or queue it while the model loads; False when it cannot run now."""
        request = request.strip()
        if not request:
            return False
        if self.control is not None:
            self.notify("A request is running: wait for it, or press Ctrl+C to cancel it.", severity="warning")
            return False
        if self.assistant is None:
            if self.assistant_failure is not None:
                failure = self.assistant_failure
                self.transcript.add_notice(f"No model is loaded: {failure.message}\n{failure.hint}", "error")
                return False
            self.queued_request = request
            self.show_loading()
            return True
        self.control = RequestControl(request)
        if self.ECHO_REQUESTS:
            self.transcript.add_request(request)
        self.plan.clear_plan("Planning…")
        self.state_changed()
        self.run_request(self.assistant, self.control)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="request")
    def run_request(self, assistant: Assistant, control: RequestControl) -> None:
        def ask(step: Step, slot: ApprovalSlot) -> None:
            self.post_message(ApprovalRequested(step, slot))

        approver = make_approver(control, ask)
        finished = False
        failure = "the assistant stopped without finishing the request"
        try:
            for event in assistant.run(control.request, approver=approver, cancel=control.cancel):
                finished = finished or isinstance(event, RequestFinished)
                self.post_message(SessionEventArrived(event))
        except Exception as exc:  # noqa: BLE001  e.g. the daemon went away: end the request readably
            failure = str(exc) if isinstance(exc, LlmosError) else f"the request failed: {type(exc).__name__}: {exc}"
        if not finished:
            # The UI waits for a RequestFinished to become idle again, so one always comes.
            self.post_message(SessionEventArrived(Error(failure)))
            self.post_message(SessionEventArrived(RequestFinished(
                request=control.request, ok=False, answer=None, steps=[], model=assistant.model_name,
                error=failure, cancelled=control.cancel.is_set(),
            )))

    async def on_session_event_arrived(self, message: SessionEventArrived) -> None:
        event = message.event
        if isinstance(event, (StepPlanned, StepDecided, ApprovalNeeded, StepFinished)):
            await self.plan.show_step(event.step)
        elif isinstance(event, AnswerToken):
            await self.transcript.append_answer(event.text)
        elif isinstance(event, Error):
            if event.message != CANCELLED_MESSAGE:
                self.transcript.add_notice(event.message, "error")
        elif isinstance(event, RequestFinished):
            await self._finish(event)

    async def _finish(self, outcome: RequestFinished) -> None:
        await self.transcript.end_answer(outcome.answer)
        note = replaced_answer_note(outcome)
        if note:
            self.transcript.add_notice(note, "info")
        await self.plan.finish(outcome.steps, answered=outcome.answer is not None)
        if outcome.cancelled:
            self.transcript.add_notice("Cancelled.", "info")
        self.control = None
        self.last_outcome = outcome
        self.state_changed()
        if not isinstance(self.focused, Input):
            self.request_input.focus()
        self.request_finished(outcome)

    def state_changed(self) -> None:
        """A request started or ended, or an approval is asked or answered: the keys on offer change, and
        subclasses may show what is going on."""
        self.refresh_bindings()
        self.show_activity(self.activity)

    @property
    def activity(self) -> str | None:
        """What the app waits on, in words; None when idle."""
        if self.control is None:
            return None
        if self.control.cancel.is_set():
            return "cancelling…"
        return "waiting for your approval" if self.control.pending is not None else "working…"

    def show_activity(self, activity: str | None) -> None:
        """Hook: show `activity` (None: idle)."""

    def request_finished(self, outcome: RequestFinished) -> None:
        """Hook: a request ended (answered, failed or cancelled)."""

    def show_loading(self) -> None:
        """Hook: a request waits for the model to load."""
        self.transcript.add_notice("Loading the model… the request runs when it is ready.", "info")

    # -- approvals ---------------------------------------------------------------------------------------

    async def on_approval_requested(self, message: ApprovalRequested) -> None:
        control = self.control
        if control is None or control.cancel.is_set():
            message.slot.answer("no")
            return
        control.pending = message.slot
        card = await self.plan.show_step(message.step)
        self.screen.add_class("asking")  # stylesheets may give the plan more room while a step waits
        card.ask()
        # Focus goes to the plan, a neutral place: y / n / a / Esc reach the app's bindings there (the request
        # line would take them as typing), arrows scroll the card, and Enter or space answer nothing.
        self.plan.focus(scroll_visible=False)
        self.state_changed()
        # After the layout change (the card grew its buttons, the side column may have widened).
        self.call_after_refresh(self.plan.reveal, card)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer":
            # y / n / a mean something only while a step waits; otherwise the keys are free (and hidden).
            return self.control is not None and self.control.pending is not None
        return True

    def action_answer(self, reply: Reply) -> None:
        card = self.plan.asking_card()
        if card is not None:
            self.answer_approval(card, reply)

    @on(StepCard.Answered)
    def on_card_answered(self, message: StepCard.Answered) -> None:
        self.answer_approval(message.card, message.reply)

    def answer_approval(self, card: StepCard, reply: Reply) -> None:
        if self.control is not None and self.control.pending is not None:
            self.control.pending.answer(reply)
            self.control.pending = None
        card.settle(reply)
        self.screen.remove_class("asking")
        self.state_changed()
        self.request_input.focus()

    # -- cancelling and quitting -------------------------------------------------------------------------

    def action_cancel_request(self) -> None:
        if self.control is None:
            self.nothing_to_cancel()
            return
        self.control.cancel_request()
        card = self.plan.asking_card()
        if card is not None:
            card.settle("no")
        self.screen.remove_class("asking")
        self.control.pending = None
        self.state_changed()
        self.notify("Cancelling the request…", timeout=3)

    def nothing_to_cancel(self) -> None:
        """Hook: Ctrl+C with no request running."""
        self.notify("Nothing to cancel. Ctrl+Q quits.", timeout=3)

    def on_unmount(self) -> None:
        # App.run's event loop joins worker threads when it ends: a worker waiting on an approval or generating
        # must be released first, or quitting would hang.
        self.stop_request()

    def stop_request(self) -> None:
        """Before exiting: a running request is cancelled so its worker thread ends promptly."""
        if self.control is not None:
            self.control.cancel_request()
