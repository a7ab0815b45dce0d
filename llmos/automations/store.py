"""Where automations live: `$XDG_DATA_HOME/llmos/automations/` holds the rules, the pending queue and the run log.

The CLI edits rules and answers pending items while the daemon counts failures and queues actions, so every
read-modify-write holds one file lock, and files are replaced atomically (a reader never sees half a file).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from llmos.automations.rules import Rule
from llmos.errors import UsageError
from llmos.paths import data_dir, folder_error

RULES_FILE = "rules.json"
PENDING_FILE = "pending.json"
RUNS_FILE = "runs.jsonl"
ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
RUN_LOG_KEEP = 2000
"""Run records kept (the oldest are dropped): a busy rule must not grow the log without bound."""


class PendingAction(pydantic.BaseModel):
    """A rule's call that needs a person's approval before it runs."""

    id: str = pydantic.Field(default_factory=lambda: secrets.token_hex(4))
    rule_id: str
    event_path: str | None
    tool: str
    args: dict[str, Any]
    preview: list[str] = pydantic.Field(default_factory=list)
    reason: str = ""
    """Why it waits (the policy's reason, or what lies outside the rule's approval)."""
    queued_at: float = pydantic.Field(default_factory=time.time)


class AutomationStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or data_dir() / "automations"

    @property
    def rules_path(self) -> Path:
        return self.folder / RULES_FILE

    @property
    def runs_path(self) -> Path:
        return self.folder / RUNS_FILE

    # -- rules ------------------------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        return self._read_models(RULES_FILE, "rules", Rule)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules():
            if rule.id == rule_id:
                return rule
        raise _no_rule(rule_id)

    def add(self, rule: Rule) -> None:
        with self._locked():
            rules = self.rules()
            if any(existing.id == rule.id for existing in rules):
                raise UsageError(f"an automation with id {rule.id!r} exists already")
            self._write_list(RULES_FILE, "rules", [*rules, rule])

    def update(self, rule_id: str, **changes: Any) -> Rule:
        """Change fields of one rule (under the lock, so a concurrent change by the daemon is not lost)."""
        with self._locked():
            rules = self.rules()
            for index, rule in enumerate(rules):
                if rule.id == rule_id:
                    rules[index] = rule.model_copy(update=changes)
                    self._write_list(RULES_FILE, "rules", rules)
                    return rules[index]
        raise _no_rule(rule_id)

    def remove(self, rule_id: str) -> Rule:
        with self._locked():
            rules = self.rules()
            kept = [rule for rule in rules if rule.id != rule_id]
            if len(kept) == len(rules):
                raise _no_rule(rule_id)
            self._write_list(RULES_FILE, "rules", kept)
            # Its queued calls go with it: approving them later would run a rule the person removed.
            pending = [item for item in self.pending() if item.rule_id != rule_id]
            self._write_list(PENDING_FILE, "pending", pending)
        return next(rule for rule in rules if rule.id == rule_id)

    # -- pending queue ----------------------------------------------------------------------------------------

    def pending(self) -> list[PendingAction]:
        return self._read_models(PENDING_FILE, "pending", PendingAction)

    def pending_item(self, pending_id: str) -> PendingAction:
        return _pending_in(self.pending(), pending_id)

    def queue(self, item: PendingAction) -> None:
        with self._locked():
            self._write_list(PENDING_FILE, "pending", [*self.pending(), item])

    def take_pending(self, pending_id: str) -> PendingAction:
        """Remove one pending item and return it (it is then run or dropped by the caller)."""
        with self._locked():
            items = self.pending()
            item = _pending_in(items, pending_id)
            self._write_list(PENDING_FILE, "pending", [other for other in items if other.id != pending_id])
        return item

    # -- run log ----------------------------------------------------------------------------------------------

    def log_run(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append a run to the log, stamped with the time; returns the record as logged."""
        logged = {"time": time.time(), **record}
        with self._locked():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            lines = self._run_lines()[-(RUN_LOG_KEEP - 1):]
            lines.append(json.dumps(logged, sort_keys=True))
            self._replace(self.runs_path, "".join(line + "\n" for line in lines))
        return logged

    def runs(self, rule_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The newest `limit` run records (of one rule), oldest first. Read from the end and parsed only as far
        as needed: the TUI asks for the latest notices at every system sample."""
        records: list[dict[str, Any]] = []
        for line in reversed(self._run_lines()):
            if len(records) >= limit:
                break
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if rule_id is None or record.get("rule_id") == rule_id:
                    records.append(record)
        return records[::-1]

    def _run_lines(self) -> list[str]:
        try:
            return [line for line in self.runs_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    # -- files ------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _read_models(self, file_name: str, key: str, model: type[ModelT]) -> list[ModelT]:
        """The `key` list of a store file as `model`s; a damaged file is one clear UsageError."""
        try:
            return [model.model_validate(raw) for raw in self._read_list(file_name, key)]
        except pydantic.ValidationError as exc:
            raise UsageError(f"{self.folder / file_name} is damaged: {exc.errors()[0]['msg']}") from None

    def _read_list(self, file_name: str, key: str) -> list[Any]:
        path = self.folder / file_name
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            unusable_folder = folder_error(exc) if isinstance(exc, OSError) else None
            raise unusable_folder or UsageError(f"cannot read {path}: {exc}") from None
        items = raw.get(key) if isinstance(raw, dict) else None
        if not isinstance(items, list):
            raise UsageError(f"{path} is damaged: it has no {key!r} list")
        return items

    def _write_list(self, file_name: str, key: str, items: Sequence[pydantic.BaseModel]) -> None:
        text = json.dumps({key: [item.model_dump(mode="json") for item in items]}, indent=2) + "\n"
        self._replace(self.folder / file_name, text)

    def _replace(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)


def _no_rule(rule_id: str) -> UsageError:
    return UsageError(f"no automation {rule_id!r} (llmos automations list shows them)")


def _pending_in(items: list[PendingAction], pending_id: str) -> PendingAction:
    for item in items:
        if item.id == pending_id:
            return item
    raise UsageError(f"no pending action {pending_id!r} (llmos automations pending shows them)")
