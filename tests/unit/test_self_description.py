""""What can you do?" is answered by llmos from its registered tools, without the model (which had answered "I can
answer questions, provide information, and assist with tasks."): every tool it has is named in plain words, and
nothing it lacks is claimed."""

from __future__ import annotations

import pytest
from fakes import ScriptedBackend, run_approved
from llmos.tools.builtin import builtin_registry

from llmos.effects import Effect
from llmos.self_description import PLAIN_WORDS, asks_what_llmos_does, self_description


@pytest.mark.parametrize("request_text", [
    "What can you do?", "what can you do for me", "hey, what can you help me with?", "who are you?",
    "What is llmos?", "what are your capabilities", "help",
])
def test_a_question_about_llmos_itself_is_recognised(request_text: str) -> None:
    assert asks_what_llmos_does(request_text)


@pytest.mark.parametrize("request_text", [
    "help me find my pdfs",                   # a request, with help in it
    "what can you do with this file?",        # about a file
    "what can I do about the slow disk?",
    "who wrote Don Quixote?",
])
def test_a_request_or_another_question_is_not(request_text: str) -> None:
    assert not asks_what_llmos_does(request_text)


def test_every_builtin_tool_has_plain_words() -> None:
    """A tool added without them would be left out of what llmos says it can do."""
    missing = {spec.name for spec in builtin_registry().specs()} - set(PLAIN_WORDS) - {"answer"}
    assert missing == set()


def test_the_answer_names_the_registered_tools_only() -> None:
    """With only looks registered, nothing about changes is claimed, nor how they are undone."""
    reads = [(spec.name, spec.effect) for spec in builtin_registry().specs() if spec.effect is Effect.READ]
    text = self_description(reads)
    assert "find files by name, size or age" in text and "list the running programs" in text
    assert "delete" not in text and "llmos undo" not in text and "Change files" not in text


def test_the_session_answers_without_the_model() -> None:
    backend = ScriptedBackend([])
    finished = run_approved(backend, "What can you do?", {Effect.READ})
    assert backend.calls == [] and finished.steps == [] and finished.exit_code == 0
    assert finished.answer is not None and finished.answer.startswith("I'm llmos")
    assert "move and rename" in finished.answer and "`llmos undo` reverses file changes" in finished.answer
