"""What a front end holds: an `Assistant` runs requests and yields the session's events, whether the model lives
in this process (`LocalAssistant`) or in the resident daemon (`llmos.daemon.client.DaemonAssistant`).

Front ends (TUI, overlay, REPL, `llmos-ask`) render the events and answer approvals; they never see which kind
they hold, so behaviour and output are identical with and without the daemon.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from llmos.events import Event
from llmos.executor import Approver
from llmos.session import Session
from llmos.tools.piped import PipedDocument

if TYPE_CHECKING:
    from llmos.automations.rules import Rule


class Assistant(Protocol):
    """Runs requests. `run` may be called from a worker thread; `cancel` may be set from any thread."""

    @property
    def model_name(self) -> str: ...

    @property
    def where(self) -> str:
        """"in-process" or "daemon": shown by front ends, never changes behaviour."""
        ...

    def run(
        self,
        request: str,
        stdin_data: str | PipedDocument | None = None,
        approver: Approver | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]: ...

    def suggest_command(self, request: str) -> CommandSuggestion: ...

    def plan_rule(self, request: str) -> Rule:
        """An automation rule for the request, written by the model and checked (`llmos.automations.planner`)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CommandSuggestion:
    """A shell command line proposed for a request (for the shell keybinding), with policy's verdict on it."""

    request: str
    command: str
    """The command line as the model wrote it; empty when it produced none."""
    verdict: str
    """allow / ask / deny: how policy would judge running it through llmos."""
    rule: str
    reason: str

    def as_shell_line(self) -> str:
        """What replaces the person's command line: the command itself, or, when policy denies it, the command
        commented out with the reason, so pressing Enter runs nothing."""
        if not self.command:
            return f"# llmos: no command for: {self.request}"
        if self.verdict == "deny":
            return f"# llmos denied ({self.rule}: {self.reason}): {self.command}"
        return self.command


class LocalAssistant:
    """The model loaded in this process."""

    where = "in-process"

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def model_name(self) -> str:
        return self.session.backend.name

    def run(
        self,
        request: str,
        stdin_data: str | PipedDocument | None = None,
        approver: Approver | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]:
        return self.session.run(request, stdin_data, approver, cancel=cancel)

    def suggest_command(self, request: str) -> CommandSuggestion:
        from llmos.suggest import suggest_command

        return suggest_command(self.session, request)

    def plan_rule(self, request: str) -> Rule:
        from llmos.automations.planner import plan_rule

        return plan_rule(self.session.backend, self.session.registry, request)

    def close(self) -> None:
        self.session.backend.close()

