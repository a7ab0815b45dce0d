"""Crash safety: a process that dies at any point between the manifest and the end of an action (or of an undo)
leaves a state that the next `Journal(...)` settles: the action either did not happen ("abandoned", the tree
exactly as before) or did ("done", the tree exactly as a finished action leaves it, and undoable). No temp file or
partial copy is left in the person's folders. Crashes are simulated by raising at the journal's named
checkpoints (a BaseException, so no cleanup code of the operation runs, as in a real crash)."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from llmos.policies.journal import Journal, JournalError, NothingToUndo
from llmos.policies.journal import fs as journal_fs
from llmos.policies.journal import move as journal_move
from llmos.policies.journal.fileops import FileOps
from trees import snapshot


class SimulatedCrash(BaseException):
    """The process died here."""


def make_tree(root: Path) -> Path:
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "notes.txt").write_bytes(b"original notes\n")
    (root / "notes.txt").chmod(0o640)
    (root / "docs" / "a.txt").write_bytes(b"a" * 3000)
    (root / "docs" / "deep" / "b.txt").write_bytes(b"b" * 10)
    (root / "docs" / "deep" / "c.txt").write_bytes(b"c" * 20)
    (root / "target").mkdir()
    (root / "target" / "old.txt").write_bytes(b"old target\n")
    return root


def crash_at(monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int = 1) -> None:
    seen = {"count": 0}

    def checkpoint(name: str) -> None:
        if name == point:
            seen["count"] += 1
            if seen["count"] == occurrence:
                raise SimulatedCrash(name)

    monkeypatch.setattr(journal_fs, "checkpoint", checkpoint)


def leftovers(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.name.startswith((".llmos-tmp-", ".llmos-xfer-", ".xfer-"))]


Op = Callable[[FileOps, Path], str]

CASES: list[tuple[str, Op, list[str], bool]] = [
    # (name, operation, crash points, across file systems)
    ("write-existing", lambda o, t: o.write(t / "notes.txt", b"new"),
     ["write:begun", "write:aside", "write:temp", "write:renamed"], False),
    ("write-new", lambda o, t: o.write(t / "new.txt", b"new"), ["write:begun", "write:temp", "write:renamed"], False),
    ("append", lambda o, t: o.append(t / "notes.txt", b"more\n"),
     ["append:begun", "append:aside", "append:temp", "append:renamed"], False),
    ("mkdir", lambda o, t: o.mkdir(t / "x" / "y" / "z"), ["mkdir:begun", "mkdir:0", "mkdir:1", "mkdir:2"], False),
    ("copy-tree", lambda o, t: o.copy(t / "docs", t / "docs2"),
     ["copy:begun", "copy:file", "copy:copied", "copy:renamed"], False),
    ("copy-overwrite", lambda o, t: o.copy(t / "docs", t / "target", overwrite=True),
     ["copy:begun", "copy:copied", "copy:aside", "copy:renamed"], False),
    ("move", lambda o, t: o.move(t / "docs", t / "moved"), ["move:begun", "move:moved"], False),
    ("move-overwrite", lambda o, t: o.move(t / "notes.txt", t / "target", overwrite=True),
     ["move:begun", "move:aside", "move:moved"], False),
    ("move-cross-device", lambda o, t: o.move(t / "docs", t / "target", overwrite=True),
     ["move:begun", "copy:file", "move:copied", "move:aside", "move:renamed", "transfer:copied",
      "transfer:renamed", "move:moved"], True),
    ("delete", lambda o, t: o.delete(t / "docs"), ["delete:begun", "delete:moved"], False),
    ("delete-cross-device", lambda o, t: o.delete(t / "docs"),
     ["delete:begun", "copy:file", "transfer:copied", "transfer:renamed", "delete:moved"], True),
    ("chmod", lambda o, t: o.chmod(t / "notes.txt", 0o600), ["chmod:begun", "chmod:done"], False),
]


def _finished_state(tmp_path: Path, op: Op, cross: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple]:
    """The tree as the operation leaves it when nothing goes wrong."""
    with monkeypatch.context() as patch:
        if cross:
            patch.setattr(journal_move, "cross_device", lambda a, b: True)
        tree = make_tree(tmp_path / "reference")
        op(FileOps(Journal(tmp_path / "reference-journal"), "r"), tree)
        return snapshot(tree)


@pytest.mark.parametrize(
    ("name", "op", "point", "cross"),
    [(name, op, point, cross) for name, op, points, cross in CASES for point in points],
    ids=[f"{name}@{point}" for name, _, points, _ in CASES for point in points],
)
def test_crash_during_an_action_is_settled_by_the_next_journal(tmp_path, monkeypatch, name, op, point, cross):
    finished = _finished_state(tmp_path, op, cross, monkeypatch)
    tree = make_tree(tmp_path / "tree")
    original = snapshot(tree)
    root = tmp_path / "journal"
    if cross:
        monkeypatch.setattr(journal_move, "cross_device", lambda a, b: True)
    crash_at(monkeypatch, point)
    with pytest.raises(SimulatedCrash):
        op(FileOps(Journal(root), "req", "crash test"), tree)
    monkeypatch.setattr(journal_fs, "checkpoint", lambda name: None)

    pending = [m for m in Journal(root, repair=False).manifests() if m.status == "pending"]
    assert len(pending) == 1, "the crash left the manifest pending"
    journal = Journal(root)  # the next start repairs
    [manifest] = journal.manifests()
    assert manifest.status in ("done", "abandoned"), manifest
    assert journal.repair_notes and manifest.status in journal.repair_notes[0]
    assert leftovers(tree) == []
    if manifest.status == "abandoned":
        assert snapshot(tree) == original
        with pytest.raises(NothingToUndo):
            journal.undo()
    else:
        assert snapshot(tree) == finished
        report = journal.undo()
        assert report.ok, report.refused
        assert snapshot(tree) == original


def test_crash_before_the_action_changed_anything_is_abandoned(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "tree")
    original = snapshot(tree)
    crash_at(monkeypatch, "write:begun")
    with pytest.raises(SimulatedCrash):
        FileOps(Journal(tmp_path / "j"), "req").write(tree / "notes.txt", b"never written")
    monkeypatch.setattr(journal_fs, "checkpoint", lambda name: None)
    journal = Journal(tmp_path / "j")
    assert journal.manifests()[0].status == "abandoned"
    assert snapshot(tree) == original


def test_crash_after_the_rename_is_recorded_as_done_with_the_hash_after(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "tree")
    crash_at(monkeypatch, "write:renamed")
    with pytest.raises(SimulatedCrash):
        FileOps(Journal(tmp_path / "j"), "req").write(tree / "notes.txt", b"written")
    monkeypatch.setattr(journal_fs, "checkpoint", lambda name: None)
    journal = Journal(tmp_path / "j")
    manifest = journal.manifests()[0]
    assert manifest.status == "done"
    assert manifest.after.path.sha256 == hashlib.sha256(b"written").hexdigest()
    assert (tree / "notes.txt").read_bytes() == b"written"


def test_explicit_repair_settles_without_a_new_journal(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "tree")
    journal = Journal(tmp_path / "j")
    crash_at(monkeypatch, "delete:begun")
    with pytest.raises(SimulatedCrash):
        FileOps(journal, "req").delete(tree / "notes.txt")
    monkeypatch.setattr(journal_fs, "checkpoint", lambda name: None)
    notes = journal.repair()
    assert notes and "abandoned" in notes[0]
    assert (tree / "notes.txt").exists()


def test_partly_removed_source_after_a_complete_cross_device_copy_is_finished(tmp_path, monkeypatch):
    """A crash while the source of a cross-device delete was being removed: the copy in the journal is complete,
    so the removal is finished (what is left of the source is contained in the copy) and the delete is done."""
    tree = make_tree(tmp_path / "tree")
    original = snapshot(tree)
    monkeypatch.setattr(journal_move, "cross_device", lambda a, b: True)
    crash_at(monkeypatch, "transfer:renamed")
    with pytest.raises(SimulatedCrash):
        FileOps(Journal(tmp_path / "j"), "req").delete(tree / "docs")
    monkeypatch.setattr(journal_fs, "checkpoint", lambda name: None)
    (tree / "docs" / "deep" / "b.txt").unlink()  # the removal had got this far
    journal = Journal(tmp_path / "j")
    assert journal.manifests()[0].status == "done"
    assert not (tree / "docs").exists()
    assert journal.undo().ok
    assert snapshot(tree) == original


def test_failure_mid_action_rolls_back_and_says_nothing_changed(tmp_path, monkeypatch):
    """Not a crash but an error (disk full while writing the temp file): settled at once, original intact."""
    tree = make_tree(tmp_path / "tree")
    original = snapshot(tree)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_move, "write_new", disk_full)
    journal = Journal(tmp_path / "j")
    with pytest.raises(JournalError, match="no space left on device.*nothing was changed|No space left.*nothing"):
        FileOps(journal, "req").write(tree / "notes.txt", b"x")
    assert snapshot(tree) == original
    manifest = journal.manifests()[0]
    assert manifest.status == "abandoned" and "No space" in manifest.error
    assert not list(Path(journal.objects_dir).rglob("path")), "the extra link to the original was dropped"


# -- crashes during an undo ----------------------------------------------------------------------------------------

UNDO_CASES: list[tuple[str, Op, str, int, bool]] = [
    ("write", lambda o, t: o.write(t / "notes.txt", b"new"), "undo:move", 1, False),
    ("move-overwrite", lambda o, t: o.move(t / "notes.txt", t / "target", overwrite=True), "undo:move", 1, False),
    ("copy-overwrite", lambda o, t: o.copy(t / "docs", t / "target", overwrite=True), "undo:move", 1, False),
    ("mkdir", lambda o, t: o.mkdir(t / "x" / "y" / "z"), "undo:rmdir", 2, False),
    ("chmod", lambda o, t: o.chmod(t / "docs", 0o700), "undo:chmod", 1, False),
    ("delete", lambda o, t: o.delete(t / "docs"), "undo:move", 1, False),
    ("move-cross-device", lambda o, t: o.move(t / "docs", t / "target", overwrite=True), "undo:move", 2, True),
    ("move-cross-device-mid-copy", lambda o, t: o.move(t / "docs", t / "moved"), "copy:file", 2, True),
]


@pytest.mark.parametrize(("name", "op", "point", "occurrence", "cross"), UNDO_CASES, ids=[c[0] for c in UNDO_CASES])
def test_crash_during_an_undo_is_rolled_forward(tmp_path, monkeypatch, name, op, point, occurrence, cross):
    if cross:
        monkeypatch.setattr(journal_move, "cross_device", lambda a, b: True)
    tree = make_tree(tmp_path / "tree")
    original = snapshot(tree)
    root = tmp_path / "journal"
    op(FileOps(Journal(root), "req"), tree)
    crash_at(monkeypatch, point, occurrence)
    with pytest.raises(SimulatedCrash):
        Journal(root).undo()
    monkeypatch.setattr(journal_fs, "checkpoint", lambda name: None)
    assert Journal(root, repair=False).manifests()[0].status == "undoing"
    journal = Journal(root)
    assert journal.manifests()[0].status == "undone"
    assert snapshot(tree) == original
    assert leftovers(tree) == []


def test_a_failed_first_undo_step_leaves_the_action_undoable(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "tree")
    journal = Journal(tmp_path / "j")
    action = FileOps(journal, "req").write(tree / "notes.txt", b"new")

    def refuse(*args, **kwargs):
        raise OSError(errno.EACCES, "Permission denied")

    real = journal_move.transfer
    monkeypatch.setattr(journal_move, "transfer", refuse)
    report = journal.undo(action)
    assert not report.ok and "Permission denied" in report.refused[0]
    assert journal.load(action).status == "done"
    monkeypatch.setattr(journal_move, "transfer", real)
    assert journal.undo(action).ok
    assert (tree / "notes.txt").read_bytes() == b"original notes\n"


def test_stale_manifest_temp_files_are_cleared(tmp_path):
    journal = Journal(tmp_path / "j")
    (journal.actions_dir / ".tmp-20260101T000000-abcd.json").write_text("{partial")
    Journal(tmp_path / "j")
    assert not list(journal.actions_dir.glob(".tmp-*"))


def test_unreadable_manifests_are_skipped(tmp_path):
    journal = Journal(tmp_path / "j")
    (journal.actions_dir / "garbage.json").write_text("not json")
    assert journal.entries() == []
    shutil.rmtree(tmp_path / "j")


@pytest.mark.parametrize("point", ["write:aside", "write:temp", "write:renamed"])
def test_crash_when_the_original_was_copied_not_linked(tmp_path, monkeypatch, point):
    tree = make_tree(tmp_path / "tree")
    original = snapshot(tree)

    def no_links(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    crash_at(monkeypatch, point)
    with pytest.raises(SimulatedCrash):
        FileOps(Journal(tmp_path / "j"), "req").write(tree / "notes.txt", b"new content")
    monkeypatch.setattr(journal_fs, "checkpoint", lambda name: None)
    journal = Journal(tmp_path / "j")
    manifest = journal.manifests()[0]
    if point == "write:renamed":
        assert manifest.status == "done" and (tree / "notes.txt").read_bytes() == b"new content"
        assert journal.undo().ok
    else:
        assert manifest.status == "abandoned"
        assert not Path(journal.object_path(manifest.id, "path")).exists(), "the spare copy was dropped"
    assert snapshot(tree) == original
