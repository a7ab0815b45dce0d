"""Pull the answer's text out of a JSON call while it is still being generated, so front ends can stream it."""

from __future__ import annotations

import json
import re

_ESCAPE_START = re.compile(r"\\(u[0-9a-fA-F]{0,3})?$")


class AnswerStreamer:
    """Feed it the model's output pieces; it returns newly decoded answer text once the output is an
    `{"tool": "answer", "args": {"text": "...` call, and nothing for any other tool."""

    def __init__(self, answer_tool: str) -> None:
        self._opening = re.compile(
            r'^\s*\{\s*"tool"\s*:\s*"' + re.escape(answer_tool) + r'"\s*,\s*"args"\s*:\s*\{\s*"text"\s*:\s*"'
        )
        self._raw = ""
        self._body_start: int | None = None
        self._emitted_raw_len = 0
        self._closed = False
        self.text = ""
        """The answer text decoded so far."""

    @property
    def started(self) -> bool:
        return self._body_start is not None

    def feed(self, piece: str) -> str:
        self._raw += piece
        if self._closed:
            return ""
        if self._body_start is None:
            match = self._opening.match(self._raw)
            if not match:
                return ""
            self._body_start = match.end()
            self._emitted_raw_len = self._body_start
        body = self._raw[self._emitted_raw_len :]
        end = _unescaped_quote(body)
        if end is not None:
            body = body[:end]
            self._closed = True
        elif cut_escape := _ESCAPE_START.search(body):
            # An escape sequence is cut in two: wait for the rest of it.
            body = body[: cut_escape.start()]
        decoded = _decode_json_fragment(body)
        self._emitted_raw_len += len(body)
        self.text += decoded
        return decoded


def _unescaped_quote(text: str) -> int | None:
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            return index
        index += 1
    return None


def _decode_json_fragment(fragment: str) -> str:
    try:
        return json.loads(f'"{fragment}"')
    except json.JSONDecodeError:
        return fragment
