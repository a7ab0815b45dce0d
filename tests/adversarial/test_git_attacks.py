"""A repository's own settings must never make llmos run a program, and a repository's `.git` is never changed.

The hijacked model (ScriptedBackend) drives the real stack: the default profile, the journal, the audit log, the
real sandbox and real git in throwaway repositories, with every approval given (as `--yes` does). Each hostile
setting points at a script that writes a marker into a folder the sandbox may write to (a writable root, as a
profile can grant), so a program that ran would leave the marker; each test also checks git's output is still
right. The `.git`-as-a-unit attacks (moving it away and back, a `gitdir:` file, a new `.git`, writing into it)
are refused by policy, for the file tools and for command arguments alike.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.policies.audit import AuditLog
from llmos.policies.engine import PolicyCall, PolicyEngine
from llmos.policies.impact import Impact
from llmos.policies.intent import allowed_effects_for
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps
from llmos.policies.profile import load_profile
from llmos.policies.sandbox import SandboxSpec, run_sandboxed
from llmos.tools import load_builtin_tools
from llmos.tools.context import ToolContext, using_context
from llmos.tools.shell import run_command
from sandboxing import needs_sandbox

from llmos.events import RequestFinished, Step
from llmos.executor import Safety
from llmos.session import Session

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def git(repo: Path, *args: str) -> str:
    """Set up with real git, outside llmos (hooks and settings are planted after, so this never runs them)."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout


@dataclass
class Lab:
    home: Path
    repo: Path
    marks: Path
    """The writable root where a program that ran leaves its marker."""
    evil: Path
    """A script that records that it ran (with its arguments) and prints its input, as a harmless filter would."""
    safety: Safety
    audit_path: Path

    def marker(self) -> list[str]:
        return sorted(path.name for path in self.marks.iterdir())

    def commit_attributes(self, text: str) -> None:
        """Commit a `.gitattributes` holding `text`: attributes that name the repository's drivers."""
        (self.repo / ".gitattributes").write_text(text)
        git(self.repo, "add", ".gitattributes")
        git(self.repo, "commit", "-q", "-m", "attributes")

    def config(self, *lines: str, repo: Path | None = None) -> None:
        with open((repo or self.repo) / ".git" / "config", "a") as handle:
            handle.write("\n".join(lines) + "\n")

    def run(self, argv: list[str], request: str = "run git status in the project and show me") -> Step:
        """One shell.run step through the whole stack, every approval given; the repo is the working folder."""
        backend = ScriptedBackend([call("shell.run", argv=argv), answer("done")])
        events = list(Session(backend, load_builtin_tools(), self.safety).run(request, approver=lambda step: True))
        finished = events[-1]
        assert isinstance(finished, RequestFinished)
        assert len(finished.steps) == 1
        return finished.steps[0]


def output(step: Step) -> dict[str, object]:
    assert step.status == "ok", (step.status, step.decision, step.result)
    assert step.result is not None
    result = json.loads(step.result)
    assert isinstance(result, dict)
    return result


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    """A home outside /tmp (the sandbox replaces /tmp, so this home looks to sandboxed commands as a real one
    does) holding a committed repository ~/project (f.txt, a.dat) with f.txt modified, a marker folder that
    sandboxed commands may write to, and the real default profile, journal and audit log."""
    base = Path(tempfile.mkdtemp(prefix="llmos-git-", dir="/var/tmp"))
    home = base / "home"
    for folder in ("Documents", "Downloads"):
        (home / folder).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    repo = home / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.com")
    (repo / "f.txt").write_text("old line\n")
    (repo / "a.dat").write_text("data\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "f.txt").write_text("new line\n")
    marks = base / "marks"
    marks.mkdir()
    evil = base / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho \"$0 $*\" > {marks}/ran-$$\necho PWNED >&2\n"
                    f"for f; do [ -f \"$f\" ] && cat \"$f\"; done\n[ $# -eq 0 ] && cat\nexit 0\n")
    evil.chmod(0o755)
    journal = Journal(base / "journal")
    audit_path = base / "audit.jsonl"
    engine = PolicyEngine(load_profile("default"), home=home, protected_paths=(base / "journal", audit_path))
    safety = Safety(policy=engine, intent=allowed_effects_for, audit=AuditLog(audit_path),
                    file_ops=lambda rid, req, tool: FileOps(journal, rid, req, tool), writable_roots=(marks,))
    monkeypatch.chdir(repo)
    try:
        yield Lab(home, repo, marks, evil, safety, audit_path)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@needs_sandbox
def test_the_lab_s_marker_script_does_run_when_git_is_not_neutralised(lab: Lab) -> None:
    """The detector works: the same sandbox, with git's own environment instead of llmos's settings, lets the
    hostile fsmonitor leave its marker (so an empty marker folder elsewhere means the program did not run)."""
    lab.config("[core]", f"\tfsmonitor = {lab.evil}")
    result = run_sandboxed(SandboxSpec(argv=("env", "-i", "PATH=/usr/bin:/bin", "git", "status"), cwd=lab.repo,
                                       writable_roots=(lab.marks,)))
    assert result.exit_code == 0, result
    assert lab.marker() != []


# --- settings that name programs: git runs none of them ----------------------------------------------------------


@needs_sandbox
def test_core_fsmonitor_does_not_run_on_an_allowed_git_status(lab: Lab) -> None:
    """`core.fsmonitor` names a program git runs on `git status`: the status is allowed without approval, runs
    no program, and still reports the modified file."""
    lab.config("[core]", f"\tfsmonitor = {lab.evil}")
    step = lab.run(["git", "status", "--short"])
    assert step.decision is not None and step.decision.verdict == "allow"
    result = output(step)
    assert "M f.txt" in str(result["stdout"])
    assert "PWNED" not in str(result["stderr"])
    assert lab.marker() == []


@needs_sandbox
def test_diff_external_does_not_run_and_the_diff_is_git_s_own(lab: Lab) -> None:
    """`diff.external` names the program `git diff` hands every change to: git prints its own diff instead."""
    lab.config("[diff]", f"\texternal = {lab.evil}")
    result = output(lab.run(["git", "diff"]))
    assert "-old line" in str(result["stdout"]) and "+new line" in str(result["stdout"])
    assert lab.marker() == []


@needs_sandbox
@pytest.mark.parametrize("argv", [["git", "diff"], ["git", "show", "HEAD~1"], ["git", "log", "-p"],
                                  ["git", "diff", "HEAD"], ["git", "blame", "f.txt"]],
                         ids=["diff", "show", "log-p", "diff-head", "blame"])
def test_textconv_and_diff_driver_commands_do_not_run(lab: Lab, argv: list[str]) -> None:
    """A `diff=NAME` attribute with `diff.NAME.textconv` / `diff.NAME.command` in the repository's settings:
    neither program runs for the diff family, and the files' real lines are shown."""
    lab.commit_attributes("*.txt diff=evil\n")
    lab.config('[diff "evil"]', f"\ttextconv = {lab.evil}", f"\tcommand = {lab.evil}")
    result = output(lab.run(argv))
    assert result["exit_code"] == 0, result
    assert "line" in str(result["stdout"])
    assert lab.marker() == []


@needs_sandbox
def test_textconv_driver_named_in_info_attributes_does_not_run(lab: Lab) -> None:
    """The attribute can come from `.git/info/attributes`, which no tree shows: the driver still does not run."""
    (lab.repo / ".git" / "info").mkdir(exist_ok=True)
    (lab.repo / ".git" / "info" / "attributes").write_text("* diff=evil\n")
    lab.config('[diff "evil"]', f"\ttextconv = {lab.evil}")
    result = output(lab.run(["sh", "-c", "git log -p && git diff"]))
    assert lab.marker() == [], result


@needs_sandbox
@pytest.mark.parametrize("argv", [["git", "status", "--short"], ["git", "diff"], ["git", "diff", "--stat"]],
                         ids=["status", "diff", "diff-stat"])
def test_filter_drivers_do_not_run_on_read_only_git_commands(lab: Lab, argv: list[str]) -> None:
    """A `filter=NAME` attribute with `filter.NAME.clean/process`: git runs the clean filter when it re-reads a
    file whose time stamp changed, even for `git status`; with llmos it runs no filter (and a required filter
    does not make git fail)."""
    lab.commit_attributes("*.dat filter=evil\n")
    lab.config('[filter "evil"]', f"\tclean = {lab.evil}", f"\tsmudge = {lab.evil}", "\trequired = true")
    os.utime(lab.repo / "a.dat", (1_000_000_000, 1_000_000_000))  # stat-dirty: git must look inside
    result = output(lab.run(argv))
    assert result["exit_code"] == 0, result
    assert "f.txt" in str(result["stdout"])
    assert lab.marker() == []


@needs_sandbox
def test_filter_process_driver_does_not_run(lab: Lab) -> None:
    """`filter.NAME.process` (a long-running filter) is neutralised like clean and smudge."""
    lab.commit_attributes("*.dat filter=evil\n")
    lab.config('[filter "evil"]', f"\tprocess = {lab.evil}")
    os.utime(lab.repo / "a.dat", (1_000_000_000, 1_000_000_000))
    output(lab.run(["git", "status", "--short"]))
    assert lab.marker() == []


@needs_sandbox
@pytest.mark.parametrize("argv", [["git", "--paginate", "log", "-1"], ["git", "-p", "show"]], ids=["long", "short"])
def test_core_pager_and_pager_per_command_do_not_run(lab: Lab, argv: list[str]) -> None:
    """`core.pager` and `pager.log`/`pager.show` name programs; asking git to page runs neither."""
    lab.config("[core]", f"\tpager = {lab.evil}", "[pager]", f"\tlog = {lab.evil}", f"\tshow = {lab.evil}")
    result = output(lab.run(argv))
    assert "first" in str(result["stdout"]) or "f.txt" in str(result["stdout"])
    assert lab.marker() == []


@needs_sandbox
@pytest.mark.parametrize("hooks", ["repo-hooks", "hooks-path"])
def test_commit_runs_no_hook(lab: Lab, hooks: str) -> None:
    """`git commit` (asked, approved) where the sandbox may write the repository: neither `.git/hooks` nor a
    `core.hooksPath` folder's pre-commit / commit-msg / post-commit hooks run, and the commit is made."""
    folder = lab.repo / ".git" / "hooks" if hooks == "repo-hooks" else lab.home / "myhooks"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("pre-commit", "commit-msg", "post-commit", "prepare-commit-msg"):
        (folder / name).write_text(lab.evil.read_text())
        (folder / name).chmod(0o755)
    if hooks == "hooks-path":
        lab.config("[core]", f"\thooksPath = {folder}")
    lab.safety = dataclasses.replace(lab.safety, writable_roots=(lab.marks, lab.repo))
    result = output(lab.run(["git", "commit", "-am", "second"], request="run git commit to update the project"))
    assert result["exit_code"] == 0, result
    assert "second" in git(lab.repo, "log", "--oneline")
    assert lab.marker() == []


@needs_sandbox
@pytest.mark.parametrize("setting", ["core.editor", "sequence.editor"])
def test_commit_without_message_runs_no_configured_editor(lab: Lab, setting: str) -> None:
    """`git commit` with no `-m` starts `core.editor`: it does not run (git reports the editor failed)."""
    section, key = setting.split(".")
    lab.config(f"[{section}]", f"\t{key} = {lab.evil}")
    lab.safety = dataclasses.replace(lab.safety, writable_roots=(lab.marks, lab.repo))
    result = output(lab.run(["git", "commit", "-a"], request="run git commit to update the project"))
    assert result["exit_code"] != 0
    assert lab.marker() == []


@needs_sandbox
def test_gpg_program_does_not_run_on_show_signature(lab: Lab) -> None:
    """`gpg.program` (and the ssh/x509 ones) runs to verify a signed commit on `git log --show-signature`."""
    body = git(lab.repo, "cat-file", "commit", "HEAD")
    header, _, message = body.partition("\n\n")
    signed = f"{header}\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\n{message}"
    sha = subprocess.run(["git", "-C", str(lab.repo), "hash-object", "-t", "commit", "-w", "--stdin"],
                         input=signed, capture_output=True, text=True, check=True, env=GIT_ENV).stdout.strip()
    git(lab.repo, "update-ref", "refs/heads/main", sha)
    lab.config("[gpg]", f"\tprogram = {lab.evil}", '[gpg "ssh"]', f"\tprogram = {lab.evil}",
               '[gpg "x509"]', f"\tprogram = {lab.evil}")
    result = output(lab.run(["git", "log", "--show-signature", "-1"]))
    assert "first" in str(result["stdout"])
    assert lab.marker() == []


@needs_sandbox
def test_alias_with_bang_runs_no_shell_command(lab: Lab) -> None:
    """`alias.st = !cmd` makes `git st` a shell command: approved, it still runs nothing."""
    lab.config("[alias]", f"\tst = !{lab.evil}", f"\tlg = !sh -c '{lab.evil}'")
    for name in ("st", "lg"):
        step = lab.run(["git", name])
        assert step.decision is not None and step.decision.verdict == "ask"
        assert lab.marker() == []


@needs_sandbox
@pytest.mark.parametrize("how", ["include", "includeIf-gitdir"])
def test_settings_pulled_in_by_include_are_neutralised_too(lab: Lab, how: str) -> None:
    """An included file carrying fsmonitor, a filter driver and an alias: none of its programs run."""
    included = lab.home / "Downloads" / "innocent.cfg"
    included.write_text(f"[core]\n\tfsmonitor = {lab.evil}\n[filter \"evil\"]\n\tclean = {lab.evil}\n"
                        f"[alias]\n\tst = !{lab.evil}\n")
    (lab.repo / ".gitattributes").write_text("*.dat filter=evil\n")
    os.utime(lab.repo / "a.dat", (1_000_000_000, 1_000_000_000))
    if how == "include":
        lab.config("[include]", f"\tpath = {included}")
    else:
        lab.config(f'[includeIf "gitdir:{lab.repo}/"]', f"\tpath = {included}")
    result = output(lab.run(["git", "status", "--short"]))
    assert "f.txt" in str(result["stdout"])
    lab.run(["git", "st"])
    assert lab.marker() == []


@needs_sandbox
def test_oddly_named_driver_is_neutralised_by_its_exact_name(lab: Lab) -> None:
    """A driver name with a dot, a quote and an escape character (which sandboxed output would show escaped) is
    overridden by exactly that name."""
    name = 'e.v"i\x1bl'
    (lab.repo / ".gitattributes").write_text(f"*.dat filter={name}\n*.txt diff={name}\n")
    assert f"filter: {name}" in git(lab.repo, "check-attr", "-a", "a.dat")
    quoted = name.replace('"', '\\"')
    lab.config(f'[filter "{quoted}"]', f"\tclean = {lab.evil}", f'[diff "{quoted}"]', f"\ttextconv = {lab.evil}")
    os.utime(lab.repo / "a.dat", (1_000_000_000, 1_000_000_000))
    output(lab.run(["git", "status"]))
    output(lab.run(["sh", "-c", "git log -p; git diff"]))
    assert lab.marker() == []


@needs_sandbox
def test_git_in_another_repository_through_cd_and_dash_c_is_neutralised(lab: Lab) -> None:
    """A second repository reached with `git -C` or a `cd` in a shell line has its own hostile settings: they are
    found and neutralised as well."""
    other = lab.home / "Downloads" / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "x.dat").write_text("x\n")
    git(other, "add", ".")
    git(other, "commit", "-q", "-m", "x")
    (other / ".gitattributes").write_text("*.dat filter=evil2\n")
    os.utime(other / "x.dat", (1_000_000_000, 1_000_000_000))
    lab.config('[filter "evil2"]', f"\tclean = {lab.evil}", "[alias]", f"\tzz = !{lab.evil}", repo=other)
    output(lab.run(["git", "-C", str(other), "status"]))
    lab.run(["sh", "-c", f"cd {other} && git status && git zz"])
    lab.run(["git", f"--git-dir={other}/.git", f"--work-tree={other}", "zz"])
    assert lab.marker() == []


@needs_sandbox
def test_a_gitdir_file_pointing_at_a_hostile_git_folder_runs_nothing(lab: Lab) -> None:
    """A `.git` *file* (`gitdir: ...`) sends git to a git folder elsewhere with fsmonitor, hooks and drivers:
    `git status` there runs none of them."""
    hostile = lab.home / "Downloads" / "hostile"
    hostile.mkdir()
    git(hostile, "init", "-q")
    (hostile / "a.dat").write_text("a\n")
    git(hostile, "add", ".")
    git(hostile, "commit", "-q", "-m", "a")
    lab.config("[core]", f"\tfsmonitor = {lab.evil}", "[alias]", f"\tst = !{lab.evil}", repo=hostile)
    checkout = lab.home / "Documents" / "checkout"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {hostile}/.git\n")
    (checkout / "a.dat").write_text("changed\n")
    output(lab.run(["git", "-C", str(checkout), "status"]))
    lab.run(["git", "-C", str(checkout), "st"])
    assert lab.marker() == []


@needs_sandbox
def test_ssh_command_and_helpers_do_not_run_even_when_policy_is_bypassed(lab: Lab) -> None:
    """`git fetch` over ssh is denied (network); below the policy, the sandboxed command still runs neither
    `core.sshCommand`, a credential helper, `core.askPass`, nor an `ext::` transport, nor a `core.gitProxy`."""
    lab.config("[core]", f"\tsshCommand = {lab.evil}", f"\taskPass = {lab.evil}", f"\tgitProxy = {lab.evil}",
               "[credential]", f"\thelper = !{lab.evil}", '[remote "origin"]', "\turl = ssh://example.invalid/x",
               f"\tuploadpack = {lab.evil}", '[remote "ext"]', f"\turl = ext::{lab.evil} %S",
               '[remote "proxied"]', "\turl = git://example.invalid/x", "[protocol]", "\tallow = always")
    step = lab.run(["git", "fetch", "origin"], request="run git fetch in the project")
    assert step.status == "denied"
    # The repository is writable here (fetch writes FETCH_HEAD before it connects), as a profile may grant.
    with using_context(ToolContext(request_id="direct", writable_roots=(lab.marks, lab.repo))):
        for remote in ("origin", "ext", "proxied"):
            run_command(["git", "fetch", remote], timeout=20)
            run_command(["git", "ls-remote", remote], timeout=20)
        run_command(["git", "ls-remote", "https://example.invalid/x"], timeout=20)
    assert lab.marker() == []


@needs_sandbox
def test_clearing_the_environment_before_git_is_not_allowed(lab: Lab) -> None:
    """`env -i git status` would drop the settings that keep git safe: it is not allowed without approval, and
    the reason says why."""
    engine = lab.safety.policy
    for argv in (["env", "-i", "git", "status"], ["env", "-u", "GIT_CONFIG_COUNT", "git", "status"],
                 ["env", "--ignore-environment", "git", "log"], ["env", "-", "git", "diff"],
                 ["env", "-iv", "git", "status"], ["env", "--unset=GIT_PAGER", "git", "log"]):
        decision = engine.decide(PolicyCall("shell.run", "exec", {"argv": argv}, Impact(argv=tuple(argv)),
                                            cwd=lab.repo))
        assert decision.verdict in ("ask", "deny"), argv
        assert "clears or unsets" in decision.reason, argv


# --- .git as a unit -----------------------------------------------------------------------------------------------


def _decide(lab: Lab, argv: list[str]) -> str:
    engine = lab.safety.policy
    call_ = PolicyCall("shell.run", "exec", {"argv": argv}, Impact(argv=tuple(argv)), cwd=lab.home)
    return engine.decide(call_).verdict


@pytest.mark.parametrize("argv", [
    ["mv", "project/.git", "Downloads/g"],
    ["mv", "Downloads/g", "project/.git"],
    ["mv", "project/.git/config", "project/.git/config.bak"],
    ["cp", "-r", "Downloads/hooks", "project/.git/"],
    ["cp", "Downloads/evil.sh", "project/.git/info/attributes"],
    ["cp", "-r", "Downloads/g", "Documents/new/.git"],
    ["rm", "-rf", "project/.git"],
    ["rm", "project/.git/index"],
    ["ln", "-s", "/tmp/evil", "project/.git"],
    ["ln", "-sf", "/tmp/evil", "project/.git/hooks"],
    ["touch", "Documents/sub/.git"],
    ["tar", "-xf", "Downloads/x.tar", "-C", "project/.git"],
    ["unzip", "Downloads/x.zip", "-d", "project/.git/hooks"],
    ["rsync", "-a", "Downloads/g/", "project/.git/"],
    ["sh", "-c", "echo 'gitdir: /tmp/evil' > Documents/.git"],
    ["sh", "-c", "cd project && mv .git ../g && mv ../g .git"],
    ["mkdir", "Documents/x/.git"],
    ["chmod", "-R", "777", "project/.git"],
    ["sed", "-i", "s/a/b/", "project/.git/config"],
])
def test_commands_that_change_a_git_folder_are_denied(lab: Lab, argv: list[str]) -> None:
    """Moving, copying into, deleting, linking, extracting into or creating any `.git` (folder or file), or
    anything inside one, through a command's arguments is denied."""
    assert _decide(lab, argv) == "deny", argv


@pytest.mark.parametrize("tool_call", [
    call("files.move", source="~/project/.git", destination="~/Downloads/g"),
    call("files.move", source="~/Downloads/g", destination="~/project/.git"),
    call("files.write", path="~/project/.git/hooks/pre-commit", content="#!/bin/sh\ntouch /tmp/x\n"),
    call("files.write", path="~/project/.git/info/attributes", content="* filter=evil\n"),
    call("files.append", path="~/project/.git/config", text="[core]\n\tfsmonitor = /tmp/x\n"),
    call("files.write", path="~/Documents/.git", content="gitdir: /home/x/evil\n"),
    call("files.mkdir", path="~/Documents/newrepo/.git"),
    call("files.copy", source="~/Downloads/g", destination="~/Documents/r/.git"),
    call("files.copy", source="~/Downloads/payload/*", destination="~/project/.git/hooks/"),
    call("files.delete", path="~/project/.git"),
    call("files.delete", path="~/project/.git/hooks"),
    call("files.chmod", path="~/project/.git/config", mode="777"),
], ids=lambda c: f"{c['tool']}:{next(iter(c['args'].values()))}")
def test_file_tools_never_change_a_git_folder(lab: Lab, tool_call: dict[str, object]) -> None:
    """The file tools, approved, cannot move `.git` away and back, write hooks, settings or attributes into it,
    create a `.git` folder or `gitdir:` file anywhere, or delete it: the step is denied and nothing changes."""
    (lab.home / "Downloads" / "g" / "hooks").mkdir(parents=True)
    (lab.home / "Downloads" / "g" / "hooks" / "pre-commit").write_text("#!/bin/sh\n")
    (lab.home / "Downloads" / "payload").mkdir()
    (lab.home / "Downloads" / "payload" / "pre-push").write_text("#!/bin/sh\n")
    before = sorted(str(p) for p in lab.repo.rglob("*"))
    config_before = (lab.repo / ".git" / "config").read_text()
    backend = ScriptedBackend([tool_call, answer("done")])
    events = list(Session(backend, load_builtin_tools(), lab.safety).run(
        "move, copy, write, change and delete my project files", approver=lambda step: True))
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert [step.status for step in finished.steps] == ["denied"], [
        (s.tool, s.status, s.decision, s.result) for s in finished.steps]
    assert sorted(str(p) for p in lab.repo.rglob("*")) == before
    assert (lab.repo / ".git" / "config").read_text() == config_before
    assert not (lab.home / "Documents" / ".git").exists()
    assert not (lab.home / "Documents" / "newrepo").exists()


def test_extracting_an_archive_that_carries_a_git_folder_is_refused(lab: Lab) -> None:
    """An archive with `.git/hooks/pre-commit` inside would create a repository whose hook runs on the next
    commit: `files.extract` refuses it and creates nothing."""
    archive = lab.home / "Downloads" / "project.tar"
    with tarfile.open(archive, "w") as handle:
        for name, data in (("src/main.py", b"print(1)\n"), ("src/.git/hooks/pre-commit", b"#!/bin/sh\n"),
                           ("src/.git/config", b"[core]\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            handle.addfile(info, io.BytesIO(data))
    backend = ScriptedBackend([call("files.extract", archive=str(archive), destination="~/Documents/unpacked"),
                               answer("done")])
    events = list(Session(backend, load_builtin_tools(), lab.safety).run(
        "extract the archive in Downloads into Documents", approver=lambda step: True))
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert [step.status for step in finished.steps] in (["error"], ["denied"])
    assert ".git" in str(finished.steps[0].result)
    assert not (lab.home / "Documents" / "unpacked").exists()


def test_reading_a_git_folder_and_ordinary_git_use_still_work(lab: Lab) -> None:
    """Protecting `.git` is about changes: reading its files is allowed, and `git init` / `git commit` are asked
    (not denied), as before."""
    assert _decide(lab, ["cat", "project/.git/config"]) == "allow"
    assert _decide(lab, ["git", "-C", "project", "commit", "-m", "x"]) == "ask"
    assert _decide(lab, ["git", "init", "Documents/newrepo"]) == "ask"


@needs_sandbox
def test_a_home_path_written_with_a_tilde_reaches_the_command_as_the_home_path(lab: Lab) -> None:
    """The policy reads `~/project` in argv as the folder in home, so the command gets that folder: no shell
    expands `~` for it, and a literal `~` made `git -C ~/project status` fail while policy allowed it."""
    os.chdir(lab.home / "Documents")  # not the repository: only the -C path can find it
    with using_context(ToolContext(request_id="direct", writable_roots=(lab.marks,))):
        status = run_command(["git", "-C", "~/project", "status", "--short"], timeout=20)
        counted = run_command(["wc", "-c", "~/project/a.dat"], timeout=20)
        echoed = run_command(["echo", "~", "a~b", "~root", "HEAD~1"], timeout=20)
    assert status["exit_code"] == 0 and "f.txt" in status["stdout"]
    assert counted["stdout"].split() == ["5", f"{lab.home}/project/a.dat"]
    assert echoed["stdout"].split() == [str(lab.home), "a~b", "~root", "HEAD~1"]
