"""Commands that run other commands: `sudo`, `env`, `xargs`, `timeout`, `nice`, `sh -c`, `eval`, `su -c`,
options whose value is a command (`tar --to-command`), and the dispatch to `find -exec`, `git -c` and interpreter
code (embedded.py). For each, what it runs, so the parser judges the inner command as well as (or instead of)
the wrapper. Option tables list the options that take a value, so a value is never mistaken for the command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmos.policies.command.embedded import INTERPRETER, find_command, git_command, interpreter_command
from llmos.policies.command.file_options import files_read_by_options
from llmos.policies.command.types import Expansion, Redirect, option_values, program_name


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
# Wrappers that hand their command to a scheduler, which runs it later, outside the sandbox and unseen.
SCHEDULING_WRAPPERS = frozenset({"systemd-run", "at", "batch"})

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
        return find_command(argv)
    if program == "git":
        return git_command(argv)
    if program == "parallel":
        return Expansion(program, keep_self=True, problems=["`parallel` builds commands from its input"])
    if INTERPRETER.fullmatch(program):
        return interpreter_command(program, argv)
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
        if option.startswith("--"):
            values = option_values(argv[1:], None, option)
        else:
            values = option_values(argv[1:], option, None)
        for value in values:
            expansion.problems.append(f"`{program} {option}` runs another command")
            if option == "--checkpoint-action":
                value = value.partition("=")[2]  # exec=COMMAND
            expansion.shell_sources.append((f"{program} {option}", value.lstrip(":!")))  # vim -c ':!cmd'

    if any(word.startswith("+") and len(word) > 1 for word in argv[1:]) and program in ("vim", "vi", "nvim", "ex"):
        expansion.problems.append(f"`{program} +COMMAND` runs an editor command")
    return expansion if expansion.problems else None


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
        redirects = tuple(Redirect(">", value) for value in option_values(argv[1:index], "-o", "--output"))
    if program == "sudo" and any(word in ("-e", "--edit") for word in argv[1:index]):
        return Expansion("sudo -e", inner_argv=("sudoedit", *argv[index:]))
    return Expansion(program, inner_argv=argv[index:], args_from_input=program == "xargs", redirects=redirects,
                     problems=problems, file_reads=files_read_by_options(argv[:index]))


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
        if word in ("-", "--ignore-environment", "--unset") or word.startswith("--unset=") \
                or (word.startswith("-") and not word.startswith("--") and ("i" in word or "u" in word)):
            problems.append("`env` clears or unsets variables that llmos sets to keep programs (git) from running "
                            "what a repository's settings name")
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
                    return Expansion(f"{program} -c", shell_sources=[(f"{program} -c", word.split("=", 1)[1])],
                                     file_reads=files_read_by_options(argv[:index]))
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
        expansion = Expansion(label, shell_sources=[(label, argv[index])],
                              file_reads=files_read_by_options(argv[:index]))
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
    for value in option_values(argv[1:], "-c", "--command"):
        return Expansion("script -c", shell_sources=[("script -c", value)], keep_self=True)
    return Expansion("script", keep_self=True, problems=["`script` without -c opens an interactive shell"])


