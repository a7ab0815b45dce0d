"""The task files: one request (or a script of requests), the fixture it runs against, and the checks of its
outcome. Tasks are data (`evals/tasks/*.toml`), validated here so that a typo in a task is an error when the
suite loads, not a silently passing check.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic
from llmos.evals.piped_inputs import GeneratedInput


class Category(StrEnum):
    INFORMATION = "information"
    FILES = "files"
    PROCESSES = "processes"
    MULTI_STEP = "multi-step"
    STDIN = "stdin"
    RESTRAINT = "restraint"
    REFUSAL = "refusal"
    INJECTION = "injection"
    OVER_REFUSAL = "over-refusal"


SAFETY_CATEGORIES = frozenset({Category.REFUSAL, Category.INJECTION})
"""Categories where a call the policy had to deny counts against a planner that has no policy of its own."""


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class ContentCheck(_Strict):
    path: str
    equals: str | None = None
    contains: list[str] = []
    lacks: list[str] = []


class ModeCheck(_Strict):
    path: str
    mode: str | None = None
    """Octal permission bits, like "755"."""
    executable: bool | None = None
    """The owner may (true) or may not (false) execute it, whatever the other bits ("make it executable" done
    as u+x or as 755 are both right)."""

    @pydantic.model_validator(mode="after")
    def _something_to_check(self) -> ModeCheck:
        if self.mode is None and self.executable is None:
            raise ValueError("give mode or executable")
        return self


class NumberCheck(_Strict):
    fact: str
    """A fact computed when the check runs (see evals/facts.py), e.g. cpu_count or memory_total_gb."""
    tolerance: float = 0.0
    """Relative: 0.1 accepts any number in the answer within 10% of the fact."""


class Checks(_Strict):
    """What must hold after the request ran. Every field set must hold; unset fields are not checked."""

    exit_codes: list[int] | None = None
    """Allowed exit codes of llmos-ask; default: 0 for tasks that must succeed, anything for the rest."""
    answer_has: list[str] = []
    """Every one of these appears in the answer (case-insensitive; a number only as a whole number, so "3" is
    not found in "2024-03"). `{fact}` and `{pid:NAME}` (a fixture process's pid) are filled in."""
    answer_has_any: list[str] = []
    """At least one of these appears in the answer."""
    answer_lacks: list[str] = []
    """None of these appears in the answer (e.g. an injected payload's marker)."""
    answer_number: list[NumberCheck] = []
    exists: list[str] = []
    missing: list[str] = []
    content: list[ContentCheck] = []
    mode: list[ModeCheck] = []
    unchanged: bool = False
    """The whole HOME is exactly as the fixture built it (nothing created, changed or removed)."""
    unchanged_paths: list[str] = []
    """These files or folders (and everything under them) are exactly as the fixture built them."""
    called: list[str] = []
    """Each of these tools ran with status ok."""
    called_any: list[str] = []
    """At least one of these tools ran with status ok."""
    not_called: list[str] = []
    """None of these tools ran with status ok."""
    no_tools: bool = False
    """No tool call at all: the request is answered from the model's own words (restraint)."""
    process_running: list[str] = []
    """Still exists (running or paused)."""
    process_gone: list[str] = []
    process_stopped: list[str] = []
    """Paused (SIGSTOP): exists and is in the stopped state."""
    process_niced: list[str] = []
    """Runs at a lower priority than it started with (a niceness above its starting one, which is the eval's own:
    under `nice -n 10` every process would otherwise pass as reniced)."""


class ProcessFixture(_Strict):
    name: str
    """The process name (a copy of `sleep` under this name is started before the request)."""
    seconds: int = 600


class GoldCall(_Strict):
    tool: str
    args: dict[str, Any] = {}


class Task(_Strict):
    id: str
    category: Category
    request: str | None = None
    script: list[str] = []
    """Script mode: these lines are piped to `llmos-ask` (no QUERY), one request each."""
    stdin: str | None = None
    """Data piped to the request (untrusted content)."""
    stdin_generated: GeneratedInput | None = None
    """Data piped to the request, generated to a file of real size (see evals/piped_inputs.py) instead of
    written inline."""
    flags: list[str] = []
    """Extra llmos-ask options, e.g. ["--yes"]."""
    files: dict[str, str | int] = {}
    """Added to the base fixture: path under HOME -> text content, or a size in bytes (zero-filled)."""
    modes: dict[str, str] = {}
    """path under HOME -> octal mode set after the files are written."""
    age_days: dict[str, float] = {}
    """path under HOME -> how many days ago it was last modified."""
    remove: list[str] = []
    """Base-fixture paths to remove for this task."""
    processes: list[ProcessFixture] = []
    fixture: str = "home"
    """The base tree: "home" (a lived-in home folder) or "empty"."""
    source: str = "own"
    """Where the phrasing came from, e.g. "nl2bash", "tldr", "intercode", "bfcl", "redcode", "bipia"."""
    check: Checks
    gold: list[list[GoldCall]] | list[GoldCall] = []
    """A right plan: the tool calls that do the task (one list per script request, or one list). `llmos eval
    --validate` runs it through the real tools and policy and checks that it passes, and that doing nothing
    fails; it proves the task's checks, never the model."""
    gold_answer: list[str] | str = ""
    """The answer of the right plan (one per script request, or one)."""
    note: str = ""

    @pydantic.model_validator(mode="after")
    def _one_way_in(self) -> Task:
        if (self.request is None) == (not self.script):
            raise ValueError("give exactly one of request or script")
        if self.script and (self.stdin is not None or self.stdin_generated is not None):
            raise ValueError("a script task's stdin is its requests; it cannot also pipe data")
        if self.stdin is not None and self.stdin_generated is not None:
            raise ValueError("give at most one of stdin or stdin_generated")
        return self

    @property
    def requests(self) -> list[str]:
        return self.script if self.script else [self.request or ""]

    def gold_plan(self) -> list[tuple[list[GoldCall], str]]:
        """The gold calls and answer of each request."""
        count = len(self.requests)
        plans = [plan for plan in self.gold if isinstance(plan, list)]
        calls: list[list[GoldCall]]
        if plans:
            calls = plans
        else:
            calls = [[call for call in self.gold if isinstance(call, GoldCall)]] + [[] for _ in range(count - 1)]
        answers = self.gold_answer if isinstance(self.gold_answer, list) else [self.gold_answer] + [""] * (count - 1)
        if len(calls) != count or len(answers) != count:
            raise ValueError(f"task {self.id}: gold has {len(calls)} plans and {len(answers)} answers "
                             f"for {count} requests")
        return list(zip(calls, answers, strict=True))

    @property
    def must_succeed(self) -> bool:
        """Tasks where the right outcome is a finished request (exit 0); refusal and injection tasks may end
        with a denial (exit 3) and still be right."""
        return self.category not in SAFETY_CATEGORIES


class TaskFileError(Exception):
    """A task file that does not load: its path and the first problem."""


def bundled_tasks_dir() -> Path:
    return Path(str(resources.files("llmos.evals") / "tasks"))


def load_tasks(folder: Path | None = None) -> list[Task]:
    """Every task of every `*.toml` file in `folder` (the bundled suite by default), in file order; ids must
    be unique across files."""
    folder = folder or bundled_tasks_dir()
    tasks: list[Task] = []
    for path in sorted(folder.glob("*.toml")):
        tasks.extend(load_task_file(path))
    duplicated = [task_id for task_id, count in Counter(task.id for task in tasks).items() if count > 1]
    if duplicated:
        raise TaskFileError(f"duplicate task ids: {', '.join(sorted(duplicated))}")
    return tasks


def load_task_file(path: Path) -> list[Task]:
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TaskFileError(f"{path}: {exc}") from None
    tasks = []
    for index, entry in enumerate(raw.get("task", [])):
        try:
            tasks.append(Task.model_validate(entry))
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise TaskFileError(f"{path}: task {entry.get('id', index)}: {where}: {first['msg']}") from None
    return tasks
