"""The git settings every sandboxed command runs with: no program a repository's configuration names ever runs.

A repository's `.git/config` (and whatever it includes) can name programs git runs by itself: `core.fsmonitor` on
`git status`, `diff.external` and textconv drivers on `git diff` / `git show` / `git log -p`, filter drivers on
`git status` and `git add`, hooks, pagers, editors, ssh and credential helpers, gpg, aliases that start with `!`.
A plain, allowed `git status` in a hostile repository would run arbitrary code. So every sandboxed command gets:

- environment variables git reads before any config file (`GIT_PAGER`, `GIT_EDITOR`, `GIT_SSH_COMMAND`,
  `GIT_ASKPASS`, `GIT_PROXY_COMMAND`, `GIT_ALLOW_PROTOCOL`, ...), set to harmless or refusing values;
- command-line-level settings (`GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n`), which git reads
  after the system, global and repository files, so they outrank them: `core.fsmonitor=false`,
  `core.hooksPath=/dev/null`, `diff.external=false`, `credential.helper=` (an empty value empties the list), ...;
- for settings whose names carry a name the repository chooses (`alias.NAME`, `diff.DRIVER.textconv`,
  `filter.DRIVER.clean`, `merge.DRIVER.driver`, ...), the caller lists the names the repository defines
  (`settings_to_neutralise`, fed by `git config --list --name-only`) and each is overridden the same way.

A refused program is `false`, so git reports that it failed instead of silently printing less.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

REFUSE = "false"
"""A program that does nothing and fails: what a neutralised command setting runs instead."""

GIT_ENVIRONMENT: dict[str, str] = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_PAGER": "cat",
    "GIT_EDITOR": REFUSE,
    "GIT_SEQUENCE_EDITOR": REFUSE,
    "GIT_SSH_COMMAND": REFUSE,
    "GIT_ASKPASS": "",  # set but empty: git then neither runs core.askPass nor falls back to SSH_ASKPASS
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PROXY_COMMAND": "",  # set: core.gitProxy is ignored; empty: no proxy program
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",  # never ext:: (runs a command) or fd::, whatever config says
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_OPTIONAL_LOCKS": "0",
}
"""Variables git reads before (and in place of) any configuration file."""

GIT_SETTINGS: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.pager", "cat"),
    ("core.editor", REFUSE),
    ("sequence.editor", REFUSE),
    ("core.askPass", ""),
    ("core.sshCommand", REFUSE),
    ("core.alternateRefsCommand", ""),
    ("core.attributesFile", "/dev/null"),
    ("credential.helper", ""),
    ("diff.external", REFUSE),
    ("gpg.program", REFUSE),
    ("gpg.openpgp.program", REFUSE),
    ("gpg.x509.program", REFUSE),
    ("gpg.ssh.program", REFUSE),
    ("gpg.ssh.defaultKeyCommand", REFUSE),
    ("interactive.diffFilter", "cat"),
    ("protocol.ext.allow", "never"),
    ("safe.bareRepository", "explicit"),  # a bare repository hidden in a work tree is not picked up by a `cd`
)
"""Command-line-level settings: they outrank the system, global and repository configuration."""

# Settings whose middle part is a name the configuration chooses, with what each is overridden with.
_NAMED_SETTINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), value) for pattern, value in (
        (r"alias\..+", ""),  # `git NAME` then fails: "'' is not a git command"
        (r"diff\..+\.(textconv|command)", REFUSE),
        (r"filter\..+\.(clean|smudge|process)", ""),  # an empty filter is no filter
        (r"merge\..+\.driver", REFUSE),
        (r"(difftool|mergetool|man|browser)\..+\.(cmd|path)", REFUSE),
        (r"credential\..+\.helper", ""),
        (r"gpg\..+\.program", REFUSE),
        (r"remote\..+\.uploadpack", "git-upload-pack"),
        (r"remote\..+\.receivepack", "git-receive-pack"),
        (r"submodule\..+\.update", "none"),  # `!command` runs a command on `git submodule update`
    )
)
_FILTER = re.compile(r"(filter\..+)\.[^.]+", re.IGNORECASE | re.DOTALL)


def settings_to_neutralise(names: Iterable[str]) -> list[tuple[str, str]]:
    """The overrides for the named settings among `names` (as `git config --list --name-only` prints them)
    that make git run a program; a filter driver also stops being required, so git treats its files as plain."""
    overrides: dict[str, str] = {}
    for name in names:
        for pattern, value in _NAMED_SETTINGS:
            if pattern.fullmatch(name):
                overrides[name] = value
                break
        driver = _FILTER.fullmatch(name)
        if driver is not None:
            overrides[f"{driver.group(1)}.required"] = "false"
    return list(overrides.items())


def git_environment(named: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """The variables that neutralise git's configured programs: `GIT_ENVIRONMENT` plus `GIT_SETTINGS` and the
    `named` overrides as command-line-level settings."""
    env = dict(GIT_ENVIRONMENT)
    settings = [*GIT_SETTINGS, *named]
    env["GIT_CONFIG_COUNT"] = str(len(settings))
    for index, (key, value) in enumerate(settings):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env
