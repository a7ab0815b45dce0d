"""`llmos daemon start` either leaves a working daemon (exit 0) or says why not and leaves nothing running: a
broken config is exit 2 before anything starts; a model that does not load is exit 2 and the daemon it started
is stopped again."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from trees import isolate_xdg

from llmos import cli
from llmos.daemon.client import DaemonUnavailable, ask_daemon
from llmos.daemon.location import pid_path, socket_path


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    isolate_xdg(tmp_path, monkeypatch)
    # A short runtime folder: the socket path must fit a Unix socket address.
    runtime = Path(os.environ.get("TMPDIR", "/tmp")) / f"llmos-start-{os.getpid()}-{id(tmp_path)}"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LLMOS_NO_DAEMON")
    yield tmp_path
    # Whatever the outcome, no daemon outlives the test.
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pid_path().read_text().split()[0]), signal.SIGKILL)
    for leftover in sorted(runtime.rglob("*"), reverse=True):
        with contextlib.suppress(OSError):
            leftover.rmdir() if leftover.is_dir() else leftover.unlink()
    runtime.rmdir()


def daemon_running() -> bool:
    try:
        ask_daemon({"op": "status"})
    except DaemonUnavailable:
        return False
    return True


def test_a_broken_config_is_exit_2_and_starts_nothing(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A corrupt config.toml: one line naming it, exit 2, no daemon process, not even its runtime folder."""
    config_file = isolated / "xdg_config_home" / "llmos" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("model = [broken\n")
    assert cli.main(["daemon", "start"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert str(config_file) in err and "not valid TOML" in err
    assert not socket_path().parent.exists() and not daemon_running()


def test_a_model_that_does_not_load_is_exit_2_and_the_daemon_is_stopped(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The daemon starts but its model does not load (a missing file): exit 2 with the reason, and the daemon
    `start` launched is gone (its pid file and socket removed)."""
    missing = isolated / "missing.gguf"
    monkeypatch.setenv("LLMOS_MODEL", str(missing))
    assert cli.main(["daemon", "start"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert "the model did not load, so the daemon was stopped" in err and str(missing) in err
    assert not daemon_running() and not socket_path().exists() and not pid_path().exists()
