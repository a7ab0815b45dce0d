"""`llmos suggest`: the model's command line, kept to one line, judged by the real policy; the CLI's output and
exit codes (0 a command, 3 denied and commented out, 1 none, 2 no request)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import ScriptedBackend, call
from llmos.tools import load_builtin_tools
from trees import isolate_xdg

import llmos.runtime
from llmos.cli import main
from llmos.config import load_config
from llmos.runtime import load_safety
from llmos.session import Session
from llmos.suggest import suggest_command


@pytest.fixture
def session_with(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Session]:
    isolate_xdg(tmp_path, monkeypatch)

    def build(*lines: str) -> Session:
        backend = ScriptedBackend([call("command", line=line) for line in lines])
        return Session(backend, load_builtin_tools(), load_safety(None, load_config()))

    return build


def test_suggestion_is_one_line_and_judged_by_policy(session_with: Callable[..., Session]) -> None:
    """A command the model split over lines comes back as one line (Enter must not run a second command)."""
    suggestion = suggest_command(session_with("find ~ -name '*.pdf'\n-size +10M"), "big pdfs")
    assert suggestion.command == "find ~ -name '*.pdf' -size +10M"
    assert suggestion.verdict == "allow" and suggestion.rule == "command:find"


def test_denied_command_is_put_on_the_line_commented_out(session_with: Callable[..., Session]) -> None:
    """`rm -rf ~` is denied by policy, so the line the shell gets starts with `#` and says why."""
    suggestion = suggest_command(session_with("rm -rf ~"), "wipe my home")
    assert suggestion.verdict == "deny"
    assert suggestion.as_shell_line() == f"# llmos denied ({suggestion.rule}: {suggestion.reason}): rm -rf ~"


def test_the_prompt_offers_only_the_command_reply(session_with: Callable[..., Session]) -> None:
    """The suggestion grammar allows one `command` reply and nothing that could run a tool."""
    session = session_with("ls -la")
    suggest_command(session, "list everything here")
    assert session.backend.calls[0].offered_tools == ["command"]
    assert "list everything here" in session.backend.calls[0].conversation


@pytest.mark.parametrize(
    ("line", "exit_code", "printed"),
    [("du -sh -- */", 0, "du -sh -- */"), ("rm -rf ~", 3, "# llmos denied"), ("", 1, "# llmos: no command for")],
)
def test_cli_prints_the_line_and_exits_by_verdict(
    session_with: Callable[..., Session], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    line: str, exit_code: int, printed: str,
) -> None:
    """`llmos suggest` prints exactly one line: the command, a denied one commented out, or a note; exit 0/3/1."""
    monkeypatch.setattr(llmos.runtime, "open_session", lambda **_: session_with(line))
    assert main(["suggest", "some", "request"]) == exit_code
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(printed)


def test_cli_without_a_request_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """No words: exit 2 with one line saying how to use it, and no model is loaded."""
    assert main(["suggest"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage: llmos suggest" in err


def test_every_example_the_model_copies_runs_without_error(temp_home: Path) -> None:
    """The suggest prompt's example command lines (what a small model imitates, e.g. folder sizes as
    `du -sh -- ~/X/*/ | sort -h`, not the `du -sh --max-depth=1` du refuses) run in bash, every pipe stage
    succeeding, in a home that has the folders they name."""
    import json
    import os
    import subprocess

    from llmos.models.prompt import SUGGEST_EXAMPLE_TURNS

    for folder in ("Videos/clips", "Documents/notes", "Projects/llmos", "Projects/site"):
        (temp_home / folder).mkdir(parents=True, exist_ok=True)
        (temp_home / folder / "file.txt").write_text("some text\n")
    (temp_home / "Projects/llmos/big.bin").write_bytes(b"x" * 300_000)  # the bigger one sorts last, not by name
    example_lines = [json.loads(text)["args"]["line"] for role, text in SUGGEST_EXAMPLE_TURNS if role == "assistant"]
    assert any("du -sh" in line and "| sort -h" in line for line in example_lines)
    for line in example_lines:
        completed = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=temp_home, capture_output=True,
                                   text=True, env={**os.environ, "HOME": str(temp_home)}, timeout=30)
        assert completed.returncode == 0 and completed.stderr == "", (line, completed.stderr)
        assert completed.stdout.strip(), line
    sizes = subprocess.run(["bash", "-o", "pipefail", "-c", "du -sh -- ~/Projects/*/ | sort -h"], cwd=temp_home,
                           capture_output=True, text=True, env={**os.environ, "HOME": str(temp_home)}, timeout=30)
    assert [line.split("\t")[1].rstrip("/").rsplit("/", 1)[1] for line in sizes.stdout.splitlines()] == [
        "site", "llmos"]
