"""`remote:NAME`: which model setting names a model served by another machine, and where that server is.

Kept apart from the HTTP client (remote_backend.py) so that choosing a model imports no network code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from llmos.errors import UsageError

REMOTE_PREFIX = "remote:"
REMOTE_URL_ENV_VAR = "LLMOS_REMOTE_URL"
DEFAULT_CONTEXT_TOKENS = 4096
"""What llmos assumes the server's context holds unless `remote_context_tokens` says otherwise. A guess too low
only drops old tool results sooner; one too high makes long requests fail on the server. So: the in-process
context, and the `--n_ctx` of the README's server line (llama_cpp.server's own default is 2048)."""
DEFAULT_TIMEOUT_S = 60.0
"""Long enough for a busy GPU server to start a reply; short enough that a dead one is said within a minute."""


@dataclass(frozen=True)
class RemoteModel:
    """A `remote:NAME` setting made concrete: the model to ask for and where it is served. Frozen and
    comparable, so the daemon can tell whether the loaded model serves a request."""

    name: str
    """The model name sent to the server (NAME of `remote:NAME`)."""
    base_url: str
    """Up to and including the API version, without a trailing slash: `http://gpu-server:8000/v1`."""
    api_key_secret: str
    """The llmos secret holding the API key; the key itself is read from the keyring when connecting."""
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def display_name(self) -> str:
        return f"{REMOTE_PREFIX}{self.name}"


class RemoteSettings(Protocol):
    """The settings that choose and reach a remote model. The core's `Config` has them; a protocol, so that
    models imports nothing of the core that reads config.toml."""

    @property
    def model(self) -> str | None: ...

    @property
    def remote_url(self) -> str | None: ...

    @property
    def remote_api_key_secret(self) -> str: ...

    @property
    def remote_context_tokens(self) -> int: ...

    @property
    def remote_timeout_s(self) -> float: ...


def remote_model_name(model_setting: str) -> str | None:
    """NAME when a model setting is `remote:NAME`, else None (a registry name or a GGUF path)."""
    if not model_setting.startswith(REMOTE_PREFIX):
        return None
    name = model_setting[len(REMOTE_PREFIX):].strip()
    if not name:
        raise UsageError("remote: needs the served model's name, as in --model remote:qwen2.5-coder-7b")
    return name


def choose_remote_model(requested: str | None, config: RemoteSettings) -> RemoteModel | None:
    """The remote model when the winning model setting (`--model`, `LLMOS_MODEL`, config) is `remote:NAME`,
    else None. A remote model without a server URL is a UsageError saying what to set."""
    from llmos.models.registry import load_registry
    from llmos.models.resolve import select_model_request

    request = select_model_request(requested, config.model, load_registry())
    name = remote_model_name(request.value)
    if name is None:
        return None
    env_url = os.environ.get(REMOTE_URL_ENV_VAR, "").strip()
    if env_url:
        base_url = check_base_url(env_url, REMOTE_URL_ENV_VAR)
    elif config.remote_url and config.remote_url.strip():
        base_url = check_base_url(config.remote_url, "remote_url")
    else:
        raise UsageError(
            f"{request.value} needs the server's address: set remote_url in config.toml "
            f"(e.g. remote_url = \"http://gpu-server:8000/v1\") or {REMOTE_URL_ENV_VAR}"
        )
    return RemoteModel(
        name=name,
        base_url=base_url,
        api_key_secret=config.remote_api_key_secret,
        context_tokens=config.remote_context_tokens,
        timeout_s=config.remote_timeout_s,
    )


def check_base_url(base_url: str, setting: str) -> str:
    """The base URL without a trailing slash; one that is not http(s)://HOST... is a UsageError naming `setting`."""
    cleaned = base_url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{setting} must be an http:// or https:// URL such as http://127.0.0.1:8000/v1, "
                         f"not {base_url!r}")
    try:
        parts.port  # noqa: B018  a port that is not a number raises here, not when connecting
    except ValueError:
        raise UsageError(f"{setting} has an invalid port: {base_url!r}") from None
    return cleaned
