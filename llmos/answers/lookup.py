"""When one look answers the request by itself: the first read step's result, worded by llmos, ends the request
without a second model turn.

The answer turn re-reads the result (150-250 tokens) and writes 30-45 more, several seconds on two cores, and is
where a small model miscounts. For a plain lookup ("how many PDFs are in Downloads?", "list my Documents",
"how many lines are in expenses.csv?", "what is the hostname?") the tool's result already holds the answer, so
llmos words it. Only when the tool and the question agree: a listing answers "how many" and "which", never
"why" or "summarise"; a read file answers how many lines it has, never what it says.
"""

from __future__ import annotations

import re

from llmos.answers._result import UNREADABLE, parsed_result, records, size_text
from llmos.answers.render import render_step
from llmos.answers.system_answers import SECTION_WORDS
from llmos.events import Step
from llmos.look_first import asks_for_line_count

_NEEDS_THE_MODEL = re.compile(
    r"\b(?:why|how (?:do|can|should|to)|explain|summar\w*|describe|tell me about|what does|what do|mean\w*|"
    r"compare|difference|should i|recommend|suggest|any (?:errors?|problems?|issues?)|wrong|safe|"
    r"biggest|largest|smallest|oldest|newest|latest|most recent\w*|least|first|last|top|"
    r"and|then|also|but|or)\b",
    re.IGNORECASE,
)
"""A request that asks for judgement, an explanation, a pick among results or more than one thing."""

_ANY_TROUBLE = re.compile(r"\b(?:any|what|which) (?:errors?|problems?|issues?|warnings?)\b", re.IGNORECASE)
SEARCH_TOOL = "files.search"
"""Asked "any errors in app.log?", the lines a search for them found are the answer (shown with their text)."""

_COUNT_OR_LIST = (r"\b(?:how many|count|number of|what(?:'s| is| are)? in|which|find|where|are there|any)\b"
                  r"|(?:^|\b(?:please|can you|could you|would you)\s+)(?:list|show)\b")
"""Questions a listing answers. "list" and "show" only as the request's verb: "whats on the shopping list" asks
for a file's content, not a listing."""
_TOOL_QUESTIONS: dict[str, re.Pattern[str]] = {
    "files.list": re.compile(_COUNT_OR_LIST + r"|^ls\b", re.IGNORECASE),
    "files.find": re.compile(_COUNT_OR_LIST, re.IGNORECASE),
    "files.search": re.compile(_COUNT_OR_LIST + r"|\b(?:contain|mention)|^(?:search|grep|look for)\b|"
                               + _ANY_TROUBLE.pattern, re.IGNORECASE),
    "files.read": re.compile(r"\b(?:how many|count|number of) (?:the )?lines?\b|\blines? (?:are )?in\b", re.IGNORECASE),
    "files.stat": re.compile(r"\b(?:how big|size|when|modified|permissions?|owner|exists?)\b", re.IGNORECASE),
    "files.disk_usage": re.compile(r"\b(?:how big|how much space|size|disk usage|taking up|takes up)\b",
                                   re.IGNORECASE),
    "files.hash": re.compile(r"\b(?:hash|checksum|sha-?\d*|md5)\b", re.IGNORECASE),
    "system.info": re.compile(
        r"\b(?:memory|ram|swap|disk|space|cpu|cores?|uptime|up for|boot|hostname|host name|machine name|"
        r"os|operating system|kernel|version|distro)\b", re.IGNORECASE),
}
"""For each tool whose result can answer a question by itself, the words of the questions it answers."""


_LINES = re.compile(r"\blines?\b", re.IGNORECASE)
"""A question about a file's lines: only the read file's own line count answers it (a search for the file's
name, which the model tried for "count the lines in expenses.csv", does not)."""


def lookup_answer(step: Step, request: str) -> str | None:
    """llmos's answer when `step` (the request's first, a successful read) answers the request by itself: the
    request asks what the tool's result says and nothing more. None: the model goes on (another call, or an
    answer in its own words, checked)."""
    if (picked := pick_answer(step, request)) is not None:
        return picked
    question = _TOOL_QUESTIONS.get(step.tool)
    if step.status != "ok" or question is None or not question.search(request):
        return None
    needs = _NEEDS_THE_MODEL.search(_ANY_TROUBLE.sub(" ", request) if step.tool == SEARCH_TOOL else request)
    if needs:
        return None
    if _LINES.search(request) and step.tool != "files.read" and (
            step.tool != SEARCH_TOOL or asks_for_line_count(request)):
        # A search's lines answer "search my project for TODO lines", not how many lines a file has.
        return None
    if step.tool == "system.info" and not _holds_what_is_asked(step, request):
        return None
    return render_step(step, request)


def _holds_what_is_asked(step: Step, request: str) -> bool:
    """Whether a system.info result holds a section the request names: asked for the hostname, the model read
    the network part, whose result has none."""
    asked = [section for section, words in SECTION_WORDS.items() if re.search(words, request, re.IGNORECASE)]
    result = parsed_result(step.result)
    return not asked or (result is not None and any(section in result for section in asked))


_EXPLAIN = re.compile(r"\b(?:why|explain|summar\w*|describe|what does|mean\w*|should i|recommend|suggest)\b",
                      re.IGNORECASE)
QUERY_TOOL = "stdin.sql"


def query_answer(step: Step, request: str) -> str | None:
    """llmos's answer when a piped table's query (the request's first step) returned one row of several values:
    the row is the answer, computed by SQLite, and a second model turn could only restate it, or misread which
    value is which (the 1.5B model called the fullest disk the one with "the most disk space"). One value,
    several rows, no row and requests for an explanation go to the model."""
    if step.tool != QUERY_TOOL or step.status != "ok" or _EXPLAIN.search(request):
        return None
    result = parsed_result(step.result)
    if result is None or result.get("row_count") != 1:
        return None
    rows = result.get("rows")
    row = rows[0] if isinstance(rows, list) and rows else None
    if not isinstance(row, dict) or len(row) < MIN_RENDERED_COLUMNS:
        return None  # one value: the model words it ("65 commits since March"), its numbers checked
    return render_step(step, request)


MIN_RENDERED_COLUMNS = 2
"""A one-row result is rendered when it has this many values; a bare "65." or "east." answers too tersely."""


_PICKS = (
    ("largest_file", re.compile(r"\b(?:biggest|largest)\b", re.IGNORECASE), "biggest"),
    ("oldest_file", re.compile(r"\boldest\b", re.IGNORECASE), "oldest"),
    ("newest_file", re.compile(r"\b(?:newest|latest|most recent\w*|most recently)\b", re.IGNORECASE), "newest"),
)
_NOT_ONE_FILE = re.compile(r"\b(?:files|top|\d+|why|explain|and|then|also|but|or)\b|\b(?:biggest|largest|oldest|"
                           r"newest|latest)\s+(?:sub)?(?:folders?|director\w*)\b", re.IGNORECASE)
"""A request for several files, a folder, or more than the pick."""
_PICK_TOOLS = frozenset({"files.find", "files.disk_usage"})


def pick_answer(step: Step, request: str) -> str | None:
    """llmos's answer to "the biggest / oldest / newest file in X" from a find's or a disk usage's own facts
    (`largest_file`, `oldest_file`, `newest_file`, `largest_files`), whatever the call sorted by: the 1.5B model
    named the biggest item (a folder) as the biggest file, and the first name as the oldest download."""
    if step.tool not in _PICK_TOOLS or step.status != "ok" or _NOT_ONE_FILE.search(request):
        return None
    wanted = [(key, word) for key, pattern, word in _PICKS if pattern.search(request)]
    result = parsed_result(step.result)
    if len(wanted) != 1 or result is None:
        return None
    key, word = wanted[0]
    try:
        if step.tool == "files.disk_usage":
            largest = records(result.get("largest_files") or [])
            pick = largest[0] if key == "largest_file" and largest else None
        else:
            only = records(result["results"]) if result.get("matches") == 1 and result.get("results") else []
            pick = result.get(key) or (only[0] if only and only[0].get("type") != "folder" else None)
        if not isinstance(pick, dict) or not pick.get("path"):
            return None
        detail = size_text(pick["size"]) if key == "largest_file" else f"changed {pick['modified']}"
    except UNREADABLE:
        return None
    return f"The {word} file is {pick['path']} ({detail})."
