"""Where llmos keeps its files: XDG config, data and cache directories (platformdirs honours XDG_* and HOME)."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from llmos.errors import UsageError

APP_NAME = "llmos"


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/llmos`: config.toml and user policy files."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """`$XDG_DATA_HOME/llmos`: audit log, journal, history."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def runtime_dir() -> Path:
    """Where the daemon's socket, pid lock and log live: `$XDG_RUNTIME_DIR/llmos/` when the variable names a
    folder (tmpfs, private to the user, gone at logout), else the data dir."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / APP_NAME
    return data_dir()


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/llmos`: assembled models and prompt caches."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def models_cache_dir() -> Path:
    return cache_dir() / "models"


def prompt_cache_dir() -> Path:
    return cache_dir() / "prompt-cache"


def config_file() -> Path:
    return config_dir() / "config.toml"


class FolderError(UsageError):
    """One of llmos's own folders cannot be used (a file in the way, not writable, a full disk): a configuration
    error, exit 2, never a traceback."""


@dataclass(frozen=True)
class LlmosFolder:
    """One folder llmos keeps files in, with the variable a person changes to move it."""

    role: str
    path: Path
    variable: str


def llmos_folders() -> list[LlmosFolder]:
    """Every folder llmos reads and writes, the most specific first (models sits inside the cache; the runtime
    folder is the data folder when XDG_RUNTIME_DIR names no folder)."""
    folders = [
        LlmosFolder("models", models_cache_dir(), "XDG_CACHE_HOME"),
        LlmosFolder("cache", cache_dir(), "XDG_CACHE_HOME"),
        LlmosFolder("config", config_dir(), "XDG_CONFIG_HOME"),
    ]
    if runtime_dir() != data_dir():
        folders.append(LlmosFolder("runtime", runtime_dir(), "XDG_RUNTIME_DIR"))
    folders.append(LlmosFolder("data", data_dir(), "XDG_DATA_HOME"))
    return folders


def folder_error(error: OSError) -> FolderError | None:
    """The one-line configuration error for an OSError on one of llmos's folders: on the folder, a file in it, or
    a folder above it (where making it failed). None for an error elsewhere, or one that names no path but a
    full disk (which is never llmos's bug, wherever it struck)."""
    failed_path = error.filename
    if not isinstance(failed_path, (str, bytes, os.PathLike)):
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return FolderError(f"cannot write llmos's files: {_what_is_wrong(error, None)}")
        return None
    failed = Path(os.path.abspath(os.fsdecode(failed_path)))
    for folder in llmos_folders():
        # A folder above counts only where it is not a folder (making it failed): an error on $HOME itself is
        # some other command's business.
        above = failed in folder.path.parents and not failed.is_dir()
        if failed == folder.path or folder.path in failed.parents or above:
            return FolderError(
                f"the {folder.role} folder {folder.path} cannot be used: {_what_is_wrong(error, failed)} "
                f"({folder.variable} picks this folder)"
            )
    return None


def folder_problem(folder: Path) -> str | None:
    """What stops llmos from making `folder` or writing in it, checked without changing anything (for `llmos
    doctor`); None when it is usable or can be made."""
    existing = folder
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable" if existing == folder else f"cannot make it: {existing} is not writable"
    try:
        free = os.statvfs(existing)
    except OSError:
        return None
    if free.f_bavail == 0:
        return f"no space left on the device holding {existing}"
    return None


def _what_is_wrong(error: OSError, failed: Path | None) -> str:
    if error.errno in (errno.ENOTDIR, errno.EEXIST) and failed is not None:
        blocking = next((path for path in (failed, *failed.parents) if path.exists() and not path.is_dir()), failed)
        return f"{blocking} is a file, not a folder"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"{failed} is not writable (permission denied)" if failed else "permission denied"
    if error.errno == errno.EROFS:
        return "it is on a read-only file system"
    if error.errno == errno.ENOSPC:
        return "no space left on the device"
    if error.errno == errno.EDQUOT:
        return "disk quota exceeded"
    reason = error.strerror or str(error)
    return f"{reason}: {failed}" if failed else reason
