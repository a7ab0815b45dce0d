"""bubblewrap for the sandbox: finding it, checking once that it works here, and the mounts of one run.

The mounts: the whole file system read-only, a fresh `/dev` and `/proc` with `/proc/sys` bound read-only (as root
it would otherwise stay writable even with every capability dropped: bubblewrap only covers `/proc/sys` when the
directory itself is writable), empty private `/tmp` and `/run` (the host's UNIX sockets there, D-Bus, Docker,
ssh-agent, `$XDG_RUNTIME_DIR`, cannot be reached), the writable roots bound read-write, the protected paths
inside them bound read-only again, and the secrets and llmos's own folders hidden (an empty read-only tmpfs over
a directory, `/dev/null` over a file); `confine` finds which paths those are from the profile's patterns.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmos.policies.sandbox.confine import default_confinement, mounts_for
from llmos.policies.sandbox.env import SAFE_PATH

if TYPE_CHECKING:
    from llmos.policies.sandbox.run import SandboxSpec

HELPER = Path(__file__).with_name("inside.py")

MASKED_ROOTS = (Path("/tmp"), Path("/run"))
"""Replaced by empty private tmpfs inside the sandbox."""

_FORBIDDEN_WRITABLE = (Path("/"), Path("/proc"), Path("/sys"), Path("/dev"))


class SandboxUnavailable(Exception):
    """The sandbox cannot be applied here; the command was not run. The message says what is missing and how to
    get it."""


# ---------------------------------------------------------------------------------------------------------------
# bubblewrap discovery and the once-per-process check that it can create its namespaces here


@dataclass(frozen=True)
class _Bwrap:
    path: str
    version: str
    flags: tuple[str, ...]
    notes: tuple[str, ...]


_probe_lock = threading.Lock()
_probe_result: _Bwrap | SandboxUnavailable | None = None

_BASE_FLAGS = (
    "--unshare-user",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
)
_NO_NESTED_USERNS = ("--disable-userns",)

_INSTALL_HINT = (
    "bubblewrap (bwrap) is not installed: apt install bubblewrap (Debian/Ubuntu), dnf install bubblewrap "
    "(Fedora), pacman -S bubblewrap (Arch)"
)


def _namespace_hint(stderr: str) -> str:
    lowered = stderr.lower()
    if any(sign in lowered for sign in ("namespace", "uid map", "permission", "operation not permitted")):
        return (
            "; unprivileged user namespaces look disabled: enable them (sysctl kernel.unprivileged_userns_clone=1; on "
            "Ubuntu 23.10+ sysctl kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap), "
            "or inside a container allow them (e.g. docker --security-opt seccomp=unconfined)"
        )
    return ""


def probe() -> _Bwrap:
    """Find bwrap and check once that it can build the sandbox here; cached (also a failure)."""
    global _probe_result
    with _probe_lock:
        if _probe_result is None:
            try:
                _probe_result = _find_and_check_bwrap()
            except SandboxUnavailable as exc:
                _probe_result = exc
        if isinstance(_probe_result, SandboxUnavailable):
            raise SandboxUnavailable(str(_probe_result))
        return _probe_result


def reset_probe_cache() -> None:
    """Forget the cached bubblewrap check (tests, or after the person installed bubblewrap)."""
    global _probe_result
    with _probe_lock:
        _probe_result = None


def _find_and_check_bwrap() -> _Bwrap:
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(
            "the process sandbox needs Linux with bubblewrap; on macOS llmos can generate a Seatbelt profile "
            "(llmos.policies.sandbox.seatbelt) but does not run commands with it yet, so nothing is run"
        )
    path = shutil.which("bwrap", path=SAFE_PATH + ":/usr/sbin:/sbin")
    if path is None:
        raise SandboxUnavailable(_INSTALL_HINT)
    try:
        version = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailable(f"bubblewrap at {path} cannot be run ({exc}); reinstall it: {_INSTALL_HINT}") from None
    trivial = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--", sys.executable]
    trivial += ["-I", "-S", "-c", ""]
    last_error = ""
    for extra, notes in ((_NO_NESTED_USERNS, ()), ((), ("--disable-userns is not supported here",))):
        flags = _BASE_FLAGS + extra
        try:
            done = subprocess.run(
                [path, *flags, *trivial], capture_output=True, text=True, timeout=20, check=False,
                stdin=subprocess.DEVNULL, env={"PATH": SAFE_PATH},
            )
        except (OSError, subprocess.SubprocessError) as exc:
            last_error = str(exc)
            continue
        if done.returncode == 0:
            return _Bwrap(path, version, flags, notes)
        last_error = done.stderr.strip() or f"exit status {done.returncode}"
    raise SandboxUnavailable(
        f"bubblewrap ({version or path}) cannot create the sandbox's namespaces here: {last_error}"
        f"{_namespace_hint(last_error)}"
    )


def landlock_package_dir() -> str | None:
    try:
        found = importlib.util.find_spec("landlockpy")
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return str(list(found.submodule_search_locations)[0])


# ---------------------------------------------------------------------------------------------------------------
# building the bwrap command line


def _beneath(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def validated(spec: SandboxSpec) -> tuple[Path, tuple[Path, ...]]:
    if not spec.argv or not isinstance(spec.argv[0], str) or not spec.argv[0]:
        raise ValueError("argv must name a program")
    for arg in spec.argv:
        if not isinstance(arg, str):
            raise TypeError(f"argv items must be str, not {type(arg).__name__}")
        if "\x00" in arg:
            raise ValueError("argv items cannot contain NUL")
    if spec.timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    cwd = Path(spec.cwd)
    if not cwd.is_absolute() or not cwd.is_dir():
        raise ValueError(f"the working directory must be an existing absolute directory: {str(cwd)!r}")
    cwd = cwd.resolve()
    roots: list[Path] = []
    for root in spec.writable_roots:
        resolved = Path(root).resolve()
        if not resolved.is_dir():
            raise ValueError(f"a writable root must be an existing directory: {str(root)!r}")
        if resolved == Path("/") or any(_beneath(resolved, system) for system in _FORBIDDEN_WRITABLE[1:]):
            raise ValueError(f"refusing to make {str(resolved)!r} writable: it would defeat the sandbox")
        roots.append(resolved)
    return cwd, tuple(roots)


def mount_args(spec: SandboxSpec, cwd: Path, roots: tuple[Path, ...], env_home: str | None) -> list[str]:
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    args += ["--ro-bind", "/proc/sys", "/proc/sys", "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"]
    for masked in MASKED_ROOTS:
        args += ["--tmpfs", str(masked)]
    rebound: list[Path] = []

    def under_mask(path: Path) -> bool:
        return any(_beneath(path, masked) for masked in MASKED_ROOTS) and not any(
            _beneath(path, done) for done in (*roots, *rebound)
        )

    if spec.network:
        resolv = Path("/etc/resolv.conf").resolve()
        if resolv.is_file() and under_mask(resolv):
            args += ["--ro-bind", str(resolv), str(resolv)]
    if Path("/run/utmp").is_file():
        args += ["--ro-bind", "/run/utmp", "/run/utmp"]
    for root in roots:
        args += ["--bind", str(root), str(root)]
    needed = [cwd, Path(sys.executable).parent, Path(sys.executable).resolve().parent, HELPER.parent]
    needed += [Path(sys.prefix), Path(sys.base_prefix)]
    package = landlock_package_dir()
    if package:
        needed.append(Path(package))
    for path in needed:
        path = path.resolve()
        if path.exists() and under_mask(path):
            args += ["--ro-bind", str(path), str(path)]
            rebound.append(path)
    confinement = spec.confinement if spec.confinement is not None else default_confinement(env_home)
    kept = [path.resolve() for path in needed if path != cwd]
    mounts = mounts_for(confinement, roots, kept, cwd, extra_hidden=spec.hidden_paths)
    # Read-only binds first: a hidden path inside a protected folder is then mounted over that bind, not under it.
    for target in mounts.read_only:
        args += ["--ro-bind", str(target), str(target)]
    for target in mounts.hidden:
        if _beneath(cwd, target):
            raise ValueError(f"the working directory is inside a path hidden from sandboxed commands: {str(target)!r}")
        if target.is_dir():
            args += ["--tmpfs", str(target), "--remount-ro", str(target)]
        elif target.exists():
            args += ["--ro-bind", "/dev/null", str(target)]
    args += ["--chdir", str(cwd)]
    return args
