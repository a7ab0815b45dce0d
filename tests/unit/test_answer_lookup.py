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


TODO_SEARCH = json.dumps({"text": "TODO", "path": "~/projects/webapp", "matches": 2, "files_with_matches": 1,
                          "files_scanned": 3, "skipped": 0, "shown": 2,
                          "results": {"columns": ["path", "line", "text"],
                                      "rows": [["~/projects/webapp/app.py", 5, "# TODO: add login"],
                                               ["~/projects/webapp/app.py", 10, "# TODO: handle errors"]]}})


def test_a_search_for_lines_is_answered_by_the_lines_it_found() -> None:
    """"Search my webapp project for TODO lines": the 1.5B model answered "There are 2 TODO lines"; the lines
    found are the answer. A question about how many lines a file has is still not a search's to answer."""
    search = Step(index=0, tool="files.search", args={"text": "TODO", "path": "~/projects/webapp"}, status="ok",
                  result=TODO_SEARCH)
    for request_text in ("search my webapp project for TODO lines", "grep my webapp project for TODO",
                         "which lines in my webapp project mention TODO?"):
        answer = lookup_answer(search, request_text)
        assert answer is not None and "add login" in answer and "handle errors" in answer, request_text
    assert lookup_answer(search, "how many lines does ~/projects/webapp/app.py have?") is None
    assert lookup_answer(search, "search my webapp project for TODO lines and explain them") is None


def test_system_facts_answer_only_when_they_hold_what_was_asked() -> None:
    """Asked for the hostname, the model read the network part: its result has no hostname, so no answer is
    rendered from it; a result with the hostname answers."""
    network = Step(index=0, tool="system.info", args={"part": "network"}, status="ok",
                   result=json.dumps({"network": [{"name": "eth0", "up": True}]}))
    assert lookup_answer(network, "what is the hostname of this machine?") is None
    summary = Step(index=0, tool="system.info", args={"part": "all"}, status="ok",
                   result=json.dumps({"hostname": "vm", "os": "Debian"}))
    assert lookup_answer(summary, "what is the hostname of this machine?") == "The hostname is vm."


SEARCH = json.dumps({"text": "error", "path": "~/projects/webapp/logs/app.log", "matches": 2, "files_with_matches": 1,
                     "files_scanned": 1, "skipped": 0, "shown": 2,
                     "results": {"columns": ["path", "line", "text"],
                                 "rows": [["~/projects/webapp/logs/app.log", 2, "10:02:13 ERROR database down"],
                                          ["~/projects/webapp/logs/app.log", 4, "10:05:40 ERROR disk quota"]]}})


def test_any_errors_in_a_file_is_answered_by_the_error_lines_a_search_found() -> None:
    """The 1.5B model searched the log for "error" and answered "There are 2 errors": the lines say which. Other
    tools still leave "any errors?" to the model, and so does a search asked whether something is wrong."""
    search = Step(index=0, tool="files.search", args={"text": "error"}, status="ok", result=SEARCH)
    for request_text in ("any errors in ~/projects/webapp/logs/app.log?", "what errors show up in app.log?"):
        answer = lookup_answer(search, request_text)
        assert answer is not None and "database down" in answer and "disk quota" in answer
    assert lookup_answer(search, "is anything wrong in app.log?") is None
    assert lookup_answer(listing(), "any errors in Downloads?") is None


FOUND = json.dumps({"path": "~/Downloads", "matches": 9, "total_size": "13.4 MB",
                    "oldest_file": {"path": "~/Downloads/old-installer.tmp", "type": "file", "size": "1.9 MB",
                                    "modified": "1y ago"},
                    "newest_file": {"path": "~/Downloads/archive.zip", "type": "file", "size": "248 B",
                                    "modified": "2d ago"},
                    "largest_file": {"path": "~/Downloads/camera-manual.pdf", "type": "file", "size": "11.4 MB",
                                     "modified": "3mo ago"},
                    "skipped": 0, "shown": 1, "results": [{"path": "~/Downloads/archive.zip", "type": "file"}]})
USAGE = json.dumps({"path": "~", "size": "43.8 MB", "files": 36, "folders": 19, "items": 11, "errors": 0,
                    "biggest": [{"name": "Videos", "type": "folder", "size": "23.8 MB", "percent": 54.5}],
                    "largest_files": {"columns": ["path", "size"], "rows": [["~/Videos/holiday.mp4", "23.8 MB"],
                                                                            ["~/Downloads/x.pdf", "11.4 MB"]]}})


@pytest.mark.parametrize(("tool", "result", "request_text", "expected"), [
    ("files.find", FOUND, "what's the oldest file in my Downloads folder?",
     "The oldest file is ~/Downloads/old-installer.tmp (changed 1y ago)."),
    ("files.find", FOUND, "which download is the newest?",
     "The newest file is ~/Downloads/archive.zip (changed 2d ago)."),
    ("files.find", FOUND, "biggest file in Downloads", "The biggest file is ~/Downloads/camera-manual.pdf (11.4 MB)."),
    ("files.disk_usage", USAGE, "what is the biggest file in my home folder?",
     "The biggest file is ~/Videos/holiday.mp4 (23.8 MB)."),
    ("files.disk_usage", USAGE, "what is the oldest file in my home folder?", None),
    ("files.disk_usage", USAGE, "what is the biggest folder in my home?", None),
    ("files.find", FOUND, "what are the 3 biggest files in Downloads?", None),
    ("files.find", FOUND, "delete the oldest file in Downloads and tell me", None),
])
def test_the_biggest_oldest_or_newest_file_is_answered_from_the_results_own_facts(
        tool: str, result: str, request_text: str, expected: str | None) -> None:
    """Whatever the call sorted by, a find names its oldest, newest and largest file and a disk usage its largest
    files: "the oldest download" is answered from them (the 1.5B model sorted by name and named the first file,
    and named a folder as the biggest file). Several files, a folder, or more than the pick: the model's."""
    step = Step(index=0, tool=tool, args={}, status="ok", result=result)
    assert lookup_answer(step, request_text) == expected
