"""`llmos repl`: a prompt-toolkit prompt for plain terminals and ssh. Requests run in a worker thread while
this thread renders their events (the answer streamed, one line per step) and answers approvals (y/n/a);
Ctrl+C cancels the running request, Ctrl+D leaves. `/` commands reuse the `llmos` subcommands."""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from llmos.shell.approval import ApprovalReply, ask_approval
from llmos.shell.history import InputHistory
from llmos.shell.render import answer_text, replaced_answer_note, step_line
from llmos.shell.repl_input import (
    SLASH_COMMAND_NAMES,
    SLASH_COMMANDS,
    ReplCompleter,
    SharedHistory,
    request_key_bindings,
    slash_command_of,
)
from prompt_toolkit import PromptSession
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from llmos.assistant import Assistant
from llmos.display import TerminalWriter
from llmos.errors import LlmosError
from llmos.events import AnswerToken, Error, Event, RequestFinished, Step, StepFinished

AssistantFactory = Callable[[str | None, str | None], Assistant]
"""Opens an assistant for (model, policy), None meaning the configured default; may take seconds (a model
load) and raises LlmosError with a one-line message when it cannot."""
DaemonConnector = Callable[[str | None, str | None], Assistant | None]
"""The daemon's assistant for (model, policy) when one serves this setup, else None: tried first, so the REPL
says it is loading the model only when it really loads one."""

PROMPT = "llmos> "
CONTINUATION_PROMPT = "  ...  "
EXIT_CANNOT_START = 2
DEFAULT_LOG_RECORDS = 10
CANCEL_NOTICE_DELAY_S = 0.3
"""How long a cancelled request may take to stop before the REPL says it is still stopping."""
KEYS_HELP = (
    "Enter sends; Alt+Enter (or Esc Enter), or a trailing \\, starts a new line; Tab completes commands and paths;"
    " Up recalls earlier requests; Ctrl+C cancels a running request; Ctrl+D quits."
)


def run_repl(model: str | None, policy: str | None) -> int:
    """`llmos repl`: the REPL on this terminal, with the daemon's or an in-process assistant."""
    from llmos.connect import connect_to_daemon, open_assistant

    def open_for(model: str | None, policy: str | None) -> Assistant:
        return open_assistant(model=model, policy=policy, progress=sys.stderr.isatty(), preload=True,
                              use_daemon=False)

    def daemon_for(model: str | None, policy: str | None) -> Assistant | None:
        if os.environ.get("LLMOS_NO_DAEMON"):
            return None
        return connect_to_daemon(model=model, policy=policy, max_steps=None, dry_run=False)

    return Repl(open_for, model=model, policy=policy, connect_to_daemon=daemon_for).run()


class Repl:
    """The read-run-print loop. `input`/`output` are prompt_toolkit's (tests pass a pipe input and a dummy
    output); `stream` receives answers and step lines, `error_stream` the one-line errors."""

    def __init__(
        self,
        open_assistant: AssistantFactory,
        *,
        model: str | None = None,
        policy: str | None = None,
        input: Input | None = None,
        output: Output | None = None,
        stream: TextIO | None = None,
        error_stream: TextIO | None = None,
        history: InputHistory | None = None,
        connect_to_daemon: DaemonConnector | None = None,
    ) -> None:
        self.open_assistant = open_assistant
        self.connect_to_daemon = connect_to_daemon
        self.model = model
        self.policy = policy
        # Everything the REPL prints (answers, step lines, errors, the approval question, the output of / commands)
        # goes through these writers, which show escape sequences and other controls as text.
        self.stream = TerminalWriter(stream or sys.stdout).as_text_stream()
        self.error_stream = TerminalWriter(error_stream or sys.stderr).as_text_stream()
        self.assistant: Assistant | None = None
        self.prompt_session: PromptSession[str] = PromptSession(
            history=SharedHistory(history or InputHistory()),
            completer=ReplCompleter(),
            key_bindings=request_key_bindings(),
            multiline=True,
            prompt_continuation=CONTINUATION_PROMPT,
            input=input,
            output=output,
        )
        self._running_request: _RunningRequest | None = None

    def run(self) -> int:
        """Load the model once, then read requests until Ctrl+D or /quit. 0 on a normal exit; 2 when the
        assistant cannot be opened."""
        try:
            self.assistant = self._open(self.model, self.policy, f"llmos: loading {self.model or 'the model'}...")
        except LlmosError as exc:
            self._error(str(exc))
            return EXIT_CANNOT_START
        self._say(f"llmos repl: {self.assistant.model_name} ({self.assistant.where}). /help lists commands; "
                  "Ctrl+D quits.")
        try:
            while True:
                try:
                    line = self.prompt_session.prompt(PROMPT)
                except KeyboardInterrupt:
                    continue  # at the prompt, Ctrl+C only clears the line
                except EOFError:
                    return 0
                if not self.handle_line(line):
                    return 0
        finally:
            self.assistant.close()

    def handle_line(self, line: str) -> bool:
        """Run one input line, a `/` command or a request; False when the REPL should end."""
        if not line.strip():
            return True
        command = slash_command_of(line)
        if command is None:
            self.run_request(line.strip())
            return True
        return self.run_command(*command)

    def cancel(self) -> None:
        """Cancel the running request, if any (safe from any thread or a signal handler): generation stops at
        the next token and no further step starts."""
        running = self._running_request
        if running is not None:
            running.cancel.set()

    # -- requests ---------------------------------------------------------------------------------------------

    def run_request(self, request: str) -> int:
        """Run `request` in a worker thread, rendering its events here as they arrive; its exit code."""
        assert self.assistant is not None
        running = _RunningRequest(request)
        self._running_request = running
        worker = threading.Thread(target=running.work, args=(self.assistant,), name="llmos-request", daemon=True)
        view = _RequestView(self.stream, self.error_stream)
        cancel_reported = False
        try:
            with _ctrl_c_cancels(running.cancel):
                worker.start()
                while True:
                    try:
                        item = running.inbox.get(timeout=CANCEL_NOTICE_DELAY_S)
                    except queue.Empty:
                        # Cancelled but still busy (a step finishing): say so, once.
                        if running.cancel.is_set() and not cancel_reported:
                            view.end_line()
                            self._error("cancelling... (a step already running finishes first)")
                            cancel_reported = True
                        continue
                    if isinstance(item, _WorkerDone):
                        break
                    if isinstance(item, _PendingApproval):
                        view.end_line()
                        self._answer_approval(running, item)
                    else:
                        view.show(item)
        finally:
            self._running_request = None
        worker.join()
        return view.exit_code

    def _answer_approval(self, running: _RunningRequest, pending: _PendingApproval) -> None:
        if running.approves_all:
            pending.answer(True)
            return
        approved = False
        try:
            reply = ask_approval(
                pending.step,
                offer_all=True,
                stream=self.stream,
                input=self.prompt_session.input,
                output=self.prompt_session.output,
            )
            if reply is ApprovalReply.CANCEL:
                running.cancel.set()
            running.approves_all = reply is ApprovalReply.ALL
            approved = reply in (ApprovalReply.YES, ApprovalReply.ALL)
        finally:
            pending.answer(approved)

    # -- / commands -------------------------------------------------------------------------------------------

    def run_command(self, name: str, argument_text: str) -> bool:
        """Run a `/` command; False for /quit."""
        if name not in SLASH_COMMAND_NAMES:
            self._error(f"no command {name}; /help lists them (a request may not start with /word)")
            return True
        if name == "/quit":
            return False
        if name == "/help":
            self._show_help()
        elif name == "/clear":
            output = self.prompt_session.output
            output.erase_screen()
            output.cursor_goto(0, 0)
            output.flush()
        elif name == "/undo":
            from llmos.commands import undo

            self._run_subcommand(undo.run, argparse.Namespace(list=False, id=argument_text or None, json=False, n=0))
        elif name == "/log":
            self._show_log(argument_text)
        elif name == "/policy":
            self._policy(argument_text)
        elif name == "/model":
            self._model(argument_text)
        return True

    def _show_help(self) -> None:
        width = max(len(f"{command.name} {command.arguments}") for command in SLASH_COMMANDS)
        for command in SLASH_COMMANDS:
            self._say(f"  {f'{command.name} {command.arguments}'.ljust(width)}  {command.summary}")
        self._say(KEYS_HELP)

    def _show_log(self, argument_text: str) -> None:
        from llmos.commands import log

        try:
            record_count = int(argument_text) if argument_text else DEFAULT_LOG_RECORDS
        except ValueError:
            self._error("usage: /log [N]  (N: how many records, e.g. /log 20)")
            return
        self._run_subcommand(log.run, argparse.Namespace(verify=False, json=False, n=record_count))

    def _policy(self, argument_text: str) -> None:
        if argument_text:
            self._reopen(self.model, argument_text)
            return
        from llmos.commands import policy

        show_options = argparse.Namespace(policy_command="show", profile=self.policy, json=False, protected=False)
        self._run_subcommand(policy.run, show_options)

    def _model(self, argument_text: str) -> None:
        if argument_text:
            self._reopen(argument_text, self.policy)
            return
        assert self.assistant is not None
        self._say(f"model: {self.assistant.model_name} ({self.assistant.where}); /model NAME loads another")

    def _reopen(self, model: str | None, policy: str | None) -> None:
        """Switch model or policy: the new assistant is opened before the old one is closed, so a name that
        does not load leaves the REPL as it was."""
        try:
            reopened = self._open(model, policy, f"llmos: loading {model or 'the model'} with policy "
                                  f"{policy or 'default'}...")
        except LlmosError as exc:
            self._error(f"{exc} (still using the previous setup)")
            return
        assert self.assistant is not None
        self.assistant.close()
        self.assistant, self.model, self.policy = reopened, model, policy
        self._say(f"now using {reopened.model_name} with policy {policy or 'default'}")

    def _open(self, model: str | None, policy: str | None, loading_line: str) -> Assistant:
        """The daemon's assistant when one serves, else one loaded here, announced with `loading_line` first
        (a load takes seconds; a daemon's model is already loaded)."""
        served = self.connect_to_daemon(model, policy) if self.connect_to_daemon is not None else None
        if served is not None:
            return served
        self._say(loading_line)
        return self.open_assistant(model, policy)

    def _run_subcommand(self, handler: Callable[[argparse.Namespace], int], options: argparse.Namespace) -> None:
        """Run an `llmos` subcommand's handler as the command line would, its output on this REPL's streams."""
        with contextlib.redirect_stdout(self.stream), contextlib.redirect_stderr(self.error_stream):
            try:
                handler(options)
            except LlmosError as exc:
                self._error(str(exc))

    def _say(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def _error(self, message: str) -> None:
        self.error_stream.write(f"llmos: {message}\n")
        self.error_stream.flush()


@contextlib.contextmanager
def _ctrl_c_cancels(cancel: threading.Event) -> Iterator[None]:
    """While a request runs, Ctrl+C (SIGINT) sets its cancel event instead of raising KeyboardInterrupt, which
    could land between any two statements of the loop (even before the worker has started). Signal handlers
    belong to the main thread; elsewhere Ctrl+C is not ours to catch."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_handler = signal.signal(signal.SIGINT, lambda signal_number, frame: cancel.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_handler)


# -- the worker and what it hands to the loop -------------------------------------------------------------------


class _WorkerDone:
    """The worker's last item: the request has ended."""


_WORKER_DONE = _WorkerDone()


@dataclass
class _PendingApproval:
    """A step waiting in the worker thread for the person's answer, which the loop gives."""

    step: Step
    approved: bool = False
    answered: threading.Event = field(default_factory=threading.Event)

    def answer(self, approved: bool) -> None:
        self.approved = approved
        self.answered.set()


@dataclass
class _WorkerFailed:
    message: str


@dataclass
class _RunningRequest:
    request: str
    cancel: threading.Event = field(default_factory=threading.Event)
    inbox: queue.Queue[Event | _WorkerFailed | _PendingApproval | _WorkerDone] = field(default_factory=queue.Queue)
    approves_all: bool = False
    """`a` was answered: later steps of this request that policy asks about are approved without asking."""

    def work(self, assistant: Assistant) -> None:
        """The worker thread: run the request, passing every event (and each approval) to the loop."""
        try:
            for event in assistant.run(self.request, None, self.approve, cancel=self.cancel):
                self.inbox.put(event)
        except Exception as exc:  # noqa: BLE001  e.g. the daemon went away: one line, and the REPL goes on
            self.inbox.put(_WorkerFailed(str(exc) or type(exc).__name__))
        finally:
            self.inbox.put(_WORKER_DONE)

    def approve(self, step: Step) -> bool:
        pending = _PendingApproval(step)
        self.inbox.put(pending)
        pending.answered.wait()
        return pending.approved


class _RequestView:
    """Writes one request's events: answer text as it streams, a line per finished step, errors."""

    def __init__(self, stream: TextIO, error_stream: TextIO) -> None:
        self.stream = stream
        self.error_stream = error_stream
        self.answer_streamed = False
        self.mid_line = False
        self.exit_code = 1

    def show(self, event: Event | _WorkerFailed) -> None:
        if isinstance(event, AnswerToken):
            self._write(answer_text(event.text))
            self.answer_streamed = True
        elif isinstance(event, StepFinished):
            self.end_line()
            self._write(step_line(event.step) + "\n")
        elif isinstance(event, Error | _WorkerFailed):
            self.end_line()
            self.error_stream.write(f"llmos: {event.message}\n")
            self.error_stream.flush()
        elif isinstance(event, RequestFinished):
            if event.answer and not self.answer_streamed:
                self._write(answer_text(event.answer))
            self.end_line()
            note = replaced_answer_note(event)
            if note:
                self._write(answer_text(note) + "\n")
            self.exit_code = event.exit_code

    def end_line(self) -> None:
        if self.mid_line:
            self._write("\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
        if text:
            self.mid_line = not text.endswith("\n")
