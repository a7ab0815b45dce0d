"""The environment a sandboxed command gets: built from an allow-list, never copied from llmos's own.

Only a few harmless names pass from the parent (`HOME`, `LANG`, `LC_*`, `TERM`, `TZ`, `USER`, `LOGNAME`); `PATH`
is always reset to a fixed system path, so neither a `PATH` entry in the working directory nor a `./git` next to
it can stand in for a system program. `extra_env` (what a caller adds on purpose) goes through the same deny
rules: a name that looks like a secret (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`, ...) or that
changes how programs load code (`LD_PRELOAD`, `BASH_ENV`, `PYTHONPATH`, ...) is never passed, whoever asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
"""The only `PATH` a sandboxed command sees."""

PASSED_NAMES = frozenset({"HOME", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME"})
"""Names taken from llmos's own environment when set (plus every `LC_*`)."""

SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "COOKIE", "PRIVATE")
"""A name containing one of these (any case) is never passed: it probably holds a secret."""

CODE_LOADING_NAMES = frozenset(
    {
        "PATH",  # always SAFE_PATH
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PROMPT_COMMAND",
        "PS4",
        "IFS",
        "CDPATH",
        "GLOBIGNORE",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "PYTHONHOME",
        "PYTHONINSPECT",
        "PYTHONUSERBASE",
        "PERL5LIB",
        "PERL5OPT",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "NODE_OPTIONS",
        "NODE_PATH",
        "GCONV_PATH",
        "LOCPATH",
        "NLSPATH",
        "HOSTALIASES",
        "RESOLV_HOST_CONF",
        "MALLOC_CHECK_",
        "GIT_EXEC_PATH",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_PARAMETERS",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "LESSOPEN",
        "LESSCLOSE",
    }
)
"""Names that make a program load or run other code; never passed, even from `extra_env`."""

CODE_LOADING_PREFIXES = ("LD_", "DYLD_", "BASH_FUNC_", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_CONFIG_COUNT")

_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def env_name_refused(name: str) -> str | None:
    """Why `name` may not be passed to a sandboxed command, or None when it may."""
    if not _VALID_NAME.match(name):
        return "not a plain variable name"
    upper = name.upper()
    if upper in CODE_LOADING_NAMES or upper.startswith(CODE_LOADING_PREFIXES):
        return "it changes which code programs load or run"
    for word in SECRET_WORDS:
        if word in upper:
            return f"its name contains {word}, so it probably holds a secret"
    return None


def build_env(parent: Mapping[str, str], extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment for a sandboxed command: allow-listed names from `parent`, then `extra`, minus everything
    `env_name_refused` refuses, with `PATH` set to `SAFE_PATH`. Values holding NUL are dropped (they cannot be
    passed to a program and would otherwise fail late)."""
    env: dict[str, str] = {}
    for name, value in parent.items():
        if name in PASSED_NAMES or name.startswith("LC_"):
            env[name] = value
    for name, value in extra.items():
        env[name] = value
    cleaned = {
        name: value
        for name, value in env.items()
        if env_name_refused(name) is None and "\x00" not in value and "\x00" not in name
    }
    cleaned["PATH"] = SAFE_PATH
    return cleaned
