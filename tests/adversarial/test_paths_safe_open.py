"""Attacks on file paths given to file tools: each must fail to reach anything outside the allowed root.

Every test runs twice: with the kernel's openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) and with the
component-by-component O_NOFOLLOW walk used where openat2 is missing. The outside file always exists and holds
known content, so "refused" also means "unchanged".
"""

from __future__ import annotations

import errno
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from llmos.policies.journal import safe_open
from llmos.policies.journal.safe_open import PathEscapeError, SpecialFileError, open_beneath, resolve_beneath

SECRET = "outside secret\n"


@pytest.fixture(params=["openat2", "walk"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "openat2":
        if not safe_open.openat2_available():
            pytest.skip("this kernel has no openat2")
    else:
        monkeypatch.setattr(safe_open, "_openat2_state", False)
    return str(request.param)


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(root, outside): root/docs/note.txt inside; outside/secret.txt outside."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "docs").mkdir(parents=True)
    outside.mkdir()
    (root / "docs" / "note.txt").write_text("inside\n")
    (outside / "secret.txt").write_text(SECRET)
    yield root, outside
    assert (outside / "secret.txt").read_text() == SECRET, "the outside file was changed"


def read(fd: int) -> str:
    try:
        return os.read(fd, 1000).decode()
    finally:
        os.close(fd)


@pytest.mark.parametrize("path", ["../outside/secret.txt", "docs/../../outside/secret.txt", "./docs/./../..",
                                  "docs/../../../../../../etc/passwd", ".."])
def test_dotdot_traversal_is_refused(method: str, tree: tuple[Path, Path], path: str) -> None:
    root, _ = tree
    with pytest.raises(PathEscapeError, match=r"'\.\.'"):
        open_beneath(root, path, os.O_RDONLY)


@pytest.mark.parametrize("path", ["/etc/passwd", "/proc/self/root/etc/passwd", "/proc/self/cwd/x", "//etc/passwd"])
def test_absolute_path_outside_the_root_is_refused(method: str, tree: tuple[Path, Path], path: str) -> None:
    root, _ = tree
    with pytest.raises(PathEscapeError, match="not beneath"):
        open_beneath(root, path, os.O_RDONLY)


def test_absolute_path_with_the_root_prefix_and_dotdot_is_refused(method: str, tree: tuple[Path, Path]) -> None:
    root, outside = tree
    with pytest.raises(PathEscapeError):
        open_beneath(root, f"{root}/../outside/secret.txt", os.O_RDONLY)


def test_symlink_to_proc_self_root_inside_the_root_is_refused(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    (root / "r").symlink_to("/proc/self/root")
    with pytest.raises(PathEscapeError):
        open_beneath(root, "r/etc/passwd", os.O_RDONLY)


def test_proc_magic_link_is_not_followed_even_when_the_root_is_proc(method: str) -> None:
    """Root /proc/self: `root` and `cwd` there are magic links to anywhere; RESOLVE_NO_MAGICLINKS (or the walk's
    O_NOFOLLOW) refuses them."""
    for path in ("root/etc/passwd", "cwd", "fd/0"):
        with pytest.raises(PathEscapeError):
            open_beneath(Path("/proc/self"), path, os.O_RDONLY)


def test_absolute_symlink_pointing_out_is_refused_for_read(method: str, tree: tuple[Path, Path]) -> None:
    root, outside = tree
    (root / "docs" / "link.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(PathEscapeError):
        open_beneath(root, "docs/link.txt", os.O_RDONLY)


def test_relative_symlink_climbing_out_is_refused_for_read(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    (root / "docs" / "up").symlink_to("../../outside")
    with pytest.raises(PathEscapeError):
        open_beneath(root, "docs/up/secret.txt", os.O_RDONLY)


def test_symlink_pointing_out_is_refused_for_write_and_the_target_is_unchanged(
    method: str, tree: tuple[Path, Path]
) -> None:
    root, outside = tree
    (root / "out.txt").symlink_to(outside / "secret.txt")
    for flags in (os.O_WRONLY | os.O_TRUNC, os.O_WRONLY | os.O_APPEND, os.O_RDWR, os.O_WRONLY | os.O_CREAT):
        with pytest.raises(PathEscapeError):
            open_beneath(root, "out.txt", flags)


def test_creating_a_file_through_a_directory_symlink_pointing_out_is_refused(
    method: str, tree: tuple[Path, Path]
) -> None:
    root, outside = tree
    (root / "outdir").symlink_to(outside)
    with pytest.raises(PathEscapeError):
        open_beneath(root, "outdir/planted.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    assert not (outside / "planted.txt").exists()


def test_dangling_symlink_pointing_out_does_not_create_its_target(method: str, tree: tuple[Path, Path]) -> None:
    """O_CREAT through a dangling symlink would create the file at the link's target, outside the root."""
    root, outside = tree
    (root / "dangling").symlink_to(outside / "created-by-attack.txt")
    with pytest.raises(PathEscapeError):
        open_beneath(root, "dangling", os.O_WRONLY | os.O_CREAT)
    with pytest.raises((PathEscapeError, FileNotFoundError)):
        open_beneath(root, "dangling", os.O_RDONLY)
    assert not (outside / "created-by-attack.txt").exists()


def test_directory_swapped_for_a_symlink_between_check_and_open_is_refused(
    method: str, tree: tuple[Path, Path]
) -> None:
    """resolve_beneath says docs/note.txt is fine; then docs is swapped for a symlink to outside; the open (the
    only thing that counts) still refuses."""
    root, outside = tree
    (outside / "note.txt").write_text(SECRET)
    assert resolve_beneath(root, "docs/note.txt") == (root / "docs" / "note.txt").resolve()
    (root / "docs").rename(root / "docs.old")
    (root / "docs").symlink_to(outside)
    for flags in (os.O_RDONLY, os.O_WRONLY | os.O_TRUNC):
        with pytest.raises(PathEscapeError):
            open_beneath(root, "docs/note.txt", flags)
    assert (outside / "note.txt").read_text() == SECRET


def test_racing_symlink_swaps_never_open_the_outside_file(method: str, tree: tuple[Path, Path]) -> None:
    """A thread keeps swapping docs between a real directory and a symlink out while opens run: every open
    either reads the inside file or is refused, never the secret."""
    root, outside = tree
    (outside / "note.txt").write_text(SECRET)
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            os.rename(root / "docs", root / "docs.real")
            os.symlink(outside, root / "docs")
            os.unlink(root / "docs")
            os.rename(root / "docs.real", root / "docs")

    thread = threading.Thread(target=swapper)
    thread.start()
    seen: set[str] = set()
    try:
        for _ in range(300):
            try:
                seen.add(read(open_beneath(root, "docs/note.txt", os.O_RDONLY)))
            except (PathEscapeError, FileNotFoundError):
                seen.add("refused")
    finally:
        stop.set()
        thread.join()
    assert SECRET not in seen
    assert seen <= {"inside\n", "refused"}


def test_hard_link_to_an_outside_file_is_refused_for_write_without_truncating(
    method: str, tree: tuple[Path, Path]
) -> None:
    """A hard link cannot be told apart by path; a regular file with st_nlink > 1 is refused for writing, and
    O_TRUNC is applied only after that check, so the outside file keeps its content."""
    root, outside = tree
    os.link(outside / "secret.txt", root / "innocent.txt")
    for flags in (os.O_WRONLY | os.O_TRUNC, os.O_RDWR, os.O_WRONLY | os.O_APPEND,
                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
        with pytest.raises(PathEscapeError, match="hard links"):
            open_beneath(root, "innocent.txt", flags)


def test_fifo_given_to_read_is_refused_without_hanging(method: str, tree: tuple[Path, Path]) -> None:
    """A FIFO with no writer would block a plain open forever; it is refused at once."""
    root, _ = tree
    os.mkfifo(root / "pipe")
    with pytest.raises(SpecialFileError, match="FIFO"):
        open_beneath(root, "pipe", os.O_RDONLY)
    with pytest.raises(SpecialFileError, match="FIFO"):
        open_beneath(root, "pipe", os.O_WRONLY)


def test_dev_zero_given_to_read_is_refused(method: str, tree: tuple[Path, Path]) -> None:
    """/dev/zero reads forever: refused as a device when the root is /dev, and as an escape via a symlink."""
    root, _ = tree
    with pytest.raises(SpecialFileError, match="device"):
        open_beneath(Path("/dev"), "zero", os.O_RDONLY)
    (root / "zero").symlink_to("/dev/zero")
    with pytest.raises(PathEscapeError):
        open_beneath(root, "zero", os.O_RDONLY)


def test_device_node_inside_the_root_is_refused(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    try:
        os.mknod(root / "zero", 0o600 | 0o020000, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node needs privileges")
    with pytest.raises(SpecialFileError, match="device"):
        open_beneath(root, "zero", os.O_RDONLY)


def test_unix_socket_inside_the_root_is_refused(method: str, tree: tuple[Path, Path]) -> None:
    root, _ = tree
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock"))
    try:
        with pytest.raises((SpecialFileError, OSError)) as caught:
            open_beneath(root, "sock", os.O_RDONLY)
        assert isinstance(caught.value, SpecialFileError) or caught.value.errno == errno.ENXIO
    finally:
        server.close()


@pytest.mark.parametrize("name", ["bad\x00name", "docs/note.txt\x00", "\x00"])
def test_nul_in_a_name_is_a_clean_error_and_never_opens_the_prefix(
    method: str, tree: tuple[Path, Path], name: str
) -> None:
    """`docs/note.txt\\0` must not silently open docs/note.txt (C strings end at NUL)."""
    root, _ = tree
    with pytest.raises(ValueError, match="NUL"):
        open_beneath(root, name, os.O_RDONLY)
    with pytest.raises(ValueError, match="NUL"):
        resolve_beneath(root, name)


@pytest.mark.parametrize("name", ["-rf", "--help", "line\nbreak.txt", "$(touch pwned)", "`id`", "a;b|c&d", " lead"])
def test_hostile_file_names_open_exactly_that_file(method: str, tree: tuple[Path, Path], name: str) -> None:
    """Leading dashes, newlines, shell syntax are just bytes in a name: the exact file opens, nothing runs."""
    root, _ = tree
    fd = open_beneath(root, name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"content")
    os.close(fd)
    assert read(open_beneath(root, name, os.O_RDONLY)) == "content"
    assert sorted(p.name for p in root.iterdir()) == sorted(["docs", name])


def test_resolve_beneath_refuses_a_symlink_out(method: str, tree: tuple[Path, Path]) -> None:
    root, outside = tree
    (root / "out").symlink_to(outside)
    with pytest.raises(PathEscapeError):
        resolve_beneath(root, "out/secret.txt")
    with pytest.raises(PathEscapeError):
        resolve_beneath(root, "out/new.txt")
