"""Requests about the person's own things are answered from a look, never from the model's imagination.

"Which flat is my letter to the landlord about?" and "what's the combined revenue of the Q1 and Q2 reports?" got
confident answers with no tool call at all ("the heating in my flat", "$120,000"): the model made the facts up,
and with no step there was nothing to check them against. A request that names something of the person's (a
file, folder, document, log, a path, "my ..." things) may not answer on its first turn: it must look first. A
question about the world ("who wrote Don Quixote?") names nothing of the kind and is answered as before."""

from __future__ import annotations

import re
from typing import Any

from llmos.answers._result import records

_THINGS = (
    r"files?|folders?|director(?:y|ies)|documents?|docs|letters?|reports?|notes?|notebook|lists?|logs?|"
    r"photos?|pictures?|images?|screenshots?|downloads?|desktop|music|songs?|videos?|movies?|invoices?|"
    r"receipts?|statements?|scripts?|projects?|repos?|repository|code|config|configuration|settings|"
    r"dotfiles?|editor|budget|spreadsheets?|sheets?|csv|pdfs?|todos?|to-dos?|drafts?|archives?|backups?|"
    r"zips?|trip|flight|recipes?|contracts?|passwords?|keys?|home|disk|drive|processes|process|apps?|"
    r"programs?|data|records?|emails?|messages?|bookmarks?|history|calendar|schedule|diary|journal"
)
# "my letter", "our old reports", "the Q1 and Q2 reports", "the shopping list on my desktop"
_NAMED_THING = re.compile(
    rf"\b(?:my|our|mine)\s+(?:[\w'-]+\s+){{0,3}}?(?:{_THINGS})\b"
    rf"|\bthe\s+(?:[\w'-]+\s+){{0,4}}?(?:{_THINGS})\b",
    re.IGNORECASE,
)
# A path or a file name: ~/x, /etc/x, ./x, notes.txt
_PATH = re.compile(r"(?:^|\s)(?:~|\.{1,2})?/[\w.-]|\b[\w-]+\.(?:txt|md|pdf|csv|tsv|log|json|toml|ya?ml|py|sh|"
                   r"conf|cfg|ini|jpe?g|png|gif|zip|tar|gz|tgz|docx?|xlsx?|odt|ods|mp[34]|html?|xml|sql|bak)\b",
                   re.IGNORECASE)


def names_own_things(request: str) -> bool:
    """Whether the request names something of the person's that only a tool can tell about."""
    return bool(_NAMED_THING.search(request) or _PATH.search(request))


# -- a question about what a found file says -----------------------------------------------------------------

_CONTENT_QUESTION = re.compile(
    r"\bwhat(?:'s|s| is| are)? (?:on|in|inside|written)\b|\bwhat does\b.*\b(?:say|said|mean)\b|\bsays?\b|"
    r"\b(?:read|contents?|summar\w*|written|wrote|quote)\b|\bwhen(?:'s| is| was| does| do| did)?\b|"
    r"\b(?:what|which) (?:time|date|day|font|setting|value|amount|price|address|flat|room|number|total)\b|"
    r"\babout\b|\btotal\b|\bcombined\b|\bhow much did\b|\bset to\b|\btell me what\b|"
    # "what was the revenue in the Q2 report": a value the document states (not "the biggest file in ...").
    r"\bwhat(?:'s|s| is| was| are| were) (?:the|my) (?!(?:\w+ )?(?:files?|folders?|director\w*|disks?|process\w*|"
    r"oldest|newest|latest|biggest|largest|smallest|size|hostname|name|count|number|path|type)\b)\w+(?: \w+)? "
    r"(?:in|of|on|from)\b",
    re.IGNORECASE,
)
"""Words of a question a file's content answers ("what's on the shopping list", "when's my flight", "which flat
is my letter about", "the total of the invoice"), not its name, size or date."""
MAX_FOUND_CHOICES = 8
"""A finding step with more files than this leaves the model to pick its next step freely."""
_FINDING_TOOLS = frozenset({"files.find", "files.list", "files.search"})


def asks_for_content(request: str) -> bool:
    return bool(_CONTENT_QUESTION.search(request))


_LINE_COUNT_QUESTION = re.compile(
    r"\b(?:how many|count|number of)\b.*\blines?\b(?!\s+(?:contain|with|match|mention|that|which|where|have|has|"
    r"say|in which))", re.IGNORECASE)


def asks_for_line_count(request: str) -> bool:
    """"How many lines does the webapp's app.log have?": a read counts them (a search for the name as text, the
    1.5B model's plan, found none and the model said the file did not exist)."""
    return bool(_LINE_COUNT_QUESTION.search(request))


_ABOUT_THE_FILE_ITSELF = re.compile(
    r"\b(?:how (?:big|large|small|old|many|long)|sizes?|bytes|modified|changed|created|permissions?|mode|owner|"
    r"exists?|count|lines?|where|type|kind)\b", re.IGNORECASE)
"""Words of a question about a named file itself (its size, date, mode, whereabouts) or a count in it, which a
look answers without reading it whole."""


def asks_about_the_file_itself(request: str) -> bool:
    return bool(_ABOUT_THE_FILE_ITSELF.search(request))


def found_files(tool: str, args: dict[str, Any], result: dict[str, Any], *, fallbacks: bool = True) -> list[str]:
    """The files a successful finding step found (a find's matches, else files in folders named so or files whose
    text mentions the name; a listing's files; a search's files, else files named like its text, else the one
    file it searched), as paths a read accepts. Empty for other tools. Without `fallbacks`: the matches only."""
    if tool not in _FINDING_TOOLS:
        return []
    paths: list[str] = []
    if tool == "files.list":
        base = str(result.get("path") or args.get("path") or ".").rstrip("/")
        # Entries as written only: a listing of several files is a table, and "what is in my Downloads?" asks
        # for the listing, not for one of its files.
        paths = [f"{base}/{entry['name']}" for entry in result.get("entries", [])
                 if isinstance(entry, dict) and entry.get("type") == "file" and entry.get("name")]
    else:
        paths = [str(item["path"]) for item in _records(result.get("results"))
                 if item.get("path") and item.get("type", "file") == "file"]
        if not fallbacks:
            return list(dict.fromkeys(paths))
        if tool == "files.find" and not paths:
            paths = [str(path) for path in result.get("in_folders_named_so", result.get("files_mentioning_it", []))]
        if tool == "files.search" and not paths:
            paths = [str(path) for path in result.get("files_named_so", [])]
        if tool == "files.search" and not paths and result.get("files_scanned") == 1 and args.get("path"):
            paths = [str(args["path"])]  # the one file searched, whose words the search missed
    return list(dict.fromkeys(paths))


def _records(listed: Any) -> list[dict[str, Any]]:
    """A result's list of matches as records, whether listed as such or as the model's table (a search's hits in
    several files: `{"columns": [...], "rows": [...]}`, which had been read as no files at all)."""
    try:
        return [item for item in records(listed) if isinstance(item, dict)] if listed else []
    except ValueError:
        return []
