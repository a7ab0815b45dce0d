"""An answer that gives a read file's size or line count when the request asked something else of the file.

A read's result starts with facts about the file (`"size": "113 B", "lines": 5`) before its content, because a
result cut to fit the context keeps its head. The 1.5B model often answers with those facts instead of what was
asked: "The invoice is 113 bytes in size and contains 5 lines." for "find my invoice from march 2024 and tell me
the total", "The file ~/Documents/standup.txt has 23 lines and is 496 bytes in size." for "summarise
standup.txt", "There are 24 user accounts on this machine" for "which user accounts exist? they're listed in
/etc/passwd" (its 24 lines counted as accounts). Nothing in such an answer is false, so no check of facts catches
it; it answers a question nobody asked. The session asks the model once more, saying so (`off_question_note`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from llmos.answers._result import parsed_result
from llmos.events import Step
from llmos.look_first import asks_about_the_file_itself
from llmos.repair import READ_TOOL

OFF_QUESTION_NOTE = (
    "Not the file's size or line count: I asked about what it says. Answer from its content."
)
"""What the model reads, as a turn of the user's, before it answers again."""

NAME_THEM_NOTE = "Not how many: I asked which ones. Name them, from what the file says."
"""The same, for a count of the file's lines given for a request that asks which things: told only to answer from
the content, the model described the file ("information about various system users") and named no account."""

_UNIT = r"(?:bytes?|B|KB|KiB|MB|MiB|GB|GiB)\b"
"""A size's unit as an answer writes it ("113 bytes", "113 B", "1.2 KB")."""


_ASKS_A_NUMBER = re.compile(
    r"\b(?:how (?:many|much|big|large|long)|count|number of|total|sizes?|bytes|lines?)\b", re.IGNORECASE)
"""A request that asks for a number, or about lines, which a count of a file's lines may answer ("how many
accounts are there?")."""


def off_question_note(answer: str, request: str, steps: Sequence[Step]) -> str | None:
    """What to tell the model when `answer` states a read file's line count or a size though the request asks
    nothing about the file itself (its size, lines, dates, whereabouts), or counts the file's lines as the things
    a request that asks for no number wants named ("24 user accounts" for "which accounts exist?"), after a read
    that returned the file's text; None when it does not."""
    about_the_file = asks_about_the_file_itself(request)
    asks_a_number = _ASKS_A_NUMBER.search(request) is not None
    for step in steps:
        if step.tool != READ_TOOL or step.status != "ok":
            continue
        result = parsed_result(step.result)
        if result is None or not isinstance(result.get("content"), str):
            continue
        lines = result.get("lines")
        if isinstance(lines, int) and not asks_a_number and _counts_lines_as_items(answer, lines):
            return NAME_THEM_NOTE
        if about_the_file:
            continue
        if isinstance(lines, int) and re.search(rf"\b{lines}\s+lines?\b", answer, re.IGNORECASE):
            return OFF_QUESTION_NOTE
        if (size := _size_number(result.get("size"))) and re.search(
                rf"(?<![\d.]){re.escape(size)}\s*{_UNIT}", answer, re.IGNORECASE):
            return OFF_QUESTION_NOTE
    return None


def _counts_lines_as_items(answer: str, lines: int) -> bool:
    """Whether `answer` says the file's line count as a number of things: "24 user accounts", "24 entries" (not
    "24 lines", which the size-or-lines test takes; a file of one line counts nothing)."""
    return lines > 1 and re.search(
        rf"(?<![\d.,]){lines}\s+(?:[a-z-]+\s+)?(?!(?:lines|was|has|is)\b)[a-z]{{2,}}s\b", answer, re.IGNORECASE
    ) is not None


def _size_number(size: object) -> str | None:
    """The number of a result's size: `113` of "113 B" (as the model reads it), or of 113 (bytes, unrendered)."""
    if isinstance(size, int) and not isinstance(size, bool):
        return str(size)
    if isinstance(size, str) and (match := re.match(r"\d[\d.]*", size)):
        return match.group()
    return None
