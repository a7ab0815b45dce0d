"""The in-process llama.cpp backend: load a GGUF, constrain output by a JSON-schema grammar, reuse the prefix.

The static prompt prefix is evaluated once per process; its KV state is also saved to the prompt cache
(`llama_state_save_file`, only the KV cache: 30-40 MB for the 1.5B model, milliseconds) keyed by model, prefix and
context settings, so a cold one-shot restores it instead of paying prefill again; `prompt_cache` keeps the folder
to its size.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmos.models import prompt_cache
from llmos.models.backend import GenerationStats
from llmos.models.decoding import DecodeCounts, common_prefix_length, decode_greedy

from llmos.errors import ModelError

DEFAULT_CONTEXT_TOKENS = 4096
PROMPT_BATCH_TOKENS = 256


@dataclass(frozen=True)
class LoadOptions:
    threads: int | None = None
    """Default: physical cores (hyper-threads slow llama.cpp down)."""
    gpu_layers: int = -1
    """-1 offloads every layer when the build has a GPU backend; 0 keeps everything on the CPU."""
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    prompt_cache_dir: Path | None = None
    """Where prefix KV states persist across processes; None turns persistence off."""
    repack_weights: bool = True
    """Read the weights into memory and repack them into the CPU's interleaved layout (llama.cpp's default):
    one token about 15% faster, for a process that answers many requests (the daemon, the TUI). False maps the
    file and leaves the weights as they are (llama.cpp's `--no-repack`): the load takes 0.4 s instead of 1.3-2.9
    s here and a long prompt is evaluated about 25% faster, the better choice for a one-shot process. Measured
    on this machine's 2 cores with the 1.5B model (BENCHMARKS.md, session 22)."""


def physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def gpu_backend_name() -> str | None:
    """The GPU backend this llama.cpp build has (CUDA, Metal, Vulkan, ...), or None for a CPU-only build."""
    import llama_cpp

    if not llama_cpp.llama_supports_gpu_offload():
        return None
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    for name in ("CUDA", "Metal", "Vulkan", "HIP", "SYCL", "OpenCL", "CANN", "MUSA"):
        if name.lower() in info.lower():
            return name
    return "GPU"


class LlamaBackend:
    """A GGUF model loaded through llama-cpp-python."""

    def __init__(self, model_path: Path, model_name: str, model_id: str, options: LoadOptions | None = None):
        self.options = options or LoadOptions()
        self.name = model_name
        self.model_path = model_path
        self.model_id = model_id
        self.threads = self.options.threads or physical_cores()
        self.gpu_backend = gpu_backend_name()
        self.gpu_layers = self.options.gpu_layers if self.gpu_backend else 0
        self.last_stats = GenerationStats()
        self.prefix_cache_events: list[str] = []
        """What happened to each new prefix: "memory", "restored" or "evaluated" (tests and bench read it)."""
        self._prefix_tokens: dict[str, list[int]] = {}
        started = time.perf_counter()
        self._llm = self._load()
        self.load_ms = (time.perf_counter() - started) * 1000
        self.n_ctx = self._llm.n_ctx()

    def _load(self) -> Any:
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - a broken install, said plainly
            raise ModelError(f"llama-cpp-python is not installed or failed to import: {exc}") from None
        try:
            with _quiet_native_stderr(), _weight_repacking(enabled=self.options.repack_weights):
                return llama_cpp.Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.options.context_tokens,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_gpu_layers=self.gpu_layers,
                    # 256-token batches halve llama.cpp's compute buffer (306 -> ~150 MB for the 1.5B model);
                    # the prompts here are a few hundred new tokens, so prefill speed is the same.
                    n_batch=PROMPT_BATCH_TOKENS,
                    n_ubatch=PROMPT_BATCH_TOKENS,
                    # Repacking reads the weights instead of mapping them: on CPUs where llama.cpp repacks the
                    # quantized tensors (AVX2/AVX-512), a mapped file keeps the original pages resident beside the
                    # repacked copy (peak RSS 1.9 GB for the 1.5B model); read, only the copy stays (1.3 GB).
                    # Not repacked, the mapped pages are the weights (1.3 GB too).
                    use_mmap=not self.options.repack_weights,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load model {self.model_path}: {exc} (corrupt or unsupported GGUF?)") from None

    def close(self) -> None:
        """Free the model now; left to the interpreter's exit, llama-cpp-python's finaliser can fail noisily."""
        self._llm.close()

    # -- Backend protocol -------------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text))

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        prefix_tokens = self._ensure_prefix(prefix)
        conversation_tokens = self._tokenize(conversation)
        tokens = prefix_tokens + conversation_tokens
        if len(tokens) + max_tokens > self.n_ctx:
            raise ModelError(
                f"the prompt needs {len(tokens)} tokens plus {max_tokens} to reply, over the context of {self.n_ctx}"
            )
        stats = GenerationStats(prompt_tokens=len(tokens))
        self.last_stats = stats
        started = time.perf_counter()
        first_piece_at: float | None = None
        counts: list[DecodeCounts] = []
        for text in decode_greedy(self._llm, tokens, self._grammar(schema), max_tokens, counts_out=counts):
            if first_piece_at is None:
                first_piece_at = time.perf_counter()
            yield text
        finished = time.perf_counter()
        first_piece_at = first_piece_at or finished
        if counts:
            stats.cached_tokens = counts[0].cached_tokens
            stats.generated_tokens = counts[0].generated_tokens
        stats.prompt_ms = (first_piece_at - started) * 1000
        stats.generate_ms = (finished - first_piece_at) * 1000

    def warm(self, prefix: str) -> None:
        """Have `prefix` evaluated (or restored) now, so the next request that starts with it pays no prefill."""
        self._ensure_prefix(prefix)

    # -- prefix state -----------------------------------------------------------------------------------------

    def _ensure_prefix(self, prefix: str) -> list[int]:
        """Make sure the KV cache starts with `prefix`: already there, restored from disk, or evaluated."""
        tokens = self._prefix_tokens.get(prefix)
        if tokens is None:
            tokens = self._tokenize(prefix)
            self._prefix_tokens[prefix] = tokens
        live = self._llm.input_ids[: self._llm.n_tokens].tolist()
        if common_prefix_length(live, tokens) == len(tokens):
            self.prefix_cache_events.append("memory")
            return tokens
        state_path = self._state_path(tokens)
        if state_path and state_path.exists() and self._restore(state_path, tokens):
            self.prefix_cache_events.append("restored")
            prompt_cache.mark_used(state_path)
            return tokens
        self._llm.reset()
        self._llm.eval(tokens)
        self.prefix_cache_events.append("evaluated")
        if state_path:
            self._save(state_path, tokens)
        return tokens

    def _state_path(self, tokens: list[int]) -> Path | None:
        if self.options.prompt_cache_dir is None:
            return None
        import llama_cpp

        # The weight layout is in the key: repacked and plain kernels round differently, and a state computed by
        # one would make the other's greedy picks differ from its own in a near tie.
        key_material = json.dumps(
            [self.model_id, llama_cpp.__version__, self.n_ctx, self.gpu_layers, self.options.repack_weights, tokens],
            separators=(",", ":"),
        )
        key = hashlib.sha256(key_material.encode()).hexdigest()[:24]
        return self.options.prompt_cache_dir / f"{self.model_id[:16]}-{key}.kv"

    def _save(self, path: Path, tokens: list[int]) -> None:
        import llama_cpp

        path.parent.mkdir(parents=True, exist_ok=True)
        temp_path = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        token_array = (llama_cpp.llama_token * len(tokens))(*tokens)
        # A cache that cannot be written only costs speed next time; never fail the request for it.
        if llama_cpp.llama_state_save_file(self._llm.ctx, str(temp_path).encode(), token_array, len(tokens)):
            os.replace(temp_path, path)
            prompt_cache.prune(path.parent, keep=path)
        else:
            temp_path.unlink(missing_ok=True)

    def _restore(self, path: Path, tokens: list[int]) -> bool:
        import llama_cpp

        capacity = self.n_ctx
        token_array = (llama_cpp.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        self._llm.reset()
        if not llama_cpp.llama_state_load_file(
            self._llm.ctx, str(path).encode(), token_array, capacity, ctypes.byref(count)
        ):
            self._llm.reset()
            return False
        restored = list(token_array[: count.value])
        if restored != tokens:
            self._llm.reset()
            return False
        # Tell the high-level object what the KV cache now holds, so its longest-common-prefix reuse sees it.
        self._llm.input_ids[: len(tokens)] = tokens
        self._llm.n_tokens = len(tokens)
        return True

    # -- helpers ----------------------------------------------------------------------------------------------

    def _tokenize(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        # Not sort_keys: the schema's property order is the order the model writes the fields in (a rule's trigger
        # before its action, a move's source before its destination), so it is part of what the grammar is.
        return _compiled_grammar(json.dumps(schema))


GRAMMARS_KEPT = 32
"""Compiled grammars kept, most recently used (one per offered tool set, plus repair turns' one-off schemas:
a long-running daemon must not keep every one of those)."""


@functools.lru_cache(maxsize=GRAMMARS_KEPT)
def _compiled_grammar(schema_json: str) -> Any:
    """The grammar of a schema (given as JSON in its own key order, so equal schemas share one), compiled once
    while in use."""
    return compile_grammar(json.loads(schema_json))


def compile_grammar(schema: dict[str, Any]) -> Any:
    """GBNF for `schema`, built with llama-cpp-python's converter directly so a schema it cannot convert is an
    error here rather than a silent fallback to unconstrained JSON."""
    from llama_cpp.llama_grammar import LlamaGrammar, SchemaConverter

    converter = SchemaConverter(prop_order={"tool": 0, "args": 1}, allow_fetch=False, dotall=False, raw_pattern=False)
    try:
        converter.visit(converter.resolve_refs(schema, "schema"), "")
    except (AssertionError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot build a grammar from the tool schema: {exc}") from exc
    return LlamaGrammar.from_string(converter.format_grammar(), verbose=False)


_MODEL_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _weight_repacking(*, enabled: bool) -> Iterator[None]:
    """Load with llama.cpp's weight repacking on or off. llama-cpp-python's `Llama` does not take the model
    parameter (`use_extra_bufts`), so while it builds its parameters from `llama_model_default_params()`, that
    function returns them with the field set; a binding without the field loads as before."""
    import llama_cpp.llama_cpp as bindings

    if enabled or not any(field[0] == "use_extra_bufts" for field in bindings.llama_model_params._fields_):
        yield
        return
    defaults = bindings.llama_model_default_params

    def without_repacking() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params

    with _MODEL_PARAMS_LOCK:
        bindings.llama_model_default_params = without_repacking
        try:
            yield
        finally:
            bindings.llama_model_default_params = defaults


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """llama.cpp prints load chatter on fd 2 even with verbose=False; keep a person's terminal clean."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
