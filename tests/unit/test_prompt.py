"""The prompts llmos renders, pinned byte for byte.

Each prefix is KV-cached on disk keyed on its text, so an unintended change costs every user a fresh prefill and
can change what the model does. An intended prompt change updates the expected file in tests/unit/data/ in the
same commit, so the change shows up as a diff there:

    cd tests/unit && ../../.venv/bin/python -c "import test_prompt; test_prompt.write_expected()"
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from llmos.models.prompt import Turn, build_prefix, build_suggest_prefix, render_conversation, user_request
from llmos.tools import load_builtin_tools

from llmos.automations.planner import rule_prefix

EXPECTED_DIR = Path(__file__).parent / "data"
PLANNER_REQUEST = "move the pdfs in ~/Downloads into ~/Documents/PDFs"


def planner_prompt() -> str:
    """The main planner's prompt for one request that may use every built-in tool: the static prefix (system
    text, tool list in registry order, examples), then the request and the open assistant turn."""
    registry = load_builtin_tools()
    prefix = build_prefix([spec.signature_line() for spec in registry.specs()])
    return prefix + render_conversation([Turn("user", user_request(PLANNER_REQUEST, None))])


def suggest_prompt() -> str:
    return build_suggest_prefix() + render_conversation([Turn("user", PLANNER_REQUEST)])


def rule_prompt() -> str:
    request = "move new pdfs on ~/Desktop to ~/PDFs"
    return rule_prefix(load_builtin_tools()) + render_conversation([Turn("user", request)])


RENDERED: dict[str, Callable[[], str]] = {
    "planner_prompt.txt": planner_prompt,
    "suggest_prompt.txt": suggest_prompt,
    "rule_prompt.txt": rule_prompt,
}


def write_expected() -> None:
    """Rewrite the expected files from the prompts as rendered now (after an intended prompt change)."""
    for file_name, render in RENDERED.items():
        (EXPECTED_DIR / file_name).write_bytes(render().encode())


@pytest.mark.parametrize("file_name", sorted(RENDERED))
def test_the_rendered_prompt_is_byte_identical_to_the_expected_file(file_name: str) -> None:
    """The planner, command-suggestion and automation-rule prompts render exactly as stored; an intended prompt
    change updates the stored file (see the module docstring), so every prompt change is a reviewed diff."""
    expected = (EXPECTED_DIR / file_name).read_bytes().decode()
    assert RENDERED[file_name]() == expected
