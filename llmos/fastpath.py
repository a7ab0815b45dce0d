"""The deterministic fast path: the most frequent unambiguous requests ("how much memory is free?", "what is using
the most cpu?", "ls ~/Music") planned and answered without the model.

On a laptop CPU the model takes seconds per request; for these intents the call it would plan is certain, so a
small set of regexes plans it and a renderer turns the tool's result into the answer. The call still goes through
the session's policy, journal and audit path (the session runs it); this module only plans and words.

Matching is conservative on purpose: a miss costs a model call, a false positive answers the wrong question. A
request matches only when its whole text (normalised) fits one pattern, it is one clause, and it asks for nothing
to change. Piped data always goes to the model (the request is about the data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# The renderers live with every other tool result's renderer (one per result shape); the fast path names them.
from llmos.answers._result import TextRenderer as Renderer
from llmos.answers.file_answers import render_folder
from llmos.answers.system_answers import (
    render_cpu,
    render_disk,
    render_health,
    render_memory,
    render_os,
    render_processes,
    render_uptime,
)
from llmos.policies.change_words import FAST_PATH_CHANGE_WORDS, words_pattern

__all__ = [
    "FastPlan", "Renderer", "match_fast_path", "normalise", "render_cpu", "render_disk", "render_folder",
    "render_health", "render_memory", "render_os", "render_processes", "render_uptime",
]

DEFAULT_PROCESS_LIMIT = 5
MAX_PROCESS_LIMIT = 50


@dataclass(frozen=True)
class FastPlan:
    """One tool call, exactly as the model would make it, and how to word its result."""

    intent: str
    """Which fast-path intent matched (health, memory, disk, uptime, cpu, os, processes, folder): for tests and logs."""
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    render: Renderer = field(default=lambda result: None, compare=False, repr=False)


# -- normalising ----------------------------------------------------------------------------------------------

_CONTRACTIONS = (
    (re.compile(r"\bwhat'?s\b", re.IGNORECASE), "what is"),
    (re.compile(r"\bwho'?s\b", re.IGNORECASE), "who is"),
    (re.compile(r"\bhow'?s\b", re.IGNORECASE), "how is"),
    (re.compile(r"\bi'?ve\b", re.IGNORECASE), "i have"),
)
_POLITE_OPENINGS = re.compile(
    r"^(?:(?:please|hey|hi|ok|okay|so|llmos)\s+)*"
    r"(?:(?:can|could|would|will) you (?:please )?)?"
    r"(?:(?:tell me|let me know|i want to know|i would like to know|i'd like to know|do you know)\s+)?",
    re.IGNORECASE,
)
_POLITE_ENDINGS = re.compile(r"\s+(?:please|for me|right now|now)$", re.IGNORECASE)

# More than one clause ("list ~/Downloads and delete the zips", "free memory; then top"): the model's job.
_MULTI_CLAUSE = re.compile(r"[;,&|\n]|\b(?:and|then|also|plus|after|afterwards|before|but)\b", re.IGNORECASE)
# Belt and braces: none of the patterns contain these, but a request that says one asks for a change.
_CHANGE_WORDS = re.compile(r"\b" + words_pattern(FAST_PATH_CHANGE_WORDS) + r"\b", re.IGNORECASE)


def normalise(request: str) -> str:
    """One spelling of a request: plain quotes, single spaces, contractions expanded, politeness and final
    punctuation dropped. Case is kept (paths are case-sensitive); the patterns ignore it."""
    text = request.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = " ".join(text.split())
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"[?!]+$", "", text).rstrip()
    # A full stop ends a sentence, but "ls ." and "ls .." name folders.
    text = re.sub(r"(?<=[A-Za-z0-9)])\.$", "", text)
    text = _POLITE_OPENINGS.sub("", text, count=1)
    text = _POLITE_ENDINGS.sub("", text)
    return text.strip()


# -- patterns -------------------------------------------------------------------------------------------------

_MY = r"(?:(?:my|the|this|our) )?"
_MACHINE = r"(?:computer|machine|system|pc|laptop|box|device|mac)"
_ON_MACHINE = rf"(?: (?:on|in) {_MY}{_MACHINE})?"
_ASK = r"(?:(?:what is|show|show me|check|display|get|give me|print|report|see) )?"

_MEMORY_PATTERNS = (
    rf"how much (?:of {_MY})?(?:free |available |unused )?(?:memory|ram|ram memory)"
    rf"(?: (?:is|do i have|have i got|is there|am i|does {_MY}{_MACHINE} have|is {_MY}{_MACHINE}))?"
    rf"(?: (?:free|available|left|remaining|unused|in use|used|being used|using|installed|total))?{_ON_MACHINE}",
    rf"{_ASK}{_MY}(?:free|available|used|current|total|unused) (?:memory|ram)(?: usage| use)?{_ON_MACHINE}",
    rf"{_ASK}{_MY}(?:memory|ram|system memory)(?: (?:usage|use|status|info|stats|utili[sz]ation|left|free))?",
    rf"is {_MY}(?:memory|ram) (?:full|almost full|running low|low|getting full)",
    r"free(?: -[hm])?",
)
_DISK_WHERE = (
    rf"(?: (?:on|in) {_MY}(?:disk|disks|drive|drives|hard drive|hard disk|ssd|{_MACHINE}|root|root partition"
    r"|file ?system))?"
)
_DISK_PATTERNS = (
    rf"how much (?:free |available )?(?:disk |drive |hard drive |hard disk |ssd )?(?:space|storage)"
    rf"(?: (?:is|do i have|have i got|is there|does {_MY}{_MACHINE} have))?"
    rf"(?: (?:free|available|left|remaining|unused|used|in use))?{_DISK_WHERE}",
    rf"{_ASK}{_MY}(?:free |available |used )?(?:disk|storage|drive|hard drive|hard disk|ssd) (?:space|usage|use"
    r"|status|info|capacity)(?: (?:left|free|available))?",
    rf"{_ASK}{_MY}(?:free|available) (?:disk |drive )?space{_DISK_WHERE}",
    rf"is {_MY}(?:disk|drive|hard drive|hard disk|ssd|storage) (?:full|almost full|getting full|running out)",
    rf"how full is {_MY}(?:disk|drive|hard drive|hard disk|ssd|storage)",
    r"am i (?:running )?(?:low on|out of) (?:disk )?(?:space|storage)",
    r"df(?: -h)?",
)
_UPTIME_PATTERNS = (
    rf"{_ASK}{_MY}(?:system |{_MACHINE} )?uptime",
    rf"how long (?:has|have) {_MY}{_MACHINE} been (?:up|on|running|awake)(?: for)?",
    rf"how long (?:is|has it been) since {_MY}last (?:boot|reboot)",
    rf"when did {_MY}{_MACHINE} (?:last )?boot(?: up)?",
    rf"when was {_MY}(?:last (?:boot|reboot)|{_MACHINE} (?:last )?(?:booted|rebooted))",
)
_CPU_PATTERNS = (
    rf"how many (?:cpus|cpu cores|cores|cpu threads|processors|processor cores|logical cores|physical cores|cpu)"
    rf"(?: (?:do i have|have i got|are there|is there|does {_MY}{_MACHINE} have|(?:are )?(?:on|in) {_MY}{_MACHINE}))?",
    rf"(?:what|which) (?:cpu|processor|cpu model|processor model|kind of cpu|kind of processor|type of cpu"
    rf"|type of processor) (?:do i have|have i got|is this|is in {_MY}{_MACHINE}|does {_MY}{_MACHINE} have"
    r"|am i using)",
    rf"{_ASK}{_MY}(?:cpu|processor)(?: (?:model|type|name|info|information|details|specs|count|cores|usage|load"
    r"|utili[sz]ation))?",
    rf"{_ASK}(?:the )?number of (?:cpu )?(?:cores|cpus|processors){_ON_MACHINE}",
    rf"how busy is {_MY}(?:cpu|processor)",
    r"nproc|lscpu",
)
_OS_PATTERNS = (
    r"(?:what|which) (?:os|operating system|linux distro|linux distribution|distro|distribution|version of linux"
    rf"|linux version|os version|kernel|kernel version)(?: (?:am i on|am i using|do i have|is this|is installed"
    rf"|is {_MY}{_MACHINE} on|does {_MY}{_MACHINE} (?:use|have)))?",
    rf"{_ASK}{_MY}(?:os|operating system|os version|kernel version|hostname|host name|computer name|machine name)"
    rf"(?: (?:of|on|for) {_MY}{_MACHINE})?",
    rf"what is (?:the name of {_MY}{_MACHINE}|{_MY}{_MACHINE}'?s name|{_MY}{_MACHINE} called)",
    r"hostname|uname(?: -a)?",
)

_MEMORY_WORDS = r"(?P<resource>memory|ram|cpu|processor|cpu time)"
_PROCESS_NOUN = r"(?:process|processes|program|programs|app|apps|application|applications|task|tasks)"
_HEAVY_VERB = (
    r"(?:using|uses|use|eating|eats|eating up|hogging|hogs|taking|takes|taking up|takes up|consuming|consumes"
    r"|occupying|occupies|chewing up|burning|maxing out)"
)
_PROCESS_PATTERNS = (
    rf"(?:what|who|which {_PROCESS_NOUN}) (?:is |are )?{_HEAVY_VERB}"
    rf" (?:the most|most|most of|all|all of|so much|a lot of|too much|up)? ?(?:my |the )?{_MEMORY_WORDS}",
    rf"(?:what|which) {_PROCESS_NOUN} (?:is|are) (?:the )?(?:biggest|heaviest|largest|top) {_MEMORY_WORDS}"
    r" (?:user|users|hog|hogs|consumer|consumers|eater|eaters)",
    rf"(?:(?:show|show me|list|get|display) )?(?:the )?top(?: (?P<count>\d{{1,2}}))? {_PROCESS_NOUN}"
    rf"(?: (?:by|sorted by|ordered by|for|using the most) {_MEMORY_WORDS}(?: usage| use)?)?",
    rf"(?:(?:show|show me|list|get|display) )?(?:the )?(?:top|biggest|largest|heaviest)(?: (?P<count>\d{{1,2}}))?"
    rf" {_MEMORY_WORDS} (?:users|hogs|consumers|eaters|{_PROCESS_NOUN})",
    rf"(?:(?:show|show me|list|get|display) )?(?:the |all )?(?:running )?{_PROCESS_NOUN}"
    rf" (?:sorted |ordered )?by {_MEMORY_WORDS}(?: usage| use)?",
    rf"{_MEMORY_WORDS} hogs",
    r"top|htop",
)

# A folder: a path written as one (~, /, ./, ../; quoted when it has spaces), or a well-known home folder's name.
_PATH_CHAR = r"[^\s*?\[\]{}\"'|;&<>$`]"
_TARGET = (
    rf"(?:(?:the )?(?P<path>~(?:/{_PATH_CHAR}*)?|/{_PATH_CHAR}*|\.\.?(?:/{_PATH_CHAR}*)?)(?: (?:folder|directory|dir))?"
    r"|(?P<quote>[\"'])(?P<quoted_path>(?:~|/|\.)[^\"'*?]*)(?P=quote)(?: (?:folder|directory|dir))?"
    r"|(?:(?:my|the) )?(?P<known>downloads|documents|desktop|music|pictures|photos|videos|movies|home)"
    r"(?: (?:folder|directory|dir))?"
    r"|(?:the )?(?P<current>current|this) (?:folder|directory|dir))"
)
_HERE = r"(?P<here>here|in here|in this (?:folder|directory)|in the current (?:folder|directory))"
_FOLDER_NOUN = r"(?:files|contents|content|things|stuff|items|entries|folders|subfolders|directories)"
_LIST_VERB = r"(?:list|show|show me|display)"
_FOLDER_PATTERNS = (
    rf"ls(?: -l| -lh)?(?: (?P<path>~(?:/{_PATH_CHAR}*)?|/{_PATH_CHAR}*|\.\.?(?:/{_PATH_CHAR}*)?))?",
    rf"{_LIST_VERB}(?: all)?(?: of)?(?: the| my)? {_FOLDER_NOUN} (?:in|of|inside|under|within) {_TARGET}",
    rf"{_LIST_VERB}(?: the)? contents of {_TARGET}",
    rf"{_LIST_VERB} {_TARGET}",
    rf"{_LIST_VERB}(?: all)?(?: the)? {_FOLDER_NOUN} {_HERE}",
    rf"what (?:is|files are|folders are|do i have|have i got) (?:in|inside) {_TARGET}",
    rf"what (?:is|files are|do i have) {_HERE}",
)
# A last name with an extension ("notes.txt", not ".config") is most likely a file.
_FILE_LIKE = re.compile(r"[^/.][^/]*\.[A-Za-z0-9]{1,5}$")
_KNOWN_FOLDERS = {
    "downloads": "~/Downloads",
    "documents": "~/Documents",
    "desktop": "~/Desktop",
    "music": "~/Music",
    "pictures": "~/Pictures",
    "photos": "~/Pictures",
    "videos": "~/Videos",
    "movies": "~/Movies",
    "home": "~",
}


_SLOW = r"(?:so )?(?:slow|sluggish|laggy|lagging|unresponsive|hot|noisy|loud)"
_HEALTH_PATTERNS = (
    rf"why is {_MY}{_MACHINE} (?:being |running |getting |so )?{_SLOW}(?: today| lately| at the moment)?",
    rf"why (?:does|is) {_MY}{_MACHINE} (?:feel|feeling|seem|seeming) {_SLOW}",
    rf"what is (?:making|slowing down|slowing) {_MY}{_MACHINE}(?: (?:down|{_SLOW}))?",
    # "what is eating my RAM?" stays a process listing (the process patterns); the whole machine is health.
    rf"what is (?:hogging|eating|using up) {_MY}(?:resources|{_MACHINE})",
    rf"is (?:anything|something) (?:hogging|eating|slowing down) {_MY}(?:cpu|processor|memory|ram|{_MACHINE})",
    rf"{_ASK}{_MY}(?:system|{_MACHINE}) health(?: check)?",
    r"health check",
)


def _compiled(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(pattern, re.IGNORECASE) for pattern in patterns]


_MEMORY = _compiled(_MEMORY_PATTERNS)
_DISK = _compiled(_DISK_PATTERNS)
_UPTIME = _compiled(_UPTIME_PATTERNS)
_CPU = _compiled(_CPU_PATTERNS)
_OS = _compiled(_OS_PATTERNS)
_PROCESSES = _compiled(_PROCESS_PATTERNS)
_FOLDER = _compiled(_FOLDER_PATTERNS)
_HEALTH = _compiled(_HEALTH_PATTERNS)


def _full_match(patterns: list[re.Pattern[str]], text: str) -> re.Match[str] | None:
    return next((match for pattern in patterns if (match := pattern.fullmatch(text))), None)


# -- matching -------------------------------------------------------------------------------------------------


def match_fast_path(request: str, *, has_stdin_data: bool = False) -> FastPlan | None:
    """The call for `request` when it is one of the fast-path intents, else None (the model plans it)."""
    if has_stdin_data:
        return None  # the request is about the piped data, which only the model reads
    text = normalise(request)
    if not text or len(text) > 160 or _MULTI_CLAUSE.search(_without_quoted(text)) or _CHANGE_WORDS.search(text):
        return None
    if _full_match(_HEALTH, text):
        return FastPlan("health", "system.health", {}, render_health)
    if _full_match(_MEMORY, text):
        return FastPlan("memory", "system.info", {"part": "memory"}, render_memory)
    if _full_match(_DISK, text):
        return FastPlan("disk", "system.info", {"part": "disk"}, render_disk)
    if _full_match(_UPTIME, text):
        return FastPlan("uptime", "system.info", {"part": "uptime"}, render_uptime)
    if _full_match(_CPU, text):
        return FastPlan("cpu", "system.info", {"part": "cpu"}, render_cpu)
    if _full_match(_OS, text):
        return FastPlan("os", "system.info", {"part": "os"}, render_os)
    if match := _full_match(_PROCESSES, text):
        return _process_plan(match)
    if match := _full_match(_FOLDER, text):
        return _folder_plan(match)
    return None


def _without_quoted(text: str) -> str:
    """The request with quoted paths blanked, so a comma or "and" inside a file name is not a second clause."""
    return re.sub(r"([\"'])(?:~|/|\.)[^\"']*\1", '""', text)


def _process_plan(match: re.Match[str]) -> FastPlan:
    groups = match.groupdict()
    resource = (groups.get("resource") or "cpu").lower()
    sort = "memory" if resource in ("memory", "ram") else "cpu"
    count = int(groups["count"]) if groups.get("count") else DEFAULT_PROCESS_LIMIT
    limit = max(1, min(MAX_PROCESS_LIMIT, count))
    return FastPlan("processes", "process.list", {"sort": sort, "limit": limit}, render_processes)


def _folder_plan(match: re.Match[str]) -> FastPlan | None:
    groups = match.groupdict()
    if groups.get("path"):
        path = groups["path"]
    elif groups.get("quoted_path"):
        path = groups["quoted_path"]
    elif groups.get("known"):
        path = _KNOWN_FOLDERS[groups["known"].lower()]
    else:
        path = "."  # "ls", "list the files here"
    if _FILE_LIKE.search(path):
        return None  # "show ~/notes.txt" wants the file read, not a folder listed
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return FastPlan("folder", "files.list", {"path": path}, render_folder)
