"""Shared facts of the real-model tests: model names, the fixture tree's expected counts, the CLI result type."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SMALL_MODEL = "qwen2.5-coder-0.5b-instruct"
DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
DOWNLOADS_FILE_COUNT = 5


@dataclass
class AskResult:
    exit_code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def only_json(self) -> dict[str, Any]:
        lines = self.json_lines()
        assert len(lines) == 1, self.stdout
        return lines[0]


def isolated_llmos_env(
    home: Path, model_cache_home: Path, tmp_path: Path, *, model: str = SMALL_MODEL
) -> dict[str, str]:
    """The variables that point a real llmos process at a temp HOME, its own config and data folders, the test
    session's shared model cache and `model`, offline."""
    return {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(model_cache_home),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "LLMOS_MODEL": model,
        "HF_HUB_OFFLINE": "1",
    }


def run_llmos(environment: dict[str, str], *args: str, program: str = "llmos") -> subprocess.CompletedProcess[str]:
    """Run an installed llmos program (`llmos`, `llmos-ask`) with `environment`, in its HOME, with no stdin."""
    executable = str(Path(sys.executable).with_name(program))
    return subprocess.run([executable, *args], env=environment, capture_output=True, text=True, timeout=600,
                          cwd=environment["HOME"], stdin=subprocess.DEVNULL)
