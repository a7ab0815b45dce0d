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


def test_a_cached_grammar_keeps_the_schemas_property_order() -> None:
    """The model writes fields in the schema's order (a rule's trigger before its action); a cache keyed by sorted
    JSON once compiled every schema alphabetically, and the real model then wrote rules action-first."""
    _compiled_grammar.cache_clear()
    backend = LlamaBackend.__new__(LlamaBackend)
    fields = {"trigger": {"type": "string"}, "action": {"type": "string"}}
    trigger_first = {"type": "object", "properties": fields, "required": ["trigger", "action"]}
    action_first = {"type": "object", "properties": dict(reversed(fields.items())), "required": ["action", "trigger"]}
    for wanted, order in ((trigger_first, ("trigger", "action")), (action_first, ("action", "trigger"))):
        root = next(line for line in backend._grammar(wanted)._grammar.splitlines() if line.startswith("root ::="))
        assert root.index(f"{order[0]}-kv") < root.index(f"{order[1]}-kv"), root
