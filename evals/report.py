"""Turn task records into the figures the suite reports: success per category, latency percentiles, token
counts, peak memory, answer honesty; as a dict (`--json`) and as a plain-text table (Markdown, pasted into
BENCHMARKS.md)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llmos.evals.runner import TaskRecord
from llmos.evals.tasks import Category

HONESTY_COUNTERS = {
    "claimed_effects": "claims an effect that did not happen",
    "absent_facts": "states a fact absent from the results",
}
"""The answer-honesty counters (evals/honesty.py): the key in a record's `honesty` -> what the report calls it."""


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear-interpolated percentile (statistics.quantiles, inclusive); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return float(cuts[round(fraction * 100) - 1])


@dataclass
class PlannerSummary:
    planner: str
    tasks: int
    passed: int
    by_category: dict[str, tuple[int, int]]
    """category -> (passed, tasks)."""
    latency_ms: dict[str, dict[str, float | None]]
    """first_call / plan / total / wall -> {p50, p90}."""
    tokens: dict[str, float | None]
    fast_path_requests: int
    requests: int
    peak_rss_bytes: int
    failed_tasks: list[dict[str, Any]] = field(default_factory=list)
    honesty: dict[str, dict[str, Any]] = field(default_factory=dict)
    rendered_requests: int = 0
    """Requests whose answer llmos worded from the results (`answer_source: rendered`): the fast path, a plain
    lookup, an outcome the model misstated, an answer that failed the check."""
    """counter -> {tasks, by_category: {category: tasks}, offenders: [{task, category, facts}]}, where a task
    counts once however many of its answers' sentences or facts offend."""

    @property
    def success(self) -> float:
        return self.passed / self.tasks if self.tasks else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "planner": self.planner, "tasks": self.tasks, "passed": self.passed, "success": round(self.success, 4),
            "by_category": {c: {"passed": p, "tasks": t} for c, (p, t) in self.by_category.items()},
            "latency_ms": self.latency_ms, "tokens": self.tokens, "fast_path_requests": self.fast_path_requests,
            "rendered_requests": self.rendered_requests,
            "requests": self.requests, "peak_rss_bytes": self.peak_rss_bytes, "failed_tasks": self.failed_tasks,
            "honesty": self.honesty,
        }


def summarise(planner: str, records: Sequence[TaskRecord], peak_rss_bytes: int) -> PlannerSummary:
    by_category: dict[str, tuple[int, int]] = {}
    for category in Category:
        mine = [r for r in records if r.category == category.value]
        if mine:
            by_category[category.value] = (sum(r.passed for r in mine), len(mine))
    requests = [request for record in records for request in record.requests]

    def timing(name: str) -> list[float]:
        return [float(r["timings_ms"][name]) for r in requests if name in (r.get("timings_ms") or {})]

    latency = {
        name: {"p50": percentile(values, 0.5), "p90": percentile(values, 0.9)}
        for name, values in (
            ("first_call", timing("first_call")), ("plan", timing("plan")), ("total", timing("total")),
            ("wall", [float(r["wall_ms"]) for r in requests]),
        )
    }
    prompt = [float(r["usage"].get("prompt_tokens", 0)) for r in requests if r.get("usage")]
    generated = [float(r["usage"].get("generated_tokens", 0)) for r in requests if r.get("usage")]
    return PlannerSummary(
        planner=planner,
        tasks=len(records),
        passed=sum(r.passed for r in records),
        by_category=by_category,
        latency_ms=latency,
        tokens={"prompt_p50": percentile(prompt, 0.5), "generated_p50": percentile(generated, 0.5)},
        fast_path_requests=sum(1 for r in requests if r.get("fast_path")),
        rendered_requests=sum(1 for r in requests if r.get("answer_source") == "rendered"),
        requests=len(requests),
        peak_rss_bytes=peak_rss_bytes,
        failed_tasks=[{"task": r.task_id, "category": r.category, "why": r.failures[:3],
                       **({"stdin_bytes": r.stdin_bytes} if r.stdin_bytes is not None else {})}
                      for r in records if not r.passed],
        honesty=_honesty(records),
    )


def _honesty(records: Sequence[TaskRecord]) -> dict[str, dict[str, Any]]:
    categories = [c.value for c in Category if any(r.category == c.value for r in records)]
    counted: dict[str, dict[str, Any]] = {}
    for counter in HONESTY_COUNTERS:
        offenders = [r for r in records if getattr(r.honesty, counter)]
        counted[counter] = {
            "tasks": len(offenders),
            "by_category": {c: sum(1 for r in offenders if r.category == c) for c in categories},
            "offenders": [{"task": r.task_id, "category": r.category, "facts": getattr(r.honesty, counter)}
                          for r in offenders],
        }
    return counted


def _share(passed: int, total: int) -> str:
    return f"{100 * passed / total:.0f}% ({passed}/{total})" if total else "-"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f} s"


def _p50_p90(percentiles: dict[str, float | None]) -> str:
    return f"{_ms(percentiles['p50'])} / {_ms(percentiles['p90'])}"


def render_table(summaries: Sequence[PlannerSummary]) -> str:
    """The results as Markdown tables: success by category, then speed and size, one column per planner."""
    names = [s.planner for s in summaries]
    lines = ["| category | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    categories = [c.value for c in Category if any(c.value in s.by_category for s in summaries)]
    for category in categories:
        cells = [_share(*s.by_category[category]) if category in s.by_category else "-" for s in summaries]
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"**{_share(s.passed, s.tasks)}**" for s in summaries) + " |")
    lines += ["", "| per request | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    rows = [
        ("first tool call p50 / p90", lambda s: _p50_p90(s.latency_ms["first_call"])),
        ("model time p50 / p90", lambda s: _p50_p90(s.latency_ms["plan"])),
        ("end to end p50 / p90", lambda s: _p50_p90(s.latency_ms["wall"])),
        ("prompt tokens p50", lambda s: "-" if s.tokens["prompt_p50"] is None else f"{s.tokens['prompt_p50']:.0f}"),
        ("generated tokens p50",
         lambda s: "-" if s.tokens["generated_p50"] is None else f"{s.tokens['generated_p50']:.0f}"),
        ("answered without the model", lambda s: f"{s.fast_path_requests}/{s.requests}"),
        ("answer worded by llmos (rendered)", lambda s: f"{s.rendered_requests}/{s.requests}"),
        ("peak RSS", lambda s: f"{s.peak_rss_bytes / 1e9:.2f} GB" if s.peak_rss_bytes else "-"),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(s) for s in summaries) + " |")
    lines += ["", *_honesty_table(summaries)]
    return "\n".join(lines)


def _honesty_table(summaries: Sequence[PlannerSummary]) -> list[str]:
    """Tasks whose answers claim an unmade change or state an unsupported fact: over the run, then per category
    (the categories where any planner has one)."""
    names = [s.planner for s in summaries]
    lines = ["| answer honesty: tasks whose answer | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for counter, label in HONESTY_COUNTERS.items():
        counts = [s.honesty.get(counter, {}) for s in summaries]
        lines.append(f"| {label} | " + " | ".join(f"{c.get('tasks', 0)}/{s.tasks}" for c, s in
                                                  zip(counts, summaries, strict=True)) + " |")
        categories = [c.value for c in Category if any(n.get("by_category", {}).get(c.value) for n in counts)]
        for category in categories:
            cells = [f"{n['by_category'][category]}/{s.by_category[category][1]}" if category in s.by_category
                     else "-" for n, s in zip(counts, summaries, strict=True)]
            lines.append(f"| in {category} | " + " | ".join(cells) + " |")
    return lines


def render_failures(summary: PlannerSummary, limit: int = 40) -> str:
    lines = [f"{summary.planner}: {len(summary.failed_tasks)} failed"]
    for failed in summary.failed_tasks[:limit]:
        piped = f" [stdin {failed['stdin_bytes'] / 1e6:.1f} MB]" if failed.get("stdin_bytes") else ""
        lines.append(f"  {failed['task']} ({failed['category']}){piped}: {'; '.join(failed['why'])[:200]}")
    if len(summary.failed_tasks) > limit:
        lines.append(f"  ... and {len(summary.failed_tasks) - limit} more")
    return "\n".join(lines)


def render_honesty(summary: PlannerSummary, limit: int = 40) -> str:
    """The tasks behind each honesty counter, with the sentences or facts that made them count."""
    lines = []
    for counter, label in HONESTY_COUNTERS.items():
        offenders = summary.honesty.get(counter, {}).get("offenders", [])
        lines.append(f"{summary.planner}: {len(offenders)} task(s) whose answer {label}")
        for offender in offenders[:limit]:
            lines.append(f"  {offender['task']} ({offender['category']}): {' | '.join(offender['facts'])[:200]}")
        if len(offenders) > limit:
            lines.append(f"  ... and {len(offenders) - limit} more")
    return "\n".join(lines)
