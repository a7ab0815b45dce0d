"""What one parsed command would do, from what is known of its program: the paths it reads, writes, deletes or
moves (with redirections), whether it uses the network, which processes it signals, whether it runs code given
on its command line. A program not in these tables is "unknown": each of its arguments might be a path it
changes, so protected paths and secrets among them are still refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmos.policies.command import SimpleCommand, flags_of
from llmos.policies.command_wrappers import (NETWORK_WRAPPERS, PRIVILEGE_WRAPPERS, find_may_match_root,
                                             git_subcommand_index, program_name)


@dataclass(frozen=True)
class PathFact:
    word: str
    action: str
    """read, create, modify, delete, move_from, move_to, chmod."""
    recursive: bool = False
    files_only: bool = False
    """rm without -r: a directory is refused by rm itself, so naming one deletes nothing."""
    unknown_program: bool = False
    into: str | None = None
    """For a destination: the source name it gets when the destination is an existing folder (mv a dir/)."""


@dataclass
class CommandFacts:
    paths: list[PathFact] = field(default_factory=list)
    network: str | None = None
    """Why the command uses the network, or None."""
    process_targets: list[str] = field(default_factory=list)
    """PIDs (as written) the command signals."""
    process_users: list[str] = field(default_factory=list)
    all_processes: str | None = None
    privilege: str | None = None
    runs_code: str | None = None
    known: bool = True
    new_cwd: str | None = None
    """`cd DIR`: later relative paths are relative to DIR ("" means unknown)."""


# Programs that neither read file contents nor change anything (or only list names and sizes).
NO_PATH_PROGRAMS = frozenset({
    "echo", "printf", "true", "false", ":", "date", "cal", "uname", "hostname", "whoami", "id", "groups", "uptime",
    "free", "ps", "pgrep", "top", "htop", "sleep", "seq", "nproc", "lscpu", "locale", "tty", "yes", "expr", "vmstat",
    "iostat", "w", "who", "users", "last", "lsusb", "lspci", "lsmod", "sensors", "arch", "getconf", "test", "[",
    "pwd", "which", "whereis", "type", "hash", "dmesg", "journalctl", "ss", "netstat", "sync", "ls", "dir", "vdir",
    "stat", "du", "df", "realpath", "readlink", "basename", "dirname", "namei", "lsblk", "findmnt", "printenv",
    "env", "nice", "time", "cd", "pushd", "popd", "command", "tr", "clear", "tput", "lsof", "loginctl",
})
READ_PROGRAMS = frozenset({
    "cat", "tac", "head", "tail", "less", "more", "most", "wc", "nl", "od", "xxd", "hexdump", "hd", "strings",
    "md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "sum", "base64",
    "base32", "basenc", "diff", "diff3", "cmp", "comm", "cut", "paste", "fold", "fmt", "column", "expand",
    "unexpand", "rev", "jq", "yq", "file", "zcat", "bzcat", "xzcat", "zstdcat", "lzcat", "zless", "zmore", "look",
    "pr", "join", "tsort", "shuf", "bat", "batcat", "iconv", "xmllint", "sort", "uniq", "tree", "grep", "egrep",
    "fgrep", "zgrep", "rg", "ag", "ack", "find", "git", "md5", "shasum",
})
_GREP_FAMILY = frozenset({"grep", "egrep", "fgrep", "zgrep", "rg", "ag", "ack"})
_ALWAYS_RECURSIVE = frozenset({"rg", "ag", "ack"})
_DELETERS = frozenset({"rm", "rmdir", "unlink", "shred", "srm", "trash", "trash-put", "gvfs-trash", "wipe"})
_CREATORS = frozenset({"touch", "mkdir", "mkfifo"})
_MODIFIERS = frozenset({"truncate", "tee", "sponge", "vi", "vim", "nvim", "nano", "emacs", "ed", "ex", "code",
                        "gedit", "kate", "micro", "joe", "mcedit", "sudoedit"})
_CHMODDERS = frozenset({"chmod", "chown", "chgrp", "chattr", "setfacl", "chcon"})
_COMPRESSORS = frozenset({"gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzstd", "lz4", "compress",
                          "uncompress", "lzma", "unlzma"})
# None: always uses the network; a set: only these subcommands (the first word after the options) do.
_NETWORK_PROGRAMS: dict[str, frozenset[str] | None] = {
    **{name: None for name in (
        "curl", "wget", "wget2", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp", "ftp", "lftp", "telnet",
        "ping", "ping6", "traceroute", "tracepath", "mtr", "dig", "nslookup", "host", "whois", "nmap", "aria2c",
        "axel", "http", "https", "xh", "mosh", "tor", "gh", "hub", "yt-dlp", "youtube-dl", "npx", "ssh-copy-id",
        "rclone", "s3cmd", "sshfs", "smbclient", "kubectl", "aws", "gcloud", "az", "openssl", "torsocks",
        "proxychains", "proxychains4", "tsocks", "bunx", "pnpx")},
    "git": frozenset({"push", "pull", "fetch", "clone", "ls-remote", "submodule", "remote", "send-email",
                      "request-pull", "archive"}),
    **{name: frozenset({"install", "download", "wheel", "index", "search"}) for name in ("pip", "pip3", "pipx")},
    "uv": frozenset({"pip", "sync", "add", "lock", "run", "tool"}),
    **{name: frozenset({"install", "i", "add", "update", "upgrade", "publish", "ci", "dlx", "exec", "x", "create",
                        "init", "outdated", "audit"}) for name in ("npm", "pnpm", "yarn", "bun")},
    **{name: frozenset({"install", "update", "upgrade", "dist-upgrade", "full-upgrade", "download", "source",
                        "build-dep", "reinstall"}) for name in ("apt", "apt-get", "aptitude")},
    **{name: frozenset({"install", "update", "upgrade", "download", "makecache", "reinstall"})
       for name in ("dnf", "yum", "zypper")},
    "pacman": None, "snap": frozenset({"install", "refresh", "download"}),
    "flatpak": frozenset({"install", "update", "remote-add"}),
    "brew": frozenset({"install", "update", "upgrade", "tap", "fetch", "reinstall"}),
    "cargo": frozenset({"install", "fetch", "update", "publish", "search", "add", "build", "run", "test"}),
    "go": frozenset({"get", "install", "mod", "run", "build"}), "gem": frozenset({"install", "update", "fetch"}),
    "conda": frozenset({"install", "update", "create"}), "mamba": frozenset({"install", "update", "create"}),
    "docker": frozenset({"pull", "push", "login", "search", "run", "build"}),
    "podman": frozenset({"pull", "push", "login", "search", "run", "build"}),
}
_PYTHON_NETWORK_MODULES = re.compile(r"-m\s*(pip|http\.server|ensurepip|venv|smtpd|ftplib|urllib)")
_REMOTE_WORD = re.compile(r"^(?:[\w.+-]+@)?[\w.-]+:(?!//)|^\w+://|::")
_DEV_NET = re.compile(r"^/dev/(tcp|udp)/")
_KILLERS = frozenset({"pkill", "killall", "skill", "slay"})
_MATCHES_EVERYTHING = frozenset({"", ".", ".*", "^", "$", ".+", "^.*$", "*"})


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


def option_values(argv: tuple[str, ...], short: str | None, long: str | None) -> list[str]:
    values = []
    for index, word in enumerate(argv[1:], start=1):
        if word == "--":
            break
        nxt = argv[index + 1] if index + 1 < len(argv) else None
        if (word == short or word == long) and nxt is not None:
            values.append(nxt)
        elif long and word.startswith(long + "="):
            values.append(word.split("=", 1)[1])
        elif short and len(short) == 2 and word.startswith(short) and len(word) > 2 and not word.startswith("--"):
            values.append(word[2:])
    return values


def facts_of(command: SimpleCommand) -> CommandFacts:
    """The facts of one command, its redirections included."""
    facts = CommandFacts()
    argv = command.argv
    for redirect in command.redirects:
        _redirect_fact(redirect.op, redirect.target, facts)
    privileged = [label for label in command.via if label.split()[0] in PRIVILEGE_WRAPPERS]
    if privileged or (argv and program_name(argv[0]) in PRIVILEGE_WRAPPERS):
        facts.privilege = privileged[0] if privileged else program_name(argv[0])
    if any(label in NETWORK_WRAPPERS for label in command.via):
        facts.network = "runs through a network proxy"
    if not argv:
        return facts
    program = program_name(argv[0])
    if command.code is not None:
        facts.runs_code = f"`{program}` runs code given on its command line"
    elif command.code_from_stdin and command.stage > 0:
        facts.runs_code = f"`{program}` runs whatever arrives on its input as code"
    _network_fact(program, argv, command, facts)
    if any(_DEV_NET.match(word) for word in argv):
        facts.network = "uses a /dev/tcp or /dev/udp connection"
    handler = _HANDLERS.get(program)
    if handler is not None:
        handler(program, argv, facts)
    elif program in NO_PATH_PROGRAMS:
        if program in ("cd", "pushd", "popd"):
            words = positionals(argv)
            # `cd -` and popd go back to a folder only the shell knows.
            facts.new_cwd = "$OLDPWD" if program == "popd" or words[:1] == ["-"] else (words[0] if words else "~")
    elif program in READ_PROGRAMS:
        _read_program(program, argv, facts)
    else:
        facts.known = False
        for word in [*positionals(argv), *(w.split("=", 1)[1] for w in argv[1:] if w.startswith("--") and "=" in w)]:
            if word and word != "-" and not _REMOTE_WORD.match(word):
                facts.paths.append(PathFact(word, "modify", unknown_program=True))
    return facts


def _redirect_fact(op: str, target: str, facts: CommandFacts) -> None:
    base = op.lstrip("0123456789")
    if _DEV_NET.match(target):
        facts.network = f"redirects to {target}"
    if base in ("<<", "<<-", "<<<"):
        return
    if base in (">&", "<&") and (target.isdigit() or target == "-" or target.rstrip("-").isdigit()):
        return
    action = "read" if base in ("<", "<&") else "modify"
    facts.paths.append(PathFact(target, action))
    if base == "<>":
        facts.paths.append(PathFact(target, "read"))


def _network_fact(program: str, argv: tuple[str, ...], command: SimpleCommand, facts: CommandFacts) -> None:
    if program in _NETWORK_PROGRAMS:
        subcommands = _NETWORK_PROGRAMS[program]
        if program == "git":
            index = git_subcommand_index(argv)
            subcommand = argv[index] if index < len(argv) else ""
        else:
            words = positionals(argv)
            subcommand = words[0] if words else ""
        if subcommands is None:
            facts.network = f"`{program}` uses the network"
        elif subcommand in subcommands:
            facts.network = f"`{program} {subcommand}` uses the network"
    elif program in ("rsync",) and any(_REMOTE_WORD.match(word) for word in positionals(argv)):
        facts.network = "`rsync` to or from another host uses the network"
    elif command.code and _PYTHON_NETWORK_MODULES.match(command.code):
        facts.network = f"`{program} {command.code}` uses the network"
    elif command.code and re.search(r"\b(urllib|requests|socket|http\.client|fetch\(|net\.|Net::|LWP|curl)",
                                    command.code):
        facts.network = f"`{program}` code opens network connections"


def _read_program(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    flags = flags_of(argv)
    if program in _GREP_FAMILY:
        words = positionals(argv, "efABCmdA", ("--regexp", "--file", "--max-count", "--context"))
        pattern_given = any(w in ("-e", "-f", "--regexp", "--file") or w.startswith(("--regexp=", "--file="))
                            for w in argv[1:])
        files = words if pattern_given else words[1:]
        for value in option_values(argv, "-f", "--file"):
            facts.paths.append(PathFact(value, "read"))
        recursive = "-r" in flags or program in _ALWAYS_RECURSIVE
        for word in files or (["."] if recursive else []):
            facts.paths.append(PathFact(word, "read", recursive=recursive))
        return
    if program == "find":
        _find_facts(argv, facts)
        return
    if program == "git":
        _git_facts(argv, facts)
        return
    if program == "tree":
        for value in option_values(argv, "-o", None):
            facts.paths.append(PathFact(value, "create"))
        return
    words = positionals(argv, {"sort": "okStT", "head": "nc", "tail": "ncs", "uniq": "fsw", "cut": "bcdf",
                               "xxd": "clsgo", "jq": ""}.get(program, ""))
    if program == "sort":
        for value in option_values(argv, "-o", "--output"):
            facts.paths.append(PathFact(value, "create"))
    outputs = {"uniq": 1, "xxd": 1}.get(program)
    if program == "jq" and words:
        words = words[1:]
    for position, word in enumerate(words):
        if word == "-":
            continue
        action = "create" if outputs is not None and position == outputs else "read"
        facts.paths.append(PathFact(word, action))


def _find_facts(argv: tuple[str, ...], facts: CommandFacts) -> None:
    roots = []
    for word in argv[1:]:
        if word.startswith("-") or word in ("(", "!", ")", ","):
            if word in ("-H", "-L", "-P"):
                continue
            break
        roots.append(word)
    roots = roots or ["."]
    expression = argv[1 + len(roots):]
    if "-delete" in expression:
        for root in roots:
            target = root if find_may_match_root(root, expression) else f"{root.rstrip('/')}/*/**"
            facts.paths.append(PathFact(target, "delete", recursive=True))
    for position, word in enumerate(expression[:-1]):
        if word in ("-fprint", "-fprint0", "-fls", "-fprintf"):
            facts.paths.append(PathFact(expression[position + 1], "create"))


def _git_facts(argv: tuple[str, ...], facts: CommandFacts) -> None:
    index = git_subcommand_index(argv)
    subcommand = argv[index] if index < len(argv) else ""
    rest = (subcommand, *argv[index + 1:])
    base = ""  # `git -C DIR` (repeatable, each relative to the last) moves where paths are resolved
    for position in range(1, index):
        if argv[position - 1] == "-C" or argv[position].startswith("--work-tree="):
            folder = argv[position].removeprefix("--work-tree=")
            base = folder if folder.startswith(("/", "~")) or not base else f"{base}/{folder}"

    def at(word: str) -> str:
        return word if not base or word.startswith(("/", "~")) else f"{base}/{word}"

    for value in option_values(rest, "-o", "--output"):
        facts.paths.append(PathFact(at(value), "create"))
    words = positionals(rest)
    if subcommand == "clean":
        for word in words or ["."]:
            facts.paths.append(PathFact(at(word), "delete", recursive=True))
    elif subcommand == "rm":
        for word in words:
            facts.paths.append(PathFact(at(word), "delete", recursive="-r" in flags_of(("rm", *rest[1:]))))
    elif subcommand == "config":
        writes = len(words) >= 2 or any(w.startswith(("--unset", "--add", "--replace", "--rename", "--remove", "-e",
                                                      "--edit")) for w in rest[1:])
        if writes:
            target = "~/.gitconfig" if "--global" in rest else at(".git/config")
            facts.paths.append(PathFact(target, "modify"))
    elif subcommand == "clone" and len(words) >= 2:
        facts.paths.append(PathFact(at(words[1]), "create", recursive=True))
    elif subcommand in ("commit", "add", "mv", "checkout", "switch", "reset", "restore", "stash", "merge", "rebase",
                        "cherry-pick", "revert", "apply", "am", "init", "tag", "branch", "gc", "prune", "worktree",
                        "pull", "submodule", "notes", "update-ref", "filter-branch", "replace"):
        facts.paths.append(PathFact(at("."), "modify"))


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
    target_dirs = option_values(argv, "-t", "--target-directory")
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


def _archivers(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    flags = flags_of(argv)
    if program == "tar":
        mode_word = argv[1] if len(argv) > 1 else ""
        letters = set(mode_word.lstrip("-")) if not mode_word.startswith("--") else set()
        letters |= {flag[1] for flag in flags if len(flag) == 2}
        long = set(argv[1:])
        archive = option_values(argv, "-f", "--file") or [w for w in argv[2:3] if "f" in mode_word
                                                          and not mode_word.startswith("-")]
        directory = (option_values(argv, "-C", "--directory") or ["."])[-1]
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
        directory = (option_values(argv, "-d", None) or ["."])[-1]
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
        if not _REMOTE_WORD.match(source):
            facts.paths.append(PathFact(source, "read", recursive=recursive))
            if "--remove-source-files" in argv:
                facts.paths.append(PathFact(source, "delete", recursive=recursive))
    destination = words[-1]
    if not _REMOTE_WORD.match(destination):
        facts.paths.append(PathFact(destination, "create", recursive=recursive))
        if any(word.startswith("--delete") for word in argv):
            facts.paths.append(PathFact(destination, "delete", recursive=True))


def _downloaders(program: str, argv: tuple[str, ...], facts: CommandFacts) -> None:
    if program == "curl":
        outputs = option_values(argv, "-o", "--output")
        inputs = option_values(argv, "-T", "--upload-file") + option_values(argv, "-K", "--config")
        for option in ("-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F", "--form"):
            inputs += [value.split("@", 1)[1] for value in option_values(argv, option, option) if "@" in value]
    else:
        outputs = [value for value in option_values(argv, "-O", "--output-document") if value != "-"]
        outputs += [directory + "/*" for directory in option_values(argv, "-P", "--directory-prefix")]
        inputs = option_values(argv, "-i", "--input-file") + option_values(argv, None, "--post-file")
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
    users = option_values(argv, "-u", "--euid") + option_values(argv, "-U", "--uid") \
        + option_values(argv, None, "--user")
    for value in users:
        facts.process_users.extend(user for user in value.split(",") if user)
    with_value = "gGPstuUF" if program != "killall" else "usnoy"
    patterns = positionals(argv, with_value, ("--signal", "--euid", "--uid", "--group", "--user", "--parent",
                                              "--session", "--terminal", "--pidfile", "--older-than", "--younger-than"))
    patterns += option_values(argv, "-r", "--regexp") if program == "killall" else []
    if any(pattern in _MATCHES_EVERYTHING for pattern in patterns) or (not patterns and not users):
        facts.all_processes = f"`{program}` with this pattern matches every process"


_HANDLERS = {
    **{name: _deleters for name in _DELETERS},
    **{name: _movers for name in ("mv", "cp", "install", "ln")},
    **{name: _simple_writers for name in (*_CREATORS, *_MODIFIERS, *_CHMODDERS, "mknod")},
    "dd": _dd, "sed": _sed,
    **{name: _archivers for name in ("tar", "zip", "unzip", *_COMPRESSORS)},
    "rsync": _transfer, "scp": _transfer, "curl": _downloaders, "wget": _downloaders,
    **{name: _kill for name in ("kill", "killall5", *_KILLERS)},
}
