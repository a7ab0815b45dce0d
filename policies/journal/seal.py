"""Authenticating journal manifests: a keyed MAC over each manifest, written with it and checked when it is read,
so a manifest written or changed outside llmos (forged, tampered, copied to another id) is never acted on.

The key is `journal-hmac` in the OS keyring (beside the audit log's key), or, where no keyring works, a random
key in `<journal>/.key` (0600; the journal folder is llmos's own, which no tool may write and the sandbox hides).
The MAC covers the manifest's file name and its canonical JSON without the `mac` field. Manifests written before
MACs existed carry none: when the key is first created, the manifests already there are signed ("adopted": they
were written by llmos before any forgery could be told apart); one without a MAC that appears later is
"unsigned" and undo refuses it unless the person vouches for it (`llmos undo --trust-unsigned`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from llmos.policies.audit import canonical_json, keyring_key

MAC_FIELD = "mac"
KEYRING_USERNAME = "journal-hmac"
KEY_FILE = ".key"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

Seal = Literal["verified", "unsigned", "forged", "none"]
"""verified: its MAC matches; unsigned: it has none; forged: its MAC does not match, or its file name is not its
id; none: the journal has no key (library use), nothing is checked."""


def manifest_mac(key: bytes, name: str, body: dict[str, Any]) -> str:
    """The MAC of the manifest stored as `<name>.json` with the JSON object `body` (without its `mac`)."""
    message = b"llmos-journal-manifest\0" + name.encode("utf-8", "surrogateescape") + b"\0" + \
        canonical_json(body).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_of(key: bytes | None, name: str, body: dict[str, Any], mac: object) -> Seal:
    if body.get("id") != name:
        return "forged"
    if key is None:
        return "none"
    if mac is None:
        return "unsigned"
    if isinstance(mac, str) and hmac.compare_digest(mac, manifest_mac(key, name, body)):
        return "verified"
    return "forged"


def journal_key(root: Path) -> tuple[bytes, bool]:
    """(the journal's key, whether it was created just now): from the keyring, else from `<root>/.key`."""
    created: list[bool] = []

    def new_key() -> str:
        created.append(True)
        return secrets.token_hex(32)

    value = keyring_key("llmos", KEYRING_USERNAME, new_key)
    if value is not None:
        with contextlib.suppress(ValueError):
            return bytes.fromhex(value), bool(created)
        return value.encode("utf-8"), bool(created)
    return _file_key(root / KEY_FILE)


def _file_key(path: Path) -> tuple[bytes, bool]:
    """The key in `path`, or a new one put there. The file appears whole or not at all: the key is written to a
    private temp file that is then hard-linked into place, so a process starting beside the one that creates the
    key (the daemon and a one-shot, two automations) reads the finished key, never an empty file."""
    try:
        return _read_key(path), False
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    temp = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | _O_NOFOLLOW, 0o600)
    try:
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path, follow_symlinks=False)
        except FileExistsError:  # another process put its key there first: everyone uses that one
            return _read_key(path), False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return key, True


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | _O_NOFOLLOW)
    try:
        key = os.read(fd, 4096)
    finally:
        os.close(fd)
    if len(key) < 32:
        raise OSError(f"the journal's key file {path} is damaged")
    return key
