"""Arguments that name a file a program reads (`wc --files0-from=F`, `grep -f F`, `tar -T F`, `gcc @F`, `source F`),
from the table in file_options.toml, and the option values any program may be reading (`--opt=VALUE`, `-xVALUE`,
`@VALUE`), which the engine refuses when they name an existing secret.

The table carries its own examples; they are checked when it loads, and a table whose examples fail never loads.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from importlib import resources
from typing import Literal

from llmos.policies.command.types import program_name
from pydantic import BaseModel, ConfigDict, Field, ValidationError

EXAMPLE_FILE = "FILE"
# Long options that are options of their own in many programs, never read as an abbreviation of a longer table
# option (`du --exclude=*.o` is not `--exclude-from`, `tar --file=a.tar` is not `--files-from`).
_OWN_LONG_OPTIONS = frozenset({"--exclude", "--include", "--file", "--files", "--filter", "--exec", "--input",
                               "--key", "--cert", "--to", "--from", "--config"})


class FileOptionsError(ValueError):
    """The table cannot be loaded: bad TOML, unknown keys, or an example that fails."""


class ProgramFileOptions(BaseModel):
    """One group of programs and the arguments through which they read files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    names: list[str] = Field(min_length=1)
    options: list[str] = Field(default_factory=list)
    pairs: list[str] = Field(default_factory=list)
    """Options with two values, the second a file read (`jq --rawfile NAME FILE`)."""
    response_files: bool = False
    arguments: Literal["none", "first"] = "none"
    reads: list[list[str]] = Field(default_factory=list)
    not_reads: list[list[str]] = Field(default_factory=list)


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    programs: list[ProgramFileOptions]


@functools.cache
def file_options_table() -> dict[str, tuple[ProgramFileOptions, ...]]:
    """Program name -> the groups that name it. Raises FileOptionsError (checked examples included)."""
    text = (resources.files("llmos.policies.command") / "file_options.toml").read_text(encoding="utf-8")
    return load_file_options(text)


def load_file_options(text: str) -> dict[str, tuple[ProgramFileOptions, ...]]:
    """A table from its TOML text, its examples checked. Raises FileOptionsError."""
    try:
        table = _Table.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise FileOptionsError(f"file_options.toml: {exc}") from None
    by_program: dict[str, tuple[ProgramFileOptions, ...]] = {}
    for group in table.programs:
        for name in group.names:
            by_program[name] = (*by_program.get(name, ()), group)
    for number, group in enumerate(table.programs, start=1):
        for example in group.reads:
            if EXAMPLE_FILE not in _reads_in(by_program, example):
                raise FileOptionsError(f"file_options.toml: table {number} ({' '.join(group.names)}) should find "
                                       f"{EXAMPLE_FILE} read in {example!r} but does not")
        for example in group.not_reads:
            if EXAMPLE_FILE in _reads_in(by_program, example):
                raise FileOptionsError(f"file_options.toml: table {number} ({' '.join(group.names)}) should not "
                                       f"find {EXAMPLE_FILE} read in {example!r} but does")
    return by_program


def files_read_by_options(argv: Sequence[str]) -> list[str]:
    """The words of `argv` (program first) that name files the program reads through an option, a response file
    or a file argument the table lists."""
    return _reads_in(file_options_table(), argv)


def _reads_in(table: dict[str, tuple[ProgramFileOptions, ...]], argv: Sequence[str]) -> list[str]:
    if not argv:
        return []
    found: list[str] = []
    for group in table.get(program_name(argv[0]), ()):
        found.extend(_group_reads(group, list(argv[1:])))
    return [word for word in dict.fromkeys(found) if word and word != "-"]


def _group_reads(group: ProgramFileOptions, words: list[str]) -> list[str]:
    options = frozenset(group.options)
    found: list[str] = []
    first_argument_seen = False
    index = 0
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else None
        index += 1
        if word == "--":
            if group.arguments == "first" and not first_argument_seen and index < len(words):
                found.append(words[index])
            break
        if word.startswith("@") and len(word) > 1 and group.response_files:
            found.append(word[1:])
        if not word.startswith("-") or word == "-":
            if group.arguments == "first" and not first_argument_seen:
                found.append(word)
            first_argument_seen = True
            continue
        name, equals, value = word.partition("=")
        if name in group.pairs:
            if index + 1 < len(words):
                found.append(words[index + 1])
                index += 2
            continue
        if _is_option(name, options):
            if equals:
                found.append(value)
            elif following is not None:
                found.append(following)
                index += 1
            continue
        if word.startswith("--") or word in options:
            continue
        for position, letter in enumerate(word[1:], start=1):  # a cluster: `-xf FILE`, `-fFILE`
            if f"-{letter}" in options:
                rest = word[position + 1:]
                if rest:
                    found.append(rest)
                elif following is not None:
                    found.append(following)
                    index += 1
                break
    return found


def _is_option(name: str, options: frozenset[str]) -> bool:
    """`name` (an option as written, before any `=`) is a table option, or a GNU abbreviation of a long one."""
    if name in options:
        return True
    if not name.startswith("--") or len(name) <= 3 or name in _OWN_LONG_OPTIONS:
        return False
    return any(option.startswith(name) for option in options if option.startswith("--"))


def option_values_read_if_secret(argv: Sequence[str]) -> list[str]:
    """Values any program may read: `--opt=VALUE`, `-xVALUE` when VALUE looks like a path, and `@VALUE` (a
    response file). The engine treats one as a read only when it names an existing secret file."""
    found: list[str] = []
    for word in argv[1:]:
        if word == "--":
            break
        if word.startswith("@") and len(word) > 1:
            found.append(word[1:])
        elif word.startswith("--") and "=" in word:
            found.append(word.partition("=")[2])
        elif word.startswith("-") and not word.startswith("--") and len(word) > 2 and ("/" in word or word[2] == "~"):
            found.append(word[2:])
    return [word for word in dict.fromkeys(found) if word and word != "-"]
