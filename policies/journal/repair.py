"""Crash repair. A manifest still "pending" means the process died between writing it and finishing the action
(or the action failed). The files decide what happened: the action is either rolled back to where it started
("abandoned": the originals are back in place, our temp files and partial copies gone) or, where it had completed,
recorded as "done". A manifest left "undoing" is rolled forward from the step that was running.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

from llmos.policies.journal import fs
from llmos.policies.journal import move as mv
from llmos.policies.journal.fs import JournalError, shown
from llmos.policies.journal.manifest import Manifest, ManifestStatus, RecordedStates, UndoProgress
from llmos.policies.journal.undo import settle_step

if TYPE_CHECKING:
    from llmos.policies.journal.store import Journal

Outcome = tuple[ManifestStatus, list[str]]


def repair_pending(journal: Journal, manifest: Manifest) -> None:
    """Settle one pending action and record the outcome in its manifest."""
    repair = _REPAIRS.get(manifest.op)
    try:
        if repair is None:
            raise JournalError(f"unknown operation {manifest.op!r}")
        status, notes = repair(_Ctx(journal, manifest))
    except (JournalError, OSError) as exc:
        status, notes = "failed", [f"could not settle this interrupted action: {exc}"]
    manifest.status = status
    if notes:
        manifest.repair = notes
    if status == "done":
        manifest.after = RecordedStates.of(_states_now(manifest))
    manifest.repaired_at = journal.now()
    journal.write_manifest(manifest)


def repair_undoing(journal: Journal, manifest: Manifest) -> None:
    """Finish an undo that was interrupted: the steps before `next` are done; settle and run the rest."""
    undo = manifest.undo or UndoProgress()
    steps = undo.steps
    notes: list[str] = []
    status: ManifestStatus = "undone"
    try:
        for index in range(undo.next, len(steps)):
            note = settle_step(steps[index])
            if note:
                notes.append(note)
    except (JournalError, OSError) as exc:
        status = "failed"
        notes.append(f"could not finish the interrupted undo: {exc}")
    manifest.status = status
    if status == "undone":
        manifest.undone_at = journal.now()
    if notes:
        manifest.repair = notes
    manifest.repaired_at = journal.now()
    journal.write_manifest(manifest)


def _states_now(manifest: Manifest) -> dict[str, dict[str, Any]]:
    if manifest.op == "mkdir":
        return {"path": fs.public_state(fs.state_of(manifest.path, shallow=True))}
    if manifest.op == "chmod":
        is_dir = manifest.before.path is not None and manifest.before.path.kind == "dir"
        return {"path": fs.public_state(fs.state_of(manifest.path, shallow=is_dir))}
    states = {"path": fs.public_state(fs.state_of(manifest.path))}
    if manifest.dest:
        states["dest"] = fs.public_state(fs.state_of(manifest.dest))
    return states


class _Ctx:
    def __init__(self, journal: Journal, manifest: Manifest) -> None:
        self.journal, self.m = journal, manifest
        self.id = manifest.id
        self.notes: list[str] = []

    def obj(self, slot: str) -> str:
        return self.journal.object_path(self.id, slot)

    def tmp_beside(self, path: str) -> str:
        return os.path.join(fs.split(path)[0], self.m.tmp)

    def destination(self) -> str:
        if self.m.dest is None:
            raise JournalError("the manifest records no destination")
        return self.m.dest

    def remove_ours(self, path: str) -> bool:
        """Remove a temp file or partial copy that this action made; True if there was one."""
        if not fs.lexists(path):
            return False
        with fs.at(path) as loc:
            mv.remove_tree(loc)
        return True

    def restore(self, slot: str, path: str) -> None:
        mv.transfer(self.obj(slot), path, f".llmos-xfer-{self.id}-r{slot}")

    def settle(self, src: str, slot: str) -> None:
        note = mv.settle_transfer(src, self.obj(slot), f".xfer-{slot}")
        if note:
            self.notes.append(note)

    def existed(self, slot: Literal["path", "dest"]) -> bool:
        state = self.m.before.slot(slot)
        return state is not None and not state.missing


def _repair_write(ctx: _Ctx) -> Outcome:
    path = ctx.m.path
    tmp_there = ctx.remove_ours(ctx.tmp_beside(path))  # a temp still there: the rename into place never happened
    current = fs.state_of(path)
    if not ctx.existed("path"):
        if current["kind"] == "missing" or tmp_there:
            return "abandoned", ctx.notes
        return "done", ctx.notes
    obj = ctx.obj("path")
    if not fs.lexists(obj):
        return "abandoned", ctx.notes  # the original was never set aside, so it was never replaced
    kept = fs.state_of(obj)
    if current["kind"] == "missing":
        ctx.restore("path", path)
        return "abandoned", ctx.notes
    same_inode = current.get("ino") is not None and current.get("ino") == kept.get("ino")
    before = ctx.m.before.path
    untouched = before is not None and fs.same_state(current, before.as_state())
    if same_inode or untouched:
        ctx.remove_ours(obj)  # an extra link to, or a copy of, the original that is still in place
        return "abandoned", ctx.notes
    if tmp_there:
        ctx.notes.append(f"{shown(path)} changed outside llmos; the original is kept at {shown(obj)}")
        return "abandoned", ctx.notes
    return "done", ctx.notes


def _repair_mkdir(ctx: _Ctx) -> Outcome:
    created = ctx.m.created
    if all(fs.state_of(folder, shallow=True)["kind"] == "dir" for folder in created):
        return "done", ctx.notes
    for folder in reversed(created):
        if fs.state_of(folder, shallow=True)["kind"] == "dir":
            with fs.at(folder) as loc:
                try:
                    os.rmdir(loc.name, dir_fd=loc.dir_fd)
                except OSError:
                    ctx.notes.append(f"{shown(folder)} was left in place: it is not empty")
    return "abandoned", ctx.notes


def _repair_copy(ctx: _Ctx) -> Outcome:
    dest = ctx.destination()
    if ctx.existed("dest"):
        ctx.settle(dest, "dest")
    tmp_there = ctx.remove_ours(ctx.tmp_beside(dest))
    dest_there = fs.lexists(dest)
    if ctx.existed("dest"):
        if not fs.lexists(ctx.obj("dest")):
            return "abandoned", ctx.notes  # the destination was never set aside
        if not dest_there:
            ctx.restore("dest", dest)
            return "abandoned", ctx.notes
        if tmp_there:
            ctx.notes.append(f"{shown(dest)} appeared outside llmos; the replaced original is kept in the journal")
            return "abandoned", ctx.notes
        return "done", ctx.notes
    return ("abandoned" if tmp_there or not dest_there else "done"), ctx.notes


def _repair_move(ctx: _Ctx) -> Outcome:
    src, dest = ctx.m.path, ctx.destination()
    aside = ctx.existed("dest")
    if aside:
        ctx.settle(dest, "dest")
    if not ctx.m.cross_device:
        src_there, dest_there = fs.lexists(src), fs.lexists(dest)
        if not src_there and dest_there:
            return "done", ctx.notes
        if src_there:
            if aside and fs.lexists(ctx.obj("dest")) and not dest_there:
                ctx.restore("dest", dest)
            return "abandoned", ctx.notes
        raise JournalError(f"neither {shown(src)} nor {shown(dest)} exists")
    tmp_there = ctx.remove_ours(ctx.tmp_beside(dest))
    ctx.settle(src, "path")
    if not fs.lexists(src):
        if fs.lexists(ctx.obj("path")) and fs.lexists(dest):
            return "done", ctx.notes
        raise JournalError(f"{shown(src)} is gone and its copy is incomplete")
    # The source is still in place: roll back whatever part of the copy reached the destination.
    ours_in_place = not tmp_there and fs.lexists(dest) and (not aside or fs.lexists(ctx.obj("dest")))
    if ours_in_place:
        mv.transfer(dest, ctx.obj("partial-dest"), ".xfer-partial-dest")
    if aside and fs.lexists(ctx.obj("dest")) and not fs.lexists(dest):
        ctx.restore("dest", dest)
    return "abandoned", ctx.notes


def _repair_delete(ctx: _Ctx) -> Outcome:
    path = ctx.m.path
    ctx.settle(path, "path")
    if fs.lexists(path):
        return "abandoned", ctx.notes
    if fs.lexists(ctx.obj("path")):
        return "done", ctx.notes
    raise JournalError(f"{shown(path)} is gone and the journal has no copy of it")


def _repair_chmod(ctx: _Ctx) -> Outcome:
    current = fs.state_of(ctx.m.path, shallow=True)
    return ("done" if current.get("mode") == ctx.m.mode else "abandoned"), ctx.notes


_REPAIRS = {
    "write": _repair_write, "append": _repair_write, "edit": _repair_write,
    "mkdir": _repair_mkdir, "copy": _repair_copy, "move": _repair_move, "delete": _repair_delete,
    "chmod": _repair_chmod,
}
