"""Topic routing: `system.info` is offered only to requests that mention the machine (`llmos.routing`)."""

from __future__ import annotations

import pytest
from llmos.tools import load_builtin_tools

from llmos.examples.library import load_library
from llmos.routing import on_topic

TOOLS = load_builtin_tools().specs()


def offered(request: str) -> set[str]:
    return {spec.name for spec in on_topic(request, TOOLS)}


@pytest.mark.parametrize("tool_name", ["system.info", "system.health"])
def test_every_library_request_planned_with_a_machine_tool_is_offered_it(tool_name: str) -> None:
    """The examples library (written apart from the eval suite) is the vocabulary check: no request whose
    verified plan uses the tool may lose it."""
    requests = [example.request for example in load_library()
                if any(call.tool == tool_name for call in example.calls)]
    assert len(requests) >= 5
    assert [request for request in requests if tool_name not in offered(request)] == []


@pytest.mark.parametrize("request_text", [
    "who painted the mona lisa?", "what's the population of Tokyo", "how tall is Mount Everest",
    "what's the euro to dollar exchange rate today", "is it going to rain tomorrow in Berlin?",
    "what's 3 to the power of 4", "translate 'good night' into Spanish", "tell me a joke",
])
def test_a_question_about_the_world_is_not_offered_the_machine_facts(request_text: str) -> None:
    tools = offered(request_text)
    assert not {"system.info", "system.health"} & tools
    assert {"answer", "files.find", "process.list"} <= tools  # only the topic tool is held back


@pytest.mark.parametrize("request_text", [
    "why is my computer so slow today?", "how much free space is on the disk", "what's my ip address",
    "which kernel am I running", "is the laptop charging", "how long since the last reboot",
])
def test_a_question_about_this_machine_is_offered_system_info(request_text: str) -> None:
    assert "system.info" in offered(request_text)




@pytest.mark.parametrize("request_text", [
    "what's eating my memory? show the top processes", "how much memory is free?", "list the processes by cpu",
])
def test_the_health_check_is_offered_only_when_the_machine_is_not_doing_well(request_text: str) -> None:
    """A question about memory or processes is a listing's (the model ran the health check instead)."""
    tools = offered(request_text)
    assert "system.health" not in tools and "process.list" in tools
