"""The shared formatting helpers: every tool spells sizes, ages, times and durations through these."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from llmos.tools._format import (
    AGE_PATTERN,
    SIZE_PATTERN,
    clamp,
    human_duration,
    human_size,
    iso_time,
    parse_age,
    parse_size,
    time_ago,
    trim_text,
)
from llmos.tools.registry import ToolError


@pytest.mark.parametrize(
    ("size_bytes", "expected"),
    [(0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1536, "1.5 KB"), (1_234_567, "1.2 MB"),
     (5 * 1024**3, "5.0 GB"), (3 * 1024**4, "3.0 TB"), (2 * 1024**6, "2048.0 PB")],
)  # fmt: skip
def test_human_size_uses_binary_units_with_one_decimal(size_bytes: int, expected: str) -> None:
    assert human_size(size_bytes) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200", 200), ("10MB", 10 * 1024**2), ("500k", 500 * 1024), ("1.5G", int(1.5 * 1024**3)), ("2 kb", 2048),
     ("3MiB", 3 * 1024**2), ("1tb", 1024**4), (" 7 bytes ", 7), (".5k", 512)],
)  # fmt: skip
def test_parse_size_accepts_common_spellings(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MB", "ten megs", "10 parsecs", "-5MB", "1e3", "10 MB MB"])
def test_parse_size_rejects_nonsense_with_a_readable_hint(text: str) -> None:
    with pytest.raises(ToolError, match=re.escape("use a number and unit like 500KB, 10MB or 1.5GB")):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("7d", 604800), ("1w", 604800), ("45s", 45), ("3 days", 259200), ("1.5h", 5400),
     ("2mo", 5184000), ("1y", 31536000)],
)  # fmt: skip
def test_parse_age_accepts_common_spellings(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "yesterday", "7", "d7", "7 fortnights"])
def test_parse_age_rejects_nonsense_with_a_readable_hint(text: str) -> None:
    with pytest.raises(ToolError, match="use a number and unit like 30m, 2h, 7d or 1w"):
        parse_age(text)


@given(st.integers(min_value=0, max_value=2**50))
def test_human_size_round_trips_through_parse_size_within_rounding(size_bytes: int) -> None:
    """What human_size prints, parse_size reads back to within the 0.05-unit rounding of one decimal."""
    amount, unit = human_size(size_bytes).split()
    multiplier = parse_size(f"1{unit}")
    assert abs(parse_size(f"{amount}{unit}") - size_bytes) <= 0.05 * multiplier + 1


def test_iso_time_is_local_and_to_the_second() -> None:
    stamp = datetime(2024, 5, 1, 14, 3, 9, 654321).timestamp()
    assert iso_time(stamp) == "2024-05-01T14:03:09"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0:00"),
        (59, "0:00"),
        (65 * 60, "1:05"),
        (86400, "1 day, 0:00"),
        (3 * 86400 + 4 * 3600 + 5 * 60, "3 days, 4:05"),
    ],
)
def test_human_duration_reads_like_uptime(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_trim_text_marks_the_cut_and_keeps_the_limit() -> None:
    assert trim_text("short", 10) == "short"
    assert trim_text("a" * 20, 10) == "a" * 9 + "…"


def test_clamp_holds_counts_to_range() -> None:
    assert (clamp(0, 1, 50), clamp(10**9, 1, 50), clamp(7, 1, 50)) == (1, 50, 7)


@pytest.mark.parametrize(
    ("age_seconds", "expected"),
    [(5, "just now"), (60, "1m ago"), (7200, "2h ago"), (3 * 86400, "3d ago"), (65 * 86400, "2mo ago"),
     (800 * 86400, "2y ago"), (-10, "in the future")],
)
def test_time_ago_is_short_and_exact(age_seconds: int, expected: str) -> None:
    """Ages are floored to the largest whole unit, so a model can quote them as they are."""
    assert time_ago(1_000_000_000 - age_seconds, now=1_000_000_000) == expected


@pytest.mark.parametrize("text", ["10MB", "500 KB", "1.5G", "200", "3 bytes", "2TiB", "7k"])
def test_every_size_the_schema_pattern_allows_parses(text: str) -> None:
    """The grammar's size pattern and parse_size agree: what the model may write is a size the tool reads."""
    assert re.fullmatch(SIZE_PATTERN, text)
    assert parse_size(text) > 0


@pytest.mark.parametrize("text", ["30m", "2 h", "7d", "1w", "3 days", "1.5 hours", "6 months", "2y", "2024-03-01"])
def test_every_age_the_schema_pattern_allows_parses(text: str) -> None:
    """The same for ages: each allowed spelling is one parse_age reads."""
    assert re.fullmatch(AGE_PATTERN, text)
    assert parse_age(text) > 0


@pytest.mark.parametrize("text", [".pdf", "*.pdf", "ten megs", "yesterday", "0 days ago", "MB", "2024030100000000d",
                                  "1234567890"])
def test_what_is_not_a_size_or_age_is_outside_both_patterns(text: str) -> None:
    """File types, words and runaway digits (a model writing a date as digits until it ran out of tokens) never
    fit the size or age slots."""
    assert not re.fullmatch(SIZE_PATTERN, text) and not re.fullmatch(AGE_PATTERN, text)


@pytest.mark.parametrize("text", ["0001-01-01", "0000-00-00", "1900-01-01", "2024-13-01", "2024-02-00", "0d", "0"])
def test_placeholder_ages_and_dates_are_outside_the_age_pattern(text: str) -> None:
    """The 1.5B model filled filters it did not need with placeholders ("newer_than": "0001-01-01"), and the find
    failed or found nothing: an age must be above zero and a date since 1970."""
    assert not re.fullmatch(AGE_PATTERN, text)


def test_a_date_as_an_age_is_the_time_since_its_local_midnight() -> None:
    midnight = datetime(2024, 3, 1).timestamp()
    assert parse_age("2024-03-01", now=midnight + 3600) == 3600
    with pytest.raises(ToolError, match="use YYYY-MM-DD"):
        parse_age("2024-13-01")
