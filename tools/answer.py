"""`answer`: the final reply. The session ends a request when the model calls it."""

from __future__ import annotations

from llmos.tools.registry import tool

from llmos.effects import Effect


@tool("answer", Effect.READ)
def answer(text: str) -> str:
    """Give the final reply to the user, based only on what tools returned.

    Args:
        text: the reply, short and specific (numbers, names, paths).
    """
    return text
