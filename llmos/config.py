"""User configuration: `$XDG_CONFIG_HOME/llmos/config.toml`, validated; a bad file is a clear error, not a trace."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pydantic

from llmos.errors import UsageError
from llmos.paths import config_file


class Config(pydantic.BaseModel):
    """Settings a person may put in config.toml. Every field has a default that works out of the box."""

    model_config = pydantic.ConfigDict(extra="forbid")

    model: str | None = None
    """Registry name or GGUF path; `--model` and `LLMOS_MODEL` override it."""
    max_steps: int = pydantic.Field(default=6, ge=1, le=50)
    policy: str | None = None
    """Profile name or path; default: the user's policy.toml in the config dir, else the built-in `default`."""
    threads: int | None = pydantic.Field(default=None, ge=1)
    """llama.cpp threads; default: the number of physical cores."""
    gpu_layers: int = -1
    """Layers to offload when the llama.cpp build has a GPU backend; -1 is all."""
    daemon_idle_unload_s: float = pydantic.Field(default=900, gt=0)
    """The daemon frees the model after this many seconds without a request, and reloads it on the next."""
    fast_path: bool = True
    """Answer the most common plain requests (free memory and disk, uptime, CPU, OS, top processes, a folder's
    listing) without the model: the same tool call, policy and audit, in milliseconds. Off: the model plans all."""
    learn_from_approvals: bool = False
    """Keep plans a person approved (locally, in the data dir) and offer them as examples for similar requests;
    `llmos feedback` lists, exports, forgets them. Off unless turned on."""


def load_config(path: Path | None = None) -> Config:
    """Read the config file if it exists; a missing file is the defaults."""
    path = path or config_file()
    if not path.exists():
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Config.model_validate(raw)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config {path} is not valid TOML: {exc}") from None
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"config {path}: {where}: {first['msg']}") from None
