"""A move's or copy's destination is one the request spells out (`llmos.destination_grounding`): the 1.5B model
moved "~/Pictures/Shots/Screenshot*" (the prompt example's folder) to "~/Desktop/Screenshots/" for "move the
screenshots off my desktop into ~/Pictures/Screenshots"."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ScriptedBackend, answer, call, run_approved

from llmos.destination_grounding import ground_destination, spelled_destinations
from llmos.effects import Effect


@pytest.mark.parametrize(("request_text", "choices"), [
    ("move the screenshots off my desktop into ~/Pictures/Screenshots",
     ("~/Pictures/Screenshots", "~/Pictures/Screenshots/")),
    # A home folder's path without ~/, and two destinations.
    ("organise my downloads by type: pdfs into Downloads/PDFs and the jpg photos into Downloads/Images",
     ("~/Downloads/PDFs", "~/Downloads/PDFs/", "~/Downloads/Images", "~/Downloads/Images/")),
    # Where things are ("in ~/Downloads") is no destination.
    ("move the pdfs in ~/Downloads into ~/Documents/PDFs", ("~/Documents/PDFs", "~/Documents/PDFs/")),
    # A file named as the destination is one, with no folder form; the sentence's full stop is not in it.
    ("copy budget.csv to ~/Desktop/budget-copy.csv.", ("~/Desktop/budget-copy.csv",)),
])
def test_a_spelled_destination_is_a_choice(request_text: str, choices: tuple[str, ...]) -> None:
    assert spelled_destinations(request_text) == choices


@pytest.mark.parametrize("request_text", [
    "rename the holiday folder to lisbon-2024",      # a name, no path
    "move it to the desktop",                        # a place in words
    "make a folder Documents/Archive and move both quarterly reports into it",
])
def test_no_spelled_destination_leaves_it_to_the_model(request_text: str) -> None:
    assert spelled_destinations(request_text) == ()


def test_only_a_move_or_copy_is_grounded() -> None:
    parameters = {"type": "object", "properties": {"destination": {"type": "string"}}, "required": ["destination"]}
    grounded = ground_destination("files.move", parameters, ("~/a", "~/a/"))
    assert grounded["properties"]["destination"]["enum"] == ["~/a", "~/a/"]
    assert ground_destination("files.archive", parameters, ("~/a",)) == parameters
    assert ground_destination("files.move", parameters, ()) == parameters


def test_the_move_turn_offers_only_the_spelled_destination(temp_home: Path) -> None:
    desktop = temp_home / "Desktop"
    desktop.mkdir(exist_ok=True)
    (desktop / "Screenshot 1.png").write_bytes(b"png")
    (temp_home / "Pictures").mkdir(exist_ok=True)
    backend = ScriptedBackend([
        call("files.move", source="~/Desktop/Screenshot*", destination="~/Pictures/Screenshots/"),
        answer("Moved 1 screenshot."),
    ])
    finished = run_approved(backend, "move the screenshots off my desktop into ~/Pictures/Screenshots",
                            {Effect.READ, Effect.WRITE})
    branches = {branch["properties"]["tool"]["const"]: branch for branch in backend.calls[0].schema["anyOf"]}
    destination = branches["files.move"]["properties"]["args"]["properties"]["destination"]
    assert destination["enum"] == ["~/Pictures/Screenshots", "~/Pictures/Screenshots/"]
    assert finished.steps[0].status == "ok"
    assert (temp_home / "Pictures" / "Screenshots" / "Screenshot 1.png").exists()


def test_after_one_destination_is_used_the_next_move_goes_to_the_rest_written_first(temp_home: Path) -> None:
    """"pdfs into Downloads/PDFs and the jpg photos into Downloads/Images": after the photos' move, a move may go
    only to Downloads/PDFs, and the grammar writes the destination before the source (the model had moved a
    photo it made up to Downloads/Images again)."""
    downloads = temp_home / "Downloads"
    downloads.mkdir(exist_ok=True)
    (downloads / "invoice.pdf").write_bytes(b"%PDF")
    (downloads / "photo.jpg").write_bytes(b"jpg")
    backend = ScriptedBackend([
        call("files.move", source="~/Downloads/*.jpg", destination="~/Downloads/Images/"),
        {"tool": "files.move", "args": {"destination": "~/Downloads/PDFs/", "source": "~/Downloads/*.pdf"}},
        answer("Moved them."),
    ])
    run_approved(backend, "organise my downloads by type: pdfs into Downloads/PDFs and the jpg photos into "
                 "Downloads/Images", {Effect.READ, Effect.WRITE})
    first, second = ({branch["properties"]["tool"]["const"]: branch for branch in turn.schema["anyOf"]}["files.move"]
                     ["properties"]["args"] for turn in backend.calls[:2])
    assert first["properties"]["destination"]["enum"] == [
        "~/Downloads/PDFs", "~/Downloads/PDFs/", "~/Downloads/Images", "~/Downloads/Images/"]
    assert second["properties"]["destination"]["enum"] == ["~/Downloads/PDFs", "~/Downloads/PDFs/"]
    assert list(second["properties"])[0] == "destination" and second["required"][0] == "destination"
    assert (downloads / "PDFs" / "invoice.pdf").exists() and (downloads / "Images" / "photo.jpg").exists()
