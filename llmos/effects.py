"""The effect classes a tool declares: what it does to the world. Policy, intent and undo act on this meaning.

Part of the bottom layer (with errors, paths and display), so tools, policies and the core all name effects with
one enum; it imports nothing of llmos.
"""

from __future__ import annotations

import enum


class Effect(enum.StrEnum):
    """What a tool does to the world; policy and undo act on this meaning, not on the tool's name.

    A StrEnum: a member equals, hashes and formats as its name in profile TOML (`Effect.WRITE == "write"`,
    `f"effect:{Effect.WRITE}"` is `effect:write`), so rule names and messages read the same as the files."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    PROCESS = "process"
    EXEC = "exec"
    NETWORK = "network"
    SECRET = "secret"


def parse_effect(name: str) -> Effect | None:
    """The effect class called `name`, or None when there is none (a caller decides what unknown means)."""
    try:
        return Effect(name)
    except ValueError:
        return None
