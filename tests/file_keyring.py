"""A keyring kept in a JSON file, for tests that hand a secret to a real llmos process: set
`PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring`, put tests/ on PYTHONPATH, and name the file in
`LLMOS_TEST_KEYRING_FILE`. Plain text on purpose, and only ever in a test's temp folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.backend

KEYRING_FILE_ENV_VAR = "LLMOS_TEST_KEYRING_FILE"


class FileKeyring(keyring.backend.KeyringBackend):
    priority = 1

    @property
    def path(self) -> Path:
        return Path(os.environ[KEYRING_FILE_ENV_VAR])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        stored = self._load()
        stored[f"{service}\0{username}"] = password
        self.path.write_text(json.dumps(stored), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        stored = self._load()
        stored.pop(f"{service}\0{username}", None)
        self.path.write_text(json.dumps(stored), encoding="utf-8")
