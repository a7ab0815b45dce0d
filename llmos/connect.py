"""Open the `Assistant` a front end uses: the resident daemon when it runs and serves this user's setup, else
the model loaded in this process. Both behave and print identically."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from llmos.assistant import Assistant, LocalAssistant
from llmos.models.backend import LazyBackend

if TYPE_CHECKING:
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
        from llmos.daemon.client import connect_to_daemon

        remote = connect_to_daemon(model=model, policy=policy, max_steps=max_steps, dry_run=dry_run)
        if remote is not None:
            return remote
    from llmos.runtime import open_session

    session = open_session(model=model, policy=policy, max_steps=max_steps, dry_run=dry_run, progress=progress)
    if preload:
        preload_model(session)
    return LocalAssistant(session)


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
