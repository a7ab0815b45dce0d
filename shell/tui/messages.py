"""App-wide messages: what thread workers post to the UI. Workers never touch widgets; the handlers of these
messages own every UI state change."""

from __future__ import annotations

from dataclasses import dataclass

from llmos.shell.sysmon import SystemSample
from llmos.shell.tui.approval import ApprovalSlot
from textual.message import Message

from llmos.assistant import Assistant
from llmos.events import Event, Step


@dataclass
class AssistantReady(Message):
    """The model (in-process or the daemon's) is loaded and can take requests."""

    assistant: Assistant


@dataclass
class AssistantFailed(Message):
    """The assistant could not be opened; `message` is one readable line, `hint` says what to do."""

    message: str
    hint: str
    exit_code: int
    """What `llmos overlay` exits with when it closes after this failure."""


@dataclass
class SessionEventArrived(Message):
    """One event of the running request, in the order the session yielded it."""

    event: Event


@dataclass
class ApprovalRequested(Message):
    """A step needs the person's answer; the worker waits on `slot` until a handler fills it."""

    step: Step
    slot: ApprovalSlot


@dataclass
class CommandOutput(Message):
    """What a slash command (/undo, /log, /policy) printed, to show in the transcript."""

    title: str
    lines: list[str]
    failed: bool = False
    undone_ids: frozenset[str] = frozenset()
    """After an undo: the journal ids (of actions and of their requests) it reversed, so the plan can say so."""


@dataclass
class SystemSampled(Message):
    sample: SystemSample
