"""What a sandboxed command printed, made safe to keep and show: capped, decoded, escapes neutralised.

Each stream keeps at most `limit` bytes: the first half and the last half of what the command wrote, with the cut
said in the text (`[... N bytes cut ...]`), so a huge output or one long line without newlines costs bounded
memory and the model still sees how it began and how it ended. Bytes are decoded as UTF-8 with replacement.
Colour codes (SGR) are dropped; every other terminal escape (cursor moves, OSC titles and clipboard writes, DCS)
and every other control, zero-width or bidirectional character is shown as a visible escape (`\\x1b]52;...`), so
output can neither drive the person's terminal nor hide text from them. A lone carriage return becomes a newline
so that text "overwritten" on a terminal line is shown, not hidden.
"""

from __future__ import annotations

import re

CUT_MARK = "[... {count} bytes cut ...]"

# SGR colour/style sequences: cosmetic, dropped.
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
# Any other escape sequence: CSI, OSC (ended by BEL or ST), DCS/SOS/PM/APC (ended by ST), and two-byte escapes.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
)
# Controls other than \n and \t, DEL, C1 controls, zero-width, line/paragraph separators, bidi controls, BOM.
_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _visible_char(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def _visible(match: re.Match[str]) -> str:
    return "".join(_visible_char(char) if _HIDDEN.match(char) else char for char in match.group())


def neutralise(text: str) -> str:
    """`text` with colour codes removed and every other escape sequence or hidden character made visible."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SGR.sub("", text)
    text = _ESCAPE.sub(_visible, text)
    return _HIDDEN.sub(lambda match: _visible_char(match.group()), text)


class CappedBuffer:
    """Collects a stream, keeping the first `limit // 2` and the last `limit - limit // 2` bytes."""

    def __init__(self, limit: int) -> None:
        if limit < 2:
            raise ValueError("max_output_bytes must be at least 2")
        self.limit = limit
        self._head_limit = limit // 2
        self._tail_limit = limit - self._head_limit
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            # Trim lazily (when twice the limit) so a stream of small chunks does not copy on every write.
            if len(self._tail) > 2 * self._tail_limit:
                del self._tail[: len(self._tail) - self._tail_limit]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    @property
    def cut(self) -> int:
        return max(0, self.total - self.limit)

    def text(self) -> str:
        """Decoded, neutralised text; when over the limit, head and tail around a line that says what was cut."""
        tail = bytes(self._tail[-self._tail_limit :]) if self._tail else b""
        if not self.truncated:
            return neutralise((bytes(self._head) + tail).decode("utf-8", errors="replace"))
        head_text = neutralise(bytes(self._head).decode("utf-8", errors="replace"))
        tail_text = neutralise(tail.decode("utf-8", errors="replace"))
        return f"{head_text}\n{CUT_MARK.format(count=self.cut)}\n{tail_text}"
