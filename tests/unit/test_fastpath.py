"""The deterministic fast path: which requests it plans, how it words real tool results, and how the session runs
it (same policy, audit and events as a model-planned call, no model call, no model load)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.models.backend import Backend, LazyBackend
from llmos.policies.decision import Decision, PolicyCall
from llmos.shell.ask import main
from llmos.tools import load_builtin_tools
from llmos.tools._format import human_size
from llmos.tools.registry import Registry, tool
from trees import isolate_xdg

import llmos.runtime
from llmos.effects import Effect
from llmos.errors import ModelError, ModelLoadError
from llmos.events import (
    Answer,
    AnswerToken,
    Event,
    RequestFinished,
    RequestStarted,
    StepDecided,
    StepFinished,
    StepPlanned,
)
from llmos.executor import Safety
from llmos.fastpath import (
    FastPlan,
    match_fast_path,
    render_cpu,
    render_disk,
    render_folder,
    render_health,
    render_memory,
    render_os,
    render_processes,
    render_uptime,
)
from llmos.session import Session, SessionOptions

FAST = SessionOptions(fast_path=True)

# -- matching ---------------------------------------------------------------------------------------------------

POSITIVES: list[tuple[str, str, dict[str, Any]]] = [
    ("how much memory is free?", "system.info", {"part": "memory"}),
    ("How much RAM do I have?", "system.info", {"part": "memory"}),
    ("what's my memory usage", "system.info", {"part": "memory"}),
    ("free memory", "system.info", {"part": "memory"}),
    ("Is my RAM full?", "system.info", {"part": "memory"}),
    ("please tell me how much memory is available.", "system.info", {"part": "memory"}),
    ("how much free disk space do I have?", "system.info", {"part": "disk"}),
    ("how much space is left on my disk", "system.info", {"part": "disk"}),
    ("disk usage", "system.info", {"part": "disk"}),
    ("df -h", "system.info", {"part": "disk"}),
    ("is my disk full", "system.info", {"part": "disk"}),
    ("what's the uptime?", "system.info", {"part": "uptime"}),
    ("how long has my computer been up", "system.info", {"part": "uptime"}),
    ("when did the system boot?", "system.info", {"part": "uptime"}),
    ("how many CPU cores do I have?", "system.info", {"part": "cpu"}),
    ("what cpu do I have", "system.info", {"part": "cpu"}),
    ("cpu usage", "system.info", {"part": "cpu"}),
    ("what OS am I on?", "system.info", {"part": "os"}),
    ("what's my hostname", "system.info", {"part": "os"}),
    ("whats the hostname of this box", "system.info", {"part": "os"}),
    ("what is the hostname of this machine?", "system.info", {"part": "os"}),
    ("what is using the most memory?", "process.list", {"sort": "memory", "limit": 5}),
    ("what's eating my RAM?", "process.list", {"sort": "memory", "limit": 5}),
    ("which processes use the most cpu", "process.list", {"sort": "cpu", "limit": 5}),
    ("Which programs are using the most CPU?", "process.list", {"sort": "cpu", "limit": 5}),
    ("top processes", "process.list", {"sort": "cpu", "limit": 5}),
    ("show me the top 10 processes by memory", "process.list", {"sort": "memory", "limit": 10}),
    ("list the files in ~/Downloads", "files.list", {"path": "~/Downloads"}),
    ("what's in ~/Documents?", "files.list", {"path": "~/Documents"}),
    ("ls ~/Music", "files.list", {"path": "~/Music"}),
    ("show my downloads folder", "files.list", {"path": "~/Downloads"}),
    ("What is in my Documents folder?", "files.list", {"path": "~/Documents"}),
    ("ls", "files.list", {"path": "."}),
    ("list the files here", "files.list", {"path": "."}),
    ('what is in "~/My Stuff"', "files.list", {"path": "~/My Stuff"}),
    ("ls ~/Projects/", "files.list", {"path": "~/Projects"}),
    ("why is my computer slow?", "system.health", {}),
    ("Why is my laptop so slow today?", "system.health", {}),
    ("what's slowing down my machine?", "system.health", {}),
    ("is something hogging my CPU?", "system.health", {}),
    ("system health check", "system.health", {}),
]


@pytest.mark.parametrize(("request_text", "tool_name", "args"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_common_phrasings_plan_the_call_the_model_would_make(
    request_text: str, tool_name: str, args: dict[str, Any]
) -> None:
    """Each intent's usual phrasings (any case, punctuation, politeness) plan exactly one call with its args."""
    plan = match_fast_path(request_text)
    assert plan is not None
    assert (plan.tool, plan.args) == (tool_name, args)


NEGATIVES = [
    # a specific process or file filter
    "how much memory does firefox use",
    "how much memory is firefox using?",
    "is chrome using the most memory",
    "which process is using port 8080",
    "list the pdfs in ~/Downloads",
    "list the files in ~/Downloads bigger than 10MB",
    "list the newest files in ~/Downloads",
    "show the biggest files in downloads",
    "list files in ~/Downloads/*.pdf",
    # a folder's size is not free disk space
    "how big is ~/Downloads",
    "how much space does ~/Downloads use",
    "what is the size of my documents folder",
    "what's the disk usage of ~/Downloads",
    "what is using the most disk space",
    # more than one clause
    "list the files in ~/Downloads and delete the zips",
    "top processes by memory, then kill the first",
    "how much memory is free; how much disk?",
    "show uptime then list ~/Downloads",
    # a change
    "kill the process using the most memory",
    "free up some memory",
    "move ~/Downloads/a.pdf to ~/Documents",
    "clean up my downloads folder",
    # a file, not a folder; vague
    "show ~/notes.txt",
    "what's in ~/notes.txt",
    "show this",
    "hello",
    # "why" about something else, or slowness plus a second clause
    "why is the sky blue",
    "why is my computer slow and how do I fix it",
    # another machine's facts
    "what is the hostname of the server at work",
]


@pytest.mark.parametrize("request_text", NEGATIVES)
def test_requests_that_are_not_plainly_one_intent_go_to_the_model(request_text: str) -> None:
    """Filters, folder sizes, several clauses, changes and files never match: the model plans them."""
    assert match_fast_path(request_text) is None


def test_piped_data_always_goes_to_the_model() -> None:
    """With stdin data the request is about the data: no fast path, however plain its words."""
    assert match_fast_path("how much memory is free?") is not None
    assert match_fast_path("how much memory is free?", has_stdin_data=True) is None


# -- rendering real results ---------------------------------------------------------------------------------------


def real_result(tool_name: str, **args: Any) -> str:
    """A built-in tool's result as the model reads it (and as the step records it)."""
    spec = load_builtin_tools().get(tool_name)
    assert spec is not None
    result = spec.call(spec.validate(args))
    assert result.ok, result.error
    return result.for_model(SessionOptions().result_budget_chars)


def test_memory_answer_has_available_used_and_total_with_units() -> None:
    """The memory answer states available, used and total memory as human sizes, and the percent in use."""
    result_text = real_result("system.info", part="memory")
    memory = json.loads(result_text)["memory"]
    text = render_memory(result_text)
    assert text is not None
    for size in (memory["available"], memory["used"], memory["total"]):
        assert human_size(size) in text
    assert f"{memory['percent']:g}%" in text


def test_disk_answer_has_each_disks_free_and_total_space() -> None:
    """The disk answer names every mount with its free and total space."""
    result_text = real_result("system.info", part="disk")
    text = render_disk(result_text)
    assert text is not None
    disks = json.loads(result_text)["disk"]
    rows = (disks if isinstance(disks, list)
            else [dict(zip(disks["columns"], row, strict=True)) for row in disks["rows"]])
    for disk in rows:
        assert disk["mount"] in text and human_size(disk["free"]) in text and human_size(disk["total"]) in text


def test_disk_answer_reads_the_table_form_of_several_disks() -> None:
    """Several disks reach the renderer as a table (columns + rows): each still gets its line."""
    table = {"disk": {"columns": ["mount", "free", "total", "percent"],
                      "rows": [["/", 2 * 1024**3, 10 * 1024**3, 80.0], ["/home", 1024**4, 2 * 1024**4, 50.0]]}}
    text = render_disk(json.dumps(table))
    assert text == "Free disk space:\n- /: 2.0 GB free of 10.0 GB (80% used)\n- /home: 1.0 TB free of 2.0 TB (50% used)"


def test_uptime_answer_says_the_duration_in_words() -> None:
    """Uptime in days, hours and minutes, with the boot time."""
    text = render_uptime(json.dumps({"uptime": {"boot_time": "2026-12-01T18:49:09", "seconds": 273900}}))
    assert text == "The system has been up for 3 days 4 hours 5 minutes (since 2026-12-01 18:49)."
    assert render_uptime(real_result("system.info", part="uptime")) is not None


def test_cpu_and_os_answers_carry_their_facts() -> None:
    """CPU: core count and model; OS: distribution and hostname, from the real tool."""
    cpu_result = real_result("system.info", part="cpu")
    cpu = json.loads(cpu_result)["cpu"]
    cpu_text = render_cpu(cpu_result)
    assert cpu_text is not None and f"{cpu['logical']} " in cpu_text and "core" in cpu_text
    if cpu["model"]:
        assert cpu["model"] in cpu_text
    os_result = real_result("system.info", part="os")
    os_facts = json.loads(os_result)["os"]
    os_text = render_os(os_result)
    assert os_text is not None and os_facts["hostname"] in os_text and os_facts["distribution"] in os_text


def test_process_answer_lists_top_names_with_their_memory() -> None:
    """Top processes by memory: a heading and one line per process with its name, pid and memory."""
    result_text = real_result("process.list", sort="memory", limit=5)
    text = render_processes(result_text)
    assert text is not None
    lines = text.splitlines()
    assert lines[0].startswith("Top ") and "by memory" in lines[0]
    processes = json.loads(result_text)["processes"]
    rows = [dict(zip(processes["columns"], row, strict=True)) for row in processes["rows"]]
    assert len(lines) == 1 + len(rows)
    for line, row in zip(lines[1:], rows, strict=True):
        assert f"(pid {row['pid']})" in line and str(row["rss"]) in line
        if row["name"]:
            assert row["name"] in line


def test_process_answer_by_cpu_leads_with_cpu() -> None:
    """Sorted by CPU, each line gives the CPU share first."""
    result = {"total": 90, "sort": "cpu", "shown": 1,
              "processes": [{"pid": 7, "name": "make", "cpu_percent": 97.5, "memory_percent": 1.2, "rss": "40.0 MB"}]}
    assert render_processes(json.dumps(result)) == (
        "Top 1 processes by CPU (of 90 running):\n1. make (pid 7): 97.5% CPU, 40.0 MB memory (1.2%)"
    )


def test_health_answer_leads_with_the_hog_and_offers_what_can_be_done() -> None:
    """A CPU hog finding comes first in the answer, with the other findings, and the offer to renice or stop it
    names the process."""
    result = {
        "verdict": "renderfarm (pid 4321) is using 99% of a CPU core",
        "findings": [
            {"kind": "cpu_hog", "pid": 4321, "name": "renderfarm", "text": "renderfarm (pid 4321) is using 99% of a "
             "CPU core", "remedies": "process.renice pid=4321 priority=19"},
            {"kind": "cpu_busy", "text": "the CPU is 97% busy across 2 cores"},
        ],
        "cpu": {"percent": 97.0, "cores": 2}, "memory": {"percent": 40.0, "available": "9.1 GB"},
    }
    assert render_health(json.dumps(result)) == (
        "Renderfarm (pid 4321) is using 99% of a CPU core. Also: the CPU is 97% busy across 2 cores. I can lower"
        ' its priority ("renice renderfarm"), pause it or stop it ("stop renderfarm") if you ask.'
    )


def test_health_answer_without_findings_says_so_with_the_numbers() -> None:
    """Nothing over a threshold: the answer says nothing stands out and gives CPU and memory use."""
    result = {"findings": [], "cpu": {"percent": 3.5, "cores": 2}, "memory": {"percent": 41.2, "available": "9 GB"}}
    assert render_health(json.dumps(result)) == (
        "Nothing stands out right now: the CPU is 3.5% busy and memory 41.2% used (9 GB available)."
    )


def test_folder_answer_counts_entries_and_names_the_first_ten(tmp_path: Path) -> None:
    """A folder: how many files and folders, their size, the first ten names, and how many more."""
    for number in range(12):
        (tmp_path / f"file{number:02d}.txt").write_text("x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").write_text("h")
    text = render_folder(real_result("files.list", path=str(tmp_path)))
    assert text is not None
    assert "has 12 files and 1 folder (120 B in files) (1 hidden entry not shown): " in text
    assert "sub/, file00.txt, file01.txt" in text and "file08.txt" in text
    assert "file09.txt" not in text and text.endswith(" and 3 more.")


def test_empty_folder_answer(tmp_path: Path) -> None:
    """An empty folder is said to be empty."""
    text = render_folder(real_result("files.list", path=str(tmp_path)))
    assert text is not None and text.endswith(" is empty.")


@pytest.mark.parametrize(
    "result_text",
    ['{"error": "no such folder"}', '{"not_run": "denied"}', '{"path": "~/x", "files": 3, "entr... [truncated]', "[]"],
)
def test_results_it_cannot_read_render_nothing(result_text: str) -> None:
    """An error, a refusal, a hard-cut or unknown result gives None, so the model reads it instead."""
    assert render_folder(result_text) is None
    assert render_memory(result_text) is None


# -- the session ------------------------------------------------------------------------------------------------


def run(session: Session, request: str, stdin_data: str | None = None) -> list[Event]:
    return list(session.run(request, stdin_data))


def finished(events: list[Event]) -> RequestFinished:
    last = events[-1]
    assert isinstance(last, RequestFinished)
    return last


class RecordingAudit:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def append(self, record: Any) -> None:
        self.records.append(dict(record))


def memory_registry(calls: list[dict[str, Any]]) -> Registry:
    """`answer` and a `system.info` stand-in that records each call and reports fixed memory figures."""
    registry = Registry()

    @tool("answer", Effect.READ, registry)
    def answer_tool(text: str) -> str:
        """Give the final reply."""
        return text

    @tool("system.info", Effect.READ, registry)
    def system_info(part: str = "all") -> dict[str, Any]:
        """Show system facts."""
        calls.append({"part": part})
        return {"memory": {"total": 16 * 1024**3, "used": 4 * 1024**3, "available": 12 * 1024**3, "percent": 25.0,
                           "swap": {"total": 0, "used": 0}}}

    return registry


def test_fast_request_makes_no_model_call_and_emits_the_model_paths_events() -> None:
    """A matched request: the step's plan, decision and finish, the answer as a token and in full, no generate
    call, usage zero, first_call timed, fast_path marked (also in --json), and the audit record written."""
    calls: list[dict[str, Any]] = []
    backend = ScriptedBackend([])
    audit = RecordingAudit()
    session = Session(backend, memory_registry(calls), Safety(policy=AllowReadOnlyPolicy(), audit=audit), FAST)
    events = run(session, "How much memory is free?")
    assert [type(event) for event in events] == [
        RequestStarted, StepPlanned, StepDecided, StepFinished, AnswerToken, Answer, RequestFinished
    ]
    assert backend.calls == []
    assert calls == [{"part": "memory"}]
    outcome = finished(events)
    expected = "12.0 GB of memory (RAM) is available: 4.0 GB used of 16.0 GB (25% in use)."
    assert outcome.ok and outcome.answer == expected and outcome.exit_code == 0
    assert events[4] == AnswerToken(expected)
    assert outcome.fast_path is True
    assert outcome.usage == {"prompt_tokens": 0, "cached_tokens": 0, "generated_tokens": 0}
    assert set(outcome.timings_ms) == {"load", "plan", "total", "first_call"}
    assert 0 <= outcome.timings_ms["first_call"] <= outcome.timings_ms["total"]
    (step,) = outcome.steps
    assert (step.tool, step.args, step.status, step.decision and step.decision.verdict) == (
        "system.info", {"part": "memory"}, "ok", "allow")
    assert [(record["tool"], record["status"]) for record in audit.records] == [("system.info", "ok")]
    payload = outcome.to_json()
    assert payload["fast_path"] is True and payload["steps"][0]["tool"] == "system.info"


def test_fast_path_off_by_switch_lets_the_model_plan() -> None:
    """With fast_path off (the session option the config sets), the same request is the model's to plan; its
    one look answers it, so llmos words the result (`llmos.answers.lookup`) and the model writes no answer."""
    calls: list[dict[str, Any]] = []
    backend = ScriptedBackend([call("system.info", part="memory"), answer("12 GB free.")])
    session = Session(backend, memory_registry(calls), AllowReadOnlyPolicy(), SessionOptions(fast_path=False))
    outcome = finished(run(session, "how much memory is free?"))
    assert len(backend.calls) == 1
    assert outcome.fast_path is False and outcome.answer_source == "rendered"
    assert outcome.answer is not None and "of memory (RAM) is available" in outcome.answer
    assert calls == [{"part": "memory"}]


def test_piped_data_in_a_session_goes_to_the_model() -> None:
    """A request with stdin data is planned by the model even when its words match."""
    backend = ScriptedBackend([answer("that is a log")])
    session = Session(backend, memory_registry([]), AllowReadOnlyPolicy(), FAST)
    outcome = finished(run(session, "how much memory is free?", stdin_data="MemFree: 3 kB"))
    assert len(backend.calls) == 1 and outcome.fast_path is False


class DenySystemInfo:
    name = "deny-system-info"

    def decide(self, call: PolicyCall) -> Decision:
        if call.tool == "system.info":
            return Decision("deny", "tool:system.info", "system facts are off limits here")
        return Decision("allow", "effect:read", "reading changes nothing")


def test_a_denied_fast_step_is_not_run_and_the_model_answers_from_the_denial() -> None:
    """Policy denies the planned call: the tool never runs, the denial is audited, and the model (reading the
    denial, as after its own call) gives the answer after llmos's own account of the denial; exit 3 as for any
    denial."""
    calls: list[dict[str, Any]] = []
    backend = ScriptedBackend([answer("I am not allowed to read system facts here.")])
    audit = RecordingAudit()
    session = Session(backend, memory_registry(calls), Safety(policy=DenySystemInfo(), audit=audit), FAST)
    outcome = finished(run(session, "how much memory is free?"))
    assert calls == []
    (step,) = outcome.steps
    assert step.status == "denied" and step.decision is not None and step.decision.rule == "tool:system.info"
    assert [record["status"] for record in audit.records] == ["denied"]
    assert len(backend.calls) == 1 and "denied by policy" in backend.calls[0].conversation
    assert outcome.answer == ('Refused by policy (tool:system.info): system.info part="memory": system facts are off '
                              'limits here.\nI am not allowed to read system facts here.')
    assert outcome.fast_path is False and outcome.exit_code == 3


def test_a_failed_fast_step_hands_its_error_to_the_model(temp_home: Path) -> None:
    """A folder that does not exist: the listing's error is in the model's conversation and the model answers,
    after llmos's own line saying the step failed."""
    backend = ScriptedBackend([answer("There is no ~/Nowhere folder.")])
    session = Session(backend, load_builtin_tools(), AllowReadOnlyPolicy(), FAST)
    outcome = finished(run(session, "ls ~/Nowhere"))
    (step,) = outcome.steps
    assert (step.tool, step.status) == ("files.list", "error")
    assert len(backend.calls) == 1 and "error" in backend.calls[0].conversation
    assert outcome.answer == ("Failed: read ~/Nowhere: no such file or folder: ~/Nowhere.\n"
                              "There is no ~/Nowhere folder.")
    assert outcome.fast_path is False and outcome.answer_source == "model"


def test_a_registry_without_the_tool_falls_through_to_the_model() -> None:
    """A plan naming a tool this session does not have is never used."""
    backend = ScriptedBackend([answer("no idea")])
    registry = Registry()

    @tool("answer", Effect.READ, registry)
    def answer_tool(text: str) -> str:
        """Give the final reply."""
        return text

    outcome = finished(run(Session(backend, registry, AllowReadOnlyPolicy(), FAST), "how much memory is free?"))
    assert outcome.steps == [] and outcome.fast_path is False and len(backend.calls) == 1


def test_real_folder_listing_through_the_session(temp_home: Path) -> None:
    """"show my downloads folder" lists ~/Downloads with the real tool and names what is there."""
    backend = ScriptedBackend([])
    session = Session(backend, load_builtin_tools(), AllowReadOnlyPolicy(), FAST)
    outcome = finished(run(session, "show my downloads folder"))
    assert outcome.fast_path and backend.calls == []
    files_size = sum(path.stat().st_size for path in (temp_home / "Downloads").iterdir()
                     if path.is_file() and not path.name.startswith("."))
    assert outcome.answer == (
        f"~/Downloads has 4 files and 1 folder ({human_size(files_size)} in files) (1 hidden entry not shown): "
        "archive/, notes.txt, photo.JPG, report.pdf, setup.sh."
    )


# -- the lazily loaded model ------------------------------------------------------------------------------------


class RecordingLoader:
    """Builds the scripted backend when asked to load, and counts the loads."""

    def __init__(self, backend: ScriptedBackend, delay_s: float = 0.0) -> None:
        self.backend = backend
        self.delay_s = delay_s
        self.loads = 0

    def __call__(self) -> Backend:
        self.loads += 1
        time.sleep(self.delay_s)
        return self.backend


def test_lazy_backend_is_not_loaded_for_a_fast_request_and_reports_load_on_the_request_that_paid() -> None:
    """A fast-path request never loads the model (load 0); the first model request loads it once and reports
    the load; later requests report none."""
    loader = RecordingLoader(ScriptedBackend([answer("hi"), answer("hello again")]), delay_s=0.02)
    lazy = LazyBackend("scripted-lazy", loader)
    session = Session(lazy, memory_registry([]), AllowReadOnlyPolicy(), FAST)
    fast = finished(run(session, "how much memory is free?"))
    assert fast.fast_path and loader.loads == 0 and not lazy.loaded
    assert fast.model == "scripted-lazy" and fast.timings_ms["load"] == 0
    modelled = finished(run(session, "say hi"))
    assert loader.loads == 1 and modelled.answer == "hi" and modelled.timings_ms["load"] >= 20
    again = finished(run(session, "say hi again"))
    assert loader.loads == 1 and again.timings_ms["load"] == 0
    lazy.close()
    assert not lazy.loaded


def test_lazy_backend_load_failure_ends_the_run_as_a_setup_error() -> None:
    """A model that cannot load when first needed raises ModelLoadError out of the session (front ends say it
    in one line, exit 2), instead of passing for one failed request."""

    def broken() -> Backend:
        raise ModelError("cannot load model /m.gguf: bad file")

    session = Session(LazyBackend("broken", broken), memory_registry([]), AllowReadOnlyPolicy(), FAST)
    assert finished(run(session, "how much memory is free?")).fast_path  # the fast path still answers
    with pytest.raises(ModelLoadError, match="cannot load model"):
        run(session, "say hi")


# -- llmos-ask, cold, through the real runtime ------------------------------------------------------------------


class TerminalStdin:
    def isatty(self) -> bool:
        return True


@pytest.fixture
def cold_setup(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The real `open_session` (config, policy, journal, audit) with a GGUF-looking model file; constructing
    the llama.cpp backend is recorded and gives a scripted model instead."""
    isolate_xdg(tmp_path, monkeypatch)
    model_file = tmp_path / "tiny.gguf"
    model_file.write_bytes(b"GGUF" + bytes(64))
    monkeypatch.setenv("LLMOS_MODEL", str(model_file))
    monkeypatch.setattr("sys.stdin", TerminalStdin())
    # open_session hides its own pid (this test run's) from process listings: keep that out of later tests.
    monkeypatch.setattr("llmos.tools.process._hidden_pids", set())
    loads: list[Any] = []

    def fake_llama_backend(*args: Any, **kwargs: Any) -> ScriptedBackend:
        loads.append(args)
        return ScriptedBackend([call("system.info", part="memory"), answer("Plenty of memory is free.")])

    monkeypatch.setattr(llmos.runtime, "LlamaBackend", fake_llama_backend)
    return loads


def test_llmos_ask_cold_fast_request_never_loads_the_model(
    cold_setup: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`llmos-ask --json "how much memory is free?"` in-process: answered, `"fast_path": true`, the model never
    constructed, and the step in the real audit log."""
    assert main(["--json", "how much memory is free?"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["fast_path"] is True and payload["ok"] is True
    assert "of memory (RAM) is available" in payload["answer"]
    assert payload["timings_ms"]["load"] == 0 and "first_call" in payload["timings_ms"]
    assert cold_setup == []
    audit_lines = (tmp_path / "xdg_data_home" / "llmos" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["tool"] for line in audit_lines] == ["system.info"]


def test_llmos_ask_with_fast_path_off_in_config_loads_the_model(
    cold_setup: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fast_path = false` in config.toml: the model is loaded and plans the same request (its one look is then
    worded by llmos)."""
    config_file = tmp_path / "xdg_config_home" / "llmos" / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("fast_path = false\n")
    assert main(["--json", "how much memory is free?"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["fast_path"] is False and payload["answer_source"] == "rendered"
    assert "of memory (RAM) is available" in payload["answer"]
    assert len(cold_setup) == 1


def test_fast_plan_is_plain_data() -> None:
    """A FastPlan compares by its intent and call, not by its renderer."""
    assert match_fast_path("free memory") == FastPlan("memory", "system.info", {"part": "memory"})
