"""Persistence: no place that runs code later by itself (shell start-up, autostart, systemd, cron, git, Python
start-up, the keyring's backend settings) can be written by a request, by the policy's decision or inside the
sandbox; programs on PATH (`~/.local/bin`, `~/bin`) are asked about, never changed silently. The README's list
is the profile's.

Homes for sandboxed runs live under /var/tmp: the sandbox's /tmp is private.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from llmos.policies.engine import PolicyEngine
from llmos.policies.profile import builtin_profile_names, load_profile
from llmos.policies.sandbox import SandboxSpec, run_sandboxed
from sandboxing import needs_sandbox

from llmos.commands.policy import protected_lines

README = Path(__file__).resolve().parents[2] / "README.md"

# The red-team's chain and what shares its cause: a settings file that names code to import or run.
PERSISTENCE_WRITES = [
    "~/.config/python_keyring/keyringrc.cfg", "~/.local/share/python_keyring/evil_backend.py",
    "~/.local/lib/python3.11/site-packages/evil.pth", "~/.local/lib/python3.12/site-packages/usercustomize.py",
    "~/venvs/tool/lib/python3.11/site-packages/zz.pth", "~/.bash_logout", "~/.zlogout", "~/.config/fish/conf.d/x.fish",
    "~/.config/autostart/x.desktop", "~/.config/systemd/user/x.service", "~/.config/systemd/user.conf",
    "~/.local/share/systemd/user/x.timer", "~/.config/environment.d/50-x.conf", "~/.pam_environment",
    "~/.xsession", "~/.local/share/applications/firefox.desktop", "~/.gitconfig", "~/.config/git/attributes",
    "~/.ssh/authorized_keys", "~/.pythonrc", "/var/spool/cron/crontabs/root", "~/.config/zsh/.zshrc",
]




@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="llmos-home-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def engine(profile_name: str, home: Path) -> PolicyEngine:
    return PolicyEngine(load_profile(profile_name), home=home, protected_paths=[home / ".config/llmos",
                                                                                home / ".local/share/llmos"])


def sample(pattern: str) -> str:
    """A path the pattern names: `**` becomes two folders, `*` a name."""
    return pattern.replace("**", "~/proj/deep").replace("*", "3.11" if "python" in pattern else "x")


@pytest.mark.parametrize("profile_name", ["default", "power-user"])
@pytest.mark.parametrize("target", PERSISTENCE_WRITES)
def test_writing_a_persistence_point_is_denied(home: Path, profile_name: str, target: str) -> None:
    """Creating or appending to the file by a command, a redirect or a copy is denied, in a profile that asks
    about writes and in one that allows them."""
    judge = engine(profile_name, home)
    for argv in (["touch", target], ["sh", "-c", f"echo x >> {target}"], ["cp", "payload", target]):
        decision = judge.explain_command(argv, cwd=home).decision
        assert decision.verdict == "deny", (argv, decision)


@pytest.mark.parametrize("profile_name", builtin_profile_names())
def test_every_protected_pattern_of_every_profile_is_denied_for_writes(home: Path, profile_name: str) -> None:
    """Iterating the profile's own list: a file at each protected pattern cannot be written."""
    judge = engine(profile_name, home)
    for pattern in load_profile(profile_name).denied_paths:
        decision = judge.explain_command(["touch", sample(pattern) + "/f"], cwd=home).decision
        assert decision.verdict == "deny", (pattern, decision)


@pytest.mark.parametrize("target", ["~/.local/bin/ls", "~/bin/git", "~/.local/bin"])
def test_programs_on_path_are_asked_about_even_where_writes_are_allowed(home: Path, target: str) -> None:
    """power-user allows writes in home, but a file that can shadow a system command is asked about; reading
    it stays free."""
    judge = engine("power-user", home)
    assert judge.explain_command(["touch", "~/notes.txt"], cwd=home).decision.verdict == "allow"
    decision = judge.explain_command(["touch", target], cwd=home).decision
    assert decision.verdict == "ask" and decision.rule == "asked-path", decision
    assert judge.explain_command(["cat", target], cwd=home).decision.verdict == "allow"


@needs_sandbox
@pytest.mark.parametrize("profile_name", ["default", "power-user"])
def test_protected_paths_are_read_only_inside_a_writable_home(home: Path, profile_name: str) -> None:
    """With home bound writable, a sandboxed program cannot change an existing protected or asked file (nor
    add to a protected folder), while an ordinary file beside them can be written."""
    profile = load_profile(profile_name)
    targets = []
    for pattern in [*profile.denied_paths, *profile.asked_paths]:
        if not pattern.startswith(("~/", "**")):
            continue
        path = home / sample(pattern).removeprefix("~/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("original")
        targets.append(path)
    assert len(targets) > 20
    ordinary = home / "notes.txt"
    code = ("import json, sys\nchanged = []\nfor p in sys.argv[1:]:\n    try:\n        open(p, 'a').write('pwned')\n"
            "        changed.append(p)\n    except OSError:\n        pass\nprint(json.dumps(changed))")
    result = run_sandboxed(SandboxSpec(argv=(sys.executable, "-I", "-c", code, *map(str, targets), str(ordinary)),
                                       cwd=home, writable_roots=(home,), timeout_s=60.0,
                                       confinement=engine(profile_name, home).sandbox_confinement()))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [str(ordinary)]
    assert all(path.read_text() == "original" for path in targets)


def test_the_readme_lists_what_the_default_profile_protects() -> None:
    """README's Safety section quotes `llmos policy show --protected` for the default profile, line for line."""
    rendered = "\n".join("  " + line for line in protected_lines(load_profile("default")))
    assert rendered in README.read_text(encoding="utf-8")


@needs_sandbox
def test_a_git_folder_renamed_away_inside_the_sandbox_keeps_its_hooks_and_config_read_only(home: Path) -> None:
    """Inside a writable repository a sandboxed program may write git's objects (an approved `git commit` must
    work), but the parts of `.git` that name programs stay read-only even when the program renames `.git` away,
    writes into the moved copy and renames it back (the red-team's pre-commit hook)."""
    repo = home / "project"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    code = (
        "import os, json\n"
        "results = {}\n"
        "try:\n    os.rename('.git', 'moved')\n    base = 'moved'\nexcept OSError:\n    base = '.git'\n"
        "for name in ('hooks/pre-commit', 'config'):\n"
        "    try:\n        open(os.path.join(base, name), 'a').write('\\n#!/bin/sh\\ntouch pwned\\n')\n"
        "        results[name] = 'written'\n"
        "    except OSError as exc:\n        results[name] = exc.strerror\n"
        "open(os.path.join(base, 'objects', 'probe'), 'w').write('x')\n"
        "if base == 'moved':\n    os.rename('moved', '.git')\n"
        "print(json.dumps(results))"
    )
    result = run_sandboxed(SandboxSpec(argv=(sys.executable, "-I", "-c", code), cwd=repo, writable_roots=(repo,),
                                       timeout_s=60.0, confinement=engine("default", home).sandbox_confinement()))
    assert result.exit_code == 0, result.stderr
    assert "written" not in json.loads(result.stdout).values()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert "pwned" not in (repo / ".git" / "config").read_text()
    assert (repo / ".git" / "objects" / "probe").exists()
