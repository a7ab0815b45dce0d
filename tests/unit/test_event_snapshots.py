"""Events carry frozen snapshots of a step: a front end that renders an event later sees what was true when it
was emitted, not what the session changed afterwards."""

from __future__ import annotations

import dataclasses

import pytest
from fakes import AllowReadOnlyPolicy, RemovalRegistry, ScriptedBackend, answer, call

from llmos.events import ApprovalNeeded, RequestFinished, StepDecided, StepFinished, StepInProgress, StepPlanned
from llmos.session import Session


def test_each_step_event_keeps_the_step_as_it_was_when_emitted() -> None:
    """Read after the request ended, the planned step has no decision yet, the decided one no status, the
    approval no answer; only the finished one has the result."""
    backend = ScriptedBackend([call("demo.remove", path="~/old"), answer("removed")])
    session = Session(backend, RemovalRegistry(), AllowReadOnlyPolicy())
    events = list(session.run("remove ~/old", approver=lambda step: True))
    planned, decided, asked, finished = (
        next(event.step for event in events if isinstance(event, kind))
        for kind in (StepPlanned, StepDecided, ApprovalNeeded, StepFinished)
    )
    assert (planned.decision, planned.status, planned.preview) == (None, None, [])
    assert decided.decision is not None and decided.decision.verdict == "ask"
    assert (decided.approved, decided.status, decided.result) == (None, None, None)
    assert (asked.approved, asked.status) == (None, None)
    assert (finished.approved, finished.status) == (True, "ok")
    outcome = events[-1]
    assert isinstance(outcome, RequestFinished) and outcome.steps == [finished]


def test_a_snapshot_cannot_be_changed_and_shares_nothing_with_the_step() -> None:
    """Assigning to a snapshot fails; changing the worker's step (or its args) later leaves the snapshot as it was."""
    step = StepInProgress(index=0, tool="shell.run", args={"argv": ["ls"]}, preview=["ls"])
    snapshot = step.snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.status = "ok"  # type: ignore[misc]
    step.status = "ok"
    step.args["argv"].append("-l")
    step.preview.append("more")
    assert (snapshot.status, snapshot.args, snapshot.preview) == (None, {"argv": ["ls"]}, ["ls"])
