"""Secrets (a remote model's API key, a Hugging Face token) kept in the OS keyring, never in llmos's own files.

The keyring cannot list what it holds, so the names (never the values) are kept in `secrets.json` in the data
folder. Values are read from the keyring when needed and redacted from every tool result before the model, the
audit log, the journal or the history sees it. With no usable keyring backend (a headless server without
Secret Service or KWallet), storing is refused: a plaintext fallback would defeat the point.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from llmos.errors import LlmosError, UsageError
from llmos.paths import data_dir, folder_error
from llmos.tools.render import cut_outside_markers

SERVICE = "llmos-secrets"
"""Apart from the service `llmos`, where the audit log keeps its HMAC key: no name a person picks can clash."""
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_REDACTED_LENGTH = 6
"""Shorter values are not redacted: "abc" would blank ordinary words out of every result."""


class NoKeyringError(LlmosError):
    """No keyring backend that can keep secrets is available."""


class SecretStore:
    """Names in `index_path`, values in the keyring under the service `llmos`."""

    def __init__(self, index_path: Path | None = None) -> None:
        self.index_path = index_path or data_dir() / "secrets.json"

    # -- the keyring --------------------------------------------------------------------------------------------

    @staticmethod
    def backend_problem() -> str | None:
        """Why the keyring cannot keep secrets here, or None when it can."""
        import keyring

        from llmos.policies.audit import keyring_usable

        if not keyring_usable(keyring.get_keyring()):
            return ("no usable keyring backend (start a Secret Service such as gnome-keyring, or KWallet, or set "
                    "PYTHON_KEYRING_BACKEND); llmos does not keep secrets in plain files")
        return None

    def _keyring(self) -> ModuleType:
        """The keyring module, once it is known to work."""
        problem = self.backend_problem()
        if problem:
            raise NoKeyringError(problem)
        import keyring

        return keyring

    # -- names ----------------------------------------------------------------------------------------------

    def names(self) -> list[str]:
        try:
            loaded = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except OSError as exc:
            # A data folder that cannot be used (a file in the way) is a configuration error: exit 2, named.
            raise folder_error(exc) or LlmosError(f"cannot read {self.index_path}: {exc}") from None
        except ValueError as exc:
            raise LlmosError(f"cannot read {self.index_path}: {exc}") from None
        return sorted(name for name in loaded.get("names", []) if isinstance(name, str))

    def _write_names(self, names: list[str]) -> None:
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.index_path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"names": sorted(set(names))}, handle)
        os.replace(temporary, self.index_path)

    # -- values ---------------------------------------------------------------------------------------------

    def set(self, name: str, value: str) -> None:
        _check_name(name)
        if not value:
            raise UsageError("the secret is empty")
        self._keyring().set_password(SERVICE, name, value)
        self._write_names([*self.names(), name])

    def get(self, name: str) -> str:
        _check_name(name)
        value = self._keyring().get_password(SERVICE, name)
        if value is None:
            raise UsageError(f"no secret named {name!r} (llmos secrets list shows them)")
        return value

    def find(self, name: str) -> str | None:
        """The secret's value, or None when it was never set or no keyring can hold secrets here (then none
        was set either): for optional secrets such as a remote model's API key."""
        _check_name(name)
        if self.backend_problem():
            return None
        import keyring
        import keyring.errors

        try:
            return keyring.get_password(SERVICE, name) or None
        except keyring.errors.KeyringError as exc:  # a locked or broken keyring: said, not a traceback
            raise LlmosError(f"cannot read the secret {name!r} from the keyring: {exc}") from None

    def delete(self, name: str) -> None:
        _check_name(name)
        import keyring.errors

        keyring_module = self._keyring()
        if name not in self.names() and keyring_module.get_password(SERVICE, name) is None:
            raise UsageError(f"no secret named {name!r} (llmos secrets list shows them)")
        try:
            keyring_module.delete_password(SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            pass  # listed but already gone from the keyring: forgetting the name is all that is left
        self._write_names([other for other in self.names() if other != name])

    def values(self) -> dict[str, str]:
        """Every stored secret by name; empty when there are none or no keyring works (nothing to redact)."""
        names = self.names()
        if not names or self.backend_problem():
            return {}
        import keyring

        found: dict[str, str] = {}
        for name in names:
            try:
                value = keyring.get_password(SERVICE, name)
            except Exception:  # noqa: BLE001  a locked or broken keyring: redaction of that one is impossible
                continue
            if value:
                found[name] = value
        return found


def _check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"invalid secret name {name!r}: letters, digits, '.', '_' and '-', at most 64")


Redactor = Callable[[str], str]


@dataclass
class _StoredValues:
    """The secret values a redactor last read, and the stamp of the name index they were read at."""

    stamp: object = None
    values: dict[str, str] = field(default_factory=dict)


class SecretRedactor:
    """The one redaction step: replaces every stored secret's value in a text with `[secret NAME]` (`redact(text)`),
    in every string of a JSON-like value (`redact_value`), and in a stream (`stream()`). Everything a tool call
    brings in or out (its arguments, its result, piped stdin) passes through it before it is budgeted or cut, and
    before the audit log, the journal, the model or a front end sees it. The values are read again when the list
    of names changes, so a secret set while the daemon runs is redacted from then on."""

    def __init__(self, store: SecretStore | None = None) -> None:
        self.store = store or SecretStore()
        self._cache = _StoredValues()

    def _stamp(self) -> object:
        try:
            info = self.store.index_path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def _forms(self) -> list[tuple[str, str]]:
        """(form, name) for each stored secret as it may appear (raw, JSON-escaped), longest first."""
        current = self._stamp()
        if current is None:
            return []
        if current != self._cache.stamp:
            self._cache.values = self.store.values()
            self._cache.stamp = current
        forms: dict[str, str] = {}
        for name, value in self._cache.values.items():
            if len(value) < MIN_REDACTED_LENGTH:
                continue
            # Tool results are JSON text: a value with quotes or backslashes appears escaped there.
            for form in (value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]):
                forms.setdefault(form, name)
        # Longest first, so a secret that contains another is replaced whole.
        return sorted(forms.items(), key=lambda item: -len(item[0]))

    def __call__(self, text: str) -> str:
        for form, name in self._forms():
            if form in text:
                text = text.replace(form, f"[secret {name}]")
        return text

    def values(self) -> list[str]:
        """Every form the stored secrets take now (for a log that redacts them itself as well)."""
        return [form for form, _ in self._forms()]

    def longest(self) -> int:
        """The length of the longest form a secret can take in a text (0: nothing to redact)."""
        return max((len(form) for form, _ in self._forms()), default=0)

    def redact_value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys too) redacted."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(key)) if isinstance(key, str) else key: self.redact_value(item)
                    for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_value(item) for item in value]
        return value

    def stream(self) -> StreamRedactor:
        return StreamRedactor(self)


class StreamRedactor:
    """Redacts text that arrives in pieces: what could still be the start of a secret is held back until the
    next piece (or `flush`) shows it is not, so no piece ever carries part of one."""

    def __init__(self, redactor: SecretRedactor) -> None:
        self.redactor = redactor
        self.pending = ""

    def feed(self, piece: str) -> str:
        hold = self.redactor.longest() - 1
        text = self.redactor(self.pending + piece)
        if hold <= 0:
            self.pending = ""
            return text
        cut = cut_outside_markers(text, max(0, len(text) - hold))
        self.pending = text[cut:]
        return text[:cut]

    def flush(self) -> str:
        text, self.pending = self.redactor(self.pending), ""
        return text


def make_redactor(store: SecretStore | None = None) -> SecretRedactor:
    """The redactor of the stored secrets (see `SecretRedactor`)."""
    return SecretRedactor(store)
