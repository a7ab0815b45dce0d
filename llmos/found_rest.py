"""A change asked for found files as a group is made to each of them, not to the first only.

Asked "find files bigger than 10MB in my home and move them into ~/Archive/big", the 1.5B model found two files,
moved the first by its path and answered that the file had been moved: the other stayed where it was. When the
request speaks of what it finds as a group ("them", "all", "each", "both"...) and picks none out ("the
biggest", "the one"), and the model changes one of a few found files by its path, the next turn makes the same
change, its path limited by the grammar to the found files not yet changed, until none is left.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase

from llmos.events import Step
from llmos.look_first import MAX_FOUND_CHOICES, found_files
from llmos.repair import PathRepair

_AS_A_GROUP = re.compile(r"\b(?:them|all|every|everything|anything|each|those|these|both)\b", re.IGNORECASE)
_PICKS_ONE = re.compile(
    r"\b(?:one|it|oldest|newest|latest|earliest|biggest|largest|smallest|heaviest|first|last|only|single)\b",
    re.IGNORECASE)
TARGET_ARGUMENTS = ("source", "path")
"""The argument of a change tool that names what it changes (a move's source, a delete's path)."""


def speaks_of_a_group(request: str) -> bool:
    """Whether the request's change is for everything it finds ("move them"), not for one it picks."""
    return bool(_AS_A_GROUP.search(request)) and not _PICKS_ONE.search(request)


def rest_owed(request: str, steps: Sequence[Step], changes: Callable[[str], bool]) -> PathRepair | None:
    """The next turn's change of the found files the changes so far left out, or None: not a request for a group,
    the last step not a successful change of one found file by its path, or nothing left. `changes` tells
    whether a tool changes things (a look does not)."""
    if not steps or not speaks_of_a_group(request):
        return None
    last = steps[-1]
    argument = next((name for name in TARGET_ARGUMENTS if isinstance(last.args.get(name), str)), None)
    if not changes(last.tool) or last.status != "ok" or argument is None:
        return None
    finding, found = next(((index, found) for index in range(len(steps) - 1, -1, -1)
                           if not changes(steps[index].tool) and steps[index].status == "ok"
                           and (found := _found(steps[index]))), (None, []))
    if finding is None:
        return None
    if not 2 <= len(found) <= MAX_FOUND_CHOICES or last.args[argument] not in found:
        return None
    targets = [str(step.args.get(argument)) for step in steps[finding + 1:]
               if step.tool == last.tool and step.status == "ok"]
    left = tuple(path for path in found if not any(_covers(target, path) for target in targets))
    return PathRepair(last.tool, argument, left, offer_answer=False) if left else None


def _found(step: Step) -> list[str]:
    try:
        result = json.loads(step.result or "")
    except json.JSONDecodeError:
        return []
    # The matches only: a file a find's fallback names (one whose text mentions the name) is no file the request
    # asked to change, and here every one found is changed.
    return found_files(step.tool, step.args, result, fallbacks=False) if isinstance(result, dict) else []


def _covers(target: str, path: str) -> bool:
    """Whether a change of `target` (a path, a folder, a glob) reached the found `path`."""
    return path == target or path.startswith(target.rstrip("/") + "/") or fnmatchcase(path, target)
