"""Git under `shell.run`: which repositories a command runs git in, the programs their configuration names (so the
sandbox can neutralise them by name, see `llmos.policies.sandbox.git_env`), and the diff flags that keep git's
diff family from running external diff and textconv programs while still printing an ordinary diff."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from llmos.policies.command import facts_of, parse_command
from llmos.policies.command.embedded import git_subcommand_index
from llmos.policies.sandbox import SandboxSpec, run_sandboxed
from llmos.policies.sandbox.git_env import settings_to_neutralise
from llmos.tools.registry import ToolError

MAX_REPOSITORIES = 8
"""More distinct places than this in one command are refused rather than checked one by one."""

# Sandboxed output is made printable (control characters escaped, bad UTF-8 replaced), which could change a hostile
# name; the names travel as hex so each override names exactly the setting git read.
_AS_HEX = ("import subprocess, sys\nrun = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
           "sys.stdout.write(run.stdout.hex())\nsys.exit(run.returncode)")
_REPOSITORY_OPTIONS = ("-C", "--git-dir", "--work-tree")
_REPOSITORY_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")
# Subcommands that print diffs: external diff programs and textconv filters are turned off on their command line.
_DIFF_FLAGS = {"diff": ("--no-ext-diff", "--no-textconv"), "show": ("--no-ext-diff", "--no-textconv"),
               "log": ("--no-ext-diff", "--no-textconv"), "whatchanged": ("--no-ext-diff", "--no-textconv"),
               "blame": ("--no-textconv",)}


def _expand(word: str, cwd: Path) -> Path | None:
    if "$" in word or (word.startswith("~") and word != "~" and not word.startswith("~/")):
        return None
    return Path(os.path.normpath(cwd / os.path.expanduser(word)))


def git_sites(argv: list[str], cwd: Path) -> list[tuple[Path, tuple[str, ...], tuple[tuple[str, str], ...]]]:
    """Each place the command runs git: the folder, the options that pick the repository (`-C`, `--git-dir`,
    `--work-tree`, `--bare`) and the `GIT_DIR`-like assignments in front of it. A `cd` is followed as the policy
    follows it; a git after a `cd` to a folder known only when it runs is left out (the policy asks about it)."""
    sites = []
    cwd_now: Path | None = cwd
    for command in parse_command(list(argv)).commands:
        if command.program == "git" and cwd_now is not None:
            words = command.argv
            end = git_subcommand_index(words)
            options: list[str] = []
            index = 1
            while index < end:
                word = words[index]
                if word in _REPOSITORY_OPTIONS and index + 1 < len(words):
                    options += [word, words[index + 1]]
                    index += 2
                    continue
                if word.startswith(tuple(f"{name}=" for name in _REPOSITORY_OPTIONS[1:])) or word == "--bare":
                    options.append(word)
                index += 1
            assigned = tuple((name, value) for name, _, value in (a.partition("=") for a in command.assignments)
                             if name in _REPOSITORY_VARIABLES)
            sites.append((cwd_now, tuple(options), assigned))
        new_cwd = facts_of(command).new_cwd
        if new_cwd is not None:
            cwd_now = _expand(new_cwd, cwd_now) if cwd_now is not None else None
    return list(dict.fromkeys(sites))


def repository_git_settings(argv: list[str], cwd: Path) -> tuple[tuple[str, str], ...]:
    """The overrides for every repository-named git setting that runs a program, in each repository the command
    runs git in. The names come from git itself (`git config --list --name-only`, includes followed), run in the
    sandbox with the fixed neutralising settings. Raises ToolError (nothing is run) when they cannot be read."""
    sites = git_sites(argv, cwd)
    if len(sites) > MAX_REPOSITORIES:
        raise ToolError(f"refused: the command runs git in more than {MAX_REPOSITORIES} places, too many to check "
                        f"for programs their settings name; nothing was run")
    overrides: dict[str, str] = {}
    for folder, options, assigned in sites:
        if not folder.is_dir():
            continue  # git cannot run there either
        git_argv = ("git", *options, "config", "--list", "--name-only", "--includes", "-z")
        result = run_sandboxed(SandboxSpec(argv=(sys.executable, "-I", "-S", "-c", _AS_HEX, *git_argv),
                                           cwd=folder, timeout_s=15.0, extra_env=dict(assigned),
                                           max_output_bytes=1 << 21))
        if result.exit_code != 0 or result.output_truncated or result.timed_out:
            problem = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.exit_code}"]
            if result.output_truncated:
                problem = ["the settings are too long to check"]
            raise ToolError(f"refused: could not read the git settings of {folder} to keep git from running "
                            f"programs they name ({problem[0]}); nothing was run")
        try:
            raw = bytes.fromhex(result.stdout.strip())
        except ValueError:
            raise ToolError(f"refused: could not read the git settings of {folder}; nothing was run") from None
        names = [os.fsdecode(name) for name in raw.split(b"\x00") if name]
        overrides.update(settings_to_neutralise(names))
    return tuple(overrides.items())


def with_diff_programs_off(argv: list[str]) -> list[str]:
    """`argv` with `--no-ext-diff --no-textconv` after the subcommand when it is git's diff family, so the diff
    comes from git itself (the programs are neutralised anyway; without the flags git would report them failing)."""
    if not argv or os.path.basename(argv[0]) != "git":
        return argv
    index = git_subcommand_index(tuple(argv))
    flags = _DIFF_FLAGS.get(argv[index]) if index < len(argv) else None
    if flags is None:
        return argv
    return [*argv[:index + 1], *flags, *argv[index + 1:]]
