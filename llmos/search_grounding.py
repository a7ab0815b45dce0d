"""A search inside files looks for text the person gave, or that a result showed; not for a query of its own.

`files.search` finds lines containing some text. Asked "find files bigger than 10MB in my home and move them",
the 1.5B model searched file contents for the text "size>10MB", found none, and moved `~/*`; asked "which file in
Documents did I change most recently?", it searched for "recently changed" and answered that nothing had changed.
Neither text is anything the person wrote: the model put a question about files' sizes or dates into a search of
their words. In the suite, every search that passed looked for words of the request (or of what an earlier step
returned: a name read in a file). So such a call is not run: the model gets a readable error that says what the
tool does and which tool finds files by name, size or age, and plans again.

The words are compared loosely, so "failed" may be searched for a request about "failures" and "error" for
"errors", but in their order: "recently changed" is not "change most recently".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from llmos.tools.registry import ToolError

SEARCH_TOOL = "files.search"
NOT_SEARCHED = "nothing was searched"
"""How the error of a search refused for its words begins."""
LOOKS = frozenset({"files.find", "files.list"})
"""The looks that find files by name, size or age: what a refused search is replanned as."""
TEXT_ARGUMENT = "text"
_WORD = re.compile(r"\w+")
_MIN_STEM = 3
"""Two words are the same word when they agree on the first letters (at least this many) of the shorter one,
less an ending of up to two letters ("fail" for failed/failures, "error" for errors)."""


def unfounded_search(tool: str, args: dict[str, Any], request: str,
                     known_texts: Iterable[str]) -> ToolError | None:
    """The failure for a `files.search` whose text is not the request's (nor in `known_texts`: piped data, earlier
    results), or None for any other call."""
    if tool != SEARCH_TOOL:
        return None
    text = args.get(TEXT_ARGUMENT)
    if not isinstance(text, str) or not text.strip():
        return None
    if said_in(text, request) or any(text.strip().lower() in known.lower() for known in known_texts):
        return None
    return ToolError(f"{NOT_SEARCHED}: {text.strip()!r} is not in the request",
                     hint="files.search looks for words written inside files; to find files by name, size or "
                          "age, use files.find")


def said_in(text: str, request: str) -> bool:
    """Whether `text` is the request's own words: in it as written (case aside), or its words in a row there."""
    if text.strip().lower() in request.lower():
        return True
    wanted = _WORD.findall(text.lower())
    words = _WORD.findall(request.lower())
    if not wanted:
        return False
    return any(all(_same_word(want, word) for want, word in zip(wanted, words[start:start + len(wanted)], strict=True))
               for start in range(len(words) - len(wanted) + 1))


def _same_word(first: str, second: str) -> bool:
    shorter, longer = sorted((first, second), key=len)
    stem = shorter[:max(_MIN_STEM, len(shorter) - 2)]
    return len(shorter) >= _MIN_STEM and longer.startswith(stem) or first == second


def replaced_by_a_look(failed_tool: str, failed_result: str | None, later: Iterable[tuple[str, str | None]]) -> bool:
    """Whether a search refused for its words (`failed_tool`, `failed_result`) was followed by a look that
    succeeded (`later`: each later step's tool and status): nothing failed then, the plan was corrected."""
    if failed_tool != SEARCH_TOOL:
        return False
    try:
        payload = json.loads(failed_result or "")
    except json.JSONDecodeError:
        return False
    if not isinstance(payload, dict) or not str(payload.get("error", "")).startswith(NOT_SEARCHED):
        return False
    return any(tool in LOOKS and status == "ok" for tool, status in later)
