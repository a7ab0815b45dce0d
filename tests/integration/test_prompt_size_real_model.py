"""The routed planner's first stage reads a prefix of at most 900 tokens (issue 15), counted with the model's
own tokenizer: every set of built-in tools a request's words can allow, and the usual piped-data set."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import llama_cpp
import pytest
from llmos.models.prompt import build_prefix
from llmos.models.resolve import resolve_model
from llmos.tools import load_builtin_tools
from llmos.tools.piped import DocumentView, PipedDocument, piped_tools
from llmos.tools.registry import ToolSpec
from realmodel import DEFAULT_MODEL

from llmos.effects import Effect

pytestmark = pytest.mark.model

FIRST_STAGE_MAX_TOKENS = 900
CHANGE_EFFECTS = (Effect.WRITE, Effect.DELETE, Effect.PROCESS, Effect.EXEC)


@pytest.fixture(scope="module")
def count_tokens(model_cache_home: Path) -> Iterator[Callable[[str], int]]:
    path = resolve_model(DEFAULT_MODEL, progress=False, cache_dir=model_cache_home / "llmos" / "models").path
    vocabulary = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    yield lambda text: len(vocabulary.tokenize(text.encode(), add_bos=False, special=True))
    vocabulary.close()


def routed_prefix(specs: list[ToolSpec]) -> str:
    return build_prefix([spec.menu_line() for spec in specs], tool_examples=False)


def test_every_built_in_tool_set_has_a_first_stage_prefix_of_at_most_900_tokens(
    count_tokens: Callable[[str], int],
) -> None:
    specs = load_builtin_tools().specs()
    sizes: dict[tuple[Effect, ...], int] = {}
    for count in range(len(CHANGE_EFFECTS) + 1):
        for changes in itertools.combinations(CHANGE_EFFECTS, count):
            allowed = {Effect.READ, *changes}
            offered = [spec for spec in specs if spec.effect in allowed]
            sizes[changes] = count_tokens(routed_prefix(offered))
    assert max(sizes.values()) <= FIRST_STAGE_MAX_TOKENS, sizes


def test_a_piped_read_request_has_a_first_stage_prefix_of_at_most_900_tokens(
    count_tokens: Callable[[str], int],
) -> None:
    specs = load_builtin_tools().specs()
    read = [spec for spec in specs if spec.effect is Effect.READ]
    # A table is offered every stdin tool (the table tools too); they come right after `answer`, as the session
    # offers them.
    with PipedDocument.from_text("city,people\nLisbon,545000\nPorto,232000\n") as table:
        stdin_tools = piped_tools(DocumentView(table))
    assert {"stdin.sql", "stdin.table"} <= {spec.name for spec in stdin_tools}
    offered = [read[0], *stdin_tools, *read[1:]]
    assert count_tokens(routed_prefix(offered)) <= FIRST_STAGE_MAX_TOKENS
