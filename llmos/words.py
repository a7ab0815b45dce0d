"""Words compared loosely: a plural and its singular are the same word ("pdfs" and "PDF", "reports" and
q2-report.txt). One rule for every module that matches the person's words against names, lines or plans; and
one rule for where a clause ends."""

from __future__ import annotations

import re

MIN_PLURAL_LENGTH = 4
"""Shorter words keep their s: "bus", "gas", "its" are no plurals of "bu", "ga", "it"."""


def singular(word: str, *, min_length: int = MIN_PLURAL_LENGTH) -> str:
    """`word` with a plural's s dropped, unless it ends in "ss" ("address", "class") or is shorter than
    `min_length`."""
    if len(word) >= min_length and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def clause_break(marks: str) -> str:
    """A pattern for punctuation among `marks` that ends a clause: followed by a space or the end of the text.
    A mark inside a name is no break: counted as one, "zip up my reports folder into ~/Documents/reports.zip"
    held a second clause, "zip", and the request's answer was withheld for a change it never asked for."""
    return "[" + re.escape(marks) + r"](?=\s|$)"
