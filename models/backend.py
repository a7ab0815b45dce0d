"""What the session needs from a model: JSON text generated under a schema, after a cached static prefix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class GenerationStats:
    """Counts and times of one `generate` call, filled in when its iterator is exhausted."""

    prompt_tokens: int = 0
    """Tokens of the whole prompt (prefix + conversation)."""
    cached_tokens: int = 0
    """Of those, tokens whose KV state was reused instead of evaluated."""
    generated_tokens: int = 0
    prompt_ms: float = 0.0
    generate_ms: float = 0.0


class Backend(Protocol):
    """A loaded model. `generate` streams text pieces of one JSON value that matches `schema`.

    `prefix` is the static start of every prompt (system text, tool list, examples): a backend evaluates it once
    and reuses its state. `conversation` is the rest, ending where the assistant's reply begins.
    """

    name: str
    load_ms: float
    last_stats: GenerationStats
    n_ctx: int
    """Context length in tokens: prompt and reply together must fit."""

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...
