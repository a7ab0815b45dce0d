"""A request to change lines of a file where they are is not offered the tools that add to a file or replace it
whole (`llmos.routing.for_edits_in_place`): asked to "mark 'renew passport' as done in Documents/todo.md", the 1.5B
model appended "renew passport" to the list."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.policies.intent import allowed_effects_for
from llmos.tools import load_builtin_tools

from llmos.executor import Safety
from llmos.routing import edits_in_place
from llmos.session import Session


@pytest.mark.parametrize(("request_text", "in_place"), [
    ("mark 'renew passport' as done in Documents/todo.md", True),
    ("tick off the dentist in my todo list", True),
    ("bump flask to 3.0.3 in the webapp's requirements.txt", True),
    ("replace foo with bar in ~/notes.txt", True),
    ("add milk to the shopping list on my desktop", False),
    ("replace the contents of ~/notes.txt with: hello", False),
    ("copy requirements.txt to requirements.bak, then change flask to 3.1.0 in the original", False),
    ("create a file ~/a.txt that says hi", False),
])
def test_an_edit_in_place_is_told_by_its_words(request_text: str, in_place: bool) -> None:
    assert edits_in_place(request_text) is in_place


def test_an_edit_in_place_is_offered_a_read_and_no_whole_file_writer(temp_home: Path) -> None:
    (temp_home / "Documents").mkdir(exist_ok=True)
    (temp_home / "Documents" / "todo.md").write_text("- [ ] renew passport\n")
    backend = ScriptedBackend([call("files.read", path="~/Documents/todo.md"), answer("Read it.")])
    safety = Safety(policy=AllowReadOnlyPolicy(), intent=allowed_effects_for)
    list(Session(backend, load_builtin_tools(), safety).run("mark 'renew passport' as done in Documents/todo.md"))
    offered = backend.calls[0].offered_tools
    assert "files.read" in offered and "files.append" not in offered and "files.write" not in offered
    # (files.edit comes on offer after the read: an edit names lines.)
    assert "files.edit" in backend.calls[1].offered_tools
