"""The undo journal: every mutating file action is recorded before it touches anything, and can be reversed.

On disk, in `<data_dir>/journal/` (mode 0700):

    actions/<action id>.json    one manifest per action (written to a temp file, fsync'd, renamed, folder fsync'd)
    objects/<action id>/<slot>  what the action set aside: the original a write replaced, a deleted file or folder
                                (moved here, never unlinked), what an undo took away ("undone-<slot>")
    seq                         the last action sequence number (orders actions; ids are for people)
    lock                        flock'd while an action, an undo or a repair runs (one process at a time)

A manifest holds: id, seq, request_id, request, tool, op, time, status (pending -> done | abandoned, done ->
undoing -> undone, or failed), path (and dest for copy/move), paths, before/after states (kind, mode, sha256 of a
file or digest of a folder tree), tmp (the temp name used beside the target), created (mkdir), mode (chmod),
cross_device, and the undo steps once undone. The file operations themselves are in `llmos.policies.journal.fileops`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmos.policies.audit import loads_strict
from llmos.policies.journal import fs
from llmos.policies.journal import move as mv
from llmos.policies.journal.fs import JournalError, NothingToUndo, UnknownUndoTarget, shown
from llmos.policies.journal.manifest import (
    MANIFEST_VERSION,
    ChmodStep,
    Manifest,
    MoveStep,
    RmdirStep,
    UndoProgress,
    UndoStep,
)
from llmos.policies.journal.repair import repair_pending, repair_undoing
from llmos.policies.journal.seal import MAC_FIELD, journal_key, manifest_mac, seal_of
from llmos.policies.journal.undo import View, check, run_step

PathGuard = Callable[[str, str], str | None]
"""(a path undo would change, the action: "delete", "move_from", "move_to" or "chmod") -> why it must not, or
None. The same guard tool writes go through: protected, persistence and secret paths, llmos's own files."""

try:
    import fcntl
except ImportError:  # pragma: no cover  (not POSIX: one process at a time is then the caller's business)
    fcntl = None  # type: ignore[assignment]

__all__ = ["Journal", "JournalEntry", "JournalError", "Manifest", "NothingToUndo", "UndoReport", "UnknownUndoTarget"]


@dataclass(frozen=True)
class JournalEntry:
    """One journaled action, as `llmos undo --list` shows it."""

    id: str
    request_id: str
    request: str
    time: str
    tool: str
    op: str
    paths: tuple[str, ...]
    status: str
    seq: int = 0
    undone_at: str | None = None
    note: str | None = None
    seal: str = "none"
    """verified, unsigned, forged, or none (see `llmos.policies.journal.seal`)."""

    @property
    def verified(self) -> bool:
        return self.seal in ("verified", "none")

    @property
    def undoable(self) -> bool:
        return self.status == "done" and self.verified

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "request_id": self.request_id, "request": self.request, "time": self.time,
            "tool": self.tool, "op": self.op, "paths": list(self.paths), "status": self.status,
            "undoable": self.undoable, "undone_at": self.undone_at, "note": self.note,
            "verified": self.verified,
        }


@dataclass
class UndoReport:
    """What an undo did: the actions reversed (in the order reversed), and why anything was refused."""

    target: str | None
    request_id: str | None
    undone: list[JournalEntry] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and bool(self.undone)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "target": self.target, "request_id": self.request_id,
                "undone": [entry.as_dict() for entry in self.undone], "refused": list(self.refused)}


class Journal:
    """The journal in `root`; constructing it repairs what a crash left half done (see `repair`). With a `key`,
    each manifest is written with a MAC and one whose MAC is missing or wrong is never acted on (see
    `llmos.policies.journal.seal`; `Journal.authenticated` gets the person's key)."""

    def __init__(self, root: Path, *, repair: bool = True, key: bytes | None = None) -> None:
        self.key = key
        os.makedirs(root, mode=0o700, exist_ok=True)
        self.root = Path(os.path.realpath(root))
        self.actions_dir = self.root / "actions"
        self.objects_dir = self.root / "objects"
        for folder in (self.root, self.actions_dir, self.objects_dir):
            folder.mkdir(mode=0o700, exist_ok=True)
            with contextlib.suppress(OSError):
                if folder.stat().st_mode & 0o077:
                    folder.chmod(0o700)  # the journal holds copies of the person's files: theirs alone
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None
        self.repair_notes: list[str] = self.repair() if repair else []

    @classmethod
    def authenticated(cls, root: Path, *, repair: bool = True) -> Journal:
        """The journal in `root` with the person's journal key. When the key is created now, the manifests
        already there (written before manifests had MACs) are signed: only they are adopted."""
        os.makedirs(root, mode=0o700, exist_ok=True)
        key, created = journal_key(Path(os.path.realpath(root)))
        journal = cls(root, repair=False, key=key)
        if created:
            journal.adopt_unsigned()
        if repair:
            journal.repair_notes = journal.repair()
        return journal

    def adopt_unsigned(self) -> int:
        """Sign every manifest that has no MAC (never one whose MAC is wrong); returns how many."""
        adopted = 0
        with self.locked():
            for manifest in self.manifests():
                if manifest.seal == "unsigned":
                    self.write_manifest(manifest)
                    adopted += 1
        return adopted

    # -- locking, ids, manifests -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal (re-entrant in this process, exclusive across processes)."""
        with self._thread_lock:
            if self._depth == 0:
                fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_fd is not None:
                    os.close(self._lock_fd)  # closing releases the flock
                    self._lock_fd = None

    @staticmethod
    def now() -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def new_action_id(self) -> str:
        """Short and sortable by time: `20261122T143005-3f9a` (UTC, then random hex)."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        while True:
            action_id = f"{stamp}-{secrets.token_hex(2)}"
            if not (self.actions_dir / f"{action_id}.json").exists():
                return action_id

    def next_seq(self) -> int:
        counter = self.root / "seq"
        try:
            last = int(counter.read_text().strip())
        except (OSError, ValueError):
            last = max((m.seq for m in self.manifests()), default=0)
        self._write_atomic(counter, f"{last + 1}\n".encode())
        return last + 1

    def object_path(self, action_id: str, slot: str) -> str:
        return str(self.objects_dir / action_id / slot)

    def object_dir(self, action_id: str) -> str:
        folder = self.objects_dir / action_id
        folder.mkdir(mode=0o700, exist_ok=True)
        return str(folder)

    def _write_atomic(self, target: Path, data: bytes) -> None:
        temp = target.with_name(f".tmp-{target.name}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)  # a stale temp (or a planted symlink) is never written through
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | fs.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
        fs.fsync_dir(str(target.parent))

    def write_manifest(self, manifest: Manifest) -> None:
        if not _plain_name(manifest.id):
            raise JournalError(f"invalid action id {shown(manifest.id)}")
        stored = manifest.to_json()
        if self.key is not None:
            stored = {**stored, MAC_FIELD: manifest_mac(self.key, manifest.id, stored)}
            manifest._seal = "verified"
        data = json.dumps(stored, indent=1, sort_keys=True, ensure_ascii=True).encode("ascii")
        self._write_atomic(self.actions_dir / f"{manifest.id}.json", data + b"\n")

    def load(self, action_id: str) -> Manifest | None:
        """The action's manifest; None for no such action, or one unreadable or damaged."""
        if not _plain_name(action_id):
            return None
        return _read_manifest(self.actions_dir / f"{action_id}.json", self.key)

    def manifests(self) -> list[Manifest]:
        """Every readable manifest, oldest first (an unreadable or damaged one is skipped)."""
        found = []
        for path in self.actions_dir.glob("*.json"):
            if path.name.startswith("."):
                continue
            manifest = _read_manifest(path, self.key)
            if manifest is not None:
                found.append(manifest)
        return sorted(found, key=lambda m: (m.seq, m.id))

    def begin(self, fields: dict[str, Any]) -> Manifest:
        """Record an action about to happen ("pending"); the caller holds the lock."""
        manifest = Manifest.model_validate({
            "version": MANIFEST_VERSION, "seq": self.next_seq(), "time": self.now(), "status": "pending",
            "dest": None, "tmp": f".llmos-tmp-{fields['id']}", "cross_device": False, **fields,
        })
        self.write_manifest(manifest)
        return manifest

    # -- listing ---------------------------------------------------------------------------------------------------

    def entries(self) -> list[JournalEntry]:
        """Every action, newest first."""
        return [_entry(m) for m in reversed(self.manifests())]

    # -- undo ------------------------------------------------------------------------------------------------------

    def undo(self, target: str | None = None, *, guard: PathGuard | None = None,
             trust_unsigned: bool = False) -> UndoReport:
        """Reverse the last request that has undoable actions (target None), a whole request (its id: its
        actions in reverse order), or one action (its id). Every action is checked against the files first; if
        any file changed since its action, nothing is changed and the report says which file and why. An action
        whose manifest is not authenticated is refused (one without a MAC only unless `trust_unsigned`), and so
        is any step that would change a path `guard` objects to, whatever the manifest says."""
        with self.locked(), fs.hash_cache():
            manifests = self.manifests()
            selected, request_id, single = self._select(target, manifests)
            report = UndoReport(target=target, request_id=request_id)
            todo = [m for m in reversed(selected) if m.status == "done"]
            if not todo:
                report.refused.append(self._nothing_left(target, selected, single))
                return report
            view = View()
            for manifest in todo:
                if not (manifest.trusted or trust_unsigned and manifest.seal == "unsigned"):
                    report.refused.append(_unverified(manifest))
                    continue
                problems, steps = check(self, manifest, view)
                report.refused.extend(problems or self._guarded(manifest, steps, guard))
            if report.refused:
                report.refused.append("nothing was undone")
                return report
            for manifest in todo:
                problems, steps = check(self, manifest, View())  # again on the real files, just before acting
                problems = problems or self._guarded(manifest, steps, guard)
                if problems:
                    report.refused.extend(problems)
                    break
                try:
                    self._reverse(manifest, steps)
                except (JournalError, OSError) as exc:
                    report.refused.append(f"undoing action {manifest.id} failed: {exc}")
                    break
                report.undone.append(_entry(manifest))
            if report.refused and report.undone:
                report.refused.append(
                    f"{len(report.undone)} of {len(todo)} actions were undone before this; the rest are still done"
                )
            return report

    def _guarded(self, manifest: Manifest, steps: list[UndoStep], guard: PathGuard | None) -> list[str]:
        """Why the steps must not run: a path outside the journal that the guard protects (judged where it
        physically leads, so a folder swapped for a symlink into ~/.ssh is seen for what it is)."""
        if guard is None:
            return []
        touched: list[tuple[str, str]] = []
        for step in steps:
            if isinstance(step, MoveStep):
                touched += [(step.source, "move_from"), (step.to, "move_to")]
            elif isinstance(step, RmdirStep):
                touched.append((step.path, "delete"))
            else:
                touched.append((step.path, "chmod"))
        problems = []
        for path, action in touched:
            if self._inside(path):
                continue
            reason = guard(path, action)
            if reason is not None:
                problems.append(f"refusing to undo action {manifest.id} ({manifest.op}): {reason}")
        return problems

    def _inside(self, path: str) -> bool:
        """Whether `path` is in the journal's own folder, as written and as it physically is."""
        parent, name = os.path.split(path)
        physical = os.path.join(os.path.realpath(parent or "."), name)
        return all(fs.is_within(candidate, str(self.root)) for candidate in (os.path.normpath(path), physical))

    def _select(self, target: str | None, manifests: list[Manifest]) -> tuple[list[Manifest], str | None, bool]:
        if target is None:
            done = [m for m in manifests if m.status == "done"]
            if not done:
                raise NothingToUndo("nothing to undo: the journal has no action that can still be undone")
            request_id = done[-1].request_id
            return [m for m in manifests if m.request_id == request_id], request_id, False
        # A copy of a manifest under another file name keeps its id: the authentic one is the one meant.
        for manifest in sorted(manifests, key=lambda m: not m.trusted):
            if manifest.id == target:
                return [manifest], manifest.request_id, True
        selected = [m for m in manifests if m.request_id == target]
        if not selected:
            raise UnknownUndoTarget(f"no action or request with id {shown(target)} in the journal "
                                    "(see `llmos undo --list`)")
        return selected, target, False

    @staticmethod
    def _nothing_left(target: str | None, selected: list[Manifest], single: bool) -> str:
        if single:
            manifest = selected[0]
            if manifest.status == "undone":
                undone_at = manifest.undone_at if "undone_at" in manifest.model_fields_set else "?"
                return f"action {manifest.id} was already undone ({undone_at}); an action is undone once"
            return f"action {manifest.id} cannot be undone: it is {manifest.status}"
        counts: dict[str, int] = {}
        for manifest in selected:
            counts[manifest.status] = counts.get(manifest.status, 0) + 1
        summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        return f"request {target} has nothing left to undo ({summary})"

    def _reverse(self, manifest: Manifest, steps: list[UndoStep]) -> None:
        self.object_dir(manifest.id)
        manifest.status = "undoing"
        undo = manifest.undo = UndoProgress(steps=steps, next=0, started=self.now())
        self.write_manifest(manifest)
        for index, step in enumerate(steps):
            if index:
                undo.next = index
                self.write_manifest(manifest)
            try:
                run_step(step)
            except (JournalError, OSError) as exc:
                if index == 0 and _untouched(step):
                    # Nothing moved yet: the action stays done, and the undo can be tried again.
                    manifest.status = "done"
                    manifest.drop_undo()
                    manifest.error = f"an undo failed before changing anything: {exc}"
                    self.write_manifest(manifest)
                    raise
                # Finish what can be finished (a step is a rename or a copy + remove); record the outcome.
                undo.next = index
                repair_undoing(self, manifest)
                if manifest.status == "undone":
                    return
                raise
        manifest.status = "undone"
        manifest.undone_at = self.now()
        undo.next = len(steps)
        self.write_manifest(manifest)

    # -- crash repair and pruning ----------------------------------------------------------------------------------

    def repair(self) -> list[str]:
        """Settle every action a crash left "pending" or "undoing" (see `llmos.policies.journal.repair`);
        returns one line per action settled."""
        notes: list[str] = []
        with self.locked():
            for leftover in self.actions_dir.glob(".tmp-*"):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            for manifest in self.manifests():
                if not manifest.trusted and manifest.status in ("pending", "undoing"):
                    notes.append(_unverified(manifest) + "; left as it is")
                    continue
                if manifest.status == "pending":
                    repair_pending(self, manifest)
                elif manifest.status == "undoing":
                    repair_undoing(self, manifest)
                else:
                    continue
                line = f"{manifest.id} ({manifest.op} {shown(manifest.path)}): {manifest.status}"
                notes.extend([line, *manifest.repair])
        return notes

    def prune(self, older_than_days: float) -> int:
        """Forget actions older than `older_than_days` (their kept originals are removed for good; they can no
        longer be undone). Pending and undoing actions are kept. Returns how many were pruned."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
        pruned = 0
        with self.locked():
            for manifest in self.manifests():
                if manifest.status in ("pending", "undoing") or not manifest.trusted:
                    continue
                try:
                    when = dt.datetime.fromisoformat(manifest.time.replace("Z", "+00:00"))
                except ValueError:
                    continue
                if when >= cutoff:
                    continue
                objects = self.objects_dir / manifest.id
                if objects.exists():
                    with fs.at(str(objects)) as loc:
                        mv.remove_tree(loc)
                (self.actions_dir / f"{manifest.id}.json").unlink()
                pruned += 1
            fs.fsync_dir(str(self.actions_dir))
        return pruned


def _untouched(step: UndoStep) -> bool:
    """Whether a failed first step left everything as it was (a partial copy of a move is cleared first)."""
    try:
        if isinstance(step, MoveStep):
            mv.settle_transfer(step.source, step.to, step.tmp)
            return fs.lexists(step.source) and not fs.lexists(step.to)
        if isinstance(step, RmdirStep):
            return fs.lexists(step.path)
    except (JournalError, OSError):
        return False
    return isinstance(step, ChmodStep)


def _plain_name(action_id: str) -> bool:
    return bool(action_id) and "/" not in action_id and "\0" not in action_id and not action_id.startswith(".")


def _unverified(manifest: Manifest) -> str:
    if manifest.seal == "unsigned":
        return (f"refusing to undo action {manifest.id}: its manifest is unverified (it has no MAC: written outside "
                "llmos, or by a version before MACs; `llmos undo --trust-unsigned ID` if you know it is yours)")
    return (f"refusing to undo action {manifest.id}: its manifest is unverified (its MAC does not match: it was "
            "forged, changed or copied outside llmos)")


def _read_manifest(path: Path, key: bytes | None = None) -> Manifest | None:
    """The manifest in the file at `path` with its seal; None when it cannot be read or is not a manifest."""
    try:
        raw = loads_strict(path.read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    mac = raw.pop(MAC_FIELD, None)
    manifest = Manifest.parse(raw)
    if manifest is not None:
        manifest._seal = seal_of(key, path.stem, raw, mac)
    return manifest


def _entry(manifest: Manifest) -> JournalEntry:
    notes = manifest.repair
    return JournalEntry(
        id=manifest.id, request_id=manifest.request_id, request=manifest.request,
        time=manifest.time, tool=manifest.tool, op=manifest.op,
        paths=tuple(manifest.paths or [manifest.path]), status=manifest.status,
        seq=manifest.seq, undone_at=manifest.undone_at,
        note="; ".join(notes) if notes else manifest.error, seal=manifest.seal,
    )
