"""A find's size and age filters offered only to a request that speaks of sizes or ages; a sort it names, required.

Asked to "find the shell scripts in ~/projects, set them all to 755", the 1.5B model filled every optional filter
of `files.find` with placeholders ("min_size": "0", "max_size": "0", "newer_than": "0001-01-01"), and the find
failed or found nothing. A filter the request never speaks of is not one the person asked for: a turn's grammar
offers `min_size`/`max_size` only to a request with a size word or amount ("bigger than 10MB", "empty files"),
and `newer_than`/`older_than` only to one with a word of time ("older than a year", "changed this week"; a change
verb alone is none: "tell me how many you changed" had been given the age filters, and the model filled one).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from llmos.look_instead import request_extensions
from llmos.words import singular

_SIZE_WORDS = re.compile(
    r"\b(?:sizes?|sized|big|bigger|biggest|large|larger|largest|small|smaller|smallest|huge|tiny|empty|heavy|"
    r"heaviest|light|space|megs?|megabytes?|gigs?|gigabytes?|kilobytes?|terabytes?|bytes?|"
    r"\d+(?:[.,]\d+)?\s*(?:b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb))\b",
    re.IGNORECASE)
_TIME_WORDS = re.compile(
    r"\b(?:old|older|oldest|new|newer|newest|recent|recently|latest|"
    r"since|before|after|ago|today|yesterday|tonight|this morning|week|weeks|weekly|month|months|year|"
    r"years|day|days|hours?|minutes?|dates?|dated|stale|fresh|last|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|\d{4}-\d{2}-\d{2}|\d+\s*(?:d|h|w|mo|y))\b",
    re.IGNORECASE)
FILTERS: dict[str, re.Pattern[str]] = {
    "min_size": _SIZE_WORDS, "max_size": _SIZE_WORDS, "newer_than": _TIME_WORDS, "older_than": _TIME_WORDS,
}
"""Optional argument -> the words one of which the request must say for the argument to be offered."""


def ground_filters(parameters: dict[str, Any], request: str) -> dict[str, Any]:
    """The parameters without the optional filters the request never speaks of (the same schema when none goes)."""
    properties = parameters.get("properties", {})
    required = set(parameters.get("required", []))
    dropped = [name for name, words in FILTERS.items()
               if name in properties and name not in required and not words.search(request)]
    if not dropped:
        return parameters
    schema = copy.deepcopy(parameters)
    for name in dropped:
        del schema["properties"][name]
    return schema


SORT_ARGUMENT = "sort"
ORDERS: dict[str, re.Pattern[str]] = {
    "newest": re.compile(r"\b(?:newest|latest|most recent(?:ly)?|last (?:changed|modified|edited|updated|saved))\b",
                         re.IGNORECASE),
    "oldest": re.compile(r"\b(?:oldest|least recent(?:ly)?|earliest)\b", re.IGNORECASE),
    "size": re.compile(r"\b(?:biggest|largest|heaviest|by size)\b", re.IGNORECASE),
}
"""A `sort` order -> the words that ask for it. "smallest" asks for none: every size order is biggest first."""


def ground_sort(parameters: dict[str, Any], request: str) -> dict[str, Any]:
    """The parameters with `sort` limited to, and required as, the one order the request asks for ("which file
    did I change most recently?": newest), when it asks for exactly one the tool has; else the same schema.
    Left free, the 1.5B model sorted by name when asked for the oldest, and gave the first name it saw."""
    sort = parameters.get("properties", {}).get(SORT_ARGUMENT)
    asked = [order for order, words in ORDERS.items() if words.search(request)]
    if not isinstance(sort, dict) or len(asked) != 1 or asked[0] not in sort.get("enum", ()):
        return parameters
    schema = copy.deepcopy(parameters)
    schema["properties"][SORT_ARGUMENT] = {"type": "string", "enum": asked}
    schema["required"] = [*schema.get("required", []), SORT_ARGUMENT]
    return schema


NAME_ARGUMENT = "name"
_GENERIC_WORDS = frozenset((
    # what any request about files says
    "file files folder folders directory directories document documents doc docs thing things stuff item items "
    "everything anything something all any every each some them those these that they it its one ones "
    "home here there anywhere somewhere computer machine disk drive place "
    # the standard folders (named as places: "in Downloads")
    "downloads download desktop pictures music videos "
    # question and request words, verbs of the tools
    "a an and are at be can could do does did done for from i in into is me my of on onto please the this to what "
    "with you your which who whose where when how many much most least have has had was were ve got s t than over "
    "under "
    "between since before after ago then also or not no find show list get give tell look search locate see "
    "move copy delete remove put send open read count rename clean keep make set change changed modified edited "
    "touched added saved downloaded created updated untouched went gone"
).split())
"""Words that never name a file: with only these (and words of sizes, ages and order) a request names nothing a
find could match by name."""
_PATH_TOKEN = re.compile(r"(?:~|\.{0,2})/\S*")
_NAME_WORD = re.compile(r"[a-z0-9]+")


def names_a_file(request: str) -> bool:
    """Whether the request says something a name could match ("pdfs", "trip notes", "Q1"), outside its paths."""
    text = _PATH_TOKEN.sub(" ", request.lower())
    for word in _NAME_WORD.findall(text):
        if word in _GENERIC_WORDS or singular(word) in _GENERIC_WORDS:
            continue
        if _SIZE_WORDS.fullmatch(word) or _TIME_WORDS.fullmatch(word) or word.isdigit():
            continue
        if any(order.fullmatch(word) for order in ORDERS.values()):
            continue
        return True
    return False


NAMED_FINDS = frozenset({"files.find"})
"""The tools whose `name` is a filter the model may leave out (a process's name is how a signal finds it)."""


def named_kind(request: str) -> str | None:
    """The one file type the request names as such, outside its paths (".tmp" -> "*.tmp"), or None (none, or
    several)."""
    kinds = request_extensions(_PATH_TOKEN.sub(" ", request))
    return f"*.{kinds.pop()}" if len(kinds) == 1 else None


def ground_name(tool: str, parameters: dict[str, Any], request: str) -> dict[str, Any]:
    """A find's parameters without its `name` when the request names nothing a name could match, and with it
    required as the glob of the one file type the request names ("which .tmp file in Downloads is the biggest?
    delete that one": `*.tmp`). Asked for "files bigger than 10MB in my home" and "which file in Documents did I
    change most recently?", the 1.5B model filled the name with ".*" (hidden files only) and "mona*" (from the
    prompt's Mona Lisa), and found nothing; asked for the biggest .tmp file, it found with no name, and deleted
    the biggest file of any type."""
    properties = parameters.get("properties", {})
    if tool not in NAMED_FINDS or NAME_ARGUMENT not in properties or NAME_ARGUMENT in parameters.get("required", []):
        return parameters
    if (kind := named_kind(request)) is not None:
        schema = copy.deepcopy(parameters)
        schema["properties"][NAME_ARGUMENT] = {"type": "string", "enum": [kind]}
        return require_in_order(schema, NAME_ARGUMENT)
    if names_a_file(request):
        return parameters
    schema = copy.deepcopy(parameters)
    del schema["properties"][NAME_ARGUMENT]
    return schema


TYPE_ARGUMENT = "type"
_ONE_FILE = re.compile(r"\b(?:which|what|the|a)\s+(?:[\w.*-]+\s+){0,2}?file\b(?!s)", re.IGNORECASE)
_FOLDER_WORDS = re.compile(r"\b(?:folders?|director(?:y|ies)|dirs?)\b", re.IGNORECASE)


def ground_type(tool: str, parameters: dict[str, Any], request: str) -> dict[str, Any]:
    """A find's parameters with `type` required as "file" when the request asks for one file by an order
    ("which file in Documents did I change most recently?", "the biggest .tmp file") and speaks of no folder.
    Found with any type, the newest entry of ~/Documents was its `reports` folder, and the answer named it."""
    properties = parameters.get("properties", {})
    type_schema = properties.get(TYPE_ARGUMENT)
    if (tool not in NAMED_FINDS or not isinstance(type_schema, dict) or "file" not in type_schema.get("enum", ())
            or not _ONE_FILE.search(request) or _FOLDER_WORDS.search(request)
            or not any(words.search(request) for words in ORDERS.values())):
        return parameters
    schema = copy.deepcopy(parameters)
    schema["properties"][TYPE_ARGUMENT] = {"type": "string", "enum": ["file"]}
    return require_in_order(schema, TYPE_ARGUMENT)


def require_in_order(schema: dict[str, Any], argument: str) -> dict[str, Any]:
    """`schema` (changed in place) with `argument` required, and every property before it too. The grammar
    has the model write the required properties first: `name` alone required came before `path`, and the
    1.5B model, writing "*.jpg" first, then looked in ~/Downloads instead of the home folder."""
    order = list(schema.get("properties", {}))
    required = list(schema.get("required", []))
    for name in order[: order.index(argument) + 1]:
        if name not in required:
            required.append(name)
    schema["required"] = required
    return schema


def ground_in_words(tool: str, parameters: dict[str, Any], request: str) -> dict[str, Any]:
    """`tool`'s parameters as the request's words allow them: its filters, sort, name and type (each above)."""
    sorted_and_filtered = ground_sort(ground_filters(parameters, request), request)
    return ground_type(tool, ground_name(tool, sorted_and_filtered, request), request)
