"""The approval hand-off between a request's worker thread and the UI, without Textual."""

from __future__ import annotations

import threading
from collections.abc import Callable

from llmos.shell.tui.approval import ApprovalSlot, RequestControl, make_approver

from llmos.events import Step


def answering(reply: str, asked: list[Step]) -> Callable[[Step, ApprovalSlot], None]:
    """An `ask` callback for make_approver that answers `reply` from another thread."""

    def ask(step: Step, slot: ApprovalSlot) -> None:
        asked.append(step)
        # The UI answers from another thread, as the real handler does.
        threading.Timer(0.01, slot.answer, args=(reply,)).start()

    return ask


def test_first_answer_wins() -> None:
    """A second answer to the same question (a double click) is ignored."""
    slot = ApprovalSlot()
    assert slot.answer("yes") and not slot.answer("no")
    assert slot.reply == "yes" and slot.answered


def test_wait_returns_no_when_the_request_is_cancelled() -> None:
    """A worker waiting for an answer is released as "no" by a cancel, without anyone answering."""
    slot, cancel = ApprovalSlot(), threading.Event()
    threading.Timer(0.05, cancel.set).start()
    assert slot.wait(cancel) == "no"


def test_yes_and_no_are_per_step() -> None:
    """y approves only the step asked about; the next step is asked again."""
    asked: list[Step] = []
    approve = make_approver(RequestControl("r"), answering("yes", asked))
    assert approve(Step(0, "files.move", {})) and approve(Step(1, "files.move", {}))
    assert len(asked) == 2
    assert not make_approver(RequestControl("r"), answering("no", []))(Step(0, "files.move", {}))


def test_all_approves_the_rest_of_the_request_without_asking() -> None:
    """After "all", later steps of the same request are approved without a question; a new request asks again."""
    asked: list[Step] = []
    approve = make_approver(RequestControl("r"), answering("all", asked))
    assert all(approve(Step(index, "files.move", {})) for index in range(3))
    assert len(asked) == 1
    fresh = make_approver(RequestControl("r2"), answering("no", asked))
    assert not fresh(Step(0, "files.move", {})) and len(asked) == 2


def test_cancel_answers_the_pending_question_no() -> None:
    """cancel_request fills the pending slot with "no" and later steps are refused without asking."""
    control = RequestControl("r")
    asked: list[Step] = []

    def ask(step: Step, slot: ApprovalSlot) -> None:
        asked.append(step)
        control.pending = slot
        threading.Timer(0.02, control.cancel_request).start()

    approve = make_approver(control, ask)
    assert not approve(Step(0, "files.move", {}))
    assert control.pending is not None and control.pending.reply == "no"
    assert not approve(Step(1, "files.move", {})) and len(asked) == 1


def test_card_text_for_failed_and_refused_steps() -> None:
    """A step that failed (e.g. no sandbox) or was not run shows its reason in one line; a done step shows none."""
    from llmos.policies.decision import Decision
    from llmos.shell.tui.plan import short_result, status_text

    failed = Step(0, "shell.run", {"argv": ["ls"]}, decision=Decision("allow", "cmd:ls", "lists"), approved=True,
                  status="error", result='{"error": "the sandbox is not available here: bwrap not found"}')
    assert status_text(failed) == "failed"
    assert short_result(failed) == "the sandbox is not available here: bwrap not found"
    done = Step(1, "files.list", {}, decision=Decision("allow", "effect:read", "reads"), status="ok", result="{}")
    assert (status_text(done), short_result(done)) == ("done", None)
    waiting = Step(2, "files.move", {}, decision=Decision("ask", "effect:write", "changes files"))
    assert status_text(waiting) == "needs approval"
    not_approved = Step(3, "files.move", {}, decision=Decision("ask", "effect:write", "x"), approved=False,
                        status="skipped", result='{"not_run": "the user did not approve this step"}')
    assert status_text(not_approved) == "not approved"
    assert short_result(not_approved) == "the user did not approve this step"
