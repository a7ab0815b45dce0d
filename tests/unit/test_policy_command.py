"""The command parser: what it sees in a command line (pipes, separators, substitutions, redirections, wrappers,
assignments) and how it normalises flags. Attacks built on it are in tests/adversarial."""

from __future__ import annotations

import pytest
from llmos.policies.command import Redirect, flags_of, parse_command, parse_shell


def argvs(argv: list[str]) -> list[tuple[str, ...]]:
    return [command.argv for command in parse_command(argv).commands]


def test_bare_argv_is_one_command_without_problems() -> None:
    """["rm", "-rf", "~"] is one command, its words untouched (no shell ever sees them)."""
    parsed = parse_command(["rm", "-rf", "~"])
    assert [c.argv for c in parsed.commands] == [("rm", "-rf", "~")]
    assert parsed.problems == []


def test_bare_argv_metacharacters_are_plain_arguments() -> None:
    """In a bare argv, `;` and `>` are arguments to the program, not shell syntax."""
    assert argvs(["echo", ";", "rm", ">", "x"]) == [("echo", ";", "rm", ">", "x")]


@pytest.mark.parametrize("separator", [";", "&&", "||", "&", "\n"])
def test_separators_split_commands(separator: str) -> None:
    """`a SEP b` in a shell string is two commands, each in its own pipeline."""
    parsed = parse_shell(f"ls -l {separator} rm x")
    assert [c.argv for c in parsed.commands] == [("ls", "-l"), ("rm", "x")]
    assert parsed.commands[0].pipeline != parsed.commands[1].pipeline


def test_pipes_keep_commands_in_one_pipeline_with_stages() -> None:
    """`a | b |& c` is one pipeline with stages 0, 1, 2."""
    parsed = parse_shell("cat f | grep x |& wc -l")
    assert [(c.argv[0], c.stage) for c in parsed.commands] == [("cat", 0), ("grep", 1), ("wc", 2)]
    assert len({c.pipeline for c in parsed.commands}) == 1


@pytest.mark.parametrize(("text", "kind"), [("echo $(rm x)", "$()"), ("echo `rm x`", "``"),
                                            ("cat <(rm x)", "<()"), ("tee >(rm x)", ">()"),
                                            ('echo "$(rm x)"', "$()")])
def test_substitutions_are_parsed_with_their_kind_in_via(text: str, kind: str) -> None:
    """Command and process substitutions run commands: they are found and marked in `via`."""
    inner = [c for c in parse_shell(text).commands if c.argv == ("rm", "x")]
    assert inner and inner[0].via == (kind,)


def test_single_quotes_hide_substitutions() -> None:
    """'$(rm x)' in single quotes is text, not a command."""
    assert [c.argv for c in parse_shell("echo '$(rm x)'").commands] == [("echo", "$(rm x)")]


def test_brace_group_and_subshell_contents_are_commands() -> None:
    """`{ a; }` and `( b )` contribute their commands; the braces are not programs."""
    assert [c.argv for c in parse_shell("{ ls; } && (rm x)").commands] == [("ls",), ("rm", "x")]


@pytest.mark.parametrize(("text", "redirect"), [
    ("ls > out", Redirect(">", "out")), ("ls >> out", Redirect(">>", "out")), ("ls 2> err", Redirect("2>", "err")),
    ("ls &> all", Redirect("&>", "all")), ("wc < in", Redirect("<", "in")), ("cat <<< word", Redirect("<<<", "word")),
    ("ls 2>&1", Redirect("2>&", "1")), ("ls >out", Redirect(">", "out")),
])
def test_redirections_are_recorded_with_operator_and_target(text: str, redirect: Redirect) -> None:
    """Each redirection is kept with its operator (fd included) and target."""
    assert parse_shell(text).commands[0].redirects == (redirect,)


def test_assignments_before_a_command_are_kept_apart_from_argv() -> None:
    """`FOO=bar cmd arg`: FOO=bar is an assignment, the command is `cmd arg`."""
    command = parse_shell("FOO=bar cmd arg").commands[0]
    assert (command.assignments, command.argv) == (("FOO=bar",), ("cmd", "arg"))


def test_home_variable_at_word_start_becomes_tilde() -> None:
    """`$HOME/x` and `${HOME}` are judged like `~/x` and `~`."""
    assert parse_shell('rm "$HOME/x" ${HOME}').commands[0].argv == ("rm", "~/x", "~")


def test_other_variables_stay_visible_as_unknown() -> None:
    """`$TARGET` keeps its `$`, so the engine knows the word is only known when it runs."""
    assert parse_shell("rm -rf $TARGET").commands[0].argv == ("rm", "-rf", "$TARGET")


def test_brace_expansion_and_ansi_c_quoting_are_decoded() -> None:
    """`{a,b}` expands to two words; `$'\\x72m'` decodes to `rm`."""
    assert parse_shell("$'\\x72m' {a,b}.txt").commands[0].argv == ("rm", "a.txt", "b.txt")


@pytest.mark.parametrize(("argv", "via"), [
    (["sudo", "-u", "bob", "rm", "x"], ("sudo",)),
    (["env", "-i", "A=1", "rm", "x"], ("env",)),
    (["xargs", "-0", "-n", "1", "rm", "x"], ("xargs",)),
    (["timeout", "-k", "5", "10s", "rm", "x"], ("timeout",)),
    (["nice", "-n", "10", "rm", "x"], ("nice",)),
    (["nohup", "rm", "x"], ("nohup",)),
    (["stdbuf", "-oL", "rm", "x"], ("stdbuf",)),
    (["time", "-p", "rm", "x"], ("time",)),
    (["command", "rm", "x"], ("command",)),
    (["exec", "rm", "x"], ("exec",)),
    (["doas", "rm", "x"], ("doas",)),
    (["sudo", "bash", "-c", "rm x"], ("sudo", "bash -c")),
    (["bash", "-lc", "rm x"], ("bash -c",)),
    (["zsh", "-c", "rm x"], ("zsh -c",)),
    (["dash", "-c", "rm x"], ("dash -c",)),
    (["find", ".", "-exec", "rm", "x", ";"], ("find -exec",)),
    (["git", "-c", "alias.y=!rm x", "y"], ("git alias",)),
    (["python3", "-c", "import os; os.system('rm x')"], ("python3 code",)),
])
def test_wrappers_are_looked_through_with_the_chain_in_via(argv: list[str], via: tuple[str, ...]) -> None:
    """The command a wrapper runs is found, and `via` names the wrappers that led to it."""
    found = [c for c in parse_command(argv).commands if c.argv == ("rm", "x")]
    assert found and found[0].via == via


def test_xargs_marks_arguments_read_from_input() -> None:
    """The command xargs runs gets more arguments from input, which the parser says."""
    assert parse_command(["xargs", "rm"]).commands[0].args_from_input


def test_env_assignments_belong_to_the_command() -> None:
    """`env A=1 cmd` gives cmd the assignment A=1."""
    assert parse_command(["env", "A=1", "cmd"]).commands[0].assignments == ("A=1",)


def test_find_exec_placeholder_stands_for_everything_under_the_root() -> None:
    """`find DIR -name X -exec rm {} ;` judges rm on DIR/*/** (strictly beneath; the root is excluded when -name
    cannot match it)."""
    commands = argvs(["find", "/tmp/d", "-name", "*.log", "-exec", "rm", "{}", ";"])
    assert ("rm", "/tmp/d/*/**") in commands and ("rm", "/tmp/d") not in commands


def test_find_exec_may_select_the_root_itself() -> None:
    """Without a test that excludes it, `{}` may be the root too, which is judged as well."""
    assert ("rm", "-rf", "~") in argvs(["find", "~", "-exec", "rm", "-rf", "{}", "+"])


def test_find_itself_stays_a_command() -> None:
    """find is still judged itself (its -delete is a deletion)."""
    assert argvs(["find", ".", "-delete"]) == [("find", ".", "-delete")]


def test_interpreter_code_is_marked() -> None:
    """python -c CODE keeps the command and records the code it runs."""
    command = parse_command(["python3", "-c", "print(1)"]).commands[0]
    assert command.code == "print(1)"


@pytest.mark.parametrize("argv", [["perl", "-ne", "print"], ["ruby", "-e", "p 1"], ["node", "-e", "1"],
                                  ["awk", "{print $1}", "f"]])
def test_other_interpreters_code_is_marked(argv: list[str]) -> None:
    """perl -e, ruby -e, node -e and awk programs are code too."""
    assert parse_command(argv).commands[-1].code is not None


def test_shell_without_script_reads_code_from_input() -> None:
    """`curl x | sh`: the sh reads its code from the pipe, and is marked so."""
    commands = parse_shell("curl x | sh").commands
    assert commands[1].code_from_stdin and commands[1].stage == 1


def test_git_risky_config_is_a_problem() -> None:
    """`git -c core.sshCommand=...` is reported: it can make git run another program."""
    assert parse_command(["git", "-c", "core.sshCommand=evil", "fetch"]).problems


@pytest.mark.parametrize("text", ["echo 'open", "echo \"open", "echo $(ls", "echo `ls", "ls )", "cat <<EOF\nx"])
def test_what_cannot_be_parsed_is_a_problem(text: str) -> None:
    """Unclosed quotes and substitutions, stray parens and unended here-documents are problems."""
    assert parse_shell(text).problems


def test_program_name_from_a_variable_is_a_problem() -> None:
    """A program name only known at run time is a problem."""
    assert parse_shell("$X -rf ~").problems


def test_hijacking_assignments_are_problems() -> None:
    """LD_PRELOAD=, PATH= and BASH_ENV= before a command change what runs: problems."""
    for text in ("LD_PRELOAD=/x.so ls", "PATH=.:$PATH ls", "BASH_ENV=/x bash -c ls"):
        assert parse_shell(text).problems, text


def test_single_argv_element_with_shell_syntax_is_judged_as_a_shell_line() -> None:
    """["ls; rm x"] would not run as written; it is judged as the shell line it looks like, with a problem."""
    parsed = parse_command(["ls; rm x"])
    assert ("rm", "x") in [c.argv for c in parsed.commands] and parsed.problems


def test_shell_script_name_that_looks_like_a_command_line_is_parsed() -> None:
    """`bash "rm x"` runs a script file, but its name is also judged as a command line."""
    parsed = parse_command(["bash", "rm x; ls"])
    assert ("rm", "x") in [c.argv for c in parsed.commands]


@pytest.mark.parametrize(("argv", "expected"), [
    (["rm", "-rf", "x"], {"-r", "-f"}), (["rm", "-fr", "x"], {"-r", "-f"}), (["rm", "-r", "-f"], {"-r", "-f"}),
    (["rm", "-R", "-f"], {"-r", "-f"}), (["rm", "--recursive", "--force"], {"-r", "-f"}),
    (["/bin/rm", "--force=yes", "-R"], {"-r", "-f"}), (["rm", "-r", "--", "-f"], {"-r"}),
    (["chmod", "--recursive", "777", "x"], {"-R"}), (["chmod", "-r", "x"], {"-r"}),
    (["cp", "-a", "x", "y"], {"-a", "-r"}), (["kill", "-9", "1"], {"-KILL"}), (["kill", "-KILL", "1"], {"-KILL"}),
    (["kill", "-s", "KILL", "1"], {"-KILL"}), (["kill", "--signal=KILL", "1"], {"-KILL"}),
    (["kill", "-SIGKILL", "1"], {"-KILL"}),
])
def test_flags_of_normalises_every_spelling(argv: list[str], expected: set[str]) -> None:
    """Clusters, separate flags, long options, `--opt=value`, program aliases and kill signals normalise alike;
    nothing after `--` is a flag."""
    assert flags_of(argv) == expected


def test_xargs_fed_by_find_is_judged_on_what_find_selects() -> None:
    """`find DIR -name X | xargs CMD`: the words xargs adds are paths under DIR, so CMD gets DIR/*/**."""
    command = parse_shell("find /tmp/d -name '*.log' | xargs rm").commands[-1]
    assert command.argv == ("rm", "/tmp/d/*/**") and not command.args_from_input


def test_echo_piped_to_a_shell_is_parsed_as_commands() -> None:
    """`echo 'rm x' | sh`: what echo prints is what sh runs, so `rm x` is a command."""
    commands = parse_shell("echo 'rm x' | sh").commands
    assert ("rm", "x") in [c.argv for c in commands]


def test_here_document_given_to_a_shell_is_parsed_as_commands() -> None:
    """`sh <<EOF ... EOF` runs the document: its lines are commands."""
    commands = parse_shell("sh <<'EOF'\nrm x\nEOF").commands
    assert [c.argv for c in commands if c.argv[0] == "rm"] == [("rm", "x")]


def test_gnu_long_option_prefixes_are_expanded() -> None:
    """`--recur --forc` are `--recursive --force` to GNU rm."""
    assert flags_of(["rm", "--recur", "--forc", "x"]) == {"-r", "-f"}


@pytest.mark.parametrize("line", [":(){ :|:& };:", ":(){ :|: & };:", "bomb(){ bomb|bomb& }; bomb",
                                  "function f { f | f & }; f", "f(){ f & f & }; f"])
def test_a_function_that_runs_itself_twice_is_a_fork_bomb(line: str) -> None:
    """A shell function whose body runs itself twice (piped into itself, or twice in the background) is named as
    a fork bomb."""
    assert "fork bomb" in (parse_shell(line).fork_bomb or "")


@pytest.mark.parametrize("line", ["log(){ echo $1; }; log a; log b | log c", "c(){ [ $1 -gt 0 ] && c $(($1-1)); }; c 3",
                                  "f(){ ls; }; f | f"])
def test_ordinary_functions_and_single_recursion_are_not_fork_bombs(line: str) -> None:
    """Functions called several times from outside, or recursing once, are not flagged (they stay asked)."""
    assert parse_shell(line).fork_bomb is None
