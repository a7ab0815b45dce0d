"""A move's or copy's destination is one the request spells out: "move the screenshots off my desktop into
~/Pictures/Screenshots" moves them there, not to a place of the prompt's example.

Asked that, the 1.5B model wrote `files.move {"source": "~/Pictures/Shots/Screenshot*", "destination":
"~/Desktop/Screenshots/"}`: the example's destination turned into the source, and the request's folder moved to
the desktop. When a request spells out where things go (a path after "into", "to" or "onto": `~/...`, `/...`, or
a path under one of the home folder's own folders, "Downloads/PDFs"), a move's or a copy's `destination` is
limited by the grammar to those, as spelled and as a folder to put things in ("~/Pictures/Screenshots/"). A
request that spells none leaves the destination to the model ("rename it to lisbon-2024", "to the desktop").

Once a call has named some of them, a move or copy may go only to those not yet named, and the grammar writes the
destination first: asked "pdfs into Downloads/PDFs and the jpg photos into Downloads/Images", the model moved the
photos, then moved a photo it made up ("photo-003.jpg") to Downloads/Images again; written after the destination
Downloads/PDFs, the source is what goes there.
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


def ground_destination(
    tool: str, parameters: dict[str, Any], choices: tuple[str, ...], *, first: bool = False
) -> dict[str, Any]:
    """A move's or copy's parameters with `destination` limited to `choices` (and, `first`, written first);
    others unchanged."""
    if tool not in DESTINATION_TOOLS or not choices or DESTINATION_ARGUMENT not in parameters.get("properties", {}):
        return parameters
    grounded = PathRepair(tool, DESTINATION_ARGUMENT, choices).constrain(parameters)
    if first:
        properties = grounded["properties"]
        grounded["properties"] = {DESTINATION_ARGUMENT: properties[DESTINATION_ARGUMENT],
                                  **{name: value for name, value in properties.items() if name != DESTINATION_ARGUMENT}}
        grounded["required"] = [DESTINATION_ARGUMENT, *(name for name in grounded.get("required", [])
                                                        if name != DESTINATION_ARGUMENT)]
    return grounded


def destinations_left(destinations: tuple[str, ...], unnamed: list[str]) -> tuple[str, ...]:
    """Of `destinations` (from `spelled_destinations`), those still to be named, when a call has named some:
    each of `unnamed` with its folder form; () when none was named yet (all are on offer) or all were."""
    if not unnamed or len(unnamed) == len(destinations):
        return ()
    left = {path.rstrip("/") for path in unnamed}
    return tuple(path for path in destinations if path.rstrip("/") in left)
