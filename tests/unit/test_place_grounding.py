"""A look at the one folder the request names (`llmos.place_grounding`): asked "which file in Documents did I change
most recently?", the 1.5B model found in the home folder and named its newest (or biggest) file."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ScriptedBackend, answer, call, run_approved

from llmos.effects import Effect
from llmos.place_grounding import named_place, place_choices


@pytest.fixture
def home(temp_home: Path) -> Path:
    for folder in ("Documents/letters", "Documents/reports", "Downloads", "Desktop", "Pictures"):
        (temp_home / folder).mkdir(parents=True, exist_ok=True)
    (temp_home / "Documents" / "budget.csv").write_text("date,amount\n")
    (temp_home / "notes-at-home.txt").write_text("newest of all\n")
    return temp_home


@pytest.mark.parametrize(("request_text", "folder"), [
    ("which file in Documents did I change most recently?", "Documents"),
    ("what's the oldest file in my downloads", "Downloads"),
    ("how many pictures are on my desktop", "Desktop"),
    ("is there anything big in the Pictures folder?", "Pictures"),
    ("copy budget.csv from Documents to my Desktop", "Documents"),
])
def test_the_one_folder_named_as_the_place_to_look(home: Path, request_text: str, folder: str) -> None:
    assert named_place(request_text) == home / folder


@pytest.mark.parametrize("request_text", [
    "which of my documents mentions the plumber?",             # files, not the folder
    "find the letter to my landlord and move it to the desktop",  # a destination
    "list the pdfs in Downloads and ~/Documents/PDFs",        # a path spelled out
    "compare what's in Downloads with what's on my Desktop",  # two places
    "what's in my Videos folder?",                            # no such folder here
    "what's the biggest file in my home folder?",
])
def test_no_single_place_to_look(home: Path, request_text: str) -> None:
    assert named_place(request_text) is None


def test_the_choices_are_the_folder_and_its_subfolders(home: Path) -> None:
    assert place_choices(home / "Documents") == ("~/Documents", "~/Documents/Projects", "~/Documents/Taxes",
                                                 "~/Documents/letters", "~/Documents/reports")


def test_a_folder_of_many_subfolders_is_offered_alone(home: Path) -> None:
    for number in range(70):
        (home / "Downloads" / f"sub{number}").mkdir()
    assert place_choices(home / "Downloads") == ("~/Downloads",)


def test_every_look_of_the_request_is_limited_to_the_place(home: Path) -> None:
    """The find's path must be ~/Documents or below, and is required (left out, it would default to ".");
    the tools that change things are not limited."""
    backend = ScriptedBackend([
        call("files.find", path="~/Documents", sort="newest", limit=1),
        answer("~/Documents/budget.csv changed most recently."),
    ])
    run_approved(backend, "which file in Documents did I change most recently?", {Effect.READ})
    branches = {branch["properties"]["tool"]["const"]: branch["properties"]["args"]
                for branch in backend.calls[0].schema["anyOf"]}
    for tool in ("files.find", "files.list", "files.search", "files.disk_usage"):
        assert branches[tool]["properties"]["path"]["enum"] == [
            "~/Documents", "~/Documents/Projects", "~/Documents/Taxes", "~/Documents/letters", "~/Documents/reports"]
        assert "path" in branches[tool]["required"]
    assert "enum" not in branches["files.read"]["properties"]["path"]
