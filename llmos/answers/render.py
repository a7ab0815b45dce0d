"""Answers rendered from one step's tool result: a plain, correct sentence or three for every read tool whose
result can say it, with names, paths and numbers taken from the result as it is (front ends escape for terminals).

One renderer per result shape, shared with the fast path. A renderer that meets a result it cannot read (an error,
a step that did not run, a shape it does not know) answers None: llmos never guesses an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmos.answers import file_answers, piped_answers, system_answers
from llmos.answers._result import UNREADABLE, parsed_result
from llmos.events import Step

StepRenderer = Callable[[str, dict[str, Any], str], "str | None"]
"""(the step's result text, its arguments, the request) -> the answer, or None when the result cannot be read."""


def _from_fields(render: Callable[[dict[str, Any], dict[str, Any], str], str]) -> StepRenderer:
    """A step renderer from one that reads the parsed result."""

    def from_text(result_text: str, args: dict[str, Any], request: str) -> str | None:
        result = parsed_result(result_text)
        return None if result is None else render(result, args, request)

    return from_text


def _from_text(render: Callable[[str], str | None]) -> StepRenderer:
    """A step renderer from a fast-path renderer, which needs neither the arguments nor the request."""
    return lambda result_text, args, request: render(result_text)


STEP_RENDERERS: dict[str, StepRenderer] = {
    "files.list": _from_fields(file_answers.answer_folder),
    "files.find": _from_fields(file_answers.answer_find),
    "files.stat": _from_fields(file_answers.answer_stat),
    "files.read": _from_fields(file_answers.answer_read),
    "files.search": _from_fields(file_answers.answer_search),
    "files.disk_usage": _from_fields(file_answers.answer_disk_usage),
    "files.hash": _from_fields(file_answers.answer_hash),
    "process.list": system_answers.answer_process_list,
    "process.info": system_answers.answer_process_info,
    "system.info": system_answers.answer_system_info,
    "system.health": _from_text(system_answers.render_health),
    "stdin.sql": _from_fields(piped_answers.answer_sql),
}
"""The read tools whose results llmos can word by itself, by tool name."""


def render_step(step: Step, request: str) -> str | None:
    """The answer one successful read step's result gives, or None when the step did not succeed, its tool has no
    renderer, or its result cannot be read."""
    renderer = STEP_RENDERERS.get(step.tool)
    if step.status != "ok" or step.result is None or renderer is None:
        return None
    try:
        return renderer(step.result, step.args, request)
    except UNREADABLE:
        return None
