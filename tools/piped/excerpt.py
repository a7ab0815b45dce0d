"""The prompt's view of piped data: the whole of it when it fits its token budget, else an excerpt (the first
lines, the lines that match the request's own words, the last lines) and a note that says what was left out and
that the stdin tools read all of it. Measured in the model's tokens: digit-heavy log lines take far more tokens
than their characters suggest, so no character count is trusted to fit."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from llmos.tools._format import human_size
from llmos.tools.piped.page import is_web_page, visible_text
from llmos.tools.piped.search import SearchOutcome, search_lines
from llmos.tools.piped.view import DocumentView, Line, clip_line

from llmos.words import singular

SAMPLE_LINES = 200
"""Most lines kept for each part of an excerpt (the budget usually takes far fewer)."""
SECTION_TITLE_CHARS = 40
"""Room kept for each part's title ("[lines 12,345,659-12,345,678]"; a match title adds its pattern)."""
MIN_EXCERPT_CHARS = 80
MIN_SHOWN_LINE_CHARS = 40
"""A line is not shown in less room than this (its clipped start and end would say nothing)."""
"""Below this, the excerpt is the note alone."""
_FITTING_TRIES = 6
_REQUEST_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,}")
_COMMON_WORDS = frozenset("""
    about above after all and any are ask been before but can count did does each every file find for from get give
    has have how input into its last lines line list log logs many more most much not output piped please said say
    see shown show some stdin tell than that the their them then there these they this those was were what when
    where which who why will with would you your data first text
""".split())


PAGE_SHOWN_AS = ("(The data above is the piped web page's visible text: llmos left out its comments, scripts and "
                 "styles.)")


@dataclass(frozen=True)
class Excerpt:
    text: str
    """What goes inside the <data> block: the document whole, or the parts shown."""
    note: str | None
    """What was left out and how to read the rest (None: the document is shown whole)."""
    shown_as: str | None = None
    """How the whole document is shown when not as piped (a web page as its visible text), said beside it."""


def request_pattern(request: str) -> str | None:
    """A regex for lines about what the request names ("any disk errors?" -> "disk|error"), or None."""
    words: list[str] = []
    for word in _REQUEST_WORD.findall(request.lower()):
        if word in _COMMON_WORDS:
            continue
        stem = singular(word, min_length=5)
        if stem not in words:
            words.append(re.escape(stem))
    return "|".join(words[:8]) or None


class _Parts:
    """The excerpt's material, read once: first and last lines, and the request's matches."""

    def __init__(self, view: DocumentView, request: str) -> None:
        self.view = view
        self.total_lines = view.document.counts.lines
        self.head = view.head(SAMPLE_LINES)
        last_head = self.head[-1].number if self.head else 0
        self.tail = [line for line in view.tail(SAMPLE_LINES) if line.number > last_head]
        self.pattern = request_pattern(request)
        # The first matches are enough to show; counting them all is the stdin tools' job (a common word in a
        # gigabyte of log would cost seconds before the model even starts).
        self.matches = (search_lines(view, self.pattern, SAMPLE_LINES, stop_after=SAMPLE_LINES) if self.pattern
                        else SearchOutcome())
        self.first_timestamp, self.last_timestamp = view.timestamps()

    def compose(self, budget_chars: int) -> Excerpt:
        # One line alone (a minified JSON, a 1 MB line) may use the whole budget; many share it.
        line_chars = budget_chars if self.total_lines <= 1 else max(60, min(400, budget_chars // 10))
        match_share = 0.35 if self.matches.first else 0.0
        head_share = 0.3 if self.tail else 1.0 - match_share
        head = _fitting(self.head, int(budget_chars * head_share) - SECTION_TITLE_CHARS, line_chars)
        shown = {line.number for line in head}
        tail_budget = budget_chars - _size(head) - int(budget_chars * match_share) - 2 * SECTION_TITLE_CHARS
        tail = _fitting(self.tail[::-1], tail_budget, line_chars)[::-1]
        shown |= {line.number for line in tail}
        match_lines = [line for line in self.matches.first if line.number not in shown]
        match_budget = budget_chars - _size(head) - _size(tail) - 3 * SECTION_TITLE_CHARS - len(self.pattern or "")
        matches = _fitting(match_lines, match_budget, line_chars)
        sections: list[str] = []
        described: list[str] = []
        if head:
            sections.append(_section(f"lines {head[0].number}-{head[-1].number}", head))
            described.append(f"lines {head[0].number}-{head[-1].number}")
        if matches:
            of_all = (f"of the {self.matches.matching_lines:,} lines" if self.matches.complete
                      else "of the many lines")
            title = f"{len(matches)} {of_all} matching /{self.pattern}/"
            sections.append(_section(title, matches))
            described.append(title)
        if tail:
            sections.append(_section(f"lines {tail[0].number:,}-{tail[-1].number:,}", tail))
            described.append(f"lines {tail[0].number:,}-{tail[-1].number:,}")
        return Excerpt("\n".join(sections), self._note(described))

    def _note(self, described: list[str]) -> str:
        counts = self.view.document.counts
        summary = f"{counts.lines:,} lines, {human_size(counts.bytes)}"
        if self.first_timestamp and self.last_timestamp:
            summary += f", timestamps {self.first_timestamp} to {self.last_timestamp}"
        if self.pattern and not self.matches.first:
            summary += f"; no line matches /{self.pattern}/"
        shown = "; shown: " + ", ".join(described) if described else "; none of it is shown"
        return (f"[Piped data: {summary}{shown}. Lines longer than shown were cut. The stdin tools count, search "
                f"and read all of it: use them for exact counts, totals and other lines.]")


def _fitting(lines: list[Line], budget_chars: int, line_chars: int) -> list[Line]:
    """The lines, as shown (numbered, each clipped to `line_chars`), that fit `budget_chars`; the last one may be
    clipped shorter to fit, so even one huge line shows its start and end."""
    taken: list[Line] = []
    used = 0
    for line in lines:
        number = f"{line.number}: "
        room = min(line_chars, budget_chars - used - len(number) - 1)
        if room < MIN_SHOWN_LINE_CHARS:
            break
        shown = Line(line.number, clip_line(line.text, room))
        taken.append(shown)
        used += len(number) + len(shown.text) + 1
    return taken


def _shown(line: Line) -> str:
    return f"{line.number}: {line.text}"


def _size(lines: list[Line]) -> int:
    return sum(len(_shown(line)) + 1 for line in lines)


def _section(title: str, lines: list[Line]) -> str:
    return "\n".join([f"[{title}]", *(_shown(line) for line in lines)])


def stdin_excerpt(view: DocumentView, request: str, *, budget_tokens: int, budget_chars: int,
                  count_tokens: Callable[[str], int]) -> Excerpt:
    """The document whole when it fits both budgets, else an excerpt whose text and note together fit them."""
    if view.document.size_bytes <= 4 * budget_chars:
        whole = view.text()
        if is_web_page(whole):
            shown = visible_text(whole)
            if len(shown) <= budget_chars and count_tokens(shown) <= budget_tokens:
                return Excerpt(shown, None, PAGE_SHOWN_AS)
        if len(whole) <= budget_chars and count_tokens(whole) <= budget_tokens:
            return Excerpt(whole, None)
    parts = _Parts(view, request)
    allowance = min(budget_chars, 4 * budget_tokens)
    for _ in range(_FITTING_TRIES):
        if allowance < MIN_EXCERPT_CHARS:
            break
        excerpt = parts.compose(allowance)
        used = count_tokens(excerpt.text + "\n" + (excerpt.note or ""))
        if used <= budget_tokens and len(excerpt.text) <= budget_chars:
            return excerpt
        allowance = int(allowance * min(budget_tokens / max(used, 1), 0.9) * 0.9)
    return parts.compose(0)
