"""A pid argument limited by the grammar to the pids this request knows: the ones it says, the ones results showed.

Asked about a process by name ("what's the PID of renderfarm?", "set the niceness of encoder to 19", "what
command line is renderfarm running with?"), the 1.5B model called `process.info` with a pid it made up (1234)
in 3 of the suite's tasks, and answered from the failure that the process was not running. A pid is never
something to guess: it comes from the request ("kill process 4711") or from a result (`process.list`). So a
turn's grammar allows a `pid` argument only those values; with none known, a tool that needs a pid is not
offered, and one that can also take a name is offered without `pid`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from typing import Any

PID_ARGUMENT = "pid"
_REQUEST_PID = re.compile(
    r"\b(?:pids?|process(?:es)?|kill|signal)\s+(?:-[A-Za-z0-9]+\s+)*(?:number\s+|#|id\s+)?(-?\d+)\b",
    re.IGNORECASE,
)
"""A number the request gives as a process: "pid 4711", "process 1", "kill -9 1234". Not any number: "set the
niceness of encoder to 19" gives a priority."""


def request_pids(request: str) -> set[int]:
    """The pids the request names."""
    return {int(match.group(1)) for match in _REQUEST_PID.finditer(request)}


def result_pids(results: Iterable[str | None]) -> set[int]:
    """Every integer under a `pid` key in the JSON results (a process list's rows, an info, a signal's targets)."""
    found: set[int] = set()
    for text in results:
        try:
            _collect(json.loads(text or ""), found)
        except json.JSONDecodeError:
            continue
    return found


def _collect(value: Any, found: set[int]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == PID_ARGUMENT and isinstance(inner, int) and not isinstance(inner, bool):
                found.add(inner)
            else:
                _collect(inner, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def takes_pid(parameters: dict[str, Any]) -> bool:
    """Whether a tool's parameters have an integer `pid`."""
    return parameters.get("properties", {}).get(PID_ARGUMENT, {}).get("type") == "integer"


def ground_pid(parameters: dict[str, Any], known: set[int]) -> dict[str, Any] | None:
    """The parameters with `pid` limited to `known`; without `pid` when none is known and it is optional; None
    when the tool needs a pid and none is known (the tool cannot be called yet)."""
    if not takes_pid(parameters):
        return parameters
    schema = copy.deepcopy(parameters)
    if known:
        schema["properties"][PID_ARGUMENT] = {"type": "integer", "enum": sorted(known)}
        return schema
    if PID_ARGUMENT in schema.get("required", []):
        return None
    del schema["properties"][PID_ARGUMENT]
    return schema
