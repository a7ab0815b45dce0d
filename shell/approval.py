"""The approval prompt on a terminal, shared by `llmos-ask` and the REPL: what the step would do (tool, rule,
reason, preview), then a one-key answer. Only `y` (or `a`, where offered) approves: Enter, `n`, Esc and Ctrl+D
decline, Ctrl+C cancels the request, every other key does nothing. Keys typed before the question was shown are
dropped, so none of them can answer it. Imports prompt_toolkit, so headless code imports this module lazily."""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import termios
from collections.abc import Callable
from typing import TextIO

from llmos.shell.render import approval_lines
from prompt_toolkit import PromptSession
from prompt_toolkit.input import Input, create_input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import Output, create_output

from llmos.display import raw_stream
from llmos.events import Step


class ApprovalReply(enum.Enum):
    YES = "y"
    NO = "n"
    ALL = "a"
    """Approve this step and every later step of the same request that policy asks about (never a deny)."""
    CANCEL = "cancel"
    """Ctrl+C: decline, and stop the whole request."""


def ask_approval(
    step: Step,
    *,
    offer_all: bool,
    stream: TextIO,
    input: Input | None = None,
    output: Output | None = None,
) -> ApprovalReply:
    """Write the step's approval lines to `stream`, then read one key from `input` (default: the terminal)."""
    stream.write("\n".join(approval_lines(step)) + "\n")
    stream.flush()
    session = _reply_session(offer_all, input, output)
    _drop_typed_ahead_keys(session.input)
    try:
        reply = session.prompt()
    except KeyboardInterrupt:
        return ApprovalReply.CANCEL
    except EOFError:
        return ApprovalReply.NO
    # prompt_toolkit's own bindings (Alt+Enter accepts the line) can end the prompt with text, not a reply:
    # anything that is not one of ours declines.
    return reply if isinstance(reply, ApprovalReply) else ApprovalReply.NO


def _drop_typed_ahead_keys(input: Input) -> None:
    """Discard what the terminal holds unread: keys typed while the request was running (a `y` meant for an
    earlier question, Enter for the next request) must not answer a question the person has not seen yet. A
    pipe (tests, scripts) is left alone."""
    with contextlib.suppress(AttributeError, ValueError, OSError, NotImplementedError):
        descriptor = input.fileno()
        if os.isatty(descriptor):
            termios.tcflush(descriptor, termios.TCIFLUSH)


def _reply_session(offer_all: bool, input: Input | None, output: Output | None) -> PromptSession[ApprovalReply]:
    """A prompt that takes exactly one meaningful key, as prompt_toolkit's own `confirm` does."""
    choices = "[y/N/a]  (a: yes to all steps of this request)" if offer_all else "[y/N]"
    bindings = KeyBindings()

    def answer_with(reply: ApprovalReply, echoed: str) -> Callable[[KeyPressEvent], None]:
        def handler(event: KeyPressEvent) -> None:
            # Shown after the question, so the scrollback records what was answered.
            session.default_buffer.text = echoed
            event.app.exit(result=reply)

        return handler

    for key in ("y", "Y"):
        bindings.add(key)(answer_with(ApprovalReply.YES, "y"))
    for key in ("n", "N", "enter"):
        bindings.add(key)(answer_with(ApprovalReply.NO, "n"))
    # Eager: Esc declines at once instead of waiting to see whether it starts Alt+Enter (which would accept).
    bindings.add("escape", eager=True)(answer_with(ApprovalReply.NO, "n"))
    if offer_all:
        for key in ("a", "A"):
            bindings.add(key)(answer_with(ApprovalReply.ALL, "a"))

    @bindings.add(Keys.Any)
    def _ignore_other_keys(event: KeyPressEvent) -> None:
        """Any other key does nothing: a stray keypress must neither approve nor decline."""

    session: PromptSession[ApprovalReply] = PromptSession(
        f"Allow? {choices} ", key_bindings=bindings, input=input, output=output
    )
    return session


def terminal_io(stream: TextIO) -> tuple[Input, Output]:
    """The terminal that `llmos-ask` prompts on: keys from stdin, the prompt drawn on `stream` (stderr), so a
    redirected stdout holds only the answer. Tests replace this with a pipe input and a dummy output."""
    # prompt_toolkit draws with escape sequences of its own: it writes below the terminal writer, if any.
    return create_input(sys.stdin), create_output(stdout=raw_stream(stream))


class TerminalApprover:
    """`llmos-ask`'s approver on a terminal (one object per request): asks for each step until `a` is
    answered, then approves the rest of the request. Ctrl+C raises KeyboardInterrupt, as it does anywhere in
    `llmos-ask`, so the request stops with exit 130."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.approves_all = False

    def __call__(self, step: Step) -> bool:
        if self.approves_all:
            return True
        input, output = terminal_io(self.stream)
        reply = ask_approval(step, offer_all=True, stream=self.stream, input=input, output=output)
        if reply is ApprovalReply.CANCEL:
            raise KeyboardInterrupt
        self.approves_all = reply is ApprovalReply.ALL
        return reply in (ApprovalReply.YES, ApprovalReply.ALL)
