"""What became of a request's changes, said by llmos from the step records, never by the model.

A small model reads `{"not_run": "dry run: planned, not executed"}` and still writes "The .tmp files have been
deleted.". So whenever a step did not do what it was planned to do (a dry run skipped it, nobody approved it,
policy denied it, it failed and was not fixed), llmos words that itself, and a model answer that claims a change
no step made is dropped rather than shown beside the truth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from llmos.answers._result import parsed_result
from llmos.events import Step, fixed_later
from llmos.words import clause_break

DRY_RUN_REASON = "dry run: planned, not executed"
NOT_ASKED_REASON = "needs approval, and nobody could be asked (--no-input, or no terminal)"
NOTHING_RAN = "Nothing was changed: no step ran for this request."
"""Said instead of a model answer that claims a change when the model made no call at all."""
DECLINED_REASON = "the user did not approve this step"
ONLY_LOOKED = "Nothing was changed: this request's steps only looked."
"""Said after (or instead of) a model answer's claimed change when every step of the request only read."""

_CHANGE_VERBS = (
    "deleted", "removed", "erased", "trashed", "moved", "renamed", "copied", "duplicated", "created",
    "written", "wrote", "saved", "appended", "added", "edited", "modified", "changed", "updated", "replaced",
    "killed", "terminated", "stopped", "paused", "suspended", "resumed", "restarted", "reniced", "archived",
    "compressed", "zipped", "extracted", "unzipped", "unpacked", "cleaned", "cleared", "emptied", "freed",
    "installed", "uninstalled", "organi[sz]ed", "sorted into", "transferred", "executed", "ran",
)
_CLAIM = re.compile(r"\b(?:" + "|".join(_CHANGE_VERBS) + r")\b", re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:not|no|nothing|none|never|neither|nor|without|would|will|could|can|cannot|should|may|might|to be|"
    r"if|once|whether|wasn't|weren't|hasn't|haven't|didn't|won't|isn't|aren't|can't|couldn't|wouldn't)\b|n't\b",
    re.IGNORECASE,
)
_DESCRIBES = re.compile(r"\b(?:last|recently|first|most|least|when|which|that were|files? (?:you|I))\s*$",
                        re.IGNORECASE)
"""Words that make the verb describe a file rather than report an action ("last modified", "most recently
created")."""
_CONDITION_OR_TIME = re.compile(
    r"\s*(?:if|when|once|date|time|(?:on|at|since|before|after|between|in|during)\s+(?:\d|yesterday|today|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|last|this)|"
    # when a file changed, as a question about it is answered: "budget.csv was changed most recently", "was
    # modified 2 days ago"
    r"(?:most |least )?recent|last\b|\d+\s*[a-z]*\s+ago)",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(clause_break(".;:!?") + r"|\n|,\s*(?:but|and|so)\b|\bbut\b")
_SAID_DONE = re.compile(r"\b(?:was|were|has been|have been|had been|got|is now|are now|i|i've|i have|we|we've|"
                        r"we have)\s+(?:[\w-]+\s+)?$", re.IGNORECASE)
"""Words just before a change verb that say it was done: a passive or perfect ("was moved", "have been
deleted"), or a person doing it ("I removed", "we also copied")."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    """`text` split into its sentences and lines, each of which a claim check reads on its own."""
    return _SENTENCE_END.split(text)


def claims_a_change(text: str, read_text: str = "", *, said_done: bool = False) -> bool:
    """Whether `text` says a change happened ("have been deleted", "I moved them"): a change verb in the past
    that no negation or condition before it in its clause takes back ("nothing was deleted", "would be moved",
    "was not removed" are not claims), and that is not the words of `read_text` (what the model read: "a test
    website created for demonstration purposes" restates a page, it claims nothing). With `said_done`, only a
    verb said as done by someone ("was moved", "has been deleted", "I removed") counts: after steps that only
    read, an answer describes files ("changed 1y ago") far more often than it makes up a change."""
    folded_read = _spaced(read_text).casefold()
    for match in _CLAIM.finditer(text):
        clause_start = max((found.end() for found in _CLAUSE_BREAK.finditer(text, 0, match.start())), default=0)
        before = text[clause_start:match.start()]
        after = text[match.end():match.end() + 12]
        if _NEGATION.search(before) or _DESCRIBES.search(before) or _CONDITION_OR_TIME.match(after):
            continue
        if said_done and not _SAID_DONE.search(before):
            continue
        if folded_read and _quoted(text, match, folded_read):
            continue
        return True
    return False


_WORDS_AFTER = re.compile(r"(?:\s+[\w'-]+){2}")


def _quoted(text: str, claim: re.Match[str], folded_read: str) -> bool:
    """Whether the change verb and the two words after it are, word for word, in what was read."""
    following = _WORDS_AFTER.match(text, claim.end())
    if following is None:
        return False
    return _spaced(text[claim.start():following.end()]).casefold() in folded_read


def _spaced(text: str) -> str:
    return " ".join(text.split())


def not_done_steps(steps: Sequence[Step]) -> list[Step]:
    """The steps that did not do what was planned: denied, skipped (dry run or not approved), or failed and not
    fixed by a later call."""
    return [
        step for index, step in enumerate(steps)
        if step.status in ("denied", "skipped")
        or (step.status == "error" and not fixed_later(step, list(steps[index + 1:])))
    ]


def outcome_statement(steps: Sequence[Step]) -> str | None:
    """llmos's own account of the steps that did not happen, one sentence each; None when every step did."""
    missed = not_done_steps(steps)
    if not missed:
        return None
    sentences = [_sentence(step) for step in missed]
    if any(step.status == "skipped" and _reason(step) == DRY_RUN_REASON for step in missed):
        sentences.insert(0, "Dry run: nothing was changed.")
    return " ".join(sentences)


def with_outcome(
    answer: str | None, steps: Sequence[Step], read_text: str = "", *, only_looked: bool = False,
) -> tuple[str | None, bool]:
    """The answer to show and whether llmos replaced the model's words: the outcome statement first when a step
    did not happen, then the model's answer unless it claims a change that no step made (`read_text`: what the
    model read, piped data and tool results, whose own words are no claim). With `only_looked` (every step only
    read), a sentence claiming a change is left out and llmos says nothing was changed: after reading notes that
    told it to move a file, the 0.5B model answered the question and added that the file "was moved"."""
    statement = outcome_statement(steps)
    if not steps and answer and claims_a_change(answer, read_text):
        return NOTHING_RAN, True
    if statement is None:
        if only_looked and answer and claims_a_change(answer, read_text, said_done=True):
            kept = " ".join(sentence for sentence in sentences(answer.strip())
                            if not claims_a_change(sentence, read_text, said_done=True))
            return (f"{kept}\n{ONLY_LOOKED}" if kept else ONLY_LOOKED), True
        return answer, False
    changed = any(step.status == "ok" and step.undo_id for step in steps)
    keep_model = bool(answer) and (changed or not claims_a_change(answer or ""))
    if keep_model and answer and answer.strip() and not _repeats(statement, answer):
        return f"{statement}\n{answer.strip()}", False
    return statement, True


_ASKS_HOW_MANY = re.compile(r"\bhow many\b", re.IGNORECASE)
_STATES_A_COUNT = re.compile(r"\b(?:\d+|no|none|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                             r"twelve)\b", re.IGNORECASE)
COUNTED_CHANGES = ("moved", "copied", "deleted", "changed")
"""The keys under which change tools count what they did (`files.move`'s `moved`, `files.chmod`'s `changed`)."""


def with_asked_count(answer: str, request: str, steps: Sequence[Step]) -> str:
    """`answer`, with llmos's count of what the steps changed added when the request asks how many and the
    answer gives no number but the request's own ("set them all to 755 and tell me how many you changed": "You
    changed the permissions of backup.sh to 755."). The count is the tools' own, summed per kind of change."""
    if not _ASKS_HOW_MANY.search(request):
        return answer
    # A number the request gave ("set them to 755") is no count of what changed.
    given = {word.casefold() for word in _STATES_A_COUNT.findall(request)}
    if any(word.casefold() not in given for word in _STATES_A_COUNT.findall(answer)):
        return answer
    totals: dict[str, int] = {}
    for step in steps:
        result = parsed_result(step.result) if step.status == "ok" else None
        for key in COUNTED_CHANGES:
            count = result.get(key) if result is not None else None
            if isinstance(count, int) and not isinstance(count, bool):
                totals[key] = totals.get(key, 0) + count
    if not totals:
        return answer
    counted = ", ".join(f"{count} {'file' if count == 1 else 'files'} {key}" for key, count in totals.items())
    return f"{answer.rstrip()}\n{counted[0].upper()}{counted[1:]}." if answer.strip() else f"{counted}."


def _sentence(step: Step) -> str:
    what = _what(step)
    reason = _reason(step)
    if step.status == "skipped" and reason == DRY_RUN_REASON:
        return f"Planned, not run: {what}."
    if step.status == "skipped" and reason == NOT_ASKED_REASON:
        return f"Not done: {what} needs your approval, and nobody could be asked (--no-input, or no terminal)."
    if step.status == "skipped":
        return f"Not done, not approved: {what}."
    if step.status == "denied":
        rule = step.decision.rule if step.decision else "policy"
        why = step.decision.reason if step.decision else ""
        return f"Refused by policy ({rule}): {what}" + (f": {why}." if why else ".")
    return f"Failed: {what}: {reason or 'the tool reported an error'}."


def _what(step: Step) -> str:
    """The step as a person reads it: its preview (`delete ~/Downloads/a.iso (4096 bytes)`), else the call."""
    if step.preview:
        shown = "; ".join(step.preview[:3])
        more = len(step.preview) - 3
        return shown + (f"; and {more} more" if more > 0 else "")
    args = " ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in step.args.items()
                    if value is not None)
    return f"{step.tool} {args}".rstrip()


def _reason(step: Step) -> str:
    """The `not_run` reason or the `error` message the step's result carries."""
    try:
        result = json.loads(step.result or "{}")
    except ValueError:
        return (step.result or "").strip()
    if isinstance(result, dict):
        for key in ("not_run", "error"):
            if isinstance(result.get(key), str):
                return str(result[key])
    return ""


def _repeats(statement: str, answer: str) -> bool:
    return answer.strip() in statement
