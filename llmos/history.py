"""Input history shared by the TUI, the overlay and the REPL: the requests a person typed, newest last,
persisted across sessions in the data dir (mode 0600; only the person's own requests, never tool output)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from llmos.paths import data_dir

MAX_HISTORY_ENTRIES = 1000


def history_file() -> Path:
    return data_dir() / "history.jsonl"


class InputHistory:
    """Requests in the order typed. A line that fails to parse is skipped (a torn write loses one entry, not
    the file); consecutive duplicates are stored once; the file is cut to the newest MAX_HISTORY_ENTRIES."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_file()
        self.entries: list[str] = self._load()

    def _load(self) -> list[str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        entries: list[str] = []
        for line in lines:
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, str) and value.strip():
                entries.append(value)
        return entries[-MAX_HISTORY_ENTRIES:]

    def append(self, request: str) -> None:
        request = request.strip()
        if not request or (self.entries and self.entries[-1] == request):
            return
        self.entries.append(request)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if len(self.entries) > MAX_HISTORY_ENTRIES:
                self.entries = self.entries[-MAX_HISTORY_ENTRIES:]
                self._rewrite()
            else:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(descriptor, "a", encoding="utf-8") as stream:
                    stream.write(json.dumps(request, ensure_ascii=False) + "\n")
        except OSError:
            pass  # history is a convenience: a read-only data dir must not break a request

    def _rewrite(self) -> None:
        temp_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in self.entries)
        os.replace(temp_path, self.path)
