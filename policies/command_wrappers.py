"""Commands that run other commands: `sudo`, `env`, `xargs`, `timeout`, `sh -c`, `find -exec`, `git -c alias`,
`python -c`, ... For each, what it runs, so the parser can judge the inner command as well as (or instead of) the
wrapper. Option tables list the options that take a value, so the value is never mistaken for the command.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
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


@dataclass(frozen=True)
class _OptionSpec:
    short_with_value: str = ""
    long_with_value: frozenset[str] = frozenset()
    leading_positionals: int = 0
    """Positional words before the command (timeout's DURATION, taskset's MASK, flock's FILE)."""
    no_command_flags: frozenset[str] = frozenset()
    """Options after which nothing is run (`command -v`, `sudo -l`)."""


def _spec(short: str = "", long: tuple[str, ...] = (), positionals: int = 0,
          no_command: tuple[str, ...] = ()) -> _OptionSpec:
    return _OptionSpec(short, frozenset(long), positionals, frozenset(no_command))


PRIVILEGE_WRAPPERS = frozenset({"sudo", "doas", "pkexec", "run0", "su", "runuser", "sg"})
NETWORK_WRAPPERS = frozenset({"torsocks", "proxychains", "proxychains4", "tsocks"})

_ARGV_WRAPPERS: dict[str, _OptionSpec] = {
    "sudo": _spec("ughpCDrtRTU", ("--user", "--group", "--host", "--prompt", "--close-from", "--chdir", "--role",
                                   "--type", "--other-user", "--command-timeout", "--chroot"),
                  no_command=("-l", "-v", "-k", "-K", "-V", "-h", "--list", "--validate", "--reset-timestamp",
                              "--remove-timestamp", "--version", "--help")),
    "doas": _spec("uC"),
    "pkexec": _spec("", ("--user",)),
    "run0": _spec("ugD", ("--user", "--group", "--chdir", "--setenv", "--unit", "--property", "--description",
                          "--slice", "--nice", "--machine")),
    "xargs": _spec("aEdILnPs", ("--arg-file", "--delimiter", "--eof", "--replace", "--max-lines", "--max-args",
                                "--max-procs", "--max-chars", "--process-slot-var")),
    "timeout": _spec("ks", ("--kill-after", "--signal"), positionals=1),
    "nice": _spec("n", ("--adjustment",)),
    "nohup": _spec(),
    "stdbuf": _spec("ioe", ("--input", "--output", "--error")),
    "time": _spec("fo", ("--format", "--output")),
    "command": _spec(no_command=("-v", "-V")),
    "exec": _spec("a"),
    "builtin": _spec(),
    "setsid": _spec(),
    "ionice": _spec("cnpPu", ("--class", "--classdata", "--pid", "--pgid", "--uid"), no_command=("-p", "-P", "-u")),
    "taskset": _spec("", (), positionals=1, no_command=("-p", "--pid")),
    "flock": _spec("wEc", ("--timeout", "--conflict-exit-code", "--command"), positionals=1),
    "unbuffer": _spec(),
    "catchsegv": _spec(),
    "dbus-run-session": _spec(),
    "xvfb-run": _spec("nlsef", ("--server-num", "--server-args", "--error-file", "--auth-file")),
    "strace": _spec("abeEIoOpPsSuUX"),
    "ltrace": _spec("aeEnoOpsSuX"),
    "torsocks": _spec("uapPi"),
    "proxychains": _spec("f"),
    "proxychains4": _spec("f"),
    "tsocks": _spec(),
    "chronic": _spec(),
    "ifne": _spec(),
    "systemd-run": _spec("pEMHu", ("--unit", "--property", "--description", "--setenv", "--uid", "--gid", "--nice",
                                   "--working-directory", "--machine", "--slice", "--on-active", "--on-boot",
                                   "--on-startup", "--on-unit-active", "--on-unit-inactive", "--on-calendar",
                                   "--timer-property", "--path-property", "--socket-property", "--service-type",
                                   "--host")),
}
# Programs that read shell commands from their input and run them later (`echo 'rm -rf ~' | at now`).
INPUT_SHELLS = frozenset({"at", "batch"})
# Options whose value is a command the program runs.
_COMMAND_OPTIONS: dict[str, tuple[str, ...]] = {
    "tar": ("--to-command", "--use-compress-program", "-I", "--checkpoint-action", "--rsh-command", "--info-script",
            "-F", "--new-volume-script"),
    "sort": ("--compress-program",),
    "zip": ("-TT", "--unzip-command"),
    "rsync": ("-e", "--rsh", "--rsync-path"),
    "vim": ("-c", "--cmd"), "vi": ("-c", "--cmd"), "nvim": ("-c", "--cmd"), "ex": ("-c", "--cmd"),
    "less": ("--lesskey-src",),
}
# Options that change the working directory of the command they run: its relative paths cannot be judged.
_CHDIR_OPTIONS = {"env": ("-C", "--chdir"), "sudo": ("-D", "--chdir"), "systemd-run": ("--working-directory",)}
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh", "rbash", "fish", "tcsh",
                    "csh"})
_INTERPRETER = re.compile(r"(python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|lua[0-9.]*"
                          r"|luajit|Rscript|osascript|tclsh|pwsh|powershell|deno|bun|awk|gawk|mawk|nawk)")
_CODE_FLAGS: dict[str, frozenset[str]] = {
    "python": frozenset({"-c"}), "pypy": frozenset({"-c"}), "perl": frozenset({"-e", "-E"}),
    "ruby": frozenset({"-e"}), "node": frozenset({"-e", "--eval", "-p", "--print"}), "php": frozenset({"-r"}),
    "lua": frozenset({"-e"}), "Rscript": frozenset({"-e"}), "osascript": frozenset({"-e"}),
    "pwsh": frozenset({"-c", "-command"}), "bun": frozenset({"-e", "--eval"}),
}
# Calls in interpreter code that run a shell string or an argv list: their literal arguments are judged too.
_CODE_SHELL_CALL = re.compile(
    r"\b(?:system|popen|spawn\w*|exec\w*|call|run|check_output|check_call|Popen|getoutput|getstatusoutput|"
    r"execSync|spawnSync|qx)\s*\(\s*(?:\[(?P<list>[^\]]*)\]|(?P<quote>['\"])(?P<text>(?:\\.|(?!(?P=quote)).)*)"
    r"(?P=quote))", re.DOTALL)
_CODE_BACKTICK = re.compile(r"`([^`]+)`|%x\(([^)]*)\)|qx\{([^}]*)\}")
_STRING_LITERAL = re.compile(r"(['\"])((?:\\.|(?!\1).)*)\1", re.DOTALL)
GIT_RISKY_CONFIG = re.compile(
    r"^(core\.(sshcommand|pager|editor|fsmonitor|hookspath|gitproxy|askpass)|alias\..*|diff\..*\.(textconv|command)|"
    r"diff\.external|credential\..*helper|filter\..*|merge\..*\.driver|sequence\.editor|gpg\..*program|"
    r"uploadpack\.packobjectshook|protocol\..*|http\..*proxy|url\..*|include\..*|includeif\..*|pager\..*|"
    r"remote\..*\.(uploadpack|receivepack)|ssh\..*|submodule\..*)$", re.IGNORECASE)


def program_name(word: str) -> str:
    """The program a word names: its basename, so `/usr/bin/rm` is `rm`."""
    return posixpath.basename(word) if word not in ("", "/") else word


def expand(argv: tuple[str, ...]) -> Expansion | None:
    """What `argv` runs besides itself, or None when it is not a wrapper."""
    program = program_name(argv[0])
    if program in ("busybox", "toybox") and len(argv) > 1 and not argv[1].startswith("-"):
        return Expansion(program, inner_argv=argv[1:])
    if program in _ARGV_WRAPPERS:
        return _argv_wrapper(program, argv)
    if program in INPUT_SHELLS:
        return Expansion(program, keep_self=True, code_from_stdin=True)
    if program in _COMMAND_OPTIONS:
        return _command_options(program, argv)
    if program == "env":
        return _env(argv)
    if program in SHELLS:
        return _shell(program, argv)
    if program in ("su", "runuser", "sg"):
        return _su(program, argv)
    if program in ("eval", "watch", "trap"):
        return _eval_like(program, argv)
    if program == "script":
        return _script(argv)
    if program == "find":
        return _find(argv)
    if program == "git":
        return _git(argv)
    if program == "parallel":
        return Expansion(program, keep_self=True, problems=["`parallel` builds commands from its input"])
    if _INTERPRETER.fullmatch(program):
        return _interpreter(program, argv)
    return None


def _skip_options(argv: tuple[str, ...], spec: _OptionSpec, start: int = 1) -> tuple[int, bool]:
    """Index of the first word after the options (and leading positionals); True when an option means no command."""
    index = start
    while index < len(argv):
        word = argv[index]
        if word == "--":
            index += 1
            break
        if not word.startswith("-") or word == "-":
            break
        if word in spec.no_command_flags or word.split("=", 1)[0] in spec.no_command_flags:
            return index, True
        if word.startswith("--"):
            index += 2 if "=" not in word and word in spec.long_with_value else 1
            continue
        if re.fullmatch(r"-\d+", word):  # nice -10
            index += 1
            continue
        cluster = word[1:]
        takes_value = False
        for position, letter in enumerate(cluster):
            if f"-{letter}" in spec.no_command_flags:
                return index, True
            if letter in spec.short_with_value:
                takes_value = position == len(cluster) - 1  # `-n5` carries its value, `-n 5` does not
                break
        index += 2 if takes_value else 1
    return min(index + spec.leading_positionals, len(argv)), False


def _command_options(program: str, argv: tuple[str, ...]) -> Expansion | None:
    expansion = Expansion(f"{program} option", keep_self=True)
    for option in _COMMAND_OPTIONS[program]:
        values = _long_values(argv, option) if option.startswith("--") else _option_values(argv[1:], option, option)
        for value in values:
            expansion.problems.append(f"`{program} {option}` runs another command")
            if option == "--checkpoint-action":
                value = value.partition("=")[2]  # exec=COMMAND
            expansion.shell_sources.append((f"{program} {option}", value.lstrip(":!")))  # vim -c ':!cmd'

    if any(word.startswith("+") and len(word) > 1 for word in argv[1:]) and program in ("vim", "vi", "nvim", "ex"):
        expansion.problems.append(f"`{program} +COMMAND` runs an editor command")
    return expansion if expansion.problems else None


def _long_values(argv: tuple[str, ...], option: str) -> list[str]:
    values = []
    for index, word in enumerate(argv[1:], start=1):
        if word == option and index + 1 < len(argv):
            values.append(argv[index + 1])
        elif word.startswith(option + "="):
            values.append(word.split("=", 1)[1])
    return values


def _argv_wrapper(program: str, argv: tuple[str, ...]) -> Expansion:
    spec = _ARGV_WRAPPERS[program]
    index, no_command = _skip_options(argv, spec)
    if program == "flock" and any(word in ("-c", "--command") for word in argv[1:index]):
        command_at = max(i for i, word in enumerate(argv[:index + 1]) if word in ("-c", "--command"))
        if command_at + 1 < len(argv):
            return Expansion(program, shell_sources=[("flock -c", argv[command_at + 1])])
    if no_command or index >= len(argv):
        expansion = Expansion(program, keep_self=True)
        if program in ("sudo", "doas", "pkexec", "run0") and not no_command:
            expansion.problems.append(f"`{program}` without a command opens a root shell")
        return expansion
    redirects: tuple[Redirect, ...] = ()
    problems = [f"`{program} {option}` runs the command in another folder" for option in _CHDIR_OPTIONS.get(program, ())
                if any(word == option or word.startswith(option + "=") for word in argv[1:index])]
    if program == "time":
        redirects = tuple(Redirect(">", value) for value in _option_values(argv[1:index], "-o", "--output"))
    if program == "sudo" and any(word in ("-e", "--edit") for word in argv[1:index]):
        return Expansion("sudo -e", inner_argv=("sudoedit", *argv[index:]))
    return Expansion(program, inner_argv=argv[index:], args_from_input=program == "xargs", redirects=redirects,
                     problems=problems)


def _option_values(words: tuple[str, ...], short: str, long: str) -> list[str]:
    values = []
    for position, word in enumerate(words):
        if word in (short, long) and position + 1 < len(words):
            values.append(words[position + 1])
        elif word.startswith(long + "="):
            values.append(word.split("=", 1)[1])
        elif word.startswith(short) and len(word) > len(short) and not word.startswith("--"):
            values.append(word[len(short):])
    return values


def _env(argv: tuple[str, ...]) -> Expansion:
    problems: list[str] = []
    index = 1
    while index < len(argv):
        word = argv[index]
        if word in ("-S", "--split-string") or word.startswith(("-S", "--split-string=")):
            source = argv[index + 1] if word in ("-S", "--split-string") and index + 1 < len(argv) \
                else word.split("=", 1)[1] if word.startswith("--") else word[2:]
            rest = " ".join(_quote(arg) for arg in argv[index + 2:]) if word in ("-S", "--split-string") else ""
            return Expansion("env -S", shell_sources=[("env -S", f"{source} {rest}".strip())],
                             problems=["`env -S` splits a string into a command"])
        if word == "--":
            index += 1
            break
        if word in ("-C", "--chdir") or word.startswith("--chdir="):
            problems.append("`env --chdir` runs the command in another folder")
        if word in ("-u", "-C", "--unset", "--chdir", "-P"):
            index += 2
        elif word.startswith("-") and word != "-":
            index += 1
        else:
            break
    assignments = []
    while index < len(argv) and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", argv[index]):
        assignments.append(argv[index])
        index += 1
    if index >= len(argv):
        return Expansion("env", keep_self=True, problems=problems)
    return Expansion("env", inner_argv=argv[index:], assignments=tuple(assignments), problems=problems)


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _shell(program: str, argv: tuple[str, ...]) -> Expansion:
    command_flag = False
    reads_stdin = False
    index = 1
    while index < len(argv):
        word = argv[index]
        if word in ("--", "-"):
            index += 1
            break
        if word.startswith("--"):
            if word in ("--rcfile", "--init-file"):
                index += 1
            elif word == "--command" or word.startswith("--command="):
                command_flag = True
                if "=" in word:
                    return Expansion(f"{program} -c", shell_sources=[(f"{program} -c", word.split("=", 1)[1])])
            index += 1
            continue
        if not word.startswith(("-", "+")) or len(word) == 1:
            break
        letters = word[1:]
        command_flag = command_flag or "c" in letters
        reads_stdin = reads_stdin or "s" in letters
        index += 1 + sum(1 for letter in letters if letter in "oO")  # -o NAME, -O SHOPT
    label = f"{program} -c"
    if command_flag:
        if index >= len(argv):
            return Expansion(label, keep_self=True, problems=[f"`{program} -c` without a command string"])
        expansion = Expansion(label, shell_sources=[(label, argv[index])])
        if len(argv) > index + 1 and re.search(r"\$[0-9@*{]", argv[index]):
            expansion.problems.append(f"`{label}` uses positional arguments given after its command string")
        return expansion
    if index >= len(argv) or reads_stdin:
        return Expansion(program, keep_self=True, code_from_stdin=True)
    expansion = Expansion(program, keep_self=True)
    script = argv[index]
    if re.search(r"[\s;&|<>()$`]", script):
        expansion.problems.append(f"`{program}` is given a script name that looks like a command line")
        expansion.shell_sources.append((f"{program} script", script))
    return expansion


def _su(program: str, argv: tuple[str, ...]) -> Expansion:
    for index, word in enumerate(argv[1:], start=1):
        if word in ("-c", "--command") and index + 1 < len(argv):
            return Expansion(f"{program} -c", shell_sources=[(f"{program} -c", argv[index + 1])])
        if word.startswith("--command="):
            return Expansion(f"{program} -c", shell_sources=[(f"{program} -c", word.split("=", 1)[1])])
    if program == "runuser" and "--" in argv:
        rest = argv[argv.index("--") + 1:]
        if rest:
            return Expansion(program, inner_argv=rest)
    return Expansion(program, keep_self=True, problems=[f"`{program}` opens a shell as another user"])


def _eval_like(program: str, argv: tuple[str, ...]) -> Expansion:
    words = list(argv[1:])
    if program == "watch":
        index, _ = _skip_options(argv, _spec("nd", ("--interval", "--differences")))
        words = list(argv[index:])
    elif program == "trap":
        words = words[:1] if words and words[0] not in ("-l", "-p") else []
    if not words:
        return Expansion(program, keep_self=True)
    return Expansion(program, shell_sources=[(program, " ".join(words))])


def _script(argv: tuple[str, ...]) -> Expansion:
    for value in _option_values(argv[1:], "-c", "--command"):
        return Expansion("script -c", shell_sources=[("script -c", value)], keep_self=True)
    return Expansion("script", keep_self=True, problems=["`script` without -c opens an interactive shell"])


_FIND_EXEC = ("-exec", "-execdir", "-ok", "-okdir")
_FIND_ROOT_EXCLUDING_TESTS = ("-name", "-iname")


def _find(argv: tuple[str, ...]) -> Expansion:
    """`find` stays a command (its roots are read, `-delete` deletes); each `-exec` command is judged with `{}`
    standing for everything beneath the root (`root/*/**`) and, when the expression may select it, the root."""
    expansion = Expansion("find -exec", keep_self=True)
    index = 1
    while index < len(argv) and (argv[index] in ("-H", "-L", "-P", "-D") or argv[index].startswith("-O")):
        index += 2 if argv[index] == "-D" else 1
    roots = []
    while index < len(argv) and not argv[index].startswith("-") and argv[index] not in ("(", "!", ")", ","):
        roots.append(argv[index])
        index += 1
    roots = roots or ["."]
    expression = argv[index:]
    placeholders = [f"{root.rstrip('/')}/*/**" for root in roots]  # strictly beneath the root
    placeholders += [root for root in roots if find_may_match_root(root, expression)]
    position = 0
    while position < len(expression):
        word = expression[position]
        if word in _FIND_EXEC:
            end = position + 1
            while end < len(expression) and expression[end] not in (";", "+"):
                end += 1
            if end >= len(expression):
                expansion.problems.append(f"`find {word}` is never ended with `;` or `+`")
            inner = expression[position + 1:end]
            if inner:
                for placeholder in placeholders:
                    substituted = tuple(part.replace("{}", placeholder) for part in inner)
                    expansion.argv_lists.append((f"find {word}", substituted))
            position = end + 1
            continue
        position += 1
    return expansion


def find_may_match_root(root: str, expression: tuple[str, ...]) -> bool:
    """Whether find's expression can select the root itself: not when `-mindepth` >= 1, a `-type` leaves out
    folders, or a `-name` test does not match the root's own name (with no `-o` or `!` to undo it)."""
    if any(word in ("-o", "-or", ",", "!", "-not") for word in expression):
        return True
    name = posixpath.basename(root.rstrip("/")) or root
    for position, word in enumerate(expression[:-1]):
        value = expression[position + 1]
        if word == "-mindepth" and value.isdigit() and int(value) >= 1:
            return False
        if word in ("-type", "-xtype") and "d" not in value:
            return False
        if word in _FIND_ROOT_EXCLUDING_TESTS:
            matches = fnmatch.fnmatchcase(name.lower(), value.lower()) if word == "-iname" \
                else fnmatch.fnmatchcase(name, value)
            if not matches:
                return False
    return True


_GIT_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix",
                                    "--exec-path", "--config-env", "--list-cmds"})


def git_subcommand_index(argv: tuple[str, ...]) -> int:
    """Index of git's subcommand, after its global options (`-C dir`, `-c key=value`, `--no-pager`)."""
    index = 1
    while index < len(argv) and argv[index].startswith("-"):
        word = argv[index]
        index += 2 if word in _GIT_GLOBAL_WITH_VALUE else 1
    return index


def _git(argv: tuple[str, ...]) -> Expansion:
    expansion = Expansion("git alias", keep_self=True)
    subcommand_at = git_subcommand_index(argv)
    settings = [argv[i + 1] for i in range(1, min(subcommand_at, len(argv) - 1)) if argv[i] == "-c"]
    settings += [word[2:] for word in argv[1:subcommand_at] if word.startswith("-c") and len(word) > 2]
    for setting in settings:
        key, _, value = setting.partition("=")
        if GIT_RISKY_CONFIG.match(key.strip()):
            expansion.problems.append(f"`git -c {key}` can make git run another program")
            if value.startswith("!"):
                expansion.shell_sources.append(("git alias", value[1:]))
            elif key.lower().endswith(("sshcommand", "pager", "editor", "fsmonitor", "askpass", "gitproxy")):
                expansion.shell_sources.append((f"git -c {key}", value))
    if any(word.startswith(("--exec-path", "--config-env")) for word in argv[1:subcommand_at]):
        expansion.problems.append("git is told to take its programs or settings from elsewhere")
    rest = argv[subcommand_at:]
    subcommand = rest[0] if rest else ""
    if subcommand in ("rebase", "difftool", "mergetool"):
        for value in _option_values(rest, "-x", "--exec") + _option_values(rest, "-t", "--extcmd"):
            expansion.problems.append(f"`git {subcommand}` is given a command to run")
            expansion.shell_sources.append((f"git {subcommand} --exec", value))
    elif subcommand == "bisect" and len(rest) > 2 and rest[1] == "run":
        expansion.argv_lists.append(("git bisect run", rest[2:]))
    return expansion


def _interpreter(program: str, argv: tuple[str, ...]) -> Expansion:
    """`python -c CODE`, `perl -e CODE`, `awk PROGRAM`: the command is kept and marked as running that code;
    shell strings the code passes to system()/subprocess are judged as commands too."""
    family = re.sub(r"[0-9.]+$", "", program)
    family = {"nodejs": "node", "powershell": "pwsh", "luajit": "lua"}.get(family, family)
    expansion = Expansion(f"{program} code", keep_self=True)
    code: str | None = None
    if family in ("awk", "gawk", "mawk", "nawk"):
        code = _awk_program(argv)
    else:
        flags = _CODE_FLAGS.get(family, frozenset())
        code = _code_argument(argv, flags)
        if code is None and family in ("python", "pypy"):
            module = _option_values(argv[1:], "-m", "--module")
            code = f"-m {module[0]}" if module else None
        if code is None and not any(not word.startswith("-") for word in argv[1:]):
            expansion.code_from_stdin = True
    expansion.code = code
    if code:
        expansion.shell_sources, expansion.argv_lists = commands_in_code(f"{program} code", code)
    return expansion


def commands_in_code(label: str, code: str) -> tuple[list[tuple[str, str]], list[tuple[str, tuple[str, ...]]]]:
    """Shell strings and argv lists that interpreter code passes as literals to system(), subprocess, exec..."""
    shell_sources: list[tuple[str, str]] = []
    argv_lists: list[tuple[str, tuple[str, ...]]] = []
    for match in _CODE_SHELL_CALL.finditer(code):
        if match.group("list") is not None:
            words = tuple(literal for _, literal in _STRING_LITERAL.findall(match.group("list")))
            if words:
                argv_lists.append((label, words))
        elif match.group("text"):
            shell_sources.append((label, match.group("text")))
    for match in _CODE_BACKTICK.finditer(code):
        shell_sources.append((label, next(group for group in match.groups() if group is not None)))
    return shell_sources, argv_lists


def _code_argument(argv: tuple[str, ...], flags: frozenset[str]) -> str | None:
    short_letters = {flag[1] for flag in flags if len(flag) == 2}
    for index, word in enumerate(argv[1:], start=1):
        if word == "--":
            return None
        if word in flags or word.split("=", 1)[0] in flags:
            if "=" in word and word.startswith("--"):
                return word.split("=", 1)[1]
            return argv[index + 1] if index + 1 < len(argv) else ""
        if word.startswith("-") and not word.startswith("--") and len(word) > 2:
            for position, letter in enumerate(word[1:], start=1):
                if letter in short_letters:  # `-ne CODE`, `-cCODE`
                    rest = word[position + 1:]
                    if rest:
                        return rest
                    return argv[index + 1] if index + 1 < len(argv) else ""
        if not word.startswith("-"):
            return None  # a script file: its code is not on the command line
    return None


def _awk_program(argv: tuple[str, ...]) -> str | None:
    index = 1
    while index < len(argv):
        word = argv[index]
        if word in ("-f", "--file"):
            return None
        if word in ("-v", "-F", "--assign", "--field-separator"):
            index += 2
            continue
        if word == "--":
            index += 1
            break
        if word.startswith("-") and word != "-":
            index += 1
            continue
        break
    return argv[index] if index < len(argv) else None
