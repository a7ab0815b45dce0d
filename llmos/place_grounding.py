"""A look at the one folder the request names: "which file in Documents did I change most recently?" looks in
~/Documents, not in the home folder.

Asked that, the 1.5B model found in "." (the home folder), sorted by date, and named the newest file of the whole
home folder; on another run, the biggest. When a request names exactly one of the home folder's own folders as the
place to look ("in Documents", "on my desktop", "my Downloads folder") and spells out no path, a look's `path`
(`files.find`, `files.list`, `files.search`, `files.disk_usage`) is limited by the grammar to that folder and its
subfolders. A folder named as a destination ("move it to the desktop") is no place to look, and "which of my
documents" names files, not the folder. Where the model already looked there, the grammar leaves its choice as it
was; only a look elsewhere is steered.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from llmos.repair import PathRepair

LOOK_TOOLS = frozenset({"files.find", "files.list", "files.search", "files.disk_usage"})
PATH_ARGUMENT = "path"
MAX_PLACES = 64
"""Choices the grammar may hold: the folder and its subfolders, or only the folder when it has more."""
HOME_FOLDERS = ("Documents", "Downloads", "Desktop", "Pictures", "Music", "Videos")
"""The home folder's own folders that people name as places ("in Downloads")."""
_FOLDER = "(" + "|".join(HOME_FOLDERS) + ")"
_NAMED_PLACE = re.compile(
    r"\b(?:in|from|under|inside|within|on|off)\s+(?:the\s+|my\s+|your\s+)?" + _FOLDER + r"\b(?!/)|"
    r"\b" + _FOLDER + r"\s+(?:folder|directory|dir)\b",
    re.IGNORECASE)
_SPELLED_PATH = re.compile(r"(?:^|\s)['\"]?(?:~|\.{1,2})?/\S")


def place_names(request: str) -> set[str]:
    """The home folder's own folders `request` names as places ("in Documents", "off my desktop"), casefolded,
    whether or not it also spells out paths."""
    return {(match.group(1) or match.group(2)).casefold() for match in _NAMED_PLACE.finditer(request)}


def named_place(request: str, home: Path | None = None) -> Path | None:
    """The one existing folder of the home folder `request` names as the place to look, or None (none, several,
    a path spelled out, or no such folder)."""
    if _SPELLED_PATH.search(request):
        return None
    names = place_names(request)
    if len(names) != 1:
        return None
    home = home or Path.home()
    (name,) = names
    try:
        folders = [entry for entry in home.iterdir() if entry.name.casefold() == name and entry.is_dir()]
    except OSError:
        return None
    return folders[0] if len(folders) == 1 else None


def place_choices(folder: Path, home: Path | None = None) -> tuple[str, ...]:
    """`folder` and its visible subfolders as `~/...` paths, or `folder` alone when there are more than
    `MAX_PLACES`."""
    home = home or Path.home()
    shown = "~/" + folder.relative_to(home).as_posix()
    try:
        subfolders = sorted(entry.name for entry in folder.iterdir()
                            if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("."))
    except OSError:
        subfolders = []
    if len(subfolders) + 1 > MAX_PLACES:
        return (shown,)
    return (shown, *(f"{shown}/{name}" for name in subfolders))


def ground_place(tool: str, parameters: dict[str, Any], choices: tuple[str, ...]) -> dict[str, Any]:
    """A look's parameters with `path` limited to, and required as, one of `choices`; others unchanged."""
    if tool not in LOOK_TOOLS or not choices or PATH_ARGUMENT not in parameters.get("properties", {}):
        return parameters
    return PathRepair(tool, PATH_ARGUMENT, choices).constrain(parameters)
