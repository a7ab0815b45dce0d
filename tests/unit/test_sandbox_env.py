"""The sandbox environment is built from an allow-list: PATH fixed, secrets and code-loading variables never pass."""

from __future__ import annotations

import pytest
from llmos.policies.sandbox.env import SAFE_PATH, build_env, env_name_refused


def test_only_allow_listed_parent_variables_pass() -> None:
    """HOME, LANG, LC_*, TERM, TZ, USER, LOGNAME pass; anything else in llmos's environment does not."""
    parent = {
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "LC_ALL": "C",
        "LC_TIME": "en_GB.UTF-8",
        "TERM": "xterm",
        "TZ": "UTC",
        "USER": "u",
        "LOGNAME": "u",
        "DISPLAY": ":0",
        "SSH_AUTH_SOCK": "/run/user/1000/ssh",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
        "XDG_RUNTIME_DIR": "/run/user/1000",
        "FOO": "bar",
    }
    env = build_env(parent)
    assert set(env) == {"HOME", "LANG", "LC_ALL", "LC_TIME", "TERM", "TZ", "USER", "LOGNAME", "PATH"}


def test_path_is_always_the_fixed_system_path() -> None:
    """PATH from the parent (with `.` or a workspace in it) and PATH from extra_env are both replaced."""
    env = build_env({"PATH": ".:/home/u/bin:/usr/bin"}, {"PATH": "/evil"})
    assert env["PATH"] == SAFE_PATH == "/usr/local/bin:/usr/bin:/bin"


@pytest.mark.parametrize(
    "name",
    ["API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "gh_token", "MY_SECRET", "DB_PASSWORD", "AWS_CREDENTIALS",
     "aws_secret_access_key", "SSH_PRIVATE_KEY_FILE", "MYSQL_PASSWD", "Session_Cookie"],
)
def test_secret_looking_names_never_pass_even_from_extra_env(name: str) -> None:
    """A name containing KEY/TOKEN/SECRET/PASSWORD/CREDENTIAL (any case) is dropped, whoever asked for it."""
    assert name not in build_env({name: "s3cr3t"}, {name: "s3cr3t"})
    assert env_name_refused(name) is not None


@pytest.mark.parametrize(
    "name",
    ["LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV", "ENV", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME",
     "PERL5OPT", "NODE_OPTIONS", "BASH_FUNC_ls%%", "PROMPT_COMMAND", "GIT_SSH_COMMAND", "DYLD_INSERT_LIBRARIES",
     "GCONV_PATH", "SHELLOPTS"],
)
def test_code_loading_names_never_pass_even_from_extra_env(name: str) -> None:
    """Variables that make a program load or run other code are dropped from extra_env too."""
    assert name not in build_env({name: "/tmp/evil"}, {name: "/tmp/evil"})


def test_extra_env_adds_ordinary_names() -> None:
    """What a caller adds on purpose passes when it is harmless."""
    env = build_env({}, {"GIT_PAGER": "cat", "NO_COLOR": "1", "LANG": "C"})
    assert env["GIT_PAGER"] == "cat" and env["NO_COLOR"] == "1" and env["LANG"] == "C"


def test_nul_and_malformed_names_are_dropped() -> None:
    """A value with NUL cannot be passed to exec; names that are not plain identifiers are dropped."""
    env = build_env({"HOME": "/home/u\x00x"}, {"A=B": "1", "1X": "1", "OK_NAME": "v"})
    assert "HOME" not in env and "A=B" not in env and "1X" not in env
    assert env["OK_NAME"] == "v"
