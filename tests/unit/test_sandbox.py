"""run_sandboxed: what a command sees and gets back, spec validation, fail-closed when bubblewrap cannot work,
and layer_status. These run real commands through bubblewrap (skipped where it cannot run)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from llmos.policies.sandbox import (
    SandboxResult,
    SandboxSpec,
    SandboxUnavailable,
    layer_status,
    reset_probe_cache,
    run_sandboxed,
)
from llmos.policies.sandbox import bwrap as sandbox_bwrap
from sandboxing import needs_sandbox


def run(argv: list[str], cwd: Path | None = None, **options: object) -> SandboxResult:
    return run_sandboxed(SandboxSpec(argv=tuple(argv), cwd=cwd or Path("/"), **options))  # type: ignore[arg-type]  # callers pass SandboxSpec's own fields


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    reset_probe_cache()
    yield
    reset_probe_cache()


@needs_sandbox
def test_stdout_stderr_and_exit_code_come_back() -> None:
    result = run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 3)
    assert not result.timed_out and not result.output_truncated and result.signal is None


@needs_sandbox
def test_argv_is_executed_directly_not_through_a_shell() -> None:
    """Shell syntax in an argument is just text: nothing is expanded or run."""
    result = run(["echo", "$(id)", "; touch /tmp/x", "`whoami`", "*"])
    assert result.stdout == "$(id) ; touch /tmp/x `whoami` *\n"


@needs_sandbox
def test_stdin_is_passed() -> None:
    result = run(["cat"], stdin=b"line one\nline two\n")
    assert result.stdout == "line one\nline two\n"


@needs_sandbox
def test_no_stdin_reads_as_empty() -> None:
    result = run(["cat"])
    assert result.stdout == "" and result.exit_code == 0


@needs_sandbox
def test_runs_in_the_given_working_directory(tmp_path: Path) -> None:
    """cwd under /tmp (masked by the sandbox's private /tmp) is bound back read-only so the command can run there."""
    (tmp_path / "here.txt").write_text("x")
    result = run(["sh", "-c", "pwd; ls; echo y > new.txt"], cwd=tmp_path)
    assert result.stdout.splitlines()[:2] == [str(tmp_path), "here.txt"]
    assert result.exit_code != 0 and not (tmp_path / "new.txt").exists()


@needs_sandbox
def test_writes_beneath_a_writable_root_land_on_disk(tmp_path: Path) -> None:
    result = run(["sh", "-c", "echo data > out.txt && mkdir d && mv out.txt d/"], cwd=tmp_path,
                 writable_roots=(tmp_path,))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "d" / "out.txt").read_text() == "data\n"


@needs_sandbox
def test_tmp_is_private_and_empty_and_gone_afterwards() -> None:
    """The sandbox's /tmp is its own tmpfs: the host's /tmp is not visible, and what is written there vanishes."""
    marker = Path("/tmp") / f"llmos-visible-{os.getpid()}"
    marker.write_text("host")
    try:
        result = run(["sh", "-c", f"ls -A /tmp; echo x > /tmp/scratch && cat /tmp/scratch; test -e {marker}; echo $?"])
    finally:
        marker.unlink()
    # Only what the sandbox itself re-binds may show in /tmp (llmos's own code when it lives under /tmp, as in a
    # CI clone there); nothing of the host's /tmp.
    *listing, scratch, marker_test = result.stdout.splitlines()
    assert marker.name not in listing and (scratch, marker_test) == ("x", "1")
    assert not Path("/tmp/scratch").exists()


@needs_sandbox
def test_command_not_found_is_127_with_a_message() -> None:
    result = run(["llmos-no-such-program"])
    assert result.exit_code == 127 and "command not found" in result.stderr


@needs_sandbox
def test_death_by_signal_is_reported_with_its_name() -> None:
    result = run(["sh", "-c", "kill -TERM $$"])
    assert result.exit_code == 128 + 15 and result.signal == "SIGTERM" and not result.timed_out


@needs_sandbox
def test_layers_name_what_was_applied() -> None:
    """Every run says which layers confined it; Landlock is there whenever the kernel has it."""
    result = run(["true"])
    assert result.layers[0] == "bubblewrap" and "rlimits" in result.layers
    import landlockpy

    if landlockpy.abi_version() >= 1:
        assert any(layer.startswith("landlock:abi") for layer in result.layers)


_ORDINARY_PYTHON = (
    "import ctypes, subprocess, threading; "
    "threading.Thread(target=print, args=('thread',)).start(); "
    "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip()); "
    "print('personality', ctypes.CDLL(None).personality(0))"
)


@needs_sandbox
def test_ordinary_commands_work_under_the_seccomp_filter(tmp_path: Path) -> None:
    """The system-call filter refuses only what commands have no use for: ls, cat, grep, tar, git status and
    python (threads through clone3's fallback, a child process, personality(PER_LINUX)) all work."""
    (tmp_path / "notes.txt").write_text("alpha\nbeta\n")
    script = (
        "set -e; ls; cat notes.txt; grep beta notes.txt; tar -cf /tmp/notes.tar notes.txt; tar -tf /tmp/notes.tar; "
        "git init -q repo; git -C repo status --short; echo git-ok; " + f"{sys.executable} -c \"{_ORDINARY_PYTHON}\""
    )
    result = run(["sh", "-c", script], cwd=tmp_path, writable_roots=(tmp_path,))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [
        "notes.txt", "alpha", "beta", "beta", "notes.txt", "git-ok", "thread", "child", "personality", "0",
    ]
    assert "seccomp" in result.layers


@needs_sandbox
def test_rlimits_are_set_inside() -> None:
    result = run(
        ["sh", "-c", "ulimit -n; ulimit -f; ulimit -t; ulimit -v"],
        open_files=77, file_size_bytes=512 * 1024, cpu_seconds=9, memory_bytes=300 << 20,
    )
    assert result.stdout.split() == ["77", "1024", "9", str(300 << 10)]


@needs_sandbox
def test_extra_env_reaches_the_command() -> None:
    result = run(["sh", "-c", "echo $GIT_PAGER"], extra_env={"GIT_PAGER": "cat"})
    assert result.stdout == "cat\n"


@needs_sandbox
def test_network_true_gives_the_host_network(tmp_path: Path) -> None:
    """Positive control for the adversarial network tests: with network=True a loopback server outside is reached."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted: list[bytes] = []

    def serve() -> None:
        server.settimeout(10)
        try:
            conn, _ = server.accept()
            accepted.append(conn.recv(10))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=serve)
    thread.start()
    code = f"import socket; s=socket.create_connection(('127.0.0.1', {port}), timeout=5); s.sendall(b'hi')"
    result = run([sys.executable, "-I", "-c", code], network=True)
    thread.join()
    server.close()
    assert result.exit_code == 0, result.stderr
    assert accepted == [b"hi"]


@needs_sandbox
def test_hidden_paths_empty_tuple_hides_nothing(tmp_path: Path) -> None:
    """Positive control for the secret-store tests: with hidden_paths=() a file is readable."""
    home = Path("/var/tmp") / f"llmos-home-{os.getpid()}"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    (home / ".ssh" / "id_test").write_text("KEYDATA")
    try:
        shown = run(["cat", str(home / ".ssh" / "id_test")], hidden_paths=())
        hidden = run(["cat", str(home / ".ssh" / "id_test")], hidden_paths=(home / ".ssh",))
    finally:
        (home / ".ssh" / "id_test").unlink()
        (home / ".ssh").rmdir()
        home.rmdir()
    assert shown.stdout == "KEYDATA"
    assert "KEYDATA" not in hidden.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"argv": ()}, "argv"),
        ({"argv": ("echo", "a\x00b")}, "NUL"),
        ({"cwd": Path("relative")}, "working directory"),
        ({"cwd": Path("/no/such/dir")}, "working directory"),
        ({"writable_roots": (Path("/"),)}, "defeat"),
        ({"writable_roots": (Path("/proc"),)}, "defeat"),
        ({"writable_roots": (Path("/sys/fs/cgroup"),)}, "defeat"),
        ({"writable_roots": (Path("/dev/shm"),)}, "defeat"),
        ({"writable_roots": (Path("/no/such/dir"),)}, "writable root"),
        ({"timeout_s": 0}, "timeout"),
    ],
)
def test_a_spec_that_cannot_be_honoured_is_refused_before_anything_runs(options: dict, message: str) -> None:
    spec = {"argv": ("true",), "cwd": Path("/"), **options}
    with pytest.raises(ValueError, match=message):
        run_sandboxed(SandboxSpec(**spec))


@needs_sandbox
def test_a_working_directory_inside_a_hidden_path_is_refused(tmp_path: Path) -> None:
    """Running in ~/.ssh would need it visible; it stays hidden and the run is refused instead."""
    secret = tmp_path / ".ssh"
    secret.mkdir()
    with pytest.raises(ValueError, match="hidden"):
        run(["ls"], cwd=secret, hidden_paths=(secret,))


def test_missing_bubblewrap_refuses_with_how_to_install(fresh_probe: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: no bwrap means SandboxUnavailable saying what is missing and how to get it, never a bare run."""
    monkeypatch.setattr(sandbox_bwrap.shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(SandboxUnavailable, match=r"bubblewrap \(bwrap\) is not installed: apt install bubblewrap"):
        run(["touch", "/tmp/should-not-exist"])


def test_bubblewrap_without_namespaces_refuses_and_the_check_is_cached(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A bwrap that cannot create namespaces (as with user namespaces disabled) makes every run refuse with a hint;
    it is tried once and the answer cached; the command never runs."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\n"
        f"echo call >> {calls}\n"
        'if [ "$1" = --version ]; then echo "bubblewrap 0.0-fake"; exit 0; fi\n'
        "echo 'bwrap: No permissions to creating new namespace, likely because the kernel does not allow "
        "non-privileged user namespaces.' >&2\n"
        "exit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox_bwrap.shutil, "which", lambda *args, **kwargs: str(fake))
    marker = tmp_path / "ran"
    for _ in range(3):
        with pytest.raises(SandboxUnavailable, match="user namespaces"):
            run(["touch", str(marker)])
    assert not marker.exists()
    probes = calls.read_text().splitlines()
    assert 1 <= len(probes) <= 3  # --version and the (one or two) flag sets of the single probe, not one per run


@needs_sandbox
def test_layer_status_reports_every_layer_honestly() -> None:
    """Each layer appears with a reason; seccomp is reported working, with what it refuses."""
    statuses = {status.name: status for status in layer_status()}
    assert set(statuses) == {
        "bubblewrap", "user namespace", "pid namespace", "network namespace", "landlock", "rlimits", "cgroup",
        "seccomp",
    }
    for name in ("bubblewrap", "user namespace", "pid namespace", "network namespace", "rlimits", "seccomp"):
        assert statuses[name].working, statuses[name]
    assert "EPERM" in statuses["seccomp"].detail and "io_uring" in statuses["seccomp"].detail
    assert all(status.detail for status in statuses.values())


def test_layer_status_without_bubblewrap_says_nothing_runs(fresh_probe: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_bwrap.shutil, "which", lambda *args, **kwargs: None)
    statuses = {status.name: status for status in layer_status()}
    assert not statuses["bubblewrap"].working
    assert "apt install bubblewrap" in statuses["bubblewrap"].detail and "refused" in statuses["bubblewrap"].detail
    assert not statuses["pid namespace"].working
    assert not statuses["seccomp"].working and "bubblewrap" in statuses["seccomp"].detail


@needs_sandbox
def test_layer_status_without_the_seccomp_binding_says_nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the filter cannot be built, every run is refused: doctor shows bubblewrap and seccomp as not working
    (so it exits 1) and names what to install."""
    from llmos.policies.sandbox import syscall_filter

    monkeypatch.setitem(sys.modules, "pyseccomp", None)
    syscall_filter.reset_filter_cache()
    try:
        statuses = {status.name: status for status in layer_status()}
    finally:
        syscall_filter.reset_filter_cache()
    assert not statuses["bubblewrap"].working and not statuses["seccomp"].working
    assert "pip install pyseccomp" in statuses["seccomp"].detail and "fail closed" in statuses["seccomp"].detail


@needs_sandbox
def test_without_landlock_the_run_continues_with_bubblewrap_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel (or install) without Landlock: the layer is left out of `layers` and the run still happens
    inside bubblewrap, still read-only."""
    import llmos.policies.sandbox.run as sandbox_module

    monkeypatch.setattr(sandbox_module, "landlock_package_dir", lambda: None)
    monkeypatch.setattr(sandbox_bwrap, "landlock_package_dir", lambda: None)
    result = run(["sh", "-c", "echo hi; touch /etc/llmos-should-fail"])
    assert result.stdout == "hi\n" and result.exit_code != 0
    assert "bubblewrap" in result.layers and not any(layer.startswith("landlock") for layer in result.layers)


@needs_sandbox
def test_landlock_that_fails_to_apply_refuses_the_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fail closed: when the kernel has Landlock but the helper cannot apply it (here: a broken landlockpy),
    the command is not run and SandboxUnavailable says why."""
    import landlockpy

    if landlockpy.abi_version() < 1:
        pytest.skip("the kernel has no Landlock")
    import llmos.policies.sandbox.run as sandbox_module

    broken = tmp_path / "landlockpy"
    broken.mkdir()
    (broken / "_syscall.py").write_text("raise ImportError('broken on purpose')\n")
    monkeypatch.setattr(sandbox_module, "landlock_package_dir", lambda: str(broken))
    marker = tmp_path / "ran"
    with pytest.raises(SandboxUnavailable, match="Landlock could not be applied"):
        run(["touch", str(marker)], writable_roots=(tmp_path,))
    assert not marker.exists()
