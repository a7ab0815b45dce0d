"""open_beneath / resolve_beneath doing their ordinary job: the fd is the real file, flags are honoured, and what
is and is not prevented about hard links is pinned down."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from llmos.policies.journal import safe_open
from llmos.policies.journal.safe_open import PathEscapeError, open_beneath, resolve_beneath


@pytest.fixture(params=["openat2", "walk"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "openat2":
        if not safe_open.openat2_available():
            pytest.skip("this kernel has no openat2")
    else:
        monkeypatch.setattr(safe_open, "_openat2_state", False)
    return str(request.param)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.txt").write_text("hello\n")
    return tmp_path


def test_openat2_is_used_on_this_kernel_when_it_has_it() -> None:
    """Linux 5.6+ on x86_64/aarch64 has openat2; the walk is only the fallback."""
    import platform

    if platform.system() == "Linux" and platform.machine() in ("x86_64", "aarch64"):
        release = tuple(int(part) for part in platform.release().split(".")[:2] if part.isdigit())
        if release >= (5, 6):
            assert safe_open.openat2_available()


def test_read_a_nested_file(method: str, root: Path) -> None:
    fd = open_beneath(root, "a/b/f.txt", os.O_RDONLY)
    try:
        assert os.read(fd, 100) == b"hello\n"
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK
    finally:
        os.close(fd)


def test_path_object_and_absolute_path_beneath_the_root_are_accepted(method: str, root: Path) -> None:
    for path in (Path("a/b/f.txt"), str(root / "a" / "b" / "f.txt")):
        os.close(open_beneath(root, path, os.O_RDONLY))


def test_create_write_and_truncate(method: str, root: Path) -> None:
    fd = open_beneath(root, "a/new.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"first version")
    os.close(fd)
    assert (root / "a" / "new.txt").stat().st_mode & 0o777 == 0o600
    fd = open_beneath(root, "a/new.txt", os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"v2")
    os.close(fd)
    assert (root / "a" / "new.txt").read_bytes() == b"v2"


def test_missing_file_is_file_not_found(method: str, root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_beneath(root, "a/nope.txt", os.O_RDONLY)


def test_directory_can_be_opened(method: str, root: Path) -> None:
    fd = open_beneath(root, "a", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert sorted(os.listdir(fd)) == ["b"]
    finally:
        os.close(fd)


def test_symlink_that_stays_inside(root: Path) -> None:
    """openat2 follows a symlink that stays beneath the root; the walk fallback refuses every symlink."""
    (root / "alias").symlink_to("a/b")
    if safe_open.openat2_available():
        os.close(open_beneath(root, "alias/f.txt", os.O_RDONLY))
    safe_open._openat2_state = False
    try:
        with pytest.raises(PathEscapeError):
            open_beneath(root, "alias/f.txt", os.O_RDONLY)
    finally:
        safe_open._openat2_state = None


def test_fifo_opens_when_asked_for(method: str, root: Path) -> None:
    os.mkfifo(root / "p")
    fd = open_beneath(root, "p", os.O_RDONLY | os.O_NONBLOCK, allow_special=True)
    os.close(fd)


def test_hard_linked_file_can_still_be_read(method: str, root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Documented limit: a hard link is just another name of the same inode, so reading it cannot be told from
    reading any file; only writing a multiply-linked file is refused."""
    outside = tmp_path_factory.mktemp("outside") / "other.txt"
    outside.write_text("shared inode\n")
    os.link(outside, root / "linked.txt")
    fd = open_beneath(root, "linked.txt", os.O_RDONLY)
    try:
        assert os.read(fd, 100) == b"shared inode\n"
    finally:
        os.close(fd)
    with pytest.raises(PathEscapeError, match="hard links"):
        open_beneath(root, "linked.txt", os.O_WRONLY)


def test_resolve_beneath_gives_real_paths(method: str, root: Path) -> None:
    real = root.resolve()
    assert resolve_beneath(root, "a/b/f.txt") == real / "a" / "b" / "f.txt"
    assert resolve_beneath(root, "a/b/missing.txt") == real / "a" / "b" / "missing.txt"
    assert resolve_beneath(root, ".") == real
    assert resolve_beneath(root, "") == real


def test_errors_are_permission_errors_with_the_path_in_them(method: str, root: Path) -> None:
    """PathEscapeError is a PermissionError (tools that report OSErrors report it) and names the path."""
    with pytest.raises(PermissionError) as caught:
        open_beneath(root, "../x", os.O_RDONLY)
    assert isinstance(caught.value, PathEscapeError)
    assert caught.value.filename == "../x" and str(root) in str(caught.value)
