"""A request for a live fact of the outside world (the weather, a market price, the news) is answered by llmos:
it cannot be checked offline, and the model made such facts up ("The weather in Paris is currently sunny")."""

from __future__ import annotations

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, run_approved
from llmos.tools.builtin import builtin_registry

from llmos.effects import Effect
from llmos.executor import Safety
from llmos.live_facts import live_fact_asked
from llmos.session import Session


@pytest.mark.parametrize(("request_text", "fact"), [
    ("is it going to rain tomorrow in Berlin?", "the weather"),
    ("weather forecast for the weekend", "the weather"),
    ("will it snow in Oslo on Friday", "the weather"),
    ("what's the euro to dollar exchange rate today", "market prices"),
    ("how much is one ethereum worth right now?", "market prices"),
    ("Tesla share price", "market prices"),
    ("what's in the news today?", "the news"),
    ("any breaking headlines?", "the news"),
])
def test_a_live_fact_of_the_world_is_recognised(request_text: str, fact: str) -> None:
    assert live_fact_asked(request_text) == fact


@pytest.mark.parametrize("request_text", [
    "what's the CPU temperature?",                         # this computer's sensors
    "sum the price column of ~/Documents/prices.csv",      # a file
    "what does my newsletter say about the fair?",         # a file of the person's
    "summarise the news in ~/Documents/digest.txt",        # a file
    "how much is my laptop's battery worth in hours?",     # this computer
    "who painted the Mona Lisa?",                          # knowledge that does not change
    "convert 5 miles to km",
    "what's 3 to the power of 4",
    "find files with weather in the name",                 # files
])
def test_a_question_about_this_computer_or_lasting_knowledge_is_not(request_text: str) -> None:
    assert live_fact_asked(request_text) is None


def test_the_session_says_it_cannot_check_without_asking_the_model() -> None:
    """No model turn and no step: the answer is llmos's own, and the request finishes (exit 0)."""
    backend = ScriptedBackend([])
    finished = run_approved(backend, "what's the weather in Paris right now?", {Effect.READ})
    assert backend.calls == [] and finished.steps == []
    assert finished.exit_code == 0 and finished.answer is not None
    assert finished.answer.startswith("I can't check the weather: llmos works offline")


def test_with_piped_data_the_model_reads_it() -> None:
    """Piped data may hold the fact ("what's the forecast in this?"): the request goes to the model."""
    backend = ScriptedBackend([answer("Sunny, 21 C.")])
    session = Session(backend, builtin_registry(), Safety(policy=AllowReadOnlyPolicy(),
                                                          intent=lambda _r: frozenset({Effect.READ})))
    events = list(session.run("what's the weather forecast in this?", "Forecast: sunny, 21 C\n"))
    assert len(backend.calls) == 1 and events[-1].answer == "Sunny, 21 C."
