"""A permission change is limited by the grammar to the modes the request's words allow (`llmos.mode_grounding`):
asked to take away setup.sh's execute permission, the 1.5B model set 0755 and said it had."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools import load_builtin_tools
from llmos.tools.files_change import parse_mode

from llmos.mode_grounding import NO_EXECUTE_PATTERN, OWNER_EXECUTES_PATTERN, OWNER_ONLY_PATTERN, ground_mode
from llmos.session import Session


def chmod_mode(request: str) -> dict:
    spec = load_builtin_tools().get("files.chmod")
    assert spec is not None
    return ground_mode(spec.parameters_schema, request)["properties"]["mode"]


@pytest.mark.parametrize(("request_text", "allowed"), [
    ("find the shell scripts in ~/projects, set them all to 755", {"enum": ["755"]}),
    ("chmod 700 ~/Downloads/setup.sh so only I can run it", {"enum": ["700"]}),
    ("setup.sh in downloads shouldn't be executable, take that away", {"pattern": NO_EXECUTE_PATTERN}),
    ("remove the execute permission from run.sh", {"pattern": NO_EXECUTE_PATTERN}),
    ("make budget.csv private so only I can read and write it", {"pattern": OWNER_ONLY_PATTERN}),
    ("make ~/projects/scripts/backup.sh executable", {"pattern": OWNER_EXECUTES_PATTERN}),
    ("make notes.txt read-only", {}),
])
def test_the_mode_allowed_follows_the_requests_words(request_text: str, allowed: dict) -> None:
    assert chmod_mode(request_text) == {"type": "string", **allowed}


@pytest.mark.parametrize(("pattern", "inside", "outside"), [
    (NO_EXECUTE_PATTERN, ["644", "0600", "a-x", "-x", "ugo-x"], ["755", "0755", "711", "+x", "u+x", "07440"]),
    (OWNER_ONLY_PATTERN, ["600", "0700", "go-rwx"], ["644", "664", "0640", "u+x"]),
    (OWNER_EXECUTES_PATTERN, ["755", "0700", "u+x", "+x", "a+x"], ["644", "0600", "a-x"]),
])
def test_each_pattern_takes_exactly_the_modes_it_names(pattern: str, inside: list[str], outside: list[str]) -> None:
    """And what it takes is a mode the tool reads, with the meaning the pattern stands for."""
    for mode in inside:
        assert re.fullmatch(pattern, mode), mode
        bits = parse_mode(mode, 0o777 if "-" in mode else 0o600)
        if pattern == NO_EXECUTE_PATTERN:
            assert not bits & 0o111
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
    assert branches["files.chmod"]["properties"]["args"]["properties"]["mode"]["pattern"] == NO_EXECUTE_PATTERN
