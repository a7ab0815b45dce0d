"""What the session needs from a model: JSON text generated under a schema, after a cached static prefix."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from llmos.errors import ModelError, ModelLoadError


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

    # Read-only here: callers only read them, and a lazy backend computes them (`LazyBackend`).
    @property
    def name(self) -> str: ...

    @property
    def load_ms(self) -> float:
        """What loading the model took (0 until a lazy backend has loaded)."""
        ...

    @property
    def last_stats(self) -> GenerationStats:
        """The counts of the latest `generate` call."""
        ...

    @property
    def n_ctx(self) -> int:
        """Context length in tokens: prompt and reply together must fit."""
        ...

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...

    def warm(self, prefix: str) -> None:
        """Evaluate `prefix` now, so the first request does not wait for it; a backend that caches nothing
        (a remote server keeps its own cache) does nothing."""
        ...

    def close(self) -> None:
        """Free the model now; a backend that holds nothing does nothing."""
        ...


class LazyBackend:
    """A `Backend` that loads its model on first use, so a request answered without the model (the fast path)
    never pays the load. `name` is known up front; `load_ms` is 0 until the load, then what loading took, so the
    session reports it on the request that paid for it. A load that fails raises `ModelLoadError`."""

    def __init__(self, name: str, load: Callable[[], Backend]) -> None:
        self.name = name
        self._load = load
        self._loaded: Backend | None = None
        self._lock = threading.Lock()
        self.load_ms = 0.0

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    @property
    def inner(self) -> Backend:
        """The loaded backend, loading it now if needed (front ends may call from several worker threads)."""
        with self._lock:
            if self._loaded is None:
                started = time.perf_counter()
                try:
                    self._loaded = self._load()
                except ModelError as exc:
                    raise ModelLoadError(str(exc)) from None
                # Summed over loads (one closed and used again loads again), as the session counts what it reported.
                self.load_ms += (time.perf_counter() - started) * 1000
            return self._loaded

    @property
    def last_stats(self) -> GenerationStats:
        return self._loaded.last_stats if self._loaded is not None else GenerationStats()

    @property
    def n_ctx(self) -> int:
        return self.inner.n_ctx

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        return self.inner.generate(prefix, conversation, schema, max_tokens)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def warm(self, prefix: str) -> None:
        self.inner.warm(prefix)

    def close(self) -> None:
        """Free the model if it was ever loaded; one never loaded costs nothing to close."""
        with self._lock:
            loaded, self._loaded = self._loaded, None
        if loaded is not None:
            loaded.close()
