"""Repairing a call that named a path that does not exist, once, with the paths that do.

A failed call's result says `did_you_mean` (similar paths that exist, `tools/near_paths.py`). Left free, the
1.5B model often made the next call with the same wrong path, or moved on to another step with it ("copy
~/webapp/requirements.txt" failed, then "edit ~/webapp/requirements.txt" failed too). The repair turn offers the
same tool with that argument constrained by the grammar to the suggested paths (with `answer` beside it for a
change): the model cannot name a path that does not exist. A folder tool given a file ("list /etc/passwd") is
repaired as a read of that file.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

READ_TOOL = "files.read"
EDIT_TOOL = "files.edit"
MAX_CHOICES = 8
"""Most suggested paths a repair offers (near_paths gives a handful)."""


@dataclass(frozen=True)
class PathRepair:
    """The call to make again: `tool`, with `argument` one of `choices`."""

    tool: str
    argument: str
    choices: tuple[str, ...]
    offer_answer: bool = True
    """For a change: `answer` is on offer beside it (the suggested path may not be the one meant). Not for the
    rest of a group's change (`llmos.found_rest`): the request asked for each of them."""

    def constrain(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The tool's parameters schema with the repaired argument limited to the choices (and required)."""
        schema = copy.deepcopy(parameters)
        schema.setdefault("properties", {})[self.argument] = {"type": "string", "enum": list(self.choices)}
        required = list(schema.get("required", []))
        if self.argument not in required:
            schema["required"] = [*required, self.argument]
        return schema


def sure_repair(repair: PathRepair, args: dict[str, Any], places: set[str]) -> PathRepair:
    """`repair` without `answer` on offer when its one suggestion is the very name the failed call gave, in a home
    folder the request names as its place (`places`, casefolded: "move the screenshots off my desktop": the
    model's source "~/Pictures/Shots/Screenshot*", the prompt example's folder, failed; "~/Desktop/Screenshot*"
    was suggested, and offered `answer` beside it, the model reported the failure instead)."""
    if len(repair.choices) != 1 or not isinstance(wanted := args.get(repair.argument), str):
        return repair
    suggested = PurePosixPath(repair.choices[0])
    same_name = suggested.name == PurePosixPath(wanted).name
    in_named_place = suggested.parent.as_posix().casefold() in {f"~/{place}" for place in places}
    return replace(repair, offer_answer=False) if same_name and in_named_place else repair


def path_repair(
    tool: str, args: dict[str, Any], result_text: str | None, *, changes: bool = False
) -> PathRepair | None:
    """The repair for a failed call whose result suggests existing paths for the one argument it names, or
    None (not such a failure, no suggestion, or no single argument the message names). For a call that `changes`
    things, only suggestions of the missing file's own type are offered: given "~/Downloads/holiday.mp4" (it was in
    ~/Videos), the 1.5B model took the suggested folder ~/Pictures/holiday and moved it."""
    try:
        payload = json.loads(result_text or "")
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("a_file"), str) and tool != READ_TOOL:
        # A folder tool given a file ("list /etc/passwd"): the call meant is a read of that file.
        return PathRepair(READ_TOOL, "path", (payload["a_file"],))
    suggested = payload.get("did_you_mean")
    message = payload.get("error")
    if not isinstance(suggested, list) or not suggested or not isinstance(message, str):
        return None
    # The argument whose value the message names as missing: "." or "~" alone would be found in any message.
    named = [name for name, value in args.items()
             if isinstance(value, str) and value.strip() not in ("", ".", "~", "~/") and value in message]
    # A search for "app.log" in ~/.webapp/app.log: the message names the path, which holds the text too. A
    # value that is no path (no "/") found only inside another named value is not what the message names.
    named = [name for name in named if "/" in args[name] or not any(
        args[name] != args[other] and args[name] in args[other] for other in named)]
    if len(named) != 1:
        return None
    choices = tuple(dict.fromkeys(str(path) for path in suggested if isinstance(path, str)))
    suffix = PurePosixPath(args[named[0]]).suffix.casefold()
    if changes and suffix:
        choices = tuple(path for path in choices if PurePosixPath(path).suffix.casefold() == suffix)
    return PathRepair(tool, named[0], choices[:MAX_CHOICES]) if choices else None
