"""FileOps refuses odd requests before anything changes, with one readable `JournalError` line (a ValueError, so
tool runners show it as it is): a missing source, an existing destination, a symlink that the operation would
follow, special files, folders where files are expected, missing parent folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from llmos.policies.journal import Journal, JournalError
from llmos.policies.journal.fileops import FileOps


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Journal, FileOps, Path]:
    journal = Journal(tmp_path / "journal")
    tree = tmp_path / "tree"
    (tree / "folder").mkdir(parents=True)
    (tree / "file.txt").write_bytes(b"content")
    os.symlink("file.txt", tree / "link")
    return journal, FileOps(journal, "req", "r", "files.test"), tree


REFUSALS = [
    ("write to a folder", lambda o, t: o.write(t / "folder", b"x"), "is a folder"),
    ("write in a missing folder", lambda o, t: o.write(t / "nope" / "f.txt", b"x"), "does not exist"),
    ("write through a link", lambda o, t: o.write(t / "link", b"x"), "symbolic link"),
    ("append to a folder", lambda o, t: o.append(t / "folder", b"x"), "is a folder"),
    ("copy a missing source", lambda o, t: o.copy(t / "missing", t / "x"), "does not exist"),
    ("copy onto an existing file", lambda o, t: o.copy(t / "file.txt", t / "link"), "exists"),
    ("copy onto a link with overwrite", lambda o, t: o.copy(t / "file.txt", t / "link", overwrite=True),
     "symbolic link"),
    ("copy a link", lambda o, t: o.copy(t / "link", t / "x"), "symbolic link"),
    ("move a missing source", lambda o, t: o.move(t / "missing", t / "x"), "does not exist"),
    ("move onto an existing folder", lambda o, t: o.move(t / "file.txt", t / "folder"), "exists"),
    ("move onto itself", lambda o, t: o.move(t / "file.txt", t / "file.txt"), "onto itself"),
    ("delete a missing file", lambda o, t: o.delete(t / "missing"), "does not exist"),
    ("chmod a missing file", lambda o, t: o.chmod(t / "missing", 0o600), "does not exist"),
    ("chmod a link", lambda o, t: o.chmod(t / "link", 0o600), "symbolic link"),
    ("mkdir over a file", lambda o, t: o.mkdir(t / "file.txt"), "already exists"),
    ("mkdir below a file", lambda o, t: o.mkdir(t / "file.txt" / "sub"), "not a folder|does not exist"),
    ("data of the wrong type", lambda o, t: o.write(t / "n.txt", 42), "bytes or text"),
    ("empty path", lambda o, t: o.write("", b"x"), "empty path"),
]


@pytest.mark.parametrize(("what", "call", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_change_nothing_and_read_as_one_line(setup, what, call, message):
    journal, ops, tree = setup
    before = sorted((str(p), p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
                    for p in tree.rglob("*"))
    with pytest.raises(JournalError, match=message) as caught:
        call(ops, tree)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)
    after = sorted((str(p), p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
                   for p in tree.rglob("*"))
    assert after == before
    assert journal.manifests() == [], "a refusal before acting leaves no journal entry"


def test_operations_return_the_action_id_as_text(setup):
    journal, ops, tree = setup
    action = ops.write(tree / "new.txt", "text is encoded as UTF-8: é")
    assert isinstance(action, str) and journal.load(action).status == "done"
    assert (tree / "new.txt").read_bytes() == "text is encoded as UTF-8: é".encode()


def test_relative_paths_are_resolved_against_the_working_folder(setup, monkeypatch):
    journal, ops, tree = setup
    monkeypatch.chdir(tree)
    action = ops.write("relative.txt", b"r")
    assert journal.load(action).path == str(tree / "relative.txt")


def test_symlinked_parent_folders_are_recorded_by_their_real_path(setup, tmp_path):
    journal, ops, tree = setup
    os.symlink(tree / "folder", tmp_path / "shortcut")
    action = ops.write(tmp_path / "shortcut" / "f.txt", b"x")
    assert journal.load(action).path == str(tree / "folder" / "f.txt")
    assert journal.undo(action).ok


def test_a_failed_operation_explains_and_records_the_error(setup, monkeypatch):
    journal, ops, tree = setup
    from llmos.policies.journal import move as journal_move

    def broken_copy(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(journal_move, "copy_entry", broken_copy)
    with pytest.raises(JournalError, match="could not copy .*Input/output error; nothing was changed"):
        ops.copy(tree / "folder", tree / "copy")
    [manifest] = journal.manifests()
    assert manifest.status == "abandoned" and manifest.error == "Input/output error"
    assert not (tree / "copy").exists()
