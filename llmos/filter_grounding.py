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
