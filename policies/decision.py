"""The decision type every policy returns, and the hook the session calls before each tool call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Verdict = Literal["allow", "ask", "deny"]

# deny beats ask beats allow: when several rules match, the strictest wins.
VERDICT_STRICTNESS: dict[Verdict, int] = {"allow": 0, "ask": 1, "deny": 2}


@dataclass(frozen=True)
class Decision:
    """What policy decided for one call, with the rule that made it and why."""

    verdict: Verdict
    rule: str
    reason: str


class Policy(Protocol):
    """A pure function of (call, context) -> Decision. The model cannot argue with it."""

    name: str

    def decide(self, tool: str, effect: str, args: Mapping[str, Any]) -> Decision: ...


class AllowReadOnlyPolicy:
    """The foundation's policy until profiles land: read tools run, anything that changes the system is asked.

    Only read-only tools exist so far, so in practice every call is allowed; a future mutating tool is not
    silently allowed by this fallback (fail closed).
    """

    name = "read-only-foundation"

    def decide(self, tool: str, effect: str, args: Mapping[str, Any]) -> Decision:
        if effect == "read":
            return Decision("allow", "effect:read", "reading changes nothing")
        return Decision("ask", f"effect:{effect}", f"{effect} actions need approval")
