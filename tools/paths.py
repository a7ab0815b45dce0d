"""Path arguments as people write them: `~` is `$HOME`, relative paths are against the working directory."""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    """`$HOME` as it is now (read at call time, so a temp HOME in tests and scripts is honoured)."""
    return Path(os.environ.get("HOME") or os.path.expanduser("~"))


def expand_path(raw_path: str) -> Path:
    """Expand `~` and `$VARS`, resolve against the working directory, and normalise `..` without following
    the final symlink (so a link is reported as a link, not as its target)."""
    text = raw_path.strip() or "."
    if text == "~" or text.startswith("~/"):
        text = str(home_dir()) + text[1:]
    elif text.startswith("~") and not _is_user(text[1:].split("/", 1)[0]):
        # "~Downloads/x" (a slash forgotten, as small models do) is not another user's home: read it as ~/Downloads/x.
        text = str(home_dir()) + "/" + text[1:]
    path = Path(os.path.expandvars(os.path.expanduser(text)))
    if not path.is_absolute():
        path = Path.cwd() / path
    return Path(os.path.normpath(path))


def _is_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except (KeyError, ValueError):
        return False
    return True


def display_path(path: Path) -> str:
    """A path as the model and person should read it: under `$HOME` it is shown as `~/...`."""
    home = home_dir()
    try:
        relative = path.relative_to(home)
    except ValueError:
        return str(path)
    return "~" if str(relative) == "." else f"~/{relative}"
