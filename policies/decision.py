"""The decision type every policy returns, and the hook the session calls before each tool call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from llmos.policies.impact import Impact

from llmos.effects import Effect

if TYPE_CHECKING:
    from llmos.policies.sandbox.confine import Confinement

Verdict = Literal["allow", "ask", "deny"]

# deny beats ask beats allow: when several rules match, the strictest wins.
VERDICT_STRICTNESS: dict[Verdict, int] = {"allow": 0, "ask": 1, "deny": 2}


@dataclass(frozen=True)
class Decision:
    """What policy decided for one call, with the rule that made it and why."""

    verdict: Verdict
    rule: str
    reason: str


@dataclass(frozen=True)
class PolicyCall:
    """Everything a decision may depend on, fixed before any untrusted content could influence it."""

    tool: str
    effect: Effect
    args: Mapping[str, Any]
    impact: Impact = field(default_factory=Impact)
    allowed_effects: frozenset[Effect] | None = None
    """The effect classes the request's own words allow; a call outside them is denied. None: no limit."""
    cwd: Path | None = None
    """Where relative paths in a command are resolved (default: the current directory)."""


class Policy(Protocol):
    """A pure function of the call -> Decision. The model cannot argue with it.

    A policy that judges only tool calls subclasses this to take the defaults of the other methods: commands
    it cannot judge are asked about, and the sandbox's network stays shut."""

    name: str

    def decide(self, call: PolicyCall) -> Decision: ...

    def decide_command(self, argv: Sequence[str]) -> Decision:
        """How running `argv` as a command would be judged (`llmos suggest` shows it before anything runs)."""
        return Decision("ask", "unchecked", "this policy cannot judge commands")

    def grants_network(self, call: PolicyCall) -> bool:
        """Whether the sandbox may open the network for this command call; only a rule for it may say so."""
        return False

    def is_secret(self, path: Path) -> bool | None:
        """Whether `path` is a secret whose content (and, for a folder, listing) llmos never returns; tools skip
        such files in the folders they walk. None: this policy does not say, and the default profile's rules
        apply (never "not a secret" by default)."""
        return None

    def sandbox_confinement(self) -> Confinement | None:
        """What sandboxed commands must not see or change, from this policy's secret and protected paths. None:
        this policy does not say, and the sandbox applies the default profile's (never nothing)."""
        return None
