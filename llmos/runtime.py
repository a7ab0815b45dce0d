"""Assemble a ready `Session` from configuration: resolve and load the model, load tools, and put every action
behind the policy profile, the undo journal and the audit log."""

from __future__ import annotations

import os
from pathlib import Path

from llmos.config import Config, load_config
from llmos.errors import LlmosError, ModelError, UsageError
from llmos.executor import Safety
from llmos.learning import PlanMemory
from llmos.models.backend import Backend, LazyBackend
from llmos.models.llama_backend import LlamaBackend, LoadOptions
from llmos.models.remote import RemoteModel, choose_remote_model
from llmos.models.resolve import ResolvedModel, resolve_model
from llmos.paths import config_dir, data_dir, prompt_cache_dir, runtime_dir
from llmos.policies.audit import keyring_audit_log
from llmos.policies.engine import PolicyEngine
from llmos.policies.intent import allowed_effects_for
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps
from llmos.policies.profile import ProfileError, load_profile
from llmos.secrets import SecretStore, make_redactor
from llmos.session import Session, SessionOptions
from llmos.tools import load_builtin_tools
from llmos.tools.paths import home_dir
from llmos.tools.piped import piped_tool_names
from llmos.tools.process import hide_from_listings


def llmos_protected_paths() -> tuple[Path, ...]:
    """llmos's own config, policy, automations, audit and journal, and the daemon's socket: no tool may change
    them, whatever the model asks, and sandboxed commands do not see them."""
    return tuple(dict.fromkeys((config_dir(), data_dir(), runtime_dir())))


def load_policy(name: str | None, config: Config) -> PolicyEngine:
    """The policy engine for this run: `--policy`, else the config's, else the user's policy.toml, else
    `default`. A profile that does not load (bad file, failing examples) is a usage error, never a fallback."""
    try:
        profile = load_profile(name or config.policy, user_config_dir=config_dir())
    except ProfileError as exc:
        raise UsageError(f"policy: {exc}") from None
    return PolicyEngine(
        profile,
        home=home_dir(),
        protected_paths=llmos_protected_paths(),
        # The stdin tools are bound to each request's piped data, not registered: they are known all the same.
        known_tools=[*load_builtin_tools().names(), *piped_tool_names()],
    )


def load_safety(policy: str | None, config: Config) -> Safety:
    engine = load_policy(policy, config)
    journal = Journal.authenticated(data_dir() / "journal")
    redactor = make_redactor()
    # The step runner redacts every entry first; the log also blanks the secrets stored now (defence in depth).
    audit = keyring_audit_log(data_dir() / "audit.jsonl", redact_values=redactor.values())
    return Safety(
        policy=engine,
        file_ops=lambda request_id, request, tool: FileOps(journal, request_id, request, tool),
        audit=audit,
        intent=allowed_effects_for,
        redact=redactor,
    )


def load_backend(model: str | None, config: Config, *, progress: bool) -> tuple[LlamaBackend, ResolvedModel]:
    resolved = resolve_model(model, config.model, progress=progress)
    return load_resolved_backend(resolved, config), resolved


def load_resolved_backend(resolved: ResolvedModel, config: Config, *, stays_open: bool = True) -> LlamaBackend:
    """Load a model already found and verified, with the config's threads, GPU layers and prompt cache. A process
    that `stays_open` for many requests repacks the weights (faster tokens); a one-shot maps them (a second
    sooner to its first token)."""
    cache_enabled = os.environ.get("LLMOS_NO_PROMPT_CACHE") is None
    return LlamaBackend(
        resolved.path,
        model_name=resolved.name,
        model_id=resolved.cache_key,
        options=LoadOptions(
            threads=config.threads,
            gpu_layers=config.gpu_layers,
            prompt_cache_dir=prompt_cache_dir() if cache_enabled else None,
            repack_weights=stays_open,
        ),
    )


def choose_model(model: str | None, config: Config, *, progress: bool) -> ResolvedModel | RemoteModel:
    """The model a run uses: a `remote:NAME` server (nothing to find on disk), else a verified local file."""
    remote = choose_remote_model(model, config)
    if remote is not None:
        return remote
    return resolve_model(model, config.model, progress=progress)


def load_chosen_backend(chosen: ResolvedModel | RemoteModel, config: Config, *, stays_open: bool = True) -> Backend:
    """Load a local model, or connect to a remote one with the API key from the keyring (when one is set)."""
    if isinstance(chosen, RemoteModel):
        from llmos.models.remote_backend import RemoteBackend  # network code only for those who use it

        try:
            api_key = SecretStore().find(chosen.api_key_secret)
        except LlmosError as exc:
            raise ModelError(str(exc)) from None
        return RemoteBackend(chosen, api_key=api_key)
    return load_resolved_backend(chosen, config, stays_open=stays_open)


def model_display_name(chosen: ResolvedModel | RemoteModel) -> str:
    return chosen.display_name if isinstance(chosen, RemoteModel) else chosen.name


def open_session(
    *, model: str | None, policy: str | None, max_steps: int | None, dry_run: bool, progress: bool,
    stays_open: bool = False,
) -> Session:
    config = load_config()
    safety = load_safety(policy, config)
    # Found and verified now, so a missing or damaged model is said before any request; loaded (or, for a remote
    # model, first contacted) on first use, so a request the fast path answers never waits for it.
    chosen = choose_model(model, config, progress=progress)
    backend = LazyBackend(model_display_name(chosen),
                          lambda: load_chosen_backend(chosen, config, stays_open=stays_open))
    options = session_options(config, max_steps=max_steps, dry_run=dry_run)
    registry = load_builtin_tools()
    hide_from_listings(os.getpid())
    return Session(backend, registry, safety, options, memory=plan_memory_for(config))


def session_options(config: Config, *, max_steps: int | None = None, dry_run: bool = False) -> SessionOptions:
    """A session's options as the config sets them (`max_steps` given overrides the config's)."""
    return SessionOptions(max_steps=max_steps or config.max_steps, dry_run=dry_run, fast_path=config.fast_path,
                          examples=config.planner_examples, places=True)


def plan_memory_for(config: Config) -> PlanMemory | None:
    """The kept plans when the person turned learning on (`learn_from_approvals`), else None."""
    return PlanMemory() if config.learn_from_approvals else None
