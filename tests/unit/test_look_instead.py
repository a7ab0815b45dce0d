"""A call that is not run because a look of another kind is what it meant (`llmos.look_instead`): a
`files.search` for words the request never gave (nor the piped data, nor an earlier result), or a path with a
find's filter written into it. The model reads why and which tool finds files by name, size or age, and its next
turn must look another way."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call, run_approved
from llmos.tools.builtin import builtin_registry

from llmos.effects import Effect
from llmos.events import RequestFinished
from llmos.look_instead import NOT_RUN, filter_in_path, look_instead, replaced_by_a_look, said_in, unfounded_search
from llmos.session import Session


@pytest.mark.parametrize(("text", "request_text"), [
    ("TODO", "search my webapp project for TODO lines"),
    ("error", "any errors in ~/projects/webapp/logs/app.log?"),
    ("ERROR", "pull the ERROR lines out of app.log"),
    ("renew passport", "mark 'renew passport' as done in Documents/todo.md"),
    ("flight to lisbon", "when's my flight to Lisbon? it's in my trip notes"),
    # Another form of the request's word: "failed" for failures, "timeouts" for timeout.
    ("failed", "find the failures in the log"),
    ("timeouts", "which logs mention a timeout?"),
])
def test_the_requests_own_words_may_be_searched_for(text: str, request_text: str) -> None:
    assert said_in(text, request_text)
    assert unfounded_search("files.search", {"text": text}, request_text, []) is None


@pytest.mark.parametrize(("text", "request_text"), [
    # A question about sizes or dates put into a search of the files' words.
    ("size>10MB", "find files bigger than 10MB in my home and move them into ~/Archive/big"),
    ("size > 10MB", "find files bigger than 10MB in my home"),
    # The request's words, but not in its order: not something it asked to find written.
    ("recently changed", "which file in Documents did I change most recently?"),
    ("timeout", "which lines are about timing out?"),
])
def test_words_of_the_models_own_are_not_searched_for(text: str, request_text: str) -> None:
    assert not said_in(text, request_text)
    error = unfounded_search("files.search", {"text": text, "path": "~"}, request_text, [])
    assert error is not None
    payload = error.payload()
    assert payload["error"].startswith(NOT_RUN) and "files.find" in payload["hint"]


@pytest.mark.parametrize(("text", "request_text"), [
    ("tmp", "which .tmp file in Downloads is the biggest? delete that one"),
    (".tmp", "which .tmp file in Downloads is the biggest? delete that one"),
    ("*.log", "count the *.log files in ~/projects"),
])
def test_a_kind_of_file_the_request_names_is_found_by_name_not_searched_for(text: str, request_text: str) -> None:
    error = unfounded_search("files.search", {"text": text}, request_text, [])
    assert error is not None and "files.find" in error.payload()["hint"]


@pytest.mark.parametrize(("text", "request_text"), [
    ("changed", "which file in Documents did I change most recently?"),
    ("recently changed", "which file in Documents did I change most recently?"),
    ("newest", "what's my newest document?"),
    ("size > 10 MB", "find files bigger than 10 MB"),
])
def test_a_files_date_or_size_is_not_searched_for_as_words(text: str, request_text: str) -> None:
    error = unfounded_search("files.search", {"text": text}, request_text, [])
    assert error is not None and "sort" in error.payload()["hint"]


@pytest.mark.parametrize(("text", "request_text"), [
    ("updated", "which of my notes say 'updated'?"),
    ("2024", "which invoices mention 2024?"),
    ("newsletter", "which files mention the newsletter?"),
    ("database", "any database errors in the log?"),
])
def test_a_quoted_word_a_number_or_a_word_that_only_starts_like_one_is_searched_for(
    text: str, request_text: str
) -> None:
    assert unfounded_search("files.search", {"text": text}, request_text, []) is None


def test_a_file_name_or_a_word_is_still_searched_for() -> None:
    """Only an extension standing alone names a kind of file: "app.log" is a file's name (a read follows such a
    search: `Session._named_file_read_owed`), and "log" in "the log's errors" is a word."""
    assert unfounded_search("files.search", {"text": "app.log"}, "how many lines does the webapp's app.log have?",
                            []) is None
    assert unfounded_search("files.search", {"text": "log"}, "what does the log say about the backup?", []) is None


def test_words_the_piped_data_or_an_earlier_result_showed_may_be_searched_for() -> None:
    request = "which of my files mention the person this note is from?"
    assert unfounded_search("files.search", {"text": "Ana Pereira"}, request, []) is not None
    assert unfounded_search("files.search", {"text": "Ana Pereira"}, request,
                            ['{"content":"From: ana pereira"}']) is None


def test_other_tools_and_an_empty_text_are_not_judged() -> None:
    assert unfounded_search("files.find", {"name": "size>10MB"}, "big files", []) is None
    assert unfounded_search("stdin.search", {"pattern": "size>10MB"}, "big lines", []) is None
    assert unfounded_search("files.search", {"text": "  "}, "anything", []) is None


@pytest.mark.parametrize(("tool", "args"), [
    ("files.delete", {"path": "~/Downloads/*.* older_than=1 year"}),
    ("files.move", {"source": "~/Videos/* bigger than 10MB", "destination": "~/Archive/"}),
    ("files.copy", {"source": "~/Documents/*", "destination": "~/Backup name=*.txt"}),
    ("files.find", {"path": "~/Downloads min_size: 10MB"}),
])
def test_a_path_with_a_finds_filter_in_it_is_not_run(tool: str, args: dict[str, str]) -> None:
    error = filter_in_path(tool, args)
    assert error is not None
    payload = error.payload()
    assert payload["error"].startswith(NOT_RUN) and "files.find" in payload["hint"]
    assert look_instead(tool, args, "anything", []) is not None


@pytest.mark.parametrize("path", [
    "~/Downloads/*.tmp", "~/Documents/older than you think.txt", "~/Music/name=value", "~/Videos/bigger-than-life.mp4",
])
def test_a_path_that_only_looks_like_words_of_a_filter_is_run(path: str) -> None:
    """A name may hold such words: only a filter set apart from the path by a space, as the model writes it."""
    assert filter_in_path("files.delete", {"path": path}) is None


@pytest.mark.parametrize(("tool", "args", "request_text"), [
    ("files.delete", {"path": "~/Downloads/*"}, "remove anything in Downloads that's older than a year"),
    ("files.move", {"source": "~/*", "destination": "~/Archive/big/"},
     "find files bigger than 10MB in my home and move them into ~/Archive/big"),
    ("files.copy", {"source": "~/Videos/*.mp4", "destination": "~/Backup/"}, "copy videos over 2 GB to ~/Backup"),
])
def test_a_change_of_a_globs_files_is_not_run_when_the_request_limits_them(
    tool: str, args: dict[str, str], request_text: str
) -> None:
    """The model deleted "~/Downloads/*" (nine files) for "anything older than a year": the glob took them all."""
    error = look_instead(tool, args, request_text, [], changes=True)
    assert error is not None and "files.find" in error.payload()["hint"]


@pytest.mark.parametrize(("args", "request_text", "changes"), [
    ({"path": "~/Downloads/*.tmp"}, "delete the .tmp files in Downloads", True),  # no limit: the glob is it
    ({"path": "~/Downloads/old-installer.tmp"}, "delete anything in Downloads older than a year", True),  # a file
    ({"path": "~/Downloads/*"}, "list what's in Downloads older than a year", False),  # a look takes nothing
])
def test_a_glob_without_a_limit_a_named_file_or_a_look_is_run(
    args: dict[str, str], request_text: str, changes: bool
) -> None:
    assert look_instead("files.delete", args, request_text, [], changes=changes) is None


TODO_RESULT = json.dumps({"results": {"columns": ["path", "line", "text"], "rows": [
    ["~/projects/webapp/app.py", 5, "# TODO: add login"], ["~/projects/webapp/app.py", 10, "# TODO: handle errors"]]}})
TODOS = "find the TODOs in my webapp project and write them to ~/Documents/todos.txt"


def test_a_write_of_what_was_found_whose_lines_no_look_returned_is_not_run() -> None:
    """After a find that found nothing, the model wrote "TODO: Review the app.py file.": a line of its own."""
    made_up = {"path": "~/Documents/todos.txt", "content": "TODO: Review the app.py file."}
    error = look_instead("files.write", made_up, TODOS, [], changes=True)
    assert error is not None and "files.search" in error.payload()["hint"]
    assert look_instead("files.write", made_up, TODOS, [TODO_RESULT], changes=True) is not None


@pytest.mark.parametrize("content", [
    "# TODO: add login\n# TODO: handle errors\n",
    "app.py:5: # TODO: add login\n- TODO: handle errors",  # as found, with where, or as a list
    "line 5: # TODO: add login\n\n",
])
def test_a_write_of_the_lines_a_look_returned_is_run(content: str) -> None:
    args = {"path": "~/Documents/todos.txt", "content": content}
    assert look_instead("files.write", args, TODOS, [TODO_RESULT], changes=True) is None


@pytest.mark.parametrize("request_text", [
    "write a haiku about autumn and save it to ~/poem.txt",
    "summarise ~/Documents/standup.txt and save the summary to ~/Documents/summary.txt",
    "write a note saying the guest password is on the fridge",
])
def test_a_write_of_what_the_model_was_asked_to_make_is_run(request_text: str) -> None:
    args = {"path": "~/x.txt", "content": "Red leaves drift and fall"}
    assert look_instead("files.write", args, request_text, [], changes=True) is None


def refused(text: str) -> str:
    error = unfounded_search("files.search", {"text": text}, "big files", [])
    assert error is not None
    return json.dumps(error.payload())


def test_a_refused_search_is_replaced_by_a_look_that_succeeded_not_by_one_that_failed() -> None:
    assert replaced_by_a_look("files.search", refused("size>10MB"), [("files.find", "ok")])
    assert not replaced_by_a_look("files.search", refused("size>10MB"), [("files.find", "error")])
    assert not replaced_by_a_look("files.search", refused("size>10MB"), [("files.read", "ok")])
    # A call that ran and failed for another reason is not this.
    assert not replaced_by_a_look("files.search", '{"error": "no such folder: ~/x"}', [("files.find", "ok")])


def test_a_refused_change_is_made_good_only_by_the_change_made_after_the_look() -> None:
    """A refused delete followed by a find alone: nothing was deleted, so the request did not do what it asked
    (exit 1, and llmos says the delete did not happen); the delete of a found file makes it good."""
    error = filter_in_path("files.delete", {"path": "~/Downloads/*.* older_than=1 year"})
    assert error is not None
    refused_delete = json.dumps(error.payload())
    assert not replaced_by_a_look("files.delete", refused_delete, [("files.find", "ok")])
    assert replaced_by_a_look("files.delete", refused_delete, [("files.find", "ok"), ("files.delete", "ok")])


@pytest.fixture
def home(temp_home: Path) -> Path:
    (temp_home / "Videos").mkdir(exist_ok=True)
    (temp_home / "Videos" / "holiday.mp4").write_bytes(b"\0" * (11 * 1024 * 1024))
    (temp_home / "Documents").mkdir(exist_ok=True)
    (temp_home / "Documents" / "size.txt").write_text("size>10MB is what I wrote here\n")
    return temp_home


def run(backend: ScriptedBackend, request: str) -> RequestFinished:
    events = list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run(request))
    assert isinstance(events[-1], RequestFinished)
    return events[-1]


def test_the_search_is_not_run_and_the_next_turn_must_look_another_way(home: Path) -> None:
    """"Which files are bigger than 10MB?" searched for the text "size>10MB": nothing is searched (the one file
    holding that text is not found), the next turn may neither answer nor search, and the look it makes instead
    makes the request done (exit 0)."""
    backend = ScriptedBackend([
        call("files.search", text="size>10MB", path="~"),
        call("files.find", path="~", min_size="10MB"),
        answer("~/Videos/holiday.mp4 is bigger than 10MB."),
    ])
    outcome = run(backend, "which files in my home are bigger than 10MB?")
    search, find = outcome.steps
    assert search.status == "error" and "size.txt" not in (search.result or "")
    assert json.loads(search.result or "")["error"].startswith(NOT_RUN)
    replan = backend.calls[1].offered_tools
    assert "files.find" in replan and "answer" not in replan and "files.search" not in replan
    # Only looks: offered every tool, the model moved files it had not found.
    assert "files.move" in backend.calls[0].offered_tools
    assert not {"files.move", "files.delete", "files.write", "shell.run"} & set(replan)
    assert find.status == "ok" and "holiday.mp4" in (find.result or "")
    assert outcome.exit_code == 0


def test_the_turn_that_looks_another_way_is_offered_once(home: Path) -> None:
    """After the look made instead fails, a second search for words of the model's own is refused again, and the
    turn after it is an ordinary one (the model may answer to say what failed)."""
    backend = ScriptedBackend([
        call("files.search", text="size>10MB", path="~"),
        call("files.find", path="~/qqqzzz", min_size="10MB"),
        call("files.search", text="bigger files", path="~"),
        answer("I could not find them."),
    ])
    outcome = run(backend, "which files in my home are bigger than 10MB?")
    assert [step.status for step in outcome.steps] == ["error", "error", "error"]
    assert {"answer", "files.search"} <= set(backend.calls[2].offered_tools)
    assert {"answer", "files.search"} <= set(backend.calls[3].offered_tools)
    assert outcome.exit_code == 1


@pytest.mark.parametrize("first_path", ["~/Inbox/*.* older_than=1 year", "~/Inbox/*"])
def test_a_delete_with_an_age_in_its_path_becomes_a_find_then_deletes_of_what_it_found(
    temp_home: Path, first_path: str
) -> None:
    """"Remove anything in Downloads that's older than a year" (here ~/Inbox): the delete of
    "~/Inbox/*.* older_than=1 year", or of every file ("~/Inbox/*"), is not run; the next turn may only look,
    the find by age finds the two old files, and both are deleted (the request asks for everything found:
    `llmos.found_rest`); the new file stays, and the request is done."""
    downloads = temp_home / "Inbox"
    downloads.mkdir(exist_ok=True)
    two_years_ago = time.time() - 2 * 365 * 86400
    for name in ("old-installer.tmp", "old-notes.txt"):
        (downloads / name).write_text("old\n")
        os.utime(downloads / name, (two_years_ago, two_years_ago))
    (downloads / "new.pdf").write_text("new\n")
    backend = ScriptedBackend([
        call("files.delete", path=first_path),
        call("files.find", path="~/Inbox", older_than="365d"),
        call("files.delete", path="~/Inbox/old-installer.tmp"),
        call("files.delete", path="~/Inbox/old-notes.txt"),
        answer("Deleted old-installer.tmp and old-notes.txt."),
    ])
    outcome = run_approved(backend, "remove anything in my Inbox folder that's older than a year",
                           {Effect.READ, Effect.DELETE})
    assert json.loads(outcome.steps[0].result or "")["error"].startswith(NOT_RUN)
    assert (downloads / "new.pdf").exists()
    assert sorted(path.name for path in downloads.iterdir()) == ["new.pdf"]
    look = backend.calls[1].offered_tools
    assert "files.find" in look and "files.delete" not in look and "answer" not in look
    assert backend.calls[3].offered_tools == ["files.delete"]
    assert outcome.exit_code == 0


def test_a_made_up_write_becomes_a_search_then_a_write_of_the_lines_it_found(temp_home: Path) -> None:
    """"Find the TODOs in my webapp project and write them to todos.txt": after a look that showed no TODO line
    (a listing; a find for the word owes the search itself, `test_edit_grounding`) the model wrote a line of its
    own; that write is not run, the next turn may only look (a search now on offer), and the write of the lines
    the search found is run."""
    webapp = temp_home / "projects" / "webapp"
    webapp.mkdir(parents=True, exist_ok=True)
    (webapp / "app.py").write_text("import flask\n# TODO: add login\n\n# TODO: handle errors\n")
    backend = ScriptedBackend([
        call("files.list", path="~/projects/webapp"),
        call("files.write", path="~/Documents/todos.txt", content="TODO: Review the app.py file."),
        call("files.search", text="TODO", path="~/projects/webapp"),
        call("files.read", path="~/projects/webapp/app.py"),  # a change after a search reads a hit first
        call("files.write", path="~/Documents/todos.txt", content="# TODO: add login\n# TODO: handle errors\n"),
        answer("Wrote the 2 TODOs to ~/Documents/todos.txt."),
    ])
    outcome = run_approved(backend, TODOS, {Effect.READ, Effect.WRITE})
    assert [step.status for step in outcome.steps] == ["ok", "error", "ok", "ok", "ok"]
    look = backend.calls[2].offered_tools
    assert "files.search" in look and "files.write" not in look and "answer" not in look
    assert (temp_home / "Documents" / "todos.txt").read_text() == "# TODO: add login\n# TODO: handle errors\n"


def test_a_refusals_message_grounds_nothing(temp_home: Path) -> None:
    """The refused write's message quotes the made-up line: the model then searched for that line, and wrote it
    again. Neither the search nor the second write is run: only results of steps that succeeded count."""
    webapp = temp_home / "projects" / "webapp"
    webapp.mkdir(parents=True, exist_ok=True)
    (webapp / "app.py").write_text("# TODO: add login\n")
    made_up = "TODO: Review the app.py file."
    backend = ScriptedBackend([
        call("files.list", path="~/projects/webapp"),
        call("files.write", path="~/Documents/todos.txt", content=made_up),
        call("files.find", path="~/projects/webapp", name="*.py"),
        call("files.search", text=made_up, path="~/projects/webapp"),
        call("files.write", path="~/Documents/todos.txt", content=made_up),
        answer("I could not find the TODOs."),
    ])
    events = list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run(TODOS, approver=lambda _step: True))
    outcome = events[-1]
    assert isinstance(outcome, RequestFinished)
    assert [step.status for step in outcome.steps] == ["ok", "error", "ok", "error", "error"]
    assert not (temp_home / "Documents" / "todos.txt").exists()
