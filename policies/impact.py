"""What a call would do, computed before it runs: the preview a person approves and the facts policy judges.

A mutating tool declares a preview function with its own signature that returns an `Impact`: the expanded
list of paths (globs already expanded) with sizes, the processes with names and owners, the exact argv. Policy
decides on these facts, not on the model's words, and what is shown is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from llmos.display import escape_for_display

PathAction = Literal["read", "create", "modify", "delete", "move_from", "move_to", "chmod", "execute"]


@dataclass(frozen=True)
class PathEffect:
    """One path the call touches. `path` is absolute and normalised (`..` removed) but not resolved through
    symlinks; policy resolves it itself. `recursive` means everything beneath is touched too."""

    path: Path
    action: PathAction
    size: int | None = None
    recursive: bool = False


@dataclass(frozen=True)
class ProcessEffect:
    """A process the call signals or changes."""

    pid: int
    name: str | None
    user: str | None
    action: str
    """terminate, kill, suspend, resume, renice"""


@dataclass(frozen=True)
class Impact:
    paths: tuple[PathEffect, ...] = ()
    processes: tuple[ProcessEffect, ...] = ()
    argv: tuple[str, ...] | None = None
    """The exact command for shell.run / process.start."""
    network: bool = False
    all_processes: bool = False
    """The call targets every process (e.g. `kill -1`, a name matching everything)."""
    globs: tuple[PathEffect, ...] = ()
    """The globs the call expands, as written: judged as patterns too (what they say, such as every file in a
    folder), besides their current matches in `paths`."""
    process_names: tuple[str, ...] = ()
    """Names the call picks processes by, as written (also when none of that name runs)."""
    notes: tuple[str, ...] = field(default=())
    """Extra lines for the person: counts, totals, what was left out."""

    @property
    def is_empty(self) -> bool:
        return not (self.paths or self.processes or self.argv or self.network or self.all_processes
                    or self.process_names)


def describe_impact(impact: Impact, home: Path | None = None) -> list[str]:
    """The preview lines a person reads before approving: one line per path, process or command."""

    def shown(path: Path) -> str:
        text = str(path)
        if home is not None and (path == home or home in path.parents):
            text = "~" + text[len(str(home)) :]
        return escape_for_display(text)

    lines: list[str] = []
    for effect in impact.paths:
        size = f" ({effect.size} bytes)" if effect.size is not None else ""
        beneath = " and everything beneath" if effect.recursive else ""
        lines.append(f"{effect.action} {shown(effect.path)}{size}{beneath}")
    for process in impact.processes:
        lines.append(f"{process.action} pid {process.pid} {escape_for_display(process.name or '?')} "
                     f"(user {process.user or '?'})")
    if impact.all_processes:
        lines.append("targets ALL processes")
    if impact.argv is not None:
        lines.append("run: " + " ".join(escape_for_display(repr(arg) if " " in arg or not arg else arg)
                                         for arg in impact.argv))
    if impact.network:
        lines.append("uses the network")
    lines.extend(escape_for_display(note) for note in impact.notes)
    return lines
