"""An automation rule: a watchdog trigger and one tool call to run for each matching file event.

A rule is made from a person's words once (by the model, `llmos.automations.planner`), shown, approved, and from
then on run by the daemon deterministically, without the model. Its action's string arguments may name the
event's file through placeholders; nothing else in them varies. A placeholder is filled in literally: the event's
file is that one file, never a glob (its `*?[` escaped where the tool expands globs), and a name the file tools
would read as something else (`$VAR`, `.`/`..`) is refused.

Approving a rule approves its action for the files its trigger matches, and nothing wider: at each run, a call
that the policy would ask about runs under that standing approval only when everything it touches is the
event's own file or lies in a folder the approved arguments name (`Rule.approved_roots`). Anything else, and
every call whose effect cannot be undone (processes, commands), waits for a person in the pending queue.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import secrets
import time
from collections.abc import Collection
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import pydantic

from llmos.display import escape_for_display
from llmos.effects import Effect
from llmos.tools.paths import display_path, expand_path

EventKind = Literal["created", "modified", "deleted"]
NOTIFY_TOOL = "notify"
"""The action that only tells the person (a notice in `llmos automations log` and the TUI): no tool, no effect."""
UNDOABLE_EFFECTS = frozenset({Effect.WRITE, Effect.DELETE})
"""Effects the journal can reverse: the only ones a rule's approval may cover without asking at each run."""
PLACEHOLDER = re.compile(r"\{(path|name|stem|ext|folder)\}")
DEFAULT_DEBOUNCE_S = 0.5
MAX_FILLED_BYTES = 4096
"""The longest argument a filled-in event file may make (PATH_MAX): longer is no path any tool can take."""


def _created_only() -> list[EventKind]:
    return ["created"]


class Trigger(pydantic.BaseModel):
    """Which file events start the rule."""

    model_config = pydantic.ConfigDict(extra="forbid")

    path: str = pydantic.Field(min_length=1)
    """The folder watched (`~` allowed)."""
    events: list[EventKind] = pydantic.Field(default_factory=_created_only, min_length=1)
    """`created` includes a file renamed or moved into the folder (browsers download to a temp name first)."""
    glob: str = "*"
    """File names that count, matched case-insensitively (`*.pdf` matches `Report.PDF`)."""
    recursive: bool = False
    debounce_s: float = pydantic.Field(default=DEFAULT_DEBOUNCE_S, ge=0, le=86400)
    """Quiet time before the rule runs: events for the same file within it are one run (a download written in
    pieces is moved once, when it is complete)."""
    batch: bool = False
    """One run for a whole burst of events in the folder, after `debounce_s` of quiet ("tell me when it stops
    changing"), instead of one run per file."""

    @pydantic.field_validator("glob")
    @classmethod
    def _plain_name_pattern(cls, value: str) -> str:
        if "/" in value or not value.strip():
            raise ValueError("glob matches file names, so it cannot be empty or contain '/'")
        return value

    def folder(self) -> Path:
        return expand_path(self.path)

    def sample_name(self) -> str:
        """A file name standing for the files the glob takes (`*.pdf` -> `example.pdf`), to check a rule's
        arguments, policy and outputs before any real event."""
        suffix = PurePosixPath(self.glob).suffix
        return f"example{suffix if suffix and not set('*?[') & set(suffix) else ''}"

    def matches(self, path: Path) -> bool:
        """Whether an event on `path` concerns this trigger (in the folder, or beneath it when recursive)."""
        folder = self.folder()
        if path.parent != folder and not (self.recursive and folder in path.parents):
            return False
        return fnmatch.fnmatchcase(path.name.lower(), self.glob.lower())


class Action(pydantic.BaseModel):
    """One tool call; string arguments may hold `{path}`, `{name}`, `{stem}`, `{ext}`, `{folder}`."""

    model_config = pydantic.ConfigDict(extra="forbid")

    tool: str = pydantic.Field(min_length=1)
    args: dict[str, Any] = pydantic.Field(default_factory=dict)

    def for_event(self, path: Path | None, patterns: Collection[str] = ()) -> dict[str, Any]:
        """The arguments with the event's file filled in (a batch run has no single file: its folder is used).

        A filled-in value means exactly the event's file: in `patterns` (the arguments the tool expands as globs)
        its glob characters are escaped, so a file named `*.pdf` is that file, not every PDF. A name the tools
        cannot take literally (`UnsafeEventName`) is refused rather than filled in."""
        return {name: _fill(value, path, escape_globs=name in patterns) for name, value in self.args.items()}

    def uses_event_path(self) -> bool:
        return any(PLACEHOLDER.search(value) for value in _strings(self.args))


class Rule(pydantic.BaseModel):
    """A rule as stored in the data dir (`automations/rules.json`)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    id: str = pydantic.Field(default_factory=lambda: secrets.token_hex(4))
    description: str = ""
    """The request it was made from, in the person's words."""
    trigger: Trigger
    action: Action
    enabled: bool = True
    confirm_each: bool = False
    """Ask at every run (the pending queue) even where the rule's approval would cover the call."""
    created_at: float = pydantic.Field(default_factory=time.time)
    consecutive_failures: int = 0
    paused_reason: str | None = None
    """Set when the runner stopped the rule (repeated failures, an event storm); `enable` clears it."""

    @property
    def active(self) -> bool:
        return self.enabled and self.paused_reason is None

    def approved_roots(self) -> tuple[Path, ...]:
        """The folders the approved arguments name (the literal part before any placeholder): where the action
        may put things under the rule's standing approval."""
        roots: list[Path] = []
        for value in _strings(self.action.args):
            literal = PLACEHOLDER.split(value, maxsplit=1)[0] if PLACEHOLDER.search(value) else value
            if not literal.startswith(("~", "/")) or literal.strip() in ("~", "/", "~/"):
                continue  # a root must be a real folder, never the whole home or disk
            expanded = expand_path(literal)
            roots.append(expanded if literal.endswith("/") or not PLACEHOLDER.search(value) else expanded.parent)
        return tuple(roots)

    def describe(self) -> str:
        """The rule in one sentence, as it is shown for approval and in `llmos automations list`."""
        trigger = self.trigger
        where = f"{trigger.path}{' (and its subfolders)' if trigger.recursive else ''}"
        events = " or ".join(trigger.events)
        when = (f"when files in {where} stop changing for {trigger.debounce_s:g} s" if trigger.batch else
                f"when a file matching {trigger.glob} is {events} in {where}")
        args = ", ".join(f"{name}={value!r}" for name, value in self.action.args.items())
        return f"{when}: {self.action.tool}({args})"


def placement_problem(action: Action) -> str | None:
    """Why the action's arguments cannot take the event's file as a path, or None: an argument that names the
    event's file must start from a folder (`{path}`, `{folder}`, `/...`, `~/...`). One that starts with the file's
    name would be read against the daemon's working folder, as `~user` after a `~`, or as an option from `-`."""
    if action.tool == NOTIFY_TOOL:
        return None
    for value in _strings(action.args):
        if PLACEHOLDER.search(value) and not value.startswith(("{path}", "{folder}", "/", "~/")):
            return (f"the argument {value!r} names the event's file but does not start from a folder; start it "
                    "with {path}, {folder}, ~/ or /")
    return None


def self_trigger_problem(rule: Rule) -> str | None:
    """Why the rule would trigger on its own output, or None: a rule whose action writes files the trigger
    itself watches would run again on every file it produces."""
    if rule.action.tool == NOTIFY_TOOL:
        return None
    for root in rule.approved_roots():
        sample = root / rule.trigger.sample_name()
        if rule.trigger.matches(sample) or (root == rule.trigger.folder() and "created" in rule.trigger.events):
            return (f"its action writes into {display_path(root)}, which its own trigger watches, so it would run "
                    "on its own output; choose a destination outside the watched folder")
    return None


class UnsafeEventName(ValueError):
    """The event's file has a name the file tools would not take literally: a run on it is refused."""


def _fill(value: Any, path: Path | None, *, escape_globs: bool = False) -> Any:
    if isinstance(value, str):
        if path is None or not PLACEHOLDER.search(value):
            return value
        fields = {"path": str(path), "name": path.name, "stem": path.stem, "ext": path.suffix,
                  "folder": str(path.parent)}

        def literal(match: re.Match[str]) -> str:
            field = fields[match.group(1)]
            problem = _unsafe_value(match.group(1), field)
            if problem is not None:
                raise UnsafeEventName(f"{escape_for_display(display_path(path))} is not acted on: {problem}")
            return glob.escape(field) if escape_globs else field

        filled = PLACEHOLDER.sub(literal, value)
        if len(os.fsencode(filled)) > MAX_FILLED_BYTES:
            raise UnsafeEventName(f"{escape_for_display(display_path(path))[:200]} is not acted on: its name makes "
                                  "an argument longer than any path")
        return filled
    if isinstance(value, list):
        return [_fill(item, path, escape_globs=escape_globs) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, path, escape_globs=escape_globs) for key, item in value.items()}
    return value


def _unsafe_value(field: str, value: str) -> str | None:
    """Why the event's `field` (`name`, `stem`, ...) cannot stand in an argument as itself, or None."""
    if field in ("name", "stem", "ext") and value in (".", ".."):
        return f"its {field} is {value!r}, which names a folder, not the file"
    if os.path.expandvars(value) != value:
        return "it holds a `$VARIABLE`, which the file tools would expand into another path"
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []
