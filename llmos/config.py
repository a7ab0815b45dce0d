"""User configuration: `$XDG_CONFIG_HOME/llmos/config.toml`, validated; a bad file is a clear error, not a trace."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pydantic

from llmos.errors import UsageError
from llmos.models.remote import DEFAULT_CONTEXT_TOKENS, DEFAULT_TIMEOUT_S
from llmos.paths import config_file, folder_error


class Config(pydantic.BaseModel):
    """Settings a person may put in config.toml. Every field has a default that works out of the box."""

    model_config = pydantic.ConfigDict(extra="forbid")

    model: str | None = None
    """Registry name, GGUF path or `remote:NAME`; `--model` and `LLMOS_MODEL` override it."""
    remote_url: str | None = None
    """Base URL of the OpenAI-compatible server behind `remote:NAME` models (`http://gpu-server:8000/v1`);
    `LLMOS_REMOTE_URL` overrides it."""
    remote_api_key_secret: str = "remote-api-key"
    """The llmos secret (`llmos secrets set NAME`) sent as the bearer token; when it is not set, none is sent."""
    remote_context_tokens: int = pydantic.Field(default=DEFAULT_CONTEXT_TOKENS, ge=512)
    """The remote server's context length (its `--n_ctx` / `--max-model-len`); llmos budgets prompts with it."""
    remote_timeout_s: float = pydantic.Field(default=DEFAULT_TIMEOUT_S, gt=0)
    """Seconds to wait for the remote server to connect, to start replying, and between streamed pieces."""
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
    planner_examples: int = pydantic.Field(default=0, ge=0, le=8)
    """How many examples from the planner's library (those most like the request) the model is shown before it;
    0 (the default): none. Off until its examples stop leaking their file names into plans: on, the suite gains
    8 tasks, but the real-model test of a dry-run delete planned the library's `ubuntu-24.04-desktop-amd64.iso`
    instead of the glob (BENCHMARKS.md). Each example adds about 50 tokens read uncached per request."""
    learn_from_approvals: bool = False
    """Keep plans a person approved (locally, in the data dir) and offer them as examples for similar requests;
    `llmos feedback` lists, exports, forgets them. Off unless turned on."""


def load_config(path: Path | None = None) -> Config:
    """Read the config file if it exists; a missing file is the defaults."""
    path = path or config_file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Config.model_validate(raw)
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        # A file where the config folder should be (XDG_CONFIG_HOME naming a file) is a mistake to show, not
        # a missing config to quietly replace with the defaults.
        raise folder_error(exc) or UsageError(f"cannot read config {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read config {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config {path} is not valid TOML: {exc}") from None
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"config {path}: {where}: {first['msg']}") from None
