"""The live system pane: CPU, memory and network as sparklines, disk as a bar, and the busiest processes.

It only renders `SystemSample`s handed to it; the app takes them off the UI thread (see `llmos.shell.sysmon`), and
tests hand it fixed ones, so a frame depends on the samples alone.
"""

from __future__ import annotations

from collections import deque

from llmos.shell.sysmon import SystemSample, human_bytes
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from llmos.display import escape_for_display

HISTORY_LENGTH = 120
SPARK_BLOCKS = " ▁▂▃▄▅▆▇█"
BAR_FULL, BAR_EMPTY = "█", "░"


def sparkline(values: list[float], width: int, ceiling: float) -> str:
    """The newest `width` values as block characters, scaled to 0..ceiling (absolute, so 5% CPU looks low)."""
    if width <= 0:
        return ""
    shown = values[-width:]
    levels = len(SPARK_BLOCKS) - 1
    ceiling = ceiling if ceiling > 0 else 1.0
    # Any load at all gets at least the lowest block, so a quiet machine is told apart from an idle one.
    cells = [SPARK_BLOCKS[0 if value <= 0 else min(levels, max(1, round(value / ceiling * levels)))]
             for value in shown]
    return " " * (width - len(cells)) + "".join(cells)


def bar(percent: float, width: int) -> str:
    if width <= 0:
        return ""
    filled = min(width, max(0, round(percent / 100 * width)))
    return BAR_FULL * filled + BAR_EMPTY * (width - filled)


class Meter(Widget):
    """One line: a label then a sparkline (or a bar) that fills the rest of the width."""

    def __init__(self, label: str, *, classes: str) -> None:
        super().__init__(classes=f"meter {classes}")
        self.label = label
        self.values: list[float] = []
        self.ceiling = 100.0
        self.as_bar = False

    def show(self, label: str, values: list[float], *, ceiling: float = 100.0, as_bar: bool = False) -> None:
        self.label = label
        self.values = values
        self.ceiling = ceiling
        self.as_bar = as_bar
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width
        graph_width = max(0, width - len(self.label) - 1)
        if self.as_bar:
            graph = bar(self.values[-1] if self.values else 0.0, graph_width)
        else:
            graph = sparkline(self.values, graph_width, self.ceiling)
        return Text.assemble((self.label, "bold"), " ", graph)


class SystemPane(Vertical):
    """Keeps a short history of samples for the sparklines."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "System"
        self.cpu_history: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self.memory_history: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self.net_history: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self.latest: SystemSample | None = None

    def compose(self) -> ComposeResult:
        yield Meter("cpu  --", classes="cpu")
        yield Meter("mem  --", classes="memory")
        yield Meter("disk --", classes="disk")
        yield Meter("net  --", classes="net")
        yield Static("", classes="anomalies", markup=False)
        yield Static("", classes="processes", markup=False)

    def add_sample(self, sample: SystemSample) -> None:
        self.latest = sample
        self.cpu_history.append(sample.cpu_percent)
        self.memory_history.append(sample.memory_percent)
        self.net_history.append(sample.net_received_per_second + sample.net_sent_per_second)
        if self.is_mounted:
            self._render_sample(sample)

    def on_mount(self) -> None:
        if self.latest is not None:
            self._render_sample(self.latest)

    def _render_sample(self, sample: SystemSample) -> None:
        def meter(name: str) -> Meter:
            return self.query_one(f".meter.{name}", Meter)

        meter("cpu").show(f"cpu  {sample.cpu_percent:3.0f}%", list(self.cpu_history))
        meter("memory").show(f"mem  {sample.memory_percent:3.0f}%", list(self.memory_history))
        meter("disk").show(f"disk {sample.disk_percent:3.0f}%", [sample.disk_percent], as_bar=True)
        net_peak = max(self.net_history, default=0.0)
        meter("net").show(
            f"net ↓{human_bytes(sample.net_received_per_second)}/s ↑{human_bytes(sample.net_sent_per_second)}/s",
            list(self.net_history), ceiling=net_peak,
        )
        lines = ["⚠ " + " · ".join(sample.anomalies)] if sample.anomalies else []
        lines.extend(f"⚑ {note}" for note in sample.automation_notes)
        notes = self.query_one(".anomalies", Static)
        notes.update("\n".join(escape_for_display(line) for line in lines))
        notes.display = bool(lines)
        rows = [f"{'process':<16} {'cpu':>5} {'mem':>6}"]
        for process in sample.top_processes:
            name = escape_for_display(process.name)
            name = name if len(name) <= 16 else name[:15] + "…"
            rows.append(f"{name:<16} {process.cpu_percent:>4.0f}% {human_bytes(process.memory_bytes):>6}")
        self.query_one(".processes", Static).update("\n".join(rows))
