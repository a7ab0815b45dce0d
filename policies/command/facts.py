"""What one parsed command would do, from what is known of its program: the paths it reads, writes, deletes or
moves (with redirections), whether it uses the network, which processes it signals, whether it runs code given
on its command line. A program not in these tables is "unknown": each of its arguments might be a path it
changes, so protected paths and secrets among them are still refused.
"""

from __future__ import annotations

import re

from llmos.policies.command.embedded import find_may_match_root, git_subcommand_index
from llmos.policies.command.file_options import files_read_by_options, option_values_read_if_secret
from llmos.policies.command.parse import SimpleCommand, flags_of
from llmos.policies.command.types import CommandFacts, PathFact, option_values, positionals, program_name
from llmos.policies.command.wrappers import NETWORK_WRAPPERS, PRIVILEGE_WRAPPERS, SCHEDULING_WRAPPERS
from llmos.policies.command.writers import HANDLERS, REMOTE_WORD

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
_DEV_NET = re.compile(r"^/dev/(tcp|udp)/")


def facts_of(command: SimpleCommand) -> CommandFacts:
    """The facts of one command, its redirections included."""
    facts = CommandFacts()
    argv = command.argv
    for redirect in command.redirects:
        _redirect_fact(redirect.op, redirect.target, facts)
    privileged = [label for label in command.via if label.split()[0] in PRIVILEGE_WRAPPERS]
    if privileged or (argv and program_name(argv[0]) in PRIVILEGE_WRAPPERS):
        facts.privilege = privileged[0] if privileged else program_name(argv[0])
    scheduled = [label.split()[0] for label in command.via if label.split()[0] in SCHEDULING_WRAPPERS]
    if scheduled:
        facts.runs_later = scheduled[0]
    if any(label in NETWORK_WRAPPERS for label in command.via):
        facts.network = "runs through a network proxy"
    if not argv:
        return facts
    program = program_name(argv[0])
    if command.args_from_input:
        argv = (*argv, "$INPUT")  # xargs adds words only known when it runs: judged as an unknown path
    if command.code is not None:
        facts.runs_code = f"`{program}` runs code given on its command line"
        _code_paths(command.code, facts)
    elif command.code_from_stdin and command.stage > 0:
        facts.runs_code = f"`{program}` runs whatever arrives on its input as code"
    _network_fact(program, argv, command, facts)
    if any(_DEV_NET.match(word) for word in argv):
        facts.network = "uses a /dev/tcp or /dev/udp connection"
    # Files read through options (`wc --files0-from=F`, `grep -f F`, `gcc @F`) are reads like `cat F`, whatever
    # else the program's handler says; any other option value is refused when it names an existing secret.
    facts.paths.extend(PathFact(word, "read") for word in files_read_by_options(argv))
    facts.paths.extend(PathFact(word, "read", only_if_secret=True) for word in option_values_read_if_secret(argv))
    handler = HANDLERS.get(program)
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
        for word in [*positionals(argv), *(w.split("=", 1)[1] for w in argv[1:] if w.startswith("--") and "=" in w)]:
            if word and word != "-" and not REMOTE_WORD.match(word):
                facts.paths.append(PathFact(word, "modify", unknown_program=True))
    return facts


_HOME_IN_CODE = re.compile(r"Path\.home\(\)|expanduser\(\s*['\"]~['\"]\s*\)|environ\[\s*['\"]HOME['\"]\s*\]|"
                           r"getenv\(\s*['\"]HOME['\"]\s*\)|\$ENV\{HOME\}|process\.env\.HOME|Dir\.home|ENV\[['\"]HOME['\"]\]|"
                           r"os\.homedir\(\)")
_DESTRUCTIVE_IN_CODE = re.compile(r"rmtree|remove|unlink|rmdir|rename|replace|chmod|chown|truncate|rmSync|rm_r|"
                                  r"rimraf|FileUtils|shutil\.move|\bmove\(|\bwrite|open\([^)]*['\"][wa+]")
_CODE_STRING = re.compile(r"(['\"])((?:\\.|(?!\1).)*)\1")


def _code_paths(code: str, facts: CommandFacts) -> None:
    """Paths named in inline code (string literals, the home folder however it is spelled): with a deleting or
    writing call in the code they are judged as deleted, else as read, so a protected path or secret is refused."""
    words = [literal for _, literal in _CODE_STRING.findall(code) if literal.startswith(("/", "~"))]
    if _HOME_IN_CODE.search(code):
        words.append("~")
    destructive = bool(_DESTRUCTIVE_IN_CODE.search(code))
    for word in words:
        if destructive:
            facts.paths.append(PathFact(word, "delete", recursive=True))
        else:
            facts.paths.append(PathFact(word, "read", unknown_program=True))


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
    elif program in ("rsync",) and any(REMOTE_WORD.match(word) for word in positionals(argv)):
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
        for value in option_values(argv[1:], "-f", "--file"):
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
        for value in option_values(argv[1:], "-o", None):
            facts.paths.append(PathFact(value, "create"))
        return
    words = positionals(argv, {"sort": "okStT", "head": "nc", "tail": "ncs", "uniq": "fsw", "cut": "bcdf",
                               "xxd": "clsgo", "jq": ""}.get(program, ""))
    if program == "sort":
        for value in option_values(argv[1:], "-o", "--output"):
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

    for value in option_values(rest[1:], "-o", "--output"):
        facts.paths.append(PathFact(at(value), "create"))
    words = positionals(rest)
    facts.paths.append(PathFact(at("."), "read"))  # the repository it works in (`git -C ~/.ssh log` reads secrets)
    if "--no-index" in rest:  # git diff --no-index compares any two files
        facts.paths.extend(PathFact(at(word), "read") for word in words)
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


