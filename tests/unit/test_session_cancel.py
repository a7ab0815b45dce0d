"""Cancelling a request: the model stops at the next generated piece, no further step starts, and the request
ends with `cancelled` (exit 130), every step that ran still recorded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools import load_builtin_tools

from llmos.events import AnswerStarted, RequestFinished, StepFinished
from llmos.session import Session


class CountingBackend(ScriptedBackend):
    def __init__(self, replies: list[Any]) -> None:
        super().__init__(replies)
        self.pieces_sent = 0

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        for piece in super().generate(prefix, conversation, schema, max_tokens):
            self.pieces_sent += 1
            yield piece


def test_cancel_during_the_answer_stops_generation() -> None:
    """Set while the model writes its answer: no more pieces are drawn from the model and the request ends
    cancelled."""
    long_answer = "word " * 200
    backend = CountingBackend([answer(long_answer)])
    cancel = threading.Event()
    events = []
    for event in Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run("talk", cancel=cancel):
        events.append(event)
        if isinstance(event, AnswerStarted):
            cancel.set()
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert finished.cancelled and not finished.ok and finished.exit_code == 130
    assert finished.error == "cancelled" and finished.to_json()["cancelled"] is True
    assert backend.pieces_sent < len(long_answer) // 5


def test_cancel_after_a_step_starts_no_further_step(temp_home: Any) -> None:
    """Set once a step finished: that step is kept in the outcome, and the model is not asked for another."""
    backend = ScriptedBackend([call("files.list", path="~/Downloads"), call("files.list", path="~/Documents")])
    cancel = threading.Event()
    events = []
    session = Session(backend, load_builtin_tools(), AllowReadOnlyPolicy())
    for event in session.run("tell me about my files", cancel=cancel):
        events.append(event)
        if isinstance(event, StepFinished):
            cancel.set()
    finished = events[-1]
    assert isinstance(finished, RequestFinished) and finished.cancelled
    assert [step.args["path"] for step in finished.steps] == ["~/Downloads"]
    assert finished.steps[0].status == "ok"
    assert len(backend.calls) == 1


def test_a_request_not_cancelled_is_unaffected() -> None:
    """Without a cancel flag set, the request runs to its answer and is not marked cancelled."""
    backend = ScriptedBackend([answer("hi")])
    session = Session(backend, load_builtin_tools(), AllowReadOnlyPolicy())
    finished = list(session.run("hi", cancel=threading.Event()))[-1]
    assert finished.ok and not finished.cancelled and "cancelled" not in finished.to_json()
