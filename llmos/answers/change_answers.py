"""What the changes of a request did, said by llmos from the change tools' results, and the check that a model
answer about them names only places the successful steps touched.

Asked "move the screenshots off my desktop into ~/Pictures/Screenshots", the 1.5B model first moved the prompt
example's "~/Pictures/Shots/Screenshot*" (which failed), then, repaired, the desktop's screenshots into
~/Pictures/Screenshots, and answered "2 screenshots moved to ~/Pictures/Shots.": a path of the failed call. The
facts check counts failed calls' arguments as sources (an answer may say what it tried), so a sentence that
claims a change is checked again against the successful steps alone; a path it names that none of them holds
replaces the answer with llmos's own account of the changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath

from llmos.answers._result import parsed_result, records
from llmos.answers.grounding import ungrounded_facts
from llmos.answers.outcomes import claims_a_change, sentences
from llmos.events import Step

NAMES_SHOWN = 3
"""Names listed in a sentence about changed files before "and N more"."""


def misplaced_paths(answer: str, request: str, steps: Sequence[Step]) -> list[str]:
    """The paths that a sentence of `answer` claiming a change names which neither the request nor any
    successful step (its arguments or its result) holds; [] when no step succeeded."""
    succeeded = [step for step in steps if step.status == "ok"]
    if not succeeded:
        return []
    sources = [*(step.result for step in succeeded if step.result),
               *(json.dumps(step.args, ensure_ascii=False) for step in succeeded)]
    misplaced: list[str] = []
    for sentence in sentences(answer):
        if claims_a_change(sentence):
            misplaced.extend(fact for fact in ungrounded_facts(sentence, request, sources)
                             if fact.startswith(("~", "/")) and fact not in misplaced)
    return misplaced


def changes_text(steps: Sequence[Step]) -> str | None:
    """One sentence per successful change step whose result llmos can word ("Moved 2 files into
    ~/Pictures/Screenshots: a.png, b.png."), or None when there is none."""
    said = [sentence for step in steps if step.status == "ok" and (sentence := _change_sentence(step))]
    return " ".join(said) or None


_VERBS = {"move": "Moved", "copy": "Copied", "delete": "Deleted", "chmod": "Changed the permissions of"}


def _change_sentence(step: Step) -> str | None:
    result = parsed_result(step.result)
    if result is None:
        return None
    try:
        # The folders a move or copy made for its destination are part of it, not changes of their own.
        done = [item for item in records(result.get("done") or []) if item.get("op") != "mkdir"]
    except ValueError:
        done = []
    ops = {item.get("op") for item in done}
    if len(ops) == 1 and (op := ops.pop()) in _VERBS and all(isinstance(item.get("path"), str) for item in done):
        return _transfer_sentence(_VERBS[str(op)], done)
    for key, verb in (("written", "Wrote"), ("appended", "Added to"), ("edited", "Edited"),
                      ("extracted", "Unpacked into")):
        if isinstance(result.get(key), str):
            return f"{verb} {result[key]}."
    if isinstance(result.get("created"), str):
        packed = step.tool == "files.archive"
        return f"{'Packed' if packed else 'Created'} {result['created']}" + (
            f" ({result['size']})." if packed and isinstance(result.get("size"), str) else ".")
    return None


def _transfer_sentence(verb: str, done: list[dict[str, object]]) -> str:
    """"Moved 2 items into ~/Pictures/Screenshots: a.png, b.png." (or "Moved ~/a.txt to ~/b.txt." for one)."""
    if len(done) == 1:
        item = done[0]
        return f"{verb} {item['path']}" + (f" to {item['to']}." if isinstance(item.get("to"), str) else ".")
    names = [PurePosixPath(str(item["path"])).name for item in done]
    shown = ", ".join(names[:NAMES_SHOWN]) + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN
                                              else "")
    targets = {str(PurePosixPath(str(item["to"])).parent) for item in done if isinstance(item.get("to"), str)}
    where = f" into {targets.pop()}" if len(targets) == 1 else ""
    return f"{verb} {len(done)} items{where}: {shown}."
