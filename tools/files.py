"""Read-only file tools: list, find, read, stat, search and measure files and folders.

Every path argument goes through `expand_path` and every path returned through `display_path`, so the model
reads and writes `~/Downloads/a.pdf`, never a temp or home prefix. Results lead with counts so the common
question ("how many PDFs?") is answered by one field.
"""

from __future__ import annotations

import heapq
import os
import re
import stat
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

import pydantic
from llmos.policies.impact import Impact, PathEffect
from llmos.policies.journal.safe_open import PathEscapeError, SpecialFileError, open_beneath
from llmos.tools._format import (
    AGE_PATTERN,
    SIZE_PATTERN,
    clamp,
    human_size,
    iso_time,
    parse_age,
    parse_size,
    time_ago,
    trim_text,
)
from llmos.tools._sniff import SNIFF_BYTES, decode_text, guess_type, looks_binary
from llmos.tools._walk import (
    GLOB_CHARS,
    UsageTally,
    WalkTally,
    entry_kind,
    mode_kind,
    mtime_or_zero,
    name_matcher,
    targets_hidden,
    tree_size,
    walk,
)
from llmos.tools.paths import display_path, expand_path, home_dir
from llmos.tools.registry import ToolError, tool
from llmos.tools.secret_files import refuse_secret, secret_note, secret_rule

from llmos.effects import Effect
from llmos.words import singular

try:  # Unix only; elsewhere owner and group are reported as ids.
    import grp
    import pwd
except ImportError:  # pragma: no cover
    grp = pwd = None  # type: ignore[assignment]  # not on this system: each use checks for None

SEARCH_MAX_FILE_BYTES = 5 * 1024 * 1024
SEARCH_LINE_CHARS = 200
LINE_COUNT_MAX_BYTES = 64 * 1024 * 1024
"""files.read counts the lines of a file up to this size; a bigger one's result has no line count."""


SortOrder = Literal["name", "size", "newest", "oldest"]
Size = Annotated[str, pydantic.Field(pattern=SIZE_PATTERN)]
"""A size like 10MB, 500KB or 1.5GB; the schema pattern keeps anything else out of the grammar."""
Age = Annotated[str, pydantic.Field(pattern=AGE_PATTERN)]
"""An age like 30m, 2h, 7d or 1w, or a date like 2024-03-01."""


def preview_read_path(path: str = ".", **_: Any) -> Impact:
    """Read tools name the path they look at, so policy can refuse secrets (~/.ssh keys, keyrings) before any
    byte is read; listing and searching skip hidden folders on their own."""
    return Impact(paths=(PathEffect(expand_path(path), "read"),))


@tool("files.list", Effect.READ, preview=preview_read_path)
def list_folder(path: str = ".", hidden: bool = False, sort: SortOrder = "name") -> dict[str, Any]:
    """List a folder's files and subfolders with sizes and dates.

    Args:
        path: folder to list.
        hidden: include names starting with a dot.
        sort: name (folders first), size (biggest first), newest or oldest (by modification time).
    """
    folder = _existing_folder(path)
    entries: list[dict[str, Any]] = []
    hidden_not_shown = 0
    for entry in _scan(folder):
        if entry.name.startswith(".") and not hidden:
            hidden_not_shown += 1
            continue
        entries.append(_describe_entry(entry, name_only=True))
    entries.sort(key=lambda item: (item["type"] != "folder", item["name"].casefold(), item["name"]))
    if sort == "size":
        entries.sort(key=lambda item: -item.get("size", -1))
    elif sort in ("newest", "oldest"):
        # The exact mtime, not the ISO string: two changes within one second still come out in order.
        entries.sort(key=lambda item: mtime_or_zero(folder / item["name"]), reverse=sort == "newest")
    counts = {kind: sum(1 for item in entries if item["type"] == kind) for kind in ("file", "folder", "link")}
    total_bytes = sum(item.get("size", 0) for item in entries if item["type"] == "file")
    result: dict[str, Any] = {
        "path": display_path(folder),
        "files": counts["file"],
        "folders": counts["folder"],
        "links": counts["link"],
        "count": len(entries),  # "how many things are in X?" without adding up the kinds
        "total_size": total_bytes,
        "total_size_human": human_size(total_bytes),
    }
    if counts["file"]:
        # Counted here because small models miscount rows ("9 PDF files" for 3 among 9 entries).
        result["files_by_type"] = _count_by_extension(item["name"] for item in entries if item["type"] == "file")
    if hidden_not_shown:
        result["hidden_not_shown"] = hidden_not_shown
    result["entries"] = entries
    return result


def _count_by_extension(names: Iterable[str]) -> dict[str, int]:
    """How many of `names` end in each extension (lower case, without the dot; "none" for no extension), most
    common first."""
    counted = Counter(
        suffix[1:].casefold() if (suffix := Path(name).suffix) and name != suffix else "none" for name in names
    )
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


@tool("files.find", Effect.READ, preview=preview_read_path)
def find_files(
    path: str = ".",
    name: str | None = None,
    type: Literal["file", "folder", "any"] = "any",
    min_size: Size | None = None,
    max_size: Size | None = None,
    newer_than: Age | None = None,
    older_than: Age | None = None,
    sort: SortOrder = "name",
    limit: int = 50,
) -> dict[str, Any]:
    """Find files or folders by name, size or age.

    Args:
        path: folder to search in, recursively.
        name: glob like *.pdf, case-insensitive; plain text matches part of the name.
        type: file, folder or any.
        min_size: like 10MB, 500KB, 1.5GB.
        max_size: like 10MB, 500KB, 1.5GB.
        newer_than: modified within, like 30m, 2h, 7d, 1w, or since a date, like 2024-03-01.
        older_than: modified before, like 30m, 2h, 7d, 1w, or before a date, like 2024-03-01.
        sort: name (walk order), size (biggest first), newest or oldest (by modification time).
        limit: most matches to show.
    """
    root = _existing_folder(path)
    min_bytes = parse_size(min_size) if min_size is not None else None
    max_bytes = parse_size(max_size) if max_size is not None else None
    now = time.time()
    newest_allowed = now - parse_age(older_than, now) if older_than is not None else None
    oldest_allowed = now - parse_age(newer_than, now) if newer_than is not None else None
    name = name or "*"
    name_matches = name_matcher(name)
    shown_limit = clamp(limit, 1, 1000)

    tally = WalkTally()
    total = total_bytes = 0
    shown: list[dict[str, Any]] = []
    # For size/newest the best `shown_limit` matches are kept in a bounded heap, so a huge tree costs no memory.
    ranked: list[tuple[float, int, os.DirEntry[str], os.stat_result]] = []
    in_named_folders: list[str] = []
    extremes = _Extremes()
    folder_named_so: dict[str, bool] = {}
    """Per folder walked: whether a folder on its way from `root` matches `name` (asked once per folder)."""
    for entry in walk(root, targets_hidden(name), tally, secret_rule()):
        kind = entry_kind(entry)
        if (type == "file" and kind == "folder") or (type == "folder" and kind != "folder"):
            continue
        if not name_matches(entry.name):
            if name != "*" and kind != "folder" and len(in_named_folders) < FOLDER_MATCHES_SHOWN:
                parent = os.path.dirname(entry.path)
                if parent not in folder_named_so:
                    folders = Path(os.path.relpath(parent, root)).parts
                    folder_named_so[parent] = any(name_matches(part) for part in folders)
                if folder_named_so[parent]:
                    in_named_folders.append(display_path(Path(entry.path)))
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            tally.skipped += 1
            continue
        if (min_bytes is not None or max_bytes is not None) and kind == "folder":
            continue  # a folder's own size means nothing to a size filter
        if (min_bytes is not None and info.st_size < min_bytes) or (max_bytes is not None and info.st_size > max_bytes):
            continue
        if oldest_allowed is not None and info.st_mtime < oldest_allowed:
            continue
        if newest_allowed is not None and info.st_mtime >= newest_allowed:
            continue
        total += 1
        if kind != "folder":
            total_bytes += info.st_size
            extremes.add(entry, info)
        if sort == "name":
            if len(shown) < shown_limit:
                shown.append(_describe_entry(entry, info=info))
            continue
        # The heap keeps the highest ranks: the oldest file has the highest negated mtime.
        rank = info.st_size if sort == "size" else info.st_mtime if sort == "newest" else -info.st_mtime
        if kind == "folder" and sort == "size":
            continue  # a folder's own size is not its content's; files.disk_usage measures folders
        candidate = (rank, -total, entry, info)
        if len(ranked) < shown_limit:
            heapq.heappush(ranked, candidate)
        elif candidate[:2] > ranked[0][:2]:
            heapq.heapreplace(ranked, candidate)
    if sort != "name":
        best_first = sorted(ranked, key=lambda item: item[:2], reverse=True)
        shown = [_describe_entry(entry, info=info) for _, _, entry, info in best_first]
    # The size of every match, not only those shown: "how much space do my PDFs take?" is one field.
    result: dict[str, Any] = {
        "path": display_path(root), "matches": total, "total_size": total_bytes,
        "total_size_human": human_size(total_bytes), "shown": len(shown), "results": shown,
    }
    # Whatever the sort and limit: "the oldest download" is one field, even when the model sorted by name.
    result.update(extremes.facts())
    if not total and in_named_folders:
        # "find my letter to the landlord" (*letter*) matched no file name, but ~/Documents/letters/landlord.txt
        # is what the person meant: the files in folders whose name matches, so the next step can use them.
        result["in_folders_named_so"] = in_named_folders
    elif not total and type != "folder" and not (min_size or max_size or newer_than or older_than):
        mentioning = _files_mentioning(root, name)
        if mentioning:
            # "when is my flight to Lisbon?" looked for *flight* and nothing is named so, but the trip notes
            # say "Flight TP1351 on June 4": the files whose text holds the name's word, for the next step.
            result["files_mentioning_it"] = mentioning
    return _with_walk_tally(result, tally)


MENTION_SCAN_BYTES = 32 * 1024 * 1024
"""Most bytes of text `_files_mentioning` reads before it stops (a home folder of many files stays fast)."""
MENTIONING_SHOWN = 5
_GLOB_WORD = re.compile(r"^\*?([^\W_][\w -]{2,}?)\*?$")
"""A name pattern that is one word or phrase between optional stars ("*flight*", "TODO*"), not a file type
("*.pdf") or a pattern with other glob characters."""


def mentioned_word(name: str) -> str | None:
    """The word or phrase of a name pattern that is one ("TODO" of "TODO*"), which `files_mentioning_it` looked
    for in the files' text; None for a file type or another glob."""
    match = _GLOB_WORD.match(name)
    return match.group(1).strip() if match else None


def _files_mentioning(root: Path, name: str) -> list[str]:
    """Up to `MENTIONING_SHOWN` files below `root` (not hidden, not secret) with a line holding the word of
    `name` (any case), for a name pattern that is one word; [] otherwise."""
    word = mentioned_word(name)
    if word is None:
        return []
    needle = word.casefold()
    found: list[str] = []
    scanned_bytes = 0
    is_secret = secret_rule()
    own_tally = WalkTally()  # what this second look skipped is not the find's to report
    for entry in walk(root, False, own_tally, is_secret):
        if entry_kind(entry) != "file" or is_secret(Path(entry.path)):
            continue
        lines = _text_lines(entry.path, own_tally)
        if lines is None:
            continue
        scanned_bytes += sum(len(line) for line in lines)
        if any(needle in line.casefold() for line in lines):
            found.append(display_path(Path(entry.path)))
        if len(found) >= MENTIONING_SHOWN or scanned_bytes > MENTION_SCAN_BYTES:
            break
    return found


class _Extremes:
    """The oldest, newest and largest file among a find's matches."""

    def __init__(self) -> None:
        self.files = 0
        self.oldest: tuple[float, os.DirEntry[str], os.stat_result] | None = None
        self.newest: tuple[float, os.DirEntry[str], os.stat_result] | None = None
        self.largest: tuple[float, os.DirEntry[str], os.stat_result] | None = None

    def add(self, entry: os.DirEntry[str], info: os.stat_result) -> None:
        self.files += 1
        if self.oldest is None or info.st_mtime < self.oldest[0]:
            self.oldest = (info.st_mtime, entry, info)
        if self.newest is None or info.st_mtime > self.newest[0]:
            self.newest = (info.st_mtime, entry, info)
        if self.largest is None or info.st_size > self.largest[0]:
            self.largest = (info.st_size, entry, info)

    def facts(self) -> dict[str, Any]:
        """Empty for fewer than two files (one file is its own oldest and largest)."""
        facts: dict[str, Any] = {}
        if self.files < 2:
            return facts
        for key, extreme in (("oldest_file", self.oldest), ("newest_file", self.newest),
                             ("largest_file", self.largest)):
            if extreme is not None:
                _rank, entry, info = extreme
                facts[key] = _describe_entry(entry, info=info)
        return facts


FOLDER_MATCHES_SHOWN = 10
"""Files shown from folders whose name matches, when no file's own name does."""


@tool("files.read", Effect.READ, preview=preview_read_path)
def read_file(path: str, max_bytes: int = 20000) -> dict[str, Any]:
    """Read a text file's content.

    Args:
        path: file to read.
        max_bytes: most bytes of content to return.
    """
    target = expand_path(path)
    info = _stat_or_error(target, follow_symlinks=True)
    refuse_secret(target)
    if stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{display_path(target)} is a folder: use files.list to see what it holds")
    if not stat.S_ISREG(info.st_mode):
        raise ToolError(f"{display_path(target)} is not a regular file ({mode_kind(info.st_mode)})")
    cap = clamp(max_bytes, 1, 1_000_000)
    try:
        with os.fdopen(_open_for_reading(target), "rb") as handle:
            head = handle.read(max(cap + 1, SNIFF_BYTES))
            # The rest is only counted, never returned: "how many lines?" needs the whole file's count.
            line_count, rest_bytes = _count_lines(handle, head) if info.st_size <= LINE_COUNT_MAX_BYTES else (None, 0)
    except PathEscapeError:
        raise ToolError(f"{display_path(target)} leads outside your home folder through a link; not read") from None
    except SpecialFileError:
        raise ToolError(f"{display_path(target)} is not a regular file") from None
    except PermissionError:
        raise ToolError(f"permission denied: {display_path(target)}") from None
    size = max(info.st_size, len(head) + rest_bytes)  # files in /proc report size 0 but have content
    result: dict[str, Any] = {"path": display_path(target), "size": size, "size_human": human_size(size)}
    if looks_binary(head[:SNIFF_BYTES]):
        result.update(binary=True, type=guess_type(target, head))
        return result
    truncated = len(head) > cap
    content = decode_text(head[:cap], final=not truncated)
    result["truncated"] = truncated
    if truncated:
        result["shown_bytes"] = cap
    if line_count is not None:
        # Counted here because small models miscount ("there are no lines" for a 4-line CSV).
        result["lines"] = line_count
    result["content"] = content  # last, so a budget cut takes content and keeps the facts above
    return result


@tool("files.stat", Effect.READ, preview=preview_read_path)
def stat_path(path: str) -> dict[str, Any]:
    """Show details of one file or folder: size, permissions, owner, dates.

    Args:
        path: file or folder.
    """
    target = expand_path(path)
    info = _stat_or_error(target, follow_symlinks=False)
    kind = mode_kind(info.st_mode)
    birth_time = getattr(info, "st_birthtime", None)
    result: dict[str, Any] = {
        "path": display_path(target),
        "type": kind,
        "size": info.st_size,
        "size_human": human_size(info.st_size),
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "permissions": stat.filemode(info.st_mode),
        "owner": _owner_name(info.st_uid),
        "group": _group_name(info.st_gid),
        "modified": iso_time(info.st_mtime),
        "accessed": iso_time(info.st_atime),
        "created": iso_time(birth_time) if birth_time else None,
    }
    if kind == "link":
        # Joined and normalised by hand: a link's text is literal, never `~` or `$VAR` expanded.
        result["target"] = display_path(Path(os.path.normpath(target.parent / os.readlink(target))))
        result["target_exists"] = target.exists()
    if kind == "folder":
        try:
            with os.scandir(target) as entries:
                result["entries"] = sum(1 for _ in entries)
        except OSError:
            result["entries"] = None
    return result


@tool("files.search", Effect.READ, preview=preview_read_path)
def search_text(
    text: str, path: str = ".", name: str = "*", ignore_case: bool = True, limit: int = 50
) -> dict[str, Any]:
    """Search inside text files for lines containing some text.

    Args:
        text: plain text to look for (not a regex).
        path: folder (searched recursively) or one file.
        name: only files whose name matches this glob, like *.py.
        ignore_case: match regardless of case.
        limit: most matching lines to show.
    """
    if not text:
        raise ToolError("text to search for is empty")
    root = expand_path(path)
    _stat_or_error(root, follow_symlinks=True)
    refuse_secret(root)
    is_secret = secret_rule()
    needle = text.casefold() if ignore_case else text
    shown_limit = clamp(limit, 1, 1000)
    tally = WalkTally()
    if root.is_dir():
        name_matches = name_matcher(name)
        include_hidden = targets_hidden(name)
        candidates: Iterator[str] = (
            entry.path
            for entry in walk(root, include_hidden, tally, is_secret)
            if entry_kind(entry) == "file" and name_matches(entry.name)
        )
    else:
        candidates = iter([str(root)])
    total = files_scanned = files_matched = 0
    shown: list[dict[str, Any]] = []
    text_words = _name_words(text)
    named_so: list[str] = []
    for file_path in candidates:
        if is_secret(Path(file_path)):
            tally.secret += 1
            continue
        if text_words and len(named_so) < NAMED_FILES_SHOWN and text_words <= _name_words(Path(file_path).name):
            named_so.append(display_path(Path(file_path)))
        lines = _text_lines(file_path, tally)
        if lines is None:
            continue
        files_scanned += 1
        matched_here = False
        for line_number, line in enumerate(lines, start=1):
            position = (line.casefold() if ignore_case else line).find(needle)
            if position < 0:
                continue
            total += 1
            matched_here = True
            if len(shown) < shown_limit:
                shown.append(
                    {"path": display_path(Path(file_path)), "line": line_number, "text": _line_excerpt(line, position)}
                )
        files_matched += matched_here
    result: dict[str, Any] = {
        "text": text,
        "path": display_path(root),
        "matches": total,
        "files_with_matches": files_matched,
        "files_scanned": files_scanned,
        "shown": len(shown),
        "results": shown,
    }
    if not total and named_so:
        # "the Q2 report" searched as text inside the files matched no line, but q2-report.txt is the file meant.
        result["files_named_so"] = named_so
    return _with_walk_tally(result, tally)


NAMED_FILES_SHOWN = 10
"""Files shown whose name holds every word of a search's text, when no line matched it."""


def _name_words(text: str) -> frozenset[str]:
    """The words of a name or a phrase, lowercased, a plural's s dropped (`Q2 reports` and q2-report.txt share
    {q2, report})."""
    words = (word.casefold() for word in re.findall(r"[^\W_]+", text))
    return frozenset(singular(word) for word in words)


@tool("files.disk_usage", Effect.READ, preview=preview_read_path)
def disk_usage(path: str = ".", top: int = 10) -> dict[str, Any]:
    """Measure a folder's total size and its biggest items.

    Args:
        path: folder to measure, or a glob of the items in one folder to measure (~/Downloads/*.tmp).
        top: how many of the biggest items to show.
    """
    root = expand_path(path)
    # "which .tmp file in Downloads is the biggest?": the model measured ~/Downloads/*.tmp, which failed as a
    # path that does not exist; a glob measures the folder's items that match it.
    pattern = root.name if GLOB_CHARS & set(root.name) and not os.path.lexists(root) else None
    if pattern is not None:
        root = root.parent
    matches_pattern = name_matcher(pattern) if pattern is not None else None
    root_info = _stat_or_error(root, follow_symlinks=False)
    if pattern is not None and not stat.S_ISDIR(root_info.st_mode):
        raise ToolError(f"not a folder: {display_path(root)}")
    if not stat.S_ISDIR(root_info.st_mode):
        return {
            "path": display_path(root),
            "type": mode_kind(root_info.st_mode),
            "size": root_info.st_size,
            "size_human": human_size(root_info.st_size),
            "biggest": [],
        }
    tally = UsageTally(device=root_info.st_dev)
    children: list[dict[str, Any]] = []
    for entry in _scan(root):
        if matches_pattern is not None and not matches_pattern(entry.name):
            continue
        kind = entry_kind(entry)
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            tally.errors += 1
            continue
        if kind == "folder":
            tally.folders += 1
            size = tree_size(entry.path, tally) if info.st_dev == tally.device else 0
        else:
            tally.files += kind == "file"
            size = tally.count_file(entry.path, info)
        children.append({"name": entry.name, "type": kind, "size": size})
    total = sum(child["size"] for child in children)
    children.sort(key=lambda child: (-child["size"], child["name"]))
    biggest = [
        {
            **child,
            "size_human": human_size(child["size"]),
            "percent": round(100 * child["size"] / total, 1) if total else 0.0,
        }
        for child in children[: clamp(top, 1, 100)]
    ]
    result: dict[str, Any] = {
        "path": display_path(root / pattern) if pattern is not None else display_path(root),
        "size": total,
        "size_human": human_size(total),
        "files": tally.files,
        "folders": tally.folders,
        "items": len(children),
        "errors": tally.errors,
    }
    if tally.incomplete:
        result["incomplete"] = True
    result["biggest"] = biggest
    # The biggest items are folders as often as files: "the biggest file in my home" is one of these.
    is_secret = secret_rule()
    largest = [(size, path) for size, path in sorted(tally.largest, key=lambda item: (-item[0], item[1]))
               if not is_secret(Path(path))]
    if largest:
        result["largest_files"] = [{"path": display_path(Path(path)), "size": size, "size_human": human_size(size)}
                                   for size, path in largest[:LARGEST_FILES_SHOWN]]
    return result


LARGEST_FILES_SHOWN = 3


# --- helpers -----------------------------------------------------------------------------------------------


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of one folder, sorted by name; a permission problem becomes a readable error."""
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except PermissionError:
        raise ToolError(f"permission denied: {display_path(folder)}") from None


def _with_walk_tally(result: dict[str, Any], tally: WalkTally) -> dict[str, Any]:
    """Add what a walk missed, before the (possibly long) result list so a budget cut keeps it."""
    listed = {key: result.pop(key) for key in ("shown", "results")}
    result["skipped"] = tally.skipped
    if tally.secret:
        result["skipped_secret"] = tally.secret
        result["note"] = secret_note(tally.secret)
    if tally.incomplete:
        result["incomplete"] = True
    result.update(listed)
    return result


def _existing_folder(path: str) -> Path:
    folder = expand_path(path)
    info = _stat_or_error(folder, follow_symlinks=True)
    if not stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{display_path(folder)} is not a folder",
                        hint="it is a file: files.read shows its content, files.stat its details",
                        a_file=display_path(folder))
    return folder


def _stat_or_error(target: Path, follow_symlinks: bool) -> os.stat_result:
    try:
        return os.stat(target, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        raise ToolError(f"no such file or folder: {display_path(target)}", missing=target) from None
    except PermissionError:
        raise ToolError(f"permission denied: {display_path(target)}") from None
    except NotADirectoryError:
        raise ToolError(f"no such file or folder: {display_path(target)} (a parent is a file)") from None


def _describe_entry(
    entry: os.DirEntry[str], name_only: bool = False, info: os.stat_result | None = None
) -> dict[str, Any]:
    """`{name|path, type, size, size_human, modified, modified_human}`; folders carry no size (their own size means
    nothing)."""
    kind = entry_kind(entry)
    described: dict[str, Any] = {"name": entry.name} if name_only else {"path": display_path(Path(entry.path))}
    described["type"] = kind
    try:
        info = info or entry.stat(follow_symlinks=False)
    except OSError:
        return described
    if kind != "folder":
        described.update(size=info.st_size, size_human=human_size(info.st_size))
    # The ISO time is for people and --json; the model reads the short age (see render.compact_for_model).
    described.update(modified=iso_time(info.st_mtime), modified_human=time_ago(info.st_mtime))
    return described


def _open_for_reading(target: Path) -> int:
    """A file under $HOME is opened beneath it (openat2 RESOLVE_BENEATH, or an O_NOFOLLOW walk): a link that
    leads out of home, or a folder swapped for one after policy looked, cannot redirect the read. Policy has
    already judged the resolved path; this makes the open itself hold to it."""
    home = home_dir()
    try:
        relative = target.relative_to(home)
    except ValueError:
        return os.open(target, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    return open_beneath(home, relative, os.O_RDONLY | os.O_CLOEXEC)


def _count_lines(handle: BinaryIO, head: bytes) -> tuple[int | None, int]:
    """The whole file's line count (a last line without a newline counts) and how many bytes followed `head`
    in `handle`; the count is None for a binary file (its lines mean nothing) or one too big to count."""
    if looks_binary(head[:SNIFF_BYTES]):
        return None, 0
    newlines, rest_bytes, last_byte = head.count(b"\n"), 0, head[-1:]
    while block := handle.read(1 << 20):
        rest_bytes += len(block)
        if len(head) + rest_bytes > LINE_COUNT_MAX_BYTES:
            return None, rest_bytes
        newlines += block.count(b"\n")
        last_byte = block[-1:]
    return (newlines if last_byte in (b"", b"\n") else newlines + 1), rest_bytes


def _text_lines(file_path: str, tally: WalkTally) -> list[str] | None:
    """A file's lines when it is a readable text file of at most 5 MB; None (and a skip if unreadable or too big)
    otherwise."""
    try:
        info = os.stat(file_path)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > SEARCH_MAX_FILE_BYTES:
            tally.skipped += 1
            return None
        with open(file_path, "rb") as handle:
            data = handle.read(SEARCH_MAX_FILE_BYTES + 1)
    except OSError:
        tally.skipped += 1
        return None
    if looks_binary(data[:SNIFF_BYTES]):
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def _line_excerpt(line: str, position: int) -> str:
    """The matching line, stripped; a long line is cut to a window around the match."""
    stripped = line.strip()
    if len(stripped) <= SEARCH_LINE_CHARS:
        return stripped
    start = max(0, position - (len(line) - len(line.lstrip())) - SEARCH_LINE_CHARS // 4)
    excerpt = trim_text(stripped[start:], SEARCH_LINE_CHARS - (1 if start else 0))
    return ("…" + excerpt) if start else excerpt


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name if pwd else str(uid)
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name if grp else str(gid)
    except KeyError:
        return str(gid)
