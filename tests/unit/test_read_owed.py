"""A question about what a file says, after a step that found the file: the next turn must read one of the found
files (`_read_owed` in the session), and `files.find` points at files in folders named like the pattern."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools.builtin import builtin_registry

from llmos.events import RequestFinished
from llmos.look_first import asks_about_the_file_itself, asks_for_content, asks_for_line_count
from llmos.session import Session


@pytest.fixture
def home(temp_home: Path) -> Path:
    (temp_home / "Desktop").mkdir()
    (temp_home / "Desktop" / "shopping.txt").write_text("eggs\nbread\ntomatoes\n")
    (temp_home / "Documents" / "letters").mkdir(parents=True)
    (temp_home / "Documents" / "letters" / "landlord.txt").write_text("Dear Mr. Okafor, the heating in flat 4B...\n")
    return temp_home


def run(backend: ScriptedBackend, request: str) -> list:
    """The request through a session with the built-in tools, every read allowed."""
    return list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run(request))


def finished(events: list) -> RequestFinished:
    assert isinstance(events[-1], RequestFinished)
    return events[-1]


def test_after_finding_the_file_the_next_turn_reads_it(home: Path) -> None:
    """"What's on the shopping list on my desktop": the find found one file; the next turn offers only files.read,
    its path limited to that file (the model had answered with the file's name and size)."""
    backend = ScriptedBackend([
        call("files.find", path="~/Desktop", name="*shopping*"),
        call("files.read", path="~/Desktop/shopping.txt"),
        answer("Eggs, bread and tomatoes."),
    ])
    events = run(backend, "whats on the shopping list on my desktop")
    read_turn = backend.calls[1]
    assert read_turn.offered_tools == ["files.read"]
    assert read_turn.schema["properties"]["args"]["properties"]["path"]["enum"] == ["~/Desktop/shopping.txt"]
    assert [step.status for step in finished(events).steps] == ["ok", "ok"]


def test_a_letter_in_a_folder_named_letters_is_found_and_read(home: Path) -> None:
    """No file is named *letter*; files.find names the files in folders named so, and the read follows."""
    backend = ScriptedBackend([
        call("files.find", path="~", name="*letter*", type="file"),
        call("files.read", path="~/Documents/letters/landlord.txt"),
        answer("Flat 4B."),
    ])
    events = run(backend, "Which flat is my letter to the landlord about?")
    find = finished(events).steps[0]
    assert "~/Documents/letters/landlord.txt" in (find.result or "")
    assert backend.calls[1].offered_tools == ["files.read"]
    assert finished(events).answer == "Flat 4B."


@pytest.mark.parametrize("request_text", ["how many files are on my desktop", "find the biggest file on my desktop",
                                          "list my desktop", "what is the biggest file in my desktop folder?",
                                          "what is the size of my desktop folder?"])
def test_a_question_about_names_or_sizes_is_answered_from_the_listing(home: Path, request_text: str) -> None:
    assert not asks_for_content(request_text)
    backend = ScriptedBackend([call("files.find", path="~/Desktop", name="*"), answer("One: shopping.txt.")])
    events = run(backend, request_text)
    assert [turn.offered_tools for turn in backend.calls if turn.offered_tools == ["files.read"]] == []
    assert [step.tool for step in finished(events).steps] == ["files.find"]


def test_a_text_search_for_a_files_name_leads_to_reading_that_file(home: Path) -> None:
    """The model searched the files' lines for "Q2 report" (no line says it); files.search names the files whose
    name holds the words (q2-report.txt), and the question about its content then reads it."""
    reports = home / "Documents" / "reports"
    reports.mkdir()
    (reports / "q1-report.txt").write_text("Revenue: 48,200\n")
    (reports / "q2-report.txt").write_text("Revenue: 52,900\n")
    backend = ScriptedBackend([
        call("files.search", text="Q2 reports", path="~/Documents"),
        call("files.read", path="~/Documents/reports/q2-report.txt"),
        answer("52,900."),
    ])
    events = run(backend, "what's the total revenue in the Q2 report?")
    search = finished(events).steps[0]
    assert json.loads(search.result or "{}")["files_named_so"] == ["~/Documents/reports/q2-report.txt"]
    assert backend.calls[1].schema["properties"]["args"]["properties"]["path"]["enum"] == [
        "~/Documents/reports/q2-report.txt"]


@pytest.mark.parametrize("request_text", ["What was the revenue in the Q2 report?",
                                          "what is the deadline in the project plan?"])
def test_a_value_stated_in_a_document_is_a_question_about_its_content(request_text: str) -> None:
    """The 1.5B model found q2-report.txt by a search for "Q2 report" and answered that the revenue was not
    available: the value is in the file, which must be read."""
    assert asks_for_content(request_text)


def test_a_line_count_after_a_search_in_the_one_file_is_read(home: Path) -> None:
    """"How many lines does shopping.txt have?": the model searched the file for its own name (no match) and
    said it did not exist; the next turn reads the one file searched. A count of lines holding a text is the
    search's to answer."""
    backend = ScriptedBackend([
        call("files.search", text="shopping.txt", path="~/Desktop/shopping.txt"),
        call("files.read", path="~/Desktop/shopping.txt"),
        answer("3 lines."),
    ])
    run(backend, "how many lines does shopping.txt on my desktop have?")
    assert backend.calls[1].offered_tools == ["files.read"]
    assert not asks_for_line_count("how many lines contain eggs in shopping.txt?")
    assert asks_for_line_count("count the lines in shopping.txt")


def test_a_file_the_request_spells_out_is_read_before_a_question_about_it_is_answered(home: Path) -> None:
    """"Is the review in ~/Documents/review.txt positive or negative?": the model searched the file for
    "positive", found nothing and answered "positive". A read-only question about a file the request names is
    answered from a read: the next turn offers only files.read, limited to that file."""
    (home / "Documents" / "review.txt").write_text("Two stars. The lid broke in a week and it leaks.\n")
    backend = ScriptedBackend([
        call("files.search", text="positive", path="~/Documents/review.txt"),
        call("files.read", path="~/Documents/review.txt"),
        answer("Negative: two stars."),
    ])
    events = run(backend, "is the review in ~/Documents/review.txt positive or negative?")
    assert backend.calls[1].offered_tools == ["files.read"]
    assert backend.calls[1].schema["properties"]["args"]["properties"]["path"]["enum"] == ["~/Documents/review.txt"]
    assert [step.tool for step in finished(events).steps] == ["files.search", "files.read"]


@pytest.mark.parametrize("request_text", [
    "how big is ~/Desktop/shopping.txt?",
    "is ~/Desktop/shopping.txt older than a week? check its modified date",
    "does ~/Desktop/shopping.txt mention eggs? count them",
    "does ~/Desktop/shopping.txt exist?",
    "where is ~/Desktop/shopping.txt linked to?",
])
def test_a_question_about_the_named_file_itself_is_answered_from_the_look(home: Path, request_text: str) -> None:
    """Its size, date, existence or a count of lines: the look answers, and no read of the whole file is forced
    for it."""
    assert asks_about_the_file_itself(request_text)
    backend = ScriptedBackend([call("files.find", path="~/Desktop", name="shopping.txt"), answer("Done.")])
    run(backend, request_text)
    assert all(turn.offered_tools != ["files.read"] for turn in backend.calls)


def test_a_named_path_that_is_no_file_forces_no_read(home: Path) -> None:
    """A path that does not exist, or a folder, is nothing to read."""
    backend = ScriptedBackend([call("files.search", text="good", path="~/Desktop"), answer("Not found.")])
    run(backend, "is the review in ~/Desktop/missing.txt or ~/Desktop/ positive?")
    assert all(turn.offered_tools != ["files.read"] for turn in backend.calls)


def test_a_find_that_matched_no_name_points_at_files_whose_text_mentions_it(home: Path) -> None:
    """"When is my flight to Lisbon?": nothing is named *flight*, but the trip notes say "Flight TP1351 on June 4".
    The find says which files mention the word, and the question about their content then reads one (the model
    had answered "No flight notes found")."""
    (home / "Documents" / "trip-notes.md").write_text("# Lisbon trip\nFlight TP1351 on June 4\n")
    (home / ".cache").mkdir()
    (home / ".cache" / "flight.log").write_text("flight cache\n")  # hidden: never looked into
    backend = ScriptedBackend([
        call("files.find", path="~", name="*flight*"),
        call("files.read", path="~/Documents/trip-notes.md"),
        answer("June 4."),
    ])
    events = run(backend, "when is my flight to Lisbon?")
    find = json.loads(finished(events).steps[0].result or "{}")
    assert find["matches"] == 0 and find["files_mentioning_it"] == ["~/Documents/trip-notes.md"]
    assert backend.calls[1].offered_tools == ["files.read"]
    assert backend.calls[1].schema["properties"]["args"]["properties"]["path"]["enum"] == [
        "~/Documents/trip-notes.md"]


@pytest.mark.parametrize("args", [
    {"name": "*.md"},  # a file type is no word to look for in text
    {"name": "*flight*", "min_size": "1MB"},  # nothing matched the size: the name may well be right
    {"name": "*flight*", "type": "folder"},
    {"name": "*flight[0-9]*"},  # other glob characters
])
def test_a_find_with_filters_or_a_file_type_does_not_look_into_files(home: Path, args: dict[str, str]) -> None:
    (home / "Documents" / "notes.txt").write_text("flight on Monday, notes in .md\n")
    backend = ScriptedBackend([call("files.find", path="~/Documents", **args), answer("None.")])
    events = run(backend, "find my flight notes")
    assert "files_mentioning_it" not in json.loads(finished(events).steps[0].result or "{}")
