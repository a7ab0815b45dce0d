"""Open the `Assistant` a front end uses: the resident daemon when it runs and serves this user's setup, else
the model loaded in this process. Both behave and print identically.

The session is assembled in `llmos.runtime` (which the daemon uses too), imported only when no daemon serves:
it pulls in the model, policy, journal and keyring code, about half a second a daemon-served one-shot would pay."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from llmos.assistant import Assistant, LocalAssistant
from llmos.models.backend import LazyBackend

if TYPE_CHECKING:
    from llmos.daemon.client import DaemonAssistant
    from llmos.session import Session


def open_assistant(
    *,
    model: str | None = None,
    policy: str | None = None,
    max_steps: int | None = None,
    dry_run: bool = False,
    progress: bool = False,
    use_daemon: bool = True,
    preload: bool = False,
) -> Assistant:
    """The daemon's assistant if one answers (unless `use_daemon` is False or LLMOS_NO_DAEMON is set), else a
    session loaded here. Loading may take seconds: front ends call this from a worker, not the UI thread."""
    if use_daemon and not os.environ.get("LLMOS_NO_DAEMON"):
        remote = connect_to_daemon(model=model, policy=policy, max_steps=max_steps, dry_run=dry_run)
        if remote is not None:
            return remote
    from llmos.runtime import open_session

    # A front end that preloads stays open for many requests: its model is loaded for speed per token.
    session = open_session(model=model, policy=policy, max_steps=max_steps, dry_run=dry_run, progress=progress,
                           stays_open=preload)
    if preload:
        preload_model(session)
    return LocalAssistant(session)


def connect_to_daemon(
    *, model: str | None, policy: str | None, max_steps: int | None, dry_run: bool
) -> DaemonAssistant | None:
    """A `DaemonAssistant` when a daemon runs and serves this setup (same HOME, data and config dirs), else None."""
    from llmos.daemon.client import DaemonAssistant, daemon_status
    from llmos.daemon.protocol import ProtocolError, RequestContext

    status = daemon_status()
    if status is None:
        return None
    context = RequestContext.here()
    try:
        daemon_context = RequestContext.from_json(status.get("context"))
    except ProtocolError:
        return None
    if context.mismatch_with(daemon_context) is not None:
        return None
    return DaemonAssistant(
        model=model or os.environ.get("LLMOS_MODEL"),
        policy=_absolute_if_path(policy),
        max_steps=max_steps,
        dry_run=dry_run,
        loaded_model=status.get("model"),
    )


def _absolute_if_path(policy: str | None) -> str | None:
    """A policy given as a relative path means the client's directory, not the daemon's."""
    if policy and ("/" in policy or policy.endswith(".toml")):
        return str(Path(policy).expanduser().resolve())
    return policy


def preload_model(session: Session) -> threading.Thread | None:
    """Load a lazily loaded model in the background, for a front end that stays open (the TUI, the overlay,
    the REPL): the person is still typing the first request, which then need not wait for the load. A one-shot
    stays lazy, so a request the fast path answers never loads the model. A load that fails here is left for
    the first request that needs the model to report."""
    backend = session.backend
    if not isinstance(backend, LazyBackend) or backend.loaded:
        return None

    def load() -> None:
        try:
            backend.inner  # noqa: B018  the property loads, under the backend's own lock
        except Exception:  # noqa: BLE001  reported by the request that needs the model
            pass

    thread = threading.Thread(target=load, name="llmos-preload", daemon=True)
    thread.start()
    return thread
