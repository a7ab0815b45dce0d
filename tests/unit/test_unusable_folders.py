"""A folder llmos keeps files in that cannot be used (a regular file in the way, not writable, a full disk) is a
configuration error for every command that touches it: one line naming the folder and what is wrong, exit 2,
never a traceback, and nothing on stdout (not even half a `--json` object).

Cells are (folder x failure x command), only where the command touches the folder. "Unwritable" and "full disk"
are injected (`os.mkdir` refusing with EACCES / ENOSPC under the folder's base; for doctor, which changes
nothing, `os.access` and `os.statvfs` saying so), because the tests run as root, for whom a mode bit takes away
nothing; "a regular file in the way" is real. They apply where the command has to make the folder; a command
that only reads a folder that is not there yet has nothing to fail on.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, NamedTuple

import llmos.models.bundled
import pytest
from llmos.shell import ask
from trees import isolate_xdg

from llmos import cli
from llmos.errors import exit_code_of
from llmos.paths import folder_error


class Folder(NamedTuple):
    role: str
    variable: str
    inside: str  # the llmos folder below the variable's folder


FOLDERS = {
    "config": Folder("config", "XDG_CONFIG_HOME", "llmos"),
    "data": Folder("data", "XDG_DATA_HOME", "llmos"),
    "cache": Folder("cache", "XDG_CACHE_HOME", "llmos"),
    "models": Folder("models", "XDG_CACHE_HOME", "llmos/models"),
    "runtime": Folder("runtime", "XDG_RUNTIME_DIR", "llmos"),
}

ASK = ["llmos-ask", "what is in Downloads?"]
ASK_JSON = ["llmos-ask", "--json", "what is in Downloads?"]
COMMANDS: dict[str, list[str]] = {
    "ask": ASK, "ask-json": ASK_JSON, "log": ["llmos", "log"], "undo-list": ["llmos", "undo", "--list"],
    "doctor": ["llmos", "doctor"], "automations-list": ["llmos", "automations", "list"],
    "daemon-start": ["llmos", "daemon", "start"], "daemon-status": ["llmos", "daemon", "status"],
    "feedback-list": ["llmos", "feedback", "list"], "secrets-list": ["llmos", "secrets", "list"],
}

# What each command reads (a file in the way must stop it) and what it has to make and write in.
READS = {
    "ask": {"config", "data", "cache", "models"}, "ask-json": {"config", "data", "cache", "models"},
    "log": {"data"}, "undo-list": {"data"}, "doctor": set(FOLDERS), "automations-list": {"data"},
    "daemon-start": {"config", "data", "runtime"}, "daemon-status": {"runtime"},
    "feedback-list": {"data"}, "secrets-list": {"data"},
}
WRITES = {
    "ask": {"data", "cache", "models"}, "ask-json": {"data", "cache", "models"}, "undo-list": {"data"},
    "doctor": {"data", "cache", "models", "runtime"}, "daemon-start": {"data", "runtime"},
}
# XDG_RUNTIME_DIR naming a file is not an error: llmos then keeps the socket in the data folder (XDG's fallback).
FAILURES = ("variable-is-a-file", "llmos-folder-is-a-file", "unwritable", "disk-full")


def cells() -> list[Any]:
    chosen = []
    for command, reads in READS.items():
        for role in sorted(reads):
            for failure in FAILURES:
                if failure in ("unwritable", "disk-full") and role not in WRITES.get(command, set()):
                    continue
                if failure == "variable-is-a-file" and role in ("runtime", "models"):
                    continue  # models: the same variable as cache; runtime: see above
                chosen.append(pytest.param(role, failure, command, id=f"{role}-{failure}-{command}"))
    return chosen


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolated folders (not made yet), no daemon, a registry model whose 'bundled parts' are one small file (so
    resolving it reaches the models folder, and a working one fails harmlessly on the parts' size)."""
    isolate_xdg(tmp_path, monkeypatch)
    (tmp_path / "run").mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    monkeypatch.setenv("LLMOS_MODEL", "0.5b")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    part = tmp_path / "part"
    part.write_bytes(b"not a model")
    monkeypatch.setattr(llmos.models.bundled, "find_part_paths", lambda source: [part])
    monkeypatch.setattr("sys.stdin", _Terminal())
    return tmp_path


class _Terminal:
    """stdin on a terminal: nothing piped in."""

    def isatty(self) -> bool:
        return True


def base_of(folder: Folder) -> Path:
    return Path(os.environ[folder.variable])


def break_folder(folder: Folder, failure: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make `folder` unusable in the way `failure` says; returns the path the error must name."""
    base = base_of(folder)
    llmos_folder = base / folder.inside
    if failure == "variable-is-a-file":
        base.parent.mkdir(parents=True, exist_ok=True)
        base.write_text("a file, not a folder\n")
        return base
    if failure == "llmos-folder-is-a-file":
        llmos_folder.parent.mkdir(parents=True, exist_ok=True)
        llmos_folder.write_text("a file, not a folder\n")
        return llmos_folder
    code = errno.EACCES if failure == "unwritable" else errno.ENOSPC
    refuse_under(base, code, monkeypatch)
    return llmos_folder


def refuse_under(base: Path, code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Making any folder at or under `base` fails with `code`, as on a read-only parent or a full disk; doctor's
    checks (which make nothing) see the same."""
    real_mkdir, real_access, real_statvfs = os.mkdir, os.access, os.statvfs

    def inside(path: Any) -> bool:
        return isinstance(path, (str, os.PathLike)) and (Path(path) == base or base in Path(path).parents)

    def mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        if dir_fd is None and inside(path):
            raise OSError(code, os.strerror(code), str(path))
        real_mkdir(path, mode, dir_fd=dir_fd)

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        if code == errno.EACCES and (inside(path) or path == base.parent) and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)

    def statvfs(path: Any) -> Any:
        result = real_statvfs(path)
        if code == errno.ENOSPC and (inside(path) or path == base.parent):
            return os.statvfs_result((*result[:4], 0, *result[5:]))
        return result

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "statvfs", statvfs)


def run(command: list[str]) -> int:
    program, *argv = command
    return ask.main(argv) if program == "llmos-ask" else cli.main(argv)


@pytest.mark.parametrize(("role", "failure", "command"), cells())
def test_an_unusable_folder_is_one_line_naming_it_and_exit_2(
    role: str, failure: str, command: str, setup: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each command that touches the folder: exit 2, one stderr line naming the folder and what is wrong."""
    folder = FOLDERS[role]
    named = break_folder(folder, failure, monkeypatch)
    code = run(COMMANDS[command])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    if command == "doctor":
        line = next(line for line in out.splitlines() if line.strip().startswith("[--]") and str(named) in line)
        assert folder.role in line or "config" in line
        assert out.splitlines()[-1].startswith("broken: ") and err == ""
        return
    assert out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    # The models folder is inside the cache folder: a broken cache may first show as the models folder.
    roles = ("cache", "models") if role == "cache" else (role,)
    assert any(f"the {shown} folder" in err for shown in roles) and str(named) in err, err
    what = {"unwritable": "not writable", "disk-full": "no space left"}.get(failure, "is a file, not a folder")
    assert what in err and folder.variable in err, err


@pytest.mark.parametrize("command", ["ask", "log", "undo-list", "automations-list", "doctor", "feedback-list",
                                     "secrets-list"])
def test_folders_that_do_not_exist_yet_are_made_and_work(
    command: str, setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every XDG variable naming a folder that is not there yet (two levels deep) is no error: llmos makes it."""
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[variable] = str(Path(os.environ[variable]) / "not" / "yet")
    code = run(COMMANDS[command])
    out, err = capsys.readouterr()
    assert "cannot be used" not in out + err and "Traceback" not in err
    # llmos-ask reaches the model (whose stand-in parts do not add up: exit 2 for that, not for a folder).
    expected = {"ask": 2, "doctor": None}.get(command, 0)
    assert expected is None or code == expected, (out, err)


def test_a_full_disk_while_writing_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """ENOSPC from a write (which names no file) ends any command with one line and exit 2, not a traceback."""

    def write_on_a_full_disk() -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    assert exit_code_of("llmos", write_on_a_full_disk) == 2
    err = capsys.readouterr().err
    assert err == "llmos: cannot write llmos's files: no space left on the device\n"


def test_an_oserror_elsewhere_keeps_its_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An OSError on a path that is none of llmos's folders (nor above one) is a bug to see, not a config error."""
    isolate_xdg(tmp_path, monkeypatch)
    elsewhere = OSError(errno.ENOTDIR, "Not a directory", str(tmp_path / "elsewhere" / "x"))
    assert folder_error(elsewhere) is None
    folder_above = OSError(errno.EACCES, "Permission denied", str(tmp_path))  # a real folder above the data folder
    assert folder_error(folder_above) is None

    def fails() -> int:
        raise elsewhere

    with pytest.raises(OSError):
        exit_code_of("llmos", fails)
