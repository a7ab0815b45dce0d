"""A path that does not exist comes back with similar ones that do (`did_you_mean`), found in the temp HOME:
the small model guesses paths and, told where they are, fixes the call instead of giving up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from llmos.tools.near_paths import similar_paths
from llmos.tools.registry import Registry


def failure(registry: Registry, tool: str, **args: Any) -> dict[str, Any]:
    spec = registry.get(tool)
    assert spec is not None
    result = spec.call(args)
    assert not result.ok
    return json.loads(result.for_model(4000))


def test_a_folder_guessed_at_the_wrong_level_is_found(temp_home: Path, builtin_tools: Registry) -> None:
    payload = failure(builtin_tools, "files.list", path="~/llmos")
    assert payload["error"] == "no such file or folder: ~/llmos"
    assert payload["did_you_mean"] == ["~/Documents/Projects/llmos"]


def test_a_misspelt_file_and_a_misspelt_parent_are_found(temp_home: Path, builtin_tools: Registry) -> None:
    did_you_mean = failure(builtin_tools, "files.read", path="~/Downloads/note.txt")["did_you_mean"]
    assert did_you_mean[0] == "~/Downloads/notes.txt"
    assert similar_paths(temp_home / "Documents" / "Taxs" / "2023" / "return.pdf") == [
        "~/Documents/Taxes/2023/return.pdf"]
    # A relative name, as the model writes it, resolved against the working directory (HOME here).
    assert similar_paths(temp_home / "README.md") == ["~/Documents/Projects/llmos/README.md"]


def test_a_glob_that_matches_nothing_is_suggested_where_it_would(temp_home: Path, builtin_tools: Registry) -> None:
    preview = builtin_tools.get("files.move")
    assert preview is not None
    from llmos.tools.registry import ToolError

    with pytest.raises(ToolError) as raised:
        preview.impact({"source": "~/Pictures/*.pdf", "destination": "~/Archive/"})
    assert raised.value.payload()["did_you_mean"] == ["~/Downloads/*.pdf", "~/Documents/Taxes/2023/*.pdf"]
    # Everything in a folder that does not exist: the folder is what was guessed.
    assert similar_paths(temp_home / "Documents" / "Tax" / "*") == ["~/Documents/Taxes/*"]


def test_nothing_hidden_or_secret_is_suggested(temp_home: Path) -> None:
    (temp_home / ".ssh").mkdir()
    (temp_home / ".ssh" / "id_ed25519").write_text("key")
    assert similar_paths(temp_home / "id_ed25519") == []
    assert similar_paths(temp_home / "hidden_token") == []  # ~/Downloads/.hidden_token is hidden
    # A hidden path looks in hidden folders, never ~/.ssh.
    assert similar_paths(temp_home / ".config" / "id_ed25519") == []


def test_nothing_close_means_no_suggestion(temp_home: Path, builtin_tools: Registry) -> None:
    assert "did_you_mean" not in failure(builtin_tools, "files.read", path="~/zzqx-nothing-like-it.bin")


def test_listing_a_file_says_how_to_read_it(temp_home: Path, builtin_tools: Registry) -> None:
    payload = failure(builtin_tools, "files.list", path="~/Downloads/notes.txt")
    assert payload["hint"].startswith("it is a file: files.read")


def test_a_short_name_inside_the_wanted_one_is_not_suggested(temp_home: Path) -> None:
    """"app" is inside "webapp", but ~/x/app.py is no guess for ~/webapp; a whole word of the name is."""
    (temp_home / "projects" / "webapp").mkdir(parents=True)
    (temp_home / "projects" / "webapp" / "app.py").write_text("")
    assert similar_paths(temp_home / "webapp") == ["~/projects/webapp"]
    assert similar_paths(temp_home / "Documents" / "Old Taxes") == ["~/Documents/Taxes"]


def _step(index: int, tool: str, status: str, result: str | None = None, **args: Any) -> Any:
    from llmos.events import Step

    return Step(index=index, tool=tool, args=args, status=status, result=result)  # type: ignore[arg-type]  # the tests name any status


@pytest.mark.parametrize(("steps", "exit_code"), [
    # The model took the suggestion: the request is done.
    ([_step(0, "files.delete", "error", json.dumps({"error": "no such file", "did_you_mean": ["~/Downloads/old.tmp"]}),
            path="~/Downloads/installer.exe"),
      _step(1, "files.delete", "ok", path="~/Downloads/old.tmp")], 0),
    # Same target, another argument fixed.
    ([_step(0, "files.write", "error", json.dumps({"error": "exists"}), path="~/a.json", content="x"),
      _step(1, "files.write", "ok", path="~/a.json", content="x", overwrite=True)], 0),
    # Another target: "delete a and b" with a missing still failed.
    ([_step(0, "files.delete", "error", json.dumps({"error": "no such file"}), path="~/a"),
      _step(1, "files.delete", "ok", path="~/b")], 1),
    # A folder tool given a file, remade as the read of that file: "show /etc/passwd" was done.
    ([_step(0, "files.list", "error", json.dumps({"error": "/etc/passwd is not a folder", "a_file": "/etc/passwd"}),
            path="/etc/passwd"),
      _step(1, "files.read", "ok", path="/etc/passwd")], 0),
    # A file's content set by another rewriting tool after the first was refused: "wipe scratch.txt" was done.
    ([_step(0, "files.edit", "error", json.dumps({"error": "lines 0--1 are outside"}), path="~/s.txt", text=""),
      _step(1, "files.write", "ok", path="~/s.txt", content="", overwrite=True)], 0),
    # ... not on another file, and not by a tool that does not rewrite (an append adds to what is there).
    ([_step(0, "files.edit", "error", json.dumps({"error": "lines 0--1 are outside"}), path="~/s.txt", text=""),
      _step(1, "files.write", "ok", path="~/t.txt", content="", overwrite=True)], 1),
    ([_step(0, "files.edit", "error", json.dumps({"error": "lines 0--1 are outside"}), path="~/s.txt", text="x"),
      _step(1, "files.append", "ok", path="~/s.txt", text="x")], 1),
    # ... but not by a read of another file.
    ([_step(0, "files.list", "error", json.dumps({"error": "/etc/passwd is not a folder", "a_file": "/etc/passwd"}),
            path="/etc/passwd"),
      _step(1, "files.read", "ok", path="/etc/hosts")], 1),
])
def test_a_failed_step_the_model_fixed_does_not_fail_the_request(steps: list[Any], exit_code: int) -> None:
    from llmos.events import RequestFinished

    assert RequestFinished(request="r", ok=True, answer="a", steps=steps, model="m").exit_code == exit_code


def test_a_file_guessed_in_the_wrong_folder_is_found_below_the_right_one(temp_home: Path) -> None:
    """"~/.webapp/app.log": the folder meant is ~/projects/webapp, and app.log is in its logs/ folder. The file
    that exists is suggested first; the path as guessed stays second (a file to write need not exist yet)."""
    (temp_home / "projects" / "webapp" / "logs").mkdir(parents=True)
    (temp_home / "projects" / "webapp" / "logs" / "app.log").write_text("started\n")
    assert similar_paths(temp_home / ".webapp" / "app.log") == ["~/projects/webapp/logs/app.log",
                                                                "~/projects/webapp/app.log"]
