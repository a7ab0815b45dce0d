"""Learning from approvals: which plans are kept, how they are found again, how a session offers them, and
`llmos feedback list|export|forget|clear`."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import AllowReadOnlyPolicy, RemovalRegistry, ScriptedBackend, answer, call
from llmos.models.prompt import SYSTEM_TEXT, system_text
from llmos.policies.decision import Decision
from trees import isolate_xdg

from llmos.cli import main
from llmos.config import Config
from llmos.events import RequestFinished, Step
from llmos.executor import Safety
from llmos.learning import (
    MAX_LEARNED_PLANS,
    LearnedPlan,
    PlanMemory,
    PlannedCall,
    approved_by_a_person,
    learned_plans_file,
    similarity,
    training_example,
)
from llmos.runtime import plan_memory_for
from llmos.session import Session

ASK = Decision("ask", "effect:delete", "asks before deleting")
ALLOW = Decision("allow", "effect:read", "reads are fine")


def outcome(*steps: Step, ok: bool = True, request: str = "remove the old logs in ~/tmp") -> RequestFinished:
    return RequestFinished(request=request, ok=ok, answer="Removed.", steps=list(steps), model="scripted")


def approved_step(index: int = 0, tool: str = "demo.remove", **args: Any) -> Step:
    return Step(index=index, tool=tool, args=args or {"path": "~/tmp/*.log"}, decision=ASK, approved=True, status="ok")


def read_step(index: int = 0) -> Step:
    return Step(index=index, tool="demo.count", args={"folder": "~/tmp"}, decision=ALLOW, status="ok")


def plan(request: str, *calls: tuple[str, dict[str, Any]], plan_id: str = "p1") -> LearnedPlan:
    return LearnedPlan(id=plan_id, time="2025-01-02T03:04:05+00:00", request=request,
                       calls=tuple(PlannedCall(tool, args) for tool, args in calls), answer="done", model="scripted")


def finished_ok(events: Any) -> bool:
    last = list(events)[-1]
    return isinstance(last, RequestFinished) and last.ok and last.exit_code == 0


def write_plans(memory: PlanMemory, *plans: LearnedPlan) -> None:
    memory.path.parent.mkdir(parents=True, exist_ok=True)
    memory.path.write_text("".join(json.dumps(p.to_json()) + "\n" for p in plans), encoding="utf-8")


# What is kept


def test_kept_only_when_a_person_approved_and_every_step_ended_ok() -> None:
    """Approved `ask` step and all ok: kept; read-only without asking, a failed step, a refusal, or a failed
    request: not kept."""
    assert approved_by_a_person(outcome(read_step(0), approved_step(1)))
    assert not approved_by_a_person(outcome(read_step()))
    assert not approved_by_a_person(outcome(approved_step(), ok=False))
    failed = replace(approved_step(1), status="error")
    assert not approved_by_a_person(outcome(read_step(0), failed))
    refused = Step(index=0, tool="demo.remove", args={}, decision=ASK, approved=False, status="skipped")
    assert not approved_by_a_person(outcome(refused))


def test_record_keeps_request_calls_answer_and_model_but_no_results(tmp_path: Path) -> None:
    """A kept plan holds the request, the calls as written, the answer, time and model; never a tool result."""
    memory = PlanMemory(tmp_path / "learned.jsonl")
    step = replace(approved_step(), result='{"secret": "contents of a private file"}')
    kept = memory.record(outcome(step), [PlannedCall("demo.remove", {"path": "~/tmp/*.log"})],
                         ["answer", "demo.remove"])
    assert kept is not None
    [stored] = memory.plans()
    assert stored == kept
    assert (stored.request, stored.tool_names, stored.answer, stored.model) == (
        "remove the old logs in ~/tmp", ["demo.remove"], "Removed.", "scripted")
    assert stored.offered_tools == ("answer", "demo.remove") and stored.time.endswith("+00:00")
    assert "private file" not in memory.path.read_text(encoding="utf-8")


def test_file_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    """The kept plans are readable by their owner only."""
    memory = PlanMemory(tmp_path / "data" / "learned.jsonl")
    memory.record(outcome(approved_step()))
    assert stat.S_IMODE(memory.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(memory.path.parent.stat().st_mode) == 0o700


def test_corrupt_line_is_skipped_and_cap_drops_the_oldest(tmp_path: Path) -> None:
    """A torn or hand-edited line loses that line only; past the cap the oldest plans go."""
    memory = PlanMemory(tmp_path / "learned.jsonl", max_plans=3)
    write_plans(memory, plan("first", ("demo.remove", {"path": "a"}), plan_id="a1"))
    with memory.path.open("a", encoding="utf-8") as stream:
        stream.write('{"id": "torn", "req\n["not a plan"]\n')
    assert [p.id for p in memory.plans()] == ["a1"]
    for n in range(4):
        memory.record(outcome(approved_step(path=f"~/x{n}"), request=f"remove x{n}"))
    assert [p.request for p in memory.plans()] == ["remove x1", "remove x2", "remove x3"]
    assert MAX_LEARNED_PLANS == 500


def test_the_same_plan_again_replaces_the_old_one(tmp_path: Path) -> None:
    """Approving the same request and calls twice keeps one copy, the newest."""
    memory = PlanMemory(tmp_path / "learned.jsonl")
    first = memory.record(outcome(approved_step()))
    second = memory.record(outcome(approved_step(), request="Remove the old logs in ~/tmp!"))
    assert first is not None and second is not None
    assert [p.id for p in memory.plans()] == [second.id]


# Finding a similar plan


def test_similar_picks_the_closest_plan_and_nothing_below_the_threshold(tmp_path: Path) -> None:
    """Word-set Jaccard over content words: the matching plan wins; an unrelated request finds none."""
    memory = PlanMemory(tmp_path / "learned.jsonl")
    move = plan("move the PDFs in Downloads into Documents/PDFs", ("files.move", {}), plan_id="move")
    delete = plan("delete the tmp files in Downloads", ("files.delete", {}), plan_id="del")
    write_plans(memory, move, delete)
    assert [p.id for p in memory.similar("move my pdf files from downloads to documents/pdfs")] == ["move"]
    assert [p.id for p in memory.similar("delete tmp files in ~/Downloads")] == ["del"]
    assert memory.similar("what is using the most memory?") == []
    assert similarity("delete the tmp files in downloads", "delete the pdf files in documents") < 0.5


def test_similar_only_offers_plans_whose_tools_are_allowed(tmp_path: Path) -> None:
    """A plan that uses a tool outside the request's tool set is never returned for it."""
    memory = PlanMemory(tmp_path / "learned.jsonl")
    write_plans(memory, plan("clean up downloads", ("files.find", {}), ("files.delete", {})))
    assert memory.similar("clean up downloads", allowed_tools={"answer", "files.find"}) == []
    assert memory.similar("clean up downloads", allowed_tools={"answer", "files.find", "files.delete"})


# The session


def session_with_memory(tmp_path: Path, backend: ScriptedBackend, **safety: Any) -> tuple[Session, PlanMemory]:
    memory = PlanMemory(tmp_path / "learned.jsonl")
    return Session(backend, RemovalRegistry(), Safety(policy=AllowReadOnlyPolicy(), **safety), memory=memory), memory


def test_session_keeps_an_approved_plan_with_the_calls_as_written(tmp_path: Path) -> None:
    """An approved delete that ran is kept, with the call as the model wrote it and the tools it was offered."""
    backend = ScriptedBackend([call("demo.count", folder="~/tmp"), call("demo.remove", path="~/tmp/*.log"),
                               answer("Removed.")])
    session, memory = session_with_memory(tmp_path, backend)
    list(session.run("remove the old logs in ~/tmp", approver=lambda step: True))
    [kept] = memory.plans()
    assert [c.as_model_reply() for c in kept.calls] == [
        '{"tool": "demo.count", "args": {"folder": "~/tmp"}}',
        '{"tool": "demo.remove", "args": {"path": "~/tmp/*.log"}}',
    ]
    assert kept.offered_tools == ("answer", "demo.count", "demo.remove")


def test_session_keeps_nothing_unapproved_unasked_piped_or_without_memory(tmp_path: Path) -> None:
    """Refused, read-only, piped-data and learning-off requests leave nothing behind."""
    backend = ScriptedBackend([call("demo.remove", path="/x"), answer("Not done."),
                               call("demo.count", folder="a"), answer("3"),
                               call("demo.remove", path="/y"), answer("Removed.")])
    session, memory = session_with_memory(tmp_path, backend)
    list(session.run("delete /x", approver=lambda step: False))
    list(session.run("count a"))
    list(session.run("delete these", stdin_data="/y", approver=lambda step: True))
    assert memory.plans() == [] and not memory.path.exists()


def test_learning_is_off_unless_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """By default no memory is built, so an approved plan is not kept anywhere; the config turns it on."""
    isolate_xdg(tmp_path, monkeypatch)
    assert Config().learn_from_approvals is False and plan_memory_for(Config()) is None
    turned_on = plan_memory_for(Config(learn_from_approvals=True))
    assert turned_on is not None and turned_on.path == learned_plans_file()
    off = Session(ScriptedBackend([call("demo.remove", path="/z"), answer("ok")]), RemovalRegistry(),
                  AllowReadOnlyPolicy())
    assert finished_ok(off.run("delete /z", approver=lambda step: True))
    assert not learned_plans_file().exists()


def test_session_offers_the_similar_plan_after_the_prefix_before_the_request(tmp_path: Path) -> None:
    """The kept plan is one user/assistant pair after the static prefix (unchanged) and before the request."""
    backend = ScriptedBackend([answer("Done."), answer("Done.")])
    plain = Session(backend, RemovalRegistry(), AllowReadOnlyPolicy())
    list(plain.run("remove the old logs in ~/work"))
    session, memory = session_with_memory(tmp_path, backend)
    write_plans(memory, plan("remove the old logs in ~/tmp", ("demo.remove", {"path": "~/tmp/*.log"})))
    list(session.run("remove the old logs in ~/work"))
    without, with_example = backend.calls
    assert with_example.prefix == without.prefix  # the cached prefix KV stays valid
    example = ('<|im_start|>user\nremove the old logs in ~/tmp<|im_end|>\n'
               '<|im_start|>assistant\n{"tool": "demo.remove", "args": {"path": "~/tmp/*.log"}}<|im_end|>\n')
    assert with_example.conversation == example + without.conversation
    assert example not in with_example.prefix


def test_session_does_not_offer_a_plan_with_tools_outside_the_request(tmp_path: Path) -> None:
    """A read-only request's prompt never shows a kept delete, however alike the words."""
    backend = ScriptedBackend([answer("3 logs.")])
    session, memory = session_with_memory(tmp_path, backend, intent=lambda request: frozenset({"read"}))
    write_plans(memory, plan("the old logs in ~/tmp", ("demo.remove", {"path": "~/tmp/*.log"})))
    list(session.run("the old logs in ~/tmp"))
    assert "demo.remove" not in backend.calls[0].conversation
    assert backend.calls[0].conversation.startswith("<|im_start|>user\nthe old logs in ~/tmp<|im_end|>")


# Export


def test_training_example_is_the_chat_shape_with_llmos_system_text() -> None:
    """System text from models/prompt.py, the request, each call as llmos decodes it, results said to be absent."""
    example = training_example(plan("tidy downloads", ("files.find", {"path": "~/Downloads"}),
                                    ("files.move", {"source": "a", "destination": "b"})), ["files.find(path): Find."])
    roles = [m["role"] for m in example["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert example["messages"][0]["content"] == system_text(["files.find(path): Find."])
    assert SYSTEM_TEXT.split("\n", 1)[0] in example["messages"][0]["content"]
    assert json.loads(example["messages"][2]["content"]) == {"tool": "files.find", "args": {"path": "~/Downloads"}}
    assert "result not kept" in example["messages"][3]["content"]
    assert json.loads(example["messages"][4]["content"])["tool"] == "files.move"


# `llmos feedback`


@pytest.fixture()
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_xdg(tmp_path, monkeypatch)
    return tmp_path


def test_cli_list_says_how_to_turn_learning_on(xdg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With learning off and nothing kept, `list` tells how to turn it on."""
    assert main(["feedback", "list"]) == 0
    out = capsys.readouterr().out
    assert "learn_from_approvals = true" in out and "config.toml" in out


def test_cli_list_export_forget_clear(xdg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The kept plans are listed, exported as JSONL in the fine-tuning shape, forgotten one by one, cleared."""
    (xdg / "xdg_config_home" / "llmos").mkdir(parents=True)
    (xdg / "xdg_config_home" / "llmos" / "config.toml").write_text("learn_from_approvals = true\n")
    memory = PlanMemory()
    write_plans(memory, plan("move the pdfs to documents",
                             ("files.move", {"source": "~/Downloads/*.pdf", "destination": "~/Documents/"}),
                             plan_id="aa11"),
                plan("delete tmp files", ("files.delete", {"path": "~/Downloads/*.tmp"}), plan_id="bb22"))

    assert main(["feedback", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["id", "date", "request", "tools"]
    assert listed[1].split()[:2] == ["bb22", "2025-01-02"] and "files.delete" in listed[1]
    assert "move the pdfs to documents" in listed[2]

    assert main(["feedback", "export"]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["messages"][1]["content"] for e in exported] == ["move the pdfs to documents", "delete tmp files"]
    assert all(e["messages"][0]["role"] == "system" and "files.move(" in e["messages"][0]["content"] for e in exported)
    assert json.loads(exported[0]["messages"][2]["content"])["tool"] == "files.move"

    output = xdg / "set.jsonl"
    assert main(["feedback", "export", "--output", str(output)]) == 0
    assert len(output.read_text().splitlines()) == 2 and stat.S_IMODE(output.stat().st_mode) == 0o600

    assert main(["feedback", "forget", "aa11"]) == 0
    assert [p.id for p in memory.plans()] == ["bb22"]
    assert main(["feedback", "clear"]) == 0
    assert "removed 1 kept plan" in capsys.readouterr().out
    assert memory.plans() == [] and not memory.path.exists()
    assert main(["feedback", "list"]) == 0
    assert "no plans kept yet" in capsys.readouterr().out


def test_cli_errors_are_one_line_and_non_zero(xdg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown id or an unwritable output is one line on stderr and a non-zero exit, never a traceback."""
    write_plans(PlanMemory(), plan("delete tmp files", ("files.delete", {}), plan_id="bb22"))
    assert main(["feedback", "forget", "nope"]) == 2
    assert main(["feedback", "export", "--output", str(xdg / "missing" / "set.jsonl")]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and "no kept plan has the id 'nope'" in errors[0] and "cannot write" in errors[1]
    assert "Traceback" not in "".join(errors)
