"""The request line: Enter sends, Up/Down walk the persistent input history (shared with the REPL)."""

from __future__ import annotations

from llmos.shell.history import InputHistory
from textual.binding import Binding
from textual.widgets import Input


class RequestInput(Input):
    """An Input whose Up/Down recall earlier requests; what was being typed comes back after the newest one."""

    BINDINGS = [
        Binding("up", "history_previous", "Previous request", show=False),
        Binding("down", "history_next", "Next request", show=False),
    ]

    def __init__(
        self,
        history: InputHistory,
        *,
        placeholder: str,
        id: str | None = None,
        keys_free_when_empty: tuple[str, ...] = (),
    ) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.history = history
        self.keys_free_when_empty = keys_free_when_empty
        """Keys (the TUI's q) that an empty line leaves to the app's bindings; once something is typed they type."""
        self._position: int | None = None
        """Index into history.entries while browsing; None when editing a new line."""
        self._draft = ""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if not self.value and key in self.keys_free_when_empty:
            return False
        return super().check_consume_key(key, character)

    def remember(self, request: str) -> None:
        """Add a sent request to the history (and its file) and stop browsing."""
        self.history.append(request)
        self._position = None
        self._draft = ""

    def action_history_previous(self) -> None:
        entries = self.history.entries
        if not entries:
            return
        if self._position is None:
            self._draft = self.value
            self._position = len(entries) - 1
        elif self._position > 0:
            self._position -= 1
        self._show(entries[self._position])

    def action_history_next(self) -> None:
        if self._position is None:
            return
        if self._position < len(self.history.entries) - 1:
            self._position += 1
            self._show(self.history.entries[self._position])
        else:
            self._position = None
            self._show(self._draft)

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)
