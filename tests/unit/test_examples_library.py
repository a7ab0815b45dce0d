"""The planner's examples library: every example is a call llmos would accept, the library stays apart from the
eval suite (so the suite remains a fair measure), and retrieval shows a request the examples most like it."""

from __future__ import annotations

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer
from llmos.evals.tasks import load_tasks
from llmos.tools.builtin import builtin_registry
from llmos.tools.piped.tools import _SPECS as STDIN_SPECS

from llmos.examples.library import LibraryError, PlanExample, load_library, parse_library_file
from llmos.examples.retrieval import ExampleIndex, library_index, retrieval_words
from llmos.learning import PlannedCall, similarity
from llmos.session import Session, SessionOptions

NEAR = 0.34
"""Content-word Jaccard at which two requests count as near: a third of their words shared. (0.5, the point where a
kept plan is offered back as the same request, let "delete downloads older than a year" stand beside the eval's
"remove anything in Downloads that's older than a year".)"""
NEAR_SHARED_WORDS = 4
"""Or this many shared retrieval words (no question words), whatever else either request says: "tick off 'renew
passport' in ~/notes/todo.md" is near "mark 'renew passport' as done in Documents/todo.md"."""


def near(first: str, second: str) -> bool:
    shared = set(retrieval_words(first)) & set(retrieval_words(second))
    return similarity(first, second) >= NEAR or len(shared) >= NEAR_SHARED_WORDS


SPECS = {spec.name: spec for spec in builtin_registry().specs()} | {spec.name: spec for spec, _ in STDIN_SPECS}
STDIN_TOOLS = {spec.name for spec, _ in STDIN_SPECS}


def eval_requests() -> list[str]:
    requests: list[str] = []
    for task in load_tasks():
        requests.extend(line for line in ([task.request] if task.request else []) + list(task.script) if line)
    return requests


def test_the_library_holds_at_least_300_examples() -> None:
    assert len(load_library()) >= 300


def test_every_call_in_the_library_passes_its_tools_schema() -> None:
    """An example never teaches a tool llmos lacks or arguments it would refuse."""
    failures = []
    for example in load_library():
        for planned in example.calls:
            spec = SPECS.get(planned.tool)
            if spec is None:
                failures.append(f"{example.request!r}: no tool {planned.tool}")
                continue
            try:
                spec.validate_as_json(planned.args)
            except Exception as exc:  # noqa: BLE001 - every failure is collected and shown
                failures.append(f"{example.request!r}: {exc}")
    assert failures == []


def test_stdin_examples_and_the_others_stay_apart() -> None:
    """Examples for piped data use stdin tools (or answer) only; the others never use one (a request without piped
    data is not offered the stdin tools, so such an example would teach a call it cannot make)."""
    for example in load_library():
        used = set(example.tool_names)
        if example.piped is not None:
            assert used <= STDIN_TOOLS | {"answer"}, example.request
        else:
            assert not used & STDIN_TOOLS, example.request


def test_no_two_library_requests_are_the_same() -> None:
    requests = [example.request.lower() for example in load_library()]
    assert len(requests) == len(set(requests))


def test_no_eval_request_is_in_the_library_or_near_it() -> None:
    """The suite measures the planner on requests it was never shown: no library request shares a third of its
    content words, or four words that say what it is about, with any eval request."""
    library = [example.request for example in load_library()]
    found = [(request, example) for request in eval_requests() for example in library if near(request, example)]
    assert found == []


def test_the_overlap_check_sees_a_reworded_eval_request() -> None:
    """The check is not blind: an eval request with its words reordered and a stop word added counts as near, and
    so does one sharing four content words amid many others."""
    request = next(request for request in eval_requests() if len(request.split()) >= 4)
    reordered = " ".join(reversed(request.split())) + " please"
    assert near(request, reordered)
    assert near("mark 'renew passport' as done in Documents/todo.md",
                "update my todo list in ~/notes/todo.md: tick off 'renew passport' before the trip next month")


def test_a_damaged_library_file_is_named() -> None:
    with pytest.raises(LibraryError, match="broken.toml"):
        parse_library_file("broken.toml", '[[example]]\nrequest = "x"\n')
    with pytest.raises(LibraryError, match="broken.toml"):
        parse_library_file("broken.toml", "[[example]\n")


# Retrieval


def example(request: str, tool: str = "files.find", piped: str | None = None, **args: object) -> PlanExample:
    return PlanExample(request=request, calls=(PlannedCall(tool, dict(args)),), source="test.toml", piped=piped)


INDEX = ExampleIndex([
    example("how many pdfs are in my downloads", name="*.pdf", path="~/Downloads"),
    example("delete the tmp files in downloads", "files.delete", path="~/Downloads/*.tmp"),
    example("how big is my music folder", "files.disk_usage", path="~/Music"),
    example("what is using the most memory", "process.list", sort="memory"),
    example("how many lines mention usb", "stdin.search", piped="dmesg output", pattern="usb"),
    example("sum the amount column", "stdin.table", piped="a CSV", column="amount"),
])


def test_the_most_alike_example_comes_last() -> None:
    """The model follows the nearest example most, so it stands right before the request."""
    chosen = INDEX.nearest("how big are the pdfs in my music folder", 2)
    assert [example.request for example in chosen] == ["how many pdfs are in my downloads",
                                                       "how big is my music folder"]


def test_examples_share_a_word_with_the_request() -> None:
    """A content word, not a question word: "how many lines mention usb" is nothing like "how many pdfs"."""
    assert INDEX.nearest("write a haiku about autumn", 3) == []
    assert INDEX.nearest("how many did you say", 3) == []
    assert retrieval_words("what's the oldest file, and how many?") == ["oldest", "file"]
    assert INDEX.nearest("", 3) == [] and INDEX.nearest("how many pdfs", 0) == []


def test_piped_requests_get_only_piped_examples_and_others_never() -> None:
    assert [e.request for e in INDEX.nearest("how many lines mention disk", 3, piped=True)][-1] == (
        "how many lines mention usb")
    assert all(e.piped is not None for e in INDEX.nearest("how many files mention usb", 5, piped=True))
    assert all(e.piped is None for e in INDEX.nearest("how many lines mention usb", 5))


def test_an_example_with_a_tool_the_request_may_not_use_is_not_shown() -> None:
    """A read-only request's prompt never shows a delete, however alike the words."""
    allowed = {"answer", "files.find", "files.list"}
    chosen = INDEX.nearest("delete the tmp files in downloads", 3, allowed_tools=allowed)
    assert chosen and all(e.tool_names == ["files.find"] for e in chosen)


def test_the_bundled_library_finds_a_plain_request_its_nearest_kind() -> None:
    """On the real library, a request about a file type's count is shown a files.find example."""
    chosen = library_index().nearest("how many mp3 files are in my music folder", 3)
    assert chosen and chosen[-1].tool_names[0] == "files.find"


def test_a_session_shows_the_examples_after_the_prefix_and_before_the_request() -> None:
    """The cached prefix is unchanged; each example is the request and its first call, most alike last."""
    backend = ScriptedBackend([answer("Hi."), answer("Hi.")])
    registry = builtin_registry()
    request = "how many pdfs are in my documents folder"
    list(Session(backend, registry, AllowReadOnlyPolicy()).run(request))
    list(Session(backend, registry, AllowReadOnlyPolicy(), SessionOptions(examples=2)).run(request))
    without, with_examples = backend.calls
    assert with_examples.prefix == without.prefix
    shown = library_index().nearest(request, 2, allowed_tools={spec.name for spec in registry.specs()})
    expected = "".join(f"<|im_start|>user\n{e.request}<|im_end|>\n<|im_start|>assistant\n"
                       f"{e.calls[0].as_model_reply()}<|im_end|>\n" for e in shown)
    assert len(shown) == 2
    assert with_examples.conversation == expected + without.conversation

