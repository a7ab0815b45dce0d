"""Flag spellings normalised: `-rf`, `-fr`, `-r -f`, `--recursive --force`, `--recur` (a GNU prefix) are the
same flags to rm; `-9`, `-KILL`, `-s KILL`, `--signal=KILL` the same signal to kill."""

from __future__ import annotations

import re
from collections.abc import Sequence

from llmos.policies.command.types import program_name

# Long options and spellings that mean the same as a short flag, per program: `--recursive` is `-r` for rm but
# `-R` for chmod, where `-r` is a mode (remove read permission).
_FLAG_ALIASES: dict[str, dict[str, str]] = {
    "rm": {"-R": "-r", "--recursive": "-r", "--force": "-f", "--dir": "-d", "--interactive": "-i",
           "--one-file-system": "--one-file-system", "--no-preserve-root": "--no-preserve-root",
           "--preserve-root": "--preserve-root", "--verbose": "-v", "--help": "--help", "--version": "--version"},
    "cp": {"-R": "-r", "--recursive": "-r", "--force": "-f", "--archive": "-a"},
    "mv": {"--force": "-f"},
    "rsync": {"--recursive": "-r", "--archive": "-a"},
    "chmod": {"--recursive": "-R"},
    "chown": {"--recursive": "-R"},
    "chgrp": {"--recursive": "-R"},
    "grep": {"-R": "-r", "--recursive": "-r", "--dereference-recursive": "-r"},
    "scp": {},
    "ln": {"--symbolic": "-s", "--force": "-f"},
    "shred": {"--remove": "-u", "--zero": "-z"},
}
_IMPLIED_FLAGS: dict[str, dict[str, set[str]]] = {"cp": {"-a": {"-r"}}, "rsync": {"-a": {"-r"}}}
_SHORT_FLAGS_TAKING_VALUE: dict[str, str] = {"kill": "sn", "grep": "efABCmd", "find": "", "tar": "fCT",
                                             "cp": "tS", "mv": "tS", "chmod": "", "sort": "okt", "head": "nc",
                                             "tail": "nc"}
_SIGNAL_NAMES = {"9": "KILL", "15": "TERM", "1": "HUP", "2": "INT", "19": "STOP", "18": "CONT", "3": "QUIT"}


def flags_of(argv: Sequence[str]) -> set[str]:
    """The normalised flags of a command (`argv[0]` is the program): `-rf`, `-fr`, `-r -f` and `--recursive
    --force` all give {"-r", "-f"} for rm; `--opt=value` gives `--opt`; nothing after `--` is a flag. For kill,
    `-9`, `-KILL`, `-SIGKILL`, `-s KILL` and `--signal=KILL` all give `-KILL`."""
    if not argv:
        return set()
    program = program_name(argv[0])
    aliases = _FLAG_ALIASES.get(program, {})
    taking_value = _SHORT_FLAGS_TAKING_VALUE.get(program, "")
    flags: set[str] = set()
    words = list(argv[1:])
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            break
        if not word.startswith("-") or word == "-":
            continue
        if program == "kill":
            signal = _kill_signal(word, words[index] if index < len(words) else None)
            if signal is not None:
                flags.add(f"-{signal}")
                if word in ("-s", "-n"):
                    index += 1
                continue
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            # GNU tools accept any unambiguous prefix of a long option (`--recur` is `--recursive`).
            expansions = [aliases[name]] if name in aliases else \
                [flag for long, flag in aliases.items() if long.startswith(name) and len(name) > 2]
            flags.update(expansions or [name])
            continue
        for position, letter in enumerate(word[1:], start=1):
            flags.add(aliases.get(f"-{letter}", f"-{letter}"))
            if letter in taking_value:
                if position == len(word) - 1:
                    index += 1
                break
    for flag in list(flags):
        flags.update(_IMPLIED_FLAGS.get(program, {}).get(flag, set()))
    return flags


def _kill_signal(word: str, following: str | None) -> str | None:
    if word in ("-s", "-n") and following is not None:
        name = following.upper().removeprefix("SIG")
    elif word.startswith("--signal="):
        name = word.split("=", 1)[1].upper().removeprefix("SIG")
    elif re.fullmatch(r"-(SIG)?[A-Za-z]+[0-9]*|-\d+", word) and word not in ("-l", "-L"):
        name = word[1:].upper().removeprefix("SIG")
    else:
        return None
    return _SIGNAL_NAMES.get(name, name)
