"""The sandbox's seccomp filter: what libseccomp is asked to build (native ABI only, EPERM, compiled once), that a
missing binding, a missing libseccomp or an unknown system call refuses every run, and that the in-sandbox helper
does not exec without the filter in force. Runs that go through bubblewrap are skipped where it cannot run."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyseccomp
import pytest
from llmos.policies.sandbox import SandboxSpec, SandboxUnavailable, run_sandboxed, syscall_filter
from llmos.policies.sandbox import bwrap as sandbox_bwrap
from llmos.policies.sandbox import run as sandbox_run
from sandboxing import needs_sandbox


@pytest.fixture
def fresh_filter() -> Iterator[None]:
    syscall_filter.reset_filter_cache()
    yield
    syscall_filter.reset_filter_cache()


def _other_architectures() -> list[int]:
    native = pyseccomp.system_arch()
    every = {value for name, value in vars(pyseccomp.Arch).items() if name.isupper() and name != "NATIVE"}
    return sorted(every - {native})


def test_filter_admits_the_native_abi_only() -> None:
    """No compat table is in the filter (on x86-64: neither i386 nor x32), and a call through one is answered
    with EPERM: a refused call cannot be made under its number in another ABI."""
    built = syscall_filter.build_filter()
    assert built.exist_arch(pyseccomp.Arch.NATIVE)
    assert [arch for arch in _other_architectures() if built.exist_arch(arch)] == []
    assert built.get_attr(pyseccomp.Attr.ACT_BADARCH) == pyseccomp.ERRNO(errno.EPERM)


def test_filter_allows_by_default_and_refuses_with_eperm_not_a_kill() -> None:
    built = syscall_filter.build_filter()
    assert built.get_attr(pyseccomp.Attr.ACT_DEFAULT) == pyseccomp.ALLOW
    assert b"action KILL" not in _pfc(built) and b"action TRAP" not in _pfc(built)


def _pfc(built: object) -> bytes:
    read, write = os.pipe()
    with open(write, "wb") as sink:
        built.export_pfc(sink)  # type: ignore[attr-defined]
    with open(read, "rb") as source:
        return source.read()


def test_the_helpers_own_calls_are_not_refused() -> None:
    """inside.py runs after the filter: Landlock, prctl and the rlimit calls must stay allowed, or every run
    would be refused."""
    refused = {name for _why, names in syscall_filter.REFUSED_SYSCALLS for name in names}
    needed = {"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "prctl", "setrlimit"}
    needed |= {"prlimit64", "execve", "openat", "write", "close"}
    assert refused & needed == set()


def test_compiled_once_and_each_run_gets_its_own_descriptor_from_the_start(fresh_filter: None) -> None:
    program = syscall_filter.compiled_filter()
    assert syscall_filter.compiled_filter() is program and len(program) % 8 == 0
    first, second = syscall_filter.filter_fd(), syscall_filter.filter_fd()
    try:
        assert first != second
        assert os.read(first, len(program) + 1) == program == os.read(second, len(program) + 1)
    finally:
        os.close(first)
        os.close(second)


def test_a_system_call_libseccomp_does_not_know_refuses_every_run(
    fresh_filter: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name the installed libseccomp cannot resolve (an old release, or a typo) is not skipped silently: the
    filter is not built and nothing runs."""
    monkeypatch.setattr(syscall_filter, "REFUSED_SYSCALLS", (("test", ("llmos_no_such_call",)),))
    with pytest.raises(SandboxUnavailable, match="does not know the system call 'llmos_no_such_call'"):
        syscall_filter.compiled_filter()


def test_without_the_binding_runs_are_refused_naming_what_to_install(
    fresh_filter: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Fail closed: without pyseccomp no command runs, and the message says `pip install pyseccomp`."""
    monkeypatch.setitem(sys.modules, "pyseccomp", None)  # import raises ImportError
    marker = tmp_path / "ran"
    with pytest.raises(SandboxUnavailable, match="pip install pyseccomp"):
        run_sandboxed(SandboxSpec(argv=("touch", str(marker)), cwd=tmp_path, writable_roots=(tmp_path,)))
    assert not marker.exists()


def test_without_libseccomp_runs_are_refused_naming_what_to_install(
    fresh_filter: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Fail closed: pyseccomp cannot find libseccomp (it raises when imported): no command runs, and the message
    names the system package."""
    import ctypes.util

    find_library = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if name == "seccomp" else find_library(name))
    monkeypatch.delitem(sys.modules, "pyseccomp")
    marker = tmp_path / "ran"
    with pytest.raises(SandboxUnavailable, match="apt install libseccomp2"):
        run_sandboxed(SandboxSpec(argv=("touch", str(marker)), cwd=tmp_path, writable_roots=(tmp_path,)))
    assert not marker.exists()


def test_helper_does_not_exec_without_the_filter_in_force(tmp_path: Path) -> None:
    """inside.py run without bubblewrap's filter (more filters than llmos's own expected, none added) reports an
    error and does not start the command."""
    marker = tmp_path / "ran"
    own = sandbox_run._own_seccomp_filters()
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(sandbox_bwrap.HELPER), "--status-fd", "1", "--seccomp-filters-above",
         str(max(own, 0)), "--", "touch", str(marker)],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 125 and "error=the seccomp filter is not in force" in done.stdout
    assert not marker.exists()


@needs_sandbox
def test_every_run_names_the_seccomp_layer() -> None:
    result = run_sandboxed(SandboxSpec(argv=("true",), cwd=Path("/")))
    assert result.exit_code == 0 and "seccomp" in result.layers


@needs_sandbox
def test_a_filter_bubblewrap_cannot_load_refuses_the_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A malformed program (here: not a whole number of BPF instructions) makes bubblewrap fail, so nothing runs."""
    def broken_fd() -> int:
        fd = os.memfd_create("broken", os.MFD_CLOEXEC)
        os.write(fd, b"\x00" * 7)
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    monkeypatch.setattr(sandbox_run, "filter_fd", broken_fd)
    marker = tmp_path / "ran"
    with pytest.raises(SandboxUnavailable, match="nothing was run"):
        run_sandboxed(SandboxSpec(argv=("touch", str(marker)), cwd=tmp_path, writable_roots=(tmp_path,)))
    assert not marker.exists()
