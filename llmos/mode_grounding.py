"""A permission change limited by the grammar to the modes the request's words allow.

"setup.sh in downloads shouldn't be executable, take that away": the 1.5B model called `files.chmod` with "0755"
and answered that the file was no longer executable; "make budget.csv private so only I can read and write it"
got 664. A mode is not the model's to guess when the request says what it must do: a mode the request spells
out ("set them all to 755", "chmod 700") is the only one allowed; "not executable" allows only `a-x`, which takes
every execute bit away and leaves the rest as it was (asked so, the model chose 0444, which took the owner's write
too), or, when the request says whose ("not executable by others"), only such a removal for some of them;
"private", "only I/me" only modes that give the group and others nothing; "executable" only modes that let the
owner execute. A request that says none of these leaves the mode free.
"""

from __future__ import annotations

import copy
import re
from typing import Any

MODE_ARGUMENT = "mode"
_SPELLED_MODE = re.compile(r"(?<![\w.-])(0?[0-7]{3})(?![\w.])")
_NOT_EXECUTABLE = re.compile(
    r"(?:\bnot|n't|\bno longer|\bnon-?|\bremove|\bdrop|\bstrip|\btake away|\bwithout|\bun)\W*(?:\w+\W+){0,2}?"
    r"execut\w*|\b-x\b", re.IGNORECASE)
_EXECUTABLE = re.compile(r"\bexecut\w*|\brunnable\b|\+x\b", re.IGNORECASE)
_PRIVATE = re.compile(r"\bprivate\b|\bonly (?:i|me|my user|the owner)\b|\b(?:nobody|no one|no-one) else\b",
                      re.IGNORECASE)
_WHOSE = re.compile(r"\b(?:owner|user|group|others?|everyone|everybody|anyone|anybody|world)\b", re.IGNORECASE)
NO_EXECUTE = "a-x"
"""Every execute bit taken away, every other bit kept: what "not executable" asks, whatever the mode was."""
SOME_LOSE_EXECUTE_PATTERN = r"^[ugoa]+-x$"
OWNER_ONLY_PATTERN = r"^([0-7]?[0-7]00|go-rwx|og-rwx)$"
OWNER_EXECUTES_PATTERN = r"^([0-7]?[1357][0-7]{2}|[ugoa]*\+x)$"


def ground_mode(parameters: dict[str, Any], request: str) -> dict[str, Any]:
    """The parameters with `mode` limited to what the request's words allow (the same schema when they say
    nothing of it, or the tool has no mode)."""
    if MODE_ARGUMENT not in parameters.get("properties", {}):
        return parameters
    spelled = list(dict.fromkeys(match.group(1) for match in _SPELLED_MODE.finditer(request)))
    if spelled:
        constraint: dict[str, Any] = {"type": "string", "enum": spelled}
    elif _NOT_EXECUTABLE.search(request):
        constraint = ({"type": "string", "pattern": SOME_LOSE_EXECUTE_PATTERN} if _WHOSE.search(request)
                      else {"type": "string", "enum": [NO_EXECUTE]})
    elif _PRIVATE.search(request):
        constraint = {"type": "string", "pattern": OWNER_ONLY_PATTERN}
    elif _EXECUTABLE.search(request):
        constraint = {"type": "string", "pattern": OWNER_EXECUTES_PATTERN}
    else:
        return parameters
    schema = copy.deepcopy(parameters)
    schema["properties"][MODE_ARGUMENT] = constraint
    return schema
