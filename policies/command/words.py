"""Word-level shell expansions the judge must see through: `$'...'` escapes (`$'\\x72m'` is `rm`) and brace
expansion (`{a,b}` is two words; `rm -rf {x,~}` deletes home)."""

from __future__ import annotations

import itertools
import re

MAX_BRACE_WORDS = 256
_ANSI_C_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b",
                  "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def decode_ansi_c(text: str, start: int) -> tuple[str, int]:
    """Decode `$'...'` from `start` (after the quote); returns the text and the position after the closing quote."""
    out: list[str] = []
    pos = start
    while pos < len(text):
        char = text[pos]
        if char == "'":
            return "".join(out), pos + 1
        if char != "\\" or pos + 1 >= len(text):
            out.append(char)
            pos += 1
            continue
        escape = text[pos + 1]
        pos += 2
        if escape in _ANSI_C_SIMPLE:
            out.append(_ANSI_C_SIMPLE[escape])
        elif escape in "xuU":
            limit = {"x": 2, "u": 4, "U": 8}[escape]
            digits = re.match(rf"[0-9A-Fa-f]{{1,{limit}}}", text[pos:pos + limit])
            if digits:
                out.append(chr(min(int(digits.group(), 16), 0x10FFFF)))
                pos += digits.end()
            else:
                out.append("\\" + escape)
        elif escape in "01234567":
            digits = re.match(r"[0-7]{0,2}", text[pos:pos + 2])
            value = escape + (digits.group() if digits else "")
            out.append(chr(int(value, 8)))
            pos += len(value) - 1
        elif escape == "c" and pos < len(text):
            out.append(chr(ord(text[pos]) & 0x1F))
            pos += 1
        else:
            out.append("\\" + escape)
    return "".join(out), len(text) + 1


def brace_expand(chars: list[tuple[str, bool]], problems: list[str]) -> list[str]:
    """Bash brace expansion on unquoted braces: `{a,b}c` -> `ac bc`, `{1..3}` -> `1 2 3`."""
    words = _expand_once(chars)
    if words is None:
        return ["".join(char for char, _ in chars)]
    results: list[str] = []
    queue = list(words)
    while queue:
        current = queue.pop(0)
        expanded = _expand_once(current)
        if expanded is None:
            results.append("".join(char for char, _ in current))
        else:
            queue[:0] = expanded
        if len(results) + len(queue) > MAX_BRACE_WORDS:
            problems.append(f"brace expansion makes more than {MAX_BRACE_WORDS} words")
            return ["".join(char for char, _ in chars)]
    return results


def _expand_once(chars: list[tuple[str, bool]]) -> list[list[tuple[str, bool]]] | None:
    for open_index, (char, quoted) in enumerate(chars):
        if char != "{" or quoted:
            continue
        depth = 0
        commas: list[int] = []
        for index in range(open_index, len(chars)):
            inner, inner_quoted = chars[index]
            if inner_quoted:
                continue
            if inner == "{":
                depth += 1
            elif inner == "}":
                depth -= 1
                if depth == 0:
                    prefix, suffix = chars[:open_index], chars[index + 1:]
                    body = chars[open_index + 1:index]
                    if commas:
                        bounds = [open_index, *commas, index]
                        parts = [chars[start + 1:end] for start, end in itertools.pairwise(bounds)]
                        return [prefix + part + suffix for part in parts]
                    sequence = _sequence("".join(c for c, _ in body))
                    if sequence is not None:
                        return [prefix + [(item, False) for item in element] + suffix for element in sequence]
                    break
            elif inner == "," and depth == 1:
                commas.append(index)
    return None


def _sequence(body: str) -> list[str] | None:
    numeric = re.fullmatch(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?", body)
    if numeric:
        first, last = int(numeric.group(1)), int(numeric.group(2))
        step = abs(int(numeric.group(3) or 1)) or 1
        if abs(last - first) // step > MAX_BRACE_WORDS:
            return None
        direction = 1 if last >= first else -1
        return [str(value) for value in range(first, last + direction, step * direction)]
    alpha = re.fullmatch(r"([A-Za-z])\.\.([A-Za-z])", body)
    if alpha:
        first, last = ord(alpha.group(1)), ord(alpha.group(2))
        direction = 1 if last >= first else -1
        return [chr(value) for value in range(first, last + direction, direction)]
    return None
