"""The llama backend's compiled grammars: reused per tool set, and bounded, so one-off schemas (a repair turn's
paths) do not pile up in a long-running daemon."""

from __future__ import annotations

from llmos.models.llama_backend import GRAMMARS_KEPT, LlamaBackend, _compiled_grammar


def schema(name: str) -> dict[str, object]:
    return {"type": "object", "properties": {"tool": {"const": name}, "args": {"type": "object"}},
            "required": ["tool", "args"]}


def test_grammars_are_reused_and_only_the_newest_are_kept() -> None:
    _compiled_grammar.cache_clear()
    backend = LlamaBackend.__new__(LlamaBackend)  # no model: only the grammar cache is exercised
    first = backend._grammar(schema("files.list"))
    assert backend._grammar(schema("files.list")) is first
    for index in range(GRAMMARS_KEPT * 2):
        backend._grammar(schema(f"tool{index}"))
    assert _compiled_grammar.cache_info().currsize == GRAMMARS_KEPT
    assert backend._grammar(schema("files.list")) is not first  # dropped long ago, compiled again
