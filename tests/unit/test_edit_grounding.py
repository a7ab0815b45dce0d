"""An edit names lines of a file: the model may make one only after reading that file in the same request."""

from __future__ import annotations

from pathlib import Path

from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.tools import load_builtin_tools

from llmos.session import Session


def test_an_edit_is_offered_only_after_a_read_and_only_of_the_file_read(temp_home: Path) -> None:
    """"bump flask to 3.0.3 in requirements.txt": the first turn offers no files.edit (the 1.5B model edited
    "lines 0-10" of a one-line file it had not read); after the read, files.edit may name only that file."""
    requirements = temp_home / "requirements.txt"
    requirements.write_text("flask==3.0.0\n")
    backend = ScriptedBackend([
        call("files.read", path="~/requirements.txt"),
        call("files.edit", path="~/requirements.txt", start=1, text="flask==3.0.3"),
        answer("Bumped flask to 3.0.3."),
    ])
    session = Session(backend, load_builtin_tools(), AllowReadOnlyPolicy())
    list(session.run("bump flask to 3.0.3 in ~/requirements.txt"))
    first, second = backend.calls[0], backend.calls[1]
    assert "files.edit" not in first.offered_tools and "files.read" in first.offered_tools
    branches = {branch["properties"]["tool"]["const"]: branch for branch in second.schema["anyOf"]}
    assert branches["files.edit"]["properties"]["args"]["properties"]["path"]["enum"] == ["~/requirements.txt"]
