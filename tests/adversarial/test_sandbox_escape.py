"""Attacks on the sandbox's walls, run for real through bubblewrap: each must fail to escape.

Writes outside the writable roots (directly, through a symlink, a rename, a hard link), the kernel's own knobs
(/proc/sys, cgroups, mounts, capabilities, nested user namespaces), other processes (environ, signals), the
network (TCP/UDP to a loopback server outside, curl, wget, nc, bash /dev/tcp, host UNIX sockets), secret stores,
and the environment (LD_PRELOAD, BASH_ENV, exported bash functions, secret-named variables, PATH hijack).

"Outside" directories live under /var/tmp, not /tmp, so a refused write proves the read-only bind and Landlock,
not merely the sandbox's private /tmp.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from llmos.policies.sandbox import SandboxResult, SandboxSpec, run_sandboxed
from sandboxing import needs_sandbox

pytestmark = needs_sandbox

PY = sys.executable


def run(argv: list[str], cwd: Path | None = None, **options: object) -> SandboxResult:
    return run_sandboxed(SandboxSpec(argv=tuple(argv), cwd=cwd or Path("/"), timeout_s=10.0, **options))  # type: ignore[arg-type]  # callers pass SandboxSpec's own fields


def py(code: str, **options: object) -> SandboxResult:
    return run([PY, "-I", "-c", code], **options)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A host directory anyone may write to, outside every writable root and outside /tmp."""
    path = Path(tempfile.mkdtemp(prefix="llmos-outside-", dir="/var/tmp"))
    (path / "precious.txt").write_text("original\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def workspace() -> Iterator[Path]:
    """The writable root, also outside /tmp."""
    path = Path(tempfile.mkdtemp(prefix="llmos-workspace-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class LoopbackServer:
    """A TCP (or UDP) server on 127.0.0.1 outside the sandbox that records whatever reaches it."""

    def __init__(self, kind: int = socket.SOCK_STREAM) -> None:
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def reached(self) -> bool:
        try:
            if self.sock.type == socket.SOCK_STREAM:
                conn, _ = self.sock.accept()
                conn.close()
            else:
                self.sock.recvfrom(100)
            return True
        except BlockingIOError:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def tcp_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    yield server
    server.close()


# --- file system ------------------------------------------------------------------------------------------------


def test_write_outside_the_writable_roots_fails(outside: Path, workspace: Path) -> None:
    result = run(["sh", "-c", f"echo pwned > {outside}/new.txt; echo pwned > {outside}/precious.txt"],
                 cwd=workspace, writable_roots=(workspace,))
    assert result.exit_code != 0
    assert not (outside / "new.txt").exists()
    assert (outside / "precious.txt").read_text() == "original\n"


def test_write_through_a_symlink_inside_the_writable_root_pointing_out_fails(outside: Path, workspace: Path) -> None:
    """workspace/link -> outside: writing workspace/link/x or through a file symlink must not reach outside."""
    (workspace / "dirlink").symlink_to(outside)
    (workspace / "filelink").symlink_to(outside / "precious.txt")
    result = run(["sh", "-c", "echo pwned > dirlink/new.txt; echo pwned > filelink; echo pwned >> filelink"],
                 cwd=workspace, writable_roots=(workspace,))
    assert result.exit_code != 0
    assert not (outside / "new.txt").exists()
    assert (outside / "precious.txt").read_text() == "original\n"


def test_symlink_planted_by_the_command_itself_does_not_lead_out(outside: Path, workspace: Path) -> None:
    """The command makes the symlink (it may: the workspace is writable) and writes through it: still refused."""
    result = run(["sh", "-c", f"ln -s {outside} escape && echo pwned > escape/new.txt"],
                 cwd=workspace, writable_roots=(workspace,))
    assert result.exit_code != 0
    assert (workspace / "escape").is_symlink()
    assert not (outside / "new.txt").exists()


def test_moving_a_file_out_of_the_writable_root_fails(outside: Path, workspace: Path) -> None:
    (workspace / "mine.txt").write_text("data")
    result = run(["mv", "mine.txt", str(outside / "moved.txt")], cwd=workspace, writable_roots=(workspace,))
    assert result.exit_code != 0
    assert (workspace / "mine.txt").read_text() == "data" and not (outside / "moved.txt").exists()


def test_hard_linking_an_outside_file_into_the_writable_root_fails(outside: Path, workspace: Path) -> None:
    """A hard link would give a writable name to an outside inode; it crosses mounts, so the kernel refuses."""
    result = run(["sh", "-c", f"ln {outside}/precious.txt hard && echo pwned > hard"],
                 cwd=workspace, writable_roots=(workspace,))
    assert result.exit_code != 0
    assert not (workspace / "hard").exists()
    assert (outside / "precious.txt").read_text() == "original\n"


def test_chmod_and_delete_outside_fail(outside: Path) -> None:
    result = run(["sh", "-c", f"chmod 777 {outside}/precious.txt; rm -f {outside}/precious.txt; rm -rf {outside}"])
    assert (outside / "precious.txt").read_text() == "original\n"
    assert oct((outside / "precious.txt").stat().st_mode & 0o777) != oct(0o777)
    assert result.exit_code != 0


def test_writing_the_root_and_system_folders_fails() -> None:
    token = uuid.uuid4().hex
    targets = [f"/llmos-{token}", f"/etc/llmos-{token}", f"/usr/llmos-{token}", f"/var/tmp/llmos-{token}"]
    result = run(["sh", "-c", "; ".join(f"touch {target}" for target in targets)])
    assert result.exit_code != 0
    assert not any(Path(target).exists() for target in targets)


def test_proc_sys_is_read_only_even_for_root_in_the_sandbox() -> None:
    """bubblewrap leaves /proc/sys files writable to uid 0 (it only covers the directory when it is writable);
    llmos binds it read-only, and Landlock refuses the write too."""
    before = Path("/proc/sys/kernel/domainname").read_text()
    result = run(["sh", "-c", "echo llmos-pwned > /proc/sys/kernel/domainname; echo 1 > /proc/sys/vm/drop_caches"])
    assert result.exit_code != 0
    assert Path("/proc/sys/kernel/domainname").read_text() == before


def test_cgroup_files_cannot_be_written_to_raise_limits() -> None:
    """The per-run cgroup's limits (pids.max, memory) cannot be raised from inside: /sys is read-only."""
    script = (
        "for f in /sys/fs/cgroup/pids.max /sys/fs/cgroup/*/pids.max /sys/fs/cgroup/*/llmos-sandbox-*/pids.max "
        "/sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do "
        '[ -e "$f" ] && (echo max > "$f") 2>/dev/null && echo "WROTE $f"; done; true'
    )
    result = run(["sh", "-c", script])
    assert "WROTE" not in result.stdout


def test_mount_fails() -> None:
    result = run(["sh", "-c", "mount -t tmpfs none /mnt || mount --bind / /mnt"])
    assert result.exit_code != 0


def test_no_capabilities_and_no_new_privileges() -> None:
    """All capability sets are empty (even as root) and no_new_privs is set, so setuid programs gain nothing."""
    result = run(["cat", "/proc/self/status"])
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[name].strip(), 16) == 0, name
    assert fields["NoNewPrivs"].strip() == "1"


def test_nested_user_namespace_to_regain_capabilities_fails() -> None:
    code = (
        "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
        "raise SystemExit(0 if libc.unshare(0x10000000) == 0 else 1)"  # CLONE_NEWUSER
    )
    result = py(code)
    assert result.exit_code == 1
    if shutil.which("unshare"):
        assert run(["unshare", "-Ur", "id"]).exit_code != 0


# --- processes ----------------------------------------------------------------------------------------------


@pytest.fixture
def outside_process() -> Iterator[subprocess.Popen[bytes]]:
    """A process outside the sandbox holding a secret in its environment."""
    env = dict(os.environ, LLMOS_TEST_OUTSIDE_SECRET="hunter2-" + uuid.uuid4().hex)
    process = subprocess.Popen(["sleep", "60"], env=env)
    yield process
    process.kill()
    process.wait()


def test_reading_another_process_environ_fails(outside_process: subprocess.Popen[bytes]) -> None:
    """/proc/<pid>/environ of a process outside: the pid namespace hides it entirely."""
    pid = outside_process.pid
    result = run(["sh", "-c", f"cat /proc/{pid}/environ; ls /proc/{pid}; grep -a hunter2 /proc/*/environ"])
    assert "hunter2" not in result.stdout + result.stderr
    assert result.exit_code != 0


def test_signalling_a_process_outside_fails(outside_process: subprocess.Popen[bytes]) -> None:
    result = run(["sh", "-c", f"kill -9 {outside_process.pid}; kill -9 -1; kill -9 1; echo done"])
    assert outside_process.poll() is None
    assert result.exit_code is not None and not result.timed_out


def test_only_the_sandbox_processes_are_visible() -> None:
    result = run(["sh", "-c", "ls /proc | grep -E '^[0-9]+$' | wc -l"])
    assert int(result.stdout.strip()) <= 6


# --- network -------------------------------------------------------------------------------------------------


def test_python_socket_to_a_loopback_server_outside_fails(tcp_server: LoopbackServer) -> None:
    result = py(f"import socket; socket.create_connection(('127.0.0.1', {tcp_server.port}), timeout=2)")
    assert result.exit_code != 0
    assert not tcp_server.reached()


@pytest.mark.parametrize("tool", ["curl", "wget", "nc"])
def test_network_tools_to_a_loopback_server_outside_fail(tool: str, tcp_server: LoopbackServer) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    argv = {
        "curl": ["curl", "-sS", "-m", "3", f"http://127.0.0.1:{tcp_server.port}/"],
        "wget": ["wget", "-q", "-T", "3", "-t", "1", "-O", "-", f"http://127.0.0.1:{tcp_server.port}/"],
        "nc": ["nc", "-w", "2", "127.0.0.1", str(tcp_server.port)],
    }[tool]
    result = run(argv)
    assert result.exit_code != 0
    assert not tcp_server.reached()


def test_bash_dev_tcp_fails(tcp_server: LoopbackServer) -> None:
    result = run(["bash", "-c", f"echo hi > /dev/tcp/127.0.0.1/{tcp_server.port}"])
    assert result.exit_code != 0
    assert not tcp_server.reached()


def test_udp_to_a_loopback_server_outside_is_not_delivered() -> None:
    server = LoopbackServer(socket.SOCK_DGRAM)
    try:
        code = ("import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                f"s.sendto(b'x', ('127.0.0.1', {server.port}))")
        py(code)
        assert not server.reached()
    finally:
        server.close()


def test_external_addresses_are_unreachable() -> None:
    """Only a loopback interface exists: no route to anything (no DNS, no public address)."""
    result = py("import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)")
    assert result.exit_code != 0
    interfaces = run(["cat", "/proc/net/dev"]).stdout
    names = [line.split(":")[0].strip() for line in interfaces.splitlines()[2:]]
    assert names == ["lo"]


def _unix_server(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    server.setblocking(False)
    return server


def _unix_reached(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def test_host_unix_sockets_under_run_are_unreachable() -> None:
    """D-Bus, Docker, systemd, ssh-agent in $XDG_RUNTIME_DIR live under /run: it is an empty tmpfs inside."""
    path = Path("/run") / f"llmos-test-{uuid.uuid4().hex[:8]}.sock"
    try:
        server = _unix_server(path)
    except OSError as exc:
        pytest.skip(f"cannot create a socket under /run here: {exc}")
    try:
        result = py(f"import socket; s=socket.socket(socket.AF_UNIX); s.connect({str(path)!r})")
        assert result.exit_code != 0
        assert not _unix_reached(server)
    finally:
        server.close()
        path.unlink()


def test_agent_socket_in_a_hidden_secret_store_is_unreachable(outside: Path) -> None:
    """A gpg-agent style socket inside a hidden path (e.g. ~/.gnupg) cannot be connected to."""
    store = outside / ".gnupg"
    store.mkdir()
    server = _unix_server(store / "S.gpg-agent")
    try:
        result = py(f"import socket; s=socket.socket(socket.AF_UNIX); s.connect({str(store / 'S.gpg-agent')!r})",
                    hidden_paths=(store,))
        assert result.exit_code != 0
        assert not _unix_reached(server)
    finally:
        server.close()


# --- secrets and environment -----------------------------------------------------------------------------------


def test_secret_stores_under_home_are_hidden(outside: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default hidden paths, ~/.ssh keys, ~/.aws credentials and ~/.netrc read as nothing."""
    home = outside / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE-KEY-MATERIAL")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("AWS-SECRET-MATERIAL")
    (home / ".netrc").write_text("NETRC-SECRET-MATERIAL")
    monkeypatch.setenv("HOME", str(home))
    result = run(["sh", "-c", "cat ~/.ssh/id_ed25519 ~/.aws/credentials ~/.netrc; ls -A ~/.ssh ~/.aws"])
    assert "MATERIAL" not in result.stdout + result.stderr
    assert "id_ed25519" not in result.stdout


def test_ld_preload_in_the_parent_environment_is_not_passed(monkeypatch: pytest.MonkeyPatch, outside: Path) -> None:
    """LD_PRELOAD/LD_LIBRARY_PATH set around llmos never reach the command (a bad preload would print an
    ld.so error if it were passed)."""
    monkeypatch.setenv("LD_PRELOAD", str(outside / "evil.so"))
    monkeypatch.setenv("LD_LIBRARY_PATH", str(outside))
    result = run(["env"])
    assert "LD_PRELOAD" not in result.stdout and "LD_LIBRARY_PATH" not in result.stdout
    assert "evil.so" not in result.stderr


def test_bash_env_in_the_parent_environment_is_not_sourced(monkeypatch: pytest.MonkeyPatch, outside: Path) -> None:
    script = outside / "bashenv.sh"
    script.write_text("echo BASH_ENV_WAS_SOURCED\n")
    monkeypatch.setenv("BASH_ENV", str(script))
    monkeypatch.setenv("ENV", str(script))
    result = run(["bash", "-c", "echo ok"])
    assert result.stdout == "ok\n"
    sh = run(["sh", "-i", "-c", "echo ok"])
    assert "BASH_ENV_WAS_SOURCED" not in sh.stdout + sh.stderr


def test_exported_bash_function_overriding_a_command_is_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`BASH_FUNC_ls%%` in the environment would replace `ls` inside every bash the command starts."""
    monkeypatch.setenv("BASH_FUNC_ls%%", "() { echo HIJACKED; }")
    result = run(["bash", "-c", "ls -d /"])
    assert result.stdout == "/\n"


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "GITHUB_TOKEN", "MY_SECRET", "DB_PASSWORD", "AWS_CREDENTIALS"])
def test_secret_named_variables_are_not_passed(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither from llmos's environment nor from extra_env."""
    value = "sekrit-" + uuid.uuid4().hex
    monkeypatch.setenv(name, value)
    result = run(["env"], extra_env={name: value})
    assert value not in result.stdout and name not in result.stdout


def test_path_hijack_with_a_git_in_the_working_directory_is_not_used(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `git` (and `ls`) script in the working directory, with `.` and the workspace first in llmos's PATH:
    the sandbox's fixed PATH finds the system programs."""
    for name in ("git", "ls"):
        fake = workspace / name
        fake.write_text("#!/bin/sh\necho HIJACKED\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", f".:{workspace}:{os.environ.get('PATH', '')}")
    program = "git" if shutil.which("git", path="/usr/local/bin:/usr/bin:/bin") else "ls"
    result = run([program, "--version"], cwd=workspace, extra_env={"PATH": str(workspace)})
    assert "HIJACKED" not in result.stdout
    assert result.exit_code == 0, result.stderr


def test_landlock_refuses_a_write_bubblewrap_alone_would_allow() -> None:
    """Second layer: /proc/self/attr and /proc/self/comm are writable to a process in plain bubblewrap; with
    Landlock (read-only outside the writable roots) they are not."""
    import landlockpy

    if landlockpy.abi_version() < 1:
        pytest.skip("the kernel has no Landlock")
    result = run(["sh", "-c", "echo renamed > /proc/self/comm && echo WROTE"])
    assert "WROTE" not in result.stdout
    assert "Permission denied" in result.stderr


def test_pathname_unix_socket_elsewhere_needs_landlock_abi_9() -> None:
    """Known limit, documented: a pathname UNIX socket outside /tmp, /run and the hidden paths is connectable
    through the read-only bind unless Landlock ABI 9 (LANDLOCK_ACCESS_FS_RESOLVE_UNIX) refuses it."""
    import landlockpy

    if landlockpy.abi_version() < 9:
        pytest.skip("kernel Landlock ABI < 9: pathname UNIX sockets outside hidden paths are reachable (documented)")
    directory = Path(tempfile.mkdtemp(prefix="llmos-sock-", dir="/var/tmp"))
    server = _unix_server(directory / "s")
    try:
        result = py(f"import socket; s=socket.socket(socket.AF_UNIX); s.connect({str(directory / 's')!r})")
        assert result.exit_code != 0 and not _unix_reached(server)
    finally:
        server.close()
        shutil.rmtree(directory)


# --- system calls (seccomp) -----------------------------------------------------------------------------------

# Calls each (number, args) through libc's syscall() and prints {name: errno or 0}.
_CALL_EACH = """
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
answers = {}
for name, (number, args) in json.loads(sys.argv[1]).items():
    ctypes.set_errno(0)
    returned = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(arg) for arg in args])
    answers[name] = ctypes.get_errno() if returned == -1 else 0
print(json.dumps(answers))
"""


def _number(name: str) -> int:
    import pyseccomp

    return int(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name))


def _errnos(calls: dict[str, tuple[int, list[int]]]) -> dict[str, int]:
    """Makes every call in one sandboxed python and returns the errno each got (0: it succeeded)."""
    import json

    result = run([PY, "-I", "-S", "-c", _CALL_EACH, json.dumps(calls)])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


_O_CLOEXEC = 0o2000000
_CLONE_NEWUSER, _CLONE_FS = 0x10000000, 0x200
_TIOCSTI = 0x5412
_X32_SYSCALL_BIT = 0x40000000


def _refused_probes() -> dict[str, tuple[str, list[int]]]:
    """Each with arguments under which the call, unfiltered, succeeds or fails with another errno than EPERM
    here (so EPERM is the filter's answer, not the kernel's capability check)."""
    return {
        "io_uring_setup": ("io_uring_setup", [0, 0]),  # EFAULT
        "io_uring_enter": ("io_uring_enter", [-1, 0, 0, 0, 0, 0]),  # EBADF
        "io_uring_register": ("io_uring_register", [-1, 0, 0, 0]),  # EBADF
        "bpf": ("bpf", [0, 0, 1 << 20]),  # E2BIG
        "userfaultfd": ("userfaultfd", [1 | _O_CLOEXEC]),  # UFFD_USER_MODE_ONLY: a descriptor
        "keyctl": ("keyctl", [0, -3, 0]),  # KEYCTL_GET_KEYRING_ID of the session keyring: an id
        "add_key": ("add_key", [0, 0, 0, 0, 0]),  # EFAULT
        "request_key": ("request_key", [0, 0, 0, 0]),  # EFAULT
        "perf_event_open": ("perf_event_open", [0, 0, -1, -1, 0]),  # EFAULT
        "unshare": ("unshare", [0]),  # succeeds
        "setns": ("setns", [-1, 0]),  # EBADF
        "mount": ("mount", [0, 0, 0, 0, 0]),  # EFAULT
        "umount2": ("umount2", [0, 0xFFFF]),  # EINVAL
        "ptrace(PTRACE_TRACEME)": ("ptrace", [0, 0, 0, 0]),  # succeeds
        "process_vm_readv": ("process_vm_readv", [1, 0, 0, 0, 0, 0]),  # succeeds (nothing to read)
        "process_vm_writev": ("process_vm_writev", [1, 0, 0, 0, 0, 0]),  # succeeds
        "pidfd_getfd": ("pidfd_getfd", [-1, 0, 0]),  # EBADF
        "clone(CLONE_NEWUSER)": ("clone", [_CLONE_NEWUSER | _CLONE_FS, 0, 0, 0, 0]),  # EINVAL (flag mix)
        "personality(MMAP_PAGE_ZERO)": ("personality", [0x0100000]),  # succeeds
        "ioctl(TIOCSTI)": ("ioctl", [0, _TIOCSTI, 0]),  # ENOTTY
        "ioctl(TIOCSTI, high bits set)": ("ioctl", [0, (1 << 32) | _TIOCSTI, 0]),  # ENOTTY: the kernel drops them
    }


@pytest.fixture(scope="module")
def refused_errnos() -> dict[str, int]:
    calls = {label: (_number(name), args) for label, (name, args) in _refused_probes().items()}
    return _errnos(calls)


@pytest.mark.parametrize("label", sorted(_refused_probes()))
def test_dangerous_system_calls_fail_with_eperm(label: str, refused_errnos: dict[str, int]) -> None:
    """io_uring, bpf, userfaultfd, the keyring, perf events, namespaces, mounts, ptrace and other processes'
    memory, namespace flags to clone, unsafe personality flags and TIOCSTI (however spelt) are refused by the
    seccomp filter with EPERM, so the command goes on (a kill would break programs that probe)."""
    import errno

    assert refused_errnos[label] == errno.EPERM, f"{label}: errno {refused_errnos[label]}"


def test_every_system_call_the_filter_lists_fails_with_eperm() -> None:
    """The whole list, not examples: each refused call (null arguments; harmless unfiltered, with no
    capabilities in the sandbox) answers EPERM inside, including those newer than the installed libseccomp."""
    import errno

    from llmos.policies.sandbox.syscall_filter import REFUSED_SYSCALLS, build_filter

    build_filter()  # fails if any name cannot be resolved
    calls: dict[str, tuple[int, list[int]]] = {}
    for _why, names in REFUSED_SYSCALLS:
        for name in names:
            number = _number(name)
            if name == "open_tree_attr" and number == -1:
                number = 467  # Linux 6.15; the common number, as the filter uses it
            if number >= 0:  # negative: this architecture has no such call
                calls[name] = (number, [0, 0, 0, 0, 0, 0])
    answers = _errnos(calls)
    assert {name: code for name, code in answers.items() if code != errno.EPERM} == {}


def test_clone3_answers_enosys_so_libc_falls_back_to_clone() -> None:
    """clone3 keeps its flags in memory where the filter cannot see them: it answers ENOSYS (libc then uses clone,
    whose namespace flags the filter checks), not EPERM, which would break every thread and fork."""
    import errno

    assert _errnos({"clone3": (_number("clone3"), [0, 0])})["clone3"] == errno.ENOSYS


needs_x86_64 = pytest.mark.skipif(os.uname().machine != "x86_64", reason="the compat ABIs tested are x86-64's")


@needs_x86_64
def test_x32_system_calls_are_refused() -> None:
    """A native call number with the x32 bit set (here getpid) is another ABI: refused with EPERM."""
    import errno

    answers = _errnos({"x32 getpid": (_X32_SYSCALL_BIT | _number("getpid"), [])})
    assert answers["x32 getpid"] == errno.EPERM


# i386 getpid through int 0x80 from a 64-bit process: mov eax, 20; int 0x80; ret. Prints eax (a pid, or -errno).
_INT_0X80_GETPID = """
import ctypes, mmap
page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3]))
print(ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))())
"""


@needs_x86_64
def test_32_bit_int_0x80_system_calls_are_refused() -> None:
    """The 32-bit table has other numbers for the same calls; a filter that looked only at numbers could be
    passed through it. The filter admits the native ABI only: an `int 0x80` call gets EPERM."""
    import errno

    result = py(_INT_0X80_GETPID)
    if result.signal == "SIGSEGV":
        pytest.skip("this kernel has no 32-bit emulation (int 0x80 faults)")
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) == -errno.EPERM
