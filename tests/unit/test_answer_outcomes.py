"""llmos states what became of a request's changes from the step records, whatever the model writes: a dry run,
an approval nobody could give, a denial and an unfixed failure are each said in llmos's own words, first, and a
model answer that claims a change no step made is never shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import AllowReadOnlyPolicy, DenyDeletes, ScriptedBackend, answer, call
from test_session import finished, make_registry, run

from llmos.answers.outcomes import (
    NOTHING_RAN,
    ONLY_LOOKED,
    claims_a_change,
    outcome_statement,
    with_asked_count,
    with_outcome,
)
from llmos.events import AnswerStarted, AnswerToken, RequestFinished, Step
from llmos.session import Session, SessionOptions

CLAIM = "The .tmp files in ~/Downloads have been deleted."


@pytest.mark.parametrize("text", [
    CLAIM, "I moved the PDFs into Documents.", "Done: 3 files were removed.", "Firefox was killed.",
    "The archive is created at ~/backup.zip", "I've renamed it to notes-old.txt", "Saved the count to ~/n.txt.",
    "The command `rm -rf ~/projects/webapp/build` has been executed to remove the stale output.",
])
def test_a_change_said_to_have_happened_is_a_claim(text: str) -> None:
    assert claims_a_change(text)


@pytest.mark.parametrize("text", [
    "Nothing was deleted.", "The files were not moved.", "I would delete ~/a.iso and ~/b.iso.",
    "These files can be removed if you approve.", "No file was changed; it was a dry run.",
    "There are 3 PDF files in ~/Downloads.", "The file was last modified on 2024-03-01.", "It will be archived.",
    "Nothing has been removed, but 2 files could be deleted.",
    # The dot inside a name ends no clause: the negation before it still holds.
    "Nothing in ~/notes.txt was deleted.", "None of the files in ~/Documents/a.b were moved.",
])
def test_negated_conditional_or_descriptive_words_are_not_claims(text: str) -> None:
    assert not claims_a_change(text)


def test_steps_that_all_happened_leave_the_model_answer_alone() -> None:
    ok = Step(index=0, tool="files.delete", args={"path": "~/a"}, status="ok", result='{"deleted":1}', undo_id="x")
    assert outcome_statement([ok]) is None
    assert with_outcome("Deleted ~/a.", [ok]) == ("Deleted ~/a.", False)


def test_dry_run_answer_says_nothing_changed_and_drops_the_claim() -> None:
    """The issue's example: `--dry-run "delete the .iso file"`, and the model says files were deleted."""
    registry = make_registry()
    backend = ScriptedBackend([call("demo.remove", path="~/Downloads/ubuntu.iso"), answer(CLAIM)])
    session = Session(backend, registry, AllowReadOnlyPolicy(), SessionOptions(dry_run=True))
    outcome = finished(run(session, "delete the .iso file in ~/Downloads", approver=lambda step: True))
    assert outcome.steps[0].status == "skipped"
    assert outcome.answer is not None and outcome.answer.startswith("Dry run: nothing was changed. Planned, not run:")
    assert "~/Downloads/ubuntu.iso" in outcome.answer and "deleted" not in outcome.answer
    assert outcome.answer_source == "rendered" and outcome.to_json()["answer_source"] == "rendered"


def test_no_input_says_nobody_was_asked_not_that_someone_declined() -> None:
    """`--no-input` (no approver): the step needing approval is not run, and the answer says nobody could be
    asked, never "the user did not approve"."""
    backend = ScriptedBackend([call("demo.remove", path="/x"), answer("The user did not approve this step.")])
    outcome = finished(run(Session(backend, make_registry(), AllowReadOnlyPolicy()), "remove /x"))
    step = outcome.steps[0]
    assert (step.status, outcome.exit_code) == ("skipped", 3)
    assert "nobody could be asked" in json.loads(step.result or "{}")["not_run"]
    assert outcome.answer is not None and "nobody could be asked (--no-input" in outcome.answer
    assert "did not approve" not in outcome.answer.split("\n")[0]


def test_a_person_who_declines_is_told_it_was_not_approved() -> None:
    backend = ScriptedBackend([call("demo.remove", path="/x"), answer("OK, I left it.")])
    outcome = finished(run(Session(backend, make_registry(), AllowReadOnlyPolicy()), "remove /x",
                           approver=lambda step: False))
    assert outcome.answer == 'Not done, not approved: demo.remove path="/x".\nOK, I left it.'
    assert outcome.answer_source == "model"


def test_a_denied_step_is_said_with_its_rule_and_a_claim_after_it_is_dropped() -> None:
    backend = ScriptedBackend([call("demo.remove", path="/x"), answer("I removed /x for you.")])
    outcome = finished(run(Session(backend, make_registry(), DenyDeletes()), "remove /x"))
    assert outcome.answer == 'Refused by policy (no-deletes): demo.remove path="/x": deleting is not allowed here.'
    assert outcome.answer_source == "rendered"


def test_an_unfixed_failure_is_said_and_a_fixed_one_is_not() -> None:
    failed = Step(index=0, tool="files.read", args={"path": "~/a"}, status="error",
                  result='{"error": "no such file: ~/a", "did_you_mean": ["~/b"]}', preview=["read ~/a"])
    fixed = Step(index=1, tool="files.read", args={"path": "~/b"}, status="ok", result='{"text": "hi"}')
    assert outcome_statement([failed]) == "Failed: read ~/a: no such file: ~/a."
    assert outcome_statement([failed, fixed]) is None


def test_the_answer_is_shown_once_checked_never_streamed_before() -> None:
    """The model's words reach a front end only after the check: one AnswerStarted while it writes, then the
    whole checked answer as a single AnswerToken."""
    registry = make_registry()
    backend = ScriptedBackend([call("demo.remove", path="/x"), answer(CLAIM)])
    session = Session(backend, registry, AllowReadOnlyPolicy(), SessionOptions(dry_run=True))
    events: list[Any] = run(session, "delete /x", approver=lambda step: True)
    tokens = [event.text for event in events if isinstance(event, AnswerToken)]
    assert sum(isinstance(event, AnswerStarted) for event in events) == 1
    assert len(tokens) == 1 and tokens[0] == finished(events).answer and "deleted" not in tokens[0]
    assert isinstance(events[-1], RequestFinished)


def test_the_words_of_what_was_read_are_no_claim() -> None:
    """"Summarise this web page": the page says it is "a test website created for demonstration purposes", and the
    model's summary said so; with no step, the answer had been replaced by "Nothing was changed". Restating what
    was read claims nothing; a change verb with other words after it still does."""
    page = "My Website\nWelcome\nThis is a test website created for   demonstration purposes."
    summary = "It is a test website created for demonstration purposes."
    assert not claims_a_change(summary, page)
    assert with_outcome(summary, [], page) == (summary, False)
    assert claims_a_change("I created the page for you.", page)
    assert with_outcome("Your files were deleted.", [], page) == (NOTHING_RAN, True)


def test_a_claimed_change_after_steps_that_only_looked_is_left_out_and_said() -> None:
    """Every step read, and the answer says a file "was moved" (the 0.5B model, after notes that told it to move
    one): the claiming sentence goes, the rest stays, and llmos says nothing was changed."""
    read = Step(index=0, tool="files.read", args={"path": "~/trip.md"}, status="ok",
                result='{"content": "Flight TP1351 on June 4"}')
    answer_text = "Your flight is on June 4. The budget.csv file was moved into ~/Desktop/share."
    shown, replaced = with_outcome(answer_text, [read], read.result or "", only_looked=True)
    assert replaced
    assert shown == f"Your flight is on June 4.\n{ONLY_LOOKED}"
    # Only a claim goes: an answer that claims nothing is left as it is, and so is one after a change.
    assert with_outcome("Your flight is on June 4.", [read], "", only_looked=True) == (
        "Your flight is on June 4.", False)
    assert with_outcome(answer_text, [read], "", only_looked=False) == (answer_text, False)


def test_restating_what_a_step_read_is_no_claim_after_steps_that_only_looked() -> None:
    read = Step(index=0, tool="files.read", args={"path": "~/notes.md"}, status="ok",
                result='{"content": "v2 removed the legacy API and renamed the config file"}')
    summary = "The notes say v2 removed the legacy API and renamed the config file."
    assert with_outcome(summary, [read], read.result or "", only_looked=True) == (summary, False)


def test_the_session_leaves_out_a_claimed_change_when_its_steps_only_read() -> None:
    backend = ScriptedBackend([call("demo.count", folder="Downloads"),
                               answer("There are 3 files. I deleted the old ones too.")])
    session = Session(backend, make_registry(), AllowReadOnlyPolicy())
    outcome = finished(run(session, "how many files are in Downloads?"))
    assert outcome.answer == f"There are 3 files.\n{ONLY_LOOKED}"


@pytest.mark.parametrize("answer_text", [
    "The oldest file is ~/Downloads/old-installer.tmp (changed 1y ago).",
    "backup.sh was last modified on 3 May.",
    "The newest document, notes.md, saved 2 days ago, lists three tasks.",
    # The answer to "which file in Documents did I change most recently?" (it had been replaced by "Nothing
    # was changed: this request's steps only looked.")
    "budget.csv was changed most recently.",
    "budget.csv was modified 2 days ago.",
    "budget.csv was changed 2d ago, the newest in Documents.",
])
def test_after_steps_that_only_looked_a_description_of_files_is_no_claim(answer_text: str) -> None:
    read = Step(index=0, tool="files.find", args={"path": "~/Downloads"}, status="ok", result="{}")
    assert with_outcome(answer_text, [read], "", only_looked=True) == (answer_text, False)


def changed(tool: str, result: dict[str, Any], status: str = "ok") -> Step:
    return Step(index=0, tool=tool, args={}, status=status, result=json.dumps(result))  # type: ignore[arg-type]


def test_a_request_asking_how_many_gets_the_count_the_change_tools_gave() -> None:
    """"Set them all to 755 and tell me how many you changed": the model's answer named the file but no number;
    llmos adds the tools' own count, summed per kind of change."""
    request = "find the scripts, set them all to 755, and tell me how many you changed"
    steps = [changed("files.chmod", {"changed": 1, "done": []})]
    assert with_asked_count("You changed backup.sh to 755.", request, steps) == (
        "You changed backup.sh to 755.\n1 file changed.")
    moves = [changed("files.move", {"moved": 2}), changed("files.move", {"moved": 1}),
             changed("files.delete", {"deleted": 4}), changed("files.delete", {"deleted": 9}, status="error")]
    assert with_asked_count("Done.", "move them and delete the rest; how many?", moves) == (
        "Done.\n3 files moved, 4 files deleted.")


@pytest.mark.parametrize(("answer_text", "request_text"), [
    ("I changed 1 file.", "set them to 755 and tell me how many you changed"),
    ("One script changed.", "set them to 755 and tell me how many you changed"),
    ("You changed backup.sh to 755.", "set the scripts to 755"),
])
def test_an_answer_with_a_number_or_a_request_not_asking_how_many_is_left_as_it_is(
    answer_text: str, request_text: str,
) -> None:
    assert with_asked_count(answer_text, request_text, [changed("files.chmod", {"changed": 1})]) == answer_text
