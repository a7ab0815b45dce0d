"""A stand-in OpenAI-compatible server on 127.0.0.1, in a thread: it records each request and streams a scripted
reply as server-sent events, or fails the way a test asks (a status, a refused response format, a cut stream)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeOpenAIServer:
    """What to answer; set fields before the request. `requests` lists what arrived, in order."""

    reply_text: str = '{"tool": "answer", "args": {"text": "Leonardo da Vinci."}}'
    piece_chars: int = 4
    piece_delay_s: float = 0.0
    usage: dict[str, Any] | None = None
    """Sent as a last chunk (as `stream_options.include_usage` asks) when set."""
    refuse_json_schema: bool = False
    """Refuse `response_format.type == "json_schema"` as llama_cpp.server 0.3.36 does (a 500 naming the field)."""
    refuse_fields: set[str] = field(default_factory=set)
    """Answer 400 "Unrecognized request argument" to a request with any of these fields, as OpenAI does."""
    api_key: str | None = None
    """When set, every request without `Authorization: Bearer <api_key>` gets 401."""
    chat_error: tuple[int, dict[str, Any]] | None = None
    models_status: int = 200
    raw_stream: list[str] | None = None
    """Lines to send as the event stream instead of the reply (each gets a newline)."""
    stall_s: float = 0.0
    """Wait this long before answering a chat completion (for timeouts)."""
    requests: list[RecordedRequest] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)
    """Set when writing the stream failed because the client went away."""
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == "/v1/chat/completions"]


def _handler_for(fake: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            fake.requests.append(RecordedRequest("GET", self.path, dict(self.headers), None))
            if not self._authorised():
                return
            if self.path != "/v1/models" or fake.models_status != 200:
                self._json(404 if self.path != "/v1/models" else fake.models_status, {"detail": "Not Found"})
                return
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            fake.requests.append(RecordedRequest("POST", self.path, dict(self.headers), body))
            if not self._authorised():
                return
            if fake.stall_s:
                time.sleep(fake.stall_s)
            if fake.chat_error is not None:
                self._json(*fake.chat_error)
                return
            refused = sorted(fake.refuse_fields & set(body))
            if refused:
                self._json(400, {"error": {"message": f"Unrecognized request argument supplied: {refused[0]}"}})
                return
            if fake.refuse_json_schema and body.get("response_format", {}).get("type") == "json_schema":
                # What llama_cpp.server 0.3.36 (with fastapi 0.165) really answers.
                self._json(500, {"error": {"message": "1 validation error: {'type': 'literal_error', 'loc': "
                                           "('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or "
                                           "'json_object'\", 'input': 'json_schema'}",
                                           "type": "internal_server_error"}})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for line in fake.raw_stream if fake.raw_stream is not None else self._reply_lines():
                    self.wfile.write(line.encode() + b"\n")
                    self.wfile.flush()
                    if fake.piece_delay_s:
                        time.sleep(fake.piece_delay_s)
            except (BrokenPipeError, ConnectionResetError):
                fake.disconnected.set()

        def _reply_lines(self) -> Iterator[str]:
            text = fake.reply_text
            for start in range(0, len(text), fake.piece_chars):
                piece = text[start : start + fake.piece_chars]
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                yield "data: " + json.dumps(chunk)
                yield ""
            yield "data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            yield ""
            if fake.usage is not None:
                yield "data: " + json.dumps({"choices": [], "usage": fake.usage})
                yield ""
            yield "data: [DONE]"
            yield ""

        def _authorised(self) -> bool:
            if fake.api_key is None or self.headers.get("Authorization") == f"Bearer {fake.api_key}":
                return True
            self._json(401, {"detail": "Invalid API key"})
            return False

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def running(fake: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """Serve `fake` on a free loopback port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
