"""A permission change is limited by the grammar to the modes the request's words allow (`llmos.mode_grounding`):
asked to take away setup.sh's execute permission, the 1.5B model set 0755 and said it had, and, limited to modes
without an execute bit, 0444 (the owner's write taken too)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools import load_builtin_tools
from llmos.tools.files_change import parse_mode

from llmos.mode_grounding import (
    NO_EXECUTE,
    OWNER_EXECUTES_PATTERN,
    OWNER_ONLY_PATTERN,
    SOME_LOSE_EXECUTE_PATTERN,
    ground_mode,
)
from llmos.session import Session


def chmod_mode(request: str) -> dict:
    spec = load_builtin_tools().get("files.chmod")
    assert spec is not None
    return ground_mode(spec.parameters_schema, request)["properties"]["mode"]


@pytest.mark.parametrize(("request_text", "allowed"), [
    ("find the shell scripts in ~/projects, set them all to 755", {"enum": ["755"]}),
    ("chmod 700 ~/Downloads/setup.sh so only I can run it", {"enum": ["700"]}),
    ("setup.sh in downloads shouldn't be executable, take that away", {"enum": ["a-x"]}),
    ("remove the execute permission from run.sh", {"enum": ["a-x"]}),
    ("run.sh should not be executable by others", {"pattern": SOME_LOSE_EXECUTE_PATTERN}),
    ("make budget.csv private so only I can read and write it", {"pattern": OWNER_ONLY_PATTERN}),
    ("make ~/projects/scripts/backup.sh executable", {"pattern": OWNER_EXECUTES_PATTERN}),
    ("make notes.txt read-only", {}),
])
def test_the_mode_allowed_follows_the_requests_words(request_text: str, allowed: dict) -> None:
    assert chmod_mode(request_text) == {"type": "string", **allowed}


@pytest.mark.parametrize(("pattern", "inside", "outside"), [
    (SOME_LOSE_EXECUTE_PATTERN, ["a-x", "ugo-x", "o-x", "go-x"], ["644", "0600", "-x", "+x", "u+x", "o-w", "a-rx"]),
    (OWNER_ONLY_PATTERN, ["600", "0700", "go-rwx"], ["644", "664", "0640", "u+x"]),
    (OWNER_EXECUTES_PATTERN, ["755", "0700", "u+x", "+x", "a+x"], ["644", "0600", "a-x"]),
])
def test_each_pattern_takes_exactly_the_modes_it_names(pattern: str, inside: list[str], outside: list[str]) -> None:
    """And what it takes is a mode the tool reads, with the meaning the pattern stands for."""
    for mode in inside:
        assert re.fullmatch(pattern, mode), mode
        bits = parse_mode(mode, 0o777 if "-" in mode else 0o600)
        if pattern == SOME_LOSE_EXECUTE_PATTERN:
            assert bits | 0o111 == 0o777 and bits != 0o777  # execute bits taken, nothing else
        elif pattern == OWNER_ONLY_PATTERN:
            assert not bits & 0o077
        else:
            assert bits & 0o100
    for mode in outside:
        assert not re.fullmatch(pattern, mode), mode


def test_the_turns_grammar_carries_the_limit(temp_home: Path) -> None:
    (temp_home / "setup.sh").write_text("echo hi\n")
    backend = ScriptedBackend([call("files.chmod", path="~/setup.sh", mode="644"), answer("Done.")])
    list(Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run("~/setup.sh shouldn't be executable"))
    branches = {branch["properties"]["tool"]["const"]: branch for branch in backend.calls[0].schema["anyOf"]}
    assert branches["files.chmod"]["properties"]["args"]["properties"]["mode"]["enum"] == [NO_EXECUTE]


@pytest.mark.parametrize("mode", [0o755, 0o700, 0o775, 0o500])
def test_not_executable_takes_the_execute_bits_and_nothing_else(mode: int) -> None:
    """Whatever the file's mode was, the one mode "not executable" allows leaves read and write as they were."""
    assert parse_mode(NO_EXECUTE, mode) == mode & ~0o111
