"""Run a command confined: bubblewrap namespaces, a seccomp filter, Landlock, rlimits, a per-run cgroup, a
wall-clock timeout.

Modules: `run` (run_sandboxed and the spec/result records), `bwrap` (the bubblewrap command line and its probe),
`syscall_filter` (the seccomp filter bubblewrap loads),
`inside` (the helper that runs inside bubblewrap before the command: cgroup, Landlock, rlimits), `env` (the
allow-listed environment), `output` (capped, neutralised output), `cgroup` (per-run cgroups), `status` (what works
here, for `llmos doctor`), `seatbelt` (macOS).
"""

from llmos.policies.sandbox.bwrap import SandboxUnavailable, reset_probe_cache
from llmos.policies.sandbox.run import LayerStatus, SandboxResult, SandboxSpec, run_sandboxed
from llmos.policies.sandbox.status import layer_status

__all__ = [
    "LayerStatus",
    "SandboxResult",
    "SandboxSpec",
    "SandboxUnavailable",
    "layer_status",
    "reset_probe_cache",
    "run_sandboxed",
]
