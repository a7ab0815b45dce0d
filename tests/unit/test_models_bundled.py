"""Assembling a model from part packages: order, verification, no half-written files, and concurrent safety."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from llmos.models import bundled, store
from llmos.models.registry import BundledSource, ModelEntry

from llmos.errors import ModelError

PART_BYTES = [b"GGUF" + b"a" * 3000, b"b" * 5000, b"c" * 7]


def make_entry(content: bytes, name: str = "fake-model") -> ModelEntry:
    return ModelEntry(
        name=name,
        file=f"{name}.gguf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        chat_template="chatml",
        params="tiny",
        description="a fake model for tests",
    )


def write_parts(directory: Path, parts: list[bytes]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, content in enumerate(parts, start=1):
        path = directory / f"part{index:02d}.bin"
        path.write_bytes(content)
        paths.append(path)
    return paths


def install_fake_part_distributions(site: Path, prefix: str, parts: list[bytes], version: str = "1.0") -> BundledSource:
    """Create installed-looking distributions `<prefix>1..N` in `site` whose modules explode if imported."""
    names = []
    for index, content in enumerate(parts, start=1):
        name = f"{prefix}{index}"
        module = name.replace("-", "_")
        (site / module / "data").mkdir(parents=True)
        (site / module / "__init__.py").write_text("raise RuntimeError('a part module was imported')\n")
        (site / module / "data" / f"part{index:02d}.bin").write_bytes(content)
        dist_info = site / f"{module}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (dist_info / "RECORD").write_text(
            f"{module}/__init__.py,,\n{module}/data/part{index:02d}.bin,,\n{dist_info.name}/METADATA,,\n"
        )
        names.append(name)
    return BundledSource(version=version, parts=tuple(names))


def partial_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(bundled.PARTIAL_SUFFIX))


def test_parts_are_concatenated_in_order_and_marked_verified(tmp_path: Path) -> None:
    """assemble_parts writes the parts in list order, publishes the file under the entry's name, and marks it."""
    entry = make_entry(b"".join(PART_BYTES))
    part_paths = write_parts(tmp_path / "parts", PART_BYTES)
    dest = tmp_path / "cache"
    result = bundled.assemble_parts(part_paths, entry, dest, progress=False)
    assert result == dest / entry.file
    assert result.read_bytes() == b"".join(PART_BYTES)
    assert store.is_verified(result, entry.sha256)
    assert partial_files(dest) == []
    assert oct(result.stat().st_mode & 0o777) == "0o644"


def test_mismatched_hash_is_refused_with_both_hashes_and_no_partial_left(tmp_path: Path) -> None:
    """Parts of the right size but wrong content: ModelError with expected and actual sha256; nothing left."""
    wrong_parts = [PART_BYTES[0], b"B" * len(PART_BYTES[1]), PART_BYTES[2]]
    entry = make_entry(b"".join(PART_BYTES))
    actual = hashlib.sha256(b"".join(wrong_parts)).hexdigest()
    dest = tmp_path / "cache"
    with pytest.raises(ModelError) as caught:
        bundled.assemble_parts(write_parts(tmp_path / "parts", wrong_parts), entry, dest, progress=False)
    message = str(caught.value)
    assert entry.sha256 in message and actual in message and "refusing to load" in message
    assert list(dest.iterdir()) == []


def test_parts_of_the_wrong_total_size_fail_before_writing(tmp_path: Path) -> None:
    """A missing byte anywhere is caught from the part sizes alone, before anything is written."""
    entry = make_entry(b"".join(PART_BYTES))
    short_parts = [PART_BYTES[0], PART_BYTES[1][:-1], PART_BYTES[2]]
    dest = tmp_path / "cache"
    with pytest.raises(ModelError, match=f"add up to {entry.size - 1} bytes, expected {entry.size}"):
        bundled.assemble_parts(write_parts(tmp_path / "parts", short_parts), entry, dest, progress=False)
    assert list(dest.iterdir()) == []


def test_interrupted_assembly_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the middle of copying removes the temp file and publishes nothing."""

    @contextmanager
    def interrupting_progress(description: str, total: int, enabled: bool = True) -> Iterator[Callable[[int], None]]:
        def advance(count: int) -> None:
            raise KeyboardInterrupt

        yield advance

    monkeypatch.setattr(bundled, "byte_progress", interrupting_progress)
    entry = make_entry(b"".join(PART_BYTES))
    dest = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        bundled.assemble_parts(write_parts(tmp_path / "parts", PART_BYTES), entry, dest)
    assert list(dest.iterdir()) == []


def test_abandoned_partials_are_swept_but_fresh_ones_are_kept(tmp_path: Path) -> None:
    """A `.partial` untouched for over an hour (a killed run) is removed; a live one is not touched."""
    entry = make_entry(b"".join(PART_BYTES))
    dest = tmp_path / "cache"
    dest.mkdir()
    old = dest / f".{entry.file}.dead{bundled.PARTIAL_SUFFIX}"
    fresh = dest / f".{entry.file}.live{bundled.PARTIAL_SUFFIX}"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    bundled.assemble_parts(write_parts(tmp_path / "parts", PART_BYTES), entry, dest, progress=False)
    assert partial_files(dest) == [fresh.name]


def test_concurrent_assemblers_publish_one_correct_file(tmp_path: Path) -> None:
    """Several assemblers racing on the same destination all succeed and leave one intact, verified file."""
    content = b"".join(PART_BYTES) * 200
    entry = make_entry(content)
    part_paths = write_parts(tmp_path / "parts", [content[:300_000], content[300_000:]])
    dest = tmp_path / "cache"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            bundled.assemble_parts(part_paths, entry, dest, progress=False)
        except BaseException as exc:  # noqa: BLE001 - anything a thread raises is collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (dest / entry.file).read_bytes() == content
    assert store.is_verified(dest / entry.file, entry.sha256)
    assert partial_files(dest) == []


def test_assemble_finds_parts_through_metadata_without_importing_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part files are located from each distribution's RECORD; the part modules (which would raise) never run."""
    site = tmp_path / "site"
    source = install_fake_part_distributions(site, "llmos-test-part", PART_BYTES)
    monkeypatch.syspath_prepend(str(site))
    entry = make_entry(b"".join(PART_BYTES))
    part_paths = bundled.find_part_paths(source)
    assert [p.name for p in part_paths] == ["part01.bin", "part02.bin", "part03.bin"]
    result = bundled.assemble(entry, source, tmp_path / "cache", progress=False)
    assert result.read_bytes() == b"".join(PART_BYTES)


def test_missing_part_distributions_are_named_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With part 2 not installed, the error names it and says `pip install 'llmos[bundled]'`."""
    site = tmp_path / "site"
    install_fake_part_distributions(site, "llmos-test-part", PART_BYTES[:1])
    monkeypatch.syspath_prepend(str(site))
    source = BundledSource(version="1.0", parts=("llmos-test-part1", "llmos-test-part2"))
    with pytest.raises(ModelError) as caught:
        bundled.find_part_paths(source)
    message = str(caught.value)
    assert "llmos-test-part2 is not installed" in message and "llmos-test-part1" not in message
    assert "pip install 'llmos[bundled]'" in message


def test_part_distribution_of_another_version_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed part at a different version than the registry pins is a problem, not silently used."""
    site = tmp_path / "site"
    install_fake_part_distributions(site, "llmos-test-part", PART_BYTES[:1], version="0.1")
    monkeypatch.syspath_prepend(str(site))
    status = bundled.parts_status(BundledSource(version="1.0", parts=("llmos-test-part1",)))
    assert not status.complete
    assert status.problems == ("llmos-test-part1 is 0.1, need ==1.0",)


def test_many_missing_parts_keep_the_message_short() -> None:
    """22 missing parts are summarised after three, so the error stays one readable line."""
    source = BundledSource(version="1.0", parts=tuple(f"llmos-absent-part{i}" for i in range(1, 23)))
    with pytest.raises(ModelError, match="and 19 more"):
        bundled.find_part_paths(source)
