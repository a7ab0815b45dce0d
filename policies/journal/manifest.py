"""The journal's manifest: one action's record (`actions/<id>.json`), parsed when read, so the code reads
`manifest.before.path` instead of indexing loose dicts.

The JSON written is what the dict-based journal wrote, byte for byte: a field appears when it was read from the
file or set by the code (pydantic's "fields set"), so absent keys stay absent and keys this version does not
know are kept as they were.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

MANIFEST_VERSION = 1

ManifestStatus = Literal["pending", "done", "abandoned", "undoing", "undone", "failed"]
"""pending -> done | abandoned (or failed); done -> undoing -> undone (or failed)."""


class _Record(BaseModel):
    # Unknown keys (from a newer llmos) survive a rewrite; values are checked on assignment too.
    model_config = ConfigDict(extra="allow", validate_assignment=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON object as stored: only the fields read or set, under their stored names."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class RecordedState(_Record):
    """A path's state as recorded (`llmos.policies.journal.fs.public_state`): kind, mode, and the content's
    sha256 (file), tree digest (folder) or target (symlink)."""

    kind: str
    mode: int | None = None
    sha256: str | None = None
    tree: str | None = None
    entries: int | None = None
    target: str | None = None
    type: str | None = None
    size: int | None = None
    ino: int | None = None

    @property
    def missing(self) -> bool:
        return self.kind == "missing"

    def as_state(self) -> dict[str, Any]:
        """The state as the `fs` helpers compare it."""
        return self.to_json()


class RecordedStates(_Record):
    """The states of an action's paths: `path` (the source or target) and `dest` (for a copy or move)."""

    path: RecordedState | None = None
    dest: RecordedState | None = None

    def slot(self, name: Literal["path", "dest"]) -> RecordedState | None:
        return self.path if name == "path" else self.dest

    @classmethod
    def of(cls, states: dict[str, dict[str, Any]]) -> RecordedStates:
        """From the `fs` helpers' state dicts, keyed by slot."""
        return cls.model_validate(states)


class MoveStep(_Record):
    """Move what is at `source` to `to` (a rename; copy + remove across file systems), through `tmp`."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)
    do: Literal["move"]
    # Stored as "from" (a Python keyword); the code says `source`.
    source: str = Field(validation_alias="from", serialization_alias="from")
    to: str
    tmp: str


class RmdirStep(_Record):
    do: Literal["rmdir"]
    path: str


class ChmodStep(_Record):
    do: Literal["chmod"]
    path: str
    mode: int


UndoStep = Annotated[MoveStep | RmdirStep | ChmodStep, Field(discriminator="do")]


class UndoProgress(_Record):
    """An undo under way: its steps, and the index of the one running (steps before it are done)."""

    steps: list[UndoStep] = Field(default_factory=list)
    next: int = 0
    started: str | None = None


class Manifest(_Record):
    """One journaled action (see `llmos.policies.journal.store` for what each field means)."""

    version: int = MANIFEST_VERSION
    id: str
    seq: int = 0
    request_id: str = ""
    request: str = ""
    tool: str = ""
    op: str
    time: str = ""
    status: ManifestStatus
    path: str
    dest: str | None = None
    paths: list[str] = Field(default_factory=list)
    tmp: str = ""
    cross_device: bool = False
    before: RecordedStates = Field(default_factory=RecordedStates)
    after: RecordedStates = Field(default_factory=RecordedStates)
    created: list[str] = Field(default_factory=list)
    """mkdir: the folders made, outermost first."""
    mode: int | None = None
    """chmod: the mode set."""
    done_at: str | None = None
    undo: UndoProgress | None = None
    undone_at: str | None = None
    error: str | None = None
    repair: list[str] = Field(default_factory=list)
    """What crash repair noted while settling the action."""
    repaired_at: str | None = None
    _seal: str = PrivateAttr(default="none")
    """Not stored: whether the file's MAC checked out (`llmos.policies.journal.seal.Seal`)."""

    @property
    def seal(self) -> str:
        return self._seal

    @property
    def trusted(self) -> bool:
        """Whether undo and repair may act on it: its MAC matched, or the journal checks none (no key)."""
        return self._seal in ("verified", "none")

    @classmethod
    def parse(cls, raw: object) -> Manifest | None:
        """The manifest in `raw` (a decoded JSON value), or None when it is not one: a damaged manifest is
        skipped as an unreadable one is."""
        try:
            return cls.model_validate(raw)
        except ValidationError:
            return None

    def drop_undo(self) -> None:
        """Forget an undo that changed nothing (the key leaves the file, as it was before the undo began)."""
        self.undo = None
        self.model_fields_set.discard("undo")
