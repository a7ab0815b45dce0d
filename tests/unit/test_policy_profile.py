"""Policy profiles: the built-ins load with their examples checked, user files extend them, and bad files are
refused with a message that names the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmos.policies.command import parse_command
from llmos.policies.profile import CommandRule, ProfileError, builtin_profile_names, load_profile


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_three_builtin_profiles_exist() -> None:
    """default, read-only and power-user ship with llmos."""
    assert builtin_profile_names() == ["default", "power-user", "read-only"]


@pytest.mark.parametrize("name", ["default", "read-only", "power-user"])
def test_builtin_profiles_load_with_rules_and_effects(name: str) -> None:
    """Each built-in loads (its rule examples pass) and decides every effect class."""
    profile = load_profile(name)
    assert profile.commands
    assert set(profile.effects) == {"read", "write", "delete", "process", "exec", "network", "secret"}


def test_default_profile_decisions() -> None:
    """default: reads allowed, changes asked, network and secrets denied."""
    effects = load_profile("default").effects
    assert effects == {"read": "allow", "write": "ask", "delete": "ask", "process": "ask", "exec": "ask",
                       "network": "deny", "secret": "deny"}


def test_read_only_profile_denies_everything_but_reads() -> None:
    """read-only: only read is allowed; no writable roots."""
    profile = load_profile("read-only")
    assert {effect for effect, verdict in profile.effects.items() if verdict != "deny"} == {"read"}
    assert profile.writable_roots == []


def test_power_user_extends_default_and_allows_writes() -> None:
    """power-user keeps default's rules and protections, allows writes, asks deletes, processes and network."""
    default, power = load_profile("default"), load_profile("power-user")
    assert power.sources[0] == default.sources[0] and len(power.sources) == 2
    assert power.effects["write"] == "allow" and power.effects["network"] == "ask"
    assert power.effects["delete"] == power.effects["process"] == "ask"
    assert power.commands[:len(default.commands)] == default.commands
    assert power.denied_paths == default.denied_paths


def test_no_name_loads_the_user_policy_file_when_there_is_one(tmp_path: Path) -> None:
    """Without a name, <config dir>/policy.toml is used, extending default unless it says otherwise."""
    write(tmp_path / "policy.toml", '[effects]\nwrite = "allow"\n')
    profile = load_profile(None, tmp_path)
    assert profile.effects["write"] == "allow" and profile.effects["network"] == "deny"
    assert profile.sources[-1] == str(tmp_path / "policy.toml")


def test_no_name_and_no_user_file_is_default(tmp_path: Path) -> None:
    """Without a name or a user file, the profile is default."""
    assert load_profile(None, tmp_path).name == "default"


def test_a_user_file_adds_rules_and_protections_to_the_profile_it_extends(tmp_path: Path) -> None:
    """A file that extends read-only keeps its rules and adds its own rules, denied and secret paths."""
    path = write(tmp_path / "mine.toml", '''
extends = "read-only"
denied_paths = ["~/work/secret-project"]
secret_paths = ["~/vault"]

[[commands]]
prefix = ["make", "test"]
decision = "allow"
justification = "runs the tests"
match = [["make", "test"]]
not_match = [["make", "install"]]
''')
    profile = load_profile(path)
    base = load_profile("read-only")
    assert profile.commands[-1].prefix == ["make", "test"] and len(profile.commands) == len(base.commands) + 1
    assert "~/work/secret-project" in profile.denied_paths and "~/.ssh" in profile.denied_paths
    assert "~/vault" in profile.secret_paths
    assert profile.effects == base.effects


def test_extends_a_file_by_relative_path(tmp_path: Path) -> None:
    """`extends` may name another TOML file beside this one."""
    write(tmp_path / "base.toml", 'extends = "default"\n[effects]\nexec = "deny"\n')
    path = write(tmp_path / "child.toml", 'extends = "base.toml"\n[effects]\nwrite = "allow"\n')
    profile = load_profile(path)
    assert (profile.effects["exec"], profile.effects["write"]) == ("deny", "allow")
    assert len(profile.sources) == 3


def test_roots_given_in_a_user_file_replace_the_parents(tmp_path: Path) -> None:
    """writable_roots in a user file replace the extended profile's list."""
    path = write(tmp_path / "p.toml", 'writable_roots = ["~/scratch"]\n')
    assert load_profile(path).writable_roots == ["~/scratch"]


def test_extends_loop_is_refused(tmp_path: Path) -> None:
    """a.toml extends b.toml extends a.toml: refused, naming the loop."""
    write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ProfileError, match="loops"):
        load_profile(tmp_path / "a.toml")


def test_a_failing_match_example_stops_the_profile_loading(tmp_path: Path) -> None:
    """A rule whose `match` example does not match: the profile does not load; the error names rule and example."""
    path = write(tmp_path / "p.toml", '''
[[commands]]
prefix = ["git", "status"]
decision = "allow"
justification = "shows state"
match = [["git", "log"]]
''')
    with pytest.raises(ProfileError, match=r"rule 1 `git status` should match the example \['git', 'log'\]"):
        load_profile(path)


def test_a_failing_not_match_example_stops_the_profile_loading(tmp_path: Path) -> None:
    """A rule whose `not_match` example matches (here through sudo): the profile does not load."""
    path = write(tmp_path / "p.toml", '''
[[commands]]
prefix = ["rm"]
decision = "deny"
justification = "no deleting"
not_match = [["sudo", "rm", "x"]]
''')
    with pytest.raises(ProfileError, match="should not match the example"):
        load_profile(path)


@pytest.mark.parametrize(("text", "message"), [
    ("effects = [", "not valid TOML"),
    ("colour = 'blue'\n", "unknown key `colour`"),
    ("[effects]\nwrite = 'maybe'\n", "effects.write"),
    ("[effects]\nteleport = 'allow'\n", "effects.teleport"),
    ("[[commands]]\nprefix = ['ls']\ndecision = 'allow'\njustification = 'x'\ndecison = 'deny'\n",
     r"unknown key `commands\[1\].decison`"),
    ("[[commands]]\nprefix = ['ls']\ndecision = 'allow'\n", r"`commands\[1\].justification` is required"),
    ("[[commands]]\nprefix = []\ndecision = 'allow'\njustification = 'x'\n", r"commands\[1\].prefix"),
])
def test_bad_profile_files_are_refused_with_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    """Bad TOML, unknown keys, wrong values and missing fields raise ProfileError naming the file and key."""
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ProfileError, match=message) as raised:
        load_profile(path)
    assert str(path) in str(raised.value)


def test_unknown_builtin_name_lists_the_builtins() -> None:
    """An unknown profile name says which built-ins exist."""
    with pytest.raises(ProfileError, match="default, power-user, read-only"):
        load_profile("paranoid")


def test_missing_profile_file_is_a_profile_error(tmp_path: Path) -> None:
    """A path that does not exist is a ProfileError, not a crash."""
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "nope.toml")


def rule(**fields: object) -> CommandRule:
    return CommandRule.model_validate({"decision": "deny", "justification": "j", **fields})


def matches(rule_: CommandRule, argv: list[str]) -> bool:
    return any(rule_.matches(command) for command in parse_command(argv).commands)


def test_rule_prefix_matches_the_program_by_basename() -> None:
    """Prefix ["rm"] matches /usr/bin/rm; prefix words after it must follow in order."""
    assert matches(rule(prefix=["rm"]), ["/usr/bin/rm", "x"])
    assert matches(rule(prefix=["git", "status"]), ["git", "-C", "/repo", "status"])
    assert not matches(rule(prefix=["git", "status"]), ["git", "log", "status"])


def test_rule_flags_match_in_any_spelling() -> None:
    """flags = ["-r", "-f"] matches -rf, -fr, -r -f, -R --force and --recursive --force."""
    rm_rf = rule(prefix=["rm"], flags=["-r", "-f"])
    for spelling in (["-rf"], ["-fr"], ["-r", "-f"], ["-R", "--force"], ["--recursive", "--force"]):
        assert matches(rm_rf, ["rm", *spelling, "x"]), spelling
    assert not matches(rm_rf, ["rm", "-r", "x"])


def test_rule_args_are_globs_within_one_path_component() -> None:
    """args patterns: `*` stays within a component, `[*]` is a literal star, `~/` and `$HOME` are `~`."""
    assert matches(rule(prefix=["dd"], args=["of=/dev/sd*"]), ["dd", "if=x", "of=/dev/sdb"])
    assert not matches(rule(prefix=["dd"], args=["of=/dev/sd*"]), ["dd", "of=/dev/null"])
    assert matches(rule(prefix=["rm"], args=["~/[*]"]), ["rm", "~/*"])
    assert not matches(rule(prefix=["rm"], args=["~/[*]"]), ["rm", "~/Documents"])
    assert matches(rule(prefix=["rm"], args=["~"]), ["rm", "~/"])
    assert matches(rule(prefix=["rm"], args=["~"]), ["sh", "-c", "rm $HOME"])


def test_rule_examples_may_use_wrappers_and_shell_lines() -> None:
    """A match example is parsed like any command, so ["sudo", "mkfs.ext4", "/dev/x"] matches prefix mkfs*."""
    assert rule(prefix=["mkfs*"]).matches_example(["sudo", "mkfs.ext4", "/dev/x"])
    assert rule(prefix=["rm"]).matches_example(["bash", "-c", "ls && rm x"])
