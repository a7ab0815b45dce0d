"""The shell keybinding with the real `llmos` and the small real model: in bash under tmux, a typed request
becomes a `find` command on the line, not run. The model is assembled into the session's shared cache on
first use; HOME and the XDG config and data folders are per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from llmos.shell.shell_init import snippet_for
from realmodel import isolated_llmos_env
from tmuxterm import TmuxTerminal

pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]

REQUEST = "find pdfs bigger than 10 MB in my home"
SUGGEST_TIMEOUT_S = 240.0
PROMPT_TIMEOUT_S = 30.0


def test_alt_m_turns_a_typed_request_into_a_find_command(model_cache_home: Path, tmp_path: Path) -> None:
    """Alt+M after typing the request: the line becomes a command containing `find`, left for the person
    to run (no new prompt appears after it)."""
    home = tmp_path / "home"
    home.mkdir()
    venv_bin = Path(sys.executable).parent
    snippet_file = tmp_path / "snippet.bash"
    snippet_file.write_text(snippet_for("bash") + "\n")
    env = {
        **isolated_llmos_env(home, model_cache_home, tmp_path),
        "PATH": f"{venv_bin}:/usr/bin:/bin",
        "TERM": "screen",
        "PS1": "$ ",
        "TMPDIR": str(tmp_path),
        "LLMOS_NO_DAEMON": "1",
    }
    terminal = TmuxTerminal(["bash", "--norc", "--noprofile"], env, cwd=home)
    try:
        terminal.wait_for(lambda lines: bool(lines) and lines[-1] == "$", PROMPT_TIMEOUT_S, "the first prompt")
        terminal.type_text(f"source {snippet_file}")
        terminal.press("Enter")
        terminal.wait_for(lambda lines: len(lines) >= 2 and lines[-1] == "$", PROMPT_TIMEOUT_S,
                          "the prompt after sourcing the snippet")
        terminal.type_text(REQUEST)
        terminal.press("M-m")

        def settled(lines: list[str]) -> bool:
            # The last line is the edited prompt line again (not the `source` line, shown alone while the hint
            # clears the prompt line) and no longer holds the request.
            replaced = (len(lines) >= 2 and lines[-1].startswith("$ ") and not lines[-1].startswith("$ source")
                        and lines[-1] != f"$ {REQUEST}")
            failed = any(line.startswith("llmos") and "suggesting" not in line for line in lines)
            return replaced or failed

        lines = terminal.wait_for(settled, SUGGEST_TIMEOUT_S, "the suggested command")
        screen = "\n".join(lines)
        # The request itself contains "find": the line must have changed, and no failure may have been shown.
        assert not any(line.startswith("llmos") for line in lines), screen
        assert lines[-1].startswith("$ ") and lines[-1] != f"$ {REQUEST}", screen
        assert "find" in lines[-1], screen
        assert sum(line.startswith("$") for line in lines) == 2, screen  # not run: no prompt after it
    finally:
        terminal.close()
