"""Assemble a ready `Session` from configuration: resolve and load the model, load tools, pick the policy."""

from __future__ import annotations

import os

from llmos.config import Config, load_config
from llmos.errors import UsageError
from llmos.models.llama_backend import LlamaBackend, LoadOptions
from llmos.models.resolve import ResolvedModel, resolve_model
from llmos.paths import prompt_cache_dir
from llmos.policies.decision import AllowReadOnlyPolicy, Policy
from llmos.session import Session, SessionOptions
from llmos.tools import load_builtin_tools
from llmos.tools.process import hide_from_listings

KNOWN_POLICIES = ("default",)


def load_policy(name: str | None, config: Config) -> Policy:
    """The policy for this run. Profiles (read-only, power-user, user files) arrive with the safety core; until
    then only `default` exists and an unknown name is a usage error, never a silent fallback."""
    chosen = name or config.policy
    if chosen not in KNOWN_POLICIES:
        raise UsageError(f"unknown policy {chosen!r}; known: {', '.join(KNOWN_POLICIES)}")
    return AllowReadOnlyPolicy()


def load_backend(model: str | None, config: Config, *, progress: bool) -> tuple[LlamaBackend, ResolvedModel]:
    resolved = resolve_model(model, config.model, progress=progress)
    cache_enabled = os.environ.get("LLMOS_NO_PROMPT_CACHE") is None
    backend = LlamaBackend(
        resolved.path,
        model_name=resolved.name,
        model_id=resolved.cache_key,
        options=LoadOptions(
            threads=config.threads,
            gpu_layers=config.gpu_layers,
            prompt_cache_dir=prompt_cache_dir() if cache_enabled else None,
        ),
    )
    return backend, resolved


def open_session(
    *, model: str | None, policy: str | None, max_steps: int | None, dry_run: bool, progress: bool
) -> Session:
    config = load_config()
    chosen_policy = load_policy(policy, config)
    backend, _ = load_backend(model, config, progress=progress)
    options = SessionOptions(max_steps=max_steps or config.max_steps, dry_run=dry_run)
    registry = load_builtin_tools()
    hide_from_listings(os.getpid())
    return Session(backend, registry, chosen_policy, options)
