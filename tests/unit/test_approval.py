"""The terminal approval prompt (shared by the REPL and `llmos-ask`): which keys approve, decline or cancel,
what is shown before the question, and that `llmos-ask` on a real terminal uses it. Keys come through
prompt_toolkit's pipe input; nothing is drawn (DummyOutput)."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import llmos.shell.approval
import llmos.shell.ask
import pytest
from fakes import AllowReadOnlyPolicy, RemovalRegistry, ScriptedBackend, answer, call
from llmos.policies.decision import Decision
from llmos.shell.approval import ApprovalReply, TerminalApprover, ask_approval
from llmos.shell.ask import main
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

import llmos.runtime
from llmos.events import Step
from llmos.session import Session

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def keys() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def delete_step(**decision_overrides: str) -> Step:
    decision = Decision(
        decision_overrides.get("verdict", "ask"),
        decision_overrides.get("rule", "effect:delete"),
        decision_overrides.get("reason", "deleting needs your approval"),
    )
    return Step(index=0, tool="files.delete", args={"path": "~/old"}, decision=decision,
                preview=["move ~/old (3 bytes) to the undo journal"])


def reply_to(step: Step, typed: str, keys: PipeInput, *, offer_all: bool = True) -> tuple[ApprovalReply, str]:
    keys.send_text(typed)
    shown = io.StringIO()
    reply = ask_approval(step, offer_all=offer_all, stream=shown, input=keys, output=DummyOutput())
    return reply, shown.getvalue()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("y", ApprovalReply.YES), ("Y", ApprovalReply.YES), ("n", ApprovalReply.NO), ("\r", ApprovalReply.NO),
     ("a", ApprovalReply.ALL), ("\x03", ApprovalReply.CANCEL), ("\x04", ApprovalReply.NO)],
    ids=["y", "Y", "n", "enter", "a", "ctrl-c", "ctrl-d"],
)
def test_each_key_gives_its_reply(typed: str, expected: ApprovalReply, keys: PipeInput) -> None:
    """y approves, a approves all, Enter/n/Ctrl+D decline (No is the default), Ctrl+C cancels the request."""
    assert reply_to(delete_step(), typed, keys)[0] is expected


def test_other_keys_are_ignored_until_a_meaningful_one(keys: PipeInput) -> None:
    """Stray keys (letters, space) neither approve nor decline: the next y/n decides."""
    assert reply_to(delete_step(), "xq z y", keys)[0] is ApprovalReply.YES


def test_a_is_ignored_where_approve_all_is_not_offered(keys: PipeInput) -> None:
    """Without offer_all, `a` does nothing; the following `n` declines."""
    assert reply_to(delete_step(), "an", keys, offer_all=False)[0] is ApprovalReply.NO


def test_shows_tool_rule_reason_and_preview_before_asking(keys: PipeInput) -> None:
    """The lines before the question name the tool, the deciding rule and reason, and each preview line."""
    _, shown = reply_to(delete_step(), "n", keys)
    assert shown.splitlines() == [
        "llmos wants to run files.delete (effect:delete: deleting needs your approval)",
        "    move ~/old (3 bytes) to the undo journal",
    ]


def test_control_characters_in_the_shown_lines_are_escaped(keys: PipeInput) -> None:
    """An escape sequence in a reason or in the call's arguments is shown as text, never sent to the terminal;
    the already-escaped preview is not escaped twice."""
    step = replace(delete_step(reason="evil \x1b[2J reason\u202e"), preview=[], args={"path": "~/a\x1b]0;title\x07"})
    _, shown = reply_to(step, "n", keys)
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "evil \\x1b[2J reason\\u202e" in shown
    step = replace(step, preview=["move ~/a\\x1b (1 bytes)"])
    _, shown = reply_to(step, "n", keys)
    assert "    move ~/a\\x1b (1 bytes)" in shown.splitlines()


def test_terminal_approver_asks_until_a_then_approves_the_rest(
    keys: PipeInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llmos-ask's approver: after `a`, later steps are approved without a prompt."""
    monkeypatch.setattr(llmos.shell.approval, "terminal_io", lambda stream: (keys, DummyOutput()))
    shown = io.StringIO()
    approver = TerminalApprover(shown)
    keys.send_text("a")
    assert approver(delete_step()) is True
    assert approver(delete_step()) is True
    assert shown.getvalue().count("llmos wants to run") == 1


def test_terminal_approver_ctrl_c_interrupts_the_request(keys: PipeInput, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+C at llmos-ask's prompt raises KeyboardInterrupt (exit 130 upstream), not a silent decline."""
    monkeypatch.setattr(llmos.shell.approval, "terminal_io", lambda stream: (keys, DummyOutput()))
    keys.send_text("\x03")
    with pytest.raises(KeyboardInterrupt):
        TerminalApprover(io.StringIO())(delete_step())


# -- llmos-ask on a real terminal -------------------------------------------------------------------------------


class TerminalStdin:
    """stdin on a terminal; prompt_toolkit reads keys from the pipe instead (see terminal_io)."""

    def isatty(self) -> bool:
        return True

    def readline(self, *args: Any) -> str:
        raise AssertionError("on a real terminal the prompt reads keys, not a line from stdin")


def remove_at_a_terminal(typed: str, keys: PipeInput, monkeypatch: pytest.MonkeyPatch, exit_code: int) -> list[str]:
    """`llmos-ask "remove a.txt"` on a real terminal with `typed` at its question: checks the exit code and returns
    what the scripted delete removed."""
    registry = RemovalRegistry()
    backend = ScriptedBackend([call("demo.remove", path="a.txt"), answer("Done.")])
    monkeypatch.setattr(llmos.runtime, "open_session",
                        lambda **options: Session(backend, registry, AllowReadOnlyPolicy()))
    monkeypatch.setattr(llmos.shell.ask, "_on_real_terminal", lambda: True)
    monkeypatch.setattr(llmos.shell.approval, "terminal_io", lambda stream: (keys, DummyOutput()))
    monkeypatch.setattr("sys.stdin", TerminalStdin())
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    keys.send_text(typed)
    assert main(["remove a.txt"]) == exit_code
    return registry.removed


@pytest.mark.parametrize(("typed", "exit_code", "ran"), [("y", 0, True), ("\r", 3, False)], ids=["y", "enter"])
def test_llmos_ask_on_a_real_terminal_prompts_with_prompt_toolkit(
    typed: str, exit_code: int, ran: bool, keys: PipeInput, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """llmos-ask with stdin and stderr on a terminal asks through the key prompt: y runs the step, Enter
    declines it (exit 3); the question and the step's lines are on stderr."""
    removed = remove_at_a_terminal(typed, keys, monkeypatch, exit_code)
    assert removed == (["a.txt"] if ran else [])
    assert "llmos wants to run demo.remove" in capsys.readouterr().err


# -- keys that must never approve ------------------------------------------------------------------------------

STRAY_KEYS = {
    "enter": "\r", "ctrl-j": "\n", "space": " ", "tab-enter": "\t\r", "escape": "\x1b", "alt-enter": "\x1b\r",
    "keypad-enter": "\x1bOM", "pasted-y": "\x1b[200~y\x1b[201~", "ctrl-space": "\x00", "tab": "\t",
}


@pytest.mark.parametrize("typed", list(STRAY_KEYS.values()), ids=list(STRAY_KEYS))
def test_no_key_but_y_or_a_approves(typed: str, keys: PipeInput) -> None:
    """Enter, Ctrl+J, space, Tab, Esc, Alt+Enter, keypad Enter, a pasted `y`: each declines or is ignored (the
    following `n` then declines); the reply is always the No member, never text or an approval."""
    reply, _ = reply_to(delete_step(), typed + "n", keys)
    assert reply is ApprovalReply.NO


@pytest.mark.parametrize("typed", ["\r", "\x1b", "\x1b\r"], ids=["enter", "escape", "alt-enter"])
def test_enter_and_escape_alone_decline(typed: str, keys: PipeInput) -> None:
    """Enter, Esc and Alt+Enter each end the question on their own, with No (the default is to deny)."""
    assert reply_to(delete_step(), typed, keys)[0] is ApprovalReply.NO


def test_keys_typed_before_the_question_are_dropped() -> None:
    """On a terminal, a `y` typed while the request ran (before the question was drawn) does not answer it;
    only a key pressed after the question counts (here `n`)."""
    from prompt_toolkit.input import create_input

    controller, terminal = os.openpty()
    try:
        with os.fdopen(os.dup(terminal), "r") as terminal_file:
            os.write(controller, b"y")
            time.sleep(0.1)
            threading.Timer(0.5, lambda: os.write(controller, b"n")).start()
            reply = ask_approval(delete_step(), offer_all=True, stream=io.StringIO(),
                                 input=create_input(terminal_file), output=DummyOutput())
    finally:
        os.close(controller)
        os.close(terminal)
    assert reply is ApprovalReply.NO


@pytest.mark.parametrize("typed", ["\r", " \t\rn", "\x1b\r", "\x1b"], ids=["enter", "space-tab-enter", "alt-enter",
                                                                       "escape"])
def test_llmos_ask_stray_keys_never_run_a_delete(
    typed: str, keys: PipeInput, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """llmos-ask at a terminal: Enter, space, Tab+Enter, Alt+Enter or Esc at the question leave the delete
    unrun and the request exits 3."""
    assert remove_at_a_terminal(typed, keys, monkeypatch, 3) == []


@pytest.mark.parametrize("typed", ["", "\n", " \n", "no\n", "yes please\n", "a\n"],
                         ids=["eof", "enter", "space", "no", "yes-please", "a"])
def test_line_prompt_declines_all_but_y(typed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """llmos-ask's line prompt (no prompt_toolkit): an empty line, EOF, or anything but y/yes declines."""
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    assert llmos.shell.ask._ask_by_line(delete_step(), io.StringIO()) is False
