"""The front ends' side of the daemon: `DaemonAssistant` behaves exactly like `LocalAssistant` (same events,
same approvals, same cancel), with the model resident in the daemon instead of loaded here."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmos.assistant import CommandSuggestion
from llmos.daemon.location import socket_path
from llmos.daemon.protocol import (
    ApproveMessage,
    CancelMessage,
    LineChannel,
    PlanRuleRequest,
    ProtocolError,
    Request,
    RequestContext,
    RunRequest,
    StatusRequest,
    SuggestRequest,
    event_from_json,
)
from llmos.errors import LlmosError, UsageError
from llmos.events import ApprovalNeeded, Error, Event, RequestFinished
from llmos.executor import Approver
from llmos.tools.piped import PipedDocument

if TYPE_CHECKING:
    from llmos.automations.rules import Rule

CONNECT_TIMEOUT_S = 1.0
POLL_INTERVAL_S = 0.1
"""How often a waiting client looks at its cancel flag: Ctrl+C reaches the daemon within this."""


class DaemonUnavailable(Exception):
    """No daemon answers on the socket (not started, or a stale socket from a crash)."""


def open_channel(path: Path | None = None) -> LineChannel:
    path = path or socket_path()
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(CONNECT_TIMEOUT_S)
    try:
        connection.connect(str(path))
    except OSError as exc:
        connection.close()
        raise DaemonUnavailable(f"no daemon at {path}: {exc.strerror or exc}") from None
    connection.settimeout(None)
    return LineChannel(connection)


def ask_daemon(message: Request | dict[str, Any], path: Path | None = None,
               timeout_s: float | None = 10.0) -> dict[str, Any]:
    """One op with one reply (status, stop, suggest); None for `timeout_s` waits as long as the op takes.
    `message` is a typed request, or its wire form as a dict."""
    channel = open_channel(path)
    try:
        channel.connection.settimeout(timeout_s)
        channel.send(message if isinstance(message, dict) else message.to_json())
        reply = channel.receive()
    except (OSError, ProtocolError) as exc:
        raise DaemonUnavailable(f"the daemon did not answer: {exc}") from None
    finally:
        channel.connection.close()
    if reply is None:
        raise DaemonUnavailable("the daemon closed the connection without answering")
    if reply.get("type") == "error":
        raise _error_from(reply)
    return reply


def daemon_status(timeout_s: float = 2.0) -> dict[str, Any] | None:
    """The running daemon's status, or None when no daemon answers (or it answers with an error)."""
    try:
        return ask_daemon(StatusRequest(), timeout_s=timeout_s)
    except (DaemonUnavailable, LlmosError):
        return None


class DaemonAssistant:
    """Requests served by the resident daemon; one connection per request."""

    where = "daemon"

    def __init__(self, *, model: str | None, policy: str | None, max_steps: int | None, dry_run: bool,
                 loaded_model: str | None = None, path: Path | None = None) -> None:
        self.model = model
        self.policy = policy
        self.max_steps = max_steps
        self.dry_run = dry_run
        self.path = path
        self._model_name = loaded_model or model or "default"

    @property
    def model_name(self) -> str:
        return self._model_name

    def run(
        self,
        request: str,
        stdin_data: str | PipedDocument | None = None,
        approver: Approver | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]:
        # A spooled document goes as its open file (any size, nothing copied); data held in memory goes inline.
        descriptor = stdin_data.fileno() if isinstance(stdin_data, PipedDocument) else None
        if isinstance(stdin_data, PipedDocument) and descriptor is None:
            stdin_data = stdin_data.read_at(0, stdin_data.size_bytes).decode("utf-8", errors="replace")
        channel = self._open()
        try:
            channel.send(RunRequest(
                request=request, stdin_data=stdin_data if isinstance(stdin_data, str) else None,
                stdin_passed=descriptor is not None, context=RequestContext.here(), model=self.model,
                policy=self.policy, max_steps=self.max_steps, dry_run=self.dry_run, can_ask=approver is not None,
            ).to_json(), descriptors=[descriptor] if descriptor is not None else [])
            yield from self._events(channel, request, approver, cancel)
        finally:
            channel.connection.close()

    def _events(self, channel: LineChannel, request: str, approver: Approver | None,
                cancel: threading.Event | None) -> Iterator[Event]:
        channel.connection.settimeout(POLL_INTERVAL_S)
        cancel_sent = False
        while True:
            if cancel is not None and cancel.is_set() and not cancel_sent:
                _send_quietly(channel, CancelMessage().to_json())
                cancel_sent = True
            try:
                message = channel.receive()
            except TimeoutError:
                continue
            except (OSError, ProtocolError) as exc:
                message = None
                reason = str(exc)
            else:
                reason = "the connection closed"
            if message is None:
                yield from _lost(request, self.model_name, reason)
                return
            if message.get("type") == "error":
                raise _error_from(message)
            if message.get("type") != "event":
                raise LlmosError(f"the daemon sent an unexpected message: {message.get('type')!r}")
            try:
                event = event_from_json(message.get("event") or {})
            except ProtocolError as exc:
                raise LlmosError(f"the daemon sent a bad event: {exc}") from None
            if isinstance(event, RequestFinished):
                self._model_name = event.model
            yield event
            if isinstance(event, ApprovalNeeded):
                channel.connection.settimeout(None)
                approved = bool(approver(event.step)) if approver is not None else False
                channel.connection.settimeout(POLL_INTERVAL_S)
                _send_quietly(channel, ApproveMessage(index=event.step.index, approved=approved).to_json())
            if isinstance(event, RequestFinished):
                return

    def suggest_command(self, request: str) -> CommandSuggestion:
        reply = self._one_reply(SuggestRequest(request=request, context=RequestContext.here(), model=self.model,
                                               policy=self.policy))
        return CommandSuggestion(request, str(reply.get("command", "")), str(reply.get("verdict", "ask")),
                                 str(reply.get("rule", "")), str(reply.get("reason", "")))

    def plan_rule(self, request: str) -> Rule:
        from llmos.automations.rules import Rule

        reply = self._one_reply(PlanRuleRequest(request=request, context=RequestContext.here(), model=self.model,
                                                policy=self.policy))
        return Rule.model_validate(reply.get("rule"))

    def _one_reply(self, message: SuggestRequest | PlanRuleRequest) -> dict[str, Any]:
        """An op on the resident model with one reply (no events), in this working directory and setup."""
        try:
            return ask_daemon(message, self.path, timeout_s=None)
        except DaemonUnavailable as exc:
            raise LlmosError(f"the llmos daemon failed: {exc}") from None

    def close(self) -> None:
        """Nothing to free here: the model stays resident in the daemon."""

    def _open(self) -> LineChannel:
        try:
            return open_channel(self.path)
        except DaemonUnavailable as exc:
            raise LlmosError(f"the llmos daemon stopped: {exc}; run the request again") from None


def _lost(request: str, model: str, reason: str) -> Iterator[Event]:
    message = f"the llmos daemon stopped mid-request ({reason}); `llmos log` shows the steps that ran"
    yield Error(message)
    yield RequestFinished(request=request, ok=False, answer=None, steps=[], model=model, error=message)


def _error_from(message: dict[str, Any]) -> LlmosError:
    text = str(message.get("message", "the daemon failed"))
    return UsageError(text) if message.get("exit_code") == 2 else LlmosError(text)


def _send_quietly(channel: LineChannel, message: dict[str, Any]) -> None:
    try:
        channel.send(message)
    except OSError:
        pass  # the daemon went away; the next read says so
