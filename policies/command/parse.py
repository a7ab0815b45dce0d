"""Parse a command for judging it (never for running it: running is argv-only): every simple command it would
run, through pipes, `;`, `&&`, `||`, substitutions, brace groups, subshells and wrappers (`sudo`, `env`, `xargs`,
`sh -c`, `find -exec`, `python -c`, ...), with its redirections and the wrapper chain that led to it.

What cannot be parsed or understood is a problem, and the engine asks about any command with a problem. The
parser never raises: a crash would be a way around policy.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmos.policies.command.embedded import commands_in_code, find_placeholders
from llmos.policies.command.flags import flags_of
from llmos.policies.command.lexer import REDIRECT_OPERATORS, Token, lex
from llmos.policies.command.types import Redirect, program_name
from llmos.policies.command.wrappers import INPUT_SHELLS, SHELLS, expand

__all__ = ["ParsedCommand", "Redirect", "SimpleCommand", "flags_of", "parse_command", "parse_shell",
           "program_name"]

MAX_DEPTH = 8
_SHELL_SYNTAX = re.compile(r"[\s;&|<>()$`\\\"'*?\[\]{}]")
_SEPARATORS = frozenset({";", "&", "&&", "||", ";;", ";&", ";;&"})
_PIPES = frozenset({"|", "|&"})
_TRANSPARENT_KEYWORDS = frozenset({"if", "then", "elif", "else", "fi", "do", "done", "while", "until", "!", "{",
                                   "}", "esac", "coproc"})
# Assignments that change which program runs or what it loads: a command preceded by one is not what it looks like.
_HIJACKING_VARIABLES = re.compile(
    r"^(PATH|HOME|LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|DYLD_\w+|BASH_ENV|ENV|PROMPT_COMMAND|IFS|SHELLOPTS|BASHOPTS|"
    r"PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5LIB|PERL5OPT|RUBYOPT|RUBYLIB|NODE_OPTIONS|NODE_PATH|GIT_\w+|"
    r"EDITOR|VISUAL|PAGER|LESSOPEN|LESSCLOSE|MANPAGER|BROWSER|SUDO_ASKPASS|SSH_ASKPASS|BASH_FUNC_\w+)\+?=")


@dataclass(frozen=True)
class SimpleCommand:
    """One program run with its arguments. `via` is the chain of wrappers that runs it, outermost first, e.g.
    ("sudo", "bash -c"); `$()`, "``", `<()` mark command substitutions."""

    argv: tuple[str, ...]
    redirects: tuple[Redirect, ...] = ()
    via: tuple[str, ...] = ()
    assignments: tuple[str, ...] = ()
    code: str | None = None
    """Inline code an interpreter runs (`python -c CODE`, `perl -e CODE`, an awk program)."""
    code_from_stdin: bool = False
    """A shell or interpreter with no script: it runs whatever arrives on its input (`curl ... | sh`)."""
    args_from_input: bool = False
    """xargs adds arguments read from input: the full argument list is not known before it runs."""
    pipeline: int = 0
    stage: int = 0
    """Which pipeline the command belongs to, and its place in it (0 = first)."""

    @property
    def program(self) -> str:
        return program_name(self.argv[0]) if self.argv else ""


@dataclass
class ParsedCommand:
    commands: list[SimpleCommand] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    fork_bomb: str | None = None
    """Why the line is a fork bomb (a shell function piped into itself), or None."""


def parse_command(argv: Sequence[str]) -> ParsedCommand:
    """Every simple command `argv` would run. A bare argv is one command; a shell (`bash -c STRING`) or wrapper
    in it is looked through."""
    parser = _Parser()
    try:
        words = tuple(str(word) for word in argv)
        if not words or not words[0]:
            parser.problems.append("the command is empty")
        elif any("\x00" in word for word in words):
            parser.problems.append("an argument contains a NUL character")
        elif _SHELL_SYNTAX.search(words[0]):
            parser.problems.append(f"the program name {words[0]!r} has spaces or shell syntax; judged as a shell line")
            parser.shell(" ".join((words[0], *(_quote(word) for word in words[1:]))), (), 0)
        else:
            assignments = []
            while len(words) > 1 and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                assignments.append(words[0])
                words = words[1:]
            parser.simple(words, (), tuple(assignments), (), parser.new_pipeline(), 0, 0)
    except Exception as exc:  # noqa: BLE001 - fail closed: a parser bug is a problem (ask), never a way through
        parser.problems.append(f"the command could not be parsed ({type(exc).__name__})")
    return parser.result()


def parse_shell(text: str) -> ParsedCommand:
    """Every simple command a shell string would run."""
    parser = _Parser()
    try:
        parser.shell(text, (), 0)
    except Exception as exc:  # noqa: BLE001 - fail closed: a parser bug is a problem (ask), never a way through
        parser.problems.append(f"the command could not be parsed ({type(exc).__name__})")
    return parser.result()


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _printed_text(argv: tuple[str, ...]) -> str:
    """Roughly what `echo ...` or `printf ...` prints: the words, escapes like \\n decoded."""
    words = list(argv[1:])
    while words and argv[0].endswith("echo") and re.fullmatch(r"-[neE]+", words[0]):
        words.pop(0)
    text = " ".join(words)
    return text.replace("\\n", "\n").replace("\\t", "\t")


class _Parser:
    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.problems: list[str] = []
        self.recursive_calls: list[tuple[str, int]] = []
        """(function, pipeline) for each call a shell function's body makes to the function itself."""
        self._pipelines = 0

    def result(self) -> ParsedCommand:
        self.feed_piped_text()
        self.feed_found_paths()
        return ParsedCommand(self.commands, list(dict.fromkeys(self.problems)), self.fork_bomb())

    def fork_bomb(self) -> str | None:
        """`:(){ :|:& };:`: a shell function whose body runs itself twice (piped into itself, or twice in the
        background) starts two copies each time it runs, doubling until the process table is full."""
        calls: dict[str, int] = {}
        for name, _pipeline in self.recursive_calls:
            calls[name] = calls.get(name, 0) + 1
            if calls[name] >= 2:
                return (f"the shell function `{name}` runs itself twice each time it runs: a fork bomb, which starts "
                        "processes until the machine stops responding")
        return None

    def new_pipeline(self) -> int:
        self._pipelines += 1
        return self._pipelines - 1

    def shell(self, text: str, via: tuple[str, ...], depth: int) -> None:
        if depth > MAX_DEPTH:
            self.problems.append("commands nested too deeply to judge")
            return
        tokens, problems = lex(text, depth)
        self.problems.extend(problems)
        _Sequence(self, via, depth).run(tokens)

    def simple(self, argv: tuple[str, ...], redirects: tuple[Redirect, ...], assignments: tuple[str, ...],
               via: tuple[str, ...], pipeline: int, stage: int, depth: int, args_from_input: bool = False) -> None:
        for assignment in assignments:
            if _HIJACKING_VARIABLES.match(assignment):
                self.problems.append(f"`{assignment.split('=', 1)[0]}=` changes what the command runs or loads")
        if not argv:
            if redirects:
                self.commands.append(SimpleCommand((), redirects, via, assignments, pipeline=pipeline, stage=stage))
            return
        if "$" in argv[0] or not argv[0]:
            self.problems.append(f"the program name {argv[0]!r} is only known when it runs")
        expansion = expand(argv) if depth <= MAX_DEPTH else None
        if depth > MAX_DEPTH:
            self.problems.append("commands nested too deeply to judge")
        if expansion is None:
            self.commands.append(SimpleCommand(argv, redirects, via, assignments, pipeline=pipeline, stage=stage,
                                               args_from_input=args_from_input))
            return
        self.problems.extend(expansion.problems)
        inner_via = (*via, expansion.label)
        if expansion.file_reads:  # what the wrapper reads itself, as reads (`xargs -a F` reads F)
            self.commands.append(SimpleCommand((), tuple(Redirect("<", word) for word in expansion.file_reads),
                                               inner_via, pipeline=pipeline, stage=stage))
        redirects_used = False
        if expansion.inner_argv:
            self.simple(expansion.inner_argv, redirects + expansion.redirects, assignments + expansion.assignments,
                        inner_via, pipeline, stage, depth + 1, expansion.args_from_input)
            redirects_used = True
        for label, source in expansion.shell_sources:
            self.shell(source, (*via, label), depth + 1)
        for label, inner_argv in expansion.argv_lists:
            self.simple(inner_argv, (), (), (*via, label), self.new_pipeline(), 0, depth + 1)
        produced_nothing = not (expansion.inner_argv or expansion.shell_sources or expansion.argv_lists)
        if expansion.keep_self or produced_nothing or (redirects and not redirects_used):
            code = expansion.code
            if expansion.code_from_stdin and not redirects_used:
                code = self._input_code(argv, redirects, via, depth) or code
            self.commands.append(SimpleCommand(
                argv, () if redirects_used else redirects, via, assignments, code,
                expansion.code_from_stdin, args_from_input, pipeline, stage))

    def _input_code(self, argv: tuple[str, ...], redirects: tuple[Redirect, ...], via: tuple[str, ...],
                    depth: int) -> str | None:
        """A shell reading a here-document or here-string runs its text: judge it. For an interpreter, the text
        is its code."""
        program = program_name(argv[0])
        for redirect in redirects:
            if redirect.op.lstrip("0") in ("<<", "<<-", "<<<"):
                label = f"{program} {redirect.op}"
                if program in SHELLS or program in INPUT_SHELLS:
                    self.shell(redirect.target, (*via, label), depth + 1)
                    return None
                self._code_commands(redirect.target, (*via, label), depth)
                return redirect.target
        return None

    def _code_commands(self, code: str, via: tuple[str, ...], depth: int) -> None:
        shell_sources, argv_lists = commands_in_code(via[-1], code)
        for _, source in shell_sources:
            self.shell(source, via, depth + 1)
        for _, inner_argv in argv_lists:
            self.simple(inner_argv, (), (), via, self.new_pipeline(), 0, depth + 1)

    def feed_found_paths(self) -> None:
        """`find ROOT ... | xargs CMD`: the words xargs adds are paths find selected, so CMD is judged on ROOT/**."""
        for position, command in enumerate(self.commands):
            if not command.args_from_input or command.stage == 0:
                continue
            source = next((c for c in self.commands if c.pipeline == command.pipeline and c.stage == command.stage - 1
                           and c.program == "find"), None)
            if source is not None:
                self.commands[position] = dataclasses.replace(
                    command, argv=(*command.argv, *find_placeholders(source.argv)), args_from_input=False)

    def feed_piped_text(self) -> None:
        """`echo 'rm -rf ~' | sh`: the text echo writes is what the shell runs, so it is judged as commands."""
        for command in list(self.commands):
            if not command.code_from_stdin or command.stage == 0:
                continue
            source = next((c for c in self.commands if c.pipeline == command.pipeline and c.stage == command.stage - 1
                           and c.program in ("echo", "printf")), None)
            if source is None:
                continue
            text = _printed_text(source.argv)
            label = f"{source.program} | {command.program}"
            if command.program in SHELLS or command.program in INPUT_SHELLS:
                self.shell(text, (*command.via, label), 1)
            else:
                self.commands[self.commands.index(command)] = dataclasses.replace(command, code=text)
                self._code_commands(text, (*command.via, label), 1)


class _Sequence:
    """Walks the tokens of one shell string, cutting them into simple commands."""

    def __init__(self, parser: _Parser, via: tuple[str, ...], depth: int) -> None:
        self.parser = parser
        self.via = via
        self.depth = depth
        self.words: list[Token] = []
        self.assignments: list[Token] = []
        self.redirects: list[Redirect] = []
        self.substitutions: list[tuple[str, str]] = []
        self.pipeline = parser.new_pipeline()
        self.stage = 0
        self.paren_depth = 0
        self.skip_until: tuple[str, ...] = ()
        self.function_body: str | None = None
        """The function whose `{ ... }` body is being read (`f() { ... }`), to see it call itself."""
        self.pending_function: str | None = None
        self.brace_depth = 0

    def run(self, tokens: list[Token]) -> None:
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            self._collect(token)
            if self.skip_until:
                if token.kind == "op" and token.text in _SEPARATORS or token.text in self.skip_until:
                    self.skip_until = ()
                continue
            if token.kind == "word":
                self._word(token, tokens, index)
                if token.text == "function" and not token.quoted and self.words == [] and index < len(tokens):
                    self.pending_function = tokens[index].text
                    index += 1  # the function's name
                continue
            op = token.text
            if op in _SEPARATORS:
                self._finish()
                self.pipeline, self.stage = self.parser.new_pipeline(), 0
            elif op in _PIPES:
                self._finish()
                self.stage += 1
            elif op == "(":
                if len(self.words) == 1 and index < len(tokens) and tokens[index].text == ")":
                    self.parser.problems.append(f"defines a shell function `{self.words[0].text}`")
                    self.pending_function = self.words[0].text
                    self.words = []
                    index += 1
                elif self.words:
                    self.parser.problems.append("a `(` in the middle of a command")
                else:
                    self.paren_depth += 1
            elif op == ")":
                self._finish()
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    self.parser.problems.append("a `)` without a matching `(`")
                    self.paren_depth = 0
            elif _is_redirect(op):
                if index < len(tokens) and tokens[index].kind == "word":
                    target = tokens[index]
                    self._collect(target)
                    # A here-document's target is its text: what a shell reading it would run.
                    text = target.heredoc_body if target.heredoc_body is not None else target.text
                    self.redirects.append(Redirect(op, text))
                    index += 1
                else:
                    self.parser.problems.append(f"the redirection `{op}` has no target")
            else:
                self.parser.problems.append(f"unexpected `{op}`")
        if self.paren_depth > 0:
            self.parser.problems.append("a `(` is never closed")
        self._finish()

    def _collect(self, token: Token) -> None:
        self.substitutions.extend((substitution.kind, substitution.source) for substitution in token.substitutions)

    def _word(self, token: Token, tokens: list[Token], index: int) -> None:
        at_command_start = not self.words and not self.assignments
        if at_command_start and not token.quoted:
            self._track_function_body(token.text)
            if token.text in _TRANSPARENT_KEYWORDS:
                if token.text == "coproc":
                    self.parser.problems.append("`coproc` runs a command in the background")
                return
            if token.text in ("for", "select"):
                self.skip_until = ("do",)
                return
            if token.text == "case":
                self.parser.problems.append("`case` statements are judged approximately")
                self.skip_until = ("in",)
                return
            if token.text == "[[":
                self.skip_until = ("]]",)
                return
            if token.text == "function":
                self.parser.problems.append("defines a shell function")
                return
        if token.assignment and not self.words:
            self.assignments.append(token)
        else:
            self.words.append(token)

    def _track_function_body(self, word: str) -> None:
        if word == "{":
            if self.pending_function is not None and self.function_body is None:
                self.function_body, self.pending_function, self.brace_depth = self.pending_function, None, 0
            if self.function_body is not None:
                self.brace_depth += 1
        elif word == "}" and self.function_body is not None:
            self.brace_depth -= 1
            if self.brace_depth == 0:
                self.function_body = None

    def _finish(self) -> None:
        if self.function_body is not None and self.words and self.words[0].text == self.function_body:
            self.parser.recursive_calls.append((self.function_body, self.pipeline))
        words, assignments, redirects = self.words, self.assignments, self.redirects
        substitutions = self.substitutions
        self.words, self.assignments, self.redirects, self.substitutions = [], [], [], []
        for kind, source in substitutions:
            self.parser.shell(source, (*self.via, kind), self.depth + 1)
        if not (words or assignments or redirects):
            return
        argv = tuple(expanded for token in words for expanded in token.expansions)
        self.parser.simple(argv, tuple(redirects), tuple(token.text for token in assignments), self.via,
                           self.pipeline, self.stage, self.depth)


def _is_redirect(op: str) -> bool:
    return op.lstrip("0123456789") in REDIRECT_OPERATORS
