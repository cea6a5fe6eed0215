"""A real, local, scriptable OpenAI-compatible HTTP server for tests.

Tests talk to it with the real ``openai`` client over real sockets, so retry, timeout,
streaming and error handling are exercised end to end rather than against mocks.

Only the standard library is used. The server runs ``ThreadingHTTPServer`` on
127.0.0.1 with an OS-chosen free port in a daemon thread.

Usage from a test::

    def test_something(openai_server):
        openai_server.script([Reply(status=429), Reply(content="hi")])
        client = OpenAI(base_url=openai_server.base_url, api_key=openai_server.api_key)
        ...
        assert len(openai_server.chat_requests) == 2

A conftest can expose the fixture with::

    from tests.openai_server import openai_server  # noqa: F401

Scripted behaviours stand in for what real models do: ``Reply(behaviour=follow_facts)``
answers from the prompt's own facts (in JSON when the request asks for JSON, as a
grammar-constrained server would), ``refuse`` gives the fixed refusal, ``no_markers``
writes prose without ``[n]``, ``Reply(reasoning_content=...)`` and ``think(...)`` add
a reasoning model's thinking, and ``OpenAITestServer.reject_formats`` makes the
server refuse ``response_format`` types it "does not know", with HTTP 400.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CONTENT",
    "EMBEDDING_DIM",
    "OpenAITestServer",
    "RecordedRequest",
    "Reply",
    "embedding_for",
    "follow_facts",
    "no_markers",
    "openai_server",
    "refuse",
    "think",
]

#: Bearer key the fixture's server accepts unless a test configures another one.
DEFAULT_API_KEY = "sk-test-local-server"
#: Chat reply used once the scripted queue is exhausted.
DEFAULT_CONTENT = "This is the default test reply."
#: Dimension of the deterministic embedding vectors.
EMBEDDING_DIM = 16


@dataclass
class Reply:
    """One scripted answer to a chat completion request.

    Attributes:
        content: Assistant text. ``""`` gives an empty reply (valid JSON, no text).
        status: HTTP status. Anything other than 200 sends an OpenAI-style error body.
        headers: Extra response headers, e.g. ``{"Retry-After": "2"}``. An error status
            without a ``Retry-After`` or ``retry-after-ms`` header is sent with
            ``retry-after-ms: 1``, so the client's retries do not wait.
        delay: Seconds to wait before answering (for client timeout tests). The wait
            ends early when the server shuts down so teardown never hangs.
        raw: Send these bytes verbatim as the body (status ``status``), e.g. malformed JSON.
        content_type: Content-Type for ``raw``; defaults to JSON, or SSE for stream requests.
        chunks: For streaming requests, the exact text pieces to send. Defaults to
            ``content`` split after each space so tests see several deltas.
        usage: Token counts to report; defaults to rough counts derived from the text.
        error_message: Message inside the error body for non-200 statuses.
        finish_reason: ``finish_reason`` of the (last) choice.
        chunk_delay: For streaming requests, seconds to wait before each text piece after
            the first (for mid-stream timeout tests).
        reasoning_content: A reasoning model's thinking, sent beside the content (and
            streamed before it), as vLLM and llama.cpp reasoning parsers do.
        behaviour: Compute the reply from the request instead (see the module docstring);
            it returns a ``Reply``, a dict of its fields or the content string.
    """

    content: str = DEFAULT_CONTENT
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None
    content_type: str | None = None
    chunks: list[str] | None = None
    usage: dict[str, int] | None = None
    error_message: str | None = None
    finish_reason: str = "stop"
    chunk_delay: float = 0.0
    reasoning_content: str | None = None
    behaviour: Callable[[RecordedRequest], Reply | dict[str, Any] | str] | None = None

    @classmethod
    def coerce(cls, value: Reply | dict[str, Any] | str) -> Reply:
        """Accept a ``Reply``, a dict of its fields, or a bare content string."""
        if isinstance(value, Reply):
            return value
        if isinstance(value, str):
            return cls(content=value)
        if isinstance(value, dict):
            return cls(**value)
        raise TypeError(f"cannot use {type(value).__name__} as a scripted Reply")

    @classmethod
    def json(cls, value: Any, **fields: Any) -> Reply:
        """A reply whose content is ``value`` as JSON."""
        return cls(content=json.dumps(value), **fields)

    @property
    def text(self) -> str:
        """The whole assistant text: the joined ``chunks`` when given, else ``content``."""
        return "".join(self.chunks) if self.chunks is not None else self.content

    def pieces(self) -> list[str]:
        """The text deltas a streaming response sends, in order."""
        if self.chunks is not None:
            return list(self.chunks)
        if not self.content:
            return []
        # Split after spaces so joining the pieces reproduces the content exactly.
        parts = self.content.split(" ")
        return [p + " " for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


@dataclass
class RecordedRequest:
    """One request as the server received it (recorded before any auth check)."""

    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased so lookups need not guess the casing
    body: Any  # parsed JSON, or None when the body was empty or not JSON
    raw_body: bytes

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Chat messages of a chat completion request (empty list otherwise)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return self.body["messages"]
        return []


def embedding_for(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """Deterministic unit vector for ``text``: same text, same vector, across runs."""
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        for i in range(0, len(digest), 4):
            (n,) = struct.unpack("<I", digest[i : i + 4])
            values.append(n / 0xFFFFFFFF * 2.0 - 1.0)
        counter += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def _rough_tokens(text: str) -> int:
    """A cheap, deterministic stand-in for a tokenizer."""
    return len(text.split())


class OpenAITestServer:
    """Scriptable OpenAI-compatible server; start with ``start()``, stop with ``stop()``."""

    def __init__(self, api_key: str = DEFAULT_API_KEY, default_content: str = DEFAULT_CONTENT):
        self.api_key = api_key
        self.default_content = default_content
        #: ``response_format`` types answered with HTTP 400, like a server without them.
        self.reject_formats: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> OpenAITestServer:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # Daemon handler threads: a handler stuck writing to a vanished client must
        # never keep the test process alive.
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="openai-test-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; wakes handlers sleeping on a delay."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test API --------------------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """Base URL to give an OpenAI client, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self, **more: str) -> dict[str, str]:
        """Environment that points the openai client (and the CLI) at this server."""
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": self.api_key, **more}

    def script(self, replies: Iterable[Reply | dict[str, Any] | str]) -> None:
        """Replace the reply queue; each chat request consumes one reply in order."""
        with self._lock:
            self._queue = deque(Reply.coerce(r) for r in replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Recorded requests to the chat completions endpoint."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        """Recorded requests to the embeddings endpoint."""
        return [r for r in self.requests if r.path.endswith("/embeddings")]

    def reset(self) -> None:
        """Forget recorded requests and scripted replies."""
        with self._lock:
            self.requests.clear()
            self._queue.clear()

    # -- internals used by the handler -------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return Reply(content=self.default_content)

    def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False if the server began stopping meanwhile."""
        if seconds <= 0:
            return not self._stopping.is_set()
        return not self._stopping.wait(seconds)


def _make_handler(server: OpenAITestServer) -> type[BaseHTTPRequestHandler]:
    """Build a handler class bound to ``server`` (http.server wants a class, not an object)."""

    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 so the client may reuse connections, as it would with a real API.
        protocol_version = "HTTP/1.1"
        # Idle keep-alive connections close after this many seconds, so handler
        # threads do not pile up across tests.
        timeout = 5
        # Headers and body go out in separate writes; without this, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every reply.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Silence per-request logging so pytest output stays readable."""

        # -- dispatch ------------------------------------------------------------

        def do_GET(self) -> None:  # name fixed by http.server
            self._read_and_record()
            if not self._authorised():
                return
            if self.path.rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [_model_entry("test-model")]})
            else:
                self._send_error(404, f"no route for GET {self.path}", "not_found")

        def do_POST(self) -> None:  # name fixed by http.server
            body = self._read_and_record()
            if not self._authorised():
                return
            path = self.path.split("?", 1)[0].rstrip("/")
            try:
                if path.endswith("/chat/completions"):
                    self._chat(body)
                elif path.endswith("/embeddings"):
                    self._embeddings(body)
                else:
                    self._send_error(404, f"no route for POST {self.path}", "not_found")
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (e.g. its timeout fired); nothing left to do.
                self.close_connection = True

        # -- request plumbing ----------------------------------------------------

        def _read_and_record(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            server._record(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    raw_body=raw,
                )
            )
            return body

        def _authorised(self) -> bool:
            expected = f"Bearer {server.api_key}"
            if self.headers.get("Authorization") == expected:
                return True
            # Mirror the real API: 401 with an error object, never echoing the key.
            self._send_error(401, "Incorrect API key provided.", "invalid_api_key")
            return False

        def _send_bytes(
            self, status: int, payload: bytes, content_type: str, headers: dict[str, str]
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(obj).encode()
            self._send_bytes(status, payload, "application/json", headers or {})

        def _send_error(
            self, status: int, message: str, code: str, headers: dict[str, str] | None = None
        ) -> None:
            error = {"message": message, "type": "test_server_error", "param": None, "code": code}
            self._send_json(status, {"error": error}, headers)

        # -- endpoints -----------------------------------------------------------

        def _chat(self, body: Any) -> None:
            fmt = body.get("response_format") if isinstance(body, dict) else None
            if isinstance(fmt, dict) and fmt.get("type") in server.reject_formats:
                # Refused before any scripted reply is used, as a real server would.
                message = f"response_format type {fmt.get('type')!r} is not supported"
                self._send_error(400, message, "invalid_request_error")
                return
            reply = server._next_reply()
            if reply.behaviour is not None:
                if reply.delay and not server._wait(reply.delay):
                    self.close_connection = True
                    return
                reply = Reply.coerce(reply.behaviour(server.chat_requests[-1]))
            if reply.delay and not server._wait(reply.delay):
                self.close_connection = True
                return
            wants_stream = isinstance(body, dict) and bool(body.get("stream"))
            if reply.raw is not None:
                default_type = "text/event-stream" if wants_stream else "application/json"
                content_type = reply.content_type or default_type
                self._send_bytes(reply.status, reply.raw, content_type, reply.headers)
                return
            if reply.status != 200:
                message = reply.error_message or f"scripted HTTP {reply.status}"
                headers = dict(reply.headers)
                if not any(k.lower().startswith("retry-after") for k in headers):
                    # Without a server-directed wait the openai client backs off for half
                    # a second and more before it sends again; tests need not wait.
                    headers["retry-after-ms"] = "1"
                self._send_error(reply.status, message, f"http_{reply.status}", headers)
                return
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                self._send_error(400, "request body must be JSON with 'messages'", "bad_request")
                return
            model = str(body.get("model") or "test-model")
            usage = reply.usage or _usage(body["messages"], reply.text)
            if wants_stream:
                options = body.get("stream_options") or {}
                include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
                self._stream_chat(reply, model, usage if include_usage else None)
            else:
                self._send_json(200, _completion(reply, model, usage), reply.headers)

        def _stream_chat(self, reply: Reply, model: str, usage: dict[str, int] | None) -> None:
            # Chunked transfer so each SSE event reaches the client as it is written,
            # the way a real streaming API behaves.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            for index, event in enumerate(_stream_events(reply, model, usage)):
                # Event 0 is the role-only chunk and event 1 the first piece; delay later ones.
                if index >= 2 and reply.chunk_delay and not server._wait(reply.chunk_delay):
                    self.close_connection = True
                    return
                self._write_chunk(f"data: {event}\n\n".encode())
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")  # zero-length chunk ends the body

        def _write_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _embeddings(self, body: Any) -> None:
            if not isinstance(body, dict) or "input" not in body:
                self._send_error(400, "request body must be JSON with 'input'", "bad_request")
                return
            inputs = body["input"]
            # A single string or a single token list counts as one input.
            if isinstance(inputs, str) or (
                isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
            ):
                inputs = [inputs]
            dim = int(body.get("dimensions") or EMBEDDING_DIM)
            as_base64 = body.get("encoding_format") == "base64"
            data = []
            tokens = 0
            for i, item in enumerate(inputs):
                text = item if isinstance(item, str) else json.dumps(item)
                tokens += _rough_tokens(text)
                vector = embedding_for(text, dim)
                encoded: Any = vector
                if as_base64:
                    # The official client asks for base64 float32 by default.
                    packed = struct.pack(f"<{len(vector)}f", *vector)
                    encoded = base64.b64encode(packed).decode()
                data.append({"object": "embedding", "index": i, "embedding": encoded})
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": str(body.get("model") or "test-embedding"),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

    return Handler


def _model_entry(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "test"}


def _usage(messages: list[Any], content: str) -> dict[str, int]:
    prompt = sum(
        _rough_tokens(str(m.get("content", ""))) if isinstance(m, dict) else 0 for m in messages
    )
    completion = _rough_tokens(content)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(reply: Reply, model: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": reply.text,
                    **(
                        {"reasoning_content": reply.reasoning_content}
                        if reply.reasoning_content is not None
                        else {}
                    ),
                },
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def _stream_events(reply: Reply, model: str, usage: dict[str, int] | None) -> Iterator[str]:
    """JSON payloads of the SSE events for one streamed completion."""
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return json.dumps(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [choice],
            }
        )

    yield chunk({"role": "assistant", "content": ""}, None)
    if reply.reasoning_content:
        yield chunk({"reasoning_content": reply.reasoning_content}, None)
    for piece in reply.pieces():
        yield chunk({"content": piece}, None)
    yield chunk({}, reply.finish_reason)
    if usage is not None:
        # Like the real API: a last chunk with no choices carries the usage.
        yield json.dumps(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
        )


# -- scripted behaviours: what real models were seen to do ---------------------------

_FACTS = re.compile(r"Facts from the structured records[^\n]*\n(.*?)</evidence>", re.S)
_MARKS = re.compile(r"\[(\d+)\]")
#: The fixed refusal sentence (as imr_assist.constants.CANNOT_ANSWER).
REFUSAL = "The indexed letters do not answer this question."


def _user_prompt(request: RecordedRequest) -> str:
    users = [m for m in request.messages if m.get("role") == "user"]
    return str(users[0].get("content", "")) if users else ""


def _wants_json(request: RecordedRequest) -> bool:
    return isinstance(request.body, dict) and request.body.get("response_format") is not None


def prompt_facts(request: RecordedRequest) -> list[tuple[str, list[int]]]:
    """The fact lines of an answer prompt, without their markers, and the [n] they cite."""
    m = _FACTS.search(_user_prompt(request))
    out = []
    for line in (m.group(1) if m else "").splitlines():
        nums = [int(n) for n in _MARKS.findall(line)]
        text = _MARKS.sub("", line).strip(" -")
        if text and nums:
            out.append((text, nums))
    return out


def follow_facts(request: RecordedRequest) -> Reply:
    """A model that follows the rules: one sentence per fact, citing the fact's excerpts;
    JSON when JSON was asked for, else prose with ``[n]``."""
    facts = prompt_facts(request)
    if _wants_json(request):
        return Reply.json({"sentences": [{"text": t, "excerpts": n} for t, n in facts]})
    return Reply(content="\n".join(t + " " + "".join(f"[{i}]" for i in n) for t, n in facts))


def no_markers(request: RecordedRequest) -> Reply:
    """Prose restating the facts with no ``[n]`` at all, as the 1.5B model wrote."""
    return Reply(content=" ".join(t.rstrip(".") + "." for t, _ in prompt_facts(request)))


def refuse(request: RecordedRequest) -> Reply:
    """The fixed refusal, in the form asked for."""
    if _wants_json(request):
        return Reply.json({"sentences": [{"text": REFUSAL, "excerpts": [1]}]})
    return Reply(content=REFUSAL)


def think(
    inner: Callable[[RecordedRequest], Reply], thought: str = "Let me look at excerpt 99."
) -> Callable[[RecordedRequest], Reply]:
    """``inner``'s reply after a ``<think>`` block, as a reasoning model writes it."""

    def behaviour(request: RecordedRequest) -> Reply:
        reply = inner(request)
        reply.content = f"<think>\n{thought}\n</think>\n\n{reply.text}"
        reply.chunks = None
        return reply

    return behaviour


@pytest.fixture
def openai_server() -> Iterator[OpenAITestServer]:
    """A running scriptable server accepting ``DEFAULT_API_KEY``; stopped at teardown."""
    server = OpenAITestServer().start()
    try:
        yield server
    finally:
        server.stop()
