"""Attacks on the journal and undo that must fail: files changed behind llmos's back, symlinks swapped in so an
undo (or an operation) would write through them, tampered journal copies, hostile names and ids. Each test is an
attack; the assertion is that it changed nothing outside the tree and that llmos refused, saying why."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from llmos.policies.journal import Journal, JournalError, UnknownUndoTarget
from llmos.policies.journal import fs as journal_fs
from llmos.policies.journal.fileops import FileOps
from trees import snapshot


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "data" / "journal")


@pytest.fixture
def ops(journal: Journal) -> FileOps:
    return FileOps(journal, "req", "attack", "files.test")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "docs").mkdir(parents=True)
    (root / "notes.txt").write_bytes(b"notes\n")
    (root / "docs" / "report.txt").write_bytes(b"report\n")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Somewhere the person never asked llmos to touch, with a file the attacker would like overwritten."""
    root = tmp_path / "outside"
    root.mkdir()
    (root / "precious.txt").write_bytes(b"precious\n")
    return root


def refused(report) -> str:
    assert not report.ok and not report.undone, report
    return " ".join(report.refused)


# -- undo after outside changes ------------------------------------------------------------------------------------


def test_undo_after_an_outside_edit_is_refused(journal, ops, tree):
    action = ops.write(tree / "notes.txt", b"llmos wrote this\n")
    (tree / "notes.txt").write_bytes(b"the person kept working\n")
    message = refused(journal.undo(action))
    assert "notes.txt" in message and "changed since the action" in message
    assert (tree / "notes.txt").read_bytes() == b"the person kept working\n"


def test_undo_after_an_edit_that_keeps_the_size_is_refused(journal, ops, tree):
    action = ops.write(tree / "notes.txt", b"AAAA")
    (tree / "notes.txt").write_bytes(b"BBBB")
    assert "sha256" in refused(journal.undo(action))


def test_undo_of_a_copied_folder_after_an_edit_inside_it_is_refused(journal, ops, tree):
    action = ops.copy(tree / "docs", tree / "docs-copy")
    (tree / "docs-copy" / "report.txt").write_bytes(b"edited in the copy\n")
    assert "contents changed" in refused(journal.undo(action))
    assert (tree / "docs-copy" / "report.txt").read_bytes() == b"edited in the copy\n"


def test_undo_of_a_move_when_a_new_file_took_the_old_name_is_refused(journal, ops, tree):
    action = ops.move(tree / "notes.txt", tree / "docs" / "notes.txt")
    (tree / "notes.txt").write_bytes(b"a new file under the old name\n")
    assert "exists again" in refused(journal.undo(action))
    assert (tree / "notes.txt").read_bytes() == b"a new file under the old name\n"


def test_undo_of_mkdir_with_a_hidden_file_inside_is_refused(journal, ops, tree):
    action = ops.mkdir(tree / "new")
    (tree / "new" / ".hidden").write_bytes(b"mine")
    assert "not empty" in refused(journal.undo(action))
    assert (tree / "new" / ".hidden").exists()


def test_undo_of_a_request_with_one_changed_file_changes_none_of_them(journal, tree):
    ops = FileOps(journal, "batch", "rewrite everything")
    ops.write(tree / "notes.txt", b"1")
    ops.write(tree / "docs" / "report.txt", b"2")
    ops.delete(tree / "docs")
    (tree / "notes.txt").write_bytes(b"changed")
    before = snapshot(tree)
    assert "nothing was undone" in refused(journal.undo("batch"))
    assert snapshot(tree) == before


# -- symlinks swapped in before an undo ----------------------------------------------------------------------------


def test_file_swapped_for_a_symlink_before_undo_is_refused(journal, ops, tree, outside):
    """After a write, the file is replaced by a link to a file outside with the very same content: undo would
    otherwise move the outside file's link aside and write the original through it."""
    action = ops.write(tree / "notes.txt", b"precious\n")
    (tree / "notes.txt").unlink()
    os.symlink(outside / "precious.txt", tree / "notes.txt")
    assert "symbolic link" in refused(journal.undo(action))
    assert (outside / "precious.txt").read_bytes() == b"precious\n"


def test_parent_folder_swapped_for_a_symlink_before_undo_is_refused(journal, ops, tree, outside):
    """The folder holding a created file is swapped for a link to an outside folder holding a file of the same
    name and content: undo must not remove (trash) the outside file."""
    action = ops.write(tree / "docs" / "precious.txt", b"precious\n")
    os.rename(tree / "docs", tree / "docs.real")
    os.symlink(outside, tree / "docs")
    message = refused(journal.undo(action))
    assert "symbolic link" in message and "refusing to go through it" in message
    assert (outside / "precious.txt").read_bytes() == b"precious\n"


def test_parent_swapped_for_a_symlink_before_undoing_a_delete_is_refused(journal, ops, tree, outside):
    """Restoring a deleted file through a swapped-in folder link would plant it outside."""
    action = ops.delete(tree / "docs" / "report.txt")
    os.rename(tree / "docs", tree / "docs.real")
    os.symlink(outside, tree / "docs")
    assert "symbolic link" in refused(journal.undo(action))
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_destination_parent_swapped_before_undoing_a_move_is_refused(journal, ops, tree, outside):
    action = ops.move(tree / "notes.txt", tree / "docs" / "notes.txt")
    os.rename(tree / "docs", tree / "docs.real")
    (outside / "notes.txt").write_bytes(b"notes\n")
    os.symlink(outside, tree / "docs")
    assert "symbolic link" in refused(journal.undo(action))
    assert (outside / "notes.txt").read_bytes() == b"notes\n" and not (tree / "notes.txt").exists()


def test_dangling_symlink_at_a_deleted_path_blocks_the_restore(journal, ops, tree, outside):
    action = ops.delete(tree / "notes.txt")
    os.symlink(outside / "planted.txt", tree / "notes.txt")
    assert "exists again" in refused(journal.undo(action))
    assert not (outside / "planted.txt").exists()


def test_folder_swapped_for_a_symlink_mid_operation_writes_where_it_was_checked(ops, tree, outside, monkeypatch):
    """A race: between the check and the write the parent folder becomes a link to the outside. The operation
    holds the folder open, so the file lands in the folder that was checked (now renamed), never outside."""

    def swap(point: str) -> None:
        if point == "write:begun":
            os.rename(tree / "docs", tree / "docs.moved")
            os.symlink(outside, tree / "docs")

    monkeypatch.setattr(journal_fs, "checkpoint", swap)
    ops.write(tree / "docs" / "precious.txt", b"attacker-chosen content\n")
    assert (outside / "precious.txt").read_bytes() == b"precious\n"
    assert (tree / "docs.moved" / "precious.txt").read_bytes() == b"attacker-chosen content\n"


# -- operations that would follow links or touch odd files ---------------------------------------------------------


def test_write_through_a_symlink_is_refused(ops, tree, outside):
    os.symlink(outside / "precious.txt", tree / "link.txt")
    with pytest.raises(JournalError, match="symbolic link"):
        ops.write(tree / "link.txt", b"overwrite the target")
    with pytest.raises(JournalError, match="symbolic link"):
        ops.append(tree / "link.txt", b"append to the target")
    assert (outside / "precious.txt").read_bytes() == b"precious\n"


def test_chmod_through_a_symlink_is_refused(ops, tree, outside):
    os.symlink(outside / "precious.txt", tree / "link.txt")
    mode = stat.S_IMODE((outside / "precious.txt").stat().st_mode)
    with pytest.raises(JournalError, match="symbolic link"):
        ops.chmod(tree / "link.txt", 0o777)
    assert stat.S_IMODE((outside / "precious.txt").stat().st_mode) == mode


def test_copying_a_symlink_that_points_out_is_refused(ops, tree, outside):
    os.symlink(outside / "precious.txt", tree / "link.txt")
    with pytest.raises(JournalError, match="symbolic link"):
        ops.copy(tree / "link.txt", tree / "stolen.txt")
    assert not (tree / "stolen.txt").exists()


def test_a_link_out_inside_a_copied_folder_is_copied_as_a_link_not_read(ops, tree, outside):
    os.symlink(outside / "precious.txt", tree / "docs" / "out")
    ops.copy(tree / "docs", tree / "copy")
    assert (tree / "copy" / "out").is_symlink()
    assert os.readlink(tree / "copy" / "out") == str(outside / "precious.txt")


def test_writing_to_a_fifo_is_refused_without_hanging(ops, tree):
    os.mkfifo(tree / "pipe")
    with pytest.raises(JournalError, match="special file"):
        ops.write(tree / "pipe", b"x")
    with pytest.raises(JournalError, match="special file"):
        ops.copy(tree / "pipe", tree / "pipe-copy")


def test_copying_a_folder_that_holds_a_fifo_is_refused_without_hanging(ops, tree):
    os.mkfifo(tree / "docs" / "pipe")
    with pytest.raises(JournalError, match="special file"):
        ops.copy(tree / "docs", tree / "docs-copy")
    assert not (tree / "docs-copy").exists()


def test_the_journal_itself_cannot_be_touched_through_file_ops(journal, ops, tree):
    action = ops.delete(tree / "notes.txt")
    kept = Path(journal.object_path(action, "path"))
    for attempt in (lambda: ops.delete(journal.root), lambda: ops.delete(kept),
                    lambda: ops.write(journal.actions_dir / f"{action}.json", b"{}"),
                    lambda: ops.move(journal.root.parent, tree / "stolen"),
                    lambda: ops.chmod(journal.root, 0o777)):
        with pytest.raises(JournalError, match="undo journal"):
            attempt()
    assert kept.read_bytes() == b"notes\n"


def test_nul_in_a_path_and_the_root_folder_are_refused(ops, tree):
    with pytest.raises(JournalError, match="NUL"):
        ops.write(str(tree / "a\0b"), b"x")
    with pytest.raises(JournalError, match="does not name"):
        ops.delete("/")
    with pytest.raises(JournalError, match="does not name"):
        ops.delete(str(tree / ".."))


def test_moving_a_folder_into_itself_or_onto_its_parent_is_refused(ops, tree):
    with pytest.raises(JournalError, match="into itself"):
        ops.move(tree / "docs", tree / "docs" / "inner")
    with pytest.raises(JournalError, match="holds it"):
        ops.move(tree / "docs" / "report.txt", tree / "docs", overwrite=True)
    with pytest.raises(JournalError, match="into itself"):
        ops.copy(tree / "docs", tree / "docs" / "again")


# -- tampered journal ----------------------------------------------------------------------------------------------


def test_a_tampered_copy_in_the_trash_is_not_restored(journal, ops, tree):
    action = ops.delete(tree / "notes.txt")
    Path(journal.object_path(action, "path")).write_bytes(b"planted by an attacker\n")
    assert "journal's copy" in refused(journal.undo(action))
    assert not (tree / "notes.txt").exists()


def test_an_emptied_trash_is_reported_not_crashed_on(journal, ops, tree):
    action = ops.write(tree / "notes.txt", b"new")
    Path(journal.object_path(action, "path")).unlink()
    assert "missing or was changed" in refused(journal.undo(action))
    assert (tree / "notes.txt").read_bytes() == b"new"


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "/etc/passwd", "..", "", "a/../../b", ".tmp-x", "\0"])
def test_hostile_undo_ids_name_nothing(journal, ops, tree, hostile):
    ops.write(tree / "x.txt", b"x")
    assert journal.load(hostile) is None
    if hostile:
        with pytest.raises(UnknownUndoTarget):
            journal.undo(hostile)


def test_two_processes_worth_of_threads_do_not_interleave_actions(journal, tree):
    """Actions from concurrent callers are serialized by the journal lock: every one is done and undoable."""
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            ops = FileOps(Journal(journal.root), f"req-{number}")
            for index in range(10):
                ops.write(tree / f"w{number}-{index}.txt", b"x")
        except BaseException as exc:  # noqa: BLE001 - anything a thread raises is collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    manifests = journal.manifests()
    assert len(manifests) == 40 and all(m.status == "done" for m in manifests)
    assert len({m.seq for m in manifests}) == 40
    for number in range(4):
        assert journal.undo(f"req-{number}").ok
    assert not list(tree.glob("w*.txt"))


# -- hostile names -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["new\nline.txt", "bidi\u202etxt.exe", "zero\u200bwidth", "-rf", "$(rm -rf ~)",
                                  "tab\there", "esc\x1b[31mred"])
def test_hostile_file_names_round_trip_and_display_escaped(journal, ops, tree, name):
    before = snapshot(tree)
    ops.write(tree / name, b"data")
    ops.move(tree / name, tree / "docs" / name)
    ops.delete(tree / "docs" / name)
    entry = journal.entries()[0]
    assert entry.paths == (str(tree / "docs" / name),)
    manifest_text = (journal.actions_dir / f"{entry.id}.json").read_text(encoding="ascii")
    assert all(ord(char) < 128 for char in manifest_text), "manifests are ASCII (names escaped)"
    assert journal.undo("req").ok
    assert snapshot(tree) == before
    shown = journal_fs.shown(str(tree / name))
    assert not any(char in shown for char in "\n\t\x1b\u202e\u200b")


def test_refusal_messages_escape_hostile_names(journal, ops, tree):
    name = "evil\n\u202eline"
    action = ops.write(tree / name, b"x")
    (tree / name).write_bytes(b"changed")
    message = refused(journal.undo(action))
    assert "\n" not in message and "\u202e" not in message and "\\x0a" in message and "\\u202e" in message
