"""A real terminal for tests: a shell running in a private tmux server, typed into with `send-keys` and read
back with `capture-pane`, as a person would see it. Used by the shell keybinding tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class TmuxTerminal:
    """One tmux session on its own socket (nothing shared with a tmux the person runs)."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is needed for the terminal tests (apt-get install tmux)")
        # A short path of its own: pytest's tmp_path can exceed the 108-byte limit of a unix socket.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="llmos-tmux-"))
        self.socket_path = self.socket_dir / "socket"
        # `env -i` so the shell sees only `env`: no rc files, no inherited prompt or key settings.
        environment = [f"{name}={value}" for name, value in env.items()]
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40", "-c", str(cwd),
                   "env", "-i", *environment, *command)

    def _tmux(self, *args: str) -> str:
        completed = subprocess.run(["tmux", "-S", str(self.socket_path), *args], capture_output=True, text=True,
                                   timeout=30, check=True)
        return completed.stdout

    def type_text(self, text: str) -> None:
        """Type `text` literally (tmux's -l: no key names, quotes and $ as they are)."""
        self._tmux("send-keys", "-l", text)

    def press(self, *keys: str) -> None:
        """Press keys by tmux name: Enter, M-m, C-u."""
        self._tmux("send-keys", *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def lines(self) -> list[str]:
        """The screen's non-empty lines, trailing spaces removed."""
        return [line.rstrip() for line in self.screen().splitlines() if line.strip()]

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float, what: str) -> list[str]:
        """Poll the screen until `condition(lines)` holds; fail with the screen after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if condition(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n" + "\n".join(lines))
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", str(self.socket_path), "kill-server"], capture_output=True, timeout=30)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
