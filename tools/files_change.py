"""File tools that change things. Every change goes through the journal (`FileOps`), so it can be undone; delete
moves to the journal's trash, never unlinks.

Each tool plans first: globs are expanded and every source and destination is fixed in a list of operations.
The preview shows that list; the tool re-plans when it runs and refuses if the list is no longer the one that
was approved, so what is shown is what runs.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from llmos.policies.impact import Impact, PathAction, PathEffect
from llmos.tools._format import human_size
from llmos.tools._walk import GLOB_CHARS
from llmos.tools.context import confirm_impact, current_context
from llmos.tools.paths import display_path, expand_path
from llmos.tools.registry import ToolError, tool

from llmos.effects import Effect

MAX_WRITE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class PlannedOp:
    """One concrete file operation: what the preview shows and what runs."""

    op: Literal["write", "append", "mkdir", "copy", "move", "delete", "chmod"]
    path: Path
    destination: Path | None = None
    mode: int | None = None


# -- planning --------------------------------------------------------------------------------------------------


def expand_sources(pattern: str) -> list[Path]:
    """The paths a source argument names: a glob is expanded (sorted); a plain path must exist."""
    if not pattern.strip():
        raise ToolError("a path is required")
    expanded = expand_path(pattern)
    if GLOB_CHARS & set(pattern):
        matches = sorted(Path(match) for match in glob.glob(str(expanded)))
        if not matches:
            raise ToolError(f"nothing matches {display_path(expanded)}", missing=expanded)
        return matches
    if not os.path.lexists(expanded):
        raise ToolError(f"no such file or folder: {display_path(expanded)}", missing=expanded)
    return [expanded]


def _size_of(path: Path) -> int | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _plan_transfer(op: Literal["copy", "move"], source: str, destination: str) -> list[PlannedOp]:
    """Sources -> destination. Several sources, a trailing slash, or an existing folder mean "into this folder"
    (created first when missing); one source and a new name means "as this name"."""
    sources = expand_sources(source)
    target = expand_path(destination)
    into_folder = len(sources) > 1 or destination.rstrip().endswith("/") or _is_folder(target)
    plan: list[PlannedOp] = []
    if into_folder and not os.path.lexists(target):
        plan.append(PlannedOp("mkdir", target))
    for path in sources:
        final = target / path.name if into_folder else target
        if final == path:
            raise ToolError(f"{display_path(path)} is already there")
        if os.path.lexists(final):
            raise ToolError(f"{display_path(final)} already exists; choose another name or remove it first")
        if _is_folder(path) and (final == path or path in final.parents):
            raise ToolError(f"cannot {op} {display_path(path)} into itself")
        plan.append(PlannedOp(op, path, final))
    return plan


def _impact_of(plan: list[PlannedOp]) -> Impact:
    effects: list[PathEffect] = []
    for item in plan:
        recursive = _is_folder(item.path)
        if item.op in ("write", "append"):
            action: PathAction = "modify" if item.path.exists() else "create"
            effects.append(PathEffect(item.path, action, _size_of(item.path)))
        elif item.op == "mkdir":
            effects.append(PathEffect(item.path, "create"))
        elif item.op == "copy":
            assert item.destination is not None
            effects.append(PathEffect(item.path, "read", _size_of(item.path), recursive))
            effects.append(PathEffect(item.destination, "create", _size_of(item.path), recursive))
        elif item.op == "move":
            assert item.destination is not None
            effects.append(PathEffect(item.path, "move_from", _size_of(item.path), recursive))
            effects.append(PathEffect(item.destination, "move_to", _size_of(item.path), recursive))
        elif item.op == "delete":
            effects.append(PathEffect(item.path, "delete", _size_of(item.path), recursive))
        elif item.op == "chmod":
            effects.append(PathEffect(item.path, "chmod", None, False))
    notes: list[str] = []
    total = sum(effect.size or 0 for effect in effects if effect.action in ("move_from", "delete", "read"))
    if len(plan) > 1:
        notes.append(f"{len(plan)} operations, {human_size(total)} of files")
    return Impact(paths=tuple(effects), notes=tuple(notes))


def _run(plan: list[PlannedOp], data: bytes | None = None) -> list[dict[str, Any]]:
    """Carry out an approved plan through the journal; returns what was done, with undo ids."""
    confirm_impact(_impact_of(plan))
    file_ops = current_context().journaled_file_ops()
    done: list[dict[str, Any]] = []
    for item in plan:
        if item.op == "write":
            assert data is not None
            action_id = file_ops.write(item.path, data)
        elif item.op == "append":
            assert data is not None
            action_id = file_ops.append(item.path, data)
        elif item.op == "mkdir":
            action_id = file_ops.mkdir(item.path)
        elif item.op == "copy":
            assert item.destination is not None
            action_id = file_ops.copy(item.path, item.destination)
        elif item.op == "move":
            assert item.destination is not None
            action_id = file_ops.move(item.path, item.destination)
        elif item.op == "delete":
            action_id = file_ops.delete(item.path)
        else:
            assert item.mode is not None
            action_id = file_ops.chmod(item.path, item.mode)
        entry = {"op": item.op, "path": display_path(item.path), "undo_id": action_id}
        if item.destination is not None:
            entry["to"] = display_path(item.destination)
        done.append(entry)
    return done


# -- tools -----------------------------------------------------------------------------------------------------


def _plan_write(path: str, content: str, overwrite: bool = False) -> list[PlannedOp]:
    target = expand_path(path)
    data_size = len(content.encode("utf-8"))
    if data_size > MAX_WRITE_BYTES:
        raise ToolError(f"content is {human_size(data_size)}; the limit is {human_size(MAX_WRITE_BYTES)}")
    if _is_folder(target):
        raise ToolError(f"{display_path(target)} is a folder")
    if target.exists() and not overwrite:
        raise ToolError(f"{display_path(target)} exists; pass overwrite=true to replace it")
    plan = [] if target.parent.exists() else [PlannedOp("mkdir", target.parent)]
    return plan + [PlannedOp("write", target)]


def preview_write(path: str, content: str, overwrite: bool = False) -> Impact:
    return _impact_of(_plan_write(path, content, overwrite))


@tool("files.write", Effect.WRITE, preview=preview_write)
def write_file(path: str, content: str, overwrite: bool = False) -> dict[str, Any]:
    """Create a text file, or replace one with overwrite=true.

    Args:
        path: file to write.
        content: the full text.
        overwrite: replace an existing file.
    """
    done = _run(_plan_write(path, content, overwrite), content.encode("utf-8"))
    return {"written": done[-1]["path"], "bytes": len(content.encode("utf-8")), "done": done}


def _plan_append(path: str, text: str) -> list[PlannedOp]:
    target = expand_path(path)
    if _is_folder(target):
        raise ToolError(f"{display_path(target)} is a folder")
    return [PlannedOp("append", target)]


def preview_append(path: str, text: str) -> Impact:
    return _impact_of(_plan_append(path, text))


@tool("files.append", Effect.WRITE, preview=preview_append)
def append_file(path: str, text: str) -> dict[str, Any]:
    """Add text to the end of a file (created if missing).

    Args:
        path: file to append to.
        text: text to add; a newline is added first if the file does not end with one.
    """
    target = expand_path(path)
    prefix = ""
    if target.is_file() and target.stat().st_size > 0:
        with target.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            prefix = "" if handle.read(1) == b"\n" else "\n"
    data = (prefix + text + ("" if text.endswith("\n") else "\n")).encode("utf-8")
    done = _run(_plan_append(path, text), data)
    return {"appended": display_path(target), "bytes": len(data), "done": done}


def _edited_text(path: str, mode: str, start: int, end: int | None, text: str) -> tuple[Path, str]:
    target = expand_path(path)
    if not target.is_file():
        raise ToolError(f"no such file: {display_path(target)}", missing=target)
    original = target.read_text(encoding="utf-8", errors="strict") if target.stat().st_size <= MAX_WRITE_BYTES else None
    if original is None:
        raise ToolError(f"{display_path(target)} is too big to edit here")
    lines = original.splitlines(keepends=True)
    last = end if end is not None else start
    if start < 1 or last < start or (mode != "insert" and last > len(lines)) or start > len(lines) + 1:
        raise ToolError(f"lines {start}-{last} are outside {display_path(target)} ({len(lines)} lines)")
    new_lines = ([line if line.endswith("\n") else line + "\n" for line in text.splitlines(keepends=True)]
                 if text else [])
    if mode == "insert":
        lines[start - 1 : start - 1] = new_lines
    elif mode == "replace":
        lines[start - 1 : last] = new_lines
    else:  # prefix
        lines[start - 1 : last] = [text + line for line in lines[start - 1 : last]]
    return target, "".join(lines)


def preview_edit(path: str, start: int, end: int | None = None, text: str = "",
                 mode: Literal["replace", "insert", "prefix"] = "replace") -> Impact:
    target, _ = _edited_text(path, mode, start, end, text)
    impact = _impact_of([PlannedOp("write", target)])
    last = end if end is not None else start
    return Impact(paths=impact.paths, notes=(f"{mode} lines {start}-{last}",))


@tool("files.edit", Effect.WRITE, preview=preview_edit)
def edit_file(path: str, start: int, end: int | None = None, text: str = "",
              mode: Literal["replace", "insert", "prefix"] = "replace") -> dict[str, Any]:
    """Edit lines of a text file: replace, insert before, or prefix them.

    Args:
        path: text file to edit.
        start: first line (1-based).
        end: last line (default: start).
        text: new lines (replace, insert) or the prefix (prefix); empty replace deletes the lines.
        mode: replace, insert or prefix.
    """
    target, new_text = _edited_text(path, mode, start, end, text)
    done = _run([PlannedOp("write", target)], new_text.encode("utf-8"))
    return {"edited": display_path(target), "lines": new_text.count("\n"), "done": done}


def _plan_mkdir(path: str) -> list[PlannedOp]:
    target = expand_path(path)
    if os.path.lexists(target):
        raise ToolError(f"{display_path(target)} already exists")
    return [PlannedOp("mkdir", target)]


def preview_mkdir(path: str) -> Impact:
    return _impact_of(_plan_mkdir(path))


@tool("files.mkdir", Effect.WRITE, preview=preview_mkdir)
def make_folder(path: str) -> dict[str, Any]:
    """Create a folder (and missing parents).

    Args:
        path: folder to create.
    """
    return {"created": display_path(expand_path(path)), "done": _run(_plan_mkdir(path))}


def preview_copy(source: str, destination: str) -> Impact:
    return _impact_of(_plan_transfer("copy", source, destination))


@tool("files.copy", Effect.WRITE, preview=preview_copy, patterns=("source",))
def copy_files(source: str, destination: str) -> dict[str, Any]:
    """Copy files or folders; source may be a glob like ~/Downloads/*.pdf.

    Args:
        source: file, folder or glob.
        destination: new name, or folder to copy into.
    """
    done = _run(_plan_transfer("copy", source, destination))
    return {"copied": sum(1 for item in done if item["op"] == "copy"), "done": done}


def preview_move(source: str, destination: str) -> Impact:
    return _impact_of(_plan_transfer("move", source, destination))


@tool("files.move", Effect.WRITE, preview=preview_move, patterns=("source",))
def move_files(source: str, destination: str) -> dict[str, Any]:
    """Move or rename files or folders; source may be a glob like ~/Downloads/*.pdf.

    Args:
        source: file, folder or glob.
        destination: new name, or folder to move into (created if missing).
    """
    done = _run(_plan_transfer("move", source, destination))
    return {"moved": sum(1 for item in done if item["op"] == "move"), "done": done}


def _plan_delete(path: str) -> list[PlannedOp]:
    return [PlannedOp("delete", source) for source in expand_sources(path)]


def preview_delete(path: str) -> Impact:
    impact = _impact_of(_plan_delete(path))
    if not GLOB_CHARS & set(path):
        return impact
    return dataclasses.replace(impact, globs=(PathEffect(expand_path(path), "delete"),))


@tool("files.delete", Effect.DELETE, preview=preview_delete, patterns=("path",))
def delete_files(path: str) -> dict[str, Any]:
    """Delete files or folders (kept in the undo journal); path may be a glob.

    Args:
        path: file, folder or glob.
    """
    done = _run(_plan_delete(path))
    return {"deleted": len(done), "undo": "llmos undo restores them", "done": done}


def parse_mode(mode: str, current: int) -> int:
    """`"644"`, `"0755"`, or symbolic `u+x`, `go-w`, `a=r` -> the new permission bits."""
    text = mode.strip()
    if text.isdigit() and len(text) in (3, 4) and all(char in "01234567" for char in text):
        return int(text, 8)
    result = current & 0o7777
    for clause in text.split(","):
        who, op, perms = _split_symbolic(clause)
        mask = 0
        for person in who or "a":
            for perm in perms:
                mask |= _PERMISSION_BITS[person][perm]
        if op == "+":
            result |= mask
        elif op == "-":
            result &= ~mask
        else:
            cleared = 0
            for person in who or "a":
                cleared |= _PERMISSION_BITS[person]["r"] | _PERMISSION_BITS[person]["w"] | _PERMISSION_BITS[person]["x"]
            result = (result & ~cleared) | mask
    return result


_PERMISSION_BITS = {
    "u": {"r": stat.S_IRUSR, "w": stat.S_IWUSR, "x": stat.S_IXUSR},
    "g": {"r": stat.S_IRGRP, "w": stat.S_IWGRP, "x": stat.S_IXGRP},
    "o": {"r": stat.S_IROTH, "w": stat.S_IWOTH, "x": stat.S_IXOTH},
}
_PERMISSION_BITS["a"] = {perm: bits_u | _PERMISSION_BITS["g"][perm] | _PERMISSION_BITS["o"][perm]
                         for perm, bits_u in _PERMISSION_BITS["u"].items()}


def _split_symbolic(clause: str) -> tuple[str, str, str]:
    for index, char in enumerate(clause):
        if char in "+-=":
            who, perms = clause[:index], clause[index + 1 :]
            if set(who) <= set("ugoa") and set(perms) <= set("rwx"):
                return who, char, perms
            break
    raise ToolError(f"cannot read mode {clause!r}: use octal like 644 or symbolic like u+x, go-w")


def _plan_chmod(path: str, mode: str) -> list[PlannedOp]:
    plan = []
    for source in expand_sources(path):
        if source.is_symlink():
            raise ToolError(f"{display_path(source)} is a symlink; change the file it points to instead")
        plan.append(PlannedOp("chmod", source, mode=parse_mode(mode, source.stat().st_mode)))
    return plan


def preview_chmod(path: str, mode: str) -> Impact:
    plan = _plan_chmod(path, mode)
    impact = _impact_of(plan)
    notes = tuple(f"{display_path(item.path)} -> {item.mode:04o}" for item in plan if item.mode is not None)
    return Impact(paths=impact.paths, notes=notes)


@tool("files.chmod", Effect.WRITE, preview=preview_chmod, patterns=("path",))
def change_mode(path: str, mode: str) -> dict[str, Any]:
    """Change permissions, like 644 or u+x; path may be a glob.

    Args:
        path: file, folder or glob (not recursive).
        mode: octal (644) or symbolic (u+x, go-w).
    """
    done = _run(_plan_chmod(path, mode))
    return {"changed": len(done), "done": done}
