"""Escaping text before a person reads it, so that what is shown is what runs.

Part of the bottom layer: previews (policies), reports (core) and front ends (shell) all escape with this one
function; it imports nothing of llmos.
"""

from __future__ import annotations

import re

# Control characters, C1 controls, zero-width and bidirectional marks: anything that could make a preview show
# something other than what runs (a reversed extension, a hidden newline, a terminal escape).
_HIDDEN_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def escape_for_display(text: str) -> str:
    """`text` with every control, zero-width and bidi character shown as a visible escape (`\\u202e`, `\\n`)."""

    def visible(match: re.Match[str]) -> str:
        char = match.group()
        named = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
        return named.get(char, f"\\u{ord(char):04x}" if ord(char) > 0xFF else f"\\x{ord(char):02x}")

    return _HIDDEN_OR_CONTROL.sub(visible, text)
