"""Undo of journaled actions: checks that the files are still what each action left, the steps that reverse it,
and the roll-forward of an undo that a crash interrupted.

Undoing a request checks every action before changing anything. The checks of earlier actions must see the state
that the reversal of later ones will leave (a folder created by the request is empty only once the files moved
into it went back), so they run against a `View`: the real files, overlaid with what the planned reversals do.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any, Literal

from llmos.policies.journal import fs
from llmos.policies.journal import move as mv
from llmos.policies.journal.fs import JournalError, shown
from llmos.policies.journal.manifest import ChmodStep, Manifest, MoveStep, RecordedState, RmdirStep, UndoStep

if TYPE_CHECKING:
    from llmos.policies.journal.store import Journal

Source = str | None
"""Where a path's content comes from in a view: a real path to read it from, or None for missing."""


class View:
    """The file system as it will be after the planned reversals: real files plus overlays (a path whose whole
    subtree now comes from another real path, or is missing) and mode overrides."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}
        self.modes: dict[str, int] = {}

    def _base(self, path: str) -> tuple[bool, str | None]:
        """(overlaid, real path to read `path` from)."""
        best: str | None = None
        for key in self.sources:
            if fs.is_within(path, key) and (best is None or len(key) > len(best)):
                best = key
        if best is None:
            return False, path
        source = self.sources[best]
        return True, None if source is None else source + path[len(best):]

    def state(self, path: str, *, shallow: bool = False) -> dict[str, Any]:
        _, real = self._base(path)
        current = dict(fs.MISSING) if real is None else fs.state_of(real, shallow=shallow, keep_listing=True)
        if current["kind"] == "dir" and not shallow:
            entries = dict(current.get("listing", {}))
            for key in self._minimal_keys_below(path):
                relative = key[len(path) + 1:]
                for name in [name for name in entries if name == relative or name.startswith(relative + "/")]:
                    del entries[name]
                below = self.state(key)
                if below["kind"] != "missing":
                    entries[relative] = _entry(below)
                    for name, entry in below.get("listing", {}).items():
                        entries[relative + "/" + name] = entry
            current["listing"] = entries
            current["tree"] = fs.tree_digest(entries)
            current["entries"] = len(entries)
        if path in self.modes and current["kind"] != "missing":
            current["mode"] = self.modes[path]
        return current

    def _minimal_keys_below(self, path: str) -> list[str]:
        keys = {key for key in [*self.sources, *self.modes] if key != path and fs.is_within(key, path)}
        return sorted(key for key in keys if not any(other != key and fs.is_within(key, other) for other in keys))

    def _drop_below(self, path: str) -> None:
        for table in (self.sources, self.modes):
            for key in [key for key in table if fs.is_within(key, path)]:
                del table[key]

    def set(self, path: str, source: Source) -> None:
        """`path` (and all below it) will be what is now at the real path `source` (None: missing)."""
        self._drop_below(path)
        self.sources[path] = source

    def set_mode(self, path: str, mode: int) -> None:
        self.modes[path] = mode

    def move(self, src: str, dst: str) -> None:
        """What is at `src` (with its pending overlays) will be at `dst`; the caller then sets `src`."""
        _, real = self._base(src)
        carried_sources = {dst + key[len(src):]: source for key, source in self.sources.items()
                           if key != src and fs.is_within(key, src)}
        carried_modes = {dst + key[len(src):]: kept for key, kept in self.modes.items()
                         if key != src and fs.is_within(key, src)}
        mode = self.modes.get(src)
        self.set(dst, real)
        self.sources.update(carried_sources)
        self.modes.update(carried_modes)
        if mode is not None:
            self.modes[dst] = mode


def _entry(state: dict[str, Any]) -> list[Any]:
    kind = state["kind"]
    if kind == "file":
        return ["file", state["mode"], state.get("sha256")]
    if kind == "dir":
        return ["dir", state["mode"], ""]
    if kind == "symlink":
        return ["symlink", 0, state.get("target")]
    return ["other", state.get("mode", 0), state.get("type", "special")]


# -- checks and steps per operation --------------------------------------------------------------------------------


def check(journal: Journal, manifest: Manifest, view: View) -> tuple[list[str], list[UndoStep]]:
    """Problems that forbid undoing `manifest` in `view` (empty when it may go ahead), and the steps that reverse
    it. The view is updated to the state after those steps."""
    op = manifest.op
    checker = _CHECKS.get(op)
    if checker is None:
        return [f"action {manifest.id}: unknown operation {op!r}; cannot undo it"], []
    problems: list[str] = []
    steps: list[UndoStep] = []
    try:
        checker(_Plan(journal, manifest, view, problems, steps))
    except JournalError as exc:
        problems.append(f"refusing to undo action {manifest.id} ({op}): {exc}")
    except OSError as exc:
        problems.append(f"refusing to undo action {manifest.id} ({op}): {exc.strerror or exc}")
    return problems, steps


class _Plan:
    def __init__(self, journal: Journal, manifest: Manifest, view: View, problems: list[str],
                 steps: list[UndoStep]) -> None:
        self.journal, self.m, self.view, self.problems, self.steps = journal, manifest, view, problems, steps
        self.id = manifest.id

    def obj(self, slot: str) -> str:
        return self.journal.object_path(self.id, slot)

    def recorded(self, states: Literal["before", "after"], slot: Literal["path", "dest"]) -> RecordedState:
        """The state the manifest recorded (`before` or `after`) for `slot`; one it lacks is a damaged manifest."""
        state = (self.m.before if states == "before" else self.m.after).slot(slot)
        if state is None:
            raise JournalError(f"the manifest records no {states} state for its {slot}")
        return state

    def expect(self, path: str, expected: RecordedState | dict[str, Any], *, shallow: bool = False,
               check_mode: bool = True) -> None:
        expected_state = expected.as_state() if isinstance(expected, RecordedState) else expected
        current = self.view.state(path, shallow=shallow)
        if not fs.same_state(current, expected_state, check_mode=check_mode):
            self.problems.append(
                f"refusing to undo action {self.id} ({self.m.op}): {shown(path)} changed since the action "
                f"({fs.describe_change(current, expected_state)})"
            )

    def expect_missing(self, path: str) -> None:
        if self.view.state(path, shallow=True)["kind"] != "missing":
            self.problems.append(
                f"refusing to undo action {self.id} ({self.m.op}): {shown(path)} exists again since the action; "
                "move it away first"
            )

    def expect_object(self, slot: str, expected: RecordedState) -> None:
        current = fs.state_of(self.obj(slot))
        if not fs.same_state(current, expected.as_state()):
            self.problems.append(
                f"refusing to undo action {self.id} ({self.m.op}): the journal's copy of "
                f"{shown(self.m.path if slot == 'path' else self.destination())} is missing or was changed"
            )

    def destination(self) -> str:
        """A copy's or move's destination; one the manifest lacks is a damaged manifest."""
        if self.m.dest is None:
            raise JournalError("the manifest records no destination")
        return self.m.dest

    def move(self, src: str, dst: str) -> None:
        self.steps.append(MoveStep(do="move", source=src, to=dst, tmp=f".llmos-xfer-{self.id}-u{len(self.steps)}"))


def _replace_with_what_was_there(plan: _Plan, path: str, key: Literal["path", "dest"]) -> None:
    """Undo what an action wrote at `path` (recorded under `key`): check it is still what the action left, move it
    into the journal, and put back what was there before (kept as the `key` object), if anything was."""
    before = plan.recorded("before", key)
    plan.expect(path, plan.recorded("after", key))
    if not before.missing:
        plan.expect_object(key, before)
    plan.move(path, plan.obj(f"undone-{key}"))
    if not before.missing:
        plan.move(plan.obj(key), path)
    plan.view.set(path, plan.obj(key) if not before.missing else None)


def _check_write(plan: _Plan) -> None:
    _replace_with_what_was_there(plan, plan.m.path, "path")


def _check_mkdir(plan: _Plan) -> None:
    for folder in reversed(plan.m.created):
        current = plan.view.state(folder)
        if current["kind"] != "dir":
            plan.problems.append(f"refusing to undo action {plan.id} (mkdir): {shown(folder)} is no longer a folder")
        elif current.get("listing"):
            plan.problems.append(
                f"refusing to undo action {plan.id} (mkdir): {shown(folder)} is not empty any more; "
                "a folder is removed only while empty"
            )
        plan.steps.append(RmdirStep(do="rmdir", path=folder))
        plan.view.set(folder, None)


def _check_copy(plan: _Plan) -> None:
    _replace_with_what_was_there(plan, plan.destination(), "dest")


def _check_move(plan: _Plan) -> None:
    src, dest = plan.m.path, plan.destination()
    before_dest = plan.recorded("before", "dest")
    plan.expect_missing(src)
    plan.expect(dest, plan.recorded("after", "dest"))
    if not before_dest.missing:
        plan.expect_object("dest", before_dest)
    if plan.m.cross_device:
        plan.expect_object("path", plan.recorded("before", "path"))
        plan.move(dest, plan.obj("undone-dest"))
        plan.move(plan.obj("path"), src)
        plan.view.set(src, plan.obj("path"))
    else:
        plan.move(dest, src)
        plan.view.move(dest, src)
    if not before_dest.missing:
        plan.move(plan.obj("dest"), dest)
    plan.view.set(dest, plan.obj("dest") if not before_dest.missing else None)


def _check_delete(plan: _Plan) -> None:
    path = plan.m.path
    plan.expect_missing(path)
    plan.expect_object("path", plan.recorded("before", "path"))
    plan.move(plan.obj("path"), path)
    plan.view.set(path, plan.obj("path"))


def _check_chmod(plan: _Plan) -> None:
    path, before, after = plan.m.path, plan.recorded("before", "path"), plan.recorded("after", "path")
    if before.mode is None:
        raise JournalError("the manifest records no mode to restore")
    # A file's content must also be what the action left; a folder's contents may have changed meanwhile.
    plan.expect(path, {"kind": after.kind, "mode": after.mode, "sha256": after.sha256}, shallow=after.kind != "file")
    plan.steps.append(ChmodStep(do="chmod", path=path, mode=before.mode))
    plan.view.set_mode(path, before.mode)


_CHECKS = {
    "write": _check_write, "append": _check_write, "edit": _check_write,
    "mkdir": _check_mkdir, "copy": _check_copy, "move": _check_move, "delete": _check_delete, "chmod": _check_chmod,
}


# -- carrying out steps --------------------------------------------------------------------------------------------


def run_step(step: UndoStep) -> None:
    if isinstance(step, MoveStep):
        mv.transfer(step.source, step.to, step.tmp)
    elif isinstance(step, RmdirStep):
        with fs.at(step.path) as loc:
            os.rmdir(loc.name, dir_fd=loc.dir_fd)
    else:
        chmod_at(step.path, step.mode)
    fs.checkpoint(f"undo:{step.do}")


def chmod_at(path: str, mode: int) -> None:
    """chmod without following a symlink: through a descriptor of the file itself where it can be opened."""
    with fs.at(path) as loc:
        info = loc.lstat()
        if info is None:
            raise JournalError(f"{shown(path)} does not exist")
        if fs.kind_of(info.st_mode) not in ("file", "dir"):
            raise JournalError(f"{shown(path)} is not a regular file or folder; refusing to change its mode")
        try:
            fd = os.open(loc.name, os.O_RDONLY | fs.O_NOFOLLOW | fs.O_NONBLOCK | fs.O_CLOEXEC, dir_fd=loc.dir_fd)
        except PermissionError:
            os.chmod(loc.name, mode, dir_fd=loc.dir_fd)  # unreadable: checked above that it is no symlink
            return
        try:
            opened = os.fstat(fd)
            if (opened.st_ino, opened.st_dev) != (info.st_ino, info.st_dev):
                raise JournalError(f"{shown(path)} was replaced while its mode was being changed")
            os.fchmod(fd, mode)
        finally:
            os.close(fd)


def settle_step(step: UndoStep) -> str | None:
    """Finish one step of an interrupted undo (idempotent); returns a note when it could not."""
    if isinstance(step, MoveStep):
        note = mv.settle_transfer(step.source, step.to, step.tmp)
        if note:
            return note
        src_there, dst_there = fs.lexists(step.source), fs.lexists(step.to)
        if src_there and not dst_there:
            mv.transfer(step.source, step.to, step.tmp)
        elif not src_there and not dst_there:
            return f"neither {shown(step.source)} nor {shown(step.to)} exists"
        return None
    if isinstance(step, RmdirStep):
        with fs.at(step.path) as loc:
            if loc.exists():
                with contextlib.suppress(OSError):
                    os.rmdir(loc.name, dir_fd=loc.dir_fd)
                if loc.exists():
                    return f"{shown(step.path)} was left in place: it is not empty"
        return None
    chmod_at(step.path, step.mode)
    return None
