"""A move's or copy's destination is one the request spells out: "move the screenshots off my desktop into
~/Pictures/Screenshots" moves them there, not to a place of the prompt's example.

Asked that, the 1.5B model wrote `files.move {"source": "~/Pictures/Shots/Screenshot*", "destination":
"~/Desktop/Screenshots/"}`: the example's destination turned into the source, and the request's folder moved to
the desktop. When a request spells out where things go (a path after "into", "to" or "onto": `~/...`, `/...`, or
a path under one of the home folder's own folders, "Downloads/PDFs"), a move's or a copy's `destination` is
limited by the grammar to those, as spelled and as a folder to put things in ("~/Pictures/Screenshots/"). A
request that spells none leaves the destination to the model ("rename it to lisbon-2024", "to the desktop").
"""

from __future__ import annotations

import re
from typing import Any

from llmos.place_grounding import HOME_FOLDERS
from llmos.repair import PathRepair

DESTINATION_TOOLS = frozenset({"files.move", "files.copy"})
DESTINATION_ARGUMENT = "destination"
_SPELLED_DESTINATION = re.compile(
    r"\b(?:into|to|onto)\s+(?:the\s+|my\s+)?['\"]?((?:~|/|(?:" + "|".join(HOME_FOLDERS) + r")/)[^\s'\"]*)",
    re.IGNORECASE)
_TRAILING = ".,;:!?)"


def spelled_destinations(request: str) -> tuple[str, ...]:
    """The destinations `request` spells out, as a move accepts them: each as written (a home folder's path
    given `~/`), and, for one that names no file (no extension), the same with a trailing slash."""
    choices: list[str] = []
    for match in _SPELLED_DESTINATION.finditer(request):
        path = match.group(1).rstrip(_TRAILING)
        if not path.startswith(("~", "/")):
            path = f"~/{path}"
        if path in ("~", "/", "~/"):
            continue
        bare = path.rstrip("/")
        choices.append(bare)
        if "." not in bare.rsplit("/", 1)[-1]:
            choices.append(f"{bare}/")
    return tuple(dict.fromkeys(choices))


def ground_destination(tool: str, parameters: dict[str, Any], choices: tuple[str, ...]) -> dict[str, Any]:
    """A move's or copy's parameters with `destination` limited to `choices`; others unchanged."""
    if tool not in DESTINATION_TOOLS or not choices or DESTINATION_ARGUMENT not in parameters.get("properties", {}):
        return parameters
    return PathRepair(tool, DESTINATION_ARGUMENT, choices).constrain(parameters)
