"""`shell.run`: the last resort, for what no typed tool covers. argv only, never a shell string; always inside
the sandbox, which makes the whole file system read-only except the writable roots policy grants (none by
default: a command's writes could not be journaled, so by default it cannot make any)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmos.policies.impact import Impact
from llmos.policies.sandbox import SandboxSpec, SandboxUnavailable, run_sandboxed
from llmos.tools.context import current_context
from llmos.tools.paths import home_dir
from llmos.tools.registry import ToolError, tool
from llmos.tools.shell_git import repository_git_settings, with_diff_programs_off

from llmos.effects import Effect

MAX_TIMEOUT_S = 300


def preview_run(argv: list[str], timeout: int = 30) -> Impact:
    if not argv or not argv[0].strip():
        raise ToolError("argv must name a program, e.g. [\"ls\", \"-l\"]")
    return Impact(argv=tuple(argv), notes=(f"sandboxed, read-only file system, timeout {timeout}s",))


def home_expanded(word: str) -> str:
    """`~` and `~/...` as the home folder, as a shell would expand them: the policy judged such a word as a path
    in home, so the command must get that path (no shell runs to expand it; the program would see a literal ~)."""
    if word == "~" or word.startswith("~/"):
        return str(home_dir()) + word[1:]
    return word


@tool("shell.run", Effect.EXEC, preview=preview_run)
def run_command(argv: list[str], timeout: int = 30) -> dict[str, Any]:
    """Run a command (argv list) in the sandbox; only when no other tool fits.

    Args:
        argv: program and arguments, e.g. ["git", "log", "-3"].
        timeout: seconds before it is stopped (at most 300).
    """
    preview_run(argv, timeout)
    argv = [home_expanded(word) for word in argv]
    context = current_context()
    cwd = Path.cwd()
    try:
        # Programs a repository's git settings name never run: fixed settings for every command, and the
        # repository-named ones (aliases, diff and filter drivers, ...) found in each repository git runs in.
        git_settings = repository_git_settings(argv, cwd)
    except SandboxUnavailable as exc:
        raise ToolError(f"refused: the sandbox is not available, so nothing was run ({exc})") from None
    spec = SandboxSpec(
        argv=tuple(with_diff_programs_off(argv)),
        cwd=cwd,
        writable_roots=context.writable_roots,
        network=context.network,
        confinement=context.confinement,
        timeout_s=float(max(1, min(timeout, MAX_TIMEOUT_S))),
        git_settings=git_settings,
    )
    try:
        result = run_sandboxed(spec)
    except SandboxUnavailable as exc:
        raise ToolError(f"refused: the sandbox is not available, so nothing was run ({exc})") from None
    payload: dict[str, Any] = {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr}
    if result.timed_out:
        payload["timed_out"] = f"stopped after {timeout}s"
    if result.output_truncated:
        payload["output_truncated"] = True
    return payload
