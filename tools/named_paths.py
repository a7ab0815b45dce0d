"""Where the things a request names are in the home folder: "the webapp project" is ~/projects/webapp.

The 1.5B model guessed such paths from the words ("~/webapp", "~/src", "~/Documents/webapp" for
~/projects/webapp; "~/Music" for the album in it; "installer.exe" for ~/Downloads/old-installer.tmp), and a change
on a guessed path fails. Before the model plans, llmos looks up each name-like word of the request below the top
of the home folder and shows where it is, as its own note beside the request. Bounded like `near_paths` (depth,
entries), never inside hidden folders, and a word that names many things ("report" in every report) says nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmos.tools._walk import mtime_or_zero, size_or_zero
from llmos.tools.near_paths import bounded_walk
from llmos.tools.paths import display_path, expand_path, home_dir

from llmos.words import singular

MAX_DEPTH = 4
"""Entries at most this many folders deep (~/a/b/c/d); home's own entries (~/Downloads) the model names right, so
they are not shown."""
MAX_PLACES = 4
"""A word naming more than this many things is too general to say anything."""
MIN_WORD_LENGTH = 4
_WORD = re.compile(r"[a-z0-9]+")
_COMMON = frozenset(
    "about after again all also another any anything are back been before being both call called can could "
    "copy create delete does done down each edit every file files find folder folders from have here into just "
    "keep last like list make many more most move much need next only open other over please remove same show "
    "some than that them then there these they this those under want were what when where which while will "
    "with without would your home "
    # Verbs that are also file names ("archive the album" is not about archive.zip).
    "archive backup backups build cache clean clear compress extract install print purge read rename save "
    "search sort tick wipe write".split()
)
_LABEL = re.compile(r"[a-z]+[0-9]+|[0-9]+[a-z]+")
"""A short word of letters and digits names one thing however short ("the Q1 and Q2 reports", "v2")."""
_PLAIN_PATH = re.compile(r"[\w .,()+@&'~/*-]{1,120}")
"""What the note may show: a file name is anyone's to choose (a download's), and the note is llmos's own words, so
a name with other characters (quotes, brackets, colons, newlines: room for instructions) is never shown."""
EXTENSIONS = frozenset({"zip", "tar", "tgz", "pdf", "tmp", "jpg", "jpeg", "png", "gif", "csv", "mp3", "mp4", "iso",
                        "mov", "mkv", "deb", "exe", "docx", "xlsx", "odt", "ods"})
"""File types a request names by extension ("the zip file from my downloads", "the .tmp files", "pdfs")."""
_ONE_OF_THEM = re.compile(r"\b(?:newest|latest|oldest|biggest|largest|smallest|most recent|last|first)\b",
                          re.IGNORECASE)
"""A request for one of several files ("copy my newest screenshot"): its files are named one by one, never as the
glob that takes them all (given ~/Desktop/Screenshot*, the model copied both)."""
_PATH_TOKEN = re.compile(r"\S*/\S*")
"""A path the request spells out (~/projects/webapp/app.py): its words are already where they are."""


@dataclass(frozen=True)
class NamedPlace:
    """The existing paths (shown with `~`, a folder ending in `/`) a word of the request names."""

    word: str
    paths: tuple[str, ...]
    order: str | None = None
    """How the paths are ordered when the request wants one of them by a measure ("biggest first")."""


def named_places(request: str) -> list[NamedPlace]:
    """For each name-like word of `request`, the few paths below the top of the home folder whose name is that
    word or holds it as a whole word ("installer" in old-installer.tmp, "screenshots" in "Screenshot 1.png")."""
    lowered = request.lower()
    path_tokens = spelled_paths(request)
    spelled_out = {word for token in path_tokens for word in _WORD.findall(token.lower())}
    words = [word for word in dict.fromkeys(_WORD.findall(_PATH_TOKEN.sub(" ", lowered)))
             if (len(word) >= MIN_WORD_LENGTH or _extension(word) or _LABEL.fullmatch(word)) and not word.isdigit()
             and word not in _COMMON
             and word not in spelled_out]
    if not words:
        return []
    found: dict[str, list[Path]] = {word: [] for word in words}
    extensions = {word: _extension(word) for word in words}
    singulars = {word: _singular(word) for word in words}
    for path, depth in bounded_walk(home_dir(), include_hidden=False, max_depth=MAX_DEPTH):
        if depth < 1:
            continue
        # What a word is matched against, read once per entry rather than once per word.
        name = path.name.lower()
        name_words = set(_WORD.findall(name)) | {os.path.splitext(name)[0]}
        suffix = os.path.splitext(name)[1]
        for word in words:
            matches = found[word]
            extension = extensions[word]
            # A file type names files of that extension; any other word the name or one of its words.
            named = (suffix == f".{extension}" and not path.is_dir() if extension
                     else word in name_words or singulars[word] in name_words)
            # A folder found stands for what is inside it ("reports": ~/Documents/reports/, not each report).
            if named and len(matches) <= MAX_PLACES and not any(path.is_relative_to(folder) for folder in matches):
                matches.append(path)
    folders_given = [expand_path(token) for token in path_tokens if token]
    one_of_them = _ONE_OF_THEM.search(request)
    order = _ORDERS.get(one_of_them.group(0).lower()) if one_of_them else None
    places = []
    for word, paths in found.items():
        if _extension(word) and folders_given and all(
                any(path.is_relative_to(folder) for folder in folders_given) for path in paths):
            continue  # "how many pdf files are in ~/Downloads?": the folder is given, the type says the rest
        if order is not None:
            paths = sorted(paths, key=order[1])
        shown = _shown(word, paths, as_glob=one_of_them is None)
        if 1 <= len(paths) <= MAX_PLACES and all(_PLAIN_PATH.fullmatch(text) for text in shown):
            places.append(NamedPlace(word, shown, order[0] if order is not None and len(shown) > 1 else None))
    return places


_BIGGEST_FIRST = ("biggest first", lambda path: -size_or_zero(path))
_NEWEST_FIRST = ("newest first", lambda path: -mtime_or_zero(path))
_ORDERS: dict[str, tuple[str, Callable[[Path], float]]] = {
    "biggest": _BIGGEST_FIRST,
    "largest": _BIGGEST_FIRST,
    "smallest": ("smallest first", size_or_zero),
    "newest": _NEWEST_FIRST,
    "latest": _NEWEST_FIRST,
    "most recent": _NEWEST_FIRST,
    "oldest": ("oldest first", mtime_or_zero),
}
"""The request's measure -> how the note orders the files it names, and the key ("which .tmp file is the biggest?
delete that one": given the two files in name order, the model deleted the first, the smaller). "First" and "last"
are left out: "the first line of my notes" orders nothing."""


def spelled_paths(request: str) -> list[str]:
    """The paths `request` spells out, as written ("~/projects/webapp/app.py"), without the sentence's
    punctuation after them."""
    return [token.rstrip("?.,!;:'\"") for token in _PATH_TOKEN.findall(request)]


def spelled_files(request: str) -> tuple[str, ...]:
    """The paths `request` spells out that are existing regular files, as written."""
    return tuple(dict.fromkeys(token for token in spelled_paths(request) if token and _is_file(token)))


def untouched_paths(request: str, calls_args: Sequence[Mapping[str, Any]]) -> list[str]:
    """The paths `request` spells out from `~` or `/` that no call's arguments name, as written."""
    spelled = [token for token in spelled_paths(request) if token.startswith(("~/", "/")) and "://" not in token]
    return unnamed_paths(spelled, calls_args)


def unnamed_paths(paths: Sequence[str], calls_args: Sequence[Mapping[str, Any]]) -> list[str]:
    """The `paths` that no call's arguments name. A call names a path when one of its string arguments (or an
    argv item) is that path or lies inside it ("~/Downloads/*.tmp" names ~/Downloads); a call on a folder above
    it (a find in ~) does not."""
    if not paths:
        return []
    named: list[str] = []
    for args in calls_args:
        for value in args.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.strip():
                    named.append(_normal(item))
    return [token for token in paths
            if not any(path == (wanted := _normal(token)) or path.startswith(wanted.rstrip("/") + "/")
                       for path in named)]


def _normal(text: str) -> str:
    try:
        return str(expand_path(text))
    except (OSError, ValueError):
        return text


def _is_file(token: str) -> bool:
    try:
        return expand_path(token).is_file()
    except (OSError, ValueError):
        return False


def _extension(word: str) -> str | None:
    """The file type a word names ("pdfs" -> pdf), or None."""
    for candidate in (word, word[:-1] if word.endswith("s") else word):
        if candidate in EXTENSIONS:
            return candidate
    return None


def _shown(word: str, paths: list[Path], as_glob: bool = True) -> tuple[str, ...]:
    """The paths as the note shows them: a folder with `/`; two or more files of one folder as the glob that
    takes them all ("~/Desktop/Screenshot*"), which a file tool accepts as one argument (given the two
    names, the model wrote them into one path, comma-separated), unless `as_glob` is False (the request wants
    one of them)."""
    shown: list[str] = []
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        if path.is_dir():
            shown.append(display_path(path) + "/")
        else:
            by_folder.setdefault(path.parent, []).append(path)
    for folder, files in by_folder.items():
        pattern = _glob(word, [file.name for file in files]) if len(files) > 1 and as_glob else None
        if pattern:
            shown.append(display_path(folder / pattern))
        else:
            shown.extend(display_path(file) for file in files)
    return tuple(shown)


def _glob(word: str, names: list[str]) -> str | None:
    """A glob taking exactly these names' shared start up to the word ("Screenshot*"), or their shared extension
    for a file type ("*.tmp"); None when they share neither."""
    extension = _extension(word)
    if extension:
        return f"*.{extension}" if len({os.path.splitext(name)[1] for name in names}) == 1 else None
    target = _singular(word)
    starts = set()
    for name in names:
        index = name.lower().find(target)
        if index < 0:
            return None
        starts.add(name[: index + len(target)])
    return f"{starts.pop()}*" if len(starts) == 1 else None


def places_note(places: list[NamedPlace]) -> str | None:
    """llmos's note beside the request: where its names are."""
    if not places:
        return None
    lines = "; ".join(f"{place.word}{f' ({place.order})' if place.order else ''}: {', '.join(place.paths)}"
                      for place in places)
    return f"(llmos looked in the home folder for the request's names: {lines})"


def _singular(word: str) -> str:
    return singular(word, min_length=MIN_WORD_LENGTH + 1)
