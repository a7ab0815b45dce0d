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
