"""The conversation: each request, its answer streaming in as it is generated, and notices (errors, command
output). Shared by the TUI (many exchanges) and the overlay (one).

The answer is Markdown fed through `Markdown.get_stream()`, which folds tokens that arrive faster than the
screen redraws into one update, so a fast model never backs up the UI.
"""

from __future__ import annotations

from typing import Literal

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from llmos.display import escape_for_display, escape_for_terminal

NoticeKind = Literal["info", "error", "output"]


class Transcript(VerticalScroll):
    """Scrolls with new content (anchored to the bottom) until the person scrolls up to read."""

    def __init__(self, *, id: str | None = None, classes: str | None = None, welcome: str | None = None) -> None:
        # "empty" until something is shown, so a compact layout can hide the pane (the overlay does).
        super().__init__(id=id, classes=f"empty {classes or ''}".strip())
        self.welcome = welcome
        self._answer: Markdown | None = None
        self._stream: MarkdownStream | None = None
        self._streamed_text = ""

    def on_mount(self) -> None:
        if self.welcome:
            self.add_notice(self.welcome, "info")
        self.anchor()

    def add_request(self, request: str) -> None:
        self._show(Static(f"› {escape_for_display(request)}", classes="request", markup=False))

    def add_notice(self, text: str, kind: NoticeKind = "info", title: str | None = None) -> None:
        """A block of plain text: an error with what to do, or a command's output (kept verbatim)."""
        shown = "\n".join(escape_for_display(line) for line in text.split("\n"))
        self._show(Static(f"{title}\n{shown}" if title else shown, classes=f"notice {kind}", markup=False))

    def _show(self, block: Static) -> None:
        self.remove_class("empty")
        self.mount(block)
        self.anchor()

    async def append_answer(self, text: str) -> None:
        """Add generated answer text; the first piece creates the answer block."""
        if self._stream is None:
            self._answer = Markdown(classes="answer")
            self.remove_class("empty")
            await self.mount(self._answer)
            self._stream = Markdown.get_stream(self._answer)
            self._streamed_text = ""
        # The model may repeat what it read (a file name with an escape sequence): shown as text, never sent to
        # the terminal. Escaping each piece is the same as escaping the whole (it works per character).
        text = escape_for_terminal(text)
        self._streamed_text += text
        await self._stream.write(text)
        self.anchor()

    async def end_answer(self, final_text: str | None) -> None:
        """The request ended: settle the answer block on the final text (the session's, which is what was
        streamed, trimmed); when nothing streamed but there is an answer, show it whole."""
        if self._stream is not None:
            await self._stream.stop()
        if final_text and self._answer is None:
            self._answer = Markdown(classes="answer")
            self.remove_class("empty")
            await self.mount(self._answer)
        if self._answer is not None:
            # Stopping Textual's MarkdownStream cancels its writer mid-append: the shielded append still running
            # races the flush of the rest, and the pane could keep only the first words ("There"). Wait for
            # every append (they hold the widget's lock), then render the whole text once.
            async with self._answer.lock:
                pass
            shown = escape_for_terminal(final_text) if final_text is not None else self._streamed_text
            await self._answer.update(shown)
        self._answer = None
        self._stream = None
        self._streamed_text = ""
        self.anchor()

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    async def clear_transcript(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
        self._answer = None
        self._stream = None
        self._streamed_text = ""
        await self.remove_children()
        self.add_class("empty")
