"""`llmos` and `llmos overlay` in a real terminal (tmux) with the real small model: the request is typed as a
person would, the answer is read off the screen, and the programs exit on their keys.

Each test runs its own tmux server (a private socket) started with the test's environment: temp HOME, XDG dirs
in tmp, the shared model cache, no daemon. Set LLMOS_UPDATE_SCREENS=1 to also save the final screens into
docs/screens/ for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from realmodel import DOWNLOADS_FILE_COUNT, SMALL_MODEL, isolated_llmos_env

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

REQUEST = "how many files are in ~/Downloads?"
ANSWER_TIMEOUT_S = 240.0
"""Generous: the first test of a session also assembles the model from its bundled parts."""
SCREENS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screens"
WIDTH, HEIGHT = 100, 30


class Terminal:
    """A command running in a detached tmux session of its own server; its exit status lands in a file."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, status_file: Path) -> None:
        self.socket = f"llmos-test-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.status_file = status_file
        shell_line = " ".join(_quote(part) for part in command) + f"; echo $? > {_quote(str(status_file))}; sleep 600"
        self._tmux("new-session", "-d", "-s", "main", "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd),
                   shell_line)

    def _tmux(self, *args: str) -> str:
        completed = subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True,
                                   timeout=30, check=True)
        return completed.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "main")

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "main", "-l", text)

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "main", *keys)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = ANSWER_TIMEOUT_S) -> str:
        """Poll the screen until `condition(screen)` holds; fail with the last screen after `timeout`."""
        deadline = time.monotonic() + timeout
        screen = self.screen()
        while not condition(screen):
            if self.status_file.exists():
                status = self.status_file.read_text().strip()
                raise AssertionError(f"the program exited ({status}) before {what}; the screen was:\n{screen}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen was:\n{screen}")
            time.sleep(0.5)
            screen = self.screen()
        return screen

    def exit_status(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.status_file.exists() or not self.status_file.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not exit; the screen was:\n{self.screen()}")
            time.sleep(0.2)
        return int(self.status_file.read_text().strip())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=30,
                       check=False)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture
def terminal(real_home: Path, model_cache_home: Path, tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """Start `llmos ARGS...` in a fresh tmux terminal with the real small model and an isolated home."""
    started: list[Terminal] = []
    env = {
        **isolated_llmos_env(real_home, model_cache_home, tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LLMOS_NO_DAEMON": "1",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    if "PYTHONPATH" in os.environ:  # e.g. a llama.cpp build tried out without installing it
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    executable = str(Path(sys.executable).with_name("llmos"))

    def start(*args: str) -> Terminal:
        status_file = tmp_path / f"exit-status-{len(started)}"
        session = Terminal([executable, *args], env, real_home, status_file)
        started.append(session)
        return session

    yield start
    for session in started:
        session.close()


def mentions_count(text: str) -> bool:
    words = {5: "five"}
    return re.search(rf"\b({DOWNLOADS_FILE_COUNT}|{words[DOWNLOADS_FILE_COUNT]})\b", text, re.IGNORECASE) is not None


def left_pane(screen: str) -> str:
    """The conversation pane's columns only (the plan and system panes beside it hold other numbers)."""
    lines = screen.splitlines()
    top = next(line for line in lines if "Conversation" in line)
    width = top.index("╮") + 1
    return "\n".join(line[:width] for line in lines)


def save_screen(name: str, screen: str) -> None:
    """Keep the screen for the README: trailing spaces and the leftover edges of earlier, smaller frames that an
    inline app leaves above and below itself removed."""
    if not os.environ.get("LLMOS_UPDATE_SCREENS"):
        return
    lines = [line.rstrip() for line in screen.rstrip().splitlines()]
    while lines and set(lines[0]) <= {"▔", " "}:
        lines.pop(0)
    while lines and set(lines[-1]) <= {"▁", " "}:
        lines.pop()
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    (SCREENS_DIR / name).write_text("\n".join(lines) + "\n")


def test_tui_answers_a_typed_request_and_quits_with_ctrl_q(terminal: Callable[..., Terminal]) -> None:
    """`llmos` loads the model, streams the answer to a typed request into the conversation pane (the listing
    step shown done in the plan), and Ctrl+Q ends the process with status 0."""
    tui = terminal()
    tui.wait_for(lambda screen: f"{SMALL_MODEL} (in-process)" in screen or "no model loaded" in screen,
                 "the model to load")
    assert "no model loaded" not in tui.screen()
    tui.type(REQUEST)
    tui.press("Enter")
    tui.wait_for(lambda screen: "working…" in screen or "done" in screen, "the request to start", timeout=30)
    # The title drops "working…" in the same handler that renders the final answer, but the terminal can show
    # a frame in between (the model loading beside it starves the event loop): wait for the answer itself.
    screen = tui.wait_for(lambda screen: "working…" not in screen and "› how many files" in screen
                          and mentions_count(left_pane(screen).split("› how many files", 1)[1]),
                          "the answer, with the count")
    assert ("files.list" in screen or "files.find" in screen) and "done" in screen, screen
    save_screen("tui.txt", screen)
    tui.press("C-q")
    assert tui.exit_status() == 0


def test_overlay_answers_its_request_inline_and_enter_closes(terminal: Callable[..., Terminal]) -> None:
    """`llmos overlay QUERY` renders inline with the request already typed, runs it on Enter, keeps the answer
    on screen until Enter, then exits 0 (the request's status)."""
    overlay = terminal("overlay", REQUEST)
    overlay.wait_for(lambda screen: REQUEST in screen and "Enter sends" in screen, "the typed request")
    overlay.press("Enter")
    screen = overlay.wait_for(lambda screen: "Enter or Esc closes" in screen, "the overlay's answer")
    assert "files.list" in screen or "files.find" in screen, screen
    assert mentions_count(screen.split(f"{SMALL_MODEL} (in-process)", 1)[1]), screen
    save_screen("overlay.txt", screen)
    overlay.press("Enter")
    assert overlay.exit_status() == 0
