"""`llmos models bench`: load time, prompt and generation speed, prefix size and request latency, as medians."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from llmos.config import Config
from llmos.effects import Effect
from llmos.errors import UsageError
from llmos.executor import Safety
from llmos.models.llama_backend import LlamaBackend, LoadOptions
from llmos.models.prompt import Turn, render_conversation
from llmos.models.remote import choose_remote_model
from llmos.models.resolve import ResolvedModel, resolve_model
from llmos.policies.intent import allowed_effects_for
from llmos.runtime import load_policy
from llmos.session import Session
from llmos.tools import load_builtin_tools

READ_ONLY = frozenset({Effect.READ})
BENCH_REQUESTS = (
    "how much memory is free?",
    "list the files in the current folder",
)


@dataclass
class BenchReport:
    model: str
    path: str
    gpu_backend: str | None
    gpu_layers: int
    threads: int
    runs: int
    prefix_tokens: int
    """The prompt prefix of a read-only request (the common case)."""
    full_prefix_tokens: int
    """The prefix when a request may use every tool."""
    load_s: list[float] = field(default_factory=list)
    prompt_tokens_per_s: list[float] = field(default_factory=list)
    generation_tokens_per_s: list[float] = field(default_factory=list)
    request_cold_s: list[float] = field(default_factory=list)
    """A fresh process's first request: prefix evaluated from scratch."""
    request_restored_s: list[float] = field(default_factory=list)
    """A fresh process's first request with the prefix KV restored from the prompt cache."""
    request_warm_s: list[float] = field(default_factory=list)
    """A later request in the same process: prefix already in memory."""
    one_shot_load_s: list[float] = field(default_factory=list)
    """Loading as `llmos-ask` does without a daemon: the weights mapped, not repacked."""
    one_shot_request_s: list[float] = field(default_factory=list)
    """That load's first request, prefix restored from the prompt cache (from the second run on)."""
    peak_rss_mb: float = 0.0

    def medians(self) -> dict[str, Any]:
        def median(values: list[float]) -> float | None:
            return round(statistics.median(values), 3) if values else None

        return {
            "model": self.model,
            "gpu": f"{self.gpu_backend}, {self.gpu_layers} layers" if self.gpu_backend else "none (CPU build)",
            "threads": self.threads,
            "runs": self.runs,
            "prefix_tokens": self.prefix_tokens,
            "full_prefix_tokens": self.full_prefix_tokens,
            "load_s": median(self.load_s),
            "prompt_tokens_per_s": median(self.prompt_tokens_per_s),
            "generation_tokens_per_s": median(self.generation_tokens_per_s),
            "request_cold_s": median(self.request_cold_s),
            "request_restored_s": median(self.request_restored_s),
            "request_warm_s": median(self.request_warm_s),
            "one_shot_load_s": median(self.one_shot_load_s),
            "one_shot_request_s": median(self.one_shot_request_s),
            "peak_rss_mb": round(self.peak_rss_mb),
        }


def run_bench(model: str | None, config: Config, runs: int, *, progress: bool) -> BenchReport:
    remote = choose_remote_model(model, config)
    if remote is not None:
        # The bench measures llama.cpp in this process (load, prefill, decode); a server's speed is its own.
        raise UsageError(f"llmos models bench measures models loaded here, not {remote.display_name}; "
                         "time requests to it with llmos-ask --json (timings_ms)")
    resolved = resolve_model(model, config.model, progress=progress)
    registry = load_builtin_tools()
    report: BenchReport | None = None
    with tempfile.TemporaryDirectory(prefix="llmos-bench-") as cache_root:
        cache_dir = Path(cache_root)
        for run_index in range(runs):
            # Each run loads afresh, as the daemon does when it starts (the repacked layout).
            backend, load_s = _load(resolved, config, cache_dir, repack_weights=True)
            # The policy and intent a real request gets, but no journal or audit: the bench changes nothing.
            safety = Safety(policy=load_policy(None, config), intent=allowed_effects_for)
            session = Session(backend, registry, safety)
            if report is None:
                report = BenchReport(
                    model=resolved.name,
                    path=str(resolved.path),
                    gpu_backend=backend.gpu_backend,
                    gpu_layers=backend.gpu_layers,
                    threads=backend.threads,
                    runs=runs,
                    prefix_tokens=session.prefix_for(session.tools_for(READ_ONLY))[1],
                    full_prefix_tokens=session.prefix_for(registry.specs())[1],
                )
            report.load_s.append(load_s)
            read_only_prefix = session.prefix_for(session.tools_for(READ_ONLY))[0]
            report.prompt_tokens_per_s.append(_prompt_speed(backend, read_only_prefix))
            report.generation_tokens_per_s.append(_generation_speed(backend))
            # The first run evaluates the prefix and saves it; later runs restore it from the cache dir.
            first_request_s = _timed_request(session, BENCH_REQUESTS[run_index % len(BENCH_REQUESTS)])
            (report.request_cold_s if run_index == 0 else report.request_restored_s).append(first_request_s)
            report.request_warm_s.append(_timed_request(session, BENCH_REQUESTS[(run_index + 1) % len(BENCH_REQUESTS)]))
            report.peak_rss_mb = max(report.peak_rss_mb, _peak_rss_mb())
            backend.close()
            del session, backend
            # Then as a one-shot `llmos-ask` does (mapped, not repacked; its own prefix state, saved on the first run).
            one_shot, one_shot_load_s = _load(resolved, config, cache_dir, repack_weights=False)
            report.one_shot_load_s.append(one_shot_load_s)
            one_shot_request_s = _timed_request(Session(one_shot, registry, safety), BENCH_REQUESTS[0])
            if run_index > 0:
                report.one_shot_request_s.append(one_shot_request_s)
            report.peak_rss_mb = max(report.peak_rss_mb, _peak_rss_mb())
            one_shot.close()
            del one_shot
    assert report is not None
    return report


def _load(
    resolved: ResolvedModel, config: Config, cache_dir: Path, *, repack_weights: bool
) -> tuple[LlamaBackend, float]:
    """The model loaded with the config's threads and GPU layers, and the seconds loading took."""
    started = time.perf_counter()
    backend = LlamaBackend(
        resolved.path,
        model_name=resolved.name,
        model_id=resolved.cache_key,
        options=LoadOptions(threads=config.threads, gpu_layers=config.gpu_layers, prompt_cache_dir=cache_dir,
                            repack_weights=repack_weights),
    )
    return backend, time.perf_counter() - started


def _prompt_speed(backend: LlamaBackend, text: str) -> float:
    """Tokens/s evaluating `text` from an empty cache (the cost of a cold prefill)."""
    llm = backend._llm  # bench measures the engine itself
    tokens = llm.tokenize(text.encode(), add_bos=False, special=True)
    llm.reset()
    started = time.perf_counter()
    llm.eval(tokens)
    elapsed = time.perf_counter() - started
    llm.reset()
    return len(tokens) / elapsed


def _generation_speed(backend: LlamaBackend, new_tokens: int = 48) -> float:
    """Tokens/s of plain greedy generation after a short prompt, timed from the first token."""
    llm = backend._llm
    llm.reset()
    stream = llm.create_completion(
        prompt=render_conversation([Turn("user", "Count from one to fifty in words.")]),
        max_tokens=new_tokens,
        temperature=0.0,
        stream=True,
    )
    first_at: float | None = None
    count = 0
    for _ in stream:
        count += 1
        if first_at is None:
            first_at = time.perf_counter()
    elapsed = time.perf_counter() - (first_at or time.perf_counter())
    llm.reset()
    return (count - 1) / elapsed if count > 1 and elapsed > 0 else 0.0


def _timed_request(session: Session, request: str) -> float:
    started = time.perf_counter()
    for _ in session.run(request):
        pass
    return time.perf_counter() - started


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports ru_maxrss in KiB)."""
    import resource

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(peak_kib / 1024, psutil.Process().memory_info().rss / 2**20)
