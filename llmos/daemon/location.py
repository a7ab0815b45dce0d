"""Where the daemon's socket, pid lock and log live: `$XDG_RUNTIME_DIR/llmos/` when the variable names a
folder (tmpfs, private to the user, gone at logout), else the data dir."""

from __future__ import annotations

import os
from pathlib import Path

from llmos.errors import UsageError
from llmos.paths import data_dir, runtime_dir

__all__ = ["MAX_SOCKET_PATH_BYTES", "log_path", "pid_path", "runtime_dir", "socket_path"]

# sockaddr_un holds 108 bytes with the terminating NUL; a longer path cannot be bound at all.
MAX_SOCKET_PATH_BYTES = 107


def socket_path() -> Path:
    path = runtime_dir() / "daemon.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise UsageError(f"the daemon's socket path is too long for a Unix socket ({path}); set XDG_RUNTIME_DIR "
                         "to a shorter folder")
    return path


def pid_path() -> Path:
    return runtime_dir() / "daemon.pid"


def log_path() -> Path:
    return data_dir() / "daemon.log"
