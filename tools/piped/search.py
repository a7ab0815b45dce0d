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


@dataclass
class SearchOutcome:
    matching_lines: int = 0
    first: list[Line] = field(default_factory=list)
    repeats: RepeatCounter = field(default_factory=RepeatCounter)


class _Finder:
    """Finds the pattern in a block: a literal phrase (case-insensitive; `str.find` on the lowered block where
    lowering keeps positions) or, when the pattern uses regex syntax and compiles, a case-insensitive regex."""

    def __init__(self, pattern: str) -> None:
        if not pattern.strip():
            raise ToolError("the pattern is empty; give words or a regex to look for")
        self.literal = pattern.lower()
        self.regex = re.compile(re.escape(pattern), re.IGNORECASE)
        self.is_literal = True
        if _REGEX_SYNTAX.search(pattern):
            try:
                self.regex = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
                self.is_literal = False
            except re.error:
                pass  # not a regex after all ("50% (approx"): look for the text as written

    def haystack(self, block: str) -> tuple[str, bool]:
        """The text to look in, and whether `find` may use `str.find` on it."""
        if self.is_literal:
            lowered = block.lower()
            if len(lowered) == len(block):
                return lowered, True
        return block, False

    def find(self, haystack: str, by_find: bool, position: int) -> int:
        if by_find:
            return haystack.find(self.literal, position)
        found = self.regex.search(haystack, position)
        return found.start() if found else -1


def search_lines(view: DocumentView, pattern: str, limit: int) -> SearchOutcome:
    """Every line matching `pattern`, counted; the first `limit` kept with their numbers; all grouped (masked)."""
    finder = _Finder(pattern)
    outcome = SearchOutcome()
    for first_number, block in view.blocks():
        haystack, by_find = finder.haystack(block)
        matched: list[str] = []
        position = counted_to = 0
        number = first_number
        while position <= len(block):
            start = finder.find(haystack, by_find, position)
            if start < 0:
                break
            line_start = block.rfind("\n", 0, start) + 1
            line_end = block.find("\n", start)
            if line_end == -1:
                line_end = len(block)
            number += block.count("\n", counted_to, line_start)
            counted_to = line_start
            text = block[line_start:line_end]
            outcome.matching_lines += 1
            if len(outcome.first) < limit:
                outcome.first.append(Line(number, clip_line(text, SHOWN_LINE_CHARS)))
            matched.append(text)
            position = line_end + 1
        if matched:
            outcome.repeats.add_block("\n".join(matched))
    return outcome


def most_repeated(view: DocumentView) -> RepeatCounter:
    """Every line counted, masked (numbers, hex and ids as `#`)."""
    repeats = RepeatCounter()
    for _number, block in view.blocks():
        repeats.add_block(block)
    return repeats
