"""A scripted stand-in for the model: replies are queued by the test and checked against the offered schema."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from llmos.models.backend import GenerationStats
from llmos.policies.decision import Decision, Policy, PolicyCall
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps
from llmos.tools.builtin import builtin_registry
from llmos.tools.registry import Registry, tool

from llmos.effects import Effect
from llmos.events import RequestFinished
from llmos.executor import Safety
from llmos.session import Session


@dataclass
class RecordedCall:
    prefix: str
    conversation: str
    schema: dict[str, Any]
    offered_tools: list[str]


class ScriptedBackend:
    """Replies with the queued calls in order, in small pieces as a real model streams them.

    A queued reply naming a tool the session did not offer raises: the real grammar would have made that reply
    impossible, so a test that relies on it is wrong.
    """

    def __init__(self, replies: list[dict[str, Any] | str] | None = None, name: str = "scripted") -> None:
        self.name = name
        self.load_ms = 12.0
        self.n_ctx = 4096
        self.last_stats = GenerationStats()
        self.calls: list[RecordedCall] = []
        self._replies: list[dict[str, Any] | str] = list(replies or [])

    def enqueue(self, *replies: dict[str, Any] | str) -> None:
        self._replies.extend(replies)

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        offered = [branch["properties"]["tool"]["const"] for branch in schema.get("anyOf", [schema])]
        self.calls.append(RecordedCall(prefix, conversation, schema, offered))
        if not self._replies:
            raise AssertionError("the scripted model ran out of replies")
        reply = self._replies.pop(0)
        text = reply if isinstance(reply, str) else json.dumps(reply)
        if isinstance(reply, dict) and reply.get("tool") not in offered:
            raise AssertionError(f"scripted reply uses {reply.get('tool')!r}, but only {offered} were offered")
        self.last_stats = GenerationStats(
            prompt_tokens=len(prefix + conversation) // 4, cached_tokens=len(prefix) // 4,
            generated_tokens=len(text) // 4,
        )
        for start in range(0, len(text), 5):
            yield text[start : start + 5]

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def warm(self, prefix: str) -> None:
        """Nothing to evaluate ahead: a scripted reply needs no prompt."""

    def close(self) -> None:
        """Nothing to free."""


def call(tool: str, **args: Any) -> dict[str, Any]:
    """A reply calling `tool` with `args`."""
    return {"tool": tool, "args": args}


def answer(text: str) -> dict[str, Any]:
    return call("answer", text=text)


class RemovalRegistry(Registry):
    """`answer`, a read tool (`demo.count`) and a DELETE tool (`demo.remove`) that records what it would
    remove in `removed`, so a test sees whether a step that needs approval ran."""

    def __init__(self) -> None:
        super().__init__()
        self.removed: list[str] = []

        @tool("answer", Effect.READ, self)
        def answer_tool(text: str) -> str:
            """Give the final reply."""
            return text

        @tool("demo.count", Effect.READ, self)
        def count(folder: str) -> dict[str, Any]:
            """Count things in a folder."""
            return {"folder": folder, "count": 3}

        @tool("demo.remove", Effect.DELETE, self)
        def remove(path: str) -> str:
            """Remove something."""
            self.removed.append(path)
            return "removed"


class DenyDeletes(Policy):
    """A policy that denies every delete and allows everything else."""

    name = "deny-deletes"

    def decide(self, call: PolicyCall) -> Decision:
        if call.effect == "delete":
            return Decision("deny", "no-deletes", "deleting is not allowed here")
        return Decision("allow", "default", "fine")


class AllowReadOnlyPolicy(Policy):
    """A stand-in policy for tests that need no profile: a call outside the effect classes the request's words
    allow is denied, a read is allowed, and any other call is asked about."""

    name = "read-only-foundation"

    def decide(self, call: PolicyCall) -> Decision:
        if call.allowed_effects is not None and call.effect not in call.allowed_effects:
            return Decision("deny", f"intent:{call.effect}", f"the request did not ask for {call.effect} actions")
        if call.effect == Effect.READ:
            return Decision("allow", "effect:read", "reading changes nothing")
        return Decision("ask", f"effect:{call.effect}", f"{call.effect} actions need approval")


def run_approved(backend: ScriptedBackend, request: str, effects: set[Effect]) -> RequestFinished:
    """The request through the built-in tools, its words allowing `effects`, every change approved and journaled
    (beside HOME)."""
    journal = Journal(Path.home().parent / "journal")
    safety = Safety(policy=AllowReadOnlyPolicy(), intent=lambda _request: frozenset(effects),
                    file_ops=lambda rid, req, tool: FileOps(journal, rid, req, tool))
    events = list(Session(backend, builtin_registry(), safety).run(request, approver=lambda _step: True))
    assert isinstance(events[-1], RequestFinished)
    return events[-1]


@contextlib.contextmanager
def busy_process(directory: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """A process named `name` keeping one core busy until the block ends: a copy of sh in a loop (the kernel
    names a process after its program file)."""
    program = directory / name
    program.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shutil.which("sh") or "/bin/sh", program)
    child = subprocess.Popen([str(program), "-c", "while :; do :; done"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


@dataclass(frozen=True)
class CpuReading:
    """A process's CPU time and the clock, read together by a test."""

    cpu_s: float
    """User plus system seconds: what psutil's `cpu_percent` counts."""
    at: float
    """`time.monotonic()`: the clock psutil's `cpu_percent` divides by."""


def read_cpu(pid: int) -> CpuReading:
    times = psutil.Process(pid).cpu_times()
    return CpuReading(times.user + times.system, time.monotonic())


def wait_until_it_ran(pid: int, seconds: float, timeout_s: float = 60.0) -> tuple[CpuReading, CpuReading]:
    """Spend at least `seconds`, and longer until `pid` has had the CPU (however loaded the machine is): the
    readings at the start and at the end."""
    start = read_cpu(pid)
    time.sleep(seconds)
    deadline = time.monotonic() + timeout_s
    while read_cpu(pid).cpu_s <= start.cpu_s and time.monotonic() < deadline:
        time.sleep(0.01)
    end = read_cpu(pid)
    assert end.cpu_s > start.cpu_s, f"pid {pid} never got the CPU in {timeout_s} s"
    return start, end


def cpu_share_bounds(outer: tuple[CpuReading, CpuReading], inner: tuple[CpuReading, CpuReading]) -> tuple[float, float]:
    """The least and the most percent of a core a process can have been measured at by two readings (psutil's
    `cpu_percent` calls) taken after `outer[0]` and before `inner[0]`, then after `inner[1]` and before
    `outer[1]`: at least the CPU time it used inside over the time outside, at most the CPU time outside over
    the time inside. Exact whatever else loads the machine; psutil rounds to 0.1."""
    least = 100 * (inner[1].cpu_s - inner[0].cpu_s) / (outer[1].at - outer[0].at)
    most = 100 * (outer[1].cpu_s - outer[0].cpu_s) / (inner[1].at - inner[0].at)
    return least - 0.05, most + 0.05


def wait_until_named(pid: int, name: str) -> None:
    """Wait until process `pid` has exec'd into the program `name`. A child is forked before it execs: until
    then it bears the test runner's name, working folder and command line, and a test that reads them races the
    exec (tests lost that race under load)."""
    deadline = time.monotonic() + 60
    while psutil.Process(pid).name() != name:
        assert time.monotonic() < deadline, f"process {pid} never became {name}"
        time.sleep(0.01)
