"""Fixtures for tests that load the real models: one model cache per test session, a temp HOME per test,
and a runner for the real `llmos-ask` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from realmodel import SMALL_MODEL, AskResult, isolated_llmos_env, run_llmos


@pytest.fixture(scope="session")
def model_cache_home() -> Iterator[Path]:
    """An XDG cache shared by this session's real-model tests: each model is assembled from the bundled parts
    once, on first use, then reused. Removed afterwards (the models are 1.6 GB together)."""
    with tempfile.TemporaryDirectory(prefix="llmos-model-cache-") as cache_home:
        yield Path(cache_home)


@pytest.fixture
def real_home(tmp_path: Path) -> Path:
    """A temp HOME: ~/Downloads with 5 visible files, 1 hidden file and 1 folder; ~/Documents/todo.txt."""
    home = tmp_path / "home"
    downloads = home / "Downloads"
    (downloads / "old-stuff").mkdir(parents=True)
    for index, name in enumerate(["invoice.pdf", "photo.jpg", "notes.txt", "setup.sh", "backup.zip"]):
        (downloads / name).write_bytes(b"x" * (1000 * (index + 1)))
    (downloads / ".secret-config").write_text("hidden\n")
    (downloads / "old-stuff" / "inner.txt").write_text("not counted: inside a subfolder\n")
    documents = home / "Documents"
    documents.mkdir()
    (documents / "todo.txt").write_text("buy oat milk\nrenew passport\n")
    return home


@pytest.fixture
def ask(real_home: Path, model_cache_home: Path, tmp_path: Path) -> Callable[..., AskResult]:
    """Run the installed `llmos-ask` as a person would, in the temp HOME, with a given model."""
    executable = Path(sys.executable).with_name("llmos-ask")

    def run(*args: str, model: str = SMALL_MODEL, stdin: str | None = None, timeout: float = 300) -> AskResult:
        env = {**os.environ, **isolated_llmos_env(real_home, model_cache_home, tmp_path, model=model)}
        completed = subprocess.run(
            [str(executable), *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=env,
            cwd=real_home,
            timeout=timeout,
        )
        return AskResult(completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def daemon_environment(real_home: Path, model_cache_home: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of real llmos processes that may start their own daemon: the isolated folders of
    `isolated_llmos_env` and a short runtime dir of their own (a socket path must fit in 107 bytes). A daemon
    left running is stopped afterwards."""
    runtime = Path(tempfile.mkdtemp(prefix="llmos-rt-", dir="/tmp"))
    environment = {
        **{key: value for key, value in os.environ.items() if key != "LLMOS_NO_DAEMON"},
        **isolated_llmos_env(real_home, model_cache_home, tmp_path),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    yield environment
    run_llmos(environment, "daemon", "stop")
    shutil.rmtree(runtime, ignore_errors=True)
