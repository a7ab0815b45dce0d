"""An edit names lines of a file: the model may make one only after reading that file in the same request."""

from __future__ import annotations

from pathlib import Path

from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call, run_approved
from llmos.policies.intent import allowed_effects_for
from llmos.tools import load_builtin_tools

from llmos.effects import Effect
from llmos.executor import Safety
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


def test_a_change_after_a_search_for_lines_reads_the_files_searched_first(temp_home: Path) -> None:
    """"Copy requirements.txt to requirements.bak, then change flask to 3.1.0 in the original": the model searched
    for "flask" (twice) and never read the file, so no edit was ever on offer. After a search in a change request
    the next turn reads one of the files it hit; the edit of that file is then on offer."""
    webapp = temp_home / "webapp"
    webapp.mkdir()
    (webapp / "requirements.txt").write_text("flask==3.0.0\n")
    (webapp / "app.py").write_text("import flask\n")
    backend = ScriptedBackend([
        call("files.copy", source="~/webapp/requirements.txt", destination="~/webapp/requirements.bak"),
        call("files.search", text="flask", path="~/webapp"),
        call("files.read", path="~/webapp/requirements.txt"),
        call("files.edit", path="~/webapp/requirements.txt", start=1, text="flask==3.1.0"),
        answer("Copied, and flask is now 3.1.0."),
    ])
    # The request's words decide that it asks for a change (the intent table).
    session = Session(backend, load_builtin_tools(), Safety(policy=AllowReadOnlyPolicy(), intent=allowed_effects_for))
    list(session.run("copy my requirements.txt to requirements.bak, then change flask to 3.1.0 in the original",
                     approver=lambda _step: True))
    read_turn = backend.calls[2]
    assert read_turn.offered_tools == ["files.read"]
    # Of the files hit (app.py, requirements.txt), the one the request names: offered both, the model read and
    # edited app.py.
    assert read_turn.schema["properties"]["args"]["properties"]["path"]["enum"] == ["~/webapp/requirements.txt"]
    assert "files.edit" in backend.calls[3].offered_tools


def test_a_change_after_a_find_whose_word_is_in_files_text_searches_for_its_lines(temp_home: Path) -> None:
    """"Find the TODOs in my webapp project and write them to ~/Documents/todos.txt": the find for TODO* matched no
    file name but app.py's text holds it, so the things to write are lines. The next turn is a search whose text
    is that word (the 1.5B model had written "TODO: Review the app.py file." from nothing); the write then holds
    the lines found (after the read that any change after a search for lines is given)."""
    webapp = temp_home / "projects" / "webapp"
    webapp.mkdir(parents=True)
    (webapp / "app.py").write_text("import flask\n# TODO: add login\n# TODO: handle errors\n")
    (temp_home / "Documents").mkdir(exist_ok=True)
    backend = ScriptedBackend([
        call("files.find", path="~/projects/webapp", name="TODO*"),
        call("files.search", text="TODO", path="~/projects/webapp"),
        call("files.read", path="~/projects/webapp/app.py"),
        call("files.write", path="~/Documents/todos.txt", content="TODO: add login\nTODO: handle errors\n"),
        answer("Wrote 2 TODOs to ~/Documents/todos.txt."),
    ])
    finished = run_approved(backend, "find the TODOs in my webapp project and write them to ~/Documents/todos.txt",
                            {Effect.READ, Effect.WRITE})
    assert [step.status for step in finished.steps] == ["ok", "ok", "ok", "ok"]
    search_turn = backend.calls[1]
    assert search_turn.offered_tools == ["files.search"]
    assert search_turn.schema["properties"]["args"]["properties"]["text"]["enum"] == ["TODO"]
    assert (temp_home / "Documents" / "todos.txt").read_text() == "TODO: add login\nTODO: handle errors\n"


def test_a_find_that_matched_file_names_owes_no_search(temp_home: Path) -> None:
    """Files named so are what the request meant: the model plans on from them."""
    (temp_home / "TODO.md").write_text("buy milk\n")
    backend = ScriptedBackend([
        call("files.find", path="~", name="TODO*"),
        call("files.copy", source="~/TODO.md", destination="~/TODO.bak"),
        answer("Copied."),
    ])
    session = Session(backend, load_builtin_tools(), Safety(policy=AllowReadOnlyPolicy(), intent=allowed_effects_for))
    list(session.run("find my TODO file and copy it to ~/TODO.bak", approver=lambda _step: True))
    assert "files.copy" in backend.calls[1].offered_tools
