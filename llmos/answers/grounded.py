"""The answer a request ends with: the model's words when every fact in them is grounded in what the tools
returned, else llmos's own rendering of the last successful read step, with what failed the check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from llmos.answers._result import parsed_result
from llmos.answers.change_answers import changes_text
from llmos.answers.grounding import ungrounded_facts
from llmos.answers.render import render_step
from llmos.events import Step

GENERIC_FIELDS_SHOWN = 6
"""A step without a renderer is answered with this many of its result's plain fields."""
GENERIC_VALUE_CHARS = 80


@dataclass(frozen=True)
class GroundedAnswer:
    """What to show, where it came from, and the facts of the model's answer no result held (empty when the
    model's answer stands)."""

    text: str
    source: Literal["model", "rendered"]
    ungrounded: list[str] = field(default_factory=list)


def grounded_answer(
    answer: str | None, request: str, steps: Sequence[Step], extra_sources: Sequence[str] = ()
) -> GroundedAnswer:
    """Keep the model's `answer` when every fact it states is in a successful step's result, in `extra_sources`
    (piped data the model read) or in the request; otherwise answer from the last successful step's result. Steps
    that did not run (denied, skipped) or failed are no source of facts."""
    succeeded = [step for step in steps if step.status == "ok" and step.result]
    sources = [*(step.result for step in succeeded if step.result), *extra_sources]
    ungrounded = ungrounded_facts(answer, request, sources) if answer else []
    if answer and not ungrounded:
        return GroundedAnswer(answer, "model")
    # A change's result is worded with every change of the request ("Moved 2 items into ~/Downloads/Images: ...")
    # rather than as a field dump ("From the files.move result: moved: 3.").
    changes = changes_text(succeeded)
    for step in reversed(succeeded):
        rendered = render_step(step, request) or changes or _generic_rendering(step)
        if rendered:
            return GroundedAnswer(rendered, "rendered", ungrounded)
    if answer:
        facts = ", ".join(ungrounded)
        return GroundedAnswer(f"I could not check that answer: no tool result holds {facts}.", "rendered",
                              ungrounded)
    return GroundedAnswer("No answer: no step returned a result.", "rendered", [])


def _generic_rendering(step: Step) -> str | None:
    """The plain fields of a result no renderer knows, said to come from the tool's result."""
    result = parsed_result(step.result)
    if result is None:
        return None
    shown = [
        f"{key}: {value if isinstance(value, str) else json.dumps(value)}"
        for key, value in result.items()
        if value is not None and not isinstance(value, (dict, list))
        and len(str(value)) <= GENERIC_VALUE_CHARS
    ][:GENERIC_FIELDS_SHOWN]
    if not shown:
        return None
    return f"From the {step.tool} result: {'; '.join(shown)}."
