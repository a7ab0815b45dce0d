"""Whole-document scans: the lines matching a pattern (exact count, first few, most repeated) and the most repeated
lines overall. Matching runs over whole blocks of lines at C speed; Python touches only the lines that match."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmos.tools.piped.view import DocumentView, Line, RepeatCounter, clip_line
from llmos.tools.registry import ToolError

SHOWN_LINE_CHARS = 300
"""A matching or repeated line is shown at most this long (start and end, with the cut said)."""
_REGEX_SYNTAX = re.compile(r"[\\|()\[\]*+?^${}]")
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]|\\\d")
"""A repeated group that itself repeats (`(a+)+`, `(\\w*x)*`) or a backreference: patterns whose matching can take
exponential time on a crafted line. The pattern is the model's, and the model has read the piped data."""


@dataclass
class SearchOutcome:
    matching_lines: int = 0
    first: list[Line] = field(default_factory=list)
    repeats: RepeatCounter = field(default_factory=RepeatCounter)
    complete: bool = True
    """False when the scan stopped early (`stop_after`): `matching_lines` is then a lower bound."""


class _Finder:
    """Tells whether a line matches: a literal phrase (any case: `in` on the lowered line) or, when the pattern
    uses regex syntax, compiles and cannot backtrack exponentially, a case-insensitive regex."""

    def __init__(self, pattern: str) -> None:
        if not pattern.strip():
            raise ToolError("the pattern is empty; give words or a regex to look for")
        self.literal = pattern.lower()
        self.regex: re.Pattern[str] | None = None
        if _REGEX_SYNTAX.search(pattern) and not _NESTED_REPEAT.search(pattern):
            try:
                self.regex = re.compile(pattern, re.IGNORECASE)
            except re.error:
                pass  # not a regex after all ("50% (approx"): look for the text as written

    def matching(self, lines: list[str]) -> list[int]:
        """The indexes of the lines that match (a comprehension: Python does little per line)."""
        if self.regex is not None:
            search = self.regex.search
            return [index for index, text in enumerate(lines) if search(text)]
        literal = self.literal
        lowered = "\n".join(lines).lower().split("\n")
        return [index for index, text in enumerate(lowered) if literal in text]


def search_lines(view: DocumentView, pattern: str, limit: int, stop_after: int | None = None) -> SearchOutcome:
    """Every line matching `pattern`, counted; the first `limit` kept with their numbers; all grouped (masked).
    With `stop_after`, the scan ends once that many lines matched (`complete` then says False)."""
    finder = _Finder(pattern)
    outcome = SearchOutcome()
    for first_number, block in view.blocks():
        lines = block.split("\n")
        matched = finder.matching(lines)
        if not matched:
            continue
        if stop_after is not None and outcome.matching_lines + len(matched) >= stop_after:
            matched = matched[: stop_after - outcome.matching_lines]
            outcome.complete = False
        outcome.matching_lines += len(matched)
        for index in matched[: max(0, limit - len(outcome.first))]:
            outcome.first.append(Line(first_number + index, clip_line(lines[index], SHOWN_LINE_CHARS)))
        outcome.repeats.add_lines([lines[index] for index in matched])
        if not outcome.complete:
            break
    return outcome


def most_repeated(view: DocumentView) -> RepeatCounter:
    """Every line counted, masked (numbers, hex and ids as `#`)."""
    repeats = RepeatCounter()
    for _number, block in view.blocks():
        repeats.add_lines(block.split("\n"))
    return repeats
