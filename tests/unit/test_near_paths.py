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
    assert failure(builtin_tools, "files.read", path="~/Downloads/note.txt")["did_you_mean"][0] == "~/Downloads/notes.txt"
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
    assert similar_paths(temp_home / ".config" / "id_ed25519") == []  # a hidden path looks in hidden folders, never ~/.ssh


def test_nothing_close_means_no_suggestion(temp_home: Path, builtin_tools: Registry) -> None:
    assert "did_you_mean" not in failure(builtin_tools, "files.read", path="~/zzqx-nothing-like-it.bin")


def test_listing_a_file_says_how_to_read_it(temp_home: Path, builtin_tools: Registry) -> None:
    payload = failure(builtin_tools, "files.list", path="~/Downloads/notes.txt")
    assert payload["hint"].startswith("it is a file: files.read")
