"""Helpers for the TUI and overlay tests: assistants driven by a scripted model under the real default policy,
journal and audit log; a model that streams until cancelled; waiting on the app; fixed system samples."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from fakes import ScriptedBackend
from llmos.shell.sysmon import ProcessLoad, SystemSample
from llmos.tools import load_builtin_tools

from llmos.assistant import LocalAssistant
from llmos.config import Config
from llmos.runtime import load_safety
from llmos.session import Session


def scripted_assistant(backend: Any) -> LocalAssistant:
    """A real session (default profile, journal, audit log, intent) around a scripted model."""
    return LocalAssistant(Session(backend, load_builtin_tools(), load_safety(None, Config())))


def factory_for(backend: Any) -> Callable[[], LocalAssistant]:
    return lambda: scripted_assistant(backend)


class StreamingUntilCancelled(ScriptedBackend):
    """Starts an answer and keeps streaming words (up to `limit`) until the session stops reading, as a long
    generation would; `closed_early` tells whether the session stopped it before the end."""

    def __init__(self, limit: int = 3000, delay: float = 0.01) -> None:
        super().__init__(name="slow")
        self.limit = limit
        self.delay = delay
        self.pieces_sent = 0
        self.closed_early = False
        self.started = threading.Event()

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        yield '{"tool": "answer", "args": {"text": "'
        self.started.set()
        try:
            for _ in range(self.limit):
                time.sleep(self.delay)
                self.pieces_sent += 1
                yield "word "
        except GeneratorExit:
            self.closed_early = True
            raise
        yield '"}}'


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)


async def settle(pilot: Any) -> None:
    """Wait for every worker to end and the messages they posted to be handled."""
    await pilot.app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.pause()
    await asyncio.sleep(0.05)
    await pilot.pause()


def fixed_samples() -> list[SystemSample]:
    """A short, fixed history for the system pane: nothing in it depends on the machine or the clock."""
    processes = (
        ProcessLoad("llama-worker", 87.0, 612 * 1024 * 1024),
        ProcessLoad("firefox", 12.5, 1_400 * 1024 * 1024),
        ProcessLoad("code", 4.0, 830 * 1024 * 1024),
        ProcessLoad("Xorg", 1.5, 120 * 1024 * 1024),
        ProcessLoad("sshd", 0.0, 8 * 1024 * 1024),
    )
    samples = []
    for index, cpu in enumerate([12, 18, 35, 60, 82, 90, 74, 51, 33, 25, 22, 40, 65, 88, 93, 70]):
        samples.append(SystemSample(
            cpu_percent=float(cpu),
            memory_percent=48.0 + index % 4,
            memory_used_bytes=int(7.6 * 1024**3),
            memory_total_bytes=16 * 1024**3,
            disk_percent=63.0,
            disk_free_bytes=180 * 1024**3,
            net_received_per_second=float(1024 * (index % 5)),
            net_sent_per_second=256.0,
            top_processes=processes,
        ))
    return samples


def pilot_test(test: Callable[..., Any]) -> Callable[..., None]:
    """Run an async Pilot test in its own event loop, so the suite needs no async pytest plugin."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def screen_text(app: Any) -> str:
    """Every character the screen would send to the terminal: what the person sees, clipping included."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
