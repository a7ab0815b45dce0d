"""The plan: one card per step the model proposed, with policy's decision, the rule and reason, the impact
preview, what became of it, and approve / deny / approve-all buttons while it waits. Shared by the TUI and the
overlay.

Everything shown here came from the model or from the files it named, so it is rendered as plain text (never
markup) with control characters made visible.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from llmos.shell.tui.approval import Reply
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from llmos.display import escape_for_display
from llmos.events import Step

MAX_PREVIEW_LINES = 8
MAX_RESULT_CHARS = 160
EMPTY_PLAN_TEXT = "Steps the model plans appear here, each with policy's decision."

STATUS_LABELS = {
    "ok": "done",
    "error": "failed",
    "denied": "denied",
    "skipped": "skipped",
}
REPLY_LABELS: dict[Reply, str] = {"yes": "approved", "no": "denied by you", "all": "approved (all)"}


def plain(text: str) -> Static:
    """A Static that shows `text` literally: file names like `[red]x` must not become styling."""
    return Static(escape_for_display(text), markup=False)


def describe_args(args: dict[str, Any]) -> str:
    """`source=~/a.pdf destination=~/Docs`: one line a person can read at a glance."""
    parts = []
    for name, value in args.items():
        if value is None:
            continue  # an optional argument left out (process.signal's pid when a name is given)
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{name}={shown}")
    return " ".join(parts)


def status_text(step: Step) -> str:
    """What the card's header says about the step now: planned, its verdict, or its outcome."""
    if step.status is not None:
        label = STATUS_LABELS.get(step.status, step.status)
        if step.status == "skipped" and step.approved is False:
            return "not approved"
        return label
    if step.decision is None:
        return "planned"
    if step.decision.verdict == "ask":
        return "needs approval"
    return step.decision.verdict


def short_result(step: Step) -> str | None:
    """A failed, denied or skipped step's reason in one line; successful results are the answer's business."""
    if step.status in (None, "ok") or not step.result:
        return None
    try:
        value = json.loads(step.result)
    except json.JSONDecodeError:
        value = step.result
    if isinstance(value, dict):
        value = value.get("error") or value.get("not_run") or value.get("note") or json.dumps(value)
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_RESULT_CHARS else text[: MAX_RESULT_CHARS - 1] + "…"


class ApprovalButton(Button, can_focus=False):
    """A button that only a click presses. It never takes focus, so Enter or space (a key pressed for something
    else, or typed ahead) can never approve a step; the keys that answer are the app's y / n / a / Esc."""


class StepCard(Vertical):
    """One step. `refresh_step` re-renders it from `step`, the latest snapshot an event brought."""

    @dataclass
    class Answered(Message):
        """The person pressed one of this card's buttons."""

        card: StepCard
        reply: Reply

    def __init__(self, step: Step) -> None:
        super().__init__(classes="step-card")
        self.step = step
        self.reply: Reply | None = None
        self.undone = False
        """An undo (Ctrl+Z, /undo) reversed what this step did."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="step-header"):
            yield Static(f"{self.step.index + 1}. ", classes="step-number", markup=False)
            yield Static(escape_for_display(self.step.tool), classes="step-tool", markup=False)
            yield Static("", classes="step-status", markup=False)
        yield Static(escape_for_display(describe_args(self.step.args)), classes="step-args", markup=False)
        yield Static("", classes="step-decision", markup=False)
        yield Static("", classes="step-preview", markup=False)
        yield Static("", classes="step-result", markup=False)
        with Horizontal(classes="approval-buttons"):
            # Short labels fit a 30-column pane; the footer shows their keys (y, n, a).
            yield ApprovalButton("Approve", id="approve", variant="success", compact=True)
            yield ApprovalButton("Deny", id="deny", variant="error", compact=True)
            yield ApprovalButton("All", id="approve-all", variant="warning", compact=True,
                                 tooltip="approve this and every later step of this request")

    def on_mount(self) -> None:
        self.refresh_step()

    def refresh_step(self) -> None:
        step = self.step
        status = status_text(step)
        if self.reply is not None and step.status is None:
            status = REPLY_LABELS[self.reply]
        if self.undone:
            status = "undone"
        status_widget = self.query_one(".step-status", Static)
        status_widget.update(status)
        # "approved (all)" -> status-approved-all: a class the stylesheet colours by.
        status_widget.set_classes(f"step-status status-{re.sub(r'[^a-z]+', '-', status).strip('-')}")
        decision_widget = self.query_one(".step-decision", Static)
        if step.decision is not None:
            verdict = step.decision.verdict
            decision_widget.update(escape_for_display(f"{verdict} · {step.decision.rule}: {step.decision.reason}"))
            decision_widget.set_classes(f"step-decision verdict-{verdict}")
        decision_widget.display = step.decision is not None
        preview_widget = self.query_one(".step-preview", Static)
        preview_lines = [escape_for_display(line) for line in step.preview[:MAX_PREVIEW_LINES]]
        if len(step.preview) > MAX_PREVIEW_LINES:
            preview_lines.append(f"… and {len(step.preview) - MAX_PREVIEW_LINES} more")
        preview_widget.update("\n".join(preview_lines))
        preview_widget.display = bool(preview_lines)
        result_widget = self.query_one(".step-result", Static)
        result = short_result(step)
        result_widget.update(escape_for_display(result or ""))
        result_widget.display = result is not None

    @property
    def asking(self) -> bool:
        return self.has_class("asking")

    def ask(self) -> None:
        """Show the approval buttons. Focus is the app's business: it must never land on a button."""
        self.reply = None
        self.add_class("asking")
        self.refresh_step()

    def settle(self, reply: Reply) -> None:
        """The question is answered (by a key, a click, or a cancel): hide the buttons and say what was chosen."""
        self.reply = reply
        self.remove_class("asking")
        self.refresh_step()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        replies: dict[str | None, Reply] = {"approve": "yes", "deny": "no", "approve-all": "all"}
        reply = replies.get(event.button.id)
        if reply is not None and self.asking:
            self.post_message(self.Answered(self, reply))


class PlanPane(VerticalScroll):
    """The current request's steps, newest last; the previous request's plan stays until the next one starts."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=f"empty {classes or ''}".strip())
        self.border_title = "Plan"
        self.cards: dict[int, StepCard] = {}

    def compose(self) -> ComposeResult:
        yield Static(EMPTY_PLAN_TEXT, classes="plan-empty", markup=False)

    def clear_plan(self, note: str = EMPTY_PLAN_TEXT) -> None:
        for card in self.cards.values():
            card.remove()
        self.cards.clear()
        self.query_one(".plan-empty", Static).update(note)
        self.add_class("empty")  # the stylesheet shows the note (the TUI) or hides the whole pane (the overlay)

    async def show_step(self, step: Step) -> StepCard:
        """Add the step's card (awaiting its mount, so an approval for it can be shown at once), or bring an
        existing one up to date."""
        card = self.cards.get(step.index)
        if card is None:
            card = StepCard(step)
            self.cards[step.index] = card
            self.remove_class("empty")
            await self.mount(card)
            self.call_after_refresh(self.reveal, card)
        else:
            card.step = step
            if card.is_mounted:
                card.refresh_step()
        return card

    def reveal(self, card: StepCard) -> None:
        """Show `card` from its header (its tool and status are what a person looks for), then, if it is waiting
        and taller than the pane, scroll just enough to bring its buttons into view."""
        if not card.is_mounted:
            return
        self.scroll_to_widget(card, top=True, animate=False, immediate=True)
        if card.asking:
            self.scroll_to_widget(card.query_one(".approval-buttons"), animate=False, immediate=True)

    def mark_undone(self, undone_ids: frozenset[str]) -> None:
        """An undo reversed the journal actions (or requests) `undone_ids` names: their steps' cards say so."""
        for card in self.cards.values():
            if card.step.undo_id is not None and card.step.undo_id in undone_ids:
                card.undone = True
                if card.is_mounted:
                    card.refresh_step()

    def asking_card(self) -> StepCard | None:
        return next((card for card in self.cards.values() if card.asking), None)

    async def finish(self, steps: list[Step], answered: bool) -> None:
        """The request ended: every card shows its final state; a plan with no steps says so."""
        for step in steps:
            await self.show_step(step)
        for card in self.cards.values():
            if card.asking:
                card.settle("no")
        if self.cards:
            self.call_after_refresh(self.reveal, list(self.cards.values())[-1])
        else:
            self.clear_plan("No steps: the model answered directly." if answered else "No steps were run.")
