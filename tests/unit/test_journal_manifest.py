"""Journal manifests are typed records parsed when read: manifests written by the dict-based journal (the files
in `journal_manifests/`, with ROOT for the folder they were written in) still load, rewrite byte for byte and
undo; a damaged one is skipped as an unreadable one is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from llmos.policies.journal import Journal, UnknownUndoTarget
from llmos.policies.journal.manifest import MoveStep

FIXTURES = Path(__file__).parent / "journal_manifests"
WRITE_ID = "20261204T135011-05f3"
APPEND_ID = "20261204T135012-9f46"


def place(journal: Journal, fixture: str, root: Path) -> Path:
    """Copy a stored manifest into `journal` as if it had been written under `root`."""
    text = (FIXTURES / fixture).read_text(encoding="ascii").replace("ROOT", str(root))
    action_id = json.loads(text)["id"]
    target = journal.actions_dir / f"{action_id}.json"
    target.write_text(text, encoding="ascii")
    return target


def test_an_old_manifest_loads_typed_and_rewrites_byte_for_byte(tmp_path: Path) -> None:
    """Fields read as attributes (undo steps too); writing it back gives exactly the bytes on disk."""
    journal = Journal(tmp_path / "journal", repair=False)
    for fixture in ("write_done.json", "append_undone.json"):
        stored = place(journal, fixture, tmp_path)
        manifest = journal.load(stored.stem)
        assert manifest is not None
        journal.write_manifest(manifest)
        assert stored.read_bytes() == (FIXTURES / fixture).read_text(encoding="ascii").replace(
            "ROOT", str(tmp_path)).encode("ascii")
    appended = journal.load(APPEND_ID)
    assert appended is not None and appended.status == "undone" and appended.undo is not None
    first_step = appended.undo.steps[0]
    assert isinstance(first_step, MoveStep) and first_step.source == str(tmp_path / "tree" / "notes.txt")
    written = journal.load(WRITE_ID)
    assert written is not None and written.before.path is not None and written.before.path.mode == 0o644


def test_an_old_done_manifest_still_undoes(tmp_path: Path) -> None:
    """A write journaled by the dict-based code is undone by this one: the original comes back."""
    journal = Journal(tmp_path / "journal", repair=False)
    place(journal, "write_done.json", tmp_path)
    notes = tmp_path / "tree" / "notes.txt"
    notes.parent.mkdir()
    notes.write_bytes(b"new notes\n")
    kept = Path(journal.object_dir(WRITE_ID)) / "path"
    kept.write_bytes(b"original notes\n")
    for path in (notes, kept):
        os.chmod(path, 0o644)
    report = journal.undo(WRITE_ID)
    assert report.ok, report.refused
    assert notes.read_bytes() == b"original notes\n"
    assert journal.load(WRITE_ID).status == "undone"  # type: ignore[union-attr]


@pytest.mark.parametrize("damage", [{"status": "half-done"}, {"path": None}, {"before": "not states"}])
def test_a_damaged_manifest_is_skipped_like_an_unreadable_one(tmp_path: Path, damage: dict[str, object]) -> None:
    """Not listed, not loaded, and undoing its id says there is no such action (as for a file that is not JSON)."""
    journal = Journal(tmp_path / "journal", repair=False)
    stored = place(journal, "write_done.json", tmp_path)
    stored.write_text(json.dumps({**json.loads(stored.read_text()), **damage}), encoding="ascii")
    assert journal.load(WRITE_ID) is None
    assert journal.entries() == []
    with pytest.raises(UnknownUndoTarget, match="no action or request with id"):
        journal.undo(WRITE_ID)
