"""A find's size and age filters are offered only to a request that speaks of sizes or ages
(`llmos.filter_grounding`): the model filled unneeded filters with placeholders and the find found nothing. A sort
the request asks for ("the oldest") is the only one a find or a listing may use, and it must be given."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools import load_builtin_tools

from llmos.filter_grounding import (
    FILTERS,
    NAME_ARGUMENT,
    SORT_ARGUMENT,
    ground_filters,
    ground_name,
    ground_sort,
    ground_type,
    named_kind,
    names_a_file,
)
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


@pytest.mark.parametrize(("request_text", "order"), [
    ("which file in Documents did I change most recently?", "newest"),
    ("what's the latest screenshot on my desktop?", "newest"),
    ("which download is the oldest?", "oldest"),
    ("which .tmp file in Downloads is the biggest? delete that one", "size"),
])
def test_the_one_order_a_request_asks_for_is_the_only_sort_and_required(request_text: str, order: str) -> None:
    for tool in ("files.find", "files.list"):
        spec = load_builtin_tools().get(tool)
        assert spec is not None
        schema = ground_sort(spec.parameters_schema, request_text)
        assert schema["properties"][SORT_ARGUMENT]["enum"] == [order]
        assert SORT_ARGUMENT in schema["required"]


@pytest.mark.parametrize("request_text", [
    "find my shell scripts",
    "delete the oldest log but keep the newest",  # two orders: the model picks
    "which pdf is the smallest?",  # no order sorts smallest first
])
def test_a_request_that_asks_for_no_single_order_leaves_sort_free(request_text: str) -> None:
    assert ground_sort(find_parameters(), request_text) == find_parameters()


def test_a_tool_without_that_order_is_left_as_it_is() -> None:
    """process.list sorts by cpu or memory: "the newest process" does not limit it."""
    spec = load_builtin_tools().get("process.list")
    assert spec is not None
    assert ground_sort(spec.parameters_schema, "what's the newest process?") == spec.parameters_schema


def test_every_sort_the_examples_library_uses_is_allowed_to_its_request() -> None:
    for library_file in sorted(LIBRARY.glob("*.toml")):
        for example in tomllib.loads(library_file.read_text())["example"]:
            for planned in example["calls"]:
                spec = load_builtin_tools().get(planned["tool"])
                sort = planned.get("args", {}).get(SORT_ARGUMENT)
                if spec is None or sort is None:
                    continue
                allowed = ground_sort(spec.parameters_schema, example["request"])["properties"].get(SORT_ARGUMENT)
                assert allowed is None or sort in allowed.get("enum", [sort]), (example["request"], sort)


@pytest.mark.parametrize("request_text", [
    "find files bigger than 10MB in my home and move them into ~/Archive/big",
    "which file in Documents did I change most recently?",
    "are there any empty files in my Documents?",
    "list the oldest download",
])
def test_a_find_for_a_request_that_names_nothing_has_no_name(request_text: str) -> None:
    """The model filled such a name with ".*" (hidden files only) and "mona*" (the prompt's Mona Lisa): a name
    the request never gave, which matched nothing. Words inside a path ("~/Archive/big") name no file to find."""
    assert not names_a_file(request_text)
    assert NAME_ARGUMENT not in ground_name("files.find", find_parameters(), request_text)["properties"]


@pytest.mark.parametrize("request_text", [
    "find my trip notes", "where is my passport scan", "find the pdfs", "show my newest screenshot",
    "find the Q1 and Q2 reports", "find my photos from last week", "find the shell scripts in ~/projects",
])
def test_a_find_for_a_request_that_names_something_keeps_its_name(request_text: str) -> None:
    assert names_a_file(request_text)
    assert ground_name("files.find", find_parameters(), request_text) == find_parameters()


def test_only_a_finds_name_is_left_out() -> None:
    """A process's name is how a signal or a listing picks it ("the process using the most memory")."""
    for tool in ("process.list", "process.signal"):
        spec = load_builtin_tools().get(tool)
        assert spec is not None
        assert ground_name(tool, spec.parameters_schema, "kill the process using the most memory") == (
            spec.parameters_schema)


def test_every_name_the_examples_library_finds_by_is_offered_to_its_request() -> None:
    for library_file in sorted(LIBRARY.glob("*.toml")):
        for example in tomllib.loads(library_file.read_text())["example"]:
            for planned in example["calls"]:
                if planned["tool"] == "files.find" and planned.get("args", {}).get(NAME_ARGUMENT):
                    assert names_a_file(example["request"]), example["request"]


@pytest.mark.parametrize(("request_text", "kind"), [
    ("which .tmp file in Downloads is the biggest? delete that one", "*.tmp"),
    ("how many .JPG photos are in Pictures", "*.jpg"),
    ("list the *.log files under ~/projects", "*.log"),
    ("print the first line of trip-notes.md", None),   # a file's name, not a kind of file
    ("find the .pdf and .txt files", None),            # two kinds: the model chooses
])
def test_the_one_kind_of_file_a_request_names(request_text: str, kind: str | None) -> None:
    assert named_kind(request_text) == kind


def test_a_find_for_a_named_kind_of_file_must_name_it() -> None:
    """Found with no name, "the biggest .tmp file" was the biggest file of any type, and it was deleted."""
    grounded = ground_name("files.find", find_parameters(), "which .tmp file in Downloads is the biggest?")
    assert grounded["properties"]["name"] == {"type": "string", "enum": ["*.tmp"]}
    assert "name" in grounded["required"]


@pytest.mark.parametrize(("request_text", "file_only"), [
    ("which file in Documents did I change most recently?", True),
    ("what's the oldest file in my Downloads folder?", False),   # speaks of a folder: the model chooses
    ("just the biggest file pls", True),
    ("which folder is biggest?", False),
    ("list the files in Documents", False),                     # no order: a listing may show folders too
])
def test_one_file_asked_for_by_an_order_is_a_file(request_text: str, file_only: bool) -> None:
    grounded = ground_type("files.find", find_parameters(), request_text)
    assert (grounded["properties"]["type"] == {"type": "string", "enum": ["file"]}) is file_only


def test_a_grounded_argument_keeps_its_place_in_the_order_the_model_writes() -> None:
    """The grammar writes required properties first: requiring `name` alone put it before `path`. Everything
    before it in the tool's order is required with it, so the order stays the tool's."""
    grounded = ground_name("files.find", find_parameters(), "how many .jpg pictures do I have in my home folder?")
    assert grounded["required"][:2] == ["path", "name"]
