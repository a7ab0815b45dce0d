"""Facts for programs that change things: what rm, mv, cp, ln, touch, chmod, dd, sed -i, tar, zip, rsync, scp,
curl and wget would delete, move, create or read, and which processes kill, pkill and killall would signal."""

from __future__ import annotations

import re

from llmos.policies.command.flags import flags_of
from llmos.policies.command.types import CommandFacts, PathFact, option_values, positionals

_DELETERS = frozenset({"rm", "rmdir", "unlink", "shred", "srm", "trash", "trash-put", "gvfs-trash", "wipe"})
_CREATORS = frozenset({"touch", "mkdir", "mkfifo"})
_MODIFIERS = frozenset({"truncate", "tee", "sponge", "vi", "vim", "nvim", "nano", "emacs", "ed", "ex", "code",
                        "gedit", "kate", "micro", "joe", "mcedit", "sudoedit"})
_CHMODDERS = frozenset({"chmod", "chown", "chgrp", "chattr", "setfacl", "chcon"})
_COMPRESSORS = frozenset({"gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzstd", "lz4", "compress",
                          "uncompress", "lzma", "unlzma"})
_KILLERS = frozenset({"pkill", "killall", "skill", "slay"})
_MATCHES_EVERYTHING = frozenset({"", ".", ".*", "^", "$", ".+", "^.*$", "*"})
_SED_WRITE = re.compile(r"(?:^|[;\n}/0-9$])\s*[gpIiMm0-9]*[wW]\s+([^;\n}]+)")
_SED_EXECUTE = re.compile(r"(?:^|[;\n}])\s*e(?:\s|$)|/[gpIiMm0-9]*e[gpIiMm0-9]*\s*(?:$|[;\n}])")
REMOTE_WORD = re.compile(r"^(?:[\w.+-]+@)?[\w.-]+:(?!//)|^\w+://|::")


def _deleters(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    flags = flags_of(argv)
    recursive = program in ("rm", "srm", "wipe") and "-r" in flags
    files_only = program in ("rm", "shred", "unlink") and not recursive and "-d" not in flags
    for word in positionals(argv, "n" if program == "shred" else ""):
        facts.paths.append(PathFact(word, "delete", recursive=recursive, files_only=files_only))


def _movers(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    """mv, cp, install, ln: sources and a destination (`-t DIR` names it first)."""
    flags = flags_of(argv)
    recursive = "-r" in flags and program in ("cp", "install")
    words = positionals(argv, "tSm" if program != "ln" else "tS", ("--target-directory", "--suffix", "--mode"))
    target_dirs = option_values(argv[1:], "-t", "--target-directory")
    if program == "install" and "-d" in flags:
        for word in words:
            facts.paths.append(PathFact(word, "create"))
        return
    if target_dirs:
        sources, destination, into_dir = words, target_dirs[-1], True
    elif len(words) >= 2:
        sources, destination, into_dir = words[:-1], words[-1], len(words) > 2
    elif program == "ln" and words:
        sources, destination, into_dir = words, ".", True
    else:
        return
    source_action = {"mv": "move_from", "ln": "read"}.get(program, "read")
    for source in sources:
        # A link to a secret is refused like reading it: the link would be read later without the secret's name.
        facts.paths.append(PathFact(source, source_action, recursive=recursive or program == "mv"))
        name = source.rstrip("/").rsplit("/", 1)[-1] or source
        action = "move_to" if program == "mv" else "create"
        into = name if "-T" not in flags and "--no-target-directory" not in argv else None
        facts.paths.append(PathFact(destination + ("/" + name if into_dir else ""), action, recursive=recursive,
                                    into=None if into_dir else into))


def _simple_writers(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    if program in _CHMODDERS:
        words = positionals(argv, "" if program != "setfacl" else "mMxX")
        reference = any(word.startswith("--reference") for word in argv)
        recursive = "-R" in flags_of(argv) or (program == "setfacl" and "-R" in argv)
        for word in words if reference else words[1:]:
            facts.paths.append(PathFact(word, "chmod", recursive=recursive))
        return
    if program == "mknod":
        words = positionals(argv, "m")
        facts.paths.extend(PathFact(word, "create") for word in words[:1])
        return
    action = "create" if program in _CREATORS else "modify"
    for word in positionals(argv, "srm" if program in ("truncate", "mkdir") else ""):
        facts.paths.append(PathFact(word, action))


def _dd(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    for word in argv[1:]:
        key, _, value = word.partition("=")
        if key == "if" and value:
            facts.paths.append(PathFact(value, "read"))
        elif key == "of" and value:
            facts.paths.append(PathFact(value, "modify"))


def _sed(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    in_place = any(word == "--in-place" or word.startswith("--in-place=") or
                   (word.startswith("-") and not word.startswith("--") and "i" in word[1:]) for word in argv[1:])
    script_given = any(word in ("-e", "-f", "--expression", "--file") for word in argv[1:])
    words = positionals(argv, "ef", ("--expression", "--file"))
    files = words if script_given else words[1:]
    for word in files:
        facts.paths.append(PathFact(word, "modify" if in_place else "read"))
    scripts = option_values(argv[1:], "-e", "--expression") + ([] if script_given or not words else words[:1])
    for script in scripts:
        # `w FILE` (a command or an s///w flag) writes FILE; `e` and s///e run a command.
        for target in _SED_WRITE.findall(script):
            facts.paths.append(PathFact(target.strip(), "modify"))
        if _SED_EXECUTE.search(script):
            facts.runs_code = "`sed` runs a command from its script (the e command)"


def _archivers(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    flags = flags_of(argv)
    if program == "tar":
        mode_word = argv[1] if len(argv) > 1 else ""
        letters = set(mode_word.lstrip("-")) if not mode_word.startswith("--") else set()
        letters |= {flag[1] for flag in flags if len(flag) == 2}
        long = set(argv[1:])
        archive = option_values(argv[1:], "-f", "--file") or [w for w in argv[2:3] if "f" in mode_word
                                                          and not mode_word.startswith("-")]
        directory = (option_values(argv[1:], "-C", "--directory") or ["."])[-1]
        words = [w for w in positionals(argv, "fCTX", ("--file", "--directory")) if w not in archive][
            1 if not mode_word.startswith("-") else 0:]
        if "x" in letters or "--extract" in long or "--get" in long:
            facts.paths.extend(PathFact(name, "read") for name in archive)
            facts.paths.append(PathFact(directory, "create", recursive=True))
        elif letters & {"c", "r", "u"} or long & {"--create", "--append", "--update"}:
            facts.paths.extend(PathFact(name, "create") for name in archive)
            facts.paths.extend(PathFact(word, "read", recursive=True) for word in words)
            if "--remove-files" in long:
                facts.paths.extend(PathFact(word, "delete", recursive=True) for word in words)
        else:
            facts.paths.extend(PathFact(name, "read") for name in archive)
        return
    if program == "unzip":
        words = positionals(argv, "dxP")
        facts.paths.extend(PathFact(word, "read") for word in words[:1])
        directory = (option_values(argv[1:], "-d", None) or ["."])[-1]
        if not {"-l", "-t", "-p", "-Z", "-v"} & flags:
            facts.paths.append(PathFact(directory, "create", recursive=True))
        return
    if program == "zip":
        words = positionals(argv, "bnxit")
        facts.paths.extend(PathFact(word, "create") for word in words[:1])
        action = "delete" if "-m" in flags else "read"
        facts.paths.extend(PathFact(word, action, recursive="-r" in flags) for word in words[1:])
        return
    keeps = {"-c", "-k", "-t", "-l", "--stdout", "--keep", "--test", "--list"} & flags
    for word in positionals(argv, "S"):
        facts.paths.append(PathFact(word, "read" if keeps else "modify"))


def _transfer(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    """rsync and scp: local sources are read, a local destination written; remote words are not local paths."""
    flags = flags_of(argv)
    words = positionals(argv, "eFiJloPScT" if program == "scp" else "eBfT", ("--rsh", "--filter", "--exclude",
                                                                         "--include", "--exclude-from"))
    if len(words) < 2:
        return
    recursive = bool({"-r", "-a"} & flags)
    for source in words[:-1]:
        if not REMOTE_WORD.match(source):
            facts.paths.append(PathFact(source, "read", recursive=recursive))
            if "--remove-source-files" in argv:
                facts.paths.append(PathFact(source, "delete", recursive=recursive))
    destination = words[-1]
    if not REMOTE_WORD.match(destination):
        facts.paths.append(PathFact(destination, "create", recursive=recursive))
        if any(word.startswith("--delete") for word in argv):
            facts.paths.append(PathFact(destination, "delete", recursive=True))


def _downloaders(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    if program == "curl":
        outputs = option_values(argv[1:], "-o", "--output")
        inputs = option_values(argv[1:], "-T", "--upload-file") + option_values(argv[1:], "-K", "--config")
        for option in ("-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F", "--form"):
            inputs += [value.split("@", 1)[1] for value in option_values(argv[1:], option, option) if "@" in value]
    else:
        outputs = [value for value in option_values(argv[1:], "-O", "--output-document") if value != "-"]
        outputs += [directory + "/*" for directory in option_values(argv[1:], "-P", "--directory-prefix")]
        inputs = option_values(argv[1:], "-i", "--input-file") + option_values(argv[1:], None, "--post-file")
    facts.paths.extend(PathFact(word, "create") for word in outputs if word != "-")
    facts.paths.extend(PathFact(word, "read") for word in inputs if word != "-")


def _kill(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    if program == "killall5":
        facts.all_processes = "`killall5` signals every process"
        return
    if program == "kill":
        words = list(argv[1:])
        if words and words[0] in ("-l", "-L", "--list", "--table"):
            return
        if words and words[0] in ("-s", "-n") and len(words) > 1:
            words = words[2:]
        elif words and words[0].startswith(("--signal", "-")) and len(words) > 1 and words[0] != "--":
            words = words[1:]  # `-9`, `-KILL`: the signal when a PID follows
        words = [word for word in words if word != "--"]
        facts.process_targets.extend(words)
        if not words:
            facts.process_targets.append("?")
        return
    users = option_values(argv[1:], "-u", "--euid") + option_values(argv[1:], "-U", "--uid") \
        + option_values(argv[1:], None, "--user")
    for value in users:
        facts.process_users.extend(user for user in value.split(",") if user)
    with_value = "gGPstuUF" if program != "killall" else "usnoy"
    patterns = positionals(argv, with_value, ("--signal", "--euid", "--uid", "--group", "--user", "--parent",
                                              "--session", "--terminal", "--pidfile", "--older-than", "--younger-than"))
    patterns += option_values(argv[1:], "-r", "--regexp") if program == "killall" else []
    facts.process_names.extend(patterns)
    if any(pattern in _MATCHES_EVERYTHING for pattern in patterns) or (not patterns and not users):
        facts.all_processes = f"`{program}` with this pattern matches every process"


HANDLERS = {
    **{name: _deleters for name in _DELETERS},
    **{name: _movers for name in ("mv", "cp", "install", "ln")},
    **{name: _simple_writers for name in (*_CREATORS, *_MODIFIERS, *_CHMODDERS, "mknod")},
    "dd": _dd, "sed": _sed,
    **{name: _archivers for name in ("tar", "zip", "unzip", *_COMPRESSORS)},
    "rsync": _transfer, "scp": _transfer, "curl": _downloaders, "wget": _downloaders,
    **{name: _kill for name in ("kill", "killall5", *_KILLERS)},
}
