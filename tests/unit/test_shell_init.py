"""`llmos shell-init bash|zsh|fish`: the snippets parse in their shell, and in a real terminal (tmux) the key
replaces the typed request with the suggested command without running it, passes the request to
`llmos suggest` exactly as typed, leaves the line alone when suggest fails, and opens the overlay on an empty
line. A fake `llmos` first on PATH stands in for the model; the bash cases always run, zsh and fish ones skip
where those shells are not installed."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from llmos.shell.shell_init import KEY_NAME, SNIPPETS, snippet_for
from tmuxterm import TmuxTerminal

SUGGESTED_COMMAND_TEMPLATE = "touch {marker}"
REQUEST_WITH_SHELL_SYNTAX = """find "my files" in $HOME and 'quoted' `uname`; rm -rf /tmp/x && echo \\ done"""
TYPE_TIMEOUT_S = 15.0


def shell_installed(shell: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shell != "bash" and shutil.which(shell) is None, reason=f"{shell} is not installed")


ALL_SHELLS = [pytest.param(shell, marks=shell_installed(shell)) for shell in ("bash", "zsh", "fish")]

SHELL_COMMANDS = {
    "bash": ["bash", "--norc", "--noprofile"],
    "zsh": ["zsh", "-f"],
    "fish": ["fish", "--no-config", "-C", "function fish_prompt; printf '$ '; end; set -g fish_greeting"],
}
SYNTAX_CHECKS = {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}


# -- the snippets as text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_snippet_passes_the_shells_syntax_check(shell: str, tmp_path: Path) -> None:
    """`bash -n`, `zsh -n` and `fish --no-execute` accept the snippet, also with a quoted llmos path."""
    for llmos_command in (None, "/opt/my tools/it's \"here\"/llmos"):
        snippet_file = tmp_path / f"snippet.{shell}"
        snippet_file.write_text(snippet_for(shell, llmos_command) + "\n")
        completed = subprocess.run([*SYNTAX_CHECKS[shell], str(snippet_file)], capture_output=True, text=True,
                                   timeout=30)
        assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize("shell", sorted(SNIPPETS))
def test_snippet_finds_llmos_on_path_and_never_evaluates_the_line(shell: str) -> None:
    """The snippet calls `llmos` by name (found through PATH) and contains no eval of the typed line."""
    snippet = snippet_for(shell)
    code_lines = [line for line in snippet.splitlines() if not line.lstrip().startswith("#")]
    assert "command llmos" in snippet or "command -q llmos" in snippet
    assert not any("eval" in line for line in code_lines)
    assert "/.venv/" not in snippet and KEY_NAME in snippet


def test_a_given_llmos_path_is_quoted_for_each_shell() -> None:
    """A path with spaces and quotes is one quoted word: POSIX quoting for bash/zsh, fish's own for fish."""
    path = "/opt/my tools/it's/llmos"
    assert f"command {shlex.quote(path)} " in snippet_for("bash", path)
    assert f"command {shlex.quote(path)} " in snippet_for("zsh", path)
    assert "command '/opt/my tools/it\\'s/llmos' " in snippet_for("fish", path)


def test_unknown_shell_is_refused() -> None:
    """Only bash, zsh and fish have a snippet."""
    with pytest.raises(ValueError, match="bash, zsh, fish"):
        snippet_for("tcsh")


# -- in a real terminal -----------------------------------------------------------------------------------------


@dataclass
class KeyBindingSetup:
    terminal: TmuxTerminal
    argv_file: Path
    """What the fake `llmos` was called with: its arguments, NUL-separated."""
    marker: Path
    """Created only if the suggested command runs."""

    @property
    def suggested_command(self) -> str:
        return SUGGESTED_COMMAND_TEMPLATE.format(marker=self.marker)

    def received_argv(self) -> list[str]:
        return self.argv_file.read_bytes().decode().split("\0")[:-1]


FAKE_LLMOS = """#!/bin/sh
printf '%s\\0' "$@" > {argv_file}
case "$1" in
  suggest) {suggest_behaviour} ;;
  overlay) ;;
  *) exit 2 ;;
esac
"""

SUGGEST_BEHAVIOURS = {
    "ok": "echo {command}; exit 0",
    "fails": "echo 'llmos: no model could be loaded here' >&2; exit 2",
    "denied": "echo '# llmos denied (rule: reason): {command}'; exit 3",
    "crashes": "kill -ILL $$",
}


def start_shell_with_snippet(shell: str, tmp_path: Path, behaviour: str = "ok") -> KeyBindingSetup:
    """`shell` in tmux with a fake `llmos` first on PATH and the snippet sourced, at an empty prompt."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    argv_file = tmp_path / "llmos-argv"
    marker = tmp_path / "suggested-command-ran"
    command = SUGGESTED_COMMAND_TEMPLATE.format(marker=marker)
    fake = bin_dir / "llmos"
    fake.write_text(FAKE_LLMOS.format(
        argv_file=shlex.quote(str(argv_file)),
        suggest_behaviour=SUGGEST_BEHAVIOURS[behaviour].format(command=shlex.quote(command) if behaviour == "ok"
                                                               else command),
    ))
    fake.chmod(0o755)
    snippet_file = tmp_path / f"snippet.{shell}"
    snippet_file.write_text(snippet_for(shell) + "\n")
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/bin:/bin", "TERM": "screen", "PS1": "$ ",
           "TMPDIR": str(tmp_path)}
    terminal = TmuxTerminal(SHELL_COMMANDS[shell], env, cwd=tmp_path)
    terminal.wait_for(lambda lines: bool(lines) and lines[-1] == "$", TYPE_TIMEOUT_S, "the first prompt")
    terminal.type_text(f"source {snippet_file}")
    terminal.press("Enter")
    terminal.wait_for(lambda lines: lines[-1] == "$" and any("source" in line for line in lines[:-1]),
                      TYPE_TIMEOUT_S, "the prompt after sourcing the snippet")
    return KeyBindingSetup(terminal, argv_file, marker)


@pytest.fixture
def terminals() -> Iterator[list[TmuxTerminal]]:
    """Started terminals, all closed after the test whatever its outcome."""
    started: list[TmuxTerminal] = []
    yield started
    for terminal in started:
        terminal.close()


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_key_replaces_the_request_with_the_suggested_command_without_running_it(
    shell: str, tmp_path: Path, terminals: list[TmuxTerminal]
) -> None:
    """Typing a request with quotes, $, backticks and ; then Alt+M: the line holds the suggested command, not
    run (no new prompt, marker absent), and `llmos suggest -- REQUEST` received the request byte for byte."""
    setup = start_shell_with_snippet(shell, tmp_path)
    terminals.append(setup.terminal)
    setup.terminal.type_text(REQUEST_WITH_SHELL_SYNTAX)
    setup.terminal.press("M-m")
    lines = setup.terminal.wait_for(lambda lines: lines[-1] == f"$ {setup.suggested_command}", TYPE_TIMEOUT_S,
                                    "the suggested command on the line")
    assert setup.received_argv() == ["suggest", "--", REQUEST_WITH_SHELL_SYNTAX]
    assert not setup.marker.exists()
    assert sum(line.startswith("$") for line in lines) == 2  # the `source` line and the edited line: no new prompt
    assert "suggesting" not in lines[-1]


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_suggest_failure_leaves_the_line_as_typed_and_shows_the_error(
    shell: str, tmp_path: Path, terminals: list[TmuxTerminal]
) -> None:
    """When `llmos suggest` exits 2, the typed request stays on the line and its error is on the screen."""
    setup = start_shell_with_snippet(shell, tmp_path, behaviour="fails")
    terminals.append(setup.terminal)
    setup.terminal.type_text("list my files")
    setup.terminal.press("M-m")
    setup.terminal.wait_for(
        lambda lines: any("no model could be loaded" in line for line in lines) and "$ list my files" in lines,
        TYPE_TIMEOUT_S, "the error, with the line unchanged",
    )
    assert setup.received_argv() == ["suggest", "--", "list my files"]


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_suggest_dying_silently_still_says_it_failed(shell: str, tmp_path: Path, terminals: list[TmuxTerminal]) -> None:
    """`llmos suggest` killed by a signal with no output (a crash in the model library): the line stays and
    the failure is said, with its exit status, rather than nothing happening."""
    setup = start_shell_with_snippet(shell, tmp_path, behaviour="crashes")
    terminals.append(setup.terminal)
    setup.terminal.type_text("list my files")
    setup.terminal.press("M-m")
    setup.terminal.wait_for(
        lambda lines: any("failed (exit 132)" in line for line in lines) and "$ list my files" in lines,
        TYPE_TIMEOUT_S, "the failure message, with the line unchanged",
    )


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_key_on_an_empty_line_opens_the_overlay(shell: str, tmp_path: Path, terminals: list[TmuxTerminal]) -> None:
    """Alt+M with nothing (or only spaces) typed runs `llmos overlay` instead of asking for a suggestion."""
    setup = start_shell_with_snippet(shell, tmp_path)
    terminals.append(setup.terminal)
    setup.terminal.type_text("   ")
    setup.terminal.press("M-m")
    # The fake's `printf > file` makes the file before it writes to it: wait for the written arguments, not the
    # file (under load the file was read empty in between).
    setup.terminal.wait_for(lambda lines: setup.argv_file.exists() and setup.received_argv() != [], TYPE_TIMEOUT_S,
                            "llmos to be called")
    assert setup.received_argv() == ["overlay"]


def test_bash_puts_a_denied_command_on_the_line_commented_out(
    tmp_path: Path, terminals: list[TmuxTerminal]
) -> None:
    """bash (interactive comments on by default): a denied suggestion replaces the line as a comment, inert."""
    setup = start_shell_with_snippet("bash", tmp_path, behaviour="denied")
    terminals.append(setup.terminal)
    setup.terminal.type_text("wipe the temp folder")
    setup.terminal.press("M-m")
    setup.terminal.wait_for(
        lambda lines: lines[-1] == f"$ # llmos denied (rule: reason): {setup.suggested_command}", TYPE_TIMEOUT_S,
        "the commented-out command",
    )
    setup.terminal.press("Enter")
    setup.terminal.wait_for(lambda lines: lines[-1] == "$", TYPE_TIMEOUT_S, "the next prompt")
    assert not setup.marker.exists()


@pytest.mark.parametrize("shell", [pytest.param("zsh", marks=shell_installed("zsh"))])
def test_zsh_without_interactive_comments_keeps_the_line_when_denied(
    shell: str, tmp_path: Path, terminals: list[TmuxTerminal]
) -> None:
    """zsh treats `#` as a command name unless interactive_comments is set (a `;` after it would run), so a
    denied suggestion is shown as a message and the typed request stays."""
    setup = start_shell_with_snippet(shell, tmp_path, behaviour="denied")
    terminals.append(setup.terminal)
    setup.terminal.type_text("wipe the temp folder")
    setup.terminal.press("M-m")
    lines = setup.terminal.wait_for(lambda lines: any("llmos denied" in line for line in lines), TYPE_TIMEOUT_S,
                                    "the denial message")
    assert "$ wipe the temp folder" in lines
