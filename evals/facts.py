"""Facts about this machine, computed when a check runs, for tasks whose right answer depends on the machine
(its CPU count, memory, disk, host name)."""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Callable

import psutil

GIB = 1024**3


def _boot_hours() -> float:
    import time

    return (time.time() - psutil.boot_time()) / 3600


FACTS: dict[str, Callable[[], float | str]] = {
    "cpu_count": lambda: float(psutil.cpu_count(logical=True) or os.cpu_count() or 1),
    "memory_total_gb": lambda: psutil.virtual_memory().total / GIB,
    "memory_available_gb": lambda: psutil.virtual_memory().available / GIB,
    "disk_total_gb": lambda: psutil.disk_usage("/").total / GIB,
    "disk_free_gb": lambda: psutil.disk_usage("/").free / GIB,
    "uptime_hours": _boot_hours,
    "hostname": socket.gethostname,
    "kernel": platform.release,
}


class UnknownFact(KeyError):
    pass


def fact(name: str) -> float | str:
    try:
        return FACTS[name]()
    except KeyError:
        raise UnknownFact(name) from None


def shown(value: float | str) -> str:
    """A fact as an answer would write it: whole numbers without decimals, others with one."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def expand_facts(text: str) -> str:
    """Replace `{fact}` placeholders in a check's (or a gold answer's) text with this machine's values."""
    for name in FACTS:
        placeholder = "{" + name + "}"
        if placeholder in text:
            text = text.replace(placeholder, shown(fact(name)))
    return text
