"""The evaluation baseline's worker process with the real small model: one request in, one well-formed result
line out. Whether the model chose well is what the evaluation measures, so it is not asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from realmodel import SMALL_MODEL, isolated_llmos_env

pytestmark = pytest.mark.model

VERDICTS = {"allow", "ask", "deny", None}
STATUSES = {"ok", "error", "denied", "skipped"}


def test_worker_answers_a_request_with_one_json_line(real_home: Path, model_cache_home: Path, tmp_path: Path) -> None:
    """`python -m llmos.evals.baseline` loads the model, answers one JSON request with one result line, exits at EOF."""
    environment = {**os.environ, **isolated_llmos_env(real_home, model_cache_home, tmp_path)}
    request = {"request": "how much memory is free?", "stdin": None, "yes": False, "max_steps": 3}
    completed = subprocess.run(
        [sys.executable, "-m", "llmos.evals.baseline", "--model", SMALL_MODEL],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        env=environment,
        cwd=real_home,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout  # llama.cpp's chatter must not reach stdout
    result = json.loads(lines[0])
    assert result["request"] == request["request"] and result["model"] == SMALL_MODEL
    assert isinstance(result["ok"], bool)
    assert result["answer"] is None or isinstance(result["answer"], str)
    assert result["ok"] or result.get("error")
    assert len(result["steps"]) <= request["max_steps"]
    for step in result["steps"]:
        assert step["decision"] in VERDICTS and step["status"] in STATUSES and isinstance(step["args"], dict)
    timings = result["timings_ms"]
    assert timings["load"] > 0 and timings["total"] >= timings["plan"] >= 0
    assert set(result["usage"]) == {"prompt_tokens", "generated_tokens"}
