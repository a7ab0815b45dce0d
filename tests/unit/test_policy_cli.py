"""`llmos policy show|check|explain`, run in-process through its own parser with XDG folders in tmp."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from llmos.commands import policy
from llmos.errors import UsageError


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and the XDG folders in tmp, and the working directory there, so no real policy file is read."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    monkeypatch.chdir(tmp_path / "home")
    return tmp_path


def run(*words: str) -> int:
    parser = argparse.ArgumentParser(prog="llmos")
    policy.register(parser.add_subparsers(dest="command"))
    options = parser.parse_args(["policy", *words])
    return options.handler(options)


def test_show_prints_the_effective_profile_with_rules_and_justifications(capsys: pytest.CaptureFixture[str]) -> None:
    """`policy show`: the profile name, roots, effect decisions and each rule with its justification."""
    assert run("show") == 0
    out = capsys.readouterr().out
    assert out.startswith("profile: default")
    assert "effects:        read=allow, write=ask" in out
    assert "deny   rm -r ~" in out and "deletes your whole home folder" in out


def test_show_json_is_the_whole_profile(capsys: pytest.CaptureFixture[str]) -> None:
    """`policy show --profile read-only --json` prints the profile as JSON, rules included."""
    assert run("show", "--profile", "read-only", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "read-only" and shown["effects"]["write"] == "deny"
    assert any(rule["prefix"] == ["ls"] for rule in shown["commands"])


def test_show_uses_the_users_policy_file(isolated_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With <config>/llmos/policy.toml present, show reports it, extending default."""
    config = isolated_dirs / "xdg_config_home" / "llmos"
    config.mkdir(parents=True)
    (config / "policy.toml").write_text('description = "mine"\n[effects]\nwrite = "allow"\n')
    assert run("show") == 0
    out = capsys.readouterr().out
    assert out.startswith("profile: policy") and "write=allow" in out and "mine" in out


def test_check_of_a_good_profile_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """`policy check power-user` loads it, examples included, and says so."""
    assert run("check", "power-user") == 0
    assert capsys.readouterr().out.startswith("ok: profile 'power-user' loads")


def test_check_of_a_profile_with_a_failing_example_exits_2_naming_it(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`policy check FILE` with a rule whose example fails: exit 2 and the example on stderr."""
    path = tmp_path / "bad.toml"
    path.write_text('[[commands]]\nprefix = ["ls"]\ndecision = "allow"\njustification = "lists"\n'
                    'match = [["cat", "x"]]\n')
    assert run("check", str(path)) == 2
    err = capsys.readouterr().err
    assert "should match the example ['cat', 'x']" in err and str(path) in err


def test_explain_denied_command_exits_3_with_rule_and_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """`policy explain rm -rf ~` prints deny, the rule and the reason, and exits 3."""
    assert run("explain", "rm", "-rf", "~") == 3
    out = capsys.readouterr().out
    assert "deny" in out and "command:rm -r ~" in out and "deletes your whole home folder" in out
    assert out.splitlines()[-1].startswith("overall: deny")


def test_explain_allowed_command_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """`policy explain git status` is allowed: exit 0."""
    assert run("explain", "git", "status") == 0
    assert "overall: allow (command:git status)" in capsys.readouterr().out


def test_explain_asked_command_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """An asked command (`make`) exits 0: only deny is 3."""
    assert run("explain", "make") == 0
    assert "overall: ask" in capsys.readouterr().out


def test_explain_a_single_line_judges_it_as_a_shell_line(capsys: pytest.CaptureFixture[str]) -> None:
    """One argument with spaces is judged as `sh -c LINE`, each part shown with its wrapper chain."""
    assert run("explain", "ls -la && sudo rm -rf /tmp/x") == 3
    out = capsys.readouterr().out
    assert "judged as a shell line" in out and "[sh -c > sudo] rm -rf /tmp/x" in out and "privilege" in out


def test_explain_json_lists_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    """`policy explain --json` gives the overall decision and one entry per command with via and rule."""
    assert run("explain", "--json", "bash", "-c", "ls; cat ~/.ssh/id_rsa") == 3
    shown = json.loads(capsys.readouterr().out)
    assert shown["decision"] == "deny"
    assert [(entry["argv"], entry["via"], entry["decision"]) for entry in shown["commands"]] == [
        (["ls"], ["bash -c"], "allow"), (["cat", "~/.ssh/id_rsa"], ["bash -c"], "deny")]


def test_explain_without_a_command_is_a_usage_error() -> None:
    """`policy explain` with nothing to explain is a usage error (exit 2 through the CLI)."""
    with pytest.raises(UsageError):
        run("explain")


def test_unknown_profile_is_a_usage_error() -> None:
    """`policy show --profile nope` raises a usage error naming the built-ins."""
    with pytest.raises(UsageError, match="built-in profiles"):
        run("show", "--profile", "nope")
