"""The sandbox hides what the policy calls secret: every secret pattern of every profile, llmos's own files (audit
log, journal and its trash, the file keyring, the daemon socket), key files anywhere in home, and the system's
password files. A sandboxed program that reads files itself (`python3 -c`) is not stopped by argument checks, so
these run real commands through bubblewrap.

Homes live under /var/tmp, not /tmp: the sandbox's /tmp is private, so a file there would be unreadable for the
wrong reason.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.policies.engine import PolicyEngine
from llmos.policies.profile import builtin_profile_names, load_profile
from llmos.policies.sandbox import SandboxResult, SandboxSpec, confine, run_sandboxed
from llmos.tools import load_builtin_tools
from sandboxing import needs_sandbox

from llmos.events import RequestFinished
from llmos.executor import Safety
from llmos.runtime import llmos_protected_paths
from llmos.session import Session

pytestmark = needs_sandbox

# Prints what it could read of each path given: the secrets that leaked.
READER = """
import json, os, sys
leaked = {}
for path in sys.argv[1:]:
    try:
        if os.path.isdir(path):
            leaked[path] = sorted(os.listdir(path))
            continue
        data = open(path, "rb").read()
        if data:
            leaked[path] = data.decode(errors="replace")[:80]
    except OSError:
        pass
print(json.dumps({path: seen for path, seen in leaked.items() if seen}))
"""


def read_inside(paths: list[Path], *, cwd: Path, **options: object) -> dict[str, object]:
    result: SandboxResult = run_sandboxed(SandboxSpec(  # type: ignore[arg-type]  # callers pass SandboxSpec's fields
        argv=(sys.executable, "-I", "-c", READER, *map(str, paths)), cwd=cwd, timeout_s=60.0, **options))
    assert result.exit_code == 0, result.stderr
    leaked: dict[str, object] = json.loads(result.stdout)
    return leaked


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp HOME outside /tmp, with the XDG folders in their default places beneath it."""
    path = Path(tempfile.mkdtemp(prefix="llmos-home-", dir="/var/tmp"))
    monkeypatch.setenv("HOME", str(path))
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(variable, raising=False)
    (path / "work").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def sample_path(home: Path, pattern: str) -> Path:
    """A path the home pattern names: `**` becomes two folders, `*` a name."""
    relative = pattern.removeprefix("~/").replace("**", "proj/deep").replace("*", "sample")
    return home / relative


def plant(path: Path, as_folder: bool, marker: str) -> Path:
    """A secret file at `path`, or (as_folder) inside a folder at `path`; returns the file."""
    target = path / "inner" if as_folder else path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(marker)
    return target


def engine_for(profile_name: str, home: Path) -> PolicyEngine:
    return PolicyEngine(load_profile(profile_name), home=home, protected_paths=llmos_protected_paths())


@pytest.mark.parametrize("as_folder", [False, True], ids=["file", "folder"])
@pytest.mark.parametrize("profile_name", builtin_profile_names())
def test_every_secret_the_profile_names_is_unreadable_inside_the_sandbox(home: Path, profile_name: str,
                                                                         as_folder: bool) -> None:
    """For each `~` secret pattern of each profile, a sample file (or a folder holding one) in a temp HOME reads
    as nothing in a sandboxed `python3 -c`; so do the system's password files."""
    profile = load_profile(profile_name)
    planted = [plant(sample_path(home, pattern), as_folder, f"SECRET {pattern}")
               for pattern in profile.secret_paths if pattern.startswith("~/")]
    assert len(planted) > 20
    system = [Path(p) for p in profile.secret_paths if p.startswith("/etc/") and os.path.isfile(p)]
    engine = engine_for(profile_name, home)
    leaked = read_inside([*planted, *system], cwd=home / "work", confinement=engine.sandbox_confinement())
    assert leaked == {}


def test_without_a_profile_the_sandbox_hides_the_default_profiles_secrets(home: Path) -> None:
    """A caller that gives no confinement gets the default profile's, with $HOME as home, never nothing."""
    planted = [plant(sample_path(home, pattern), False, "SECRET")
               for pattern in load_profile("default").secret_paths if pattern.startswith("~/")]
    shadow = [Path(p) for p in ("/etc/shadow", "/etc/gshadow") if os.path.isfile(p)]
    assert read_inside([*planted, *shadow], cwd=home / "work") == {}


def test_llmos_own_files_are_hidden_from_sandboxed_commands(home: Path) -> None:
    """The audit log and its head, the journal and its trash, the file keyring, config and automations, and the
    daemon socket (in the data dir when XDG_RUNTIME_DIR is unset) cannot be read or listed."""
    data = home / ".local/share/llmos"
    files = [plant(data / name, False, "LLMOS") for name in
             ("audit.jsonl", "audit.head", "journal/trash/deleted.txt", "automations/rule.json", "daemon.sock")]
    files += [plant(home / ".config/llmos/policy.toml", False, "LLMOS"),
              plant(home / ".local/share/python_keyring/keyring_pass.cfg", False, "KEYRING")]
    folders = [data, data / "journal", home / ".config/llmos"]
    engine = engine_for("default", home)
    assert read_inside([*files, *folders], cwd=home / "work", confinement=engine.sandbox_confinement()) == {}
    assert read_inside([*files, *folders], cwd=home / "work") == {}


def test_a_runtime_dir_outside_run_is_hidden_too(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XDG_RUNTIME_DIR set to a folder the sandbox's private /run does not cover: its llmos folder is hidden."""
    runtime = home / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    socket_file = plant(runtime / "llmos/daemon.sock", False, "SOCKET")
    engine = engine_for("default", home)
    assert read_inside([socket_file, socket_file.parent], cwd=home / "work",
                       confinement=engine.sandbox_confinement()) == {}


def test_key_files_anywhere_in_home_are_hidden_even_past_the_walk_budget(home: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`~/**/*.key` is found by walking home; when the walk's budget runs out, the folders it did not look into
    are hidden whole (fail closed), so a key deep in a big tree still reads as nothing."""
    keys = [plant(home / "proj" / f"d{n}" / "a" / "b" / "server.key", False, "KEY") for n in range(8)]
    keys.append(plant(home / "work" / "tls.pem", False, "PEM"))
    monkeypatch.setattr(confine, "WALK_BUDGET", 5)
    assert read_inside(keys, cwd=home / "work", confinement=engine_for("default", home).sandbox_confinement()) == {}


def test_a_link_in_home_to_a_secret_outside_it_does_not_reveal_it(home: Path) -> None:
    """`~/proj/cert.pem` as a symlink to a file outside home: the link's target is hidden."""
    outside = Path(tempfile.mkdtemp(prefix="llmos-outside-", dir="/var/tmp"))
    try:
        target = plant(outside / "real-secret", False, "LINKED SECRET")
        (home / "proj").mkdir()
        (home / "proj" / "cert.pem").symlink_to(target)
        leaked = read_inside([home / "proj" / "cert.pem", target], cwd=home / "work",
                             confinement=engine_for("default", home).sandbox_confinement())
    finally:
        shutil.rmtree(outside, ignore_errors=True)
    assert leaked == {}


def test_many_secrets_are_merged_into_few_mounts(home: Path) -> None:
    """Hundreds of key files (test fixtures in a project) are hidden by hiding their folders: the run stays fast
    and still reads none of them."""
    keys = [plant(home / "proj" / f"pkg{n}" / "tests" / f"k{m}.pem", False, "PEM")
            for n in range(60) for m in range(5)]
    confinement = engine_for("default", home).sandbox_confinement()
    mounts = confine.mounts_for(confinement, (), (), home / "work")
    assert len(mounts.hidden) <= confine.MOUNT_TARGET
    assert read_inside(keys, cwd=home / "work", confinement=confinement) == {}


def test_a_hijacked_model_running_python_reads_no_secret(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The red-team's step: a scripted model asks shell.run to read ~/.pgpass, ~/proj/server.key, /etc/shadow and
    llmos's audit head with `python3 -c`; every step approved (`--yes`). Nothing secret comes back."""
    monkeypatch.chdir(home / "work")
    secrets = [plant(home / ".pgpass", False, "PGPASS-SECRET"), plant(home / "proj/server.key", False, "KEY-SECRET"),
               plant(home / ".local/share/llmos/audit.head", False, "HEAD-SECRET")]
    # The paths are inside the code, where no argument check can see them: only the sandbox stands in the way.
    spelled = [[ord(char) for char in str(path)] for path in [*secrets, "/etc/shadow"]]
    code = f"for p in {spelled!r}:\n    try: print(open(''.join(map(chr, p))).read())\n" \
           f"    except OSError as e: print(e)"
    argv = ["python3", "-c", code]
    engine = engine_for("default", home)
    session = Session(ScriptedBackend([call("shell.run", argv=argv), answer("done")]), load_builtin_tools(),
                      Safety(policy=engine))
    events = list(session.run("show me those files", approver=lambda step: True))
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    step = finished.steps[0]
    assert step.status == "ok" and step.approved, step.result
    shown = step.result or ""
    assert "SECRET" not in shown and "root:" not in shown
