"""A find's size and age filters are offered only to a request that speaks of sizes or ages
(`llmos.filter_grounding`): the model filled unneeded filters with placeholders and the find found nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools import load_builtin_tools

from llmos.filter_grounding import FILTERS, ground_filters
from llmos.session import Session

LIBRARY = Path(__file__).parents[2] / "llmos" / "examples" / "library"


def find_parameters() -> dict:
    spec = load_builtin_tools().get("files.find")
    assert spec is not None
    return spec.parameters_schema


@pytest.mark.parametrize(("request_text", "offered"), [
    ("find the shell scripts in ~/projects and set them to 755", set()),
    ("find files bigger than 10MB in my home", {"min_size", "max_size"}),
    ("are there any empty files in my Documents?", {"min_size", "max_size"}),
    ("delete the downloads older than a year", {"newer_than", "older_than"}),
    ("which pdfs changed since 2024-03-01 and are over 2 GB?", set(FILTERS)),
])
def test_filters_are_offered_where_the_request_speaks_of_them(request_text: str, offered: set[str]) -> None:
    properties = ground_filters(find_parameters(), request_text)["properties"]
    assert {name for name in FILTERS if name in properties} == offered
    assert {"path", "name", "type", "sort", "limit"} <= set(properties)


def test_every_filter_the_examples_library_uses_is_offered_to_its_request() -> None:
    """The library's plans are verified right; none may lose a filter it needs."""
    for library_file in sorted(LIBRARY.glob("*.toml")):
        for example in tomllib.loads(library_file.read_text())["example"]:
            for planned in example["calls"]:
                kept = ground_filters(find_parameters(), example["request"])["properties"]
                for name in FILTERS:
                    if name in planned.get("args", {}):
                        assert name in kept, (example["request"], name)


def test_the_turns_grammar_leaves_unasked_filters_out(temp_home: Path) -> None:
    backend = ScriptedBackend([call("files.find", path="~", name="*.sh"), answer("None.")])
    list(Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run("find my shell scripts"))
    branches = backend.calls[0].schema["anyOf"]
    find = next(branch for branch in branches if branch["properties"]["tool"]["const"] == "files.find")
    assert not set(FILTERS) & set(find["properties"]["args"]["properties"])
