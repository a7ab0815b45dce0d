"""The vocabulary of command analysis: a redirection, what a wrapper runs (Expansion), the facts a command would
produce (PathFact, CommandFacts), and the small option-reading helpers the parser and the fact tables share."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Redirect:
    """A redirection: `op` as written (`>`, `>>`, `2>`, `&>`, `<`, `<<<`, `2>&`, ...) and its target word."""

    op: str
    target: str


@dataclass
class Expansion:
    """What a wrapper runs. `inner_argv` replaces the wrapper (it keeps the wrapper's redirects and pipeline
    place); `shell_sources` are shell strings run by it; `argv_lists` are further commands it runs (find -exec)."""

    label: str
    keep_self: bool = False
    inner_argv: tuple[str, ...] | None = None
    args_from_input: bool = False
    shell_sources: list[tuple[str, str]] = field(default_factory=list)
    argv_lists: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    assignments: tuple[str, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    code: str | None = None
    code_from_stdin: bool = False
    problems: list[str] = field(default_factory=list)
    file_reads: list[str] = field(default_factory=list)
    """Files the wrapper itself reads through its options (`xargs -a F`), judged even when it is looked through."""


@dataclass(frozen=True)
class PathFact:
    """One path a command would touch, as written (`~`, relative, a glob or a `$VAR`); the engine resolves it."""

    word: str
    action: str
    """read, create, modify, delete, move_from, move_to, chmod."""
    recursive: bool = False
    files_only: bool = False
    """rm without -r: a directory is refused by rm itself, so naming one deletes nothing."""
    unknown_program: bool = False
    into: str | None = None
    """For a destination: the source name it gets when the destination is an existing folder (mv a dir/)."""
    only_if_secret: bool = False
    """A value the program may read (`--opt=VALUE`): refused when it names an existing secret file, else ignored."""


@dataclass
class CommandFacts:
    """What one command would do, as far as its program is known."""

    paths: list[PathFact] = field(default_factory=list)
    network: str | None = None
    """Why the command uses the network, or None."""
    process_targets: list[str] = field(default_factory=list)
    """PIDs (as written) the command signals."""
    process_users: list[str] = field(default_factory=list)
    process_names: list[str] = field(default_factory=list)
    """Names (or patterns) the command signals processes by (pkill, killall)."""
    all_processes: str | None = None
    privilege: str | None = None
    runs_later: str | None = None
    """The scheduler (systemd-run, at) that runs the command later, outside llmos's sandbox, or None."""
    runs_code: str | None = None
    new_cwd: str | None = None
    """`cd DIR`: later relative paths are relative to DIR (a `$` word: a folder known only when it runs)."""


def program_name(word: str) -> str:
    """The program a word names: its basename, so `/usr/bin/rm` is `rm`."""
    return posixpath.basename(word) if word not in ("", "/") else word


def positionals(argv: tuple[str, ...], with_value: str = "", long_with_value: tuple[str, ...] = ()) -> list[str]:
    """Arguments that are not options (nothing after `--` is an option); option values are skipped."""
    words: list[str] = []
    index = 1
    while index < len(argv):
        word = argv[index]
        index += 1
        if word == "--":
            words.extend(argv[index:])
            break
        if word.startswith("--"):
            if "=" not in word and word in long_with_value:
                index += 1
            continue
        if word.startswith("-") and word != "-":
            letters = word[1:]
            for position, letter in enumerate(letters):
                if letter in with_value:
                    index += 1 if position == len(letters) - 1 else 0
                    break
            continue
        words.append(word)
    return words


def option_values(words: Sequence[str], short: str | None, long: str | None) -> list[str]:
    """Values given to an option among `words` (the arguments after the program): `-o V`, `-oV`, `--out V`,
    `--out=V`. Nothing after `--` is an option."""
    values = []
    for index, word in enumerate(words):
        if word == "--":
            break
        following = words[index + 1] if index + 1 < len(words) else None
        if word in (short, long) and following is not None:
            values.append(following)
        elif long and word.startswith(long + "="):
            values.append(word.split("=", 1)[1])
        elif short and not word.startswith("--") and word.startswith(short) and len(word) > len(short):
            values.append(word[len(short):])
    return values
