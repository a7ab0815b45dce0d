"""What a running tool may use beyond its arguments: the request it belongs to, the journal that makes its file
changes undoable, and the sandbox settings for anything it runs. The session sets it around each call."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmos.policies.impact import Impact
from llmos.policies.sandbox.confine import Confinement
from llmos.tools.registry import ToolError


@dataclass(frozen=True)
class ToolContext:
    request_id: str
    file_ops: Any | None = None
    """Journaled file operations bound to this request and tool (`llmos.policies.journal.fileops.FileOps`); None means
    file changes cannot be journaled, and mutating file tools refuse rather than act without undo."""
    approved_impact: Impact | None = None
    """The preview the person (or policy) approved; a tool re-plans and refuses if its plan differs."""
    writable_roots: tuple[Path, ...] = ()
    """Where sandboxed commands may write (bound read-write); everything else is read-only to them."""
    network: bool = False
    """Whether a sandboxed command may use the network (a policy rule for that command allowed it)."""
    is_secret: Callable[[Path], bool | None] | None = None
    """The policy's secret rule (`Policy.is_secret`); tools reach it through `llmos.tools.secret_files`."""
    confinement: Confinement | None = None
    """What sandboxed commands may not see or change, from the active profile; None: the default profile's."""
    extra: dict[str, Any] = field(default_factory=dict)

    def journaled_file_ops(self) -> Any:
        if self.file_ops is None:
            raise ToolError("file changes need the undo journal, which is not available here; nothing was changed")
        return self.file_ops


_current_context: ContextVar[ToolContext | None] = ContextVar("llmos_tool_context", default=None)


def active_context() -> ToolContext | None:
    """The context of the call running now, or None outside a session (read tools still work there)."""
    return _current_context.get()


def current_context() -> ToolContext:
    """The context of the call running now; mutating tools call this and fail readably without one."""
    context = _current_context.get()
    if context is None:
        raise ToolError("this tool changes things and can only run inside an llmos session (no journal here)")
    return context


def confirm_impact(planned: Impact) -> None:
    """Refuse when what a tool is about to do is not what was approved (files appeared, vanished or changed
    between the preview and the run)."""
    approved = current_context().approved_impact
    if approved is not None and approved.paths != planned.paths:
        raise ToolError("the files changed since the plan was shown and approved; nothing was done, ask again")


@contextlib.contextmanager
def using_context(context: ToolContext) -> Iterator[ToolContext]:
    token = _current_context.set(context)
    try:
        yield context
    finally:
        _current_context.reset(token)
