"""The tamper-evident audit log: append-only JSONL, one record per step, each chained to the one before.

`<data_dir>/audit.jsonl` (mode 0600) holds one canonical JSON object per line (sorted keys, no spaces, ASCII).
`append` adds `seq` (1, 2, ...), `time` (ISO UTC), `prev` (the previous record's `hash`, "0"*64 for the first)
and `hash` = sha256 of the canonical JSON of the record without `hash`. Lines are written with O_APPEND under an
flock and fsync'd. Secret-looking values never reach the file (see `redact`).

`audit.head` (0600) holds {seq, hash} of the last record and, when a key is available (the OS keyring, see
`audit_key_from_keyring`), an HMAC-SHA256 over it. `verify` finds edited records (hash mismatch), removed ones
(seq gap or prev mismatch), reordered ones, malformed lines, truncation of the tail (the head is beyond the last
record) and, with the key, a forged head. Without a key the head itself could be rewritten along with a truncation;
the verification says so. (Anyone who can read the user's keyring can also sign a head: the HMAC protects against
edits made without the key, not against the same user with full access.)

The head lives beside the log, so deleting both, or truncating the log and putting back an earlier signed head,
leaves a consistent pair. Against that, a high-water mark (`AuditMark`, kept in the keyring beside the key, signed
with it) records the seq and hash of the last record written; each append raises it, and it never goes back:
`verify` reports a log with fewer records than the mark, another record at the mark's seq, or no log at all under
a mark above 0. An append that finds the log below its mark chains on, but marks the head and the mark broken, so
the evidence stays. Records are parsed with NaN and Infinity refused (they have no canonical JSON), so a corrupt
record is reported by its line number, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

try:
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["AuditEntry", "AuditLog", "AuditMark", "AuditRecord", "AuditVerification", "GENESIS", "NO_KEY_NOTE",
           "REDACTED", "KeyringAuditMark", "audit_key_from_keyring", "canonical_json", "keyring_audit_log",
           "loads_strict", "record_hash", "redact"]

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
GENESIS = "0" * 64
REDACTED = "[redacted]"
NO_KEY_NOTE = "head not signed (no keyring): truncation of the tail can only be detected against the head file"
_CHAIN_FIELDS = ("seq", "time", "prev", "hash")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def loads_strict(raw: str | bytes) -> Any:
    """json.loads that refuses NaN, Infinity and numbers that overflow to them (no canonical JSON exists for
    them), and nesting too deep to parse: all raise ValueError."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def record_hash(record: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the record without its `hash` field."""
    body = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


# -- redaction -----------------------------------------------------------------------------------------------------

_SECRET_WORDS = frozenset({
    "password", "passwd", "passphrase", "pwd", "secret", "secrets", "token", "tokens", "key", "keys", "apikey",
    "credential", "credentials", "auth", "authorization", "cookie", "cookies", "privatekey", "bearer", "otp",
})
_SECRET_FRAGMENTS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "credential")
_SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S),
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
]
# NAME=value and --name=value where the name says secret, "Authorization: ...", "Bearer ...": keep the name,
# hide the value.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(\b[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|private[_-]?key|credential)[\w.-]*"
    r"\s*=\s*|\bauthorization:\s*(?:bearer\s+|basic\s+|token\s+)?|\bbearer\s+(?=[\w.~+/=-]{8,}))([^\s\"',;]+)"
)
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(@)", re.I)


def is_secret_key(name: str) -> bool:
    """Whether a field name looks like it holds a secret (key, token, secret, password, ...)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = [word.lower() for word in re.split(r"[^A-Za-z0-9]+", spaced) if word]
    joined = "".join(words)
    return any(word in _SECRET_WORDS for word in words) or any(part in joined for part in _SECRET_FRAGMENTS)


def redact(value: Any, redact_values: Iterable[str] = ()) -> Any:
    """A JSON-safe copy of `value` with secrets replaced by "[redacted]": values under secret-looking keys,
    the given secret strings wherever they occur, and well-known secret formats (private key blocks, GitHub /
    AWS / Slack / API tokens, JWTs, `TOKEN=...`, `--password=...`, `Bearer ...`, passwords in URLs)."""
    known = sorted({v for v in redact_values if isinstance(v, str) and v}, key=len, reverse=True)
    return _redact(value, known, 0)


def _redact(value: Any, known: list[str], depth: int) -> Any:
    if depth > 50:
        return "[too deep]"
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = _redact_text(str(raw_key), known)
            cleaned[key] = REDACTED if is_secret_key(str(raw_key)) and item not in (None, "") else \
                _redact(item, known, depth + 1)
        return cleaned
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redact(item, known, depth + 1) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _redact_text(bytes(value).decode("utf-8", "replace"), known)
    if isinstance(value, str):
        return _redact_text(value, known)
    return _redact_text(str(value), known)


def _redact_text(text: str, known: list[str]) -> str:
    for secret in known:
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
        elif text == secret:
            return REDACTED
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + REDACTED, text)
    return _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)


# -- the records ---------------------------------------------------------------------------------------------------


class AuditEntry(BaseModel):
    """What one step (or `llmos undo`) appends. Only the fields given are written (a step always gives all ten;
    an undo adds `undone` and `refused` and gives no `reason`), so the canonical JSON each hash covers is what
    the dict-based log wrote."""

    # Other keys a caller adds are kept and chained; values are checked for shape, never converted.
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    request_id: str | None = None
    request: str | None = None
    tool: str | None = None
    args: dict[str, Any] | None = None
    decision: str | None = None
    rule: str | None = None
    reason: str | None = None
    approved: bool | None = None
    status: str | None = None
    undo_id: str | None = None
    undone: list[str] | None = None
    """`llmos undo`: the actions it reversed."""
    refused: list[str] | None = None
    """`llmos undo`: why it refused (empty when it refused nothing)."""

    def body(self) -> dict[str, Any]:
        """The fields given, as the caller gave them (redaction and chaining happen in `AuditLog.append`)."""
        return self.model_dump(exclude_unset=True)


class AuditRecord(AuditEntry):
    """A record as stored: the entry (redacted) with its place in the chain. `as_json()` is the stored object
    itself, exactly as read (the hash covers it; `llmos log --json` prints it)."""

    # Strict as the entry is: a stored "approved": "yes" is a corrupt record, not an approval.
    model_config = ConfigDict(strict=True)

    seq: int
    time: str
    prev: str
    hash: str
    _stored: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> AuditRecord | None:
        """The record for a stored object already checked by `_parse`; None when a known field has the wrong
        type (the chain check still covers it, from the stored object)."""
        try:
            record = cls.model_validate(stored)
        except ValidationError:
            return None
        record._stored = stored
        return record

    def as_json(self) -> dict[str, Any]:
        return dict(self._stored)


# -- the log -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of `AuditLog.verify`: ok is False when any problem was found; notes are caveats."""

    ok: bool
    records: int
    problems: list[str]
    notes: list[str] = field(default_factory=list)
    signed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "problems": list(self.problems),
                "notes": list(self.notes), "signed": self.signed}


class AuditLog:
    """The audit log at `path` (its head beside it, `<stem>.head`). `key`: the HMAC key for the head (None: the
    head is kept unsigned). `redact_values`: secret strings that must never appear (more can be added later)."""

    def __init__(self, path: Path, *, key: bytes | None = None, redact_values: Iterable[str] = (),
                 mark: AuditMark | None = None) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_suffix(".head")
        self.key = key
        self.redact_values: set[str] = set(redact_values)
        self.mark = mark
        """Where the high-water mark is kept (None: no mark, deletion and rollback go unseen)."""

    def add_redact_values(self, values: Iterable[str]) -> None:
        self.redact_values.update(v for v in values if v)

    # -- appending -------------------------------------------------------------------------------------------------

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Redact, chain and append one entry; returns the record as written (with seq, time, prev, hash)."""
        body = entry.body()
        cleaned = redact({k: v for k, v in body.items() if k not in _CHAIN_FIELDS}, self.redact_values)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | _O_NOFOLLOW, 0o600)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(errno.EINVAL, "the audit log is not a regular file", str(self.path))
        try:
            _tighten(fd)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            seq, prev, extra = self._chain_start()
            mark = self._read_mark()
            mark_broken = self._mark_broken_by(mark, seq, prev)
            if mark_broken is not None:
                extra.setdefault("broken", {"since_seq": seq + 1, "reason": mark_broken})
            stored = {**cleaned, "seq": seq + 1, "time": _now(), "prev": prev}
            stored["hash"] = record_hash(stored)
            line = (canonical_json(stored) + "\n").encode("ascii")
            if not _ends_with_newline(self.path, os.fstat(fd).st_size):
                line = b"\n" + line  # a torn last line (a crash mid-write) stays malformed, but alone on its line
            # The head names the record before it is written: a crash between the two leaves a head that
            # accounts for it, while a record added by anyone else is never accounted for.
            self._write_head({**extra, "seq": seq, "hash": prev, "pending": {"seq": stored["seq"],
                                                                            "hash": stored["hash"]}})
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            self._write_head({**extra, "seq": stored["seq"], "hash": stored["hash"]})
            self._raise_mark(mark, stored["seq"], stored["hash"], mark_broken)
        finally:
            os.close(fd)  # releases the flock
        written = AuditRecord.from_stored(stored)
        assert written is not None  # redaction keeps each field's type (text stays text, args a dict)
        return written

    def _chain_start(self) -> tuple[int, str, dict[str, Any]]:
        """(seq, hash) to chain the next record to, and what the next head must carry forward. The head is the
        authority (so a truncated log is not silently continued); a head that fails its signature is marked."""
        head = self._read_head()
        last = self._last_record()
        if head is None:
            if last is None:
                return 0, GENESIS, {}
            return int(last["seq"]), str(last["hash"]), {"broken": {
                "since_seq": int(last["seq"]) + 1, "reason": "the head file was missing or unreadable"}}
        extra: dict[str, Any] = {key: head[key] for key in ("broken", "signed_since") if key in head}
        if self.key is not None:
            if "hmac" not in head:
                extra.setdefault("signed_since", int(head["seq"]) + 1)
            elif not hmac.compare_digest(str(head["hmac"]), self._sign(head)):
                extra.setdefault("broken", {"since_seq": int(head["seq"]) + 1,
                                            "reason": "the head's signature did not match"})
        pending = head.get("pending")
        if isinstance(pending, dict) and last is not None and last.get("seq") == pending.get("seq") \
                and last.get("hash") == pending.get("hash"):
            # An append was interrupted after its record was written: the head had named it, continue after it.
            return int(last["seq"]), str(last["hash"]), extra
        return int(head["seq"]), str(head["hash"]), extra

    # -- the high-water mark ----------------------------------------------------------------------------------------

    def _read_mark(self) -> dict[str, Any] | None:
        """The mark as stored ({seq, hash, maybe broken, hmac}); {"forged": True} when it is not one or fails its
        signature; None when there is no mark (none kept, or none written yet)."""
        if self.mark is None:
            return None
        raw = self.mark.read()
        if raw is None:
            return None
        try:
            mark = loads_strict(raw)
        except ValueError:
            return {"forged": True}
        if not isinstance(mark, dict) or not isinstance(mark.get("seq"), int) or isinstance(mark.get("seq"), bool) \
                or not isinstance(mark.get("hash"), str):
            return {"forged": True}
        if self.key is not None and not hmac.compare_digest(str(mark.get("hmac", "")), self._sign(mark)):
            return {**mark, "forged": True}
        return mark

    @staticmethod
    def _mark_broken_by(mark: dict[str, Any] | None, seq: int, prev: str) -> str | None:
        """Why chaining a record after (seq, prev) would hide tampering the mark reveals, or None."""
        if mark is None:
            return None
        if mark.get("forged"):
            return "the keyring's high-water mark was not one llmos signed"
        if isinstance(mark.get("broken"), str):
            return str(mark["broken"])
        if mark["seq"] > seq:
            return (f"the log held {seq} record(s) but the keyring's high-water mark says {mark['seq']} were written "
                    "(the log was truncated, rolled back or deleted)")
        if mark["seq"] == seq and mark["hash"] != prev:
            return f"record {seq} is not the one written (the log was rolled back or rewritten)"
        return None

    def _raise_mark(self, mark: dict[str, Any] | None, seq: int, record_hash_: str, broken: str | None) -> None:
        """Move the mark up to the record just written; a mark already further up (rollback) is never lowered
        in what it proves: its breakage is kept."""
        if self.mark is None:
            return
        new: dict[str, Any] = {"seq": seq, "hash": record_hash_}
        if broken is not None:
            new["broken"] = broken
        if self.key is not None:
            new["hmac"] = self._sign(new)
        with contextlib.suppress(Exception):  # a keyring that fails now: verify then says the mark lags the log
            self.mark.write(canonical_json(new))

    def _verify_mark(self, mark: dict[str, Any] | None, last: dict[str, Any] | None, hash_at_mark: str | None,
                     log_exists: bool, problems: list[str], notes: list[str]) -> None:
        if self.mark is None:
            return
        last_seq = int(last["seq"]) if last else 0
        if mark is None:
            if last is not None:
                notes.append("no high-water mark in the keyring yet (it is set by the next append)")
            return
        if mark.get("forged"):
            problems.append("the keyring's high-water mark was not signed with the audit key: it was forged")
            return
        if isinstance(mark.get("broken"), str):
            problems.append(f"the keyring's high-water mark records earlier tampering: {mark['broken']}")
        mark_seq = int(mark["seq"])
        if mark_seq > 0 and not log_exists:
            problems.append(f"the audit log was deleted: the keyring's high-water mark says {mark_seq} record(s) were "
                            "written")
        elif last_seq < mark_seq:
            problems.append(f"the log was truncated or rolled back: the keyring's high-water mark says {mark_seq} "
                            f"record(s), the log ends at seq {last_seq}")
        elif hash_at_mark is not None and hash_at_mark != mark["hash"]:
            problems.append(f"record {mark_seq} is not the one written (the keyring's high-water mark holds another "
                            "hash): the log was rolled back or rewritten")
        elif last_seq > mark_seq:
            notes.append(f"the keyring's high-water mark is {last_seq - mark_seq} record(s) behind the log (an append "
                         "could not update it)")

    # -- the head --------------------------------------------------------------------------------------------------

    def _sign(self, head: Mapping[str, Any]) -> str:
        assert self.key is not None
        body = {key: value for key, value in head.items() if key != "hmac"}
        return hmac.new(self.key, canonical_json(body).encode("ascii"), hashlib.sha256).hexdigest()

    def _write_head(self, head: dict[str, Any]) -> None:
        if self.key is not None:
            head["hmac"] = self._sign(head)
        temp = self.head_path.with_name(f".{self.head_path.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)  # a stale temp (or a planted symlink) is never written through
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | _O_NOFOLLOW, 0o600)
        try:
            _tighten(fd)
            os.write(fd, (canonical_json(head) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.head_path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.head_path.parent, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _read_head(self) -> dict[str, Any] | None:
        try:
            head = loads_strict(self.head_path.read_text(encoding="ascii"))
        except (OSError, ValueError):
            return None
        if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or not isinstance(head.get("hash"), str):
            return None
        return head

    # -- reading ---------------------------------------------------------------------------------------------------

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            return
        with handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            yield from enumerate(handle, 1)

    def _last_record(self) -> dict[str, Any] | None:
        """The last well-formed record, read from the end of the file."""
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            return None
        with handle:
            position = handle.seek(0, os.SEEK_END)
            data = b""
            while position > 0 and len(data) < (64 << 20):
                step = min(1 << 16, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
                lines = data.split(b"\n")
                for raw in reversed(lines[1:] if position > 0 else lines):
                    record = _parse(raw) if raw.strip() else None
                    if record is not None:
                        return record
        return None

    def records(self, *, last: int | None = None) -> list[AuditRecord]:
        """The well-formed records, oldest first (only the last `last` when given)."""
        return self.read(last=last)[0]

    def read(self, *, last: int | None = None) -> tuple[list[AuditRecord], list[str]]:
        """The well-formed records, oldest first (only the last `last` when given), and one line per corrupt one
        (invalid JSON, NaN or Infinity, a field of the wrong type), naming its line."""
        kept: deque[AuditRecord] = deque(maxlen=last if last and last > 0 else None)
        corrupt: list[str] = []
        for number, raw in self._lines():
            if not raw.strip():
                continue
            stored = _parse(raw)
            record = AuditRecord.from_stored(stored) if stored is not None else None
            if record is None:
                corrupt.append(f"line {number}: corrupt record (not a JSON object with seq, time, prev and hash of "
                               "the right types)")
            else:
                kept.append(record)
        return list(kept), corrupt

    # -- verifying -------------------------------------------------------------------------------------------------

    def verify(self) -> AuditVerification:
        """Check the chain record by record, then the head (see the module docstring)."""
        problems: list[str] = []
        notes: list[str] = []
        count, prev_seq, prev_hash = 0, 0, GENESIS
        last: dict[str, Any] | None = None
        mark = self._read_mark()
        mark_seq = mark.get("seq") if mark is not None and not mark.get("forged") else None
        hash_at_mark: str | None = None
        log_exists = os.path.lexists(self.path)
        for number, raw in self._lines():
            record = _parse(raw)
            if record is None:
                problems.append(f"line {number}: malformed record (not a JSON object with seq, time, prev and hash)")
                continue
            seq = record["seq"]
            if record_hash(record) != record["hash"]:
                problems.append(f"line {number} (seq {seq}): record was edited (its hash does not match its content)")
            if seq <= prev_seq:
                problems.append(f"line {number} (seq {seq}): out of order or duplicated (it follows seq {prev_seq})")
            elif seq > prev_seq + 1:
                problems.append(f"line {number} (seq {seq}): {seq - prev_seq - 1} record(s) removed before it "
                                f"(seq jumps from {prev_seq} to {seq})")
            if record["prev"] != prev_hash:
                problems.append(f"line {number} (seq {seq}): does not chain to the record before it (prev hash "
                                "mismatch: a record was removed, reordered or edited)")
            if seq == mark_seq:
                hash_at_mark = record["hash"]
            count, prev_seq, prev_hash, last = count + 1, seq, record["hash"], record
        signed = self._verify_head(last, problems, notes)
        self._verify_mark(mark, last, hash_at_mark, log_exists, problems, notes)
        return AuditVerification(ok=not problems, records=count, problems=problems, notes=notes, signed=signed)

    def _verify_head(self, last: dict[str, Any] | None, problems: list[str], notes: list[str]) -> bool:
        if not self.head_path.exists():
            if last is not None:
                problems.append("the head file is missing: truncation of the log cannot be checked (it was removed)")
            elif self.key is None:
                notes.append(NO_KEY_NOTE)
            return False
        head = self._read_head()
        if head is None:
            problems.append("the head file is malformed")
            return False
        signed = False
        if self.key is None:
            notes.append(NO_KEY_NOTE)
            if "hmac" in head:
                notes.append("the head is signed, but the key is not available here to check it")
        elif "hmac" not in head:
            problems.append("the head is not signed although a key is available: it was replaced (forged head)")
        elif not hmac.compare_digest(str(head["hmac"]), self._sign(head)):
            problems.append("the head's signature does not match: the head file was forged or edited")
        else:
            signed = True
        broken = head.get("broken")
        if isinstance(broken, dict):
            problems.append(f"when record {broken.get('since_seq')} was appended, {broken.get('reason')} "
                            "(the head had been tampered with)")
        if isinstance(head.get("signed_since"), int):
            notes.append(f"the head is signed from record {head['signed_since']} on; before that no key was used")
        head_seq, last_seq = head["seq"], last["seq"] if last else 0
        pending = head.get("pending")
        if isinstance(pending, dict):
            if last is not None and last_seq == pending.get("seq") and last["hash"] == pending.get("hash"):
                notes.append(f"the append of record {last_seq} was interrupted after the record was written")
                head_seq, head = last_seq, {**head, "hash": last["hash"]}
            else:
                notes.append(f"the append of record {pending.get('seq')} was interrupted before the record was "
                             "written")
        if head_seq > last_seq:
            problems.append(f"the log was truncated: the head says {head_seq} record(s), the log ends at seq "
                            f"{last_seq} ({head_seq - last_seq} missing at the end)")
        elif head_seq == last_seq and last is not None and head["hash"] != last["hash"]:
            problems.append(f"the last record (seq {last_seq}) is not the one the head recorded: it was edited or "
                            "replaced")
        elif head_seq < last_seq:
            problems.append(f"{last_seq - head_seq} record(s) after the head's seq {head_seq}: added outside llmos, "
                            "or the head was rolled back")
        return signed


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        record = loads_strict(raw)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if not isinstance(record.get("seq"), int) or isinstance(record.get("seq"), bool):
        return None
    if not all(isinstance(record.get(key), str) for key in ("time", "prev", "hash")):
        return None
    return record


def _ends_with_newline(path: Path, size: int) -> bool:
    if size == 0:
        return True
    with open(path, "rb") as handle:
        handle.seek(size - 1)
        return handle.read(1) == b"\n"


def _tighten(fd: int) -> None:
    with contextlib.suppress(OSError):
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the key -------------------------------------------------------------------------------------------------------


def audit_key_from_keyring(service: str = "llmos", username: str = "audit-hmac", *,
                           create: bool = True) -> bytes | None:
    """The HMAC key for the audit head, from the OS keyring (created there, random, when missing and `create`).
    None when no usable keyring backend exists (keyring's fail / null backends, or a chainer with no backends),
    or when reading or storing fails."""
    value = keyring_key(service, username, lambda: secrets.token_hex(32) if create else None)
    if value is None:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return value.encode("utf-8")


def keyring_key(service: str, username: str, new_value: Callable[[], str | None]) -> str | None:
    """A key kept in the OS keyring: the stored one, or `new_value()` stored there and read back. None when no
    usable keyring backend exists, `new_value()` gives None, or reading or storing fails (the caller then runs
    without the key and says so)."""
    try:
        import keyring

        backend = keyring.get_keyring()
        if not keyring_usable(backend):
            return None
        value = backend.get_password(service, username)
        if value is None:
            value = new_value()
            if value is None:
                return None
            backend.set_password(service, username, value)
            if backend.get_password(service, username) != value:
                return None
        return value
    except Exception:  # noqa: BLE001  any keyring failure means: no key here
        return None


def keyring_usable(backend: Any) -> bool:
    """Whether a keyring backend can actually keep a secret."""
    try:
        from keyring.backends import chainer, fail, null
    except ImportError:
        return False
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    try:
        return float(backend.priority) > 0
    except Exception:  # noqa: BLE001
        return True


class AuditMark:
    """Where an audit log's high-water mark is kept: read() gives the stored text or None, write() replaces it."""

    def read(self) -> str | None:
        raise NotImplementedError

    def write(self, value: str) -> None:
        raise NotImplementedError


class KeyringAuditMark(AuditMark):
    """The high-water mark of the log at `log_path`, in the OS keyring beside the audit key (one entry per log,
    named after its resolved path, so logs in different data folders do not share a mark)."""

    def __init__(self, log_path: Path, service: str = "llmos") -> None:
        digest = hashlib.sha256(os.path.realpath(log_path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.service = service
        self.username = f"audit-mark-{digest}"

    def read(self) -> str | None:
        try:
            import keyring

            backend = keyring.get_keyring()
            if not keyring_usable(backend):
                return None
            value = backend.get_password(self.service, self.username)
        except Exception:  # noqa: BLE001  no keyring here: no mark, and verify says nothing of it
            return None
        return value if isinstance(value, str) else None

    def write(self, value: str) -> None:
        import keyring

        backend = keyring.get_keyring()
        if keyring_usable(backend):
            backend.set_password(self.service, self.username, value)


def keyring_audit_log(path: Path, *, create_key: bool = True, redact_values: Iterable[str] = ()) -> AuditLog:
    """The audit log at `path` with its head signed by the keyring's audit key and its high-water mark kept in
    the keyring (both only where a keyring works). Reading and verifying pass create_key=False: a key made now
    would make an existing head look forged."""
    key = audit_key_from_keyring(create=create_key)
    return AuditLog(path, key=key, redact_values=redact_values, mark=KeyringAuditMark(path))
