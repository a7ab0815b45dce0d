"""Issue 6's health check end to end: with a program spinning on a core, "why is my computer slow?" names it,
through the fast path and through the real default model planning `system.health` itself."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import busy_process
from realmodel import DEFAULT_MODEL

pytestmark = pytest.mark.model

HOG_NAME = "renderfarm"


@pytest.fixture
def renderfarm(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A shell busy-looping under the program name `renderfarm`."""
    with busy_process(tmp_path / "bin", HOG_NAME) as child:
        yield child


def test_why_slow_names_the_hog_without_the_model(ask, renderfarm: subprocess.Popen[bytes]) -> None:
    """The fast path runs system.health and its answer names the spinning program and offers to renice it."""
    payload = ask("--json", "why is my computer slow?").only_json()
    assert payload["ok"] and payload["fast_path"], payload
    assert [step["tool"] for step in payload["steps"]] == ["system.health"]
    assert HOG_NAME in payload["answer"], payload["answer"]
    assert f"renice {HOG_NAME}" in payload["answer"]


def test_why_slow_names_the_hog_through_the_model(ask, renderfarm: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """With the fast path off, the default model plans system.health for a sluggish-laptop complaint and names the
    program from its result."""
    config = tmp_path / "config" / "llmos" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("fast_path = false\n")
    payload = ask("--json", "my laptop feels really sluggish, what's going on?", model=DEFAULT_MODEL).only_json()
    assert payload["ok"] and not payload["fast_path"], payload
    assert "system.health" in [step["tool"] for step in payload["steps"]], payload["steps"]
    assert HOG_NAME in payload["answer"], payload["answer"]
