"""Split a shell string into words and operators the way bash would, for judging it, never for running it.

Quotes are removed, `$'...'` escapes decoded, `$HOME` at the start of a word becomes `~`, and the command
substitutions inside a word (`$(...)`, backticks, `<(...)`, here-document bodies) are collected so the parser can
judge them too. A parameter expansion whose value is unknown stays in the word with its `$`, so the engine sees
that the word is decided only when it runs. Whatever the lexer cannot follow becomes a problem (the engine asks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmos.policies.command.words import brace_expand, decode_ansi_c

MAX_NESTING = 12

# Longest first, so `&&` is not read as two `&`.
OPERATORS = ("&>>", "<<<", "<<-", ";;&", "&&", "||", "|&", ";;", ";&", ">>", ">|", ">&", "<&", "<>", "<<", "&>",
             "|", "&", ";", "<", ">", "(", ")")
REDIRECT_OPERATORS = frozenset({"&>>", "<<<", "<<-", ">>", ">|", ">&", "<&", "<>", "<<", "&>", "<", ">"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_PARAMETER = re.compile(r"[0-9@*#?$!\-]")


class _TooDeep(Exception):
    """Substitutions nested beyond MAX_NESTING: reported as a problem, never a crash."""


@dataclass(frozen=True)
class Substitution:
    """Shell text that runs when the word is expanded: `$()`, backticks, `<()`, `>()`, a here-document body."""

    kind: str
    source: str


@dataclass
class Token:
    kind: str
    """"word" or "op"."""
    text: str
    substitutions: list[Substitution] = field(default_factory=list)
    quoted: bool = False
    """Some part was quoted or escaped: a quoted `{` is not a brace group and a quoted `if` is not a keyword."""
    expansions: list[str] = field(default_factory=list)
    """The words after brace expansion (`{a,b}` -> `a`, `b`); one element for most words."""
    assignment: bool = False
    """`NAME=value` with the name unquoted: a variable assignment when it comes before the command."""
    heredoc_body: str | None = None
    """For the word after `<<`: the here-document's text (what a shell reading its input would run)."""


@dataclass
class _Word:
    chars: list[tuple[str, bool]] = field(default_factory=list)
    substitutions: list[Substitution] = field(default_factory=list)
    started: bool = False

    def add(self, text: str, quoted: bool) -> None:
        self.started = True
        self.chars.extend((char, quoted) for char in text)


class Lexer:
    """One pass over `text`; `in_substitution` stops at the `)` that closes a `$(`."""

    def __init__(self, text: str, depth: int = 0, in_substitution: bool = False) -> None:
        if depth > MAX_NESTING:
            raise _TooDeep()
        self.text = text
        self.pos = 0
        self.depth = depth
        self.in_substitution = in_substitution
        self.tokens: list[Token] = []
        self.problems: list[str] = []
        self._paren_depth = 0
        self._word = _Word()
        self._pending_heredocs: list[tuple[Token, bool]] = []
        self._expect_heredoc_word: bool = False

    def run(self) -> int:
        """Lex to the end (or the closing paren); returns the position where it stopped."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t":
                self._flush()
                self.pos += 1
            elif char == "\n":
                self._flush()
                self._emit_op(";")
                self.pos += 1
                self._read_heredoc_bodies()
            elif char == "#" and not self._word.started:
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char in "<>" and text.startswith("(", self.pos + 1) and not self._word.started:
                kind = char + "()"
                source = self._read_parenthesised(self.pos + 2, kind)
                self._word.substitutions.append(Substitution(kind, source))
                self._word.add("/dev/fd/63", True)
            elif char in "|&;<>()":
                if char == ")" and self.in_substitution and self._paren_depth == 0:
                    self._flush()
                    return self.pos
                self._read_operator()
            else:
                self._read_word_part(self._word)
        if self.in_substitution:
            self.problems.append("a `$(` or `(` is never closed")
        self._flush()
        if self._pending_heredocs:
            self.problems.append("a here-document has no end marker")
        return self.pos

    # -- operators ---------------------------------------------------------------------------------------------

    def _read_operator(self) -> None:
        op = next(candidate for candidate in OPERATORS if self.text.startswith(candidate, self.pos))
        fd_prefix = ""
        word = self._word
        if op in REDIRECT_OPERATORS and word.started and not word.substitutions and word.chars \
                and all(char.isdigit() and not quoted for char, quoted in word.chars):
            fd_prefix = "".join(char for char, _ in word.chars)
            self._word = _Word()
        self._flush()
        self.pos += len(op)
        if op == "(":
            self._paren_depth += 1
        elif op == ")":
            self._paren_depth -= 1
        self._emit_op(fd_prefix + op)
        if op in ("<<", "<<-"):
            self._expect_heredoc_word = True

    def _emit_op(self, op: str) -> None:
        self.tokens.append(Token("op", op))

    # -- words -------------------------------------------------------------------------------------------------

    def _flush(self) -> None:
        word = self._word
        if not word.started:
            return
        self._word = _Word()
        text = "".join(char for char, _ in word.chars)
        quoted = any(is_quoted for _, is_quoted in word.chars)
        name = _NAME.match(text)
        assignment = bool(name and text[name.end():].startswith(("=", "+="))
                          and not any(is_quoted for _, is_quoted in word.chars[:name.end()]))
        token = Token("word", text, word.substitutions, quoted, brace_expand(word.chars, self.problems), assignment)
        self.tokens.append(token)
        if self._expect_heredoc_word:
            self._expect_heredoc_word = False
            self._pending_heredocs.append((token, quoted))

    def _read_word_part(self, word: _Word) -> None:
        text, pos = self.text, self.pos
        char = text[pos]
        if char == "\\":
            if pos + 1 < len(text):
                if text[pos + 1] != "\n":  # backslash-newline joins lines
                    word.add(text[pos + 1], True)
                else:
                    word.started = True
                self.pos = pos + 2
            else:
                word.add("\\", False)
                self.pos = pos + 1
        elif char == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                self.problems.append("a single quote is never closed")
                end = len(text)
            word.add(text[pos + 1:end], True)
            self.pos = end + 1
        elif char == '"':
            self.pos = pos + 1
            self._read_double_quoted(word, '"')
        elif char == "`":
            self._read_backticks(word)
        elif char == "$":
            self._read_dollar(word, quoted=False)
        else:
            word.add(char, False)
            self.pos = pos + 1

    def _read_double_quoted(self, word: _Word, terminator: str | None) -> None:
        """Inside "...": only `$`, backticks and `\\` are special. `terminator` None reads to the end (here-doc)."""
        text = self.text
        word.started = True
        while self.pos < len(text):
            char = text[self.pos]
            if terminator is not None and char == terminator:
                self.pos += 1
                return
            if char == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in '$`"\\\n':
                if text[self.pos + 1] != "\n":
                    word.add(text[self.pos + 1], True)
                self.pos += 2
            elif char == "`":
                self._read_backticks(word)
            elif char == "$":
                self._read_dollar(word, quoted=True)
            else:
                word.add(char, True)
                self.pos += 1
        if terminator is not None:
            self.problems.append("a double quote is never closed")

    def _read_backticks(self, word: _Word) -> None:
        text = self.text
        pos = self.pos + 1
        source: list[str] = []
        while pos < len(text) and text[pos] != "`":
            if text[pos] == "\\" and pos + 1 < len(text) and text[pos + 1] in "`$\\":
                source.append(text[pos + 1])
                pos += 2
            else:
                source.append(text[pos])
                pos += 1
        if pos >= len(text):
            self.problems.append("a backtick is never closed")
        word.substitutions.append(Substitution("``", "".join(source)))
        word.add("$(...)", True)
        self.pos = pos + 1

    def _read_dollar(self, word: _Word, quoted: bool) -> None:
        text, pos = self.text, self.pos
        following = text[pos + 1:pos + 2]
        at_word_start = not word.chars
        if following == "(":
            if text.startswith("((", pos + 1):
                self.problems.append("arithmetic expansion `$((...))` is judged as a command")
            source = self._read_parenthesised(pos + 2, "$()")
            word.substitutions.append(Substitution("$()", source))
            word.add("$(...)", True)
        elif following == "{":
            end = _matching_brace(text, pos + 2)
            if end < 0:
                self.problems.append("a `${` is never closed")
                end = len(text)
            inner = text[pos + 2:end]
            self.pos = end + 1
            if _NAME.fullmatch(inner) or _SPECIAL_PARAMETER.fullmatch(inner):
                self._add_parameter(word, inner, at_word_start)
            else:
                self.problems.append(f"parameter expansion `${{{inner}}}` is computed when it runs")
                nested = self._sub_lexer(inner)
                nested.pos = 0
                inner_word = _Word()
                nested._read_double_quoted(inner_word, None)
                self.problems.extend(nested.problems)
                word.substitutions.extend(inner_word.substitutions)
                word.add("${" + inner + "}", True)
        elif following == "'" and not quoted:
            decoded, end = decode_ansi_c(text, pos + 2)
            if end > len(text):
                self.problems.append("a `$'` quote is never closed")
            word.add(decoded, True)
            self.pos = end
        elif following == '"' and not quoted:
            self.pos = pos + 2
            self._read_double_quoted(word, '"')
        else:
            name = _NAME.match(text, pos + 1) or _SPECIAL_PARAMETER.match(text, pos + 1)
            if name is None:
                word.add("$", quoted)
                self.pos = pos + 1
                return
            self.pos = name.end()
            self._add_parameter(word, name.group(), at_word_start)

    @staticmethod
    def _add_parameter(word: _Word, name: str, at_word_start: bool) -> None:
        if name == "HOME" and at_word_start:
            word.add("~", False)  # so `"$HOME"/x` is judged like `~/x`
        else:
            word.add("$" + name, True)

    def _read_parenthesised(self, start: int, kind: str) -> str:
        """The source of a `$(...)`, `<(...)` or `>(...)` starting at `start`; moves past the closing paren."""
        nested = self._sub_lexer(self.text, in_substitution=True)
        nested.pos = start
        end = nested.run()
        self.problems.extend(nested.problems)
        self.pos = end + 1
        return self.text[start:end]

    def _sub_lexer(self, text: str, in_substitution: bool = False) -> Lexer:
        return Lexer(text, self.depth + 1, in_substitution)

    def _read_heredoc_bodies(self) -> None:
        """Here-document bodies follow the line that opened them; unquoted ones expand `$(...)` and backticks."""
        pending, self._pending_heredocs = self._pending_heredocs, []
        for token, delimiter_quoted in pending:
            lines_end = self.pos
            body_lines: list[str] = []
            found = False
            while lines_end < len(self.text):
                newline = self.text.find("\n", lines_end)
                line_end = len(self.text) if newline < 0 else newline
                line = self.text[lines_end:line_end]
                lines_end = line_end + 1
                if line.lstrip("\t") == token.text:
                    found = True
                    break
                body_lines.append(line)
            self.pos = min(lines_end, len(self.text))
            if not found:
                self.problems.append(f"the here-document ending `{token.text}` has no end marker")
            token.heredoc_body = "\n".join(body_lines)
            if not delimiter_quoted:
                nested = self._sub_lexer("\n".join(body_lines))
                body = _Word()
                nested._read_double_quoted(body, None)
                self.problems.extend(nested.problems)
                token.substitutions.extend(body.substitutions)


def _matching_brace(text: str, start: int) -> int:
    depth = 1
    pos = start
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "'":
            end = text.find("'", pos + 1)
            pos = len(text) if end < 0 else end + 1
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    return -1


def lex(text: str, depth: int = 0) -> tuple[list[Token], list[str]]:
    """Tokens and problems for one shell string. Never raises: nesting too deep is a problem."""
    lexer = Lexer(text, depth) if depth <= MAX_NESTING else None
    if lexer is None:
        return [], ["commands nested too deeply to judge"]
    try:
        lexer.run()
    except (_TooDeep, RecursionError):
        lexer.problems.append("commands nested too deeply to judge")
    return lexer.tokens, lexer.problems
