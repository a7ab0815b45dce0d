"""The check that an answer states only facts the tool results hold: numbers, sizes, percentages, dates, paths,
file names, pids, counts of a kind of file, and "~" or a placeholder given as a value.

A fact is grounded when the results (or the request itself) hold it, as written or in a form it is routinely
restated in: "12,345" is 12345, "4.0" is 4, "4.1 megabytes" is the "4.1 MB" a result shows, "15%" may round
"15.3", "~/Downloads/a.pdf" is the name "a.pdf" listed under the path "~/Downloads", and "and 3 more" after two
names is a list of five. False alarms cost a good answer, so what is not a fact is left out: list numbering
("1."), ordinals ("1st"), version-like and hash-like tokens inside words, and anything the request says.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmos.answers._result import records
from llmos.answers.file_answers import KNOWN_FILE_TYPES

_SIZE_MULTIPLIERS = {
    "b": 1, "byte": 1, "bytes": 1,
    "kb": 1024, "kib": 1024, "kilobyte": 1024, "kilobytes": 1024,
    "mb": 1024**2, "mib": 1024**2, "megabyte": 1024**2, "megabytes": 1024**2,
    "gb": 1024**3, "gib": 1024**3, "gigabyte": 1024**3, "gigabytes": 1024**3,
    "tb": 1024**4, "tib": 1024**4, "terabyte": 1024**4, "terabytes": 1024**4,
    "pb": 1024**5, "pib": 1024**5,
}  # fmt: skip
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SIZE = re.compile(rf"(?<![\w.])({_NUMBER})\s?({'|'.join(sorted(_SIZE_MULTIPLIERS, key=len, reverse=True))})\b",
                   re.IGNORECASE)
_PERCENT = re.compile(rf"(?<![\w.])({_NUMBER})\s?(?:%|percent\b)", re.IGNORECASE)
_DATE_OR_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?\b|\b\d{1,2}:\d{2}(?::\d{2})?\b")
_PATH = re.compile(r"(?<![\w.~/-])(?:~|\.{1,2})?/[^\s,;()\"'`<>|]*")
_LONE_TILDE = re.compile(r"(?<![\w/~.-])~(?![\w/~])")
_PLACEHOLDER = re.compile(r"<[A-Za-z][\w .-]{0,30}>|\{[A-Za-z][\w .-]{0,30}\}|\[(?!secret )[A-Za-z][\w .-]{0,30}\]")
_FILE_NAME = re.compile(r"(?<![\w/.~-])[\w+-][\w+.-]*\.[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?![\w/-])")
_NOT_FILE_NAMES = frozenset({"e.g", "i.e", "etc", "vs", "a.m", "p.m", "approx"})
_LIST_NUMBERING = re.compile(r"^\s*\d{1,3}[.)](?=\s)", re.MULTILINE)
_PLAIN_NUMBER = re.compile(rf"(?<![\w.,:/-])({_NUMBER})(?![\w%/])(?!\.\w)")
_MORE = re.compile(r"\s+more\b")
_COMBINING = re.compile(r"\b(?:combined|total|sum|together|altogether|in all|add(?:ed)? up|plus|difference|"
                        r"(?:more|less|fewer) than|how much (?:more|less))\b", re.IGNORECASE)
"""A request that asks for two stated numbers combined ("the combined revenue of the Q1 and Q2 reports"): an
answer may state their sum or difference, which no result holds."""
MIN_TERM_SHARE = 0.01
_NUMBER_WORDS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
# "one" is left out: "the biggest one", "one of them" say no count.
_COUNTED_WORD = re.compile(rf"\b({'|'.join(word for word in _NUMBER_WORDS if word not in ('zero', 'one'))})"
                           r"\s+(?=[a-z]+s\b)", re.IGNORECASE)
_TYPED_COUNT = re.compile(rf"\b({_NUMBER}|no|zero|{'|'.join(_NUMBER_WORDS)})\s+\.?([A-Za-z0-9]{{1,5}})\s+files?\b",
                          re.IGNORECASE)
_ZERO_COUNT = re.compile(r"\b(?:no|zero)\s+(lines?|files?|folders?|matches|entries|processes|items)\b", re.IGNORECASE)
_ZERO_COUNT_KEYS = {
    "line": ("lines",), "file": ("files", "matches"), "folder": ("folders",), "matche": ("matches",),
    "entrie": ("count",), "processe": ("total", "matching"), "item": ("items", "count"),
}


@dataclass
class _Evidence:
    """Everything the results and the request hold, in the forms an answer is checked against."""

    text: str = ""
    folded_text: str = ""
    whole_values: set[str] = field(default_factory=set)
    numbers: list[float] = field(default_factory=list)
    size_ranges: list[tuple[float, float]] = field(default_factory=list)
    path_bases: set[str] = field(default_factory=set)
    counts: dict[str, list[float]] = field(default_factory=dict)
    counts_by_type: list[dict[str, int]] = field(default_factory=list)

    def has_number(self, value: float, decimals: int) -> bool:
        """A number the evidence holds, or one it rounds to at the precision the answer wrote."""
        tolerance = 0.5 * 10**-decimals + 1e-9
        position = bisect.bisect_left(self.numbers, value - tolerance)
        return position < len(self.numbers) and self.numbers[position] <= value + tolerance

    def has_sum_or_difference(self, value: float, decimals: int) -> bool:
        """`value` is two numbers of the evidence added or one taken from the other, each a real part of it (at
        least `MIN_TERM_SHARE` of the largest number involved: 48,201 is not 48,200 + 1)."""
        for term in self.numbers:
            if term <= 0:
                continue
            for other in (value - term, term - value):
                real_parts = min(term, other, value) >= MIN_TERM_SHARE * max(value, term, other)
                if other > 0 and real_parts and self.has_number(other, decimals):
                    return True
        return False

    def has_size(self, low: float, high: float) -> bool:
        return any(low <= size_high and size_low <= high for size_low, size_high in self.size_ranges)


def ungrounded_facts(answer: str, request: str, results: Sequence[str]) -> list[str]:
    """The facts `answer` states that neither `request` nor any of `results` (the tool results' text, and piped
    data excerpts the caller adds) holds, as the answer wrote them, in the order they appear."""
    evidence = _gather(request, results)
    checked = answer
    ungrounded: list[tuple[int, str]] = []

    def consume(match: re.Match[str], grounded: bool, fact: str | None = None) -> None:
        nonlocal checked
        if not grounded:
            ungrounded.append((match.start(), fact or match.group(0)))
        checked = checked[: match.start()] + " " * (match.end() - match.start()) + checked[match.end():]

    for match in list(_PLACEHOLDER.finditer(checked)):
        consume(match, match.group(0) in evidence.text)
    for match in list(_DATE_OR_TIME.finditer(checked)):
        # "2024-05-01 14:03" restates the ISO "2024-05-01T14:03:09" a result holds.
        consume(match, match.group(0) in evidence.text or match.group(0).replace(" ", "T") in evidence.text)
    for match in list(_PATH.finditer(checked)):
        path = match.group(0).rstrip(".,:;!?")
        if path in ("/", "~/", "./", "../"):
            continue
        consume(match, _path_is_grounded(path.rstrip("/") or "/", evidence), path)
    for match in list(_LONE_TILDE.finditer(checked)):
        consume(match, "~" in evidence.whole_values)
    for match in list(_TYPED_COUNT.finditer(checked)):
        extension = match.group(2).casefold()
        if extension in KNOWN_FILE_TYPES:
            ungrounded.extend((match.start(), fact) for fact in _typed_count_facts(match, answer, evidence))
            consume(match, True)
    for match in list(_ZERO_COUNT.finditer(checked)):
        consume(match, _zero_count_is_grounded(match.group(1), evidence))
    for match in list(_FILE_NAME.finditer(checked)):
        name = match.group(0).rstrip(".-")
        stem = name.split(".", 1)[0]
        if name.casefold() in _NOT_FILE_NAMES or stem.isdigit() or "." not in name:
            continue
        consume(match, name.casefold() in evidence.folded_text, name)
    for match in list(_SIZE.finditer(checked)):
        consume(match, _size_is_grounded(match, evidence))
    for match in list(_PERCENT.finditer(checked)):
        value, decimals = _number(match.group(1))
        consume(match, evidence.has_number(value, decimals) or evidence.has_number(100 - value, decimals))
    for match in list(_LIST_NUMBERING.finditer(checked)):
        consume(match, True)
    for match in list(_COUNTED_WORD.finditer(checked)):
        consume(match, evidence.has_number(_NUMBER_WORDS[match.group(1).casefold()], 0), match.group(0).strip())
    combining = bool(_COMBINING.search(request))
    for match in list(_PLAIN_NUMBER.finditer(checked)):
        value, decimals = _number(match.group(1))
        grounded = evidence.has_number(value, decimals) or (combining and evidence.has_sum_or_difference(value,
                                                                                                       decimals))
        if not grounded and _MORE.match(checked, match.end()):
            # "a, b and 3 more": the list is the names before it plus those three.
            grounded = evidence.has_number(value + _names_listed_before(answer, match.start()), 0)
        pid = re.search(r"\bpid\s*$", answer[: match.start()], re.IGNORECASE)
        consume(match, grounded, f"pid {match.group(1)}" if pid else match.group(1))
    return [fact for _, fact in sorted(ungrounded, key=lambda item: item[0])]


# -- the evidence ---------------------------------------------------------------------------------------------


def _gather(request: str, results: Sequence[str]) -> _Evidence:
    evidence = _Evidence()
    texts: list[str] = [request]
    numbers: list[float] = []
    for result_text in results:
        texts.append(result_text)
        try:
            data = json.loads(result_text)
        except ValueError:
            continue
        for key, value in _walk(data):
            if isinstance(value, str):
                texts.append(value)
                evidence.whole_values.add(value)
                if key == "path" or value.startswith(("~/", "/")):
                    evidence.path_bases.add(value.rstrip("/") or "/")
            elif isinstance(value, bool):
                continue
            elif isinstance(value, (int, float)):
                numbers.append(float(value))
                evidence.size_ranges.append((float(value), float(value)))
                if key:
                    evidence.counts.setdefault(key, []).append(float(value))
            elif isinstance(value, (list, dict)):
                # How many rows a list or table shows is a count an answer may state ("the top 5").
                rows = value.get("rows") if isinstance(value, dict) and "columns" in value else value
                if isinstance(rows, list):
                    numbers.append(float(len(rows)))
                    numbers.extend(_rows_per_path(value))
                if key == "files_by_type" and isinstance(value, dict):
                    evidence.counts_by_type.append({str(kind): int(count) for kind, count in value.items()})
    evidence.text = "\n".join(texts)
    evidence.folded_text = evidence.text.casefold()
    for match in re.finditer(_NUMBER, evidence.text):
        numbers.append(_number(match.group(0))[0])
    for match in _SIZE.finditer(evidence.text):
        evidence.size_ranges.append(_size_range(match))
    evidence.numbers = sorted(numbers)
    return evidence


def _rows_per_path(listed: Any) -> list[float]:
    """How many rows each path has in a list of matches (a search's lines per file): a count an answer may state."""
    try:
        paths = [str(row["path"]) for row in records(listed)]
    except (ValueError, KeyError, TypeError):
        return []
    return [float(count) for count in Counter(paths).values()]


def _walk(data: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, value) below `data`, keys included as string values (a table's columns are names too)."""
    yield key, data
    if isinstance(data, dict):
        for child_key, child in data.items():
            yield "", str(child_key)
            yield from _walk(child, str(child_key))
    elif isinstance(data, list):
        for child in data:
            yield from _walk(child, key)


def _number(text: str) -> tuple[float, int]:
    """`"12,345.50"` -> (12345.5, 2): the value and how many decimals it was written with."""
    plain = text.replace(",", "")
    return float(plain), len(plain.split(".", 1)[1]) if "." in plain else 0


def _size_range(match: re.Match[str]) -> tuple[float, float]:
    """The bytes a written size stands for: "4.1 MB" is anything that rounds to it."""
    value, decimals = _number(match.group(1))
    multiplier = _SIZE_MULTIPLIERS[match.group(2).casefold()]
    half_step = 0.5 * 10**-decimals
    return (value - half_step) * multiplier, (value + half_step) * multiplier


# -- checks ---------------------------------------------------------------------------------------------------


def _path_is_grounded(path: str, evidence: _Evidence) -> bool:
    """As written in a result, or a folder a result names joined with a name listed in it."""
    if path in evidence.text:
        return True
    for base in evidence.path_bases:
        prefix = base if base.endswith("/") else base + "/"
        if path.startswith(prefix) and path[len(prefix):] in evidence.whole_values:
            return True
    return False


def _size_is_grounded(match: re.Match[str], evidence: _Evidence) -> bool:
    low, high = _size_range(match)
    return evidence.has_size(low, high)


def _typed_count_facts(match: re.Match[str], answer: str, evidence: _Evidence) -> list[str]:
    """A count of a kind of file ("10 PDF files") against the tool's count of that kind, and every name the
    sentence then lists that is not of that kind."""
    facts: list[str] = []
    written, extension = match.group(1).casefold(), match.group(2).casefold()
    count = 0 if written in ("no", "zero") else _NUMBER_WORDS.get(written)
    count_value = float(count) if count is not None else _number(written)[0]
    known = [counted.get(extension, 0) for counted in evidence.counts_by_type]
    if known:
        if count_value not in known:
            facts.append(match.group(0))
    elif count_value and not evidence.has_number(count_value, 0):
        facts.append(match.group(0))
    sentence_end = re.search(r"\.(?:\s|$)|\n", answer[match.end():])
    listed = answer[match.end(): match.end() + sentence_end.start() if sentence_end else len(answer)]
    for name_match in _FILE_NAME.finditer(listed):
        name = name_match.group(0).rstrip(".-")
        if "." in name and name.rsplit(".", 1)[1].casefold() != extension:
            facts.append(f"{name} (not a {extension.upper()} file)")
    return facts


def _zero_count_is_grounded(noun: str, evidence: _Evidence) -> bool:
    """ "no lines": wrong only when the results count that thing and none of the counts is zero."""
    keys = _ZERO_COUNT_KEYS.get(noun.casefold().rstrip("s"), ())
    counted = [value for key in keys for value in evidence.counts.get(key, [])]
    return not counted or 0.0 in counted


def _names_listed_before(answer: str, position: int) -> int:
    """How many names a list gives before "and N more": the comma-separated items after its colon."""
    clause = answer[:position]
    start = max(clause.rfind(":"), clause.rfind("\n"))
    items = clause[start + 1:]
    items = re.sub(r"\s+and\s*$", "", items)
    return len([item for item in items.split(",") if item.strip()])
