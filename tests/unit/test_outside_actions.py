"""A request for an action in the outside world (an email, a text, a call, a booking, a purchase, a payment) is
one no tool of llmos takes: llmos says so itself, and that nothing was done; a message is written by the model
as a draft for the person to send. The model had answered "Sure, I can send you an email."."""

from __future__ import annotations

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, run_approved
from llmos.tools.builtin import builtin_registry

from llmos.effects import Effect
from llmos.executor import Safety
from llmos.outside_actions import (
    BOOKING,
    CALL,
    DRAFT_INTRO,
    DRAFT_NOTE,
    EMAIL,
    MESSAGE,
    PAYMENT,
    POST,
    PURCHASE,
    OutsideAction,
    draft_text,
    outside_action_asked,
)
from llmos.session import Session

MOM = "Can you send Mom an email saying we should go out and play if Friday is okay?"


@pytest.mark.parametrize(("request_text", "action"), [
    (MOM, EMAIL),
    ("send an email to the landlord about the boiler", EMAIL),
    ("email my boss that I'm sick today", EMAIL),
    ("text my sister that I'm running late", MESSAGE),
    ("send Dana a message saying the meeting moved", MESSAGE),
    ("post this on twitter: we shipped!", POST),
    ("call Mom", CALL),
    ("please phone the dentist", CALL),
    ("Book me a ticket from New York to New Delhi for next Friday.", BOOKING),
    ("reserve a table for two at 8", BOOKING),
    ("order a pizza", PURCHASE),
    ("buy me a new charger", PURCHASE),
    ("pay my electricity bill", PAYMENT),
    ("send 50 euros to Sam", PAYMENT),
])
def test_an_action_in_the_outside_world_is_recognised(request_text: str, action: OutsideAction) -> None:
    assert outside_action_asked(request_text) == action


@pytest.mark.parametrize("request_text", [
    "find the email from Bob",                      # a look for a file
    "show my emails",
    "delete the email folder",
    "order the files in Downloads by size",         # an order of files
    "sort these in order",
    "what is the text of notes.txt",
    "send the logs to ~/Desktop",                   # a move
    "call the backup script",                       # a program of this computer
    "how do I call a function in python",           # a question of code
    "send me a message when the backup is done",    # about llmos itself, not someone else
    "write me a haiku about autumn",
    "who won the world series in 2018?",
])
def test_a_request_about_this_computer_or_a_question_is_not(request_text: str) -> None:
    assert outside_action_asked(request_text) is None


def test_a_booking_is_answered_by_llmos_without_the_model() -> None:
    """No model turn and no step: llmos says what it cannot do and that nothing was booked (exit 0)."""
    backend = ScriptedBackend([])
    finished = run_approved(backend, "Book me a ticket from New York to New Delhi for next Friday.", {Effect.READ})
    assert backend.calls == [] and finished.steps == [] and finished.exit_code == 0
    assert finished.answer == (
        "I can't book anything: llmos works offline, with this computer's files, programs and settings, and "
        "reaches no booking, shopping or payment service. Nothing was booked.")


def test_an_email_is_written_as_a_draft_under_llmos_own_words() -> None:
    """The model is asked once, offered only `answer`, with llmos's note under the request; its sentence about
    sending is left out, its message kept whole."""
    backend = ScriptedBackend([answer(
        "Sure, I can send you an email. Here it is:\nHi Mom,\n\nShall we go out and play on Friday?\n\nLove")])
    finished = run_approved(backend, MOM, {Effect.READ})
    assert len(backend.calls) == 1 and finished.steps == []
    assert backend.calls[0].offered_tools == ["answer"]
    assert DRAFT_NOTE in backend.calls[0].conversation
    assert finished.answer is not None
    statement, intro, draft = finished.answer.split("\n", 2)
    assert statement.startswith("I can't send email: ") and statement.endswith("Nothing was sent.")
    assert intro == DRAFT_INTRO
    assert draft == "Hi Mom,\n\nShall we go out and play on Friday?\n\nLove"


def test_a_reply_with_no_message_leaves_llmos_words_alone() -> None:
    backend = ScriptedBackend([answer("Sure, I can send you an email.")])
    finished = run_approved(backend, MOM, {Effect.READ})
    assert finished.answer is not None and DRAFT_INTRO not in finished.answer
    assert "Sure" not in finished.answer and finished.answer.endswith("Nothing was sent.")


@pytest.mark.parametrize(("reply", "draft"), [
    ("I can't send emails, but here is a draft: Hi Mom, shall we go out on Friday?",
     "Hi Mom, shall we go out on Friday?"),
    ("The email has been sent.", ""),
    # The message's own sentences about sending stay: they are the person's words, not a claim of llmos.
    ("Hi Bob, I'll send you the photos tomorrow. I hope this message finds you well.",
     "Hi Bob, I'll send you the photos tomorrow. I hope this message finds you well."),
])
def test_a_draft_keeps_the_message_and_drops_what_speaks_of_sending_it(reply: str, draft: str) -> None:
    assert draft_text(reply) == draft


def test_with_piped_data_the_model_plans_as_before() -> None:
    """Piped data may be what the request is about: the model reads it, offered its tools."""
    backend = ScriptedBackend([answer("The notes are about the boiler.")])
    session = Session(backend, builtin_registry(), Safety(policy=AllowReadOnlyPolicy(),
                                                          intent=lambda _r: frozenset({Effect.READ})))
    events = list(session.run("email Bob what these notes say", "boiler broken\n"))
    assert len(backend.calls) == 1 and events[-1].answer == "The notes are about the boiler."
