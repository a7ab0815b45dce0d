"""Output capping (head and tail kept, the cut said) and neutralising of terminal escapes."""

from __future__ import annotations

import pytest
from llmos.policies.sandbox.output import CappedBuffer, neutralise


def collect(data: bytes, limit: int, chunk: int) -> CappedBuffer:
    buffer = CappedBuffer(limit)
    for start in range(0, len(data), chunk):
        buffer.write(data[start : start + chunk])
    return buffer


def test_output_under_the_limit_is_kept_whole() -> None:
    """Nothing is cut and nothing is said when the output fits."""
    buffer = collect(b"hello\nworld\n", 100, 3)
    assert buffer.text() == "hello\nworld\n"
    assert not buffer.truncated


def test_output_exactly_at_the_limit_is_not_truncated() -> None:
    buffer = collect(b"x" * 100, 100, 7)
    assert not buffer.truncated and buffer.text() == "x" * 100


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096, 10_000_000])
def test_over_the_limit_keeps_head_and_tail_and_says_how_much_was_cut(chunk: int) -> None:
    """Head (first half) and tail (last half) survive, in between one line says exactly how many bytes went;
    the result does not depend on how the stream was chunked."""
    data = b"HEAD" + b"m" * 100_000 + b"TAIL"
    buffer = collect(data, 1000, chunk)
    text = buffer.text()
    assert buffer.truncated and buffer.cut == len(data) - 1000
    assert text.startswith("HEAD") and text.endswith("TAIL")
    assert f"[... {len(data) - 1000} bytes cut ...]" in text
    assert len(text) < 1100


def test_a_cut_through_a_multibyte_character_decodes_with_replacement() -> None:
    """Invalid or split UTF-8 never raises: it becomes U+FFFD."""
    buffer = collect("é".encode() * 1000 + b"\xff\xfe", 101, 50)
    text = buffer.text()
    assert "\ufffd" in text and "bytes cut" in text


def test_colour_codes_are_dropped() -> None:
    assert neutralise("\x1b[1;31mred\x1b[0m plain") == "red plain"


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ("\x1b]0;pwned title\x07", "\\x1b]0;pwned title\\x07"),  # OSC window title
        ("\x1b]52;c;cm0gLXJmIH4=\x07", "\\x1b]52;c;cm0gLXJmIH4=\\x07"),  # OSC 52 clipboard write
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "\\x1b]8;;http://evil\\x1b\\link\\x1b]8;;\\x1b\\"),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # clear screen, cursor home
        ("\x1bPq#0;2;0;0;0\x1b\\", "\\x1bPq#0;2;0;0;0\\x1b\\"),  # DCS (sixel)
        ("\x1bc", "\\x1bc"),  # full reset
        ("bell\x07", "bell\\x07"),
        ("back\x08\x08\x08\x08", "back\\x08\\x08\\x08\\x08"),
        ("\x9b31m", "\\x9b31m"),  # 8-bit CSI
        ("file\u202etxt.exe", "file\\u202etxt.exe"),  # bidi override
        ("zero\u200bwidth", "zero\\u200bwidth"),
    ],
)
def test_other_escapes_and_hidden_characters_are_made_visible(raw: str, visible: str) -> None:
    """Escapes that drive a terminal (titles, clipboard, cursor, reset) and hidden characters are shown, not
    interpreted: no ESC, BEL, C1 or bidi character survives."""
    out = neutralise(raw)
    assert out == visible
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e\u200b")


def test_carriage_return_cannot_hide_text() -> None:
    """`safe\\rrm -rf ~` would show only the second part on a terminal; both parts are shown on their own lines;
    CRLF becomes LF."""
    assert neutralise("safe text\rrm -rf ~") == "safe text\nrm -rf ~"
    assert neutralise("a\r\nb") == "a\nb"


def test_newlines_and_tabs_are_kept() -> None:
    assert neutralise("a\tb\nc") == "a\tb\nc"
