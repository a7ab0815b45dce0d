"""Approval and execution must see the same folders. While an approval is pending, the attacker swaps the folder
that holds an approved path (or the path itself) for a symlink into ~/.ssh; each file tool must then fail the
step, write and read nothing there, and the audit log and journal must say it failed.

The real default profile, intent table, journal and audit log are driven by a scripted model; the approver, which
approves everything as `--yes` does, is the attacker's hook between the decision and the execution.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.policies.audit import AuditLog
from llmos.policies.engine import PolicyEngine
from llmos.policies.intent import allowed_effects_for
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps, JournalError
from llmos.policies.journal.pin import pin_path
from llmos.policies.profile import load_profile
from llmos.tools import load_builtin_tools

from llmos.events import RequestFinished
from llmos.executor import Safety
from llmos.session import Session

KEYS = b"ssh-ed25519 AAAA the-owner\n"


@pytest.fixture
def home(temp_home: Path) -> Path:
    """~/.ssh holds the owner's keys; ~/proj/sub is an ordinary project folder with files named like them."""
    ssh = temp_home / ".ssh"
    ssh.mkdir(exist_ok=True)
    (ssh / "authorized_keys").write_bytes(KEYS)
    (ssh / "known_hosts").write_bytes(b"host-a ssh-ed25519 SECRET HOSTS\n")
    sub = temp_home / "proj" / "sub"
    sub.mkdir(parents=True)
    (sub / "authorized_keys").write_bytes(b"project notes\n")
    (sub / "known_hosts").write_bytes(b"harmless project file\n")
    (temp_home / "proj" / "key.pub").write_bytes(b"ssh-ed25519 BBBB the-attacker\n")
    with zipfile.ZipFile(temp_home / "proj" / "bundle.zip", "w") as bundle:
        bundle.writestr("authorized_keys", "ssh-ed25519 BBBB the-attacker\n")
    return temp_home


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "data" / "journal")


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "data" / "audit.jsonl")


@pytest.fixture
def safety(home: Path, tmp_path: Path, journal: Journal, audit: AuditLog) -> Safety:
    engine = PolicyEngine(load_profile("default"), home=home, protected_paths=(tmp_path / "data",))
    return Safety(policy=engine, intent=allowed_effects_for, audit=audit,
                  file_ops=lambda rid, req, tool: FileOps(journal, rid, req, tool))


def ssh_snapshot(home: Path) -> dict[str, bytes | int]:
    """Everything in ~/.ssh: names, bytes and modes."""
    found: dict[str, bytes | int] = {}
    for path in sorted((home / ".ssh").rglob("*")):
        info = path.lstat()
        found[str(path.relative_to(home))] = path.read_bytes() if path.is_file() else info.st_mode
        found[str(path.relative_to(home)) + ":mode"] = info.st_mode
    return found


def swap_folder_for_ssh(home: Path) -> None:
    """The attack on the parent: the approved folder is moved away and a symlink to ~/.ssh takes its name."""
    sub = home / "proj" / "sub"
    sub.rename(home / "proj" / "sub.real")
    sub.symlink_to(home / ".ssh")


def swap_file_for_ssh_link(name: str) -> Callable[[Path], None]:
    """The attack on the target: the approved file is replaced by a symlink to the same name in ~/.ssh."""

    def swap(home: Path) -> None:
        target = home / "proj" / "sub" / name
        target.unlink()
        target.symlink_to(home / ".ssh" / name)

    return swap


def run_with_swap(session: Session, request: str, home: Path, swap: Callable[[Path], None]) -> RequestFinished:
    swapped: list[bool] = []

    def approve_after_swapping(step: Any) -> bool:
        if not swapped:
            swap(home)
            swapped.append(True)
        return True

    events = list(session.run(request, approver=approve_after_swapping))
    assert swapped, "the step was never asked about, so the attack never ran"
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    return finished


FOLDER_SWAPS = [
    ("write the file", "files.write", {"path": "~/proj/sub/authorized_keys", "content": "ssh-ed25519 BBBB x\n",
                                       "overwrite": True}),
    ("write the file", "files.write", {"path": "~/proj/sub/new_key", "content": "ssh-ed25519 BBBB x\n"}),
    ("append to the file", "files.append", {"path": "~/proj/sub/authorized_keys", "text": "ssh-ed25519 BBBB x"}),
    ("edit the file", "files.edit", {"path": "~/proj/sub/authorized_keys", "start": 1,
                                     "text": "ssh-ed25519 BBBB x"}),
    ("make a folder", "files.mkdir", {"path": "~/proj/sub/planted"}),
    ("copy the file", "files.copy", {"source": "~/proj/key.pub", "destination": "~/proj/sub/new_key"}),
    ("copy the file", "files.copy", {"source": "~/proj/sub/known_hosts", "destination": "~/proj/stolen"}),
    ("move the file", "files.move", {"source": "~/proj/key.pub", "destination": "~/proj/sub/new_key"}),
    ("move the file", "files.move", {"source": "~/proj/sub/known_hosts", "destination": "~/proj/stolen"}),
    ("delete the file", "files.delete", {"path": "~/proj/sub/authorized_keys"}),
    ("chmod the file", "files.chmod", {"path": "~/proj/sub/authorized_keys", "mode": "666"}),
    ("archive the folder", "files.archive", {"source": "~/proj/key.pub", "destination": "~/proj/sub/out.zip"}),
    ("archive the folder", "files.archive", {"source": "~/proj/sub", "destination": "~/proj/stolen.zip"}),
    ("extract the archive", "files.extract", {"archive": "~/proj/bundle.zip", "destination": "~/proj/sub/out"}),
]


def replies_for(tool: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """The scripted model's calls: the change, after a read of the file where the session offers the tool only
    then (an edit names lines of a file it read), and the answer."""
    read_first = [call("files.read", path=args["path"])] if tool == "files.edit" else []
    return [*read_first, call(tool, **args), answer("done")]


def assert_failed_and_untouched(result: RequestFinished, home: Path, before: dict[str, bytes | int],
                                journal: Journal, audit: AuditLog) -> None:
    *reads, change = result.steps
    assert change.status == "error" and all(step.tool == "files.read" for step in reads), result.steps
    assert ssh_snapshot(home) == before
    assert not (home / "proj" / "stolen").exists() and not (home / "proj" / "stolen.zip").exists()
    assert not any(entry.undoable for entry in journal.entries()), "the journal holds a done action"
    records = audit.records()
    assert records and records[-1].status == "error" and records[-1].approved


@pytest.mark.parametrize(("request_text", "tool", "args"), FOLDER_SWAPS,
                         ids=[f"{tool}-{index}" for index, (_, tool, _) in enumerate(FOLDER_SWAPS)])
def test_folder_swapped_for_a_symlink_while_approval_is_pending_fails_the_step(
        home: Path, safety: Safety, journal: Journal, audit: AuditLog, request_text: str, tool: str,
        args: dict[str, Any]) -> None:
    """A folder on the way to an approved path that becomes a symlink to ~/.ssh before execution fails the step;
    nothing in ~/.ssh is written, created, removed, re-moded or read out, and audit and journal say so."""
    before = ssh_snapshot(home)
    session = Session(ScriptedBackend(replies_for(tool, args)), load_builtin_tools(), safety)
    result = run_with_swap(session, request_text, home, swap_folder_for_ssh)
    assert_failed_and_untouched(result, home, before, journal, audit)
    assert "decided" in result.steps[-1].result


TARGET_SWAPS = [
    ("write the file", "files.write", {"path": "~/proj/sub/authorized_keys", "content": "x\n", "overwrite": True}),
    ("append to the file", "files.append", {"path": "~/proj/sub/authorized_keys", "text": "x"}),
    ("edit the file", "files.edit", {"path": "~/proj/sub/authorized_keys", "start": 1, "text": "x"}),
    ("copy the file", "files.copy", {"source": "~/proj/sub/known_hosts", "destination": "~/proj/stolen"}),
    ("move the file", "files.move", {"source": "~/proj/sub/known_hosts", "destination": "~/proj/stolen"}),
    ("delete the file", "files.delete", {"path": "~/proj/sub/authorized_keys"}),
    ("chmod the file", "files.chmod", {"path": "~/proj/sub/authorized_keys", "mode": "666"}),
    ("archive the folder", "files.archive", {"source": "~/proj/sub/known_hosts", "destination": "~/proj/stolen.zip"}),
]


@pytest.mark.parametrize(("request_text", "tool", "args"), TARGET_SWAPS,
                         ids=[f"{tool}-{index}" for index, (_, tool, _) in enumerate(TARGET_SWAPS)])
def test_target_swapped_for_a_symlink_while_approval_is_pending_fails_the_step(
        home: Path, safety: Safety, journal: Journal, audit: AuditLog, request_text: str, tool: str,
        args: dict[str, Any]) -> None:
    """An approved file that becomes a symlink into ~/.ssh before execution fails the step: the link is neither
    followed nor acted on in the file's place."""
    name = Path(args.get("path") or args["source"]).name
    before = ssh_snapshot(home)
    session = Session(ScriptedBackend(replies_for(tool, args)), load_builtin_tools(), safety)
    result = run_with_swap(session, request_text, home, swap_file_for_ssh_link(name))
    assert_failed_and_untouched(result, home, before, journal, audit)
    assert (home / "proj" / "sub" / name).is_symlink()  # the planted link itself was not moved or deleted either


def test_unswapped_approved_steps_still_run(home: Path, safety: Safety, journal: Journal) -> None:
    """The pins change nothing for an honest run: an approved write into the project folder is done and undoable."""
    session = Session(ScriptedBackend([call("files.write", path="~/proj/sub/new.txt", content="hi\n"),
                                       answer("done")]), load_builtin_tools(), safety)
    result = list(session.run("write the file", approver=lambda step: True))[-1]
    assert isinstance(result, RequestFinished)
    assert [step.status for step in result.steps] == ["ok"]
    assert (home / "proj" / "sub" / "new.txt").read_bytes() == b"hi\n"
    assert any(entry.undoable for entry in journal.entries())


def test_symlinked_folder_that_stays_put_is_still_usable(home: Path, safety: Safety) -> None:
    """A folder that was already a symlink when the call was decided (decided on its physical path) still works."""
    shutil.move(home / "proj" / "sub", home / "real-sub")
    (home / "proj" / "sub").symlink_to(home / "real-sub")
    session = Session(ScriptedBackend([call("files.write", path="~/proj/sub/new.txt", content="hi\n"),
                                       answer("done")]), load_builtin_tools(), safety)
    result = list(session.run("write the file", approver=lambda step: True))[-1]
    assert isinstance(result, RequestFinished)
    assert [step.status for step in result.steps] == ["ok"], result.steps
    assert (home / "real-sub" / "new.txt").read_bytes() == b"hi\n"


# -- after the last check: the journal acts through the folder that was decided on ------------------------------


@pytest.mark.parametrize("operation", ["write", "append", "mkdir", "copy-to", "copy-from", "move-to", "move-from",
                                       "delete", "chmod"])
def test_journal_refuses_a_pinned_path_whose_folder_was_swapped_after_the_pin(
        home: Path, journal: Journal, operation: str) -> None:
    """A swap after the executor's last check (between it and the journal's open) is refused by the journal
    itself: it acts on the pinned physical path through a folder opened without following links."""
    ops = FileOps(journal, "req", "attack", "files.test")
    sub = home / "proj" / "sub"
    pins = {name: pin_path(sub / name) for name in ("authorized_keys", "new_key", "planted", "known_hosts")}
    outside = pin_path(home / "proj" / "elsewhere")
    source = pin_path(home / "proj" / "key.pub")
    before = ssh_snapshot(home)
    swap_folder_for_ssh(home)
    acts: dict[str, Callable[[], object]] = {
        "write": lambda: ops.write(pins["authorized_keys"], b"x"),
        "append": lambda: ops.append(pins["authorized_keys"], b"x"),
        "mkdir": lambda: ops.mkdir(pins["planted"]),
        "copy-to": lambda: ops.copy(source, pins["new_key"]),
        "copy-from": lambda: ops.copy(pins["known_hosts"], outside),
        "move-to": lambda: ops.move(source, pins["new_key"]),
        "move-from": lambda: ops.move(pins["known_hosts"], outside),
        "delete": lambda: ops.delete(pins["authorized_keys"]),
        "chmod": lambda: ops.chmod(pins["authorized_keys"], 0o666),
    }
    with pytest.raises(JournalError):
        acts[operation]()
    assert ssh_snapshot(home) == before
    assert not (home / "proj" / "elsewhere").exists()


def test_journal_refuses_a_pinned_folder_replaced_by_another_real_folder(home: Path, journal: Journal) -> None:
    """Renaming a real folder into the approved folder's place (no symlink anywhere) is refused too: the folder
    held open must be the very folder (device and inode) that was decided on."""
    ops = FileOps(journal, "req", "attack", "files.test")
    pin = pin_path(home / "proj" / "sub" / "authorized_keys")
    (home / "proj" / "sub").rename(home / "proj" / "sub.real")
    (home / ".ssh").rename(home / "proj" / "sub")
    with pytest.raises(JournalError, match="replaced"):
        ops.write(pin, b"x")
    assert (home / "proj" / "sub" / "authorized_keys").read_bytes() == KEYS


def test_step_result_says_why(home: Path, safety: Safety) -> None:
    """The failed step tells the person what changed, so llmos can state it."""
    session = Session(ScriptedBackend([call("files.write", path="~/proj/sub/new_key", content="x\n"),
                                       answer("done")]), load_builtin_tools(), safety)
    result = run_with_swap(session, "write the file", home, swap_folder_for_ssh)
    error = json.loads(result.steps[0].result)["error"]
    assert "proj/sub" in error and "nothing was done" in error
    assert os.path.islink(home / "proj" / "sub")
