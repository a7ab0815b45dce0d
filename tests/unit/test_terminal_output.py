"""What reaches a terminal is text, never a command to it: file names holding escape sequences (CSI colours,
an OSC 52 clipboard write, an OSC 8 hyperlink), bidi overrides, a carriage return that overwrites the line, or
backspaces, pass through every printing surface (`llmos-ask` streamed and whole answers, step lines and `--json`,
the REPL, `llmos log`, `llmos undo --list`, `llmos policy explain`) as visible escapes. Line breaks and tabs,
which only lay text out, are kept; `--json` stays exact data."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.shell.ask import main as ask_main
from llmos.tools import load_builtin_tools
from trees import isolate_xdg, use_memory_keyring

import llmos.runtime
from llmos.cli import main as llmos_main
from llmos.config import Config
from llmos.display import TerminalWriter, escape_for_terminal, escaped_standard_streams
from llmos.runtime import load_safety
from llmos.session import Session, SessionOptions

# Names a file may really have (no slash, no NUL), each an attack on the terminal that shows it.
HOSTILE_NAMES = {
    "csi-colour": "evil\x1b[31mred",
    "osc52-clipboard": "clip\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "osc8-hyperlink": "\x1b]8;;http:evil.example\x1b\\link\x1b]8;;\x1b\\",
    "bidi-override": "invoice\u202efdp.exe",
    "bidi-isolate": "a\u2066b\u2069c",
    "carriage-return": "innocent\rEVIL",
    "backspaces": "good\b\b\b\bbad",
    "c1-csi": "x\x9b31m",
    "textual-markup": "[bold red]x[@click=app.quit]y",  # no closing tag: a file name holds no slash
}
# What must never reach the terminal raw: C0 controls but newline and tab, DEL, C1, zero-width, bidi marks.
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def assert_terminal_safe(text: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} reaches the terminal in {text!r}"


@pytest.fixture
def hostile_home(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temp home with ~/Downloads/<hostile name> for each name; XDG dirs and keyring isolated, no daemon."""
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)
    monkeypatch.setenv("LLMOS_NO_DAEMON", "1")
    for name in HOSTILE_NAMES.values():
        (temp_home / "Downloads" / name).write_text("x")
    return temp_home


class TerminalStdin(io.StringIO):
    """stdin on a terminal: llmos-ask reads no data from it."""

    def isatty(self) -> bool:
        return True


def use_scripted_model(monkeypatch: pytest.MonkeyPatch, replies: list[dict[str, Any]]) -> None:
    """llmos-ask's session: the real tools, default policy, journal and audit log around a scripted model."""
    monkeypatch.setattr("sys.stdin", TerminalStdin())
    backend = ScriptedBackend(replies)

    def open_session(**options: Any) -> Session:
        session_options = SessionOptions(max_steps=options["max_steps"] or SessionOptions().max_steps)
        return Session(backend, load_builtin_tools(), load_safety(None, Config()), session_options)

    monkeypatch.setattr(llmos.runtime, "open_session", open_session)


# -- the writer ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_escape_for_terminal_leaves_no_control_but_layout(name: str) -> None:
    """Each hostile name comes out with no raw control, C1 or bidi character; newline and tab are kept."""
    shown = escape_for_terminal(f"{name}\n\t{name}")
    assert_terminal_safe(shown)
    assert "\n\t" in shown


def test_writer_escapes_text_cut_anywhere() -> None:
    """Streamed pieces (an escape sequence split across tokens) escape exactly as the whole text does."""
    text = "".join(HOSTILE_NAMES.values())
    out = io.StringIO()
    writer = TerminalWriter(out)
    for index in range(0, len(text), 3):
        writer.write(text[index:index + 3])
    assert out.getvalue() == escape_for_terminal(text)
    assert_terminal_safe(out.getvalue())


def test_json_passes_the_writer_as_exact_data() -> None:
    """Default `json.dumps` output is unchanged by the writer and loads back to the hostile names themselves."""
    data = {"names": list(HOSTILE_NAMES.values())}
    out = io.StringIO()
    TerminalWriter(out).write(json.dumps(data))
    assert out.getvalue() == json.dumps(data)
    assert json.loads(out.getvalue()) == data


def test_escaped_standard_streams_cover_print_to_stdout_and_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """Inside, `print` to stdout and to stderr both escape; outside, streams are what they were."""
    with escaped_standard_streams():
        print(HOSTILE_NAMES["csi-colour"])
        import sys

        print(HOSTILE_NAMES["osc52-clipboard"], file=sys.stderr)
    captured = capsys.readouterr()
    assert captured.out == "evil\\x1b[31mred\n"
    assert_terminal_safe(captured.err)


# -- llmos-ask -------------------------------------------------------------------------------------------------


def listing_replies() -> list[dict[str, Any]]:
    """The model lists Downloads, then answers repeating every hostile name (as a model may)."""
    return [call("files.list", path="~/Downloads"), answer("Found: " + " | ".join(HOSTILE_NAMES.values()))]


def test_llmos_ask_answer_and_step_lines_are_escaped(
    hostile_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """llmos-ask listing the hostile files: the streamed answer (stdout) and the step lines (stderr) hold no
    raw control; the names show as escapes."""
    use_scripted_model(monkeypatch, listing_replies())
    assert ask_main(["--no-input", "what is in Downloads?"]) == 0
    captured = capsys.readouterr()
    assert_terminal_safe(captured.out)
    assert_terminal_safe(captured.err)
    assert "evil\\x1b[31mred" in captured.out and "invoice\\u202efdp.exe" in captured.out
    assert "files.list" in captured.err


def test_llmos_ask_whole_answer_and_errors_are_escaped(
    hostile_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing step's error (it names the hostile path) and a delete's skipped line are escaped too."""
    name = HOSTILE_NAMES["osc52-clipboard"]
    use_scripted_model(monkeypatch, [call("files.read", path=f"~/Downloads/{name}/missing"),
                                     call("files.delete", path=f"~/Downloads/{name}"), answer(f"no {name}")])
    ask_main(["--no-input", "read it"])
    captured = capsys.readouterr()
    assert_terminal_safe(captured.out + captured.err)
    assert (hostile_home / "Downloads" / name).exists()


def test_llmos_ask_json_is_exact_data_with_no_raw_control(
    hostile_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json: no raw control (or bidi) character on stdout, and the answer loads back to the exact names."""
    use_scripted_model(monkeypatch, listing_replies())
    assert ask_main(["--json", "tell me about my Downloads folder"]) == 0
    out = capsys.readouterr().out
    assert_terminal_safe(out)
    data = json.loads(out)
    assert all(name in data["answer"] for name in HOSTILE_NAMES.values())


# -- llmos subcommands -----------------------------------------------------------------------------------------


def delete_every_hostile_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that deletes each hostile file (approved with --yes): journaled and audited under its name."""
    replies = [call("files.delete", path=f"~/Downloads/{name}") for name in HOSTILE_NAMES.values()]
    use_scripted_model(monkeypatch, [*replies, answer("Deleted.")])
    # The markup name fails (its brackets read as a pattern); the others are deleted and journaled.
    ask_main(["--yes", "--no-input", "--max-steps", "20", "delete them"])
    assert not (Path.home() / "Downloads" / HOSTILE_NAMES["csi-colour"]).exists()


@pytest.mark.parametrize("command", [["log"], ["log", "-n", "50"], ["undo", "--list"]],
                         ids=["log", "log-n", "undo-list"])
def test_log_and_undo_list_escape_recorded_names(
    command: list[str], hostile_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After deleting the hostile files, `llmos log` and `llmos undo --list` show their records with the names
    escaped: no raw control reaches stdout or stderr."""
    delete_every_hostile_file(monkeypatch)
    capsys.readouterr()
    llmos_main(command)
    captured = capsys.readouterr()
    assert "files.delete" in captured.out or "delete" in captured.out
    assert_terminal_safe(captured.out + captured.err)


def test_log_json_is_exact_data(
    hostile_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`llmos log --json` holds no raw control and loads back to the exact hostile paths."""
    delete_every_hostile_file(monkeypatch)
    capsys.readouterr()
    llmos_main(["log", "--json", "-n", "50"])
    out = capsys.readouterr().out
    assert_terminal_safe(out)
    recorded_paths = [record["args"].get("path", "") for record in json.loads(out)]
    assert f"~/Downloads/{HOSTILE_NAMES['csi-colour']}" in recorded_paths
    assert f"~/Downloads/{HOSTILE_NAMES['bidi-override']}" in recorded_paths


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_policy_explain_escapes_the_command(
    name: str, hostile_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`llmos policy explain rm NAME` repeats the command and the rule's reason: escaped."""
    llmos_main(["policy", "explain", "rm", name])
    captured = capsys.readouterr()
    assert "overall" in captured.out
    assert_terminal_safe(captured.out + captured.err)


def test_usage_error_naming_a_hostile_path_is_escaped(hostile_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An error line that repeats a hostile argument (an unknown profile) is escaped like any other output."""
    llmos_main(["policy", "show", "--profile", HOSTILE_NAMES["osc8-hyperlink"]])
    captured = capsys.readouterr()
    assert_terminal_safe(captured.out + captured.err)
