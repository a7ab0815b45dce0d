"""Answers about files rendered from the read tools' results (`files.list`, `files.find`, `files.stat`,
`files.read`, `files.search`, `files.disk_usage`, `files.hash`): counts and totals as the tool computed them, never
the number of rows that happened to fit the model's budget, and names up to a limit with how many more there are."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from llmos.answers._result import named_list, plural, reads_result, records, size_text

FOLDER_NAMES_SHOWN = 10
"""A folder's answer names this many entries, then says how many more there are."""
NAMES_SHOWN = 10
"""Any other list in an answer (found files, files with matches) names this many, then says how many more."""
BIGGEST_SHOWN = 5

KNOWN_FILE_TYPES = frozenset(
    "pdf jpg jpeg png gif webp heic svg mp3 mp4 mkv avi mov wav flac ogg doc docx odt xls xlsx ods csv ppt pptx txt "
    "md log json yaml yml toml xml html zip tar gz tgz bz2 xz 7z rar iso deb rpm dmg exe py js ts sh epub".split()
)
"""Extensions a request may name as a kind of file ("the pdf files", "my mp3s")."""


def folder_answer(result: dict[str, Any]) -> str:
    """How many entries of each kind, their total size, and the first names (folders marked with a slash)."""
    path = result["path"]
    # A result without its counts is not guessed at as empty (a missing key answers None).
    counts = [(int(result[kind]), word) for kind, word in (("files", "file"), ("folders", "folder"),
                                                           ("links", "link"))]
    entry_count = sum(count for count, _ in counts)
    hidden = int(result.get("hidden_not_shown") or 0)
    hidden_note = f" ({hidden} hidden {'entry' if hidden == 1 else 'entries'} not shown)" if hidden else ""
    if entry_count == 0:
        return f"{path} is empty{hidden_note}."
    entries = records(result["entries"])
    names = [f"{entry['name']}/" if entry.get("type") == "folder" else str(entry["name"])
             for entry in entries[:FOLDER_NAMES_SHOWN]]
    described = [plural(count, word) for count, word in counts if count]
    summary = described[0] if len(described) == 1 else ", ".join(described[:-1]) + " and " + described[-1]
    answer = f"{path} has {summary}"
    if counts[0][0] and result.get("total_size") is not None:
        answer += f" ({size_text(result['total_size'])} in files)"
    answer += f"{hidden_note}: {', '.join(names)}"
    more = entry_count - len(names)
    if more > 0:
        answer += f" and {more} more"
    return answer + "."


render_folder = reads_result(folder_answer)


def requested_file_type(request: str) -> str | None:
    """The extension a request names as a kind of file ("list the PDFs in Downloads" -> "pdf"), or None."""
    for word in re.findall(r"(?<![\w/])\.?([A-Za-z0-9]{1,5}?)s?(?![\w/])", request):
        if word.casefold() in KNOWN_FILE_TYPES:
            return word.casefold()
    return None


def type_label(extension: str) -> str:
    return f"{extension.upper()} file"


def _extension(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return suffix[1:].casefold() if suffix and suffix != name else "none"


def answer_folder(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """files.list; when the request names a kind of file ("the pdf files in Downloads"), that kind's count (the
    tool's own per-type count) and names, instead of every entry."""
    wanted = requested_file_type(request)
    by_type = result.get("files_by_type") or {}
    if wanted is None or not isinstance(by_type, dict):
        return folder_answer(result)
    count = int(by_type.get(wanted) or 0)
    hidden = int(result.get("hidden_not_shown") or 0)
    hidden_note = f" ({plural(hidden, 'hidden entry', 'hidden entries')} not looked at)" if hidden else ""
    if count == 0:
        return f"{result['path']} has no {type_label(wanted)}s{hidden_note}."
    entries = records(result["entries"]) if result.get("entries") else []
    names = [str(entry["name"]) for entry in entries
             if entry.get("type") == "file" and _extension(str(entry["name"])) == wanted]
    return (f"{result['path']} has {plural(count, type_label(wanted))}{hidden_note}: "
            f"{named_list(names, count, NAMES_SHOWN)}.")


def _under(path: str, root: str) -> str:
    """`path` relative to the folder `root` when it lies under it (shorter, and still exact), else as it is."""
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) and len(path) > len(prefix) else path


def _find_noun(args: dict[str, Any]) -> tuple[str, str]:
    """What the matches are called, singular and plural: "PDF file(s)" for `*.pdf`, else by the type asked."""
    name = str(args.get("name") or "*")
    kind = args.get("type") or "any"
    glob_type = re.fullmatch(r"\*\.([A-Za-z0-9]{1,5})", name)
    if glob_type and kind != "folder":
        return type_label(glob_type.group(1).casefold()), f"{type_label(glob_type.group(1).casefold())}s"
    if kind == "folder":
        return "folder", "folders"
    if kind == "file":
        return "file", "files"
    return "match", "matches"


def _find_criteria(args: dict[str, Any]) -> str:
    """The filters the call used, so "3 files" is not read as every file."""
    name = str(args.get("name") or "*")
    words: list[str] = []
    if name != "*" and not re.fullmatch(r"\*\.[A-Za-z0-9]{1,5}", name):
        words.append(f"named {name}" if any(char in name for char in "*?[") else f"with {name} in the name")
    if args.get("min_size"):
        words.append(f"of at least {args['min_size']}")
    if args.get("max_size"):
        words.append(f"of at most {args['max_size']}")
    for key, within, outside in (("newer_than", "modified within", "modified since"),
                                 ("older_than", "not modified within", "modified before")):
        if args.get(key):
            value = str(args[key])
            is_date = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
            words.append(f"{outside if is_date else within} {value}")
    return "".join(f" {word}" for word in words)


def answer_find(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """files.find: how many matched (the tool's count of every match), their total size, and the first paths."""
    root = str(result["path"])
    count = int(result["matches"])
    singular, plural_noun = _find_noun(args)
    described = f"{plural_noun if count != 1 else singular}{_find_criteria(args)}"
    skipped = int(result.get("skipped") or 0)
    skipped_note = f" ({plural(skipped, 'item')} could not be read)" if skipped else ""
    if count == 0:
        return f"No {plural_noun}{_find_criteria(args)} were found in {root}{skipped_note}."
    answer = f"{count} {described} in {root}"
    if result.get("total_size") is not None and singular != "folder":
        answer += f" ({size_text(result['total_size'])} in all)"
    paths = [_under(str(row["path"]), root) for row in records(result["results"])] if result.get("results") else []
    return answer + f"{skipped_note}: {named_list(paths, count, NAMES_SHOWN)}."


def answer_stat(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """files.stat: what the path is, its size, when it changed, its permissions and owner."""
    path, kind = result["path"], result["type"]
    if kind == "link":
        target_note = "" if result.get("target_exists", True) else " (which does not exist)"
        return f"{path} is a link to {result['target']}{target_note}."
    if kind == "folder":
        entries = result.get("entries")
        what = f"a folder with {plural(int(entries), 'entry', 'entries')}" if entries is not None else "a folder"
    else:
        what = f"a {kind} of {size_text(result['size'])}"
    return (f"{path} is {what}, modified {result['modified']}; permissions {result['permissions']}, "
            f"owner {result['owner']}.")


def answer_read(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """files.read: the line count and size, and whether all of it was read; the content itself is the model's
    to quote (an answer never pastes a file)."""
    path, size = result["path"], size_text(result["size"])
    if result.get("binary"):
        return f"{path} is a binary file ({result.get('type') or 'unknown type'}, {size}); its content was not read."
    lines = result.get("lines")
    described = f"{path} has {plural(int(lines), 'line')} ({size})" if lines is not None else f"{path} is {size}"
    if result.get("truncated"):
        return f"{described}; the first {size_text(int(result['shown_bytes']))} of it were read."
    return f"{described} and was read in full."


LINES_QUOTED = 5
"""Matching lines of one file quoted whole in a search's answer, at most."""


def answer_search(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """files.search: how many matching lines in how many files (the tool's counts), then the files, each with
    its count when every match is listed."""
    text, root = result["text"], str(result["path"])
    matches, files = int(result["matches"]), int(result["files_with_matches"])
    scanned = int(result.get("files_scanned") or 0)
    if matches == 0:
        return f'"{text}" was not found in {root} ({plural(scanned, "file")} searched).'
    rows = records(result["results"]) if result.get("results") else []
    per_file: dict[str, list[int]] = {}
    for row in rows:
        per_file.setdefault(_under(str(row["path"]), root), []).append(int(row["line"]))
    answer = f'"{text}" is on {plural(matches, "line")} in {plural(files, "file")} under {root}'
    every_match_listed = len(rows) == matches
    if files == 1 and len(per_file) == 1 and every_match_listed:
        (_name, lines), = per_file.items()
        # The file by its whole path, whether the search was of it or of a folder holding it.
        where = str(rows[0]["path"])
        if matches <= LINES_QUOTED:
            # A few lines are quoted: "any errors in app.log?" is answered by what the error lines say.
            quoted = "\n".join(f"line {row['line']}: {row['text']}" for row in rows)
            return f'"{text}" is on {plural(matches, "line")} of {where}:\n{quoted}'
        return f'"{text}" is on {plural(matches, "line")} of {where} (line {", ".join(map(str, lines))}).'
    if every_match_listed:
        listed = [f"{name} ({len(lines)})" for name, lines in per_file.items()]
    else:
        listed = list(per_file)
    return f"{answer}: {named_list(listed, files, NAMES_SHOWN)}."


def answer_disk_usage(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """files.disk_usage: the total, what it holds, and the biggest items with their share."""
    path, size = result["path"], size_text(result["size"])
    if "items" not in result:
        return f"{path} is a {result.get('type') or 'file'} of {size}."
    answer = (f"{path} takes {size} ({plural(int(result['files']), 'file')} in "
              f"{plural(int(result['folders']), 'folder')})")
    if result.get("incomplete") or result.get("errors"):
        answer += "; some items could not be read"
    biggest = records(result["biggest"]) if result.get("biggest") else []
    if biggest:
        shown = [f"{item['name']}{'/' if item.get('type') == 'folder' else ''} ({size_text(item['size'])}, "
                 f"{item['percent']:g}%)" for item in biggest[:BIGGEST_SHOWN]]
        answer += f". The biggest: {', '.join(shown)}"
    return answer + "."


def answer_hash(result: dict[str, Any], args: dict[str, Any], request: str) -> str:
    """files.hash: the checksum, named by its algorithm."""
    return f"The {result['algorithm']} checksum of {result['path']} is {result['hash']}."
