"""The one test for whether the real sandbox can run here: tests that need bubblewrap skip with its reason."""

from __future__ import annotations

import pytest
from llmos.policies.sandbox import SandboxUnavailable
from llmos.policies.sandbox import bwrap as sandbox_bwrap


def sandbox_problem() -> str | None:
    """Why the sandbox cannot run on this machine (bubblewrap missing or unable to make its namespaces), or None."""
    try:
        sandbox_bwrap.probe()
    except SandboxUnavailable as exc:
        return str(exc)
    return None


needs_sandbox = pytest.mark.skipif(sandbox_problem() is not None,
                                   reason=f"sandbox unavailable here: {sandbox_problem()}")
