"""Learning from use (opt-in, local): plans a person approved are kept and offered back as examples.

A plan is kept when a request finished ok and a person approved it: at least one step was `ask`ed and approved,
and every step ended ok. Read-only requests that ran without asking are not kept: nobody vouched for them, and
keeping them would fill the memory with what the model already does well, crowding out the plans that taught it
something. Requests with piped stdin are not kept either: their calls depend on data that is never stored.

Only what is needed to repeat the plan is stored: the request text, the calls exactly as the model wrote them
(tool and args), the final answer, the time, the model and the tools that were offered. Tool results are never
stored (they hold file contents, process lists, command output), so the fine-tuning export has none either.

The file is `data_dir()/learned.jsonl`, mode 0600 in a 0700 folder, capped at MAX_LEARNED_PLANS (oldest dropped);
a line that fails to parse is skipped, so a torn write loses one plan, not the file.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmos.events import RequestFinished
from llmos.models.prompt import Turn, system_text
from llmos.paths import data_dir, folder_error
from llmos.words import singular

MAX_LEARNED_PLANS = 500
SIMILARITY_THRESHOLD = 0.5
"""Word-set Jaccard a kept request must reach to be offered: at 0.5 at least half of the two requests' content
words are shared, so "move the pdfs in downloads to documents" recalls itself, not "delete the tmp files"."""
RESULT_NOT_KEPT = json.dumps({"note": "result not kept"})
"""What an exported example shows where a tool result was (results are never stored)."""

# Words that carry no meaning about what to do; without dropping them, "the", "in" and "my" alone would make
# unrelated requests look half alike.
_STOP_WORDS = frozenset(
    "a an and are at be can could do for from i in into is it me my of on onto please the this to what with you your"
    .split()
)
_WORD = re.compile(r"[a-z0-9]+")


def learned_plans_file() -> Path:
    return data_dir() / "learned.jsonl"


@dataclass(frozen=True)
class PlannedCall:
    """One tool call as the model wrote it."""

    tool: str
    args: dict[str, Any]

    def as_model_reply(self) -> str:
        """The call exactly in the form llmos decodes: `{"tool": NAME, "args": {...}}`."""
        return json.dumps({"tool": self.tool, "args": self.args}, ensure_ascii=False)


def example_turns(request: str, calls: Sequence[PlannedCall]) -> list[Turn]:
    """A plan as the prompt shows it after the prefix (a kept plan or a library example): the request, then its
    first call exactly as llmos decodes one."""
    return [Turn("user", request), Turn("assistant", calls[0].as_model_reply())]


@dataclass(frozen=True)
class LearnedPlan:
    """A request a person approved and the calls that carried it out."""

    id: str
    time: str
    """UTC, ISO 8601, to the second."""
    request: str
    calls: tuple[PlannedCall, ...]
    answer: str
    model: str
    offered_tools: tuple[str, ...] = ()
    """The tools the model could choose from, so an export rebuilds the same system text."""

    @property
    def tool_names(self) -> list[str]:
        return [call.tool for call in self.calls]

    def example_turns(self) -> list[Turn]:
        """The plan as one example pair for the prompt: the old request, then its first call."""
        return example_turns(self.request, self.calls)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "time": self.time, "request": self.request,
            "calls": [{"tool": call.tool, "args": call.args} for call in self.calls],
            "answer": self.answer, "model": self.model, "offered_tools": list(self.offered_tools),
        }

    @classmethod
    def from_json(cls, value: Any) -> LearnedPlan | None:
        """The plan a stored line holds, or None when the line is not one (hand-edited, or from a newer llmos)."""
        if not isinstance(value, dict):
            return None
        try:
            calls = tuple(PlannedCall(str(call["tool"]), dict(call["args"])) for call in value["calls"])
            plan = cls(
                id=str(value["id"]), time=str(value["time"]), request=str(value["request"]), calls=calls,
                answer=str(value.get("answer") or ""), model=str(value.get("model") or ""),
                offered_tools=tuple(str(name) for name in value.get("offered_tools") or ()),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return plan if plan.calls and plan.request.strip() else None


def approved_by_a_person(outcome: RequestFinished) -> bool:
    """The request finished ok, every step ended ok, and at least one step was asked about and approved."""
    if not outcome.ok or outcome.cancelled or not outcome.steps:
        return False
    if any(step.status != "ok" for step in outcome.steps):
        return False
    return any(step.decision is not None and step.decision.verdict == "ask" and step.approved is True
               for step in outcome.steps)


def content_words(text: str) -> list[str]:
    """The text's content words in order: lower case, letters and digits, stop words dropped, a plural `s` cut
    (so "pdfs" and "PDF" match)."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP_WORDS:
            continue
        words.append(singular(word))
    return words


def request_words(text: str) -> frozenset[str]:
    """The request's content words as a set (see `content_words`)."""
    return frozenset(content_words(text))


def similarity(first: str, second: str) -> float:
    """Jaccard similarity of the two requests' content words: shared words over all words, 0.0 to 1.0."""
    first_words, second_words = request_words(first), request_words(second)
    if not first_words or not second_words:
        return 0.0
    return len(first_words & second_words) / len(first_words | second_words)


class PlanMemory:
    """The kept plans in one JSONL file, oldest first. Every read goes to the file, so `llmos feedback forget`
    takes effect in a running daemon at its next request."""

    def __init__(self, path: Path | None = None, max_plans: int = MAX_LEARNED_PLANS) -> None:
        self.path = path or learned_plans_file()
        self.max_plans = max_plans

    def plans(self) -> list[LearnedPlan]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            if folder_error(exc) is not None:
                raise  # with its path: a command says which of llmos's folders cannot be used (exit 2)
            raise OSError(f"cannot read {self.path}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise OSError(f"cannot read {self.path}: {exc}") from None
        plans: list[LearnedPlan] = []
        for line in lines:
            try:
                plan = LearnedPlan.from_json(json.loads(line))
            except json.JSONDecodeError:
                continue
            if plan is not None:
                plans.append(plan)
        return plans

    def record(
        self,
        outcome: RequestFinished,
        calls: Sequence[PlannedCall] | None = None,
        offered_tools: Iterable[str] = (),
    ) -> LearnedPlan | None:
        """Keep the request's plan if a person approved it (see `approved_by_a_person`); returns what was kept.

        `calls` are the calls as the model wrote them (before defaults were filled in); without them, the steps'
        validated args stand in. A plan with the same request words and calls as a kept one replaces it."""
        if not approved_by_a_person(outcome):
            return None
        if calls is None or [call.tool for call in calls] != [step.tool for step in outcome.steps]:
            calls = [PlannedCall(step.tool, step.args) for step in outcome.steps]
        plan = LearnedPlan(
            id=uuid.uuid4().hex[:8],
            time=datetime.now(UTC).isoformat(timespec="seconds"),
            request=outcome.request.strip(),
            calls=tuple(calls),
            answer=outcome.answer or "",
            model=outcome.model,
            offered_tools=tuple(offered_tools),
        )
        kept = self.plans()
        same = [old for old in kept if _same_plan(old, plan)]
        if same or len(kept) >= self.max_plans:
            kept = [old for old in kept if not _same_plan(old, plan)] + [plan]
            self._rewrite(kept[-self.max_plans:])
        else:
            self._append(plan)
        return plan

    def similar(
        self, request: str, limit: int = 1, allowed_tools: Collection[str] | None = None
    ) -> list[LearnedPlan]:
        """The kept plans most like `request` (word-set Jaccard at least SIMILARITY_THRESHOLD), best first and
        newest first among equals; with `allowed_tools`, only plans whose every call uses one of them."""
        try:
            kept = self.plans()
        except OSError:
            return []  # learning is a help: an unreadable file must not break a request
        scored: list[tuple[float, int, LearnedPlan]] = []
        for position, plan in enumerate(kept):
            if allowed_tools is not None and not set(plan.tool_names) <= set(allowed_tools):
                continue
            score = similarity(request, plan.request)
            if score >= SIMILARITY_THRESHOLD:
                scored.append((score, position, plan))
        scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        return [plan for _, _, plan in scored[:limit]]

    def forget(self, plan_id: str) -> bool:
        """Remove the plan with this id; False when there is none."""
        kept = self.plans()
        remaining = [plan for plan in kept if plan.id != plan_id]
        if len(remaining) == len(kept):
            return False
        self._rewrite(remaining)
        return True

    def clear(self) -> int:
        """Remove every kept plan (the file goes); returns how many there were."""
        count = len(self.plans())
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        return count

    def _append(self, plan: LearnedPlan) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(plan.to_json(), ensure_ascii=False) + "\n")

    def _rewrite(self, plans: list[LearnedPlan]) -> None:
        # Write a whole new file and swap it in, so a reader never sees half of it.
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.writelines(json.dumps(plan.to_json(), ensure_ascii=False) + "\n" for plan in plans)
        os.replace(temp_path, self.path)


def _same_plan(first: LearnedPlan, second: LearnedPlan) -> bool:
    return request_words(first.request) == request_words(second.request) and first.calls == second.calls


def training_example(plan: LearnedPlan, tool_lines: Sequence[str]) -> dict[str, Any]:
    """The plan in the common chat fine-tuning shape, with llmos's own system text listing `tool_lines`, so the
    set teaches exactly the call format llmos decodes.

    Tool results are not kept, so between two calls stands a tool turn (rendered as llmos renders one: a user
    message in <tool_response>) saying so. The final answer is left out: it was grounded in those results, and
    training it after a placeholder would teach the model to state facts it never read."""
    messages: list[dict[str, str]] = [
        {"role": "system", "content": system_text(tool_lines)},
        {"role": "user", "content": plan.request},
    ]
    for index, call in enumerate(plan.calls):
        if index:
            messages.append({"role": "user", "content": f"<tool_response>\n{RESULT_NOT_KEPT}\n</tool_response>"})
        messages.append({"role": "assistant", "content": call.as_model_reply()})
    return {"messages": messages}
