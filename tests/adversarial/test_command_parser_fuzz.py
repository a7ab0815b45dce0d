"""Fuzzing the command parser: no input makes it raise (a crash would be a way around policy), and what it reports
is well formed. Inputs are built from shell metacharacters, quotes, wrappers and arbitrary text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llmos.policies.command import ParsedCommand, flags_of, parse_command, parse_shell

SHELL_PIECES = ["|", "||", "&", "&&", ";", ";;", "(", ")", "{", "}", "$(", "`", "<(", ">(", "<", ">", ">>", "2>",
                "&>", "<<<", "<<", "'", '"', "\\", "$", "${", "}", "$'", "\n", " ", "\t", "#", "*", "?", "[", "]",
                "~", "=", "!", ",", "..", "{a,b}", "{1..3}", "rm", "-rf", "sh", "-c", "bash", "env", "sudo", "xargs",
                "find", "-exec", "{}", "\\;", "+", "git", "-c", "alias.x=!", "python3", "EOF", "if", "then", "fi",
                "for", "in", "do", "done", "case", "esac", "function", "f()", "[[", "]]", "$((", "))", "\x00",
                "\u202e", "é", "e\u0301"]
shell_text = st.lists(st.one_of(st.sampled_from(SHELL_PIECES), st.text(max_size=6)), max_size=40).map("".join)
argv_lists = st.lists(st.one_of(shell_text, st.text(max_size=20), st.sampled_from(SHELL_PIECES)), max_size=12)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _well_formed(parsed: ParsedCommand) -> None:
    assert isinstance(parsed.problems, list) and all(isinstance(problem, str) for problem in parsed.problems)
    for command in parsed.commands:
        assert isinstance(command.argv, tuple) and all(isinstance(word, str) for word in command.argv)
        assert all(isinstance(label, str) for label in command.via)
        assert command.argv or command.redirects


@FUZZ
@given(argv_lists)
def test_parse_command_never_raises_on_arbitrary_argv(argv: list[str]) -> None:
    """Any list of strings parses to commands and problems; nothing raises."""
    _well_formed(parse_command(argv))


@FUZZ
@given(shell_text)
def test_parse_shell_never_raises_on_arbitrary_shell_text(text: str) -> None:
    """Any shell string parses to commands and problems; nothing raises."""
    _well_formed(parse_shell(text))


@FUZZ
@given(st.sampled_from(["sh", "bash", "bash -lc", "env", "sudo", "xargs", "timeout 5", "nice -n 1", "find . -exec",
                        "python3 -c", "git -c alias.x=!", "eval", "watch"]), shell_text)
def test_wrappers_around_arbitrary_text_never_raise(wrapper: str, text: str) -> None:
    """A wrapper followed by arbitrary text (as one argument) parses without raising."""
    _well_formed(parse_command([*wrapper.split(), text]))


@FUZZ
@given(st.lists(st.text(max_size=8), max_size=10))
def test_flags_of_never_raises(words: list[str]) -> None:
    """flags_of accepts any words and returns a set of strings."""
    for program in ("rm", "kill", "chmod", "cp", ""):
        flags = flags_of([program, *words])
        assert all(isinstance(flag, str) for flag in flags)


def test_deep_substitution_nesting_is_a_problem_not_a_crash() -> None:
    """A thousand nested `$(` is reported as too deep to judge; nothing raises."""
    parsed = parse_shell("echo " + "$(" * 1000 + "ls" + ")" * 1000)
    assert any("too deeply" in problem for problem in parsed.problems)


def test_deep_shell_nesting_is_a_problem_not_a_crash() -> None:
    """sh -c nested beyond the depth limit is reported, not followed forever."""
    text = "ls"
    for _ in range(30):
        text = f"sh -c {text!r}" if "'" not in text else "sh -c \"" + text.replace('"', '\\"') + "\""
    parsed = parse_command(["sh", "-c", text])
    assert parsed.problems


def test_huge_brace_expansion_is_capped() -> None:
    """`{a,b}` repeated 40 times (2^40 words) is capped and reported, not expanded."""
    parsed = parse_shell("echo " + "{a,b}" * 40)
    assert any("brace expansion" in problem for problem in parsed.problems)
