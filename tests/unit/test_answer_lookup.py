"""Which first looks answer a request by themselves (llmos words the result, no second model turn) and which
leave the answer to the model: the tool and the question must agree, and the request must ask for nothing more."""

from __future__ import annotations

import json

import pytest

from llmos.answers.lookup import lookup_answer
from llmos.events import Step

LISTING = json.dumps({"path": "~/Downloads", "count": 3, "files": 3, "folders": 0, "links": 0,
                      "files_by_type": {"pdf": 2, "txt": 1},
                      "entries": {"columns": ["name", "type", "size"],
                                  "rows": [["a.pdf", "file", "1 KB"], ["b.pdf", "file", "2 KB"],
                                           ["c.txt", "file", "3 B"]]}})
READ = json.dumps({"path": "~/Documents/expenses.csv", "size": 16, "lines": 4, "content": "a,b\n1,2\n3,4\n5,6\n"})


def listing(status: str = "ok") -> Step:
    return Step(index=0, tool="files.list", args={"path": "~/Downloads"}, status=status, result=LISTING)


@pytest.mark.parametrize("request_text", [
    "how many pdf files are in Downloads?", "list my Downloads", "what is in ~/Downloads?",
    "which files are in Downloads", "ls ~/Downloads",
])
def test_a_listing_answers_how_many_and_which(request_text: str) -> None:
    answer = lookup_answer(listing(), request_text)
    assert answer is not None and "~/Downloads" in answer


@pytest.mark.parametrize("request_text", [
    "why is my Downloads folder so big?", "summarise what is in Downloads", "what is the biggest file in Downloads?",
    "list Downloads and delete the pdfs", "are any of the files in Downloads safe to delete?",
    "tell me about my Downloads folder", "what is the newest file in Downloads?",
    "whats on the shopping list in Downloads", "what does the show schedule in Downloads say",
])
def test_judgement_a_pick_or_a_second_thing_is_left_to_the_model(request_text: str) -> None:
    assert lookup_answer(listing(), request_text) is None


def test_a_read_file_answers_how_many_lines_never_what_it_says() -> None:
    """The issue's "count the lines in ~/Documents/expenses.csv" ("There are no lines"; there are 4)."""
    read = Step(index=0, tool="files.read", args={"path": "~/Documents/expenses.csv"}, status="ok", result=READ)
    answer = lookup_answer(read, "count the lines in ~/Documents/expenses.csv")
    assert answer is not None and "4 lines" in answer
    assert lookup_answer(read, "what does ~/Documents/expenses.csv say?") is None
    assert lookup_answer(read, "show me expenses.csv") is None


def test_a_step_that_failed_or_a_tool_without_questions_answers_nothing() -> None:
    assert lookup_answer(listing(status="error"), "list my Downloads") is None
    shell = Step(index=0, tool="shell.run", args={"argv": ["ls"]}, status="ok", result='{"stdout": "a"}')
    assert lookup_answer(shell, "list my files") is None


def test_a_line_question_is_answered_only_by_the_file_read() -> None:
    """"count the lines in expenses.csv" after a search for the file's name: the search's result does not answer
    it; the model goes on."""
    search = Step(index=0, tool="files.search", args={"text": "expenses.csv", "path": "~/Documents"}, status="ok",
                  result=json.dumps({"matches": 0, "files_with_matches": 0, "files_searched": 2, "results": []}))
    assert lookup_answer(search, "count the lines in ~/Documents/expenses.csv") is None


def test_system_facts_answer_only_when_they_hold_what_was_asked() -> None:
    """Asked for the hostname, the model read the network part: its result has no hostname, so no answer is
    rendered from it; a result with the hostname answers."""
    network = Step(index=0, tool="system.info", args={"part": "network"}, status="ok",
                   result=json.dumps({"network": [{"name": "eth0", "up": True}]}))
    assert lookup_answer(network, "what is the hostname of this machine?") is None
    summary = Step(index=0, tool="system.info", args={"part": "all"}, status="ok",
                   result=json.dumps({"hostname": "vm", "os": "Debian"}))
    assert lookup_answer(summary, "what is the hostname of this machine?") == "The hostname is vm."
