"""Shared facts of the real-model tests: model names, the fixture tree's expected counts, the CLI result type."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
