"""grounded_answer: the model's answer stands when every fact in it is grounded; otherwise the last successful
read step's rendering (or its plain fields) replaces it, and the failed facts are reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from llmos.tools.registry import Registry

from llmos.answers import GroundedAnswer, grounded_answer, render_step, ungrounded_facts
from llmos.events import Step

EXPENSES = {"path": "~/Documents/expenses.csv", "size": "82 B", "truncated": False, "lines": 4,
            "content": "date,what,amount\n2024-01-05,Coffee,3.50\n"}
SYSTEM = {"os": "Debian 12", "hostname": "kestrel", "uptime": "6:05"}


def step(tool: str, result: Any, status: str = "ok", index: int = 0, **args: Any) -> Step:
    return Step(index=index, tool=tool, args=args, status=status, result=json.dumps(result))  # type: ignore[arg-type]


def test_a_grounded_model_answer_is_kept() -> None:
    """Every fact in the results: the model's words are shown, source "model", nothing ungrounded."""
    steps = [step("files.read", EXPENSES, path="~/Documents/expenses.csv")]
    answer = grounded_answer("expenses.csv has 4 lines.", "count the lines in ~/Documents/expenses.csv", steps)
    assert answer == GroundedAnswer("expenses.csv has 4 lines.", "model", [])


def test_an_ungrounded_answer_is_replaced_by_the_rendered_result() -> None:
    """ "There are no lines" over a 4-line file: the rendered answer replaces it and the fact is reported."""
    steps = [step("files.read", EXPENSES, path="~/Documents/expenses.csv")]
    answer = grounded_answer("There are no lines.", "count the lines in ~/Documents/expenses.csv", steps)
    assert answer == GroundedAnswer("~/Documents/expenses.csv has 4 lines (82 B) and was read in full.", "rendered",
                                    ["no lines"])


def test_the_hostname_question_gets_the_hostname() -> None:
    """ "The hostname is ~." is replaced by the summary's hostname."""
    steps = [step("system.info", SYSTEM)]
    answer = grounded_answer("The hostname of this machine is ~.", "what is the hostname of this machine?", steps)
    assert answer == GroundedAnswer("The hostname is kestrel.", "rendered", ["~"])


def test_the_last_successful_read_step_is_rendered() -> None:
    """With several steps, the last one that succeeded is the one rendered; failed and denied ones are skipped."""
    steps = [
        step("system.info", SYSTEM, index=0),
        step("files.read", EXPENSES, index=1, path="~/Documents/expenses.csv"),
        Step(index=2, tool="files.read", args={"path": "~/x"}, status="error", result='{"error": "no such file"}'),
        Step(index=3, tool="files.read", args={"path": "~/.ssh/id"}, status="denied", result='{"not_run": "denied"}'),
    ]
    answer = grounded_answer("It has 7 lines.", "lines?", steps)
    assert answer.source == "rendered" and answer.text.startswith("~/Documents/expenses.csv has 4 lines")
    assert answer.ungrounded == ["7"]


def test_steps_that_did_not_run_are_no_source_of_facts() -> None:
    """A fact found only in a denied or skipped step's text (or an error) is not grounded."""
    steps = [Step(index=0, tool="files.read", args={}, status="skipped", result='{"not_run": "4 lines"}'),
             step("system.info", SYSTEM, index=1)]
    answer = grounded_answer("It has 4 lines.", "lines?", steps)
    assert answer.ungrounded == ["4"] and answer.source == "rendered"


def test_piped_data_grounds_facts() -> None:
    """Facts from piped data the caller passes as an extra source are grounded."""
    answer = grounded_answer("sda1 had 3 errors.", "any disk errors?", [], extra_sources=["sda1: 3 errors"])
    assert answer == GroundedAnswer("sda1 had 3 errors.", "model", [])


def test_a_tool_without_a_renderer_gets_its_plain_fields_said_to_come_from_its_result() -> None:
    """No renderer fits: a short generic rendering of the result's plain fields that names the tool."""
    steps = [step("files.archive", {"archive": "~/a.zip", "members": 3, "size": "1.0 KB", "list": [1, 2]})]
    answer = grounded_answer("I made ~/b.zip with 9 files.", "zip it", steps)
    assert answer.text == "From the files.archive result: archive: ~/a.zip; members: 3; size: 1.0 KB."
    assert answer.source == "rendered" and answer.ungrounded == ["~/b.zip", "9"]


def test_without_any_successful_step_an_ungrounded_answer_is_not_shown_as_fact() -> None:
    """No result to render: llmos says it could not check the answer, naming what failed."""
    answer = grounded_answer("Python 3.14 came out in 2025.", "when did python 3.14 come out?", [])
    assert answer.source == "rendered" and answer.ungrounded == ["2025"]
    assert "could not check" in answer.text and "2025" in answer.text


def test_no_model_answer_is_rendered_from_the_steps() -> None:
    """The model gave no answer (it failed or stopped): the last step's rendering stands, nothing ungrounded."""
    answer = grounded_answer(None, "what is the hostname?", [step("system.info", SYSTEM)])
    assert answer == GroundedAnswer("The hostname is kestrel.", "rendered", [])


def test_a_model_answer_with_no_facts_stands_without_steps() -> None:
    """Conversation with nothing to check needs no tool result."""
    assert grounded_answer("Hi! Ask me about your files.", "hello", []) == GroundedAnswer(
        "Hi! Ask me about your files.", "model", [])


@pytest.mark.parametrize(("tool", "args", "request_text"), [
    ("files.list", {"path": "~/Downloads"}, "what is in Downloads"),
    ("files.list", {"path": "~/Downloads"}, "list the pdf files in Downloads"),
    ("files.find", {"path": "~", "name": "*.pdf", "limit": 1}, "find my pdfs"),
    ("files.find", {"path": "~", "type": "file", "limit": 3}, "find files"),
    ("files.read", {"path": "~/Documents/big.log", "max_bytes": 100}, "how many lines?"),
    ("files.stat", {"path": "~/Downloads"}, "details of Downloads"),
    ("files.search", {"text": "todo", "path": "~"}, "where is todo"),
    ("files.disk_usage", {"path": "~"}, "what takes space"),
    ("files.hash", {"path": "~/Downloads/notes.txt"}, "sha256"),
    ("system.info", {}, "how is my machine"),
    ("system.info", {"part": "uptime"}, "uptime"),
    ("process.list", {"sort": "memory", "limit": 3}, "top memory"),
])
def test_rendered_answers_are_grounded_in_their_own_result(
    temp_home: Path, builtin_tools: Registry, tool: str, args: dict[str, Any], request_text: str
) -> None:
    """Every fact a renderer states comes from the result it rendered: the check finds nothing to report."""
    spec = builtin_tools.get(tool)
    assert spec is not None
    result = spec.call(spec.validate(args))
    assert result.ok, result.error
    result_text = result.for_model(6000)
    rendered = render_step(Step(index=0, tool=tool, args=args, status="ok", result=result_text), request_text)
    assert rendered is not None
    assert ungrounded_facts(rendered, request_text, [result_text]) == []


def test_a_sum_or_difference_of_stated_numbers_is_grounded_when_the_request_asks_to_combine_them() -> None:
    """"What's the combined revenue of the Q1 and Q2 reports?": 48,200 + 52,900 = 101,100, which no result holds.
    Only when the request combines, and only of real parts: 48,201 is not 48,200 + 1."""
    results = ['{"path":"~/q1.txt","content":"Revenue: 48,200 EUR\\nLines: 1\\n"}',
               '{"path":"~/q2.txt","content":"Revenue: 52,900 EUR\\n"}']
    combined = "what's the combined revenue of the Q1 and Q2 reports?"
    assert ungrounded_facts("The combined revenue is 101,100 EUR.", combined, results) == []
    assert ungrounded_facts("Q2 made 4,700 EUR more than Q1.", "how much more did Q2 make than Q1?", results) == []
    assert ungrounded_facts("The combined revenue is 101,200 EUR.", combined, results) == ["101,200"]
    assert ungrounded_facts("The combined revenue is 48,201 EUR.", combined, results) == ["48,201"]
    assert ungrounded_facts("Q1 and Q2 made 101,100 EUR.", "what did the Q1 and Q2 reports say?", results) == [
        "101,100"]
