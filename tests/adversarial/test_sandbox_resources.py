"""Attacks on time, processes, memory and output, run for real through bubblewrap: each must be stopped.

Sleeping forever, ignoring SIGTERM, a `setsid` double fork that tries to outlive the sandbox (with and without a
timeout), a fork bomb, a memory hog, CPU and file-size limits, open files, huge output, output without newlines,
terminal escapes. "Nothing runs after" is checked on the host: no process whose command line carries the test's
unique token is left, and a heartbeat file the escaped process would keep appending to stops growing. No test
asserts a duration.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from llmos.policies.sandbox import SandboxResult, SandboxSpec, run_sandboxed
from llmos.policies.sandbox.cgroup import create_run_cgroup
from sandboxing import needs_sandbox

pytestmark = needs_sandbox

PY = sys.executable


def run(argv: list[str], cwd: Path | None = None, **options: object) -> SandboxResult:
    options.setdefault("timeout_s", 10.0)
    return run_sandboxed(SandboxSpec(argv=tuple(argv), cwd=cwd or Path("/"), **options))  # type: ignore[arg-type]  # callers pass SandboxSpec's own fields


def processes_with(token: str) -> list[int]:
    """Host pids whose command line contains `token` (this test process excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if token.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def assert_stays_still(path: Path, wait: float = 0.4) -> None:
    """The heartbeat file does not change any more: whatever wrote it is gone."""
    before = path.read_bytes() if path.exists() else None
    time.sleep(wait)
    after = path.read_bytes() if path.exists() else None
    assert before == after, "a process outlived the sandbox and is still writing"


@pytest.fixture
def workspace() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="llmos-workspace-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def token() -> str:
    """A unique number usable as a `sleep` argument and findable in /proc/*/cmdline."""
    return f"7777.{uuid.uuid4().int % 10**12:012d}"


# --- time --------------------------------------------------------------------------------------------------------


def test_sleep_forever_is_killed_at_the_timeout(token: str) -> None:
    result = run(["sleep", token], timeout_s=1.0)
    assert result.timed_out and result.exit_code is None and result.signal == "SIGKILL"
    assert processes_with(token) == []


def test_a_process_ignoring_sigterm_is_killed_at_the_timeout(workspace: Path, token: str) -> None:
    script = f"trap '' TERM HUP INT; while :; do echo beat >> {workspace}/hb; sleep 0.05; done # {token}"
    result = run(["bash", "-c", script], writable_roots=(workspace,), timeout_s=1.0)
    assert result.timed_out
    assert processes_with(token) == []
    assert_stays_still(workspace / "hb")


def test_setsid_double_fork_does_not_outlive_a_command_that_exits(workspace: Path, token: str) -> None:
    """The command daemonises a child (setsid, double fork, SIGTERM/SIGHUP ignored) and exits at once: the
    daemon dies with the sandbox's PID namespace and never writes its heartbeat."""
    daemon = f"trap '' TERM HUP; sleep 0.3; while :; do echo beat >> {workspace}/hb; sleep 0.05; done # {token}"
    result = run(["sh", "-c", f"setsid bash -c \"{daemon}\" </dev/null >/dev/null 2>&1 & exit 0"],
                 writable_roots=(workspace,))
    assert result.exit_code == 0 and not result.timed_out
    assert processes_with(token) == []
    time.sleep(0.5)
    assert not (workspace / "hb").exists()


def test_python_double_fork_daemon_does_not_outlive_the_timeout(workspace: Path, token: str) -> None:
    """A classic daemon (fork, setsid, fork, ignore signals) while the parent itself hangs: all gone after."""
    code = f"""
import os, signal, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            with open({str(workspace / 'hb')!r}, 'a') as f:
                f.write('beat\\n')
            time.sleep(0.05)
    os._exit(0)
time.sleep(1000)  # {token}
"""
    result = run([PY, "-I", "-c", code], writable_roots=(workspace,), timeout_s=1.0)
    assert result.timed_out
    assert processes_with(token) == []
    assert_stays_still(workspace / "hb")


def test_a_fork_bomb_is_bounded_and_ends(token: str) -> None:
    """Bounded by the run's pids cgroup (root) or RLIMIT_NPROC in the sandbox's user namespace (non-root); ended
    by the timeout at the latest; nothing of it is left."""
    cgroup = create_run_cgroup(64, 1 << 30)
    bounded = any(applied.startswith("pids") for applied in cgroup.applied) or os.geteuid() != 0
    cgroup.close()
    if not bounded:
        pytest.skip("as root without a writable pids cgroup nothing bounds a fork bomb but the timeout; not run")
    bomb = f"bomb_{token.replace('.', '_')}"
    result = run(["bash", "-c", f"{bomb}() {{ {bomb} | {bomb} & }}; {bomb}; wait"], max_processes=64, timeout_s=3.0)
    assert result.exit_code is not None or result.timed_out
    assert processes_with(bomb) == []


def test_python_fork_loop_hits_the_process_limit(token: str) -> None:
    cgroup = create_run_cgroup(32, 1 << 30)
    bounded = any(applied.startswith("pids") for applied in cgroup.applied) or os.geteuid() != 0
    cgroup.close()
    if not bounded:
        pytest.skip("as root without a writable pids cgroup the process count is not bounded here")
    code = f"""
import os, time
count = 0
try:
    while count < 1000:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        count += 1
except OSError:
    print("limited at", count)  # {token}
"""
    result = run([PY, "-I", "-c", code], max_processes=32, timeout_s=10.0)
    assert "limited at" in result.stdout
    assert int(result.stdout.split()[-1]) < 40
    assert processes_with(token) == []


# --- memory, CPU, files ------------------------------------------------------------------------------------------


def test_a_memory_hog_is_refused_by_the_address_space_limit() -> None:
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))"
    result = run([PY, "-I", "-c", code], memory_bytes=512 << 20)
    assert result.exit_code != 0 and not result.timed_out
    assert "MemoryError" in result.stderr or result.signal is not None


def test_a_single_huge_allocation_fails() -> None:
    result = run([PY, "-I", "-c", "bytearray(4 << 30)"], memory_bytes=256 << 20)
    assert result.exit_code != 0 and "MemoryError" in result.stderr


def test_cpu_time_limit_kills_a_busy_loop() -> None:
    """RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL one second later; not the wall-clock timeout."""
    result = run([PY, "-I", "-c", "while True: pass"], cpu_seconds=1, timeout_s=30.0)
    assert not result.timed_out
    assert result.signal in ("SIGXCPU", "SIGKILL")


def test_file_size_limit_stops_a_disk_filler(workspace: Path) -> None:
    result = run(["sh", "-c", "head -c 5000000 /dev/zero > big"], cwd=workspace, writable_roots=(workspace,),
                 file_size_bytes=1 << 20)
    assert result.exit_code != 0
    assert (workspace / "big").stat().st_size <= 1 << 20


def test_open_files_limit_stops_fd_exhaustion() -> None:
    code = ("import os\nfds = []\ntry:\n    while True: fds.append(os.open('/dev/null', os.O_RDONLY))\n"
            "except OSError as e:\n    print(len(fds), e.errno)")
    result = run([PY, "-I", "-c", code], open_files=64)
    count, errno_value = result.stdout.split()
    assert int(count) < 64 and int(errno_value) == 24  # EMFILE


def test_filling_the_private_tmp_does_not_touch_the_host(token: str) -> None:
    """Writes to /tmp go to the sandbox's own tmpfs and vanish."""
    result = run(["sh", "-c", f"head -c 1000000 /dev/zero > /tmp/{token} && ls -l /tmp/{token}"])
    assert result.exit_code == 0
    assert not Path(f"/tmp/{token}").exists()


# --- output ------------------------------------------------------------------------------------------------------


def test_huge_output_is_capped_with_head_tail_and_the_cut_said() -> None:
    code = "import sys\nsys.stdout.write('BEGIN\\n' + 'line\\n' * 2_000_000 + 'END\\n')"
    result = run([PY, "-I", "-c", code], max_output_bytes=4096)
    assert result.output_truncated and result.exit_code == 0
    assert result.stdout.startswith("BEGIN\n") and result.stdout.endswith("END\n")
    assert "bytes cut ...]" in result.stdout and len(result.stdout) < 5000


def test_output_without_newlines_is_capped() -> None:
    code = "import sys\nsys.stdout.write('<' + 'x' * 20_000_000 + '>')"
    result = run([PY, "-I", "-c", code], max_output_bytes=1000)
    assert result.output_truncated
    assert result.stdout.startswith("<") and result.stdout.endswith(">")
    cut = 20_000_002 - 1000
    assert f"[... {cut} bytes cut ...]" in result.stdout


def test_huge_stderr_is_capped_too() -> None:
    result = run(["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' e >&2"], max_output_bytes=2048)
    assert result.output_truncated and len(result.stderr) < 2200 and "bytes cut" in result.stderr


def test_endless_output_is_stopped_by_the_timeout_and_capped() -> None:
    result = run(["yes", "spam"], timeout_s=1.0, max_output_bytes=1000)
    assert result.timed_out and result.output_truncated and len(result.stdout) < 1200


def test_terminal_escapes_in_output_are_neutralised() -> None:
    """Window title, clipboard write (OSC 52), hyperlink, screen clear, bell, bidi override: nothing raw survives."""
    payload = (
        "\\033]0;pwned\\007\\033]52;c;cm0gLXJmIH4=\\007\\033]8;;http://evil\\033\\\\x\\033]8;;\\033\\\\"
        "\\033[2J\\033[31mred\\033[0m\\007 file\\342\\200\\256fdp.exe\\r hidden"
    )
    result = run(["printf", payload])
    assert not any(char in result.stdout for char in "\x1b\x07\x9b\u202e\r")
    assert "\\x1b]52;c;" in result.stdout and "\\u202e" in result.stdout and "red" in result.stdout


def test_invalid_utf8_output_is_decoded_with_replacement() -> None:
    result = run(["printf", "ok \\377\\376 \\300\\200 end"])
    assert result.stdout.startswith("ok ") and result.stdout.endswith(" end") and "\ufffd" in result.stdout


def test_large_stdin_to_a_command_that_does_not_read_it_does_not_hang() -> None:
    result = run(["true"], stdin=b"x" * 10_000_000)
    assert result.exit_code == 0 and not result.timed_out
