"""Policy profiles: TOML files naming path roots, denied and secret paths, a decision per effect class and per
tool, and argv prefix rules for commands that carry their own `match` / `not_match` examples.

Built-in profiles live in `policies/profiles/*.toml`. A user file (`<config dir>/policy.toml`, or a path given)
extends one (`extends = "default"` unless it says otherwise). Extending adds: denied, secret and asked paths and
command rules accumulate, effect and tool decisions are overridden key by key, roots are replaced when given. Since the
strictest matching rule wins, a user file can add and tighten rules but never loosen a built-in deny.

Every rule's examples are checked when a profile loads; a profile whose examples fail does not load.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from importlib import resources
from pathlib import Path

from llmos.policies.command import SimpleCommand, flags_of, parse_command
from llmos.policies.command.embedded import git_subcommand_index
from llmos.policies.command.file_options import FileOptionsError, file_options_table
from llmos.policies.command.types import program_name
from llmos.policies.decision import Verdict
from llmos.policies.path_guard import glob_regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmos.effects import Effect

USER_PROFILE_FILE = "policy.toml"
DEFAULT_PROFILE = "default"
_GLOB = frozenset("*?[")


class ProfileError(ValueError):
    """A profile that cannot be loaded: bad TOML, unknown keys, wrong values, or a rule whose examples fail."""


class CommandRule(BaseModel):
    """An argv prefix rule for commands. It matches a parsed simple command when the program (by basename) and
    the following words start with `prefix` (`*` globs allowed; git's global options are skipped), every flag in
    `flags` is present in any spelling (`-r` matches -rf, -R, --recursive), and every glob in `args` matches some
    argument. In `args`, `*` stays within one path component and `[*]` is a literal star (`~/[*]` is the word
    `~/*`); `~/`, `$HOME` and `${HOME}` all read as `~`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: list[str] = Field(min_length=1)
    decision: Verdict
    justification: str = Field(min_length=1)
    flags: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    match: list[list[str]] = Field(default_factory=list)
    not_match: list[list[str]] = Field(default_factory=list)
    network: bool = False
    """The command may use the network when this rule allows (or asks about) it."""

    @property
    def name(self) -> str:
        return " ".join([*self.prefix, *self.flags, *self.args])

    def matches(self, command: SimpleCommand) -> bool:
        words = normalized_argv(command.argv)
        if len(words) < len(self.prefix):
            return False
        pattern_words = [program_name(self.prefix[0]), *self.prefix[1:]]
        for word, pattern in zip(words, pattern_words, strict=False):  # the words go on past the prefix
            if not (fnmatch.fnmatchcase(word, pattern) if _GLOB & set(pattern) else word == pattern):
                return False
        if self.flags and not flags_of((words[0], *self.flags)) <= flags_of(words):
            return False
        arguments = [_normal_argument(word) for word in words[1:]]
        return all(any(_arg_regex(pattern).match(argument) for argument in arguments) for pattern in self.args)

    def matches_example(self, example: list[str]) -> bool:
        """Whether any command the example runs (looking through wrappers and shells) matches this rule."""
        return any(self.matches(command) for command in parse_command(example).commands)


def normalized_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """argv as rules see it: the program by basename; git without its global options (`-C dir`, `-c k=v`)."""
    if not argv:
        return ()
    program = program_name(argv[0])
    if program == "git":
        return (program, *argv[git_subcommand_index(argv):])
    return (program, *argv[1:])


@functools.lru_cache(maxsize=512)
def _arg_regex(pattern: str) -> re.Pattern[str]:
    """An argument pattern: `*` stays within one path component, so `/*` is not every absolute path."""
    return glob_regex(pattern, beneath=False)


def _normal_argument(word: str) -> str:
    if word.startswith(("$HOME", "${HOME}")):
        word = "~" + word[5 if word.startswith("$HOME") else 7:]
    return word.rstrip("/") or word


class ProfileFile(BaseModel):
    """One profile file as written."""

    model_config = ConfigDict(extra="forbid")

    extends: str | None = None
    description: str = ""
    readable_roots: list[str] | None = None
    writable_roots: list[str] | None = None
    denied_paths: list[str] = Field(default_factory=list)
    secret_paths: list[str] = Field(default_factory=list)
    asked_paths: list[str] = Field(default_factory=list)
    """Changing these is always asked about, whatever the effect decisions say (never allowed silently); the
    sandbox keeps them read-only, since it cannot ask in the middle of a command."""
    protected_processes: list[str] = Field(default_factory=list)
    """Process names (globs, any case) never signalled or reniced, by name or by pid, running or not."""
    effects: dict[Effect, Verdict] = Field(default_factory=dict)
    """The TOML's effect names become `Effect` members here, where the file loads; a name that is no effect class
    is a ProfileError naming the key and the known classes."""
    tools: dict[str, Verdict] = Field(default_factory=dict)
    commands: list[CommandRule] = Field(default_factory=list)


class Profile(BaseModel):
    """The effective profile: a file merged onto the profiles it extends."""

    model_config = ConfigDict(frozen=True)

    name: str
    sources: list[str]
    """The files it was built from, base first."""
    description: str = ""
    readable_roots: list[str] = Field(default_factory=list)
    writable_roots: list[str] = Field(default_factory=list)
    denied_paths: list[str] = Field(default_factory=list)
    secret_paths: list[str] = Field(default_factory=list)
    asked_paths: list[str] = Field(default_factory=list)
    protected_processes: list[str] = Field(default_factory=list)
    effects: dict[Effect, Verdict] = Field(default_factory=dict)
    tools: dict[str, Verdict] = Field(default_factory=dict)
    commands: list[CommandRule] = Field(default_factory=list)


def builtin_profile_names() -> list[str]:
    folder = resources.files("llmos.policies") / "profiles"
    return sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml"))


def load_profile(name_or_path: str | Path | None = None, user_config_dir: Path | None = None) -> Profile:
    """The effective profile: a built-in name, a TOML path, or (None) the user's `policy.toml` when there is one,
    else `default`. Raises ProfileError with the file and the reason when it cannot be loaded (also when the table
    of file-reading options, which every profile relies on, fails its examples)."""
    try:
        file_options_table()
    except FileOptionsError as exc:
        raise ProfileError(str(exc)) from None
    if name_or_path is None or name_or_path == "":
        user_file = user_config_dir / USER_PROFILE_FILE if user_config_dir is not None else None
        if user_file is not None and user_file.is_file():
            return _load_path(user_file, ())
        return _load_builtin(DEFAULT_PROFILE, ())
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith(".toml"):
        return _load_path(Path(text).expanduser(), ())
    return _load_builtin(text, ())


def _load_builtin(name: str, chain: tuple[str, ...]) -> Profile:
    names = builtin_profile_names()
    if name not in names:
        raise ProfileError(f"unknown profile {name!r}; built-in profiles: {', '.join(names)} (or give a .toml path)")
    source = f"built-in profile {name!r}"
    text = (resources.files("llmos.policies") / "profiles" / f"{name}.toml").read_text(encoding="utf-8")
    return _load_text(text, name, source, chain, base_dir=None, builtin=True)


def _load_path(path: Path, chain: tuple[str, ...]) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read ({exc})") from None
    return _load_text(text, path.stem, str(path), chain, base_dir=path.parent, builtin=False)


def _load_text(text: str, name: str, source: str, chain: tuple[str, ...], base_dir: Path | None,
               builtin: bool) -> Profile:
    if source in chain:
        raise ProfileError(f"{source}: `extends` loops back to itself ({' -> '.join((*chain, source))})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None
    try:
        written = ProfileFile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(f"{source}: {_describe_errors(exc, data)}") from None
    _check_examples(written.commands, source)
    extends = written.extends if written.extends is not None else (None if builtin else DEFAULT_PROFILE)
    if extends:
        chain = (*chain, source)
        if base_dir is not None and ("/" in extends or extends.endswith(".toml")):
            parent = _load_path((base_dir / extends).expanduser(), chain)
        else:
            parent = _load_builtin(extends, chain)
    else:
        parent = None
    return _merge(parent, written, name, source)


def _merge(parent: Profile | None, written: ProfileFile, name: str, source: str) -> Profile:
    if parent is None:
        return Profile(name=name, sources=[source], description=written.description,
                       readable_roots=written.readable_roots or [], writable_roots=written.writable_roots or [],
                       denied_paths=written.denied_paths, secret_paths=written.secret_paths,
                       asked_paths=written.asked_paths, protected_processes=written.protected_processes,
                       effects=dict(written.effects), tools=dict(written.tools), commands=written.commands)
    return Profile(
        name=name,
        sources=[*parent.sources, source],
        description=written.description or parent.description,
        readable_roots=parent.readable_roots if written.readable_roots is None else written.readable_roots,
        writable_roots=parent.writable_roots if written.writable_roots is None else written.writable_roots,
        denied_paths=list(dict.fromkeys([*parent.denied_paths, *written.denied_paths])),
        secret_paths=list(dict.fromkeys([*parent.secret_paths, *written.secret_paths])),
        asked_paths=list(dict.fromkeys([*parent.asked_paths, *written.asked_paths])),
        protected_processes=list(dict.fromkeys([*parent.protected_processes, *written.protected_processes])),
        effects={**parent.effects, **written.effects},
        tools={**parent.tools, **written.tools},
        commands=[*parent.commands, *written.commands],
    )


def _check_examples(rules: list[CommandRule], source: str) -> None:
    for number, rule in enumerate(rules, start=1):
        for example in rule.match:
            if not rule.matches_example(example):
                raise ProfileError(f"{source}: command rule {number} `{rule.name}` should match the example "
                                   f"{example!r} but does not")
        for example in rule.not_match:
            if rule.matches_example(example):
                raise ProfileError(f"{source}: command rule {number} `{rule.name}` should not match the example "
                                   f"{example!r} but does")


def _describe_errors(exc: ValidationError, data: object) -> str:
    messages = []
    for error in exc.errors():
        location = _location(error["loc"], data)
        if error["type"] == "extra_forbidden":
            messages.append(f"unknown key `{location}`")
        elif error["type"] == "missing":
            messages.append(f"`{location}` is required")
        else:
            messages.append(f"`{location}`: {error['msg']}")
    return "; ".join(messages)


def _location(location: tuple[int | str, ...], data: object) -> str:
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part + 1}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)
