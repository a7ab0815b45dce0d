"""Routed calls: with a model that can continue a begun reply, each call is made in two steps, the tool chosen
from a menu of one line per tool, then its arguments written after that tool's signature and examples."""

from __future__ import annotations

from typing import Any

from fakes import AllowReadOnlyPolicy, RoutingScriptedBackend, ScriptedBackend, answer, call
from llmos.models.prompt import begun_call
from llmos.tools import load_builtin_tools
from llmos.tools.registry import Registry, tool

from llmos.effects import Effect
from llmos.events import AnswerToken, RequestFinished
from llmos.session import Session, SessionOptions


def make_registry() -> Registry:
    registry = Registry()

    @tool("answer", Effect.READ, registry)
    def answer_tool(text: str) -> str:
        """Give the final reply."""
        return text

    @tool("demo.count", Effect.READ, registry)
    def count(folder: str, kind: str = "file") -> dict[str, Any]:
        """Count things in a folder (by kind); folder may be a glob."""
        return {"folder": folder, "kind": kind, "count": 3}

    @tool("demo.size", Effect.READ, registry)
    def size(folder: str) -> dict[str, Any]:
        """Measure a folder."""
        return {"folder": folder, "size": "4 KB"}

    return registry


def finished(events: list[Any]) -> RequestFinished:
    assert isinstance(events[-1], RequestFinished)
    return events[-1]


def test_a_routed_call_chooses_the_tool_then_writes_its_arguments_after_its_note() -> None:
    backend = RoutingScriptedBackend([call("demo.count", folder="Downloads"), answer("There are 3 files.")])
    session = Session(backend, make_registry(), AllowReadOnlyPolicy())
    outcome = finished(list(session.run("how many files in Downloads?")))
    assert outcome.ok and outcome.answer == "There are 3 files."
    assert outcome.steps[0].tool == "demo.count" and outcome.steps[0].args["folder"] == "Downloads"
    # The first step chose among every offered tool, answer included.
    assert backend.routes[0] == ["answer", "demo.count", "demo.size"]
    arguments = backend.calls[0]
    # The arguments were asked for with only that tool's parameters, after its full signature line.
    assert set(arguments.schema["properties"]) == {"folder", "kind"}
    assert 'demo.count(folder, kind="file"): Count things in a folder (by kind); folder may be a glob.' in (
        arguments.conversation)
    assert arguments.conversation.endswith(begun_call("demo.count"))
    # The answer's arguments follow no note: its one argument is in every example.
    answering = backend.calls[1]
    assert "<|im_start|>system" not in answering.conversation
    assert answering.conversation.endswith(begun_call("answer"))


def test_a_routed_prefix_lists_a_menu_line_per_tool_and_leaves_signatures_to_the_notes() -> None:
    backend = RoutingScriptedBackend([answer("Hello.")])
    session = Session(backend, make_registry(), AllowReadOnlyPolicy())
    list(session.run("hi"))
    prefix = backend.calls[0].prefix
    assert "demo.count: Count things in a folder.\n" in prefix
    assert "demo.count(" not in prefix
    # A model that writes whole calls reads every signature in the prefix, as before.
    whole = ScriptedBackend([answer("Hello.")])
    list(Session(whole, make_registry(), AllowReadOnlyPolicy()).run("hi"))
    assert 'demo.count(folder, kind="file")' in whole.calls[0].prefix


def test_a_routed_answer_streams_and_the_history_holds_the_whole_call() -> None:
    backend = RoutingScriptedBackend([call("demo.size", folder="Music"), answer("Music holds 4 KB.")])
    session = Session(backend, make_registry(), AllowReadOnlyPolicy())
    events = list(session.run("how big is Music?"))
    streamed = "".join(event.text for event in events if isinstance(event, AnswerToken))
    assert streamed == "Music holds 4 KB."
    # The next turn reads the routed reply as one whole call, so the model sees its own plan as it wrote it.
    assert '{"tool": "demo.size", "args": {"folder": "Music"}}' in backend.calls[1].conversation


def test_one_tool_on_offer_is_not_routed() -> None:
    """A turn that may only answer (the step limit reached) asks for the answer's arguments at once."""
    backend = RoutingScriptedBackend([call("demo.size", folder="Music"), answer("4 KB.")])
    session = Session(backend, make_registry(), AllowReadOnlyPolicy(), SessionOptions(max_steps=1))
    outcome = finished(list(session.run("how big is Music?")))
    assert outcome.answer == "4 KB."
    assert len(backend.routes) == 1  # the first turn only


def test_the_builtin_tools_have_menu_lines_without_arguments() -> None:
    for spec in load_builtin_tools().specs():
        line = spec.menu_line()
        assert line.startswith(f"{spec.name}: ") and "(" not in line and ";" not in line, line
