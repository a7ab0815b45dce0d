"""Daemon requests are typed messages validated on receipt: the wire form is what clients always sent, and a
malformed message is a protocol error saying what is wrong (an unknown op, a missing or bad context)."""

from __future__ import annotations

import pytest

from llmos.daemon.protocol import (
    ApproveMessage,
    CancelMessage,
    ProtocolError,
    RequestContext,
    RunRequest,
    StatusRequest,
    parse_request,
    parse_run_message,
)

CONTEXT = RequestContext(home="/home/a", cwd="/home/a/src", data_dir="/home/a/.local/share/llmos",
                         config_dir="/home/a/.config/llmos")


def test_a_run_request_travels_as_the_same_json_object() -> None:
    """The wire form has every field the dict-based client sent (and whether piped data came as an open file),
    and reads back to the same request."""
    sent = RunRequest(request="free space?", stdin_data=None, context=CONTEXT, model=None, policy="default",
                      max_steps=3, dry_run=True)
    wire = sent.to_json()
    assert wire == {"op": "run", "request": "free space?", "stdin_data": None, "stdin_passed": False,
                    "context": CONTEXT.to_json(), "model": None, "policy": "default", "max_steps": 3,
                    "dry_run": True, "can_ask": True}
    assert parse_request(wire) == sent


def test_fields_are_read_as_leniently_as_before() -> None:
    """A missing request is empty, non-text stdin is none, dry_run is any truthy value, approved only `true`."""
    read = parse_request({"op": "run", "context": CONTEXT.to_json(), "stdin_data": 5, "dry_run": 1})
    assert isinstance(read, RunRequest) and (read.request, read.stdin_data, read.dry_run) == ("", None, True)
    assert parse_request({"op": "status", "extra": 1}) == StatusRequest()
    assert parse_run_message({"op": "approve", "index": 2, "approved": 1}) == ApproveMessage(index=2, approved=False)
    assert parse_run_message({"op": "cancel"}) == CancelMessage()
    assert parse_run_message({"op": "run"}) is None


@pytest.mark.parametrize(("message", "error"), [
    ({"op": "bogus"}, "unknown op 'bogus'"),
    ({"op": "approve", "index": 0}, "unknown op 'approve'"),
    ({"op": "run", "request": "x"}, "context must be an object"),
    ({"op": "suggest", "context": {"home": "/h"}}, "bad context: 'cwd'"),
    ({"op": "run", "context": CONTEXT.to_json(), "max_steps": "many"}, "bad run message: max_steps"),
])
def test_a_malformed_request_is_a_protocol_error(message: dict[str, object], error: str) -> None:
    """The error names the problem, as the daemon's error reply shows it ("protocol error: ...")."""
    with pytest.raises(ProtocolError, match=error):
        parse_request(message)
