"""Paths in the home folder that look like one that does not exist: the `did_you_mean` of a "no such file" error.

Small models guess paths ("~/webapp" for ~/projects/webapp, "installer.exe" for old-installer.tmp) and, told only
that the path does not exist, give up. Told where similar names are, they fix the call. The search is bounded
(depth and entries), stays in $HOME, and never looks inside hidden folders unless the path asked for one, so no
name under ~/.ssh or a keyring is ever suggested.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from collections import deque
from pathlib import Path

from llmos.tools._walk import GLOB_CHARS
from llmos.tools.paths import display_path, home_dir

MAX_DEPTH = 6
MAX_ENTRIES = 20000
MIN_SCORE = 0.7
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "site-packages", "target", "dist",
                             # Never walked, even for a hidden path: no name inside them is ever suggested.
                             ".ssh", ".gnupg", ".password-store", ".pki", "keyrings", ".git"})
_WORD = re.compile(r"[a-z0-9]+")


def similar_paths(missing: Path, limit: int = 3) -> list[str]:
    """Up to `limit` existing paths under $HOME (shown with `~`) that the missing path was probably meant to be:
    the first component that does not exist is looked for by name anywhere in the home folder, and the rest of
    the path is kept (a glob stays a glob). Best match first; none when nothing is close."""
    home = home_dir()
    parts = missing.parts
    literal = "".join(char for char in missing.name if char not in GLOB_CHARS)
    if set(missing.name) & GLOB_CHARS and len(literal) >= 2:
        index = len(parts) - 1  # a glob is looked for by itself, wherever its folder was guessed to be
    else:
        existing = Path(parts[0])
        index = 1
        while index < len(parts) and (existing / parts[index]).exists():
            existing = existing / parts[index]
            index += 1
        if index >= len(parts):
            return []
    wanted, rest = parts[index], parts[index + 1:]
    want_hidden = any(part.startswith(".") for part in parts)
    scored: list[tuple[float, int, Path]] = []
    for candidate, depth in bounded_walk(home, want_hidden):
        score = _likeness(wanted, candidate.name)
        if score >= MIN_SCORE and (not rest or candidate.is_dir()):
            scored.append((score, depth, candidate))
    scored.sort(key=lambda item: (-item[0], item[1], str(item[2])))
    suggestions: list[str] = []
    for _score, _depth, candidate in scored:
        guesses = [display_path(candidate.joinpath(*rest)) if rest else display_path(candidate)]
        if set(wanted) & GLOB_CHARS and not rest:
            guesses = [display_path(candidate.parent / wanted)]  # the glob kept, in the folder that matches it
        elif rest and not set(rest[-1]) & GLOB_CHARS and not candidate.joinpath(*rest).exists():
            # "~/.webapp/app.log": the folder is ~/projects/webapp, and its app.log is in logs/ below it. What
            # exists comes first; the path as guessed stays (a file to be written need not exist).
            guesses[:0] = [display_path(found) for found in _inside(candidate, rest[-1])]
        for suggestion in guesses:
            if suggestion not in suggestions and len(suggestions) < limit:
                suggestions.append(suggestion)
        if len(suggestions) >= limit:
            break
    return suggestions


INSIDE_DEPTH = 3
INSIDE_SHOWN = 2


def _inside(folder: Path, name: str) -> list[Path]:
    """Existing entries called `name` (any case, or matching it as a glob) a few levels below `folder`."""
    found = []
    for candidate, depth in bounded_walk(folder, name.startswith(".")):
        if depth < INSIDE_DEPTH and _likeness(name, candidate.name) == 1.0:
            found.append(candidate)
            if len(found) >= INSIDE_SHOWN:
                break
    return found


def _likeness(wanted: str, name: str) -> float:
    """1.0 for the same name (any case) or a glob that matches; else the better of character similarity and the
    share of the wanted name's words found in the name ("Quarterly Reports" ~ "reports": 0.5 + ...)."""
    wanted_lower, name_lower = wanted.lower(), name.lower()
    if set(wanted) & GLOB_CHARS:
        return 1.0 if fnmatch.fnmatchcase(name_lower, wanted_lower) else 0.0
    if wanted_lower == name_lower:
        return 1.0
    wanted_stem, name_stem = os.path.splitext(wanted_lower)[0], os.path.splitext(name_lower)[0]
    if wanted_stem == name_stem:
        return 0.9
    ratio = difflib.SequenceMatcher(None, wanted_stem, name_stem).ratio()
    wanted_words = set(_WORD.findall(wanted_stem))
    name_words = set(_WORD.findall(name_stem))
    shared = len(wanted_words & name_words) / len(wanted_words) if wanted_words else 0.0
    # "installer" in "old-installer", or "reports" a word of "Quarterly Reports"; never "app" for "webapp".
    contained = 0.75 if len(wanted_stem) >= 4 and wanted_stem in name_stem or (
        len(name_stem) >= 4 and name_stem in wanted_words) else 0.0
    return max(ratio, shared * 0.8, contained)


def bounded_walk(home: Path, include_hidden: bool, max_depth: int = MAX_DEPTH) -> list[tuple[Path, int]]:
    """Entries under `home`, breadth first (near ones first), within the depth and entry bounds."""
    found: list[tuple[Path, int]] = []
    queue: deque[tuple[Path, int]] = deque([(home, 0)])
    while queue and len(found) < MAX_ENTRIES:
        folder, depth = queue.popleft()
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in listed:
            if (entry.name.startswith(".") and not include_hidden) or entry.name in SKIPPED_FOLDERS:
                continue
            path = Path(entry.path)
            found.append((path, depth))
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_folder and depth + 1 < max_depth:
                queue.append((path, depth + 1))
    return found
