"""The daemon's wire format: newline-delimited JSON objects, one per line, UTF-8.

Client -> daemon, each line an object with an "op":
  {"op": "run", "request", "stdin_data", "stdin_passed", "context", "model", "policy", "max_steps", "dry_run",
   "can_ask"}
      piped data up to MAX_LINE_BYTES may come inline (stdin_data); a spooled document comes as its open file,
      passed with the message itself (SCM_RIGHTS; "stdin_passed": true), never as data on the socket
  {"op": "approve", "index": N, "approved": bool}     answers an approval_needed event of the running request
  {"op": "cancel"}                                    stops the running request
  {"op": "suggest", "request", "context", "model", "policy"}
  {"op": "status"}   {"op": "stop"}   {"op": "plan_rule", "request", "context", "model", "policy"}
  Each is a typed message (`RunRequest`, `ApproveMessage`, ...), validated on receipt (`parse_request`).
Daemon -> client, each line an object with a "type":
  {"type": "event", "event": {...}}     the Session's events, in order; the last is request_finished
  {"type": "suggestion", ...}  {"type": "status", ...}  {"type": "stopping"}
  {"type": "error", "message", "exit_code"}   the op could not be served (model missing, bad policy, ...)

"context" carries what a request depends on besides its words (HOME, working directory, data and config
dirs); the daemon serves only a context matching its own, so it never acts on another setup's journal.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from llmos.events import (
    Answer,
    AnswerSource,
    AnswerStarted,
    AnswerToken,
    ApprovalNeeded,
    Error,
    Event,
    RequestFinished,
    RequestStarted,
    Step,
    StepDecided,
    StepFinished,
    StepPlanned,
)
from llmos.policies.decision import Decision

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A request with piped stdin data can be large; anything beyond this is refused, not buffered forever."""


class ProtocolError(Exception):
    """The peer sent something that is not this protocol."""


@dataclass(frozen=True)
class RequestContext:
    """What a request depends on besides its words; the daemon refuses a context that differs from its own."""

    home: str
    cwd: str
    data_dir: str
    config_dir: str
    version: int = PROTOCOL_VERSION

    @classmethod
    def here(cls) -> RequestContext:
        from llmos.paths import config_dir, data_dir
        from llmos.tools.paths import home_dir

        return cls(home=str(home_dir()), cwd=os.getcwd(), data_dir=str(data_dir()), config_dir=str(config_dir()))

    def mismatch_with(self, other: RequestContext) -> str | None:
        """Why a daemon with context `other` cannot serve this one, or None."""
        for name in ("version", "home", "data_dir", "config_dir"):
            if getattr(self, name) != getattr(other, name):
                return f"{name} differs ({getattr(self, name)!r} here, {getattr(other, name)!r} in the daemon)"
        return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Any) -> RequestContext:
        if not isinstance(raw, dict):
            raise ProtocolError("context must be an object")
        try:
            return cls(**{key: raw[key] for key in ("home", "cwd", "data_dir", "config_dir", "version")})
        except (KeyError, TypeError) as exc:
            raise ProtocolError(f"bad context: {exc}") from None


# -- requests -----------------------------------------------------------------------------------------------
# What a client sends, validated on receipt. Fields are read as leniently as the dict-based daemon read them
# (a missing request is "", a non-text stdin is none, any value counts for dry_run), so a client's message
# means what it meant before; what cannot be read is a protocol error.


def _text(value: object) -> str:
    return str(value)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _context(value: object) -> RequestContext:
    return value if isinstance(value, RequestContext) else RequestContext.from_json(value)


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StatusRequest(_Message):
    op: Literal["status"] = "status"


class StopRequest(_Message):
    op: Literal["stop"] = "stop"


class _ModelRequest(_Message):
    """An op served by the resident model, in the client's setup (`context`) and working directory."""

    request: Annotated[str, BeforeValidator(_text)] = ""
    # Checked even when missing, so a request without one is refused as the daemon always refused it.
    context: Annotated[RequestContext, BeforeValidator(_context)] = Field(default=None, validate_default=True)
    model: str | None = None
    policy: str | None = None


class RunRequest(_ModelRequest):
    """Run one request; the daemon answers with its events, the last a request_finished."""

    op: Literal["run"] = "run"
    stdin_data: Annotated[str | None, BeforeValidator(_text_or_none)] = None
    stdin_passed: Annotated[bool, BeforeValidator(lambda value: value is True)] = False
    """The piped data is the open file passed with this message (`LineChannel.take_passed_descriptor`)."""
    max_steps: int | None = None
    dry_run: Annotated[bool, BeforeValidator(bool)] = False
    can_ask: Annotated[bool, BeforeValidator(lambda value: value is not False)] = True
    """Whether the client can put an approval to a person; when not (`--no-input`, a script), a step that needs
    one is reported as not asked rather than as declined."""


class SuggestRequest(_ModelRequest):
    op: Literal["suggest"] = "suggest"


class PlanRuleRequest(_ModelRequest):
    op: Literal["plan_rule"] = "plan_rule"


class ApproveMessage(_Message):
    """The answer to the running request's approval_needed event for step `index`."""

    op: Literal["approve"] = "approve"
    index: int = -1
    approved: Annotated[bool, BeforeValidator(lambda value: value is True)] = False


class CancelMessage(_Message):
    op: Literal["cancel"] = "cancel"


MessageT = TypeVar("MessageT", bound=_Message)
Request = StatusRequest | StopRequest | RunRequest | SuggestRequest | PlanRuleRequest
"""What opens a connection (one op per connection)."""
RunMessage = ApproveMessage | CancelMessage
"""What a client sends while its request runs."""

_REQUESTS: dict[str, type[Request]] = {"status": StatusRequest, "stop": StopRequest, "run": RunRequest,
                                       "suggest": SuggestRequest, "plan_rule": PlanRuleRequest}
_RUN_MESSAGES: dict[str, type[RunMessage]] = {"approve": ApproveMessage, "cancel": CancelMessage}


def parse_request(message: dict[str, Any]) -> Request:
    """The op a connection opens with; raises `ProtocolError` for an unknown op or one that cannot be read."""
    op = message.get("op")
    kind = _REQUESTS.get(op) if isinstance(op, str) else None
    if kind is None:
        raise ProtocolError(f"unknown op {op!r}")
    return _validated(kind, message)


def parse_run_message(message: dict[str, Any]) -> RunMessage | None:
    """An approval or a cancel sent while a request runs; None for anything else (ignored, as before)."""
    op = message.get("op")
    kind = _RUN_MESSAGES.get(op) if isinstance(op, str) else None
    return _validated(kind, message) if kind is not None else None


def _validated(kind: type[MessageT], message: dict[str, Any]) -> MessageT:
    try:
        return kind.model_validate(message)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "message"
        raise ProtocolError(f"bad {message.get('op')} message: {where}: {problem['msg']}") from None


# -- events -------------------------------------------------------------------------------------------------

StepEvent = StepPlanned | StepDecided | ApprovalNeeded | StepFinished
_STEP_EVENTS: dict[str, type[StepEvent]] = {"step_planned": StepPlanned, "step_decided": StepDecided,
                                            "approval_needed": ApprovalNeeded, "step_finished": StepFinished}
_STEP_EVENT_KINDS = {value: key for key, value in _STEP_EVENTS.items()}


def step_to_json(step: Step) -> dict[str, Any]:
    return {
        "index": step.index, "tool": step.tool, "args": step.args,
        "decision": asdict(step.decision) if step.decision else None,
        "approved": step.approved, "status": step.status, "result": step.result, "undo_id": step.undo_id,
        "preview": step.preview,
    }


def step_from_json(raw: dict[str, Any]) -> Step:
    decision = raw.get("decision")
    return Step(
        index=int(raw["index"]), tool=str(raw["tool"]), args=dict(raw["args"]),
        decision=Decision(decision["verdict"], decision["rule"], decision["reason"]) if decision else None,
        approved=raw.get("approved"), status=raw.get("status"), result=raw.get("result"), undo_id=raw.get("undo_id"),
        preview=list(raw.get("preview") or []),
    )


def event_to_json(event: Event) -> dict[str, Any]:
    if isinstance(event, RequestStarted):
        return {"kind": "request_started", "request": event.request, "has_stdin_data": event.has_stdin_data}
    if isinstance(event, (StepPlanned, StepDecided, ApprovalNeeded, StepFinished)):
        return {"kind": _STEP_EVENT_KINDS[type(event)], "step": step_to_json(event.step)}
    if isinstance(event, AnswerStarted):
        return {"kind": "answer_started"}
    if isinstance(event, AnswerToken):
        return {"kind": "answer_token", "text": event.text}
    if isinstance(event, Answer):
        return {"kind": "answer", "text": event.text}
    if isinstance(event, Error):
        return {"kind": "error", "message": event.message}
    if isinstance(event, RequestFinished):
        return {
            "kind": "request_finished", "request": event.request, "ok": event.ok, "answer": event.answer,
            "steps": [step_to_json(step) for step in event.steps], "model": event.model,
            "timings_ms": event.timings_ms, "usage": event.usage, "error": event.error, "cancelled": event.cancelled,
            "fast_path": event.fast_path, "answer_source": event.answer_source, "ungrounded": event.ungrounded,
        }
    raise TypeError(f"not an event: {event!r}")


def event_from_json(raw: dict[str, Any]) -> Event:
    try:
        kind = raw["kind"]
        if kind == "request_started":
            return RequestStarted(request=raw["request"], has_stdin_data=bool(raw["has_stdin_data"]))
        if kind in _STEP_EVENTS:
            return _STEP_EVENTS[kind](step_from_json(raw["step"]))
        if kind == "answer_started":
            return AnswerStarted()
        if kind == "answer_token":
            return AnswerToken(str(raw["text"]))
        if kind == "answer":
            return Answer(str(raw["text"]))
        if kind == "error":
            return Error(str(raw["message"]))
        if kind == "request_finished":
            return RequestFinished(
                request=raw["request"], ok=bool(raw["ok"]), answer=raw.get("answer"),
                steps=[step_from_json(step) for step in raw["steps"]], model=raw["model"],
                timings_ms=dict(raw.get("timings_ms") or {}), usage=dict(raw.get("usage") or {}),
                error=raw.get("error"), cancelled=bool(raw.get("cancelled")), fast_path=bool(raw.get("fast_path")),
                answer_source=_answer_source(raw.get("answer_source")),
                ungrounded=[str(fact) for fact in raw.get("ungrounded") or []],
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"bad event: {exc}") from None
    raise ProtocolError(f"unknown event kind {raw.get('kind')!r}")


# -- framing ------------------------------------------------------------------------------------------------


MAX_PASSED_DESCRIPTORS = 1
"""Open files one read may carry (a run's piped data); the kernel closes any more a peer tries to pass."""


class LineChannel:
    """One connection's JSON lines. Reads are buffered; each write sends one whole line, and may pass open files
    with it (SCM_RIGHTS), which the reader collects (`take_passed_descriptor`)."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self._buffer = b""
        self._passed: list[int] = []

    def send(self, message: dict[str, Any], descriptors: Sequence[int] = ()) -> None:
        data = json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n"
        if not descriptors:
            self.connection.sendall(data)
            return
        sent = socket.send_fds(self.connection, [data], list(descriptors))
        self.connection.sendall(data[sent:])

    def take_passed_descriptor(self) -> int | None:
        """The oldest open file the peer passed and nobody took yet (the taker closes it), or None."""
        return self._passed.pop(0) if self._passed else None

    def close_passed_descriptors(self) -> None:
        """Close what the peer passed and no request took: an unexpected file must not stay open here."""
        while self._passed:
            os.close(self._passed.pop())

    def receive(self) -> dict[str, Any] | None:
        """The next message; None at end of stream. A socket timeout propagates (callers poll with one)."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE_BYTES:
                raise ProtocolError("message too long")
            chunk, descriptors, _flags, _address = socket.recv_fds(self.connection, 65536, MAX_PASSED_DESCRIPTORS)
            self._passed.extend(descriptors)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProtocolError(f"not a JSON line: {exc}") from None
        if not isinstance(message, dict):
            raise ProtocolError("a message must be a JSON object")
        return message


def _answer_source(value: object) -> AnswerSource | None:
    if value == "model":
        return "model"
    if value == "rendered":
        return "rendered"
    return None
