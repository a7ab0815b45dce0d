"""Journaled file operations and their undo: every operation, undone, leaves the exact bytes, modes and names it
found; undo refuses (changing nothing) when a file changed since; a request is undone as a whole; an action is
undone once; delete keeps the very inode in the journal's trash."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from llmos.policies.journal import Journal, JournalError, NothingToUndo, UnknownUndoTarget
from llmos.policies.journal import move as journal_move
from llmos.policies.journal.fileops import FileOps
from trees import snapshot as tree_state


def snapshot(root: Path) -> dict[str, tuple]:
    """The tree's state, the root folder's own mode included (undo must restore that too)."""
    return tree_state(root, include_root=True)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "data" / "journal")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "notes.txt").write_bytes(b"first line\nsecond line\n")
    (root / "notes.txt").chmod(0o640)
    (root / "script.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "script.sh").chmod(0o755)
    (root / "docs" / "a.pdf").write_bytes(b"%PDF-1.4 a" * 100)
    (root / "docs" / "deep" / "b.bin").write_bytes(bytes(range(256)))
    (root / "docs" / "deep").chmod(0o750)
    os.symlink("notes.txt", root / "link-to-notes")
    return root


@pytest.fixture
def ops(journal: Journal) -> FileOps:
    return FileOps(journal, "req-1", "tidy up", "files.test")


def undo_ok(journal: Journal, target: str | None = None) -> None:
    report = journal.undo(target)
    assert report.ok, report.refused


# -- each operation and its undo -----------------------------------------------------------------------------------


def test_write_replaces_file_and_undo_restores_bytes_and_mode(journal, ops, tree):
    before = snapshot(tree)
    action = ops.write(tree / "notes.txt", b"replaced")
    assert (tree / "notes.txt").read_bytes() == b"replaced"
    assert stat.S_IMODE((tree / "notes.txt").stat().st_mode) == 0o640, "a rewrite keeps the file's mode"
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_write_creates_file_and_undo_removes_it_to_the_trash(journal, ops, tree):
    before = snapshot(tree)
    action = ops.write(tree / "new.txt", "créé\n")
    assert (tree / "new.txt").read_text(encoding="utf-8") == "créé\n"
    undo_ok(journal, action)
    assert snapshot(tree) == before
    kept = Path(journal.object_path(action, "undone-path"))
    assert kept.read_text(encoding="utf-8") == "créé\n", "the undone file goes to the journal, it is not unlinked"


def test_write_create_only_refuses_an_existing_file(ops, tree):
    with pytest.raises(JournalError, match="exists"):
        ops.write(tree / "notes.txt", b"x", create_only=True)
    assert (tree / "notes.txt").read_bytes() == b"first line\nsecond line\n"


def test_append_and_undo(journal, ops, tree):
    before = snapshot(tree)
    action = ops.append(tree / "notes.txt", b"third line\n")
    assert (tree / "notes.txt").read_bytes() == b"first line\nsecond line\nthird line\n"
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_append_to_a_missing_file_creates_it(journal, ops, tree):
    action = ops.append(tree / "log.txt", b"one\n")
    assert (tree / "log.txt").read_bytes() == b"one\n"
    undo_ok(journal, action)
    assert not (tree / "log.txt").exists()


def test_replace_lines_is_an_edit_of_an_existing_file(journal, ops, tree):
    before = snapshot(tree)
    action = ops.replace_lines(tree / "notes.txt", "first line\nEDITED\n")
    assert journal.entries()[0].op == "edit"
    undo_ok(journal, action)
    assert snapshot(tree) == before
    with pytest.raises(JournalError, match="does not exist"):
        ops.replace_lines(tree / "absent.txt", "x")


def test_mkdir_with_parents_and_undo_removes_all_created_folders(journal, ops, tree):
    before = snapshot(tree)
    action = ops.mkdir(tree / "a" / "b" / "c")
    assert (tree / "a" / "b" / "c").is_dir()
    assert journal.entries()[0].paths == tuple(str(tree / p) for p in ("a", "a/b", "a/b/c"))
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_mkdir_without_parents_refuses_a_missing_parent(ops, tree):
    with pytest.raises(JournalError, match="does not exist"):
        ops.mkdir(tree / "x" / "y", parents=False)
    with pytest.raises(JournalError, match="already exists"):
        ops.mkdir(tree / "docs")


def test_copy_file_and_undo(journal, ops, tree):
    before = snapshot(tree)
    action = ops.copy(tree / "script.sh", tree / "docs" / "script-copy.sh")
    copied = tree / "docs" / "script-copy.sh"
    assert copied.read_bytes() == (tree / "script.sh").read_bytes()
    assert stat.S_IMODE(copied.stat().st_mode) == 0o755
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_copy_folder_tree_keeps_links_as_links_and_undo(journal, ops, tree):
    os.symlink("../notes.txt", tree / "docs" / "rel-link")
    before = snapshot(tree)
    action = ops.copy(tree / "docs", tree / "docs-copy")
    assert snapshot(tree / "docs-copy") == snapshot(tree / "docs")
    assert os.readlink(tree / "docs-copy" / "rel-link") == "../notes.txt"
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_copy_refuses_existing_destination_unless_overwrite(journal, ops, tree):
    with pytest.raises(JournalError, match="exists"):
        ops.copy(tree / "script.sh", tree / "notes.txt")
    before = snapshot(tree)
    action = ops.copy(tree / "script.sh", tree / "notes.txt", overwrite=True)
    assert (tree / "notes.txt").read_bytes() == (tree / "script.sh").read_bytes()
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_move_file_and_undo_keeps_the_inode(journal, ops, tree):
    inode = (tree / "notes.txt").stat().st_ino
    before = snapshot(tree)
    action = ops.move(tree / "notes.txt", tree / "docs" / "renamed.txt")
    assert not (tree / "notes.txt").exists()
    assert (tree / "docs" / "renamed.txt").stat().st_ino == inode
    undo_ok(journal, action)
    assert snapshot(tree) == before
    assert (tree / "notes.txt").stat().st_ino == inode


def test_move_folder_over_existing_with_overwrite_and_undo(journal, ops, tree):
    (tree / "target").mkdir()
    (tree / "target" / "old.txt").write_bytes(b"old")
    before = snapshot(tree)
    with pytest.raises(JournalError, match="exists"):
        ops.move(tree / "docs", tree / "target")
    action = ops.move(tree / "docs", tree / "target", overwrite=True)
    assert (tree / "target" / "a.pdf").exists()
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_move_a_symlink_moves_the_link_itself(journal, ops, tree):
    before = snapshot(tree)
    action = ops.move(tree / "link-to-notes", tree / "docs" / "moved-link")
    assert os.readlink(tree / "docs" / "moved-link") == "notes.txt"
    assert (tree / "notes.txt").read_bytes() == b"first line\nsecond line\n"
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_delete_file_keeps_the_inode_in_the_trash_and_undo_restores_it(journal, ops, tree):
    inode = (tree / "notes.txt").stat().st_ino
    before = snapshot(tree)
    action = ops.delete(tree / "notes.txt")
    assert not (tree / "notes.txt").exists()
    trashed = Path(journal.object_path(action, "path"))
    assert trashed.stat().st_ino == inode, "delete moves the file into the journal; it never unlinks it"
    assert trashed.read_bytes() == b"first line\nsecond line\n"
    undo_ok(journal, action)
    assert snapshot(tree) == before
    assert (tree / "notes.txt").stat().st_ino == inode


def test_delete_folder_and_undo(journal, ops, tree):
    before = snapshot(tree)
    action = ops.delete(tree / "docs")
    assert not (tree / "docs").exists()
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_delete_symlink_removes_the_link_not_its_target(journal, ops, tree):
    before = snapshot(tree)
    action = ops.delete(tree / "link-to-notes")
    assert (tree / "notes.txt").exists()
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_chmod_file_and_folder_and_undo(journal, ops, tree):
    before = snapshot(tree)
    first = ops.chmod(tree / "notes.txt", 0o600)
    second = ops.chmod(tree / "docs" / "deep", 0o700)
    assert stat.S_IMODE((tree / "notes.txt").stat().st_mode) == 0o600
    manifest = journal.load(first)
    assert manifest.before.path.mode == 0o640 and manifest.mode == 0o600
    undo_ok(journal, second)
    undo_ok(journal, first)
    assert snapshot(tree) == before


def test_chmod_refuses_bad_modes(ops, tree):
    for mode in (-1, 0o10000, "0644", True):
        with pytest.raises(JournalError, match="not a permission mode"):
            ops.chmod(tree / "notes.txt", mode)


# -- requests, the last request, refusals --------------------------------------------------------------------------


def test_undo_a_whole_request_in_reverse_order(journal, tree):
    """The PDF case: mkdir, then moves into it; undoing the request moves them back and removes the folder."""
    before = snapshot(tree)
    ops = FileOps(journal, "pdfs", "move the PDFs into Documents/PDFs", "files.move")
    ops.mkdir(tree / "Documents" / "PDFs")
    ops.move(tree / "docs" / "a.pdf", tree / "Documents" / "PDFs" / "a.pdf")
    ops.write(tree / "Documents" / "PDFs" / "index.txt", b"a.pdf\n")
    report = journal.undo("pdfs")
    assert report.ok, report.refused
    assert [entry.op for entry in report.undone] == ["write", "move", "mkdir"]
    assert snapshot(tree) == before


def test_undo_without_id_undoes_the_last_request_only(journal, tree):
    FileOps(journal, "first", "one").write(tree / "one.txt", b"1")
    second = FileOps(journal, "second", "two")
    second.write(tree / "two.txt", b"2")
    second.write(tree / "three.txt", b"3")
    report = journal.undo()
    assert report.ok and report.request_id == "second" and len(report.undone) == 2
    assert (tree / "one.txt").exists() and not (tree / "two.txt").exists() and not (tree / "three.txt").exists()
    report = journal.undo()
    assert report.ok and report.request_id == "first"
    with pytest.raises(NothingToUndo):
        journal.undo()


def test_undo_refuses_after_an_outside_edit_and_changes_nothing(journal, ops, tree):
    action = ops.write(tree / "notes.txt", b"by llmos\n")
    (tree / "notes.txt").write_bytes(b"edited by the person afterwards\n")
    after_edit = snapshot(tree)
    report = journal.undo(action)
    assert not report.ok and not report.undone
    message = " ".join(report.refused)
    assert "notes.txt" in message and "changed since" in message
    assert snapshot(tree) == after_edit
    assert journal.load(action).status == "done", "a refused undo leaves the action undoable later"


def test_request_undo_refuses_as_a_whole_before_changing_anything(journal, tree):
    ops = FileOps(journal, "req", "two edits")
    ops.write(tree / "notes.txt", b"one")
    ops.write(tree / "script.sh", b"two")
    (tree / "notes.txt").write_bytes(b"outside edit")  # the first action's file changed; the second's did not
    after_edit = snapshot(tree)
    report = journal.undo("req")
    assert not report.ok and not report.undone
    assert any("notes.txt" in line for line in report.refused)
    assert report.refused[-1] == "nothing was undone"
    assert snapshot(tree) == after_edit, "the untouched second file was not reverted either"


def test_undo_refuses_a_mode_change_since(journal, ops, tree):
    action = ops.write(tree / "notes.txt", b"x")
    (tree / "notes.txt").chmod(0o600)
    report = journal.undo(action)
    assert not report.ok and "mode changed" in " ".join(report.refused)


def test_undo_of_mkdir_refuses_when_the_folder_is_no_longer_empty(journal, ops, tree):
    action = ops.mkdir(tree / "fresh")
    (tree / "fresh" / "mine.txt").write_bytes(b"the person's file")
    report = journal.undo(action)
    assert not report.ok and "not empty" in " ".join(report.refused)
    assert (tree / "fresh" / "mine.txt").read_bytes() == b"the person's file"


def test_undo_of_delete_refuses_when_the_path_exists_again(journal, ops, tree):
    action = ops.delete(tree / "notes.txt")
    (tree / "notes.txt").write_bytes(b"a new file with the old name")
    report = journal.undo(action)
    assert not report.ok and "exists again" in " ".join(report.refused)
    assert (tree / "notes.txt").read_bytes() == b"a new file with the old name"


def test_double_undo_is_refused(journal, ops, tree):
    action = ops.write(tree / "notes.txt", b"x")
    undo_ok(journal, action)
    report = journal.undo(action)
    assert not report.ok and "already undone" in report.refused[0]
    report = journal.undo("req-1")
    assert not report.ok and "nothing left to undo" in report.refused[0]


def test_unknown_id_raises_unknown_undo_target(journal, ops, tree):
    ops.write(tree / "x.txt", b"x")
    with pytest.raises(UnknownUndoTarget, match="no action or request"):
        journal.undo("20990101T000000-ffff")


def test_entries_newest_first_with_request_tool_op_paths_status(journal, ops, tree):
    first = ops.write(tree / "a.txt", b"a")
    second = ops.move(tree / "a.txt", tree / "b.txt")
    journal.undo(second)
    entries = journal.entries()
    assert [entry.id for entry in entries] == [second, first]
    newest = entries[0]
    assert (newest.request_id, newest.request, newest.tool, newest.op) == ("req-1", "tidy up", "files.test", "move")
    assert newest.paths == (str(tree / "a.txt"), str(tree / "b.txt"))
    assert newest.status == "undone" and not newest.undoable and entries[1].undoable
    assert newest.time.endswith("Z")


def test_action_ids_are_short_and_sortable_by_time(journal, ops, tree):
    ids = [ops.write(tree / f"f{index}.txt", b"x") for index in range(5)]
    for action_id in ids:
        stamp, suffix = action_id.split("-")
        assert len(stamp) == 15 and stamp[8] == "T" and len(suffix) == 4
    stamps = [action_id.split("-")[0] for action_id in ids]
    assert stamps == sorted(stamps), "later actions never sort before earlier ones"
    seqs = [journal.load(i).seq for i in ids]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5


def test_manifest_records_hashes_modes_and_where_the_original_went(journal, ops, tree):
    action = ops.write(tree / "notes.txt", b"new")
    manifest = journal.load(action)
    assert manifest.status == "done" and manifest.op == "write"
    assert manifest.request_id == "req-1" and manifest.request == "tidy up" and manifest.tool == "files.test"
    assert manifest.before.path.mode == 0o640
    assert manifest.before.path.sha256 != manifest.after.path.sha256
    kept = Path(journal.object_path(action, "path"))
    assert kept.read_bytes() == b"first line\nsecond line\n"
    raw = (journal.actions_dir / f"{action}.json").read_text()
    assert json.loads(raw) == manifest.to_json()


def test_journal_folders_are_private(journal):
    for folder in (journal.root, journal.actions_dir, journal.objects_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_prune_forgets_old_actions_and_their_objects(journal, ops, tree):
    action = ops.delete(tree / "notes.txt")
    assert journal.prune(older_than_days=1) == 0
    manifest = journal.load(action)
    manifest.time = "2000-01-01T00:00:00Z"
    journal.write_manifest(manifest)
    assert journal.prune(older_than_days=1) == 1
    assert journal.load(action) is None and not Path(journal.object_path(action, "path")).exists()


# -- across file systems (simulated) -------------------------------------------------------------------------------


def test_delete_across_file_systems_copies_then_removes_and_says_so(journal, ops, tree, monkeypatch):
    monkeypatch.setattr(journal_move, "cross_device", lambda a, b: True)
    before = snapshot(tree)
    action = ops.delete(tree / "docs")
    manifest = journal.load(action)
    assert manifest.cross_device is True
    assert not (tree / "docs").exists()
    assert (Path(journal.object_path(action, "path")) / "deep" / "b.bin").read_bytes() == bytes(range(256))
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_move_across_file_systems_copies_then_journal_deletes_the_source(journal, ops, tree, monkeypatch):
    monkeypatch.setattr(journal_move, "cross_device", lambda a, b: True)
    (tree / "dest").mkdir()
    (tree / "dest" / "x.txt").write_bytes(b"replaced one")
    before = snapshot(tree)
    action = ops.move(tree / "docs", tree / "dest" / "x.txt", overwrite=True)
    manifest = journal.load(action)
    assert manifest.cross_device is True
    assert (tree / "dest" / "x.txt" / "a.pdf").exists() and not (tree / "docs").exists()
    assert Path(journal.object_path(action, "path")).is_dir(), "the source went to the journal"
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_rename_failing_with_exdev_falls_back_to_copy(journal, ops, tree, monkeypatch):
    real = journal_move.rename_noreplace

    def no_cross_rename(src, dst):
        if src.parent != dst.parent and "journal" not in dst.path:
            raise OSError(18, "Invalid cross-device link")
        return real(src, dst)

    monkeypatch.setattr(journal_move, "rename_noreplace", no_cross_rename)
    before = snapshot(tree)
    action = ops.move(tree / "notes.txt", tree / "docs" / "notes.txt")
    assert journal.load(action).cross_device is True
    assert (tree / "docs" / "notes.txt").read_bytes() == b"first line\nsecond line\n"
    monkeypatch.setattr(journal_move, "rename_noreplace", real)
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_write_without_hard_links_keeps_a_fsynced_copy_of_the_original(journal, ops, tree, monkeypatch):
    """Where the journal cannot hard-link the original (another file system, no link support) it copies it."""

    def no_links(*args, **kwargs):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    before = snapshot(tree)
    action = ops.write(tree / "notes.txt", b"new")
    kept = Path(journal.object_path(action, "path"))
    assert kept.read_bytes() == b"first line\nsecond line\n" and stat.S_IMODE(kept.stat().st_mode) == 0o640
    undo_ok(journal, action)
    assert snapshot(tree) == before


def test_an_existing_journal_folder_with_loose_permissions_is_tightened(tmp_path):
    root = tmp_path / "journal"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    Journal(root)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
