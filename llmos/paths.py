"""Where llmos keeps its files: XDG config, data and cache directories (platformdirs honours XDG_* and HOME)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "llmos"


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/llmos`: config.toml and user policy files."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """`$XDG_DATA_HOME/llmos`: audit log, journal, history."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/llmos`: assembled models and prompt caches."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def models_cache_dir() -> Path:
    return cache_dir() / "models"


def prompt_cache_dir() -> Path:
    return cache_dir() / "prompt-cache"


def config_file() -> Path:
    return config_dir() / "config.toml"
