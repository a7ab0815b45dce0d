"""A model served by another machine: any OpenAI-compatible `/chat/completions` endpoint with JSON-schema output
(llama.cpp's server, llama-cpp-python's `llama_cpp.server`, vLLM, Ollama), so a team can run one larger model on
a GPU server for many desktops.

The only network traffic llmos makes at run time is to the URL configured here. Requests go straight to it with
http.client: no proxy from the environment, no redirects (a redirect would carry the API key elsewhere).
"""

from __future__ import annotations

import http.client
import json
import math
import re
import ssl
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

from llmos.models.backend import GenerationStats
from llmos.models.prompt import chat_messages
from llmos.models.remote import RemoteModel

from llmos.errors import ModelError

_TOKEN_ESTIMATE_PIECES = re.compile(r"[A-Za-z]+|[0-9]|\s+|[^\x00-\x7f]|[^\sA-Za-z0-9\x80-\U0010ffff]+")
ERROR_BODY_LIMIT = 64 * 1024
ERROR_TEXT_LIMIT = 200

ResponseFormatKind = Literal["json_schema", "json_object"]


class RemoteBackend:
    """The `Backend` protocol over HTTP(S): one streamed chat completion per `generate`, constrained by the
    call schema through `response_format`. The server keeps its own prompt cache, so `prefix` needs no care here."""

    def __init__(self, model: RemoteModel, api_key: str | None = None) -> None:
        self.model = model
        self.name = model.display_name
        self.n_ctx = model.context_tokens
        self.last_stats = GenerationStats()
        self._api_key = api_key
        self._base = urlsplit(model.base_url)
        self._response_format_kind: ResponseFormatKind = "json_schema"
        """OpenAI's standard form first; llama_cpp.server only takes `json_object` with a schema, and once a
        server refused the standard form it is not offered again."""
        self._send_repeat_penalty = True
        """llama.cpp's servers penalise repeated tokens by default (llama_cpp.server: 1.1), which bends greedy
        JSON (every quote and brace repeats) away from what the in-process model writes; `repeat_penalty: 1`
        turns that off. Other servers ignore the field; one that refuses it is not sent it again."""
        started = time.perf_counter()
        self._check_reachable()
        self.load_ms = (time.perf_counter() - started) * 1000

    def __repr__(self) -> str:  # the API key never shows in a repr, a log line or a traceback's locals
        return f"RemoteBackend({self.name!r} at {self.model.base_url})"

    # -- Backend protocol -------------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def generate(self, prefix: str, conversation: str, schema: dict[str, Any], max_tokens: int) -> Iterator[str]:
        prompt = prefix + conversation
        stats = GenerationStats(prompt_tokens=self.count_tokens(prompt))
        self.last_stats = stats
        messages = [{"role": message.role, "content": message.content} for message in chat_messages(prompt)]
        started = time.perf_counter()
        connection, response = self._open_completion(messages, schema, max_tokens)
        first_piece_at: float | None = None
        pieces = 0
        usage: dict[str, Any] | None = None
        # Closing the generator (a cancelled request stops iterating) closes the connection, which tells the
        # server to stop generating.
        try:
            for chunk in _completion_chunks(_read_lines(response, self.model.timeout_s)):
                if isinstance(chunk.get("usage"), dict):
                    usage = chunk["usage"]
                text = _delta_text(chunk)
                if text:
                    if first_piece_at is None:
                        first_piece_at = time.perf_counter()
                    pieces += 1
                    yield text
        except _StreamError as exc:
            raise ModelError(f"bad reply from {self._url('/chat/completions')}: {exc}") from None
        finally:
            connection.close()
        finished = time.perf_counter()
        first_piece_at = first_piece_at or finished
        # Servers stream about one token per chunk; the usage they may send at the end is exact.
        stats.generated_tokens = pieces
        if usage is not None:
            stats.prompt_tokens = int(usage.get("prompt_tokens") or stats.prompt_tokens)
            stats.generated_tokens = int(usage.get("completion_tokens") or stats.generated_tokens)
            details = usage.get("prompt_tokens_details")
            if isinstance(details, dict):
                stats.cached_tokens = int(details.get("cached_tokens") or 0)
        stats.prompt_ms = (first_piece_at - started) * 1000
        stats.generate_ms = (finished - first_piece_at) * 1000

    def warm(self, prefix: str) -> None:
        """Nothing to do: the server keeps its own prompt cache."""

    def close(self) -> None:
        """Nothing to free: each request opens (and closes) its own connection."""

    # -- requests ---------------------------------------------------------------------------------------------

    def request_body(
        self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int
    ) -> dict[str, Any]:
        """The chat completion request: greedy, streamed, the reply constrained to `schema`, in the forms this
        server accepts."""
        if self._response_format_kind == "json_schema":
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": "tool_call", "schema": schema, "strict": True},
            }
        else:
            response_format = {"type": "json_object", "schema": schema}
        body: dict[str, Any] = {
            "model": self.model.name,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            "response_format": response_format,
        }
        if self._send_repeat_penalty:
            body["repeat_penalty"] = 1.0
        return body

    def _open_completion(
        self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """A connection and a 200 response whose body is the event stream. A request refused (400/422/500) over a
        field this backend can do without or say otherwise is sent again without it, and the server's choice
        is remembered; any other refusal is a ModelError."""
        while True:
            body = self.request_body(messages, schema, max_tokens)
            try:
                return self._send("POST", "/chat/completions", body)
            except _StatusError as exc:
                # llama_cpp.server 0.3.36 reports its request validation errors as 500, naming the field.
                if exc.status in (400, 422, 500) and self._adapt_to_refusal(exc.body_text):
                    continue
                raise self._status_error("/chat/completions", exc) from None

    def _adapt_to_refusal(self, refusal_text: str) -> bool:
        """Change the request's form after a refusal that names a field with an alternative; False when there
        is none left to try (each change happens at most once, so the retries end)."""
        if self._send_repeat_penalty and "repeat_penalty" in refusal_text:
            self._send_repeat_penalty = False
            return True
        if self._response_format_kind == "json_schema" and "response_format" in refusal_text:
            self._response_format_kind = "json_object"
            return True
        return False

    def _check_reachable(self) -> None:
        """A cheap first request (`GET /models`), so an unreachable server or a refused key is said when the
        model loads, not in the middle of the first request. A server without the listing (404) is fine."""
        try:
            connection, _ = self._send("GET", "/models", None)
        except _StatusError as exc:
            if exc.status == 404:
                return
            raise self._status_error("/models", exc) from None
        connection.close()

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        url = self._url(path)
        headers = {"Accept": "text/event-stream" if body is not None else "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        connection = self._connection()
        try:
            connection.request(method, self._base.path.rstrip("/") + path, body=payload, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise ModelError(self._transport_problem(url, exc)) from None
        if response.status != 200:
            try:
                error_body = response.read(ERROR_BODY_LIMIT)
            except (OSError, http.client.HTTPException):
                error_body = b""
            connection.close()
            raise _StatusError(response.status, response.reason, error_body.decode("utf-8", errors="replace"))
        return connection, response

    def _connection(self) -> http.client.HTTPConnection:
        host = self._base.hostname or ""
        if self._base.scheme == "https":
            return http.client.HTTPSConnection(
                host, self._base.port, timeout=self.model.timeout_s, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(host, self._base.port, timeout=self.model.timeout_s)

    def _url(self, path: str) -> str:
        return self.model.base_url + path

    def _transport_problem(self, url: str, exc: BaseException) -> str:
        if isinstance(exc, ConnectionRefusedError):
            return f"cannot connect to {url}: connection refused (is the server running? check remote_url)"
        if isinstance(exc, TimeoutError):
            return f"no answer from {url} within {self.model.timeout_s:g} s (remote_timeout_s)"
        if isinstance(exc, ssl.SSLError):
            return f"cannot connect to {url}: TLS failed: {exc}"
        if isinstance(exc, http.client.HTTPException):
            return f"bad reply from {url}: {type(exc).__name__}: {exc}"
        return f"cannot connect to {url}: {getattr(exc, 'strerror', None) or exc}"

    def _status_error(self, path: str, exc: _StatusError) -> ModelError:
        url = self._url(path)
        if exc.status in (401, 403):
            held = "the API key was refused" if self._api_key else "no API key was sent"
            return ModelError(
                f"{url} answered HTTP {exc.status}: {held} (store the key with: "
                f"llmos secrets set {self.model.api_key_secret})"
            )
        return ModelError(f"{url} answered HTTP {exc.status} {exc.reason}: {_error_text(exc.body_text)}")


def estimate_tokens(text: str) -> int:
    """An over-estimate of the tokens `text` takes, for budgeting the context: there is no standard endpoint to
    count them. Qwen- and Llama-family tokenizers split numbers into single digits and keep common words whole,
    so: a digit, a non-ASCII character, a run of up to 2 punctuation marks or of up to 4 letters is one token;
    whitespace is free. Measured against Qwen2.5's tokenizer: the prompt prefix 2160 for 1456 real tokens, a
    JSON folder listing 817 for 716, a process table 790 for 759; random hex ~5% under. A flat bytes / 3 would
    under-count tool results (JSON with numbers runs ~2.2 bytes a token) and overflow the server's context."""
    total = 0
    for piece in _TOKEN_ESTIMATE_PIECES.findall(text):
        first = piece[0]
        if first.isspace():
            continue
        if not first.isascii() or first.isdigit():
            total += 1
        elif first.isalpha():
            total += math.ceil(len(piece) / 4)
        else:
            total += math.ceil(len(piece) / 2)
    return total


class _StatusError(Exception):
    """An HTTP status other than 200, with the start of the body the server sent."""

    def __init__(self, status: int, reason: str, body_text: str) -> None:
        super().__init__(status)
        self.status = status
        self.reason = reason
        self.body_text = body_text


class _StreamError(Exception):
    """The event stream was cut off or is not what the protocol says."""


def _read_lines(response: http.client.HTTPResponse, timeout_s: float) -> Iterator[bytes]:
    """The response body line by line; a broken connection or a timeout between lines is a _StreamError."""
    while True:
        try:
            line = response.readline()
        except TimeoutError:
            raise _StreamError(f"no data for {timeout_s:g} s in the middle of the stream (remote_timeout_s)") from None
        except (OSError, http.client.HTTPException) as exc:
            raise _StreamError(f"the stream broke off ({type(exc).__name__}: {exc})") from None
        if not line:
            return
        yield line


def sse_data(lines: Iterable[bytes]) -> Iterator[str]:
    """The `data` of each server-sent event (consecutive `data:` lines joined by newlines); comments, other
    fields and blank keep-alives are skipped."""
    data_lines: list[str] = []
    for raw_line in lines:
        line = raw_line.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data_lines:
                yield "\n".join(data_lines)
                data_lines = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data_lines.append(value[1:] if value.startswith(" ") else value)
    if data_lines:
        yield "\n".join(data_lines)


def _completion_chunks(lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The JSON chunks of a streamed chat completion, up to `[DONE]`; an error event or a stream that ends
    before the reply finished is a _StreamError."""
    finished = False
    for data in sse_data(lines):
        if data.strip() == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            raise _StreamError(f"an event is not JSON: {data[:80]!r}") from None
        if not isinstance(chunk, dict):
            raise _StreamError(f"an event is not a JSON object: {data[:80]!r}")
        if "error" in chunk:
            raise _StreamError(f"the server reported: {_error_text(json.dumps(chunk))}")
        choices = chunk.get("choices") or []
        finished = finished or any(isinstance(c, dict) and c.get("finish_reason") for c in choices)
        yield chunk
    if not finished:
        raise _StreamError("the stream ended before the reply was complete")


def _delta_text(chunk: dict[str, Any]) -> str:
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta") or {}
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _error_text(body_text: str) -> str:
    """One line from an error body: OpenAI's `error.message`, FastAPI's `detail`, or the text itself."""
    text = body_text.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and error.get("message"):
            text = str(error["message"])
        elif isinstance(error, str):
            text = error
        elif "detail" in parsed:
            text = json.dumps(parsed["detail"]) if not isinstance(parsed["detail"], str) else parsed["detail"]
    line = " ".join(text.split())
    if not line:
        return "(no details)"
    return line if len(line) <= ERROR_TEXT_LIMIT else line[: ERROR_TEXT_LIMIT - 1] + "…"
