"""The session checks a model's answer against what the tools returned before anyone sees it: an answer that
states a number, name or path no result holds is replaced by one llmos renders from the results, and
`--json` says so (`answer_source`, `ungrounded`)."""

from __future__ import annotations

from pathlib import Path

from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools import load_builtin_tools

from llmos.answers.outcomes import NOTHING_RAN
from llmos.events import RequestFinished
from llmos.session import Session


def ask(replies: list, request: str, stdin_data: str | None = None) -> RequestFinished:
    session = Session(ScriptedBackend(replies), load_builtin_tools(), AllowReadOnlyPolicy())
    events = list(session.run(request, stdin_data))
    assert isinstance(events[-1], RequestFinished)
    return events[-1]


def test_a_plain_lookup_is_worded_by_llmos_and_the_model_writes_no_answer(temp_home: Path) -> None:
    """The issue's example "list all the pdf files in Downloads" (answered "There are 10 PDF files: big-video.mp4,
    holiday.jpg, ..."): the listing answers it, so llmos words it and the model is not asked to."""
    backend = ScriptedBackend([call("files.list", path="~/Downloads"),
                               answer("There are 10 PDF files: big-video.mp4, holiday.jpg.")])
    events = list(Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run(
        "list all the pdf files in Downloads"))
    outcome = events[-1]
    assert isinstance(outcome, RequestFinished) and len(backend.calls) == 1
    assert outcome.answer == "~/Downloads has 1 PDF file (1 hidden entry not looked at): report.pdf."
    assert (outcome.answer_source, outcome.ungrounded) == ("rendered", [])


def test_an_answer_naming_files_no_result_holds_is_replaced_by_the_rendered_listing(temp_home: Path) -> None:
    """A request the model must word ("tell me about ...") answered with made-up names and a made-up count."""
    outcome = ask([call("files.list", path="~/Downloads"),
                   answer("There are 10 PDF files: big-video.mp4, holiday.jpg, ubuntu-24.04-desktop.iso.")],
                  "tell me about the pdf files in Downloads")
    assert outcome.answer_source == "rendered"
    assert {"10 PDF files", "big-video.mp4", "holiday.jpg"} <= set(outcome.ungrounded)
    assert outcome.answer is not None and "report.pdf" in outcome.answer and "holiday" not in outcome.answer
    payload = outcome.to_json()
    assert payload["answer_source"] == "rendered" and "big-video.mp4" in payload["ungrounded"]


def test_an_answer_every_fact_of_which_a_result_holds_is_kept(temp_home: Path) -> None:
    outcome = ask([call("files.list", path="~/Downloads"), answer("~/Downloads holds report.pdf and notes.txt.")],
                  "tell me about my Downloads folder")
    assert outcome.answer == "~/Downloads holds report.pdf and notes.txt."
    assert (outcome.answer_source, outcome.ungrounded) == ("model", [])
    assert "ungrounded" not in outcome.to_json()


def test_facts_from_the_piped_data_the_model_read_are_grounded(temp_home: Path) -> None:
    """Piped data is a source: a count it states and no tool returned still stands."""
    outcome = ask([call("files.list", path="~/Downloads"), answer("The log shows 1187 failed logins on sdb7.")],
                  "anything odd?", stdin_data="Dec 4 sdb7: 1187 failed logins\n")
    assert (outcome.answer_source, outcome.ungrounded) == ("model", [])


def test_a_claimed_change_with_no_call_at_all_is_not_shown() -> None:
    """The model answers without any call and says it deleted something: llmos says nothing ran."""
    outcome = ask([answer("I ran rm -rf ~/projects/webapp/build and removed it.")], "clean the webapp build")
    assert (outcome.answer, outcome.answer_source) == (NOTHING_RAN, "rendered")


def test_an_answer_from_knowledge_with_no_call_is_left_alone() -> None:
    """No step ran and nothing is claimed: the model's own explanation stands (restraint answers)."""
    text = "Use chmod 644 ~/notes.txt to make it readable by everyone and writable only by you."
    outcome = ask([answer(text)], "how do I make a file read-only for others?")
    assert (outcome.answer, outcome.answer_source) == (text, "model")


def test_llmos_ask_says_on_stderr_when_it_set_the_model_answer_aside(temp_home: Path, monkeypatch, capsys) -> None:
    """Human output: the rendered answer on stdout, and one line on stderr naming what the model made up."""
    from llmos.shell.ask import main
    from test_ask_cli import FakeTerminal, scripted

    scripted(monkeypatch, [call("files.list", path="~/Downloads"), answer("There are 10 PDF files: holiday.jpg.")])
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    code = main(["tell me about the pdf files in Downloads"])
    out, err = capsys.readouterr()
    assert code == 0 and "report.pdf" in out and "holiday.jpg" not in out
    assert "(answered from the tool results: the model's answer stated" in err and "holiday.jpg" in err
