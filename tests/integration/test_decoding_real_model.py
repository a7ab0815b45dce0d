"""The grammar-first-token decoder picks exactly what llama-cpp-python's grammar sampler chain picks (greedy),
on the real small model, including where the model's favourite token breaks the grammar."""

from __future__ import annotations

from pathlib import Path

import pytest
from realmodel import SMALL_MODEL

from llmos.models.decoding import DecodeCounts, decode_greedy
from llmos.models.grammar import call_schema
from llmos.models.llama_backend import LlamaBackend, LoadOptions, compile_grammar
from llmos.models.prompt import Turn, build_prefix, render_conversation
from llmos.models.resolve import resolve_model
from llmos.tools import load_builtin_tools

pytestmark = pytest.mark.model

REQUESTS = (
    "how many files are in ~/Downloads?",
    "what is using the most memory?",
    "write a haiku about the sea",
)


@pytest.fixture(scope="module")
def backend(model_cache_home: Path) -> LlamaBackend:
    path = resolve_model(SMALL_MODEL, progress=False, cache_dir=model_cache_home / "llmos" / "models").path
    loaded = LlamaBackend(path, "small", "test-decoding", LoadOptions(prompt_cache_dir=None))
    yield loaded
    loaded.close()


def _chain_output(backend: LlamaBackend, tokens: list[int], grammar_schema: dict) -> str:
    """What llama-cpp-python's own sampler chain (grammar over the whole vocabulary, then greedy) generates."""
    llm = backend._llm
    llm.reset()
    chunks = llm.create_completion(prompt=tokens, max_tokens=80, temperature=0.0,
                                   grammar=compile_grammar(grammar_schema), stream=False)
    return chunks["choices"][0]["text"]


@pytest.mark.parametrize("request_text", REQUESTS)
def test_same_output_as_the_sampler_chain(backend: LlamaBackend, request_text: str) -> None:
    """Greedy under the grammar, the fast decoder's text equals the sampler chain's for the same prompt."""
    specs = load_builtin_tools().specs()
    schema = call_schema([(spec.name, spec.parameters_schema) for spec in specs])
    prefix = build_prefix([spec.signature_line() for spec in specs])
    tokens = backend._tokenize(prefix + render_conversation([Turn("user", request_text)]))
    expected = _chain_output(backend, tokens, schema)
    backend._llm.reset()
    counts: list[DecodeCounts] = []
    produced = "".join(decode_greedy(backend._llm, tokens, compile_grammar(schema), 80, counts_out=counts))
    assert produced == expected
    # The call format is in the prompt's examples, so prompt lookup drafts part of the reply correctly.
    assert counts[0].draft_tokens_kept > 0


def test_refused_favourite_token_falls_back_to_the_full_pass(backend: LlamaBackend) -> None:
    """A grammar the model would not follow by itself (a JSON string when the prompt invites prose) still
    yields grammar-valid output: the full pass runs, and the text matches the sampler chain's."""
    schema = {"type": "object", "properties": {"shout": {"type": "string", "enum": ["YES", "NO"]}},
              "required": ["shout"], "additionalProperties": False}
    tokens = backend._tokenize("<|im_start|>user\nTell me a long story about cats.<|im_end|>\n<|im_start|>assistant\n")
    expected = _chain_output(backend, tokens, schema)
    backend._llm.reset()
    counts: list[DecodeCounts] = []
    produced = "".join(decode_greedy(backend._llm, tokens, compile_grammar(schema), 80, counts_out=counts))
    assert produced == expected
    assert produced.replace(" ", "") in ('{"shout":"YES"}', '{"shout":"NO"}')
    assert counts[0].full_grammar_passes >= 1
