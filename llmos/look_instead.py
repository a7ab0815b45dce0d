"""Calls that are not run because a look of another kind is what they meant; the model plans again with a look.

A search inside files looks for text the person gave, or that a result showed; not for a query of its own.
`files.search` finds lines containing some text. Asked "find files bigger than 10MB in my home and move them",
the 1.5B model searched file contents for the text "size>10MB", found none, and moved `~/*`; asked "which file in
Documents did I change most recently?", it searched for "recently changed" and answered that nothing had changed.
Neither text is anything the person wrote: the model put a question about files' sizes or dates into a search of
their words. In the suite, every search that passed looked for words of the request (or of what an earlier step
returned: a name read in a file). The words are compared loosely, so "failed" may be searched for a request about
"failures" and "error" for "errors", but in their order: "recently changed" is not "change most recently".

A kind of file is found by its name, not searched for as words. Asked "which .tmp file in Downloads is the
biggest? delete that one", the model searched the files' text for "tmp", and deleted the first file it hit.

A file's date or size is not written inside it: asked "which file in Documents did I change most recently?", the
model searched the files for the word "changed" (a word of the request) and answered that none had changed.

A path names files; it holds no filter. Asked to "remove anything in Downloads that's older than a year", the
model deleted the path "~/Downloads/*.* older_than=1 year", which matched nothing: the filter is `files.find`'s.

A change of a glob's files takes them all: asked to "remove anything in Downloads that's older than a year", the
model (with other prompt examples) deleted "~/Downloads/*", nine files, and said they were older than a year.
When the request limits the files by age or size, a change names the files a find found, not a glob.

A write of what was found holds what a look returned: asked to "find the TODOs in my webapp project and write
them to ~/Documents/todos.txt", the model found no file named TODO* and wrote "TODO: Review the app.py file.",
a line of its own.

Such a call is not run: the model reads why and which tool finds files by name, size or age, and its next turn
(once per request) may only look, with the other looks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from llmos.tools.registry import ToolError

SEARCH_TOOL = "files.search"
FIND_TOOL = "files.find"
NOT_RUN = "not run"
"""How the error of a call refused here begins."""
LOOKS = frozenset({"files.find", "files.list"})
"""The looks that find files by name, size or age: what a refused call is replanned as."""
_EXTENSION = re.compile(r"(?<![\w/~-])\*?\.([A-Za-z][A-Za-z0-9]{0,4})\b")
"""An extension standing alone in the request: "which .tmp file", "the *.log files" (not "app.log")."""
_METADATA_WORD = re.compile(
    r"chang(?:e|ed|es|ing)?|modif(?:y|ied|ies)|edit(?:ed|s)?|updat(?:e|ed|es)|creat(?:e|ed)|recent(?:ly)?|"
    r"new(?:er|est)?|old(?:er|est)?|lat(?:e|er|est)|last|earl(?:y|ier|iest)|big(?:ger|gest)?|larg(?:e|er|est)|"
    r"small(?:er|est)?|heav(?:y|ier|iest)|sizes?|sized|dates?|dated|most|least|"
    r"\d+(?:\.\d+)?|\d*(?:k|m|g)i?b|bytes?")
"""Words of a question about files themselves: their dates and sizes ("recently changed", "biggest")."""
_QUOTED = re.compile(r"[\"'‘“]([^\"'’”]+)[\"'’”]")
WRITE_TOOLS = frozenset({"files.write", "files.append"})
_WRITES_WHAT_WAS_FOUND = re.compile(
    r"\b(?:write|save|put|copy|store|dump|export|paste)\s+(?:them|those|these|all of them|"
    r"the (?:lines|results|matches))\b", re.IGNORECASE)
"""A request to write what it finds: "find the TODOs ... and write them to todos.txt". Not "save it": "write a
poem and save it", "summarise X and save it" write what the model made, as asked."""
_LINE_PREFIX = re.compile(r"^(?:[-*\u2022]\s+)?(?:line\s+\d+\s*[:.-]\s*|[\w./~-]+:\d+:\s*)?", re.IGNORECASE)
TARGET_ARGUMENTS = ("path", "source")
"""The arguments naming what a change changes (not where it puts it)."""
_GLOB = re.compile(r"[*?\[]")
_SIZE_OR_AGE_LIMIT = re.compile(
    r"\b(?:older|newer|bigger|larger|smaller)\s+than\b|\b(?:over|under|above|below)\s+\d", re.IGNORECASE)
PATH_ARGUMENTS = ("path", "source", "destination", "archive")
_FILTER_IN_PATH = re.compile(
    r"\s(?:(?:name|type|min_size|max_size|newer_than|older_than|sort|limit)\s*[=:]|"
    r"(?:older|newer|bigger|larger|smaller)\s+than\b)", re.IGNORECASE)
"""A find's filter written into a path: " older_than=1 year", " bigger than 10MB"."""
TEXT_ARGUMENT = "text"
_WORD = re.compile(r"\w+")
_MIN_STEM = 3
"""Two words are the same word when they agree on the first letters (at least this many) of the shorter one,
less an ending of up to two letters ("fail" for failed/failures, "error" for errors)."""


def look_instead(tool: str, args: dict[str, Any], request: str, known_texts: Iterable[str], *,
                 changes: bool = False) -> ToolError | None:
    """The failure for a call that is not to run because a look is what it meant (`unfounded_search`,
    `filter_in_path`, and for a call that `changes` things, `glob_past_a_filter`), or None."""
    known = list(known_texts)
    return (unfounded_search(tool, args, request, known) or filter_in_path(tool, args)
            or (glob_past_a_filter(tool, args, request) if changes else None)
            or unfounded_write(tool, args, request, known))


def unfounded_write(tool: str, args: dict[str, Any], request: str, known_texts: Iterable[str]) -> ToolError | None:
    """The failure for a write of what the request found ("write them to todos.txt") whose lines no look
    returned: the model wrote "TODO: Review the app.py file." after a find that found nothing."""
    content = args.get("content", args.get("text"))
    if tool not in WRITE_TOOLS or not isinstance(content, str) or not _WRITES_WHAT_WAS_FOUND.search(request):
        return None
    known = [text.casefold() for text in _strings(known_texts)]
    made_up = [line for line in content.splitlines()
               if (core := _line_core(line)) and not any(core in text for text in known)]
    if not made_up:
        return None
    return ToolError(f"{NOT_RUN}: {made_up[0].strip()!r} is in no result: the request asks to write what was found",
                     hint="find it first (files.search for lines, files.find for files), then write the lines "
                          "the results hold")


def _line_core(line: str) -> str:
    """A content line as a result would hold it: no bullet, no "line 5:" or "app.py:5:" before it."""
    return " ".join(_LINE_PREFIX.sub("", line.strip()).split()).casefold()


def _strings(texts: Iterable[str]) -> list[str]:
    """Each text, and every string inside it when it is JSON (a result's lines are JSON strings there)."""
    found: list[str] = []
    for text in texts:
        found.append(text)
        try:
            _collect_strings(json.loads(text), found)
        except (json.JSONDecodeError, RecursionError):
            continue
    return found


def _collect_strings(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, dict):
        for inner in value.values():
            _collect_strings(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _collect_strings(inner, found)


def glob_past_a_filter(tool: str, args: dict[str, Any], request: str) -> ToolError | None:
    """The failure for a change of a glob's files when the request wants only the files older, newer, bigger or
    smaller than something: the glob takes them all."""
    limit = _SIZE_OR_AGE_LIMIT.search(request)
    if limit is None:
        return None
    for name in TARGET_ARGUMENTS:
        value = args.get(name)
        if isinstance(value, str) and _GLOB.search(value):
            return ToolError(f"{NOT_RUN}: the request wants only the files {limit.group(0)} ...; {name} "
                             f"{value!r} would take every file it matches",
                             hint="find those files first with files.find (older_than, newer_than, min_size, "
                                  f"max_size), then give {tool} each file it finds")
    return None


def filter_in_path(tool: str, args: dict[str, Any]) -> ToolError | None:
    """The failure for a call with a find's filter written into a path argument, or None."""
    for name in PATH_ARGUMENTS:
        value = args.get(name)
        if isinstance(value, str) and (match := _FILTER_IN_PATH.search(value)):
            return ToolError(f"{NOT_RUN}: {name} {value!r} holds a filter ({value[match.start():].strip()!r}), "
                             "not a path",
                             hint="find the files first with files.find (name, min_size, max_size, newer_than, "
                                  f"older_than), then give {tool} the paths it finds")
    return None


def unfounded_search(tool: str, args: dict[str, Any], request: str,
                     known_texts: Iterable[str]) -> ToolError | None:
    """The failure for a `files.search` whose text is not the request's (nor in `known_texts`: piped data, earlier
    results), or None for any other call."""
    if tool != SEARCH_TOOL:
        return None
    text = args.get(TEXT_ARGUMENT)
    if not isinstance(text, str) or not text.strip():
        return None
    if text.strip().lstrip("*.").lower() in request_extensions(request):
        return ToolError(f"{NOT_RUN}: {text.strip()!r} is a kind of file the request names, not words inside files",
                         hint=f"find files of a kind with files.find (name like '*.{text.strip().lstrip('*.')}')")
    if about_files_not_in_them(text, request):
        return ToolError(f"{NOT_RUN}: {text.strip()!r} asks about files (their dates or sizes), not words inside "
                         "them",
                         hint="files.find finds and sorts files by date or size (newer_than, older_than, min_size, "
                              "sort='newest', 'oldest' or 'size')")
    if said_in(text, request) or any(text.strip().lower() in known.lower() for known in known_texts):
        return None
    return ToolError(f"{NOT_RUN}: {text.strip()!r} is not in the request",
                     hint="files.search looks for words written inside files; to find files by name, size or "
                          "age, use files.find")


def about_files_not_in_them(text: str, request: str) -> bool:
    """Whether a search's text is only words about files themselves (when they changed, how big they are) that
    the request does not quote as words to find."""
    words = _WORD.findall(text.lower())
    if not words or not all(_METADATA_WORD.fullmatch(word) for word in words) or all(
            word.replace(".", "").isdigit() for word in words):
        return False  # a number alone ("2024") may well be written in a file
    return not any(text.strip().lower() == quoted.strip().lower() for quoted in _QUOTED.findall(request))


def request_extensions(request: str) -> set[str]:
    """The kinds of file the request names by extension, on their own (".tmp", "*.log"), not in a file's name."""
    return {match.group(1).lower() for match in _EXTENSION.finditer(request)}


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
    """Whether a call refused here (`failed_tool`, its result `failed_result`) was made good by a later step
    (`later`: each later step's tool and status): a refused look by a look that succeeded, a refused change by a
    change of the same tool that succeeded (the look between them alone did not make the change). Then nothing
    failed: the plan was corrected."""
    try:
        payload = json.loads(failed_result or "")
    except json.JSONDecodeError:
        return False
    if not isinstance(payload, dict) or not str(payload.get("error", "")).startswith(f"{NOT_RUN}:"):
        return False
    if failed_tool == SEARCH_TOOL or failed_tool in LOOKS:
        return any(tool in LOOKS and status == "ok" for tool, status in later)
    return any(tool == failed_tool and status == "ok" for tool, status in later)
