"""`llmos` / `llmos tui`: the full-screen Textual TUI. A conversation pane where answers stream in, a plan pane
with each step's decision and approve / deny / approve-all, a live system pane, and a footer with the keys.

`build_app` is the factory: `run_app` uses it with the real assistant, tests with a scripted one and a fixed
system sampler.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llmos.shell.history import InputHistory
from llmos.shell.sysmon import SampleSource
from llmos.shell.tui.base import AssistantApp, AssistantFactory
from llmos.shell.tui.messages import AssistantFailed, CommandOutput, SystemSampled
from llmos.shell.tui.plan import PlanPane
from llmos.shell.tui.request_input import RequestInput
from llmos.shell.tui.slash import (
    SLASH_COMMANDS,
    approve_output,
    automations_output,
    help_output,
    log_output,
    model_output,
    policy_output,
    undo_output,
)
from llmos.shell.tui.system_pane import SystemPane
from llmos.shell.tui.transcript import Transcript
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Footer, Input, Static

from llmos.assistant import Assistant
from llmos.display import escape_for_display

NARROW_WIDTH = 70
"""Below this many columns the side panes stack under the conversation and the system pane hides."""
SHORT_HEIGHT = 30
"""Below this many rows the process list hides, leaving the plan room for a step card."""
DEFAULT_SAMPLE_SECONDS = 2.0
WELCOME = "Ask for something in plain words, e.g. \"how many files are in ~/Downloads?\". F1 or /help: keys."


class LlmosApp(AssistantApp):
    CSS_PATH = ["common.tcss", "app.tcss"]
    TITLE = "llmos"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+z", "undo", "Undo", priority=True),
        Binding("f1", "help", "Help"),
        # q quits on an empty request line and is a letter once something is typed: the line leaves q to this
        # binding only while empty (RequestInput.keys_free_when_empty), and check_action holds it back otherwise.
        Binding("q", "quit_on_empty_line", "Quit (empty line)", priority=True),
    ]

    def __init__(
        self,
        assistant_factory: AssistantFactory,
        history: InputHistory,
        *,
        sampler: SampleSource | None,
        sample_seconds: float = DEFAULT_SAMPLE_SECONDS,
        policy: str | None = None,
    ) -> None:
        super().__init__(assistant_factory, history)
        self.sampler = sampler
        self.sample_seconds = sample_seconds
        self.policy = policy

    def compose(self) -> ComposeResult:
        yield Static("llmos · loading the model…", id="title", markup=False)
        with Horizontal(id="main"):
            yield Transcript(id="transcript", welcome=WELCOME)
            with Vertical(id="side"):
                yield PlanPane(id="plan")
                yield SystemPane(id="system")
        yield RequestInput(self.history, placeholder="Ask llmos…  (Enter sends, /help lists commands)", id="request",
                           keys_free_when_empty=("q",))
        yield Footer()

    def on_mount(self) -> None:
        # Textual calls AssistantApp.on_mount too (handlers run for each class in the MRO): no super() here.
        self.transcript.border_title = "Conversation"
        self._fit_layout(self.size.width, self.size.height)
        if self.sampler is not None:
            self.sample_system()
            if self.sample_seconds > 0:
                self.set_interval(self.sample_seconds, self.sample_system)

    # -- layout ------------------------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._fit_layout(event.size.width, event.size.height)

    def _fit_layout(self, width: int, height: int) -> None:
        self.screen.set_class(width < NARROW_WIDTH, "narrow")
        self.screen.set_class(height < SHORT_HEIGHT, "short")

    # -- the system pane ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="sysmon")
    def sample_system(self) -> None:
        assert self.sampler is not None
        self.post_message(SystemSampled(self.sampler()))

    def on_system_sampled(self, message: SystemSampled) -> None:
        # A sample may land while the app shuts down, after the pane is gone: then there is nothing to update.
        for pane in self.query("#system").results(SystemPane):
            pane.add_sample(message.sample)

    # -- assistant and requests --------------------------------------------------------------------------

    def assistant_opened(self, assistant: Assistant) -> None:
        self.show_activity(self.activity)

    def show_activity(self, activity: str | None) -> None:
        assistant = self.assistant
        title = (f"llmos · {escape_for_display(assistant.model_name)} ({assistant.where})" if assistant
                 else "llmos · loading the model…")
        self.query_one("#title", Static).update(f"{title} · {activity}" if activity else title)

    def on_assistant_failed(self, message: AssistantFailed) -> None:
        self.query_one("#title", Static).update("llmos · no model loaded")

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self.request_input.remember(text)
        if text.startswith("/"):
            await self.run_slash_command(text)
        else:
            self.submit_request(text)

    async def run_slash_command(self, text: str) -> None:
        name = text.split()[0].lower()
        if name == "/undo":
            self.action_undo()
        elif name == "/log":
            self.run_command(log_output)
        elif name == "/policy":
            policy = self.policy
            self.run_command(lambda: policy_output(policy))
        elif name == "/model":
            self.show_output(model_output(self.assistant))
        elif name == "/automations":
            self.run_command(automations_output)
        elif name == "/approve":
            pending_id = text.split()[1] if len(text.split()) > 1 else ""
            self.run_command(lambda: approve_output(pending_id))
        elif name == "/help":
            self.action_help()
        elif name == "/clear":
            await self.action_clear()
        else:
            self.transcript.add_notice(f"unknown command {text.split()[0]}; commands: {', '.join(SLASH_COMMANDS)}",
                                       "error")

    # -- commands ----------------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="command")
    def run_command(self, command: Callable[[], CommandOutput]) -> None:
        self.post_message(command())

    def on_command_output(self, message: CommandOutput) -> None:
        self.show_output(message)
        if message.undone_ids:
            self.plan.mark_undone(message.undone_ids)

    def show_output(self, output: CommandOutput) -> None:
        self.transcript.add_notice("\n".join(output.lines), "error" if output.failed else "output", title=output.title)

    def action_undo(self) -> None:
        if self.control is not None:
            self.notify("Wait for the request to finish (or cancel it with Ctrl+C) before undoing.",
                        severity="warning")
            return
        self.run_command(undo_output)

    def action_help(self) -> None:
        self.show_output(help_output())

    async def action_clear(self) -> None:
        await self.transcript.clear_transcript()
        if self.control is None:
            self.plan.clear_plan()

    async def action_quit(self) -> None:
        self.stop_request()
        self.exit(0)

    # -- q: quit on an empty request line, a letter while typing ---------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit_on_empty_line":
            return not self.request_input.value
        return super().check_action(action, parameters)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.request_input:
            self.refresh_bindings()  # the footer shows q only while the line is empty

    async def action_quit_on_empty_line(self) -> None:
        await self.action_quit()


def build_app(
    assistant_factory: AssistantFactory,
    *,
    history_path: Path | None = None,
    sampler: SampleSource | None = None,
    sample_seconds: float = DEFAULT_SAMPLE_SECONDS,
    policy: str | None = None,
) -> LlmosApp:
    """The TUI with its configuration: how to open the assistant, where history lives, where samples come from."""
    return LlmosApp(
        assistant_factory, InputHistory(history_path), sampler=sampler, sample_seconds=sample_seconds, policy=policy
    )


def run_app(model: str | None, policy: str | None) -> int:
    """`llmos` / `llmos tui`: the real assistant (daemon or in-process) and live system samples."""
    from llmos.shell.sysmon import Sampler

    from llmos.connect import open_assistant

    def open_real_assistant() -> Assistant:
        return open_assistant(model=model, policy=policy, progress=False, preload=True)

    app = build_app(open_real_assistant, sampler=Sampler(), policy=policy)
    try:
        app.run()
    finally:
        app.stop_request()
        if app.assistant is not None:
            app.assistant.close()
    return 0
