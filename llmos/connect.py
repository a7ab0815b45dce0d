"""Open the `Assistant` a front end uses: the resident daemon when it runs and serves this user's setup, else
the model loaded in this process. Both behave and print identically."""

from __future__ import annotations

import os

from llmos.assistant import Assistant, LocalAssistant


def open_assistant(
    *,
    model: str | None = None,
    policy: str | None = None,
    max_steps: int | None = None,
    dry_run: bool = False,
    progress: bool = False,
    use_daemon: bool = True,
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
    return LocalAssistant(session)
