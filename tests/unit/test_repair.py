"""A call that named a missing path is made again once, its path limited to paths that exist, or answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call, run_approved
from llmos.tools.builtin import builtin_registry

from llmos.effects import Effect
from llmos.events import RequestFinished
from llmos.repair import PathRepair, path_repair, sure_repair
from llmos.session import Session

MISSING = json.dumps({"error": "no such file or folder: ~/webapp/requirements.txt",
                      "did_you_mean": ["~/projects/webapp/requirements.txt"],
                      "hint": "if one of these is what the request meant, make the call again with it"})


def test_the_argument_the_error_names_is_repaired_with_the_suggested_paths() -> None:
    repair = path_repair("files.copy", {"source": "~/webapp/requirements.txt", "destination": "~/backup/"}, MISSING)
    assert repair == PathRepair("files.copy", "source", ("~/projects/webapp/requirements.txt",))


def test_a_searched_text_inside_the_missing_path_is_not_what_the_error_names() -> None:
    """A search for "app.log" in ~/.webapp/app.log: the message holds both values; the path is the one to
    repair (the 1.5B model then gave up with the suggestion in hand)."""
    missing = json.dumps({"error": "no such file or folder: ~/.webapp/app.log",
                          "did_you_mean": ["~/projects/webapp/logs/app.log"]})
    repair = path_repair("files.search", {"text": "app.log", "path": "~/.webapp/app.log"}, missing)
    assert repair == PathRepair("files.search", "path", ("~/projects/webapp/logs/app.log",))


def test_no_repair_without_a_suggestion_or_a_single_named_argument() -> None:
    """Nothing to choose from, a message naming no argument (or "." found in any message), or two arguments
    named: the model reads the error and goes on as before."""
    no_suggestion = json.dumps({"error": "no such file or folder: ~/x"})
    assert path_repair("files.read", {"path": "~/x"}, no_suggestion) is None
    assert path_repair("files.list", {"path": "."}, MISSING) is None
    both = json.dumps({"error": "cannot copy ~/a onto ~/a/b", "did_you_mean": ["~/c"]})
    assert path_repair("files.copy", {"source": "~/a", "destination": "~/a/b"}, both) is None
    assert path_repair("files.read", {"path": "~/x"}, '{"matches": 3}') is None
    assert path_repair("files.read", {"path": "~/x"}, "not json") is None


def test_the_constrained_schema_allows_only_the_suggested_paths() -> None:
    parameters = {"type": "object", "properties": {"path": {"type": "string"}, "max_bytes": {"type": "integer"}}}
    constrained = PathRepair("files.read", "path", ("~/a", "~/b")).constrain(parameters)
    assert constrained["properties"]["path"] == {"type": "string", "enum": ["~/a", "~/b"]}
    assert constrained["required"] == ["path"]
    assert parameters["properties"]["path"] == {"type": "string"}  # the tool's own schema is untouched


def test_the_turn_after_a_missing_path_remakes_a_read_with_an_existing_path(temp_home: Path) -> None:
    """Asked to read ~/Projects/llmos/README.md (it is under ~/Documents), the model's next turn may only read one
    of the suggested paths (a read costs nothing; offered `answer`, the model gave up with the right path among
    the suggestions); the remade call reads the real file."""
    backend = ScriptedBackend([
        call("files.read", path="~/Projects/llmos/README.md"),
        call("files.read", path="~/Documents/Projects/llmos/README.md"),
        answer("The README is about llmos."),
    ])
    events = list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run("what does the llmos readme say?"))
    first, repair_turn, _ = backend.calls
    assert "files.list" in first.offered_tools
    assert repair_turn.offered_tools == ["files.read"]
    branch = repair_turn.schema  # one tool: its call's schema, no anyOf
    assert "~/Documents/Projects/llmos/README.md" in branch["properties"]["args"]["properties"]["path"]["enum"]
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert [step.status for step in finished.steps] == ["error", "ok"]


def test_a_change_on_a_missing_path_may_be_remade_or_answered(temp_home: Path) -> None:
    """A suggested path is not necessarily the file the person meant: for a change the repair turn still offers
    `answer`, so the model can say what failed instead of changing another file."""
    backend = ScriptedBackend([
        call("files.delete", path="~/Downloads/reprot.pdf"),
        answer("There is no reprot.pdf in Downloads."),
    ])
    list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run("delete reprot.pdf from my downloads"))
    assert sorted(backend.calls[1].offered_tools) == ["answer", "files.delete"]


def test_a_request_is_repaired_once(temp_home: Path) -> None:
    """After the one repair turn of a request, a later missing path is read as any failure: the turn after it
    offers every tool."""
    backend = ScriptedBackend([
        call("files.read", path="~/Projects/llmos/README.md"),
        call("files.read", path="~/Documents/Projects/llmos/README.md"),
        call("files.read", path="~/Nope/llmos/README.md"),
        answer("Found nothing."),
    ])
    # the second call succeeds, so the third failure (a different missing path) is not repaired
    list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run("what does the llmos readme say?"))
    assert "files.list" in backend.calls[3].offered_tools


def test_a_folder_tool_given_a_file_is_repaired_as_a_read_of_it(temp_home: Path) -> None:
    """"List /etc/passwd" (files.list on a file): the error names the file, and the next turn may only read it."""
    target = temp_home / "Documents" / "todo.md"
    target.write_text("- [ ] renew passport\n")
    backend = ScriptedBackend([
        call("files.list", path="~/Documents/todo.md"),
        call("files.read", path="~/Documents/todo.md"),
        answer("One item: renew passport."),
    ])
    events = list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run("what is on my todo list"))
    assert backend.calls[1].offered_tools == ["files.read"]
    assert backend.calls[1].schema["properties"]["args"]["properties"]["path"]["enum"] == ["~/Documents/todo.md"]
    finished = events[-1]
    assert isinstance(finished, RequestFinished) and [step.status for step in finished.steps] == ["error", "ok"]


def test_a_change_is_offered_only_suggestions_of_the_missing_files_type() -> None:
    """A move of "~/Downloads/holiday.mp4" (it was in ~/Videos): the folder ~/Pictures/holiday, suggested for its
    name, is no file to move in its place (the 1.5B model moved it); a read may still be offered it."""
    missing = json.dumps({"error": "no such file or folder: ~/Downloads/holiday.mp4",
                          "did_you_mean": ["~/Pictures/holiday", "~/Videos/holiday.mp4", "~/Videos/Holiday.MP4"]})
    args = {"source": "~/Downloads/holiday.mp4", "destination": "~/Archive/big/"}
    repair = path_repair("files.move", args, missing, changes=True)
    assert repair is not None and repair.choices == ("~/Videos/holiday.mp4", "~/Videos/Holiday.MP4")
    only_folder = json.dumps({"error": "no such file or folder: ~/Downloads/holiday.mp4",
                              "did_you_mean": ["~/Pictures/holiday"]})
    assert path_repair("files.move", args, only_folder, changes=True) is None
    read = path_repair("files.read", {"path": "~/Downloads/holiday.mp4"}, missing)
    assert read is not None and "~/Pictures/holiday" in read.choices


@pytest.mark.parametrize(("suggestion", "places", "answer_offered"), [
    # The same name in the folder the request names as its place: the call meant, remade without `answer`.
    ("~/Desktop/Screenshot*", {"desktop"}, False),
    # Another name, or a folder the request does not name: the model may still say the path was not found.
    ("~/Desktop/Shot*", {"desktop"}, True),
    ("~/Downloads/Screenshot*", {"desktop"}, True),
    ("~/Desktop/Screenshot*", set(), True),
])
def test_a_change_repaired_to_its_own_name_in_the_named_place_is_remade(
    suggestion: str, places: set[str], answer_offered: bool
) -> None:
    repair = PathRepair("files.move", "source", (suggestion,))
    sure = sure_repair(repair, {"source": "~/Pictures/Shots/Screenshot*"}, places)
    assert sure.offer_answer is answer_offered and sure.choices == (suggestion,)


def test_two_suggestions_leave_the_choice_and_answer_to_the_model() -> None:
    repair = PathRepair("files.move", "source", ("~/Desktop/Screenshot*", "~/Desktop/Screenshots"))
    assert sure_repair(repair, {"source": "~/Pictures/Screenshot*"}, {"desktop"}).offer_answer


def test_the_screenshots_move_is_remade_from_the_desktop(temp_home: Path) -> None:
    """"Move the screenshots off my desktop into ~/Pictures/Screenshots": the model's source was the prompt
    example's folder; the repair turn offers only the move, its source the desktop's screenshots. Its answer named
    the failed call's folder as where they went: llmos words the move itself (`llmos.answers.change_answers`)."""
    (temp_home / "Desktop").mkdir(exist_ok=True)
    (temp_home / "Desktop" / "Screenshot 1.png").write_bytes(b"png")
    (temp_home / "Pictures" / "Shots").mkdir(parents=True)
    backend = ScriptedBackend([
        call("files.move", source="~/Pictures/Shots/Screenshot*", destination="~/Pictures/Screenshots/"),
        call("files.move", source="~/Desktop/Screenshot*", destination="~/Pictures/Screenshots/"),
        answer("1 screenshot moved to ~/Pictures/Shots."),
    ])
    finished = run_approved(backend, "move the screenshots off my desktop into ~/Pictures/Screenshots",
                            {Effect.READ, Effect.WRITE})
    assert backend.calls[1].offered_tools == ["files.move"]
    # The source is the repair's; the destination stays the request's (remade, the model had moved them into the
    # example's ~/Pictures/Shots).
    arguments = backend.calls[1].schema["properties"]["args"]["properties"]
    assert arguments["source"]["enum"] == ["~/Desktop/Screenshot*"]
    assert arguments["destination"]["enum"] == ["~/Pictures/Screenshots", "~/Pictures/Screenshots/"]
    assert [step.status for step in finished.steps] == ["error", "ok"]
    assert finished.answer == "Moved ~/Desktop/Screenshot 1.png to ~/Pictures/Screenshots/Screenshot 1.png."
    assert (temp_home / "Pictures" / "Screenshots" / "Screenshot 1.png").exists()
