"""The tool registry: schemas from signatures, the prompt's signature line, validation, failures as results, and
rendering results within a character budget."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llmos.tools.registry import Registry, ToolError, ToolResult, ToolSpec, tool
from llmos.tools.render import render_within_budget

from llmos.effects import Effect


def make_registry() -> Registry:
    registry = Registry()

    @tool("demo.find", Effect.READ, registry)
    def find(
        pattern: str,
        path: str = ".",
        count: int = 3,
        ratio: float = 0.5,
        exact: bool = False,
        kind: Literal["file", "folder"] = "file",
        note: str | None = None,
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        """Find demo things.

        This second paragraph is for people, not the model.

        Args:
            pattern: what to look for,
                continued on a second line.
            path: where to look.
        """
        return {"pattern": pattern, "path": path, "count": count, "kind": kind, "note": note}

    @tool("demo.fail", Effect.DELETE, registry)
    def fail(how: Literal["tool", "os", "value"]) -> None:
        """Fail in a chosen way."""
        if how == "tool":
            raise ToolError("the thing is locked")
        if how == "os":
            raise FileNotFoundError(2, "No such file or directory", "/tmp/missing")
        raise ValueError("bad value 42")

    return registry


@pytest.fixture
def find_spec() -> ToolSpec:
    return make_registry().get("demo.find")


def test_schema_comes_from_the_signature(find_spec: ToolSpec) -> None:
    """Types map to JSON types, Literal to enum, Optional to the plain type; only no-default params are required;
    titles, defaults and descriptions are left out; no extra properties."""
    assert find_spec.parameters_schema == {
        "type": "object",
        "additionalProperties": False,
        "required": ["pattern"],
        "properties": {
            "pattern": {"type": "string"},
            "path": {"type": "string"},
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "exact": {"type": "boolean"},
            "kind": {"type": "string", "enum": ["file", "folder"]},
            "note": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }


def test_schema_of_a_tool_without_parameters_is_an_empty_object() -> None:
    registry = Registry()

    @tool("demo.ping", Effect.READ, registry)
    def ping() -> str:
        """Answer pong."""
        return "pong"

    assert registry.get("demo.ping").parameters_schema == {
        "type": "object",
        "additionalProperties": False,
        "properties": {},
    }


def test_description_is_the_first_paragraph_and_args_are_parsed(find_spec: ToolSpec) -> None:
    assert find_spec.description == "Find demo things."
    assert find_spec.param_docs == {
        "pattern": "what to look for, continued on a second line.",
        "path": "where to look.",
    }


def test_signature_line_marks_required_defaults_and_optionals(find_spec: ToolSpec) -> None:
    assert find_spec.signature_line() == (
        'demo.find(pattern, path=".", count=3, ratio=0.5, exact=false, kind="file", note?, tags?): Find demo things.'
    )


def test_validate_fills_defaults(find_spec: ToolSpec) -> None:
    assert find_spec.validate({"pattern": "x"}) == {
        "pattern": "x", "path": ".", "count": 3, "ratio": 0.5, "exact": False, "kind": "file",
        "note": None, "tags": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("raw_args", "message"),
    [
        ({}, "invalid arguments for demo.find: pattern: Field required"),
        ({"pattern": "x", "count": "many"}, "invalid arguments for demo.find: count: Input should be a valid integer"),
        ({"pattern": "x", "kind": "dir"}, "invalid arguments for demo.find: kind: Input should be 'file' or 'folder'"),
        ({"pattern": "x", "folder": "~"}, "invalid arguments for demo.find: folder: Extra inputs are not permitted"),
        ({"pattern": 7}, "invalid arguments for demo.find: pattern: Input should be a valid string"),
    ],
)
def test_bad_arguments_become_a_readable_failed_result(
    find_spec: ToolSpec, raw_args: dict[str, Any], message: str
) -> None:
    result = find_spec.call(raw_args)
    assert not result.ok and result.data is None
    assert result.error.startswith(message)


def test_successful_call_returns_the_data(find_spec: ToolSpec) -> None:
    assert find_spec.call({"pattern": "*.pdf", "count": 2}) == ToolResult(
        ok=True, data={"pattern": "*.pdf", "path": ".", "count": 2, "kind": "file", "note": None}
    )


@pytest.mark.parametrize(
    ("how", "message"),
    [("tool", "the thing is locked"), ("os", "no such file or directory: /tmp/missing"), ("value", "bad value 42")],
)
def test_tool_failures_become_readable_results(how: str, message: str) -> None:
    """ToolError, OSError and ValueError raised by a tool are results the model reads, not crashes."""
    assert make_registry().get("demo.fail").call({"how": how}) == ToolResult(ok=False, error=message)


def test_failed_result_for_model_is_an_error_object() -> None:
    assert ToolResult(ok=False, error="the thing is locked").for_model(1000) == '{"error":"the thing is locked"}'


def test_registry_lists_and_filters_by_effect() -> None:
    registry = make_registry()
    assert registry.names() == ["demo.find", "demo.fail"]
    assert "demo.find" in registry and "demo.nope" not in registry
    assert registry.get("demo.nope") is None
    assert [spec.name for spec in registry.specs([Effect.DELETE])] == ["demo.fail"]
    assert [spec.name for spec in registry.specs()] == ["demo.find", "demo.fail"]


def test_registering_a_name_twice_is_refused() -> None:
    registry = make_registry()
    with pytest.raises(ValueError, match="registered twice"):

        @tool("demo.find", Effect.READ, registry)
        def again() -> None:
            """Again."""


def test_tool_without_docstring_or_type_hint_or_with_varargs_is_refused() -> None:
    registry = Registry()
    with pytest.raises(ValueError, match="needs a docstring"):

        @tool("demo.nodoc", Effect.READ, registry)
        def nodoc() -> None:
            pass

    with pytest.raises(ValueError, match="has no type hint"):

        @tool("demo.nohint", Effect.READ, registry)
        def nohint(path) -> None:  # the missing hint is the point
            """No hint."""

    with pytest.raises(ValueError, match=r"\*args/\*\*kwargs"):

        @tool("demo.varargs", Effect.READ, registry)
        def varargs(*paths: str) -> None:
            """Varargs."""


def test_parameters_named_like_schema_keywords_keep_their_schema() -> None:
    """A parameter called `title` (e.g. a notes tool) must stay in `properties`, or `required` names a property
    the schema does not have and the grammar cannot be satisfied."""
    registry = Registry()

    @tool("notes.add", Effect.WRITE, registry)
    def add(title: str, description: str = "", default: bool = False) -> str:
        """Add a note."""
        return title

    schema = registry.get("notes.add").parameters_schema
    assert schema["properties"] == {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "default": {"type": "boolean"},
    }
    assert schema["required"] == ["title"]


# --- render_within_budget ------------------------------------------------------------------------------------


def test_small_data_is_rendered_whole_and_compact() -> None:
    assert render_within_budget({"files": 2, "names": ["a", "b"]}, 100) == '{"files":2,"names":["a","b"]}'


def test_long_list_is_halved_with_a_note_and_fits() -> None:
    data = {"path": "~/Downloads", "files": 300, "entries": [{"name": f"file-{index:03d}.txt"} for index in range(300)]}
    text = render_within_budget(data, 1000)
    assert len(text) <= 1000
    shrunk = json.loads(text)
    shown = len(shrunk["entries"])
    assert 0 < shown < 300
    assert shrunk["entries_note"] == f"showing {shown} of 300"
    assert shrunk["entries"] == data["entries"][:shown]  # the head of the list is kept
    assert (shrunk["path"], shrunk["files"]) == ("~/Downloads", 300)


def test_top_level_list_is_wrapped_so_its_cut_can_be_noted() -> None:
    shrunk = json.loads(render_within_budget([f"line {index}" for index in range(100)], 200))
    assert shrunk["items_note"] == f"showing {len(shrunk['items'])} of 100"


def test_long_string_is_hard_cut_with_a_note() -> None:
    text = render_within_budget({"content": "x" * 5000}, 200)
    assert len(text) == 200
    assert text.endswith("... [truncated: 5014 chars cut to 200]")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=30) | st.dictionaries(st.text(max_size=10), children, max_size=8),
    max_leaves=200,
)


@settings(max_examples=200, deadline=None)
@given(data=json_values, budget_chars=st.integers(min_value=64, max_value=4000))
def test_render_never_exceeds_the_budget(data: Any, budget_chars: int) -> None:
    """Whatever the shape, the rendered text fits the budget (budgets at least as long as the cut note)."""
    assert len(render_within_budget(data, budget_chars)) <= budget_chars


@settings(max_examples=100, deadline=None)
@given(items=st.lists(st.integers(), min_size=1, max_size=400), budget_chars=st.integers(min_value=64, max_value=2000))
def test_render_of_a_cut_list_is_valid_json_with_a_true_note(items: list[int], budget_chars: int) -> None:
    """A list of small values is cut, not hard-truncated: the result parses and the note says what is shown."""
    text = render_within_budget({"values": items}, budget_chars)
    rendered = json.loads(text)
    if "values_note" in rendered:
        assert rendered["values_note"] == f"showing {len(rendered['values'])} of {len(items)}"
        assert rendered["values"] == items[: len(rendered["values"])]
    else:
        assert rendered == {"values": items}


def test_render_fits_even_a_budget_shorter_than_the_cut_note() -> None:
    """A tiny budget is still a hard limit (the cut note is dropped when it cannot fit)."""
    assert len(render_within_budget({"content": "x" * 5000}, 20)) <= 20


# --- the built-in tools --------------------------------------------------------------------------------------


def test_builtin_tools_are_registered_with_short_one_line_descriptions(builtin_tools: Registry) -> None:
    """Every description is prefilled on a CPU for each request: one line, under 12 words."""
    expected = {
        "answer", "files.list", "files.find", "files.read", "files.stat", "files.search", "files.disk_usage",
        "process.list", "process.info", "system.info",
    }  # fmt: skip
    assert expected <= set(builtin_tools.names())
    for name in expected - {"answer"}:
        spec = builtin_tools.get(name)
        assert spec.effect is Effect.READ
        assert "\n" not in spec.description and len(spec.description.split()) < 12, spec.description
        assert spec.parameters_schema["additionalProperties"] is False


BUILTIN_TOOL_ORDER = (
    "answer",
    "files.list", "files.find", "files.read", "files.stat", "files.search", "files.disk_usage", "files.hash",
    "files.write", "files.append", "files.edit", "files.mkdir", "files.copy", "files.move", "files.delete",
    "files.chmod", "files.archive", "files.extract",
    "process.list", "process.info", "process.signal", "process.renice", "system.info", "system.health",
    "shell.run",
)


def test_builtin_tools_are_listed_in_one_fixed_order_whatever_the_import_order() -> None:
    """The prompt's tool list is the order of the one built-in list (`llmos.tools.builtin`), not the order in
    which an entry point happened to import the tool modules: the small model's choices change with the order."""
    from llmos.tools import load_builtin_tools

    assert tuple(spec.name for spec in load_builtin_tools().specs()) == BUILTIN_TOOL_ORDER


def test_a_registry_lists_tools_in_registration_order() -> None:
    from llmos.tools.registry import Registry, build_spec

    from llmos.effects import Effect

    def first() -> str:
        """First."""
        return ""

    registry = Registry()
    for name in ("b", "a", "d", "c"):
        registry.register(build_spec(first, name, Effect.READ))
    assert registry.names() == ["b", "a", "d", "c"]


def test_a_tool_without_a_registry_is_registered_nowhere_until_a_registry_is_built_from_it() -> None:
    """@tool keeps the spec with the function; no registry gains a tool as a side effect of an import."""
    from llmos.tools.registry import Registry, spec_of

    from llmos.effects import Effect

    @tool("demo.unlisted", Effect.READ)
    def unlisted() -> str:
        """Unlisted."""
        return ""

    from llmos.tools import load_builtin_tools

    assert "demo.unlisted" not in load_builtin_tools()
    registry = Registry()
    registry.register(spec_of(unlisted))
    assert registry.names() == ["demo.unlisted"]
    with pytest.raises(ValueError, match="not a tool"):
        spec_of(make_registry)
