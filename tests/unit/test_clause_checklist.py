"""A request of several clauses is not answered while one of them has no step (`_clause_still_owed`): a path it
spells out that no call named, or a change clause with no change call. The 1.5B model answered "delete X, then
summarise Y" after the delete, and "copy X to X.bak, then change a line in the original" after the copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fakes import ScriptedBackend, answer, call
from fakes import run_approved as run
from llmos.tools.named_paths import untouched_paths

from llmos.effects import Effect
from llmos.session import MAX_CLAUSE_NUDGES, SEQUENCED_CHANGE


@pytest.fixture
def home(temp_home: Path) -> Path:
    (temp_home / "Downloads").mkdir(exist_ok=True)
    (temp_home / "Downloads" / "cache.tmp").write_text("x" * 100)
    (temp_home / "Documents").mkdir(exist_ok=True)
    (temp_home / "Documents" / "standup.txt").write_text("Sam finished the invoice export.\n")
    (temp_home / "Documents" / "requirements.txt").write_text("flask==3.0.0\n")
    return temp_home


def test_a_spelled_out_path_no_call_named_withholds_the_answer(home: Path) -> None:
    backend = ScriptedBackend([
        call("files.delete", path="~/Downloads/cache.tmp"),
        call("files.read", path="~/Documents/standup.txt"),
        answer("Deleted; Sam finished the invoice export."),
    ])
    finished = run(backend, "delete ~/Downloads/cache.tmp, then summarise ~/Documents/standup.txt",
                   {Effect.READ, Effect.DELETE})
    # The first turn must look in any case (the request names the person's files: `_look_still_owed`).
    assert ["answer" in turn.offered_tools for turn in backend.calls] == [False, False, True]
    assert [step.tool for step in finished.steps] == ["files.delete", "files.read"]
    assert [step.status for step in finished.steps] == ["ok", "ok"]
    assert not (home / "Downloads" / "cache.tmp").exists()


def test_a_change_clause_without_a_change_call_withholds_the_answer(home: Path) -> None:
    """Two change clauses (copy, change), one change call so far: the looks after it may not be the last turn
    (the search is followed by a read of a file it hit, which an edit needs: `_read_owed`)."""
    backend = ScriptedBackend([
        call("files.copy", source="~/Documents/requirements.txt", destination="~/Documents/requirements.bak"),
        call("files.search", text="flask", path="~/Documents"),
        call("files.read", path="~/Documents/requirements.txt"),
        call("files.edit", path="~/Documents/requirements.txt", start=1, text="flask==3.1.0"),
        answer("Copied, and flask is 3.1.0 now."),
    ])
    finished = run(backend, "copy my requirements.txt to requirements.bak, then change flask to 3.1.0 in the original",
                   {Effect.READ, Effect.WRITE})
    assert ["answer" in turn.offered_tools for turn in backend.calls] == [False, False, False, False, True]
    assert (home / "Documents" / "requirements.txt").read_text() == "flask==3.1.0\n"
    assert [step.status for step in finished.steps] == ["ok"] * 4
    assert MAX_CLAUSE_NUDGES == 2


@pytest.mark.parametrize(("request_text", "first"), [
    # Every clause has its step.
    ("delete ~/Downloads/cache.tmp", call("files.delete", path="~/Downloads/cache.tmp")),
    # A denied or failed change call is a step for its clause: the answer says what happened.
    ("delete ~/Downloads/missing.tmp", call("files.delete", path="~/Downloads/missing.tmp")),
    # No path spelled out, no change asked for.
    ("what is in my downloads?", call("files.list", path="~/Downloads")),
])
def test_a_request_whose_clauses_all_have_steps_may_be_answered(home: Path, request_text: str,
                                                                first: dict[str, object]) -> None:
    backend = ScriptedBackend([first, answer("Done.")])
    run(backend, request_text, {Effect.READ, Effect.DELETE})
    # (llmos may word the answer itself from the step, with no second turn.)
    assert all("answer" in turn.offered_tools for turn in backend.calls[1:])


def test_the_answer_is_withheld_at_most_twice(home: Path) -> None:
    """The model may have no way to reach a clause (a path it cannot name): after two withheld turns it answers."""
    backend = ScriptedBackend([call("files.list", path="~/Downloads"), call("files.list", path="~"),
                               call("files.find", path="~", name="*nowhere*"), answer("I could not reach it.")])
    run(backend, "summarise ~/Documents/standup.txt and ~/Documents/nowhere.txt", {Effect.READ})
    # The first turn must look anyway; then two withheld turns; then the answer is on offer again.
    assert ["answer" in turn.offered_tools for turn in backend.calls] == [False, False, False, True]


def test_a_path_counts_as_named_by_a_call_on_it_or_inside_it() -> None:
    request = "move the .tmp files in ~/Downloads to ~/Archive/old/ and read /etc/hostname"
    assert untouched_paths(request, [{"source": "~/Downloads/*.tmp", "destination": "~/Archive/old"},
                                     {"path": "/etc/hostname"}]) == []
    # A call on a folder above it (a find in ~) does not name it.
    assert untouched_paths(request, [{"path": "~"}]) == ["~/Downloads", "~/Archive/old/", "/etc/hostname"]
    # argv items count; a URL is no path.
    assert untouched_paths("fetch https://example.com/x into /srv/x", [{"argv": ["cp", "a", "/srv/x"]}]) == []


def test_after_a_failed_step_the_model_may_answer_to_say_so(home: Path) -> None:
    backend = ScriptedBackend([call("files.read", path="~/Documents/nowhere.txt"), answer("It does not exist.")])
    run(backend, "read ~/Documents/nowhere.txt, then delete ~/Downloads/cache.tmp", {Effect.READ, Effect.DELETE})
    assert "answer" in backend.calls[-1].offered_tools


@pytest.mark.parametrize(("request_text", "first"), [
    ("make ~/Documents/budget.csv private so only I can read and write it",
     call("files.chmod", path="~/Documents/budget.csv", mode="600")),
    ("copy ~/Documents/standup.txt to ~/Desktop/ and add it to my notes",
     call("files.copy", source="~/Documents/standup.txt", destination="~/Desktop/")),
])
def test_a_change_verb_inside_a_clause_is_no_step_of_its_own(home: Path, request_text: str,
                                                             first: dict[str, object]) -> None:
    """"... so only I can read and write it" is one change: counted as two, the answer was withheld after the
    chmod and the model overwrote the budget with rows it made up. Only a change given as a step of its own
    (first, after a comma or a sentence's end, or after "then") is counted."""
    (home / "Documents" / "budget.csv").write_text("date,amount\n")
    (home / "Desktop").mkdir(exist_ok=True)
    backend = ScriptedBackend([first, answer("Done.")])
    run(backend, request_text, {Effect.READ, Effect.WRITE})
    assert "answer" in backend.calls[1].offered_tools


@pytest.mark.parametrize(("request_text", "first"), [
    ("zip up my reports folder into ~/Documents/reports.zip",
     call("files.archive", source="~/Documents/reports", destination="~/Documents/reports.zip")),
    ("unzip ~/Documents/reports.zip into a new folder ~/Documents/unpacked",
     call("files.extract", archive="~/Documents/reports.zip", destination="~/Documents/unpacked")),
    ("copy ~/Documents/notes.copy.txt to ~/Desktop/",
     call("files.copy", source="~/Documents/notes.copy.txt", destination="~/Desktop/")),
])
def test_a_dot_inside_a_name_ends_no_clause(home: Path, request_text: str, first: dict[str, object]) -> None:
    """The "." of "reports.zip" is no sentence's end, so the "zip" after it is no change of its own. Counted as
    one, the answer was withheld after the archive was made, and the 1.5B model filled the turns with process
    listings and answered "There are 72 processes using memory"."""
    reports = home / "Documents" / "reports"
    reports.mkdir()
    (reports / "q1.txt").write_text("Q1\n")
    (home / "Documents" / "notes.copy.txt").write_text("notes\n")
    (home / "Desktop").mkdir(exist_ok=True)
    if "unzip" in request_text:
        shutil.make_archive(str(home / "Documents" / "reports"), "zip", reports)
    backend = ScriptedBackend([first, answer("Done.")])
    finished = run(backend, request_text, {Effect.READ, Effect.WRITE})
    assert [step.status for step in finished.steps] == ["ok"]
    assert all("answer" in turn.offered_tools for turn in backend.calls[1:])


@pytest.mark.parametrize(("request_text", "changes"), [
    ("zip up my reports folder into ~/Documents/reports.zip", 1),
    ("archive ~/Documents/reports into ~/Documents/reports-2024.zip, then delete the folder", 2),
    ("Zip the album. Then delete it.", 2),
    ("rename ~/a.move.txt to ~/b.txt", 1),
])
def test_changes_given_as_steps_are_counted_at_clause_breaks_only(request_text: str, changes: int) -> None:
    assert len(SEQUENCED_CHANGE.findall(request_text)) == changes


def test_a_spelled_destination_under_a_home_folder_no_call_named_withholds_the_answer(home: Path) -> None:
    """"Organise my downloads by type: pdfs into Downloads/PDFs and the jpg photos into Downloads/Images": one
    change verb, two destinations. The 1.5B model moved the photos and answered; the answer waits until a call
    names Downloads/PDFs too."""
    downloads = home / "Downloads"
    (downloads / "invoice.pdf").write_bytes(b"%PDF")
    (downloads / "photo.jpg").write_bytes(b"jpg")
    backend = ScriptedBackend([
        call("files.move", source="~/Downloads/*.jpg", destination="~/Downloads/Images/"),
        call("files.move", source="~/Downloads/*.pdf", destination="~/Downloads/PDFs/"),
        answer("Moved 1 photo and 1 PDF."),
    ])
    finished = run(backend, "organise my downloads by type: pdfs into Downloads/PDFs and the jpg photos into "
                   "Downloads/Images", {Effect.READ, Effect.WRITE})
    assert ["answer" in turn.offered_tools for turn in backend.calls] == [False, False, True]
    assert [step.status for step in finished.steps] == ["ok", "ok"]
    assert (downloads / "PDFs" / "invoice.pdf").exists() and (downloads / "Images" / "photo.jpg").exists()
