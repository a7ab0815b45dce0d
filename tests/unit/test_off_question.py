"""An answer that gives a read file's size or line count when the request asked something else of it is sent back
to the model once (`llmos.answers.off_question`); an answer to a question about the file itself is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools.builtin import builtin_registry

from llmos.answers.off_question import NAME_THEM_NOTE, OFF_QUESTION_NOTE, off_question_note
from llmos.events import RequestFinished, Step
from llmos.session import Session

STANDUP = "Standup, Monday\n- Sam: finished the invoice export.\n- Dana: blocked on the staging password.\n"


@pytest.fixture
def home(temp_home: Path) -> Path:
    (temp_home / "Documents").mkdir(exist_ok=True)
    (temp_home / "Documents" / "standup.txt").write_text(STANDUP)
    return temp_home


def run(backend: ScriptedBackend, request: str) -> RequestFinished:
    events = list(Session(backend, builtin_registry(), AllowReadOnlyPolicy()).run(request))
    assert isinstance(events[-1], RequestFinished)
    return events[-1]


def read_step(result: str, status: str = "ok") -> Step:
    return Step(index=0, tool="files.read", args={"path": "~/x.txt"}, status=status, result=result)


READ = read_step('{"path":"~/invoice.txt","size":"113 B","truncated":false,"lines":5,"content":"Total: 129 EUR\\n"}')


@pytest.mark.parametrize("reply", [
    "The invoice is 113 bytes in size and contains 5 lines.",
    "The file has 5 lines.",
    "It is 113 B.",
])
def test_a_size_or_the_line_count_is_off_a_question_about_the_content(reply: str) -> None:
    assert off_question_note(reply, "find my invoice and tell me the total", [READ]) == OFF_QUESTION_NOTE


PASSWD = read_step('{"path":"/etc/passwd","size":"1.2 KB","truncated":false,"lines":24,'
                   '"content":"root:x:0:0:root:/root:/bin/bash\\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\\n"}')


@pytest.mark.parametrize("reply", [
    "There are 24 user accounts on this machine, listed in /etc/passwd.",
    "/etc/passwd has 24 entries.",
])
def test_the_line_count_given_as_a_count_of_things_is_off_a_question_asking_which(reply: str) -> None:
    """"Which accounts exist?" asks for names; its file's 24 lines said as "24 user accounts" name none."""
    assert off_question_note(
        reply, "which user accounts exist on this machine? they're listed in /etc/passwd", [PASSWD]) == NAME_THEM_NOTE


@pytest.mark.parametrize(("reply", "request_text"), [
    # A request that asks for a number may be answered with the line count.
    ("There are 24 user accounts.", "how many user accounts are in /etc/passwd?"),
    ("There are 24 user accounts.", "count the accounts in /etc/passwd"),
    # The names the request asked for, or another number than the file's line count.
    ("The accounts are root and daemon.", "which user accounts exist? they're listed in /etc/passwd"),
    ("3 accounts have a login shell: root, sam and dana.", "which accounts can log in? see /etc/passwd"),
])
def test_a_count_asked_for_or_not_the_line_count_is_kept(reply: str, request_text: str) -> None:
    assert off_question_note(reply, request_text, [PASSWD]) is None


@pytest.mark.parametrize(("reply", "request_text", "steps"), [
    # The answer the request asked for.
    ("The total is 129 EUR.", "find my invoice and tell me the total", [READ]),
    # A question about the file itself: its size and lines are the answer.
    ("It has 5 lines.", "how many lines does invoice.txt have?", [READ]),
    ("It is 113 bytes.", "how big is invoice.txt?", [READ]),
    # A number of lines that is not the file's count, or a size that is not the file's, is content.
    ("The last 3 lines mention the total.", "summarise invoice.txt", [READ]),
    ("The invoice is for a 2 TB disk.", "summarise invoice.txt", [READ]),
    # No read, or a read that failed or returned no text: nothing was shown that the answer could have used.
    ("It is 113 bytes.", "summarise invoice.txt", []),
    ("It is 113 bytes.", "summarise invoice.txt", [read_step("no such file", status="error")]),
    ("It is 113 bytes.", "summarise invoice.txt",
     [read_step('{"path":"~/a.png","size":"113 B","binary":true,"type":"PNG image"}')]),
])
def test_an_answer_that_answers_or_has_nothing_to_answer_from_is_kept(
    reply: str, request_text: str, steps: list[Step]
) -> None:
    assert off_question_note(reply, request_text, steps) is None


def test_the_model_is_asked_once_more_and_its_second_answer_is_given(home: Path) -> None:
    """"Summarise standup.txt" answered with its size: the reply and llmos's note join the conversation, the next
    turn may only answer, and that answer is what the person gets."""
    backend = ScriptedBackend([
        call("files.read", path="~/Documents/standup.txt"),
        answer("The file has 3 lines and is 96 bytes in size."),
        answer("Sam finished the invoice export; Dana is blocked on the staging password."),
    ])
    outcome = run(backend, "summarise ~/Documents/standup.txt")
    assert outcome.answer == "Sam finished the invoice export; Dana is blocked on the staging password."
    assert [step.tool for step in outcome.steps] == ["files.read"]
    again = backend.calls[2]
    assert again.offered_tools == ["answer"]
    assert "The file has 3 lines" in again.conversation and OFF_QUESTION_NOTE in again.conversation


def test_only_once_the_second_answer_stands_whatever_it_says(home: Path) -> None:
    backend = ScriptedBackend([
        call("files.read", path="~/Documents/standup.txt"),
        answer("The file has 3 lines."),
        answer("It has 3 lines of notes."),
    ])
    outcome = run(backend, "summarise ~/Documents/standup.txt")
    assert outcome.answer == "It has 3 lines of notes." and len(backend.calls) == 3
