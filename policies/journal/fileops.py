"""Journaled file operations: the only way llmos tools change files. Each call records a manifest first, sets
aside whatever it would overwrite or delete (into the journal, never unlinked), acts with write-to-temp + fsync +
rename, and returns the action id that `Journal.undo` takes.

Refused with a readable `JournalError`, before anything changes: a source that does not exist, a destination that
exists (unless overwrite), a symlink where the operation would follow it, FIFOs, sockets and devices, a path with
NUL, a folder copied or moved into itself, and anything inside (or containing) the journal itself.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from llmos.policies.journal import fs
from llmos.policies.journal import move as mv
from llmos.policies.journal.fs import JournalError, Loc, shown
from llmos.policies.journal.manifest import Manifest, RecordedStates
from llmos.policies.journal.pin import PathPin, check_held_folder
from llmos.policies.journal.repair import repair_pending
from llmos.policies.journal.store import Journal
from llmos.policies.journal.undo import chmod_at

__all__ = ["FileOps", "JournalError"]

_KIND_NAMES = {"dir": "a folder", "symlink": "a symbolic link", "other": "a special file (FIFO, socket or device)"}


class FileOps:
    """File operations bound to one request and tool; every method returns the new action's id."""

    def __init__(self, journal: Journal, request_id: str, request: str = "", tool: str = "") -> None:
        self.journal = journal
        self.request_id = request_id
        self.request = request
        self.tool = tool

    # -- writing files ---------------------------------------------------------------------------------------------

    def write(self, path: str | os.PathLike[str], data: bytes | str, *, create_only: bool = False) -> str:
        """Write `data` to `path` (created, or replaced: the original is kept in the journal)."""
        payload = _bytes(data)
        return self._write("write", path, lambda loc: iter([payload]), create_only=create_only,
                           expected_sha=_sha(payload))

    def append(self, path: str | os.PathLike[str], data: bytes | str) -> str:
        """Append `data` (the file is rewritten through a temp file; the original is kept in the journal). A
        missing file is created."""
        payload = _bytes(data)

        def chunks(loc: Loc) -> Iterator[bytes]:
            if loc.exists():
                yield from mv.file_chunks(loc)
            yield payload

        return self._write("append", path, chunks, create_only=False, expected_sha=None)

    def replace_lines(self, path: str | os.PathLike[str], new_text: bytes | str) -> str:
        """Replace the whole content of an existing file with its edited text (recorded as an "edit")."""
        payload = _bytes(new_text)
        return self._write("edit", path, lambda loc: iter([payload]), create_only=False,
                           expected_sha=_sha(payload), must_exist=True)

    def _write(self, op: str, path: str | os.PathLike[str], chunks: Callable[[Loc], Iterable[bytes]], *,
               create_only: bool, expected_sha: str | None, must_exist: bool = False) -> str:
        with self.journal.locked():
            target = self._target(path)
            with fs.at(target) as loc:
                _hold(path, loc)
                before = fs.state_at(loc)
                existed = before["kind"] != "missing"
                if existed:
                    _require_kind(target, before, ("file",), f"{op} through it")
                    if create_only:
                        raise JournalError(f"{shown(target)} exists; refusing to replace it")
                elif must_exist:
                    raise JournalError(f"{shown(target)} does not exist")
                after = {"kind": "file", "sha256": expected_sha, "mode": before.get("mode")}
                manifest = self._begin(op, target, None, {"path": before}, {"path": after})
                try:
                    if existed:
                        self._keep_original(loc, manifest.id)
                        fs.checkpoint(f"{op}:aside")
                    info = loc.lstat() if existed else None
                    owner = (info.st_uid, info.st_gid) if info is not None else None
                    temp = loc.sibling(manifest.tmp)
                    mv.write_new(temp, chunks(loc), before.get("mode") if existed else None, owner=owner)
                    fs.checkpoint(f"{op}:temp")
                    if existed:
                        mv.rename(temp, loc)
                    else:
                        mv.rename_noreplace(temp, loc)
                    fs.fsync_parent(loc)
                    fs.checkpoint(f"{op}:renamed")
                except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - repaired in _failed, then re-raised
                    self._failed(manifest, exc)
                return self._done(manifest, {"path": fs.state_at(loc)})

    def _keep_original(self, loc: Loc, action_id: str) -> None:
        """Set the file at `loc` aside into the journal while it stays in place: a hard link (same inode), or a
        fsync'd copy where links cannot be made (another file system, a file system without links)."""
        folder = self.journal.object_dir(action_id)
        try:
            os.link(loc.name, os.path.join(folder, "path"), src_dir_fd=loc.dir_fd, follow_symlinks=False)
        except OSError:
            with fs.at(os.path.join(folder, "path")) as kept:
                mv.remove_tree(kept)
                mv.copy_entry(loc, kept)
        fs.fsync_dir(folder)

    # -- folders, copies, moves, deletes, modes ---------------------------------------------------------------------

    def mkdir(self, path: str | os.PathLike[str], parents: bool = True) -> str:
        """Create the folder `path` (and, with parents, the missing folders above it)."""
        with self.journal.locked():
            target = self._target(path)
            created = [target]
            while not os.path.lexists(fs.split(created[-1])[0]):
                created.append(fs.split(created[-1])[0])
            if os.path.lexists(target):
                raise JournalError(f"{shown(target)} already exists")
            existing = fs.split(created[-1])[0]
            if not os.path.isdir(existing) or os.path.islink(existing):
                raise JournalError(f"{shown(existing)} is not a folder")
            if len(created) > 1 and not parents:
                raise JournalError(f"the folder {shown(fs.split(target)[0])} does not exist")
            created.reverse()
            after = {"kind": "dir", "mode": None}
            manifest = self._begin("mkdir", target, None, {"path": dict(fs.MISSING)}, {"path": after},
                                   created=created, paths=created)
            try:
                for index, folder in enumerate(created):
                    with fs.at(folder) as loc:
                        if index == 0:
                            _hold(path, loc)
                        os.mkdir(loc.name, 0o777, dir_fd=loc.dir_fd)
                        fs.fsync_parent(loc)
                    fs.checkpoint(f"mkdir:{index}")
            except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - repaired in _failed, then re-raised
                self._failed(manifest, exc)
            return self._done(manifest, {"path": fs.state_of(target, shallow=True)})

    def copy(self, src: str | os.PathLike[str], dst: str | os.PathLike[str], *, overwrite: bool = False) -> str:
        """Copy a file or folder tree to `dst` (links inside a tree are copied as links, never followed). An
        existing `dst` is refused unless overwrite; then it is kept in the journal."""
        with self.journal.locked():
            source, target = self._target(src), self._target(dst)
            _refuse_nesting(source, target, "copy")
            with fs.at(source) as src_loc, fs.at(target) as dst_loc:
                _hold(src, src_loc)
                _hold(dst, dst_loc)
                before_src = fs.state_at(src_loc, keep_listing=True)
                _require_kind(source, before_src, ("file", "dir"), "copy it")
                special = [name for name, entry in before_src.get("listing", {}).items() if entry[0] == "other"]
                if special:
                    raise JournalError(f"{shown(os.path.join(source, special[0]))} is a special file; refusing to "
                                       "copy a folder that holds one")
                before_dst = self._destination(target, dst_loc, overwrite)
                expected = {key: before_src.get(key) for key in ("kind", "mode", "sha256", "tree")}
                manifest = self._begin("copy", source, target, {"path": fs.public_state(before_src),
                                                                  "dest": before_dst}, {"dest": expected})
                try:
                    temp = dst_loc.sibling(manifest.tmp)
                    mv.copy_entry(src_loc, temp)
                    fs.checkpoint("copy:copied")
                    if before_dst["kind"] != "missing":
                        self._set_aside(target, manifest.id, "dest")
                        fs.checkpoint("copy:aside")
                    mv.rename_noreplace(temp, dst_loc)
                    fs.fsync_parent(dst_loc)
                    fs.checkpoint("copy:renamed")
                except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - repaired in _failed, then re-raised
                    self._failed(manifest, exc)
                return self._done(manifest, {"dest": fs.state_at(dst_loc)})

    def move(self, src: str | os.PathLike[str], dst: str | os.PathLike[str], *, overwrite: bool = False) -> str:
        """Move or rename `src` to `dst` (a symlink is moved as a link). Across file systems: copy, then the
        source goes into the journal. An existing `dst` is refused unless overwrite; then it is kept."""
        with self.journal.locked():
            source, target = self._target(src), self._target(dst)
            _refuse_nesting(source, target, "move")
            with fs.at(source) as src_loc, fs.at(target) as dst_loc:
                _hold(src, src_loc)
                _hold(dst, dst_loc)
                before_src = fs.state_at(src_loc)
                _require_kind(source, before_src, ("file", "dir", "symlink"), "move it")
                before_dst = self._destination(target, dst_loc, overwrite)
                cross = mv.cross_device(src_loc.parent, dst_loc.parent)
                expected = {key: before_src.get(key) for key in ("kind", "mode", "sha256", "tree", "target")}
                manifest = self._begin("move", source, target, {"path": before_src, "dest": before_dst},
                                       {"path": dict(fs.MISSING), "dest": expected}, cross_device=cross)
                try:
                    if not cross:
                        if before_dst["kind"] != "missing":
                            self._set_aside(target, manifest.id, "dest")
                            fs.checkpoint("move:aside")
                        try:
                            mv.rename_noreplace(src_loc, dst_loc)
                        except OSError as exc:
                            if exc.errno != errno.EXDEV:  # a mount point between them
                                raise
                            cross = manifest.cross_device = True
                            self.journal.write_manifest(manifest)
                        else:
                            fs.fsync_parent(dst_loc)
                            fs.fsync_parent(src_loc)
                    if cross:
                        self._move_across(manifest, src_loc, dst_loc, target, before_dst)
                    fs.checkpoint("move:moved")
                except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - repaired in _failed, then re-raised
                    self._failed(manifest, exc)
                return self._done(manifest, {"path": fs.state_at(src_loc), "dest": fs.state_at(dst_loc)})

    def _move_across(self, manifest: Manifest, src_loc: Loc, dst_loc: Loc, target: str,
                     before_dst: dict[str, Any]) -> None:
        temp = dst_loc.sibling(manifest.tmp)
        mv.copy_entry(src_loc, temp)
        fs.checkpoint("move:copied")
        if before_dst["kind"] != "missing" and fs.lexists(target):
            self._set_aside(target, manifest.id, "dest")
            fs.checkpoint("move:aside")
        mv.rename_noreplace(temp, dst_loc)
        fs.fsync_parent(dst_loc)
        fs.checkpoint("move:renamed")
        self._set_aside(src_loc.path, manifest.id, "path")

    def delete(self, path: str | os.PathLike[str]) -> str:
        """Delete a file, symlink or whole folder: it is moved into the journal (same inode on the same file
        system), never unlinked, and `undo` puts it back."""
        with self.journal.locked():
            target = self._target(path)
            with fs.at(target) as loc:
                _hold(path, loc)
                before = fs.state_at(loc)
                if before["kind"] == "missing":
                    raise JournalError(f"{shown(target)} does not exist")
                _require_kind(target, before, ("file", "dir", "symlink"), "delete it")
                manifest = self._begin("delete", target, None, {"path": before}, {"path": dict(fs.MISSING)})
                try:
                    manifest.cross_device = self._set_aside(target, manifest.id, "path")
                    fs.checkpoint("delete:moved")
                except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - repaired in _failed, then re-raised
                    self._failed(manifest, exc)
                return self._done(manifest, {"path": fs.state_at(loc)})

    def chmod(self, path: str | os.PathLike[str], mode: int) -> str:
        """Change the permission bits of a file or folder (never through a symlink); the old mode is kept."""
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
            raise JournalError(f"{mode!r} is not a permission mode (0 to 0o7777)")
        with self.journal.locked():
            target = self._target(path)
            with fs.at(target) as loc:
                _hold(path, loc)
                before = fs.state_at(loc, shallow=True)
                if before["kind"] == "missing":
                    raise JournalError(f"{shown(target)} does not exist")
                _require_kind(target, before, ("file", "dir"), "change its mode through it")
                if before["kind"] == "file":
                    before = fs.state_at(loc)  # with its sha256: undo checks the content too
                after = {"kind": before["kind"], "mode": mode, "sha256": before.get("sha256")}
                manifest = self._begin("chmod", target, None, {"path": before}, {"path": after}, mode=mode)
                try:
                    chmod_at(target, mode)
                    fs.checkpoint("chmod:done")
                except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - repaired in _failed, then re-raised
                    self._failed(manifest, exc)
                return self._done(manifest, {"path": fs.state_at(loc, shallow=before["kind"] == "dir")})

    # -- shared steps ----------------------------------------------------------------------------------------------

    def _target(self, path: str | os.PathLike[str]) -> str:
        if isinstance(path, PathPin):
            # Decided on: act on the physical path pinned then, never on what the path resolves to now.
            if path.physical is None:
                raise JournalError(f"{shown(path.path)} could not be resolved when it was decided; refusing")
            target = path.physical
        else:
            target = fs.canonical(path)
        root = str(self.journal.root)
        if fs.is_within(target, root) or fs.is_within(root, target):
            raise JournalError(f"{shown(target)} is llmos's undo journal or holds it; refusing to touch it")
        return target

    @staticmethod
    def _destination(target: str, loc: Loc, overwrite: bool) -> dict[str, Any]:
        before = fs.state_at(loc)
        if before["kind"] != "missing":
            if not overwrite:
                raise JournalError(f"{shown(target)} exists; refusing to replace it (overwrite was not asked)")
            _require_kind(target, before, ("file", "dir"), "replace it")
        return fs.public_state(before)

    def _set_aside(self, path: str, action_id: str, slot: str) -> bool:
        """Move what is at `path` into the journal (rename; copy + fsync + remove across file systems)."""
        self.journal.object_dir(action_id)
        return mv.transfer(path, self.journal.object_path(action_id, slot), f".xfer-{slot}")

    def _begin(self, op: str, path: str, dest: str | None, before: dict[str, Any], after: dict[str, Any],
               **extra: Any) -> Manifest:
        fields = {
            "id": self.journal.new_action_id(), "request_id": self.request_id, "request": self.request,
            "tool": self.tool, "op": op, "path": path, "dest": dest,
            "paths": [p for p in (path, dest) if p is not None],
            "before": {slot: fs.public_state(state) for slot, state in before.items()}, "after": after,
        }
        fields.update(extra)
        manifest = self.journal.begin(fields)
        fs.checkpoint(f"{op}:begun")  # the manifest is on disk; nothing has changed yet
        return manifest

    def _done(self, manifest: Manifest, after: dict[str, dict[str, Any]]) -> str:
        manifest.after = RecordedStates.of({slot: fs.public_state(state) for slot, state in after.items()})
        manifest.status = "done"
        manifest.done_at = self.journal.now()
        self.journal.write_manifest(manifest)
        return manifest.id

    def _failed(self, manifest: Manifest, exc: BaseException) -> None:
        """The operation failed part way: settle it as a crash would be settled, then say what happened."""
        repair_pending(self.journal, manifest)
        what = f"{manifest.op} {shown(manifest.path)}"
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        outcome = "nothing was changed" if manifest.status == "abandoned" else \
            f"the journal marked it {manifest.status} (action {manifest.id})"
        manifest.error = reason
        self.journal.write_manifest(manifest)
        if isinstance(exc, KeyboardInterrupt):
            raise exc
        raise JournalError(f"could not {what}: {reason}; {outcome}") from exc


def _hold(path: str | os.PathLike[str], loc: Loc) -> None:
    """For a pinned path: the folder held open is the one that was decided on, and what is in it is what was."""
    if not isinstance(path, PathPin):
        return
    check_held_folder(path, loc.parent, loc.dir_fd)
    info = loc.lstat()
    now = None if info is None else (info.st_dev, info.st_ino, stat.S_IFMT(info.st_mode))
    if now != path.leaf_id:
        raise JournalError(f"{shown(path.path)} was replaced, removed or created after it was decided; refusing")


def _require_kind(path: str, state: dict[str, Any], allowed: tuple[str, ...], doing: str) -> None:
    if state["kind"] == "missing":
        raise JournalError(f"{shown(path)} does not exist")
    if state["kind"] not in allowed:
        name = _KIND_NAMES.get(state["kind"], state["kind"])
        raise JournalError(f"{shown(path)} is {name}; refusing to {doing}")


def _refuse_nesting(source: str, target: str, verb: str) -> None:
    if source == target:
        raise JournalError(f"cannot {verb} {shown(source)} onto itself")
    if fs.is_within(target, source):
        raise JournalError(f"cannot {verb} the folder {shown(source)} into itself")
    if fs.is_within(source, target):
        raise JournalError(f"cannot {verb} {shown(source)} onto {shown(target)}, the folder that holds it")


def _bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise JournalError("data to write must be bytes or text")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

