"""A change the request asks for everything it finds ("move them") is made to each found file: after the model
changes one of a few found files by its path, the next turns make the same change to the rest, each limited by
the grammar to the found files not yet changed, with no answer on offer until none is left
(`llmos.found_rest`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import ScriptedBackend, answer, call, run_approved

from llmos.effects import Effect
from llmos.events import Step, StepStatus
from llmos.found_rest import rest_owed, speaks_of_a_group

FOUND = json.dumps({"path": "~", "matches": 3, "results": {"columns": ["path", "type", "size"], "rows": [
    ["~/Downloads/manual.pdf", "file", "11.4 MB"], ["~/Videos/holiday.mp4", "file", "23.8 MB"],
    ["~/Videos/talk.mp4", "file", "12.0 MB"]]}})
FIND = Step(index=0, tool="files.find", args={"path": "~", "min_size": "10MB"}, status="ok", result=FOUND)


def move(source: str, status: StepStatus = "ok") -> Step:
    return Step(index=1, tool="files.move", args={"source": source, "destination": "~/Archive/big/"}, status=status,
                result="{}")


def changes(tool: str) -> bool:
    """The tools these steps use that change things."""
    return tool in {"files.move", "files.delete"}


@pytest.mark.parametrize("request_text", [
    "find files bigger than 10MB in my home and move them into ~/Archive/big",
    "move all the videos over 10MB to ~/Archive/big",
    "find the shell scripts in ~/projects, set them all to 755",
    "delete both of the big files",
])
def test_a_change_for_what_is_found_as_a_group(request_text: str) -> None:
    assert speaks_of_a_group(request_text)


@pytest.mark.parametrize("request_text", [
    "which .tmp file in Downloads is the biggest? delete that one",
    "find my videos and move the oldest of them to ~/Archive",
    "find the invoice and move it to ~/Documents",
    "move report.pdf to ~/Documents",
])
def test_a_change_for_one_picked_out_is_not(request_text: str) -> None:
    assert not speaks_of_a_group(request_text)


REQUEST = "find files bigger than 10MB in my home and move them into ~/Archive/big"


def test_after_one_found_file_is_changed_the_rest_is_owed() -> None:
    rest = rest_owed(REQUEST, [FIND, move("~/Downloads/manual.pdf")], changes)
    assert rest is not None and not rest.offer_answer
    assert (rest.tool, rest.argument, rest.choices) == (
        "files.move", "source", ("~/Videos/holiday.mp4", "~/Videos/talk.mp4"))
    rest = rest_owed(REQUEST, [FIND, move("~/Downloads/manual.pdf"), move("~/Videos/talk.mp4")], changes)
    assert rest is not None and rest.choices == ("~/Videos/holiday.mp4",)


@pytest.mark.parametrize("steps", [
    # Every found file changed, one by one or by a glob or folder that covers the rest.
    [FIND, move("~/Downloads/manual.pdf"), move("~/Videos/holiday.mp4"), move("~/Videos/talk.mp4")],
    [FIND, move("~/Downloads/manual.pdf"), move("~/Videos/*.mp4")],
    [FIND, move("~/Downloads/manual.pdf"), move("~/Videos")],
    # The change was not of a found file by its path, or it failed, or nothing was found before it.
    [FIND, move("~/Downloads/*.pdf")],
    [FIND, move("~/Downloads/manual.pdf", status="error")],
    [move("~/Downloads/manual.pdf")],
    # The last step is a look, not a change.
    [FIND, move("~/Downloads/manual.pdf"), FIND],
])
def test_nothing_is_owed_when_the_group_is_done_or_the_change_was_not_of_one_found_file(
    steps: list[Step],
) -> None:
    assert rest_owed(REQUEST, steps, changes) is None


def test_files_a_find_only_suggests_are_not_changed() -> None:
    """No file matched the name; the find named files whose text mentions it. Those are suggestions, and a change
    for a group changes each of the group: nothing more is owed for them."""
    suggested = json.dumps({"path": "~", "matches": 0, "results": [],
                            "files_mentioning_it": ["~/Documents/a.txt", "~/Documents/b.txt"]})
    find = Step(index=0, tool="files.find", args={"path": "~", "name": "*invoice*"}, status="ok", result=suggested)
    delete = Step(index=1, tool="files.delete", args={"path": "~/Documents/a.txt"}, status="ok", result="{}")
    assert rest_owed("find the invoices and delete them", [find, delete], changes) is None


def test_a_request_that_picks_one_out_owes_nothing_more() -> None:
    assert rest_owed("find files bigger than 10MB and move the biggest to ~/Archive/big",
                     [FIND, move("~/Downloads/manual.pdf")], changes) is None


@pytest.fixture
def home(temp_home: Path) -> Path:
    for relative in ("Downloads/manual.pdf", "Videos/holiday.mp4", "Videos/small.mp4"):
        path = temp_home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * (11 * 1024 * 1024 if "small" not in relative else 10))
    return temp_home


def test_the_model_moves_the_found_file_it_left_before_it_may_answer(home: Path) -> None:
    backend = ScriptedBackend([
        call("files.find", path="~", min_size="10MB"),
        call("files.move", source="~/Downloads/manual.pdf", destination="~/Archive/big/"),
        call("files.move", source="~/Videos/holiday.mp4", destination="~/Archive/big/"),
        answer("Moved manual.pdf and holiday.mp4 to ~/Archive/big."),
    ])
    outcome = run_approved(backend, REQUEST, {Effect.READ, Effect.WRITE})
    rest_turn = backend.calls[2]
    assert rest_turn.offered_tools == ["files.move"]
    (move_branch,) = rest_turn.schema.get("anyOf", [rest_turn.schema])
    assert move_branch["properties"]["args"]["properties"]["source"]["enum"] == ["~/Videos/holiday.mp4"]
    assert "answer" in backend.calls[3].offered_tools
    assert sorted(path.name for path in (home / "Archive" / "big").iterdir()) == ["holiday.mp4", "manual.pdf"]
    assert (home / "Videos" / "small.mp4").exists()
    assert outcome.exit_code == 0
