"""An answer that gives a read file's size or line count when the request asked something else of the file.

A read's result starts with facts about the file (`"size": "113 B", "lines": 5`) before its content, because a
result cut to fit the context keeps its head. The 1.5B model often answers with those facts instead of what was
asked: "The invoice is 113 bytes in size and contains 5 lines." for "find my invoice from march 2024 and tell me
the total", "The file ~/Documents/standup.txt has 23 lines and is 496 bytes in size." for "summarise
standup.txt". Nothing in such an answer is false, so no check of facts catches it; it answers a question nobody
asked. The session asks the model once more, saying so (`OFF_QUESTION_NOTE`).
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

_UNIT = r"(?:bytes?|B|KB|KiB|MB|MiB|GB|GiB)\b"
"""A size's unit as an answer writes it ("113 bytes", "113 B", "1.2 KB")."""


def states_the_file_not_the_answer(answer: str, request: str, steps: Sequence[Step]) -> bool:
    """Whether `answer` states a read file's line count or a size though the request asks nothing about the file
    itself (its size, lines, dates, whereabouts), after a read that returned the file's text."""
    if asks_about_the_file_itself(request):
        return False
    for step in steps:
        if step.tool != READ_TOOL or step.status != "ok":
            continue
        result = parsed_result(step.result)
        if result is None or not isinstance(result.get("content"), str):
            continue
        lines = result.get("lines")
        if isinstance(lines, int) and re.search(rf"\b{lines}\s+lines?\b", answer, re.IGNORECASE):
            return True
        if (size := _size_number(result.get("size"))) and re.search(
                rf"(?<![\d.]){re.escape(size)}\s*{_UNIT}", answer, re.IGNORECASE):
            return True
    return False


def _size_number(size: object) -> str | None:
    """The number of a result's size: `113` of "113 B" (as the model reads it), or of 113 (bytes, unrendered)."""
    if isinstance(size, int) and not isinstance(size, bool):
        return str(size)
    if isinstance(size, str) and (match := re.match(r"\d[\d.]*", size)):
        return match.group()
    return None
