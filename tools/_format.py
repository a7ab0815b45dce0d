"""Shared formatting and parsing for tool results: human sizes, size and age strings, times and durations.

Tools return numbers the code can compare and short strings a small model can quote; both come from here so
every tool spells a size, a time and a duration the same way.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

from llmos.tools.registry import ToolError

_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")

# Binary multiples with the everyday labels (as `ls -h` and `du -h` count), so "10MB" parses to what
# human_size prints as "10.0 MB".
_SIZE_MULTIPLIERS = {
    "": 1, "b": 1, "byte": 1, "bytes": 1,
    "k": 1024, "kb": 1024, "kib": 1024,
    "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
    "g": 1024**3, "gb": 1024**3, "gib": 1024**3,
    "t": 1024**4, "tb": 1024**4, "tib": 1024**4,
    "p": 1024**5, "pb": 1024**5, "pib": 1024**5,
}  # fmt: skip

_AGE_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
    "mo": 2592000, "month": 2592000, "months": 2592000,
    "y": 31536000, "yr": 31536000, "year": 31536000, "years": 31536000,
}  # fmt: skip

# The same spellings as JSON-schema patterns: the grammar then lets the model write only a size where a size goes
# (the 1.5B model put ".pdf" into min_size for "find the pdf files"). Kept to what llama.cpp's schema-to-grammar
# converter handles: anchors, groups, alternatives, classes (a dot as [.]: the converter's "\\." is not valid GBNF).
# Digits are bounded: asked for "invoices since March 2024", the 1.5B model began a date in newer_than and, with
# only digits allowed, wrote them until the reply ran out of tokens.
SIZE_PATTERN = (
    r"^[0-9]{1,9}([.][0-9]{1,3})? ?(b|B|bytes|k|K|kb|KB|KiB|m|M|mb|MB|MiB|g|G|gb|GB|GiB|t|T|tb|TB|TiB)?$"
)
AGE_PATTERN = (
    r"^(([1-9][0-9]{0,4}|0[.][0-9]{1,3})([.][0-9]{1,3})? ?(s|sec|secs|seconds|m|min|mins|minutes|h|hr|hrs|hour|"
    r"hours|d|day|days|w|wk|week|weeks|mo|month|months|y|yr|year|years)|"
    r"(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))$"
)
"""An age above zero, or a date since 1970: the 1.5B model filled the filters it did not need with placeholders
("newer_than": "0001-01-01", "older_than": "0001-01-01"), and the find it asked for failed or found nothing."""
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_AMOUNT_AND_UNIT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")


def human_size(size_bytes: int | float) -> str:
    """`1234567` -> `"1.2 MB"`; whole bytes below 1 KB (`"512 B"`)."""
    value = float(size_bytes)
    if abs(value) < 1024:
        return f"{int(value)} B"
    for unit in _SIZE_UNITS[1:]:
        value /= 1024
        if abs(value) < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def parse_size(text: str) -> int:
    """`"10MB"`, `"500k"`, `"1.5G"`, `"200"` (bytes) -> bytes. Raises ToolError on anything else."""
    match = _AMOUNT_AND_UNIT.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _SIZE_MULTIPLIERS:
        raise ToolError(f"cannot read size {text!r}: use a number and unit like 500KB, 10MB or 1.5GB")
    return int(float(match.group(1)) * _SIZE_MULTIPLIERS[unit])


def parse_age(text: str, now: float | None = None) -> float:
    """`"7d"`, `"2h"`, `"30m"`, `"1w"`, `"3 days"` -> seconds; a date `"2024-03-01"` -> the seconds since its local
    midnight (so "newer than 2024-03-01" is "since that day"). Raises ToolError on anything else."""
    date = _DATE.match(text)
    if date is not None:
        try:
            midnight = datetime(int(date.group(1)), int(date.group(2)), int(date.group(3))).timestamp()
        except ValueError:
            raise ToolError(f"cannot read date {text!r}: use YYYY-MM-DD") from None
        return (time.time() if now is None else now) - midnight
    match = _AMOUNT_AND_UNIT.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _AGE_SECONDS:
        raise ToolError(f"cannot read age {text!r}: use a number and unit like 30m, 2h, 7d or 1w")
    return float(match.group(1)) * _AGE_SECONDS[unit]


def iso_time(timestamp: float) -> str:
    """A POSIX timestamp as local ISO-8601 to the second: `"2024-05-01T14:03:09"`."""
    return datetime.fromtimestamp(timestamp).isoformat(timespec="seconds")


def time_ago(timestamp: float, now: float | None = None) -> str:
    """A past moment as a short age a model reads in a couple of tokens: `"just now"`, `"12m ago"`, `"3h ago"`,
    `"5d ago"`, `"4mo ago"`, `"2y ago"`; a time in the future says so."""
    seconds = (time.time() if now is None else now) - timestamp
    if seconds < 0:
        return "in the future"
    for unit_seconds, unit in ((365 * 86400, "y"), (30 * 86400, "mo"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= unit_seconds:
            return f"{int(seconds // unit_seconds)}{unit} ago"
    return "just now"


def human_duration(seconds: float) -> str:
    """`273900` -> `"3 days, 4:05"` (hours:minutes, as `uptime` prints it)."""
    total_minutes = max(0, int(seconds)) // 60
    days, minutes_in_day = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(minutes_in_day, 60)
    clock = f"{hours}:{minutes:02d}"
    if days == 0:
        return clock
    return f"{days} day{'s' if days != 1 else ''}, {clock}"


def trim_text(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def clamp(value: int, low: int, high: int) -> int:
    """A count argument held to a sane range, so a model's `limit=0` or `limit=10**9` still does something."""
    return max(low, min(high, value))
