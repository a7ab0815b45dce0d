"""Examples retrieved per request: BM25 over the library's requests (rank_bm25), the best few placed in the prompt
after the cached prefix, most alike last (the small model follows the nearest example most)."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from llmos.examples.library import PlanExample, load_library
from llmos.learning import content_words

QUESTION_WORDS = frozenset(
    "how many much which who whom whose when where why have has had does did was were there here any some all am"
    .split()
)
"""Words that say a request is a question, not what it is about: shared alone ("who won the world series?" and
"who owns /var/log/syslog"), they made unrelated examples look alike. What, is, do, ... are already
`llmos.learning`'s stop words."""


def retrieval_words(text: str) -> list[str]:
    """The words a request is matched by: its content words (`llmos.learning.content_words`) without question
    words and single letters (the "s" of "what's")."""
    return [word for word in content_words(text) if len(word) > 1 and word not in QUESTION_WORDS]


@dataclass(frozen=True)
class _Pool:
    """Examples searched together, each example's retrieval words, and their BM25 index (None when empty:
    BM25Okapi divides by the corpus size)."""

    examples: list[PlanExample]
    words: list[set[str]]
    bm25: BM25Okapi | None

    @classmethod
    def of(cls, examples: list[PlanExample]) -> _Pool:
        corpus = [retrieval_words(example.request) or ["-"] for example in examples]
        return cls(examples, [set(words) for words in corpus], BM25Okapi(corpus) if corpus else None)


class ExampleIndex:
    """A BM25 index of `examples`' requests. Examples for piped data and the others are kept apart: a request
    with piped data is planned with the stdin tools, one without it never is."""

    def __init__(self, examples: Sequence[PlanExample]) -> None:
        self.examples = list(examples)
        self._pools = {piped: _Pool.of([example for example in self.examples if (example.piped is not None) == piped])
                       for piped in (True, False)}

    def nearest(
        self,
        request: str,
        limit: int,
        *,
        piped: bool = False,
        allowed_tools: Collection[str] | None = None,
    ) -> list[PlanExample]:
        """Up to `limit` examples most like `request` (sharing at least one content word), least alike first;
        with `allowed_tools`, only examples whose every call uses one of them (a read-only request is never
        shown a delete)."""
        words = retrieval_words(request)
        pool = self._pools[piped]
        if limit <= 0 or not words or pool.bm25 is None:
            return []
        scores = pool.bm25.get_scores(words)
        # Words shared break BM25's ties: in a small pool a word in half the examples has no weight at all.
        shared = [len(set(words) & example_words) for example_words in pool.words]
        ranked = sorted(range(len(pool.examples)), key=lambda at: (-scores[at], -shared[at], at))
        chosen: list[PlanExample] = []
        for position in ranked:
            if len(chosen) == limit:
                break
            example = pool.examples[position]
            if not shared[position]:
                continue
            if allowed_tools is not None and not set(example.tool_names) <= set(allowed_tools):
                continue
            chosen.append(example)
        return chosen[::-1]


@functools.cache
def library_index() -> ExampleIndex:
    """The index of the bundled library, built on first use (a few milliseconds) and kept."""
    return ExampleIndex(load_library())
