"""Words compared loosely: a plural and its singular are the same word ("pdfs" and "PDF", "reports" and
q2-report.txt). One rule for every module that matches the person's words against names, lines or plans."""

from __future__ import annotations

MIN_PLURAL_LENGTH = 4
"""Shorter words keep their s: "bus", "gas", "its" are no plurals of "bu", "ga", "it"."""


def singular(word: str, *, min_length: int = MIN_PLURAL_LENGTH) -> str:
    """`word` with a plural's s dropped, unless it ends in "ss" ("address", "class") or is shorter than
    `min_length`."""
    if len(word) >= min_length and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
