"""Commands that carry other commands inside them: `find -exec` (with `{}` standing for what find selects),
git settings and aliases that run programs (`git -c alias.x=!cmd`, `git rebase -x`), and interpreter code
(`python -c`, `perl -e`, awk programs) with the shell strings it passes to system() or subprocess."""

from __future__ import annotations

import fnmatch
import posixpath
import re

from llmos.policies.command.types import Expansion, option_values

INTERPRETER = re.compile(r"(python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|lua[0-9.]*"
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


_FIND_EXEC = ("-exec", "-execdir", "-ok", "-okdir")
_FIND_ROOT_EXCLUDING_TESTS = ("-name", "-iname")


def find_command(argv: tuple[str, ...]) -> Expansion:
    """`find` stays a command (its roots are read, `-delete` deletes); each `-exec` command is judged with `{}`
    standing for everything beneath the root (`root/*/**`) and, when the expression may select it, the root."""
    expansion = Expansion("find -exec", keep_self=True)
    roots, expression = find_roots(argv)
    placeholders = find_placeholders(argv)
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


def find_roots(argv: tuple[str, ...]) -> tuple[list[str], tuple[str, ...]]:
    """find's starting points (default `.`) and the expression after them."""
    index = 1
    while index < len(argv) and (argv[index] in ("-H", "-L", "-P", "-D") or argv[index].startswith("-O")):
        index += 2 if argv[index] == "-D" else 1
    roots = []
    while index < len(argv) and not argv[index].startswith("-") and argv[index] not in ("(", "!", ")", ","):
        roots.append(argv[index])
        index += 1
    return roots or ["."], argv[index:]


def find_placeholders(argv: tuple[str, ...]) -> list[str]:
    """What a path find selects may be: anything strictly beneath a root (`root/*/**`) and, when the expression
    may select it, the root itself."""
    roots, expression = find_roots(argv)
    placeholders = [f"{root.rstrip('/')}/*/**" for root in roots]
    return placeholders + [root for root in roots if find_may_match_root(root, expression)]


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


def git_command(argv: tuple[str, ...]) -> Expansion:
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
        for value in option_values(rest, "-x", "--exec") + option_values(rest, "-t", "--extcmd"):
            expansion.problems.append(f"`git {subcommand}` is given a command to run")
            expansion.shell_sources.append((f"git {subcommand} --exec", value))
    elif subcommand == "bisect" and len(rest) > 2 and rest[1] == "run":
        expansion.argv_lists.append(("git bisect run", rest[2:]))
    return expansion


def interpreter_command(program: str, argv: tuple[str, ...]) -> Expansion:
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
            module = option_values(argv[1:], "-m", "--module")
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
