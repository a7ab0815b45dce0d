"""A model answer about changes may name only places the successful steps touched, and llmos words the changes
itself otherwise (`llmos.answers.change_answers`). The 1.5B model answered "2 screenshots moved to
~/Pictures/Shots." after its move from ~/Pictures/Shots failed and the repaired one went to
~/Pictures/Screenshots."""

from __future__ import annotations

import json

from llmos.answers.change_answers import changes_text, misplaced_paths
from llmos.events import Step

REQUEST = "move the screenshots off my desktop into ~/Pictures/Screenshots"
FAILED = Step(index=0, tool="files.move", args={"source": "~/Pictures/Shots/Screenshot*",
                                                  "destination": "~/Pictures/Screenshots/"},
              status="error", result=json.dumps({"error": "nothing matches ~/Pictures/Shots/Screenshot*"}))
# As the model reads it: `done` as a table, with the destination folder the move made.
MOVED = Step(index=1, tool="files.move", args={"source": "~/Desktop/Screenshot*",
                                                 "destination": "~/Pictures/Screenshots/"},
             status="ok", result=json.dumps({"moved": 2, "done": {"columns": ["op", "path", "undo_id", "to"], "rows": [
                 ["mkdir", "~/Pictures/Screenshots", "1", None],
                 ["move", "~/Desktop/a.png", "2", "~/Pictures/Screenshots/a.png"],
                 ["move", "~/Desktop/b.png", "3", "~/Pictures/Screenshots/b.png"]]}}))


def test_a_change_claimed_at_a_failed_calls_path_is_misplaced() -> None:
    assert misplaced_paths("2 screenshots moved to ~/Pictures/Shots.", REQUEST, [FAILED, MOVED]) == [
        "~/Pictures/Shots"]


def test_the_place_the_changes_went_or_what_was_tried_is_not() -> None:
    assert misplaced_paths("2 screenshots moved to ~/Pictures/Screenshots.", REQUEST, [FAILED, MOVED]) == []
    # Not a claim of a change: what was tried may be named.
    assert misplaced_paths("Nothing matched ~/Pictures/Shots, so I used your desktop.", REQUEST,
                           [FAILED, MOVED]) == []
    # No successful step: the outcome statement speaks for the failure.
    assert misplaced_paths("Moved to ~/Pictures/Shots.", REQUEST, [FAILED]) == []


def test_changes_are_worded_from_the_results() -> None:
    assert changes_text([FAILED, MOVED]) == "Moved 2 items into ~/Pictures/Screenshots: a.png, b.png."
    deleted = Step(index=0, tool="files.delete", args={"path": "~/x.tmp"}, status="ok", result=json.dumps(
        {"deleted": 1, "undo": "llmos undo restores them", "done": [{"op": "delete", "path": "~/x.tmp"}]}))
    packed = Step(index=1, tool="files.archive", args={"source": "~/Music/album", "destination": "~/a.zip"},
                  status="ok", result=json.dumps({"created": "~/a.zip", "size": "2 KB", "undo_id": 3}))
    assert changes_text([packed, deleted]) == "Packed ~/a.zip (2 KB). Deleted ~/x.tmp."
    assert changes_text([FAILED]) is None

