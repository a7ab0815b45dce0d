"""The typed events a `Session` yields. Front ends render these; they never talk to the model or run tools."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from llmos.look_instead import replaced_by_a_look
from llmos.policies.decision import Decision

StepStatus = Literal["ok", "error", "denied", "skipped"]
AnswerSource = Literal["model", "rendered"]


@dataclass(frozen=True)
class Step:
    """One planned tool call and what became of it, as it stood when an event carried it; the `--json` output
    lists these. Frozen: a front end that renders an event later still sees what was true when it was emitted."""

    index: int
    tool: str
    args: dict[str, Any]
    decision: Decision | None = None
    approved: bool | None = None
    status: StepStatus | None = None
    result: str | None = None
    undo_id: str | None = None
    preview: list[str] = field(default_factory=list)
    """What the call would touch (paths with sizes, processes with owners, the exact argv), as shown for approval."""

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "args": self.args,
            "decision": self.decision.verdict if self.decision else None,
            "rule": self.decision.rule if self.decision else None,
            "approved": self.approved,
            "status": self.status,
            "result": self.result,
            "undo_id": self.undo_id,
            "reason": self.decision.reason if self.decision else None,
            "preview": self.preview,
        }


@dataclass
class StepInProgress:
    """A step while the session and the step runner fill it in (decision, approval, status, result). Events
    never carry it: each carries a `snapshot()`, as the worker goes on changing this one."""

    index: int
    tool: str
    args: dict[str, Any]
    decision: Decision | None = None
    approved: bool | None = None
    status: StepStatus | None = None
    result: str | None = None
    undo_id: str | None = None
    preview: list[str] = field(default_factory=list)
    redact: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)
    """The session's redaction step: a snapshot (what every front end, the history and the daemon's clients
    see) shows the arguments, preview, reason and result with stored secrets blanked; `args` stays what runs."""

    def snapshot(self) -> Step:
        """What is true of the step now, sharing nothing the worker could change later."""
        shown = self.redact or (lambda value: value)
        decision = self.decision
        if decision is not None and self.redact is not None:
            decision = dataclasses.replace(decision, reason=shown(decision.reason))
        return Step(
            index=self.index, tool=self.tool, args=copy.deepcopy(shown(self.args)), decision=decision,
            approved=self.approved, status=self.status, result=shown(self.result), undo_id=self.undo_id,
            preview=list(shown(self.preview)),
        )

    def to_json(self) -> dict[str, Any]:
        return self.snapshot().to_json()


@dataclass(frozen=True)
class RequestStarted:
    request: str
    has_stdin_data: bool


@dataclass(frozen=True)
class StepPlanned:
    """The model proposed a call (validated against the tool's schema)."""

    step: Step


@dataclass(frozen=True)
class StepDecided:
    step: Step


@dataclass(frozen=True)
class ApprovalNeeded:
    """Policy said `ask`: the front end's approver answers it; the session waits for the answer."""

    step: Step


@dataclass(frozen=True)
class StepFinished:
    """The call ran (or was denied / skipped); `step.result` is what the model will read."""

    step: Step


@dataclass(frozen=True)
class AnswerStarted:
    """The model has begun to write its answer. Its words are checked against the step records before anyone
    sees them, so they come later, whole, as `AnswerToken` and `Answer`; a front end can say it is answering."""


@dataclass(frozen=True)
class AnswerToken:
    """A piece of the final answer, for front ends that stream (today the whole checked answer, once)."""

    text: str


@dataclass(frozen=True)
class Answer:
    text: str


@dataclass(frozen=True)
class Error:
    """The request could not be completed; `message` is one readable line."""

    message: str


@dataclass(frozen=True)
class RequestFinished:
    """Always the last event of a request: the whole outcome, as `--json` prints it."""

    request: str
    ok: bool
    answer: str | None
    steps: list[Step]
    model: str
    timings_ms: dict[str, int] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    cancelled: bool = False
    """The person cancelled the request before it finished."""
    fast_path: bool = False
    """Planned and answered without the model (`llmos.fastpath`)."""
    answer_source: AnswerSource | None = None
    """Who worded the answer: "model" (checked against the step records, and the tools' results) or "rendered"
    (llmos itself, from the step records and results: the fast path, an outcome the model misstated)."""
    ungrounded: list[str] = field(default_factory=list)
    """Facts a model answer stated that no tool result held; such an answer was replaced by a rendered one."""

    @property
    def exit_code(self) -> int:
        """DESIGN.md's codes: 1 the model or a step failed; 3 a step was denied or not approved; else 0;
        130 (as for Ctrl+C in a shell) when the person cancelled it."""
        if self.cancelled:
            return 130
        if not self.ok:
            return 1
        if any(step.status == "denied" or (step.status == "skipped" and step.approved is False) for step in self.steps):
            return 3
        if any(step.status == "error" and not fixed_later(step, self.steps[index + 1:])
               for index, step in enumerate(self.steps)):
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "request": self.request,
            "ok": self.ok,
            "answer": self.answer,
            "steps": [step.to_json() for step in self.steps],
            "model": self.model,
            "timings_ms": self.timings_ms,
            "usage": self.usage,
            "fast_path": self.fast_path,
            "answer_source": self.answer_source,
        }
        if self.ungrounded:
            payload["ungrounded"] = self.ungrounded
        if self.error:
            payload["error"] = self.error
        if self.cancelled:
            payload["cancelled"] = True
        return payload


Event = (
    RequestStarted | StepPlanned | StepDecided | ApprovalNeeded | StepFinished | AnswerStarted | AnswerToken | Answer
    | Error
    | RequestFinished
)


REWRITING_TOOLS = frozenset({"files.edit", "files.write"})
"""Tools that set a file's content: one's failure on a file is fixed by the other's success on it ("wipe the
contents of scratch.txt": an edit of lines 0 to -1 was refused, then a write of "" did it)."""


def fixed_later(failed: Step, later_steps: list[Step]) -> bool:
    """Whether the model fixed a failed call: a later call of the same tool (or another that rewrites a file,
    after one that failed to) succeeded on the same target (other arguments changed, like `overwrite`) or on a
    path the failure suggested (`did_you_mean`). Then the failure is not the request's: a guessed path corrected
    from the error is a request done. A later call on another target does not count ("delete a and b" with a
    missing still failed). A folder tool given a file is fixed by the read of that file its error named
    (`a_file`)."""
    try:
        payload = json.loads(failed.result or "{}")
        suggested = set(payload.get("did_you_mean") or [])
        a_file = payload.get("a_file")
    except (ValueError, AttributeError):
        suggested, a_file = set(), None
    failed_values = {value for value in failed.args.values() if isinstance(value, str)}
    if replaced_by_a_look(failed.tool, failed.result, ((step.tool, step.status) for step in later_steps)):
        return True  # a call not run because a look was what it meant (`llmos.look_instead`), and a look made
    for step in later_steps:
        if isinstance(a_file, str) and step.tool == "files.read" and step.status == "ok" \
                and step.args.get("path") == a_file:
            return True  # a folder tool given a file ("list /etc/passwd"), remade as the read of it
        if step.status != "ok":
            continue
        if step.tool != failed.tool:
            if {step.tool, failed.tool} <= REWRITING_TOOLS and step.args.get("path") == failed.args.get("path"):
                return True
            continue
        values = {value for value in step.args.values() if isinstance(value, str)}
        if values & suggested or values & failed_values:
            return True
    return False
