"""Where llmos keeps its files: XDG config, data and cache directories (platformdirs honours XDG_* and HOME)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
