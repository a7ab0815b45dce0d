"""Approval between a request's worker thread and the UI: the worker asks and waits, the person answers.

The session calls the approver synchronously inside the worker; the approver posts the question to the UI and
blocks on an `ApprovalSlot` until a handler fills it (a key, a click) or the request is cancelled. Shared by the
TUI and the overlay, so both answer approvals the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from llmos.events import Step
from llmos.executor import Approver

Reply = Literal["yes", "no", "all"]
"""yes: run this step; no: skip it; all: run it and every later `ask` step of the same request."""

CANCEL_POLL_SECONDS = 0.1


class ApprovalSlot:
    """One question awaiting one answer. The first answer wins; later ones (a double click) are ignored."""

    def __init__(self) -> None:
        self._answered = threading.Event()
        self.reply: Reply | None = None

    @property
    def answered(self) -> bool:
        return self._answered.is_set()

    def answer(self, reply: Reply) -> bool:
        """Fill the slot; False when it was already answered."""
        if self._answered.is_set():
            return False
        self.reply = reply
        self._answered.set()
        return True

    def wait(self, cancel: threading.Event) -> Reply:
        """Block until answered; a cancelled request counts as "no" so the worker never waits forever."""
        while not self._answered.wait(CANCEL_POLL_SECONDS):
            if cancel.is_set():
                return "no"
        assert self.reply is not None
        return self.reply


class RequestControl:
    """What the UI holds of a running request: its cancel flag, and the question it is waiting on, if any."""

    def __init__(self, request: str) -> None:
        self.request = request
        self.cancel = threading.Event()
        self.pending: ApprovalSlot | None = None

    def cancel_request(self) -> None:
        """Stop the request; a pending approval is answered "no" so the step is skipped, not run."""
        self.cancel.set()
        if self.pending is not None:
            self.pending.answer("no")


def make_approver(control: RequestControl, ask: Callable[[Step, ApprovalSlot], None]) -> Approver:
    """The approver a worker hands the session: `ask` posts the question to the UI (it must not block); the
    approver then waits for the answer. After an "all" answer the rest of this request's steps are approved
    without asking (policy's deny still applies: denied steps never reach an approver)."""
    approve_rest = False

    def approve(step: Step) -> bool:
        nonlocal approve_rest
        if control.cancel.is_set():
            return False
        if approve_rest:
            return True
        slot = ApprovalSlot()
        ask(step, slot)
        reply = slot.wait(control.cancel)
        if control.cancel.is_set():
            return False
        approve_rest = reply == "all"
        return reply in ("yes", "all")

    return approve
