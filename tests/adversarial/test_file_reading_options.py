"""Arguments through which a program reads a file (`wc --files0-from=F`, `grep -f F`, `tar -T F`, `xargs -a F`,
`gcc @F`, `source F`, ...) are reads of that file: a secret named through any of them is denied exactly like
`cat SECRET`, however the option is spelled and whatever wraps the command. Every example in the table
(policies/command/file_options.toml) is tried with a secret in place of its FILE.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from llmos.policies.engine import PolicyCall, PolicyEngine
from llmos.policies.impact import Impact
from llmos.policies.profile import load_profile

TABLE = Path(__file__).resolve().parents[2] / "policies/command/file_options.toml"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    for folder in (".ssh", "project", ".config/llmos"):
        (home / folder).mkdir(parents=True)
    (home / ".pgpass").write_text("db:5432:*:me:s3cr3t\n")
    (home / ".ssh/id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (home / "notes.txt").write_text("hello\nworld\n")
    (home / "patterns.txt").write_text("hello\n")
    (home / "list.txt").write_text("notes.txt\0")
    return home


@pytest.fixture
def engine(home: Path) -> PolicyEngine:
    return PolicyEngine(load_profile("default"), home=home, uid=os.getuid(), protected_paths=[home / ".config/llmos"])


def verdict(engine: PolicyEngine, argv: list[str], cwd: Path) -> str:
    return engine.decide(PolicyCall("shell.run", "exec", {"argv": argv}, Impact(argv=tuple(argv)), cwd=cwd)).verdict


def _table_examples() -> list[list[str]]:
    table = tomllib.loads(TABLE.read_text(encoding="utf-8"))
    return [example for group in table["programs"] for example in group.get("reads", [])]


SECRET_WORDS = {"pgpass-tilde": "~/.pgpass", "ssh-key-relative": "../.ssh/id_ed25519", "shadow": "/etc/shadow"}


@pytest.mark.parametrize("secret", list(SECRET_WORDS))
@pytest.mark.parametrize("example", _table_examples(), ids=lambda example: " ".join(example))
def test_every_file_reading_option_of_the_table_denies_a_secret(engine: PolicyEngine, home: Path, example: list[str],
                                                                secret: str) -> None:
    """Each table example with FILE replaced by a secret is denied, as an argv and inside `sh -c`."""
    word = SECRET_WORDS[secret]
    argv = [part.replace("FILE", word) for part in example]
    assert verdict(engine, argv, home / "project") == "deny", argv
    quoted = " ".join("'" + part.replace("'", "'\\''") + "'" for part in argv)
    assert verdict(engine, ["sh", "-c", quoted], home / "project") == "deny", argv


@pytest.mark.parametrize("argv", [
    ["wc", "--files0-from=~/.pgpass"],
    ["wc", "--files0-from", "~/.pgpass"],
    ["wc", "--files0=~/.pgpass"],  # a GNU abbreviation of --files0-from
    ["du", "--files0-from=~/.pgpass"],
    ["du", "-X", "~/.pgpass", "."],
    ["du", "--exclude-from=~/.pgpass", "."],
    ["sort", "--files0-from=~/.pgpass"],
    ["grep", "-f", "~/.pgpass", "notes.txt"],
    ["grep", "-if", "~/.pgpass", "notes.txt"],
    ["grep", "-f~/.pgpass", "notes.txt"],
    ["grep", "--file=~/.pgpass", "notes.txt"],
    ["grep", "--exclude-from=~/.pgpass", "-r", "x", "."],
    ["tar", "-czf", "/tmp/a.tgz", "-T", "~/.pgpass"],
    ["tar", "-cf", "/tmp/a.tar", "--files-from=~/.pgpass"],
    ["tar", "-cf", "/tmp/a.tar", "--exclude-from", "~/.pgpass", "notes.txt"],
    ["rsync", "-a", "--exclude-from=~/.pgpass", "notes.txt", "/tmp/x"],
    ["rsync", "-a", "--files-from=~/.pgpass", ".", "/tmp/x"],
    ["sed", "-f", "~/.pgpass", "notes.txt"],
    ["sed", "-nf", "~/.pgpass", "notes.txt"],
    ["awk", "-f", "~/.pgpass", "notes.txt"],
    ["gawk", "-f/HOME/.pgpass", "notes.txt"],
    ["diff", "--from-file=~/.pgpass", "notes.txt"],
    ["diff", "--to-file", "~/.pgpass", "notes.txt"],
    ["xargs", "-a", "~/.pgpass", "echo"],
    ["xargs", "--arg-file=~/.pgpass", "echo"],
    ["sh", "-c", "xargs -a ~/.pgpass echo"],
    ["strings", "@/HOME/.pgpass"],
    ["c++filt", "@/HOME/.pgpass"],
    ["gcc", "@/HOME/.pgpass"],
    ["sh", "-c", "source ~/.pgpass"],
    ["sh", "-c", ". ~/.pgpass"],
    ["bash", "--init-file", "/HOME/.pgpass", "-ic", "true"],
    ["bash", "--rcfile=/HOME/.pgpass", "-i"],
    ["jq", "-n", "--rawfile", "x", "/HOME/.pgpass", "$x"],
    ["comm", "notes.txt", "~/.pgpass"],
    ["join", "notes.txt", "~/.pgpass"],
    ["paste", "notes.txt", "~/.pgpass"],
    ["ssh-keygen", "-y", "-f", "~/.ssh/id_ed25519"],
    ["psql", "-f", "/HOME/.pgpass"],
])
def test_named_file_reading_options_deny_the_secret(engine: PolicyEngine, home: Path, argv: list[str]) -> None:
    """The red-team's and the brief's spellings of reading ~/.pgpass (or a key) through an option are denied."""
    argv = [word.replace("/HOME", str(home)) for word in argv]
    assert verdict(engine, argv, home) == "deny", argv


@pytest.mark.parametrize("argv", [
    ["ls", "--hide=/HOME/.pgpass"],
    ["myprogram", "--input=/HOME/.pgpass"],
    ["myprogram", "-F/HOME/.pgpass"],
    ["myprogram", "@/HOME/.pgpass"],
    ["cat", "--whatever=/HOME/.ssh/id_ed25519"],
    ["du", "--some-new-option=~/.pgpass"],
])
def test_any_option_value_naming_an_existing_secret_is_denied(engine: PolicyEngine, home: Path,
                                                              argv: list[str]) -> None:
    """The generic rule: `--opt=VALUE`, `-xVALUE` (a path) and `@VALUE` naming an existing secret file are reads."""
    argv = [word.replace("/HOME", str(home)) for word in argv]
    assert verdict(engine, argv, home) == "deny", argv


def test_file_option_through_a_symlink_to_the_secret_is_denied(engine: PolicyEngine, home: Path) -> None:
    """`wc --files0-from=list` where list -> ~/.pgpass is denied: option values are judged physically too."""
    (home / "project/list").symlink_to(home / ".pgpass")
    assert verdict(engine, ["wc", "--files0-from=list"], home / "project") == "deny"
    assert verdict(engine, ["wc", "--files0-from=/proc/self/cwd/../.pgpass"], home / "project") == "deny"


@pytest.mark.parametrize("argv", [
    ["wc", "-l", "notes.txt"],
    ["grep", "-f", "patterns.txt", "notes.txt"],
    ["grep", "--file=patterns.txt", "notes.txt"],
    ["wc", "--files0-from=list.txt"],
    ["du", "-sh", "--exclude=*.o", "."],
    ["ls", "--color=auto", "-la"],
    ["grep", "--color=auto", "-n", "hello", "notes.txt"],
    ["cat", "notes.txt"],
])
def test_ordinary_option_reads_are_still_allowed(engine: PolicyEngine, home: Path, argv: list[str]) -> None:
    """Reading ordinary files through the same options, and options that name no file, stay allowed."""
    assert verdict(engine, argv, home) == "allow", argv


def test_find_by_name_of_a_secret_is_not_a_read(engine: PolicyEngine, home: Path) -> None:
    """`find ~ -name .pgpass` only lists names: a pattern after an option is not taken for a read of a file."""
    assert verdict(engine, ["find", "~", "-name", ".pgpass"], home) == "allow"


def test_a_table_example_that_fails_stops_the_table_and_the_profile_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table's examples are checked when it loads; a wrong one is an error, and profiles refuse to load."""
    from llmos.policies import profile
    from llmos.policies.command.file_options import FileOptionsError, load_file_options

    wrong = '[[programs]]\nnames = ["wc"]\noptions = ["--files0-from"]\nreads = [["wc", "-l", "FILE"]]\n'
    with pytest.raises(FileOptionsError, match="should find FILE"):
        load_file_options(wrong)
    leaky = '[[programs]]\nnames = ["grep"]\noptions = ["-f"]\nnot_reads = [["grep", "-f", "FILE"]]\n'
    with pytest.raises(FileOptionsError, match="should not find FILE"):
        load_file_options(leaky)

    def broken() -> None:
        raise FileOptionsError("file_options.toml: broken")

    monkeypatch.setattr(profile, "file_options_table", broken)
    with pytest.raises(profile.ProfileError, match="file_options.toml"):
        profile.load_profile("default")
