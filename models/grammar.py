"""The shape of a model reply: exactly one call `{"tool": NAME, "args": {...}}` among the offered tools.

The schema has one branch per tool with that tool's exact argument schema, so decoding constrained by it cannot
produce an unknown tool or a malformed argument; the session validates the parsed call again anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def call_schema(tools: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A JSON schema accepting one call of any tool in `tools` ((name, parameters schema) pairs)."""
    if not tools:
        raise ValueError("a reply schema needs at least one tool")
    branches = [
        {
            "type": "object",
            "properties": {"tool": {"const": name}, "args": parameters},
            "required": ["tool", "args"],
            "additionalProperties": False,
        }
        for name, parameters in tools
    ]
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def with_choices(parameters: dict[str, Any], choices: dict[str, Sequence[str]]) -> dict[str, Any]:
    """`parameters` (a tool's arguments schema) with each named string argument limited to its choices: an
    argument that must name something that exists (a piped table's column) cannot name anything else."""
    properties = dict(parameters.get("properties", {}))
    for name, allowed in choices.items():
        if name in properties and allowed:
            properties[name] = {"type": "string", "enum": list(dict.fromkeys(allowed))}
    return {**parameters, "properties": properties}
