"""The sandbox's system-call filter (seccomp): which calls a sandboxed command is refused, compiled once to BPF.

The filter is built with libseccomp (through the `pyseccomp` binding) in the llmos process and handed to bubblewrap
as a file descriptor (`--seccomp FD`). bubblewrap loads it after its own setup, just before it execs the in-sandbox
helper, so its own mounts are unaffected, while the helper, the command and everything the command starts are
covered (a filter is inherited across fork and exec and cannot be removed).

Everything is allowed except the calls below, which fail with EPERM (not a kill), so a program that probes for a
feature degrades instead of dying. They are kernel attack surface or machine-wide controls that a command run on
a person's behalf has no use for; most are also refused by the kernel for lack of capabilities, and the filter is
the layer that does not depend on getting every capability and namespace check right. Landlock's calls,
`prctl`, `setrlimit` and `prlimit64`, which the helper makes after the filter is loaded, stay allowed.

Only the native ABI passes: a call through another one (the 32-bit `int 0x80` table on x86-64, x32) gets EPERM,
so a refused call cannot be smuggled in under its number in a compat table.
"""

from __future__ import annotations

import errno
import os
import threading
import types
from typing import Any

from llmos.policies.sandbox.bwrap import SandboxUnavailable

REFUSED_SYSCALLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "io_uring: its requests are carried out by the kernel without passing this filter",
        ("io_uring_setup", "io_uring_enter", "io_uring_register"),
    ),
    ("in-kernel programs and page-fault handling, favourite exploit primitives", ("bpf", "userfaultfd")),
    ("performance counters, which reveal kernel addresses and timing", ("perf_event_open",)),
    ("the kernel keyring, which no namespace separates", ("keyctl", "add_key", "request_key")),
    (
        "mounts and root changes: bubblewrap has already built the command's view of the file system",
        (
            "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "open_tree_attr",
            "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
        ),
    ),
    ("namespaces: the sandbox's are final", ("unshare", "setns")),
    (
        "other processes' memory, files and state",
        (
            "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp",
            "move_pages", "migrate_pages",
        ),
    ),
    ("opening files by handle, which skips path lookup and so every path-based check", ("open_by_handle_at",)),
    (
        "kernel modules, kexec and reboot",
        ("init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot"),
    ),
    (
        "machine-wide settings: swap, the clock, process accounting, quotas, the terminal line, I/O ports",
        (
            "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime", "acct", "quotactl",
            "quotactl_fd", "vhangup", "iopl", "ioperm", "uselib",
        ),
    ),
)
"""Refused outright, grouped by why. `clone`, `clone3`, `personality` and `ioctl` are refused only in part (see
`_add_partial_rules`)."""

_COMMON_NUMBERS = {"open_tree_attr": 467}
"""System calls newer than some libseccomp releases know by name. Since Linux 5.1 new calls have one number on every
architecture but alpha, ia64 and mips, so the number stands in where the name does not resolve."""

_CLONE_NEW_NAMESPACE = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
_PER_LINUX32 = 0x0008
_TIOCSTI = 0x5412
"""Pushes bytes into a terminal's input, as if typed."""
_TIOCLINUX = 0x541C
"""On a virtual console: among others, pastes the selection into its input."""
_LOW_32_BITS = 0xFFFFFFFF

_lock = threading.Lock()
_compiled: bytes | SandboxUnavailable | None = None


def _binding() -> types.ModuleType:
    """pyseccomp, which loads libseccomp when imported; a missing piece is a SandboxUnavailable naming it."""
    try:
        import pyseccomp  # type: ignore[import-untyped]  # plain ctypes module, no type information
    except ImportError:
        raise SandboxUnavailable(
            "the seccomp layer needs the pyseccomp package, which is missing: pip install pyseccomp "
            "(it comes with llmos on Linux); nothing is run without it"
        ) from None
    except (RuntimeError, OSError) as exc:
        raise SandboxUnavailable(
            f"the seccomp layer needs libseccomp, which cannot be loaded ({exc}): apt install libseccomp2 "
            "(Debian/Ubuntu), dnf install libseccomp (Fedora), pacman -S libseccomp (Arch); nothing is run without it"
        ) from None
    binding: types.ModuleType = pyseccomp
    return binding


def _syscall_number(seccomp: types.ModuleType, name: str) -> int:
    number = int(seccomp.resolve_syscall(seccomp.Arch.NATIVE, name))
    if number != -1:  # __NR_SCMP_ERROR; other negative numbers mark calls this architecture lacks, which is fine
        return number
    mips = {seccomp.Arch.MIPS, seccomp.Arch.MIPS64, seccomp.Arch.MIPS64N32, seccomp.Arch.MIPSEL}
    mips |= {seccomp.Arch.MIPSEL64, seccomp.Arch.MIPSEL64N32}
    if name in _COMMON_NUMBERS and seccomp.system_arch() not in mips:
        return _COMMON_NUMBERS[name]
    raise SandboxUnavailable(
        f"the installed libseccomp does not know the system call {name!r}, so the seccomp filter cannot refuse it: "
        "upgrade libseccomp; nothing is run until then"
    )


def build_filter() -> Any:
    """The filter as a libseccomp object (`pyseccomp.SyscallFilter`): allow by default, EPERM for the refused
    calls and for any non-native ABI. Raises SandboxUnavailable when the binding or libseccomp is missing."""
    seccomp = _binding()
    refuse = seccomp.ERRNO(errno.EPERM)
    syscall_filter = seccomp.SyscallFilter(seccomp.ALLOW)
    # A new filter holds the native architecture only; x32 calls on x86-64 count as another architecture too.
    syscall_filter.set_attr(seccomp.Attr.ACT_BADARCH, refuse)
    try:
        syscall_filter.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)  # binary tree: fewer BPF steps for every call
    except OSError:
        pass  # libseccomp < 2.5: the same filter, checked as a list
    for _why, names in REFUSED_SYSCALLS:
        for name in names:
            syscall_filter.add_rule(refuse, _syscall_number(seccomp, name))
    _add_partial_rules(seccomp, syscall_filter, refuse)
    return syscall_filter


def _add_partial_rules(seccomp: types.ModuleType, syscall_filter: Any, refuse: int) -> None:
    """The calls refused only with some arguments. libseccomp compares full 64-bit registers while the kernel
    reads ioctl's request and personality's value as 32-bit ints, so a match ignores the high half
    (CVE-2019-10063: TIOCSTI with a high bit set passed a filter that compared all 64), and the personality rule
    refuses any value with high bits set."""
    masked, greater = seccomp.MASKED_EQ, seccomp.GT
    # clone creating a namespace; s390 passes clone's flags second.
    flags_argument = 1 if seccomp.system_arch() in (seccomp.Arch.S390, seccomp.Arch.S390X) else 0
    for flag in _CLONE_NEW_NAMESPACE.values():
        syscall_filter.add_rule(refuse, "clone", seccomp.Arg(flags_argument, masked, flag, flag))
    # clone3 passes its flags in memory, out of a filter's reach; libc falls back to clone on ENOSYS (only).
    syscall_filter.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    # personality: Linux and 32-bit Linux only (0 and 8), no flags such as MMAP_PAGE_ZERO, READ_IMPLIES_EXEC or
    # ADDR_NO_RANDOMIZE. libseccomp allows one comparison per argument in a rule, so the query value 0xffffffff
    # cannot be let through as well; it is refused like any other value with flags.
    syscall_filter.add_rule(refuse, "personality", seccomp.Arg(0, greater, _PER_LINUX32))
    for bit in (1, 2, 4):
        syscall_filter.add_rule(refuse, "personality", seccomp.Arg(0, masked, bit, bit))
    # Writing into a terminal's input. The sandbox's new session already keeps TIOCSTI off the person's terminal.
    for request in (_TIOCSTI, _TIOCLINUX):
        syscall_filter.add_rule(refuse, "ioctl", seccomp.Arg(1, masked, _LOW_32_BITS, request))


def compiled_filter() -> bytes:
    """The BPF program of `build_filter()`, built once per process (a failure is remembered too)."""
    global _compiled
    with _lock:
        if _compiled is None:
            try:
                _compiled = _export(build_filter())
            except SandboxUnavailable as exc:
                _compiled = exc
        if isinstance(_compiled, SandboxUnavailable):
            raise SandboxUnavailable(str(_compiled))
        return _compiled


def reset_filter_cache() -> None:
    """Forget the compiled filter or its failure (tests, or after the person installed libseccomp)."""
    global _compiled
    with _lock:
        _compiled = None


def _export(syscall_filter: Any) -> bytes:
    fd = os.memfd_create("llmos-seccomp-export", os.MFD_CLOEXEC)
    try:
        with open(fd, "w+b", closefd=False) as exported:
            syscall_filter.export_bpf(exported)
        os.lseek(fd, 0, os.SEEK_SET)
        program = b""
        while chunk := os.read(fd, 65536):
            program += chunk
    finally:
        os.close(fd)
    if not program or len(program) % 8:
        raise SandboxUnavailable(f"libseccomp exported a malformed seccomp program ({len(program)} bytes)")
    return program


def filter_fd() -> int:
    """A file descriptor holding the compiled filter, at offset 0, for bubblewrap's `--seccomp FD` in one run (it
    reads to the end, so each run needs its own). Close-on-exec; the caller passes it on and closes it."""
    program = compiled_filter()
    fd = os.memfd_create("llmos-seccomp", os.MFD_CLOEXEC)
    try:
        view = memoryview(program)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd
