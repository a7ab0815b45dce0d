"""The grammar-first-token decoder picks exactly what llama-cpp-python's grammar sampler chain picks (greedy),
on the real small model, including where the model's favourite token breaks the grammar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import pytest
from llmos.models import decoding
from llmos.models.decoding import DecodeCounts, common_prefix_length, decode_greedy
from llmos.models.grammar import call_schema
from llmos.models.llama_backend import LlamaBackend, LoadOptions, compile_grammar
from llmos.models.prompt import Turn, build_prefix, render_conversation
from llmos.models.resolve import resolve_model
from llmos.tools import load_builtin_tools
from realmodel import SMALL_MODEL

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


# Logits computed for a batch of tokens differ from one-token passes in the last bits (llama.cpp's kernels sum in
# another order), so a draft may flip a near tie between two tokens; it must never flip a clear choice.
NEAR_TIE_LOGITS = 0.5


def _prompt_tokens(backend: LlamaBackend, request_text: str) -> tuple[list[int], dict]:
    specs = load_builtin_tools().specs()
    schema = call_schema([(spec.name, spec.parameters_schema) for spec in specs])
    prefix = build_prefix([spec.signature_line() for spec in specs])
    return backend._tokenize(prefix + render_conversation([Turn("user", request_text)])), schema


def _decode_tokens(backend: LlamaBackend, tokens: list[int], schema: dict, draft_tokens: int,
                   monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[int], DecodeCounts]:
    """The decoder's text and the token ids it chose (recorded where each chosen token is turned into text)."""
    chosen: list[int] = []
    text_of_token = decoding._text

    def recording_text(llm: Any, text_decoder: Any, token: int) -> Iterator[str]:  # the signature of decoding._text
        chosen.append(token)
        return text_of_token(llm, text_decoder, token)

    monkeypatch.setattr(decoding, "_text", recording_text)
    backend._llm.reset()
    counts: list[DecodeCounts] = []
    produced = "".join(decode_greedy(backend._llm, tokens, compile_grammar(schema), 80, counts_out=counts,
                                     draft_tokens=draft_tokens))
    monkeypatch.setattr(decoding, "_text", text_of_token)
    return produced, chosen, counts[0]


@pytest.mark.parametrize("request_text", REQUESTS)
def test_same_output_as_the_sampler_chain(backend: LlamaBackend, request_text: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Greedy under the grammar and one token per pass, the fast decoder's text equals the sampler chain's for the
    same prompt: checking the favourite token first changes nothing."""
    tokens, schema = _prompt_tokens(backend, request_text)
    expected = _chain_output(backend, tokens, schema)
    produced, _, counts = _decode_tokens(backend, tokens, schema, 0, monkeypatch)
    assert produced == expected
    assert counts.drafted_tokens == 0


@pytest.mark.parametrize("request_text", REQUESTS)
def test_drafting_keeps_the_greedy_choice_except_at_near_ties(backend: LlamaBackend, request_text: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Prompt-lookup drafting keeps the greedy output: where its tokens differ from one-token-per-pass decoding
    at all, the first difference is between two tokens the model scores within NEAR_TIE_LOGITS of each other."""
    tokens, schema = _prompt_tokens(backend, request_text)
    _, sequential, _ = _decode_tokens(backend, tokens, schema, 0, monkeypatch)
    _, drafted, counts = _decode_tokens(backend, tokens, schema, 4, monkeypatch)
    # The call format is in the prompt's examples, so prompt lookup drafts part of the reply correctly.
    assert counts.draft_tokens_kept > 0
    if drafted == sequential:
        return
    split = common_prefix_length(drafted, sequential)
    assert split < min(len(drafted), len(sequential)), (drafted, sequential)
    llm = backend._llm
    llm.reset()
    llm.eval(tokens + sequential[:split])
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))
    margin = abs(float(logits[sequential[split]]) - float(logits[drafted[split]]))
    assert margin < NEAR_TIE_LOGITS, (margin, llm.detokenize([sequential[split]]), llm.detokenize([drafted[split]]))


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
