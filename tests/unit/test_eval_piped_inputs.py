"""Generated piped inputs for stdin tasks: reproducible to the byte, streamed to a file beside HOME and piped to
llmos-ask (or named to a worker) from that file; and answer checks that read "12,345" as 12345."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from llmos.evals.checks import Outcome, World, judge, without_thousands_separators
from llmos.evals.fixture import RunningProcesses, build_home, snapshot
from llmos.evals.piped_inputs import GeneratedInput, InputKind, generated_chunks, write_generated_input
from llmos.evals.runner import LlmosPlanner, WorkerPlanner, run_suite
from llmos.evals.tasks import Task


def make_task(**fields: object) -> Task:
    base: dict[str, object] = {"id": "t", "category": "stdin", "request": "do it", "check": {}}
    base.update(fields)
    return Task.model_validate(base)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", list(InputKind))
def test_every_kind_gives_the_same_bytes_for_the_same_spec_and_others_for_another_seed(
    kind: InputKind, tmp_path: Path
) -> None:
    """A task states exact facts about its input, so a spec must mean the same bytes on every run."""
    spec = GeneratedInput(kind=kind, records=50, seed=3)
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    size = write_generated_input(spec, first)
    write_generated_input(spec, second)
    other = tmp_path / "c.txt"
    write_generated_input(GeneratedInput(kind=kind, records=50, seed=4), other)
    assert size == first.stat().st_size > 0
    assert sha256_of(first) == sha256_of(second) != sha256_of(other)
    assert first.read_text(encoding="utf-8").endswith("\n")


def test_tail_lines_keeps_the_last_lines_of_the_full_input() -> None:
    """`tail_lines = N` is what `... | tail -n N` pipes."""
    full = "".join(generated_chunks(GeneratedInput(kind=InputKind.DMESG, records=172, seed=5)))
    tail = "".join(generated_chunks(GeneratedInput(kind=InputKind.DMESG, records=172, seed=5, tail_lines=120)))
    assert tail.splitlines() == full.splitlines()[-120:] and tail.endswith("\n")


def test_a_task_pipes_inline_data_or_generated_data_not_both() -> None:
    with pytest.raises(ValueError, match="at most one of stdin or stdin_generated"):
        make_task(stdin="x", stdin_generated={"kind": "dmesg", "records": 3})
    with pytest.raises(ValueError, match="cannot also pipe data"):
        make_task(request=None, script=["a"], stdin_generated={"kind": "dmesg", "records": 3})


FAKE_ASK_READS_STDIN = """#!{python}
import hashlib, json, os, stat, sys
data = sys.stdin.buffer.read()
print(json.dumps({{"request": sys.argv[-1], "ok": True, "steps": [],
                  "answer": f"{{len(data)}} bytes sha {{hashlib.sha256(data).hexdigest()}} "
                            f"pipe {{stat.S_ISFIFO(os.fstat(0).st_mode)}}"}}))
"""


def test_runner_pipes_the_generated_file_to_llmos_ask_and_removes_it_afterwards(tmp_path: Path) -> None:
    """The input is written beside HOME (not in it, not in /tmp outside the workspace), reaches llmos-ask
    through a pipe byte for byte, its size is recorded, and the file is gone when the task ends."""
    spec = GeneratedInput(kind=InputKind.APP_LOG, records=3000, seed=1)
    expected = tmp_path / "expected.txt"
    size = write_generated_input(spec, expected)
    fake = tmp_path / "llmos-ask"
    fake.write_text(FAKE_ASK_READS_STDIN.format(python=sys.executable))
    fake.chmod(0o755)
    task = make_task(id="piped", category="stdin", request="count", stdin_generated=spec.model_dump(),
                     check={"answer_has": [f"{size} bytes sha {sha256_of(expected)} pipe true"]})
    keep = tmp_path / "runs"
    keep.mkdir()
    run = run_suite([task], lambda: LlmosPlanner(warm=False, llmos_ask=str(fake)), model="m",
                    cache_home=tmp_path / "cache", keep_root=keep)
    record = run.records[0]
    assert record.passed, (record.failures, record.requests)
    assert record.stdin_bytes == size and record.to_json()["stdin_bytes"] == size
    (job,) = keep.glob("llmos-eval-*/job0")
    assert (job / "piped").is_dir() and list((job / "piped").iterdir()) == []
    assert not list((job / "home").rglob("piped.txt"))


ECHO_STDIN_WORKER = """
import json, sys
for line in sys.stdin:
    request = json.loads(line)
    with open(request["stdin_path"], encoding="utf-8") as handle:
        text = handle.read()
    print(json.dumps({"ok": True, "answer": f"{len(text)} chars, keys {sorted(request)}", "steps": []}), flush=True)
"""


def test_a_worker_gets_the_path_of_the_generated_input_not_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON-line path (the baseline) names the file; the runner never puts the input into a line."""
    spec = GeneratedInput(kind=InputKind.USERS_JSON, records=40, seed=2)
    chars = len("".join(generated_chunks(spec)))
    (tmp_path / "stdin_worker.py").write_text(ECHO_STDIN_WORKER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    keys = ["max_steps", "request", "stdin", "stdin_path", "yes"]
    task = make_task(id="w", category="stdin", request="how many?", stdin_generated=spec.model_dump(),
                     check={"answer_has": [f"{chars} chars, keys {keys}"]})
    run = run_suite([task], lambda: WorkerPlanner(name="echo", module="stdin_worker"), model="m",
                    cache_home=tmp_path / "cache")
    assert run.records[0].passed, run.records[0].failures


def test_the_baseline_worker_reads_a_stdin_path_as_its_piped_data(tmp_path: Path) -> None:
    """The baseline appends the file's text as it appends inline stdin, as a developer's script would."""
    from llmos.evals.baseline import serve

    data = tmp_path / "input.txt"
    data.write_text("line one\nline two\n", encoding="utf-8")
    seen: list[str | None] = []

    class Agent:
        def run(self, request: str, stdin_data: str | None, approve_asks: bool, max_steps: int = 6) -> dict[str, Any]:
            seen.append(stdin_data)
            return {"ok": True, "answer": "x", "steps": []}

    results = io.StringIO()
    serve(Agent(), io.StringIO(json.dumps({"request": "q", "stdin_path": str(data)}) + "\n"), results)  # type: ignore[arg-type]
    assert seen == ["line one\nline two\n"] and json.loads(results.getvalue())["ok"] is True


def test_numbers_with_thousands_separators_are_read_as_plain_numbers(tmp_path: Path) -> None:
    """A count check of "12345" passes on "12,345" and "12 345" (narrow no-break space) but not on a bigger
    number or a list; "1,2,3" is not a number."""
    task = make_task(check={"answer_has": ["12345", "7,797"]})
    home = tmp_path / "home"
    build_home(home, task)
    state = snapshot(home)
    world = World(home, state, state, RunningProcesses(tmp_path / "bin"))

    def verdict(answer: str) -> list[str]:
        return judge(task, Outcome(0, [{"ok": True, "answer": answer, "steps": []}]), world)

    for right in ("12,345 lines and 7797 errors", "12\u202f345 lines, 7,797 errors", "12345.0 and 7797"):
        assert verdict(right) == [], right
    assert verdict("112,345 and 7,797") == ["answer lacks '12345'"]
    assert verdict("12,3456 and 7,797") == ["answer lacks '12345'"]
    assert without_thousands_separators("1,2,3 and 1,385,990.37") == "1,2,3 and 1385990.37"
