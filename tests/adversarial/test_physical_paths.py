"""Secrets named through path tricks must be refused exactly like `cat SECRET`: the policy decides on the physical
path (symlinks resolved component by component before `..` is applied, `/proc/self/cwd` as the command's own
folder, `/proc/<pid>/...` of another process refused) as well as on the path as written, and the stricter wins.

Each trick is tried against three secrets (~/.pgpass, an ssh key, /etc/shadow) through three surfaces: `cat` as a
`shell.run` argv, `cat` inside `sh -c`, and a `files.read` tool call (where the tool's own reading must not return
the secret even if the policy allowed it).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakes import wait_until_named
from llmos.policies.engine import PolicyCall, PolicyEngine
from llmos.policies.impact import Impact, PathEffect
from llmos.policies.path_guard import PathGuard
from llmos.policies.profile import load_profile
from llmos.tools.files import preview_read_path, read_file

MARKER = "s3cr3t-marker"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home with ~/.pgpass, an ssh key, an ordinary project, notes and a patterns file."""
    home = tmp_path / "home"
    for folder in ("Documents", "project/sub", "deep/a/b", ".ssh/config.d", ".config/llmos", ".local/share/llmos"):
        (home / folder).mkdir(parents=True)
    (home / ".pgpass").write_text(f"db:5432:*:me:{MARKER}\n")
    (home / ".ssh/id_ed25519").write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{MARKER}\n")
    (home / "notes.txt").write_text("hello\nworld\n")
    (home / "patterns.txt").write_text("hello\n")
    (home / "project/notes.txt").write_text("hello\n")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def engine(home: Path) -> PolicyEngine:
    return PolicyEngine(load_profile("default"), home=home, uid=os.getuid(),
                        protected_paths=[home / ".config/llmos", home / ".local/share/llmos"])


def shell_verdict(engine: PolicyEngine, argv: list[str], cwd: Path) -> str:
    call = PolicyCall("shell.run", "exec", {"argv": argv}, Impact(argv=tuple(argv)), cwd=cwd)
    return engine.decide(call).verdict


def files_read_leaks(engine: PolicyEngine, word: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether a files.read call of `word` (from `cwd`) is allowed by policy and then returns the secret's text."""
    monkeypatch.chdir(cwd)
    try:
        impact = preview_read_path(word)
    except OSError:
        return False
    decision = engine.decide(PolicyCall("files.read", "read", {"path": word}, impact, cwd=cwd))
    if decision.verdict == "deny":
        return False
    try:
        result = read_file(word)
    except Exception:  # noqa: BLE001 - a refusal by the tool itself is not a leak
        return False
    return MARKER in json.dumps(result)


# -- the secrets and the tricks --------------------------------------------------------------------------------------

SECRETS: dict[str, Callable[[Path], Path]] = {
    "pgpass": lambda home: home / ".pgpass",
    "ssh-key": lambda home: home / ".ssh/id_ed25519",
    "etc-shadow": lambda home: Path("/etc/shadow"),
}


def _etc_subfolder() -> Path:
    return next(Path(entry.path) for entry in sorted(os.scandir("/etc"), key=lambda e: e.name)
                if entry.is_dir(follow_symlinks=False))


def _child_folder(home: Path, parent: Path) -> Path:
    """An existing folder directly inside `parent` (made when `parent` is in the test's home)."""
    if parent == Path("/etc"):
        return _etc_subfolder()
    child = parent / ("config.d" if parent.name == ".ssh" else "deep")
    child.mkdir(exist_ok=True)
    return child


def _relative(secret: Path, cwd: Path) -> str:
    return os.path.relpath(secret, cwd)


@pytest.fixture
def other_process(home: Path) -> Iterator[int]:
    """A process of the same user whose working folder is ~/project (as an editor or a shell would be)."""
    child = subprocess.Popen(["sleep", "60"], cwd=home / "project")
    wait_until_named(child.pid, "sleep")  # its working folder is ~/project from then on
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


# Each trick: (home, secret, other pid) -> (the word to read, the folder the request runs in).
Trick = Callable[[Path, Path, int], tuple[str, Path]]


def _through_symlinked_parent(home: Path, secret: Path, _: int) -> tuple[str, Path]:
    (home / "Documents/folder").symlink_to(secret.parent)
    return f"Documents/folder/{secret.name}", home


def _dotdot_through_symlinked_folder(home: Path, secret: Path, _: int) -> tuple[str, Path]:
    # ~/project/sub/lnk -> a folder inside the secret's folder: `sub/lnk/../NAME` is ~/project/sub/NAME as written
    # (innocent) but the secret physically.
    (home / "project/sub/lnk").symlink_to(_child_folder(home, secret.parent))
    return f"sub/lnk/../{secret.name}", home / "project"


def _innocent_symlink(home: Path, secret: Path, _: int) -> tuple[str, Path]:
    (home / "Documents/report.txt").symlink_to(secret)
    return "Documents/report.txt", home


def _symlink_to_proc_self_cwd(home: Path, secret: Path, _: int) -> tuple[str, Path]:
    (home / "project/here").symlink_to("/proc/self/cwd")
    return f"here/{_relative(secret, home / 'project')}", home / "project"


TRICKS: dict[str, Trick] = {
    "proc-self-cwd-dotdot": lambda home, secret, _: (f"/proc/self/cwd/{_relative(secret, home / 'project')}",
                                                     home / "project"),
    "proc-self-cwd-plain": lambda home, secret, _: (f"/proc/self/cwd/{secret.name}", secret.parent),
    "proc-thread-self-cwd": lambda home, secret, _: (f"/proc/thread-self/cwd/{secret.name}", secret.parent),
    "proc-self-root": lambda home, secret, _: (f"/proc/self/root{secret}", home / "project"),
    "proc-self-root-then-cwd-dotdot": lambda home, secret, _: (
        f"/proc/self/root/proc/self/cwd/{_relative(secret, home / 'project')}", home / "project"),
    "proc-pid-cwd-dotdot": lambda home, secret, pid: (f"/proc/{pid}/cwd/{_relative(secret, home / 'project')}",
                                                      home),
    "proc-pid-root": lambda home, secret, pid: (f"/proc/{pid}/root{secret}", home),
    "dev-fd-of-stdin-dotdot": lambda home, secret, _: (f"/dev/fd/0/../../cwd/{_relative(secret, home / 'project')}",
                                                       home / "project"),
    "innocent-symlink-to-secret": _innocent_symlink,
    "symlinked-parent-folder": _through_symlinked_parent,
    "dotdot-through-symlinked-folder": _dotdot_through_symlinked_folder,
    "symlink-to-proc-self-cwd": _symlink_to_proc_self_cwd,
    "double-slashes": lambda home, secret, _: ("/" + str(secret).replace("/", "//"), home),
    "proc-double-slashes": lambda home, secret, _: (f"/proc//self//cwd//{secret.name}", secret.parent),
    "tilde-plus-is-cwd": lambda home, secret, _: (f"~+/{secret.name}", secret.parent),
}


@pytest.mark.parametrize("secret_name", list(SECRETS))
@pytest.mark.parametrize("trick_name", list(TRICKS))
def test_path_trick_to_secret_is_denied_for_cat(engine: PolicyEngine, home: Path, other_process: int,
                                                trick_name: str, secret_name: str) -> None:
    """`cat WORD` (as an argv and inside `sh -c`) is denied when WORD reaches a secret through the trick."""
    secret = SECRETS[secret_name](home)
    word, cwd = TRICKS[trick_name](home, secret, other_process)
    assert shell_verdict(engine, ["cat", word], cwd) == "deny", word
    assert shell_verdict(engine, ["sh", "-c", f"cat '{word}'"], cwd) == "deny", word


@pytest.mark.parametrize("secret_name", ["pgpass", "ssh-key"])
@pytest.mark.parametrize("trick_name", list(TRICKS))
def test_path_trick_to_secret_never_leaks_through_files_read(engine: PolicyEngine, home: Path, other_process: int,
                                                             trick_name: str, secret_name: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A files.read call through the trick is denied, or what the tool then reads is not the secret."""
    secret = SECRETS[secret_name](home)
    word, cwd = TRICKS[trick_name](home, secret, other_process)
    assert not files_read_leaks(engine, word, cwd, monkeypatch), word


@pytest.mark.parametrize("trick_name", list(TRICKS))
def test_path_trick_to_secret_is_denied_for_files_read_impact(engine: PolicyEngine, home: Path, other_process: int,
                                                              trick_name: str) -> None:
    """A files.read Impact naming ~/.pgpass through the trick (the path as a tool hands it over) is denied."""
    secret = home / ".pgpass"
    word, cwd = TRICKS[trick_name](home, secret, other_process)
    if word.startswith("~+/"):
        word = str(cwd) + word[2:]
    path = Path(word) if word.startswith("/") else cwd / word
    call = PolicyCall("files.read", "read", {"path": word}, Impact(paths=(PathEffect(path, "read"),)), cwd=cwd)
    assert engine.decide(call).verdict == "deny", word


def test_tilde_user_form_of_own_home_is_home(home: Path) -> None:
    """`~NAME/.pgpass` where NAME is the user llmos runs as is ~/.pgpass: denied for known and unknown programs."""
    name = pwd.getpwuid(os.getuid()).pw_name
    engine = PolicyEngine(load_profile("default"), home=home, uid=os.getuid())
    assert shell_verdict(engine, ["cat", f"~{name}/.pgpass"], home) == "deny"
    assert shell_verdict(engine, ["sh", "-c", f"source ~{name}/.pgpass"], home) == "deny"
    assert shell_verdict(engine, ["sh", "-c", f"myprogram ~{name}/.pgpass"], home) == "deny"


def test_tilde_other_user_reaches_their_home(engine: PolicyEngine, home: Path) -> None:
    """`~root/.ssh/id_rsa` is root's ssh folder, a secret, for any program."""
    assert shell_verdict(engine, ["sh", "-c", "myprogram ~root/.ssh/id_rsa"], home) == "deny"


def test_fd_opened_on_a_secret_is_denied(engine: PolicyEngine, home: Path) -> None:
    """Reading `/dev/fd/3` after `exec 3< ~/.pgpass` (or `3<` on the same command) is denied by the open itself."""
    assert shell_verdict(engine, ["bash", "-c", "exec 3< ~/.pgpass; cat /dev/fd/3"], home) == "deny"
    assert shell_verdict(engine, ["bash", "-c", "cat /dev/fd/3 3< ~/.pgpass"], home) == "deny"
    assert shell_verdict(engine, ["bash", "-c", "cat /proc/self/fd/3 3<~/.ssh/id_ed25519"], home) == "deny"


def test_path_beneath_an_fd_is_refused(engine: PolicyEngine, home: Path) -> None:
    """`/dev/fd/3/.pgpass` (fd 3 opened on a folder) cannot be judged before it runs: refused."""
    assert shell_verdict(engine, ["bash", "-c", "exec 3< ~; cat /dev/fd/3/.pgpass"], home) == "deny"
    assert shell_verdict(engine, ["bash", "-c", "cat /proc/self/fd/3/.pgpass 3<~"], home) == "deny"


def test_other_process_magic_links_are_refused(engine: PolicyEngine, home: Path, other_process: int) -> None:
    """Paths through another process's cwd, root or fds cannot be resolved safely (it may move): refused."""
    for word in (f"/proc/{other_process}/cwd/notes.txt", f"/proc/{other_process}/root/tmp/x",
                 f"/proc/{other_process}/fd/0", f"/proc/{other_process}/task/{other_process}/cwd/notes.txt"):
        assert shell_verdict(engine, ["cat", word], home) == "deny", word


def test_proc_self_cwd_after_unknown_cd_is_refused(engine: PolicyEngine, home: Path) -> None:
    """After `cd $X` the command's own folder is unknown: `/proc/self/cwd/id_ed25519` cannot be judged."""
    assert shell_verdict(engine, ["sh", "-c", "cd $X && cat /proc/self/cwd/id_ed25519"], home) == "deny"


def test_cd_through_symlink_then_relative_read_is_judged_physically(engine: PolicyEngine, home: Path) -> None:
    """`cd lnk/.. && cat id_ed25519` where lnk -> ~/.ssh/config.d: `cd -P` lands in ~/.ssh, so it is denied."""
    (home / "lnk").symlink_to(home / ".ssh/config.d")
    assert shell_verdict(engine, ["sh", "-c", "cd lnk/.. && cat id_ed25519"], home) == "deny"
    assert shell_verdict(engine, ["sh", "-c", "cd -P lnk/.. && cat id_ed25519"], home) == "deny"


def test_symlink_inside_secret_folder_pointing_out_is_still_denied(engine: PolicyEngine, home: Path) -> None:
    """~/.ssh/out -> ~/notes.txt: reading ~/.ssh/out is denied as written, though it leads somewhere harmless."""
    (home / ".ssh/out").symlink_to(home / "notes.txt")
    assert shell_verdict(engine, ["cat", "~/.ssh/out"], home) == "deny"
    assert engine.decide(PolicyCall("files.read", "read", {}, Impact(paths=(PathEffect(home / ".ssh/out", "read"),)),
                                    cwd=home)).verdict == "deny"


def test_glob_through_innocent_symlink_to_secret_folder_is_denied(engine: PolicyEngine, home: Path) -> None:
    """`cat ~/k*/config` where ~/keys -> ~/.ssh: the glob's matches are judged physically, so it is denied."""
    (home / ".ssh/config").write_text(f"{MARKER}\n")
    (home / "keys").symlink_to(home / ".ssh")
    assert shell_verdict(engine, ["sh", "-c", "cat ~/k*/config"], home) == "deny"
    assert shell_verdict(engine, ["sh", "-c", "cat ~/d*/a/../../.pgpass"], home / "project") == "deny"


def test_nfd_spelling_of_a_secret_is_the_same_secret(home: Path) -> None:
    """A secret named in NFC is refused when the read spells it in NFD (macOS file systems treat them alike)."""
    guard = PathGuard(home=home, secrets=["~/Privé"])
    nfd = home / unicodedata.normalize("NFD", "Privé") / "passwords.txt"
    decision = guard.check(nfd, "read", cwd=home)
    assert decision is not None and decision.verdict == "deny"


# -- positive: ordinary reads stay allowed ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["cat", "notes.txt"], ["wc", "-l", "notes.txt"], ["grep", "-f", "patterns.txt", "notes.txt"],
    ["cat", "/proc/self/cwd/notes.txt"], ["cat", "./project/../notes.txt"], ["cat", "//tmp//x"],
    ["sh", "-c", "cat notes.txt | wc -l"], ["cat", "/dev/stdin"], ["cat", "/dev/fd/0"], ["cat", "/proc/self/status"],
])
def test_ordinary_reads_are_still_allowed(engine: PolicyEngine, home: Path, argv: list[str]) -> None:
    """Reading ordinary files, including through /proc/self/cwd and `..`, stays allowed."""
    assert shell_verdict(engine, argv, home) == "allow", argv


def test_ordinary_symlinked_folder_is_still_readable(engine: PolicyEngine, home: Path) -> None:
    """~/docs -> ~/Documents: reading ~/docs/../notes.txt and `cd docs && cat ../notes.txt` stay allowed."""
    (home / "Documents/a.txt").write_text("x\n")
    (home / "docs").symlink_to(home / "Documents")
    assert shell_verdict(engine, ["cat", "docs/a.txt"], home) == "allow"
    assert shell_verdict(engine, ["cat", "docs/../notes.txt"], home) == "allow"
    # `cd` itself has no allow rule in the default profile (asked), so only "not denied" is pinned here.
    assert shell_verdict(engine, ["sh", "-c", "cd docs && cat ../notes.txt"], home) == "ask"
    assert shell_verdict(engine, ["sh", "-c", "cd project && cat ../notes.txt"], home) == "ask"
