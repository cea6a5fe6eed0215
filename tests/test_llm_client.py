"""LLMClient against a real local OpenAI-compatible server, through the real openai client."""

from __future__ import annotations

import base64
import json
import logging
import socket
import struct
import time
import urllib.request

import openai
import pytest

from imr_assist.answer.llm_client import LLMClient, LLMConfig, LLMReply, LLMRequestError
from imr_assist.errors import ConfigError, LLMError
from tests.openai_server import (
    EMBEDDING_DIM,
    OpenAITestServer,
    Reply,
    embedding_for,
    openai_server,  # noqa: F401 - pytest fixture used by name
)

SENTINEL_KEY = "sk-test-SENTINEL-42"
MESSAGES = [
    {"role": "system", "content": "You answer questions about IMR letters."},
    {"role": "user", "content": "Was the MRI approved?"},
]


def make_client(server: OpenAITestServer, **overrides: object) -> LLMClient:
    """A client for ``server`` (whose error replies ask for a 1 ms wait before a retry)."""
    settings: dict[str, object] = {
        "model": "test-model",
        "base_url": server.base_url,
        "api_key": server.api_key,
        "timeout": 5.0,
        "max_retries": 3,
    }
    settings.update(overrides)
    return LLMClient(LLMConfig(**settings))  # type: ignore[arg-type]


@pytest.fixture
def sentinel_server(openai_server: OpenAITestServer) -> OpenAITestServer:  # noqa: F811
    """The server, accepting only the sentinel key, to prove the key never leaks."""
    openai_server.api_key = SENTINEL_KEY
    return openai_server


def assert_no_key(*texts: str) -> None:
    for text in texts:
        assert SENTINEL_KEY not in text


# -- success paths -------------------------------------------------------------------


def test_complete_returns_text_usage_and_sends_prompt(
    openai_server: OpenAITestServer,  # noqa: F811
) -> None:
    openai_server.script(
        [Reply(content="Yes, approved.", usage={"prompt_tokens": 11, "completion_tokens": 3})]
    )
    with make_client(openai_server) as client:
        reply = client.complete(MESSAGES)

    assert reply == LLMReply(
        text="Yes, approved.",
        usage={"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
        finish_reason="stop",
    )
    (request,) = openai_server.chat_requests
    assert request.messages == MESSAGES
    assert request.body["model"] == "test-model"
    assert request.body["temperature"] == 0.0
    assert not request.body.get("stream")
    assert request.headers["authorization"] == f"Bearer {openai_server.api_key}"


def test_stream_yields_pieces_in_order_and_usage(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.script([Reply(chunks=["The ", "MRI ", "was ", "approved."])])
    pieces: list[str] = []
    with make_client(openai_server) as client:
        reply = client.stream(MESSAGES, pieces.append)

    assert pieces == ["The ", "MRI ", "was ", "approved."]
    assert reply.text == "The MRI was approved."
    assert reply.usage["completion_tokens"] == 4
    assert reply.usage["total_tokens"] == reply.usage["prompt_tokens"] + 4 > 4
    (request,) = openai_server.chat_requests
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


def test_stream_without_usage_support_falls_back(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.script(
        [
            Reply(status=400, error_message="Unrecognized request argument: stream_options"),
            Reply(content="ok then"),
        ]
    )
    with make_client(openai_server) as client:
        reply = client.stream(MESSAGES, lambda _piece: None)

    assert reply.text == "ok then"
    assert reply.usage == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert "stream_options" not in openai_server.chat_requests[1].body


def test_default_reply_when_script_is_exhausted(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.default_content = "fallback text"
    with make_client(openai_server) as client:
        assert client.complete(MESSAGES).text == "fallback text"


# -- retries -------------------------------------------------------------------------


def test_429_is_sent_again_by_the_openai_client_and_reported(
    openai_server: OpenAITestServer,  # noqa: F811
) -> None:
    openai_server.script(
        [Reply(status=429, headers={"retry-after-ms": "1"}), Reply(content="done")]
    )
    with make_client(openai_server) as client:
        reply = client.complete(MESSAGES)

    assert reply.text == "done"
    assert (reply.attempts, reply.resent) == (
        2,
        ["is rate limiting requests (HTTP 429: scripted HTTP 429)"],
    )
    # The re-send is the openai client's own retry, counted in its header.
    assert [r.headers["x-stainless-retry-count"] for r in openai_server.chat_requests] == ["0", "1"]


def test_500_twice_then_success(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.script([Reply(status=500), Reply(status=503), Reply(content="third time")])
    with make_client(openai_server) as client:
        assert client.complete(MESSAGES).text == "third time"
    assert len(openai_server.chat_requests) == 3


def test_stream_retries_before_any_text(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.script([Reply(status=502), Reply(content="a b")])
    pieces: list[str] = []
    with make_client(openai_server) as client:
        assert client.stream(MESSAGES, pieces.append).text == "a b"
    assert pieces == ["a ", "b"]
    assert len(openai_server.chat_requests) == 2


def test_persistent_500_gives_up_after_max_retries(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.script([Reply(status=500)] * 10)
    with make_client(openai_server, max_retries=3) as client:
        with pytest.raises(LLMError) as caught:
            client.complete(MESSAGES)

    assert len(openai_server.chat_requests) == 4
    err = caught.value
    assert isinstance(err, LLMRequestError)
    assert (err.kind, err.status, err.attempts) == ("server", 500, 4)
    message = str(err)
    assert "\n" not in message
    assert openai_server.base_url in message
    assert "test-model" in message
    assert "HTTP 500" in message and "(4 attempts)" in message


def test_a_wait_past_two_minutes_is_not_retried(openai_server: OpenAITestServer) -> None:  # noqa: F811
    # The openai client honours Retry-After up to two minutes; a server asking for an
    # hour is told no, at once, rather than holding the user for an hour.
    openai_server.script([Reply(status=429, headers={"Retry-After": "3600"}), Reply(content="ok")])
    with make_client(openai_server) as client, pytest.raises(LLMRequestError) as caught:
        client.complete(MESSAGES)
    assert caught.value.kind == "rate_limit" and caught.value.attempts == 1
    assert len(openai_server.chat_requests) == 1


def test_an_injected_http_client_carries_the_requests_and_stays_open(
    openai_server: OpenAITestServer,  # noqa: F811
) -> None:
    import httpx2

    seen: list[str] = []
    with httpx2.Client(
        headers={"x-proxy-tag": "ward-7"},
        event_hooks={"request": [lambda r: seen.append(r.url.path)]},
    ) as http:
        openai_server.script([Reply(status=503), "ok"])
        with LLMClient(
            LLMConfig(
                model="test-model", base_url=openai_server.base_url, api_key=openai_server.api_key
            ),
            http_client=http,
        ) as client:
            reply = client.complete(MESSAGES)
        assert not http.is_closed  # the caller's client is the caller's to close
        assert (reply.text, reply.attempts) == ("ok", 2)
        assert reply.resent == ["had a server error (HTTP 503: scripted HTTP 503)"]
        assert seen == ["/v1/chat/completions"] * 2  # the caller's own hooks still run
        assert all(r.headers["x-proxy-tag"] == "ward-7" for r in openai_server.chat_requests)


def test_timeout_raises_within_bounded_time(openai_server: OpenAITestServer) -> None:  # noqa: F811
    # The server would answer after 30 s: far past the client's 0.5 s timeout however
    # loaded the machine is, so only a client that gave up finishes well before that.
    openai_server.script([Reply(delay=30, content="too late")] * 2)
    with make_client(openai_server, timeout=0.5, max_retries=1) as client:
        started = time.monotonic()
        with pytest.raises(LLMError) as caught:
            client.complete(MESSAGES)
        elapsed = time.monotonic() - started

    assert "timed out" in str(caught.value)
    assert caught.value.kind == "timeout"  # type: ignore[attr-defined]
    assert len(openai_server.chat_requests) == 2
    assert elapsed < 20  # two 0.5 s attempts plus backoff, never the server's 30 s


def test_stream_not_retried_after_text_was_delivered(openai_server: OpenAITestServer) -> None:  # noqa: F811
    # The first piece arrives, then the server stalls past the timeout: retrying would
    # hand the caller "The " twice, so the client must give up instead.
    openai_server.script([Reply(content="The MRI was approved.", chunk_delay=30)])
    pieces: list[str] = []
    with make_client(openai_server, timeout=0.3, max_retries=3) as client:
        with pytest.raises(LLMError, match="timed out"):
            client.stream(MESSAGES, pieces.append)
    assert pieces == ["The "]
    assert len(openai_server.chat_requests) == 1


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    config = LLMConfig(
        model="test-model",
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key=SENTINEL_KEY,
        max_retries=1,
    )
    with LLMClient(config) as client, pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)
    assert "could not be reached" in str(caught.value)
    assert caught.value.attempts == 2  # type: ignore[attr-defined]
    assert_no_key(str(caught.value), repr(caught.value))


# -- failures that are not retried --------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(raw=b"not json"), "malformed"),
        (Reply(raw=b"<html>oops</html>", content_type="text/html"), "malformed"),
        (Reply(raw=b'{"id": "x", "object": "chat.completion"}'), "malformed"),
        (Reply(content=""), "returned an empty reply"),
        (Reply(content="   \n"), "returned an empty reply"),
    ],
    ids=["not-json", "html", "no-choices", "empty", "blank"],
)
def test_bad_replies_raise_without_retry(
    openai_server: OpenAITestServer,  # noqa: F811
    reply: Reply,
    expected: str,
) -> None:
    openai_server.script([reply, Reply(content="would succeed")])
    with make_client(openai_server) as client, pytest.raises(LLMError, match=expected):
        client.complete(MESSAGES)
    assert len(openai_server.chat_requests) == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(raw=b"data: {not json\n\n"), "malformed"),
        (Reply(content=""), "returned an empty reply"),
        (Reply(raw=b'data: {"error": {"message": "model crashed"}}\n\n'), "model crashed"),
    ],
    ids=["not-json", "empty", "error-event"],
)
def test_bad_streams_raise_without_retry(
    openai_server: OpenAITestServer,  # noqa: F811
    reply: Reply,
    expected: str,
) -> None:
    openai_server.script([reply, Reply(content="would succeed")])
    with make_client(openai_server) as client, pytest.raises(LLMError, match=expected):
        client.stream(MESSAGES, lambda _piece: None)
    assert len(openai_server.chat_requests) == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, "rejected the request"), (404, "base URL ends in /v1"), (403, "denied access")],
)
def test_client_errors_are_not_retried(
    openai_server: OpenAITestServer,  # noqa: F811
    status: int,
    expected: str,
) -> None:
    openai_server.script([Reply(status=status), Reply(content="would succeed")])
    with make_client(openai_server) as client, pytest.raises(LLMError, match=expected):
        client.complete(MESSAGES)
    assert len(openai_server.chat_requests) == 1


def test_on_delta_errors_propagate_unwrapped(openai_server: OpenAITestServer) -> None:  # noqa: F811
    def explode(_piece: str) -> None:
        raise ValueError("caller's own bug")

    with make_client(openai_server) as client, pytest.raises(ValueError, match="caller's own"):
        client.stream(MESSAGES, explode)
    assert len(openai_server.chat_requests) == 1


# -- the API key ---------------------------------------------------------------------


def test_wrong_key_is_an_authentication_error(
    openai_server: OpenAITestServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with make_client(openai_server, api_key=SENTINEL_KEY) as client:
        with pytest.raises(LLMError) as caught:
            client.complete(MESSAGES)
        with pytest.raises(LLMError) as caught_stream:
            client.stream(MESSAGES, lambda _piece: None)

    for err in (caught.value, caught_stream.value):
        assert "authentication" in str(err)
        assert err.status == 401  # type: ignore[attr-defined]
        assert_no_key(str(err), repr(err), str(err.args))
    assert len(openai_server.chat_requests) == 2  # 401 is not retried
    assert_no_key(caplog.text)


def test_sentinel_key_never_in_messages_or_reprs(
    sentinel_server: OpenAITestServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="imr_assist")
    # The server echoes the key in its error text; the client must scrub it.
    echo_500 = Reply(status=500, error_message=f"upstream refused key {SENTINEL_KEY}")
    sentinel_server.script(
        [
            echo_500,
            echo_500,  # retried once, then reported
            Reply(status=400, error_message=f"bad key {SENTINEL_KEY}"),
            Reply(raw=b"not json"),
            Reply(content=""),
            Reply(delay=1.0),
            Reply(delay=1.0),
        ]
    )
    config = LLMConfig(
        model="test-model",
        base_url=sentinel_server.base_url,
        api_key=SENTINEL_KEY,
        timeout=0.3,
        max_retries=1,
    )
    texts = [repr(config), str(config)]
    with LLMClient(config) as client:
        texts.append(repr(client))
        for _ in range(5):
            with pytest.raises(LLMError) as caught:
                client.complete(MESSAGES)
            texts += [str(caught.value), repr(caught.value)]
    # The echoed key was replaced, not the whole server message dropped.
    assert "upstream refused key ***" in texts[3]
    assert "bad key ***" in texts[5]
    assert_no_key(*texts, caplog.text)
    assert "'***'" in repr(config)


# -- configuration -------------------------------------------------------------------


def test_no_key_and_no_base_url_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError) as caught:
        LLMClient(LLMConfig(model="gpt-4o-mini"))
    message = str(caught.value)
    for hint in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "--llm none"):
        assert hint in message


def test_local_server_without_key_uses_placeholder(
    openai_server: OpenAITestServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    openai_server.api_key = "not-needed"
    with make_client(openai_server, api_key=None) as client:
        assert client.complete(MESSAGES).text
    assert openai_server.requests[0].headers["authorization"] == "Bearer not-needed"


def test_key_and_base_url_from_environment(
    sentinel_server: OpenAITestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", sentinel_server.base_url)
    with LLMClient(LLMConfig(model="test-model")) as client:
        assert client.endpoint == sentinel_server.base_url
        assert client.complete(MESSAGES).text
        assert_no_key(repr(client), repr(client.config))


def test_endpoint_shown_without_credentials() -> None:
    config = LLMConfig(model="m", base_url="http://user:pw@localhost:11434/v1?key=secret")
    client = LLMClient(config)
    assert client.endpoint == "http://localhost:11434/v1"
    client.close()


@pytest.mark.parametrize(
    "overrides", [{"model": " "}, {"timeout": 0.0}, {"max_retries": -1}], ids=str
)
def test_invalid_settings_are_config_errors(overrides: dict[str, object]) -> None:
    settings: dict[str, object] = {"model": "m", "base_url": "http://localhost:1/v1"}
    settings.update(overrides)
    with pytest.raises(ConfigError):
        LLMClient(LLMConfig(**settings))  # type: ignore[arg-type]


# -- the test server's embeddings endpoint ---------------------------------------


def test_server_embeddings_are_deterministic(openai_server: OpenAITestServer) -> None:  # noqa: F811
    client = openai.OpenAI(base_url=openai_server.base_url, api_key=openai_server.api_key)
    try:
        # The official client asks for base64 by default; ask for floats explicitly too.
        default = client.embeddings.create(model="e", input=["alpha", "beta"])
        floats = client.embeddings.create(model="e", input="alpha", encoding_format="float")
    finally:
        client.close()

    alpha, beta = (item.embedding for item in default.data)
    assert len(alpha) == len(beta) == EMBEDDING_DIM
    assert alpha != beta
    assert floats.data[0].embedding == pytest.approx(embedding_for("alpha"))
    assert alpha == pytest.approx(embedding_for("alpha"), abs=1e-6)
    assert sum(v * v for v in floats.data[0].embedding) == pytest.approx(1.0)
    assert openai_server.embedding_requests[0].body["input"] == ["alpha", "beta"]


def test_server_base64_embedding_layout(openai_server: OpenAITestServer) -> None:  # noqa: F811
    request = urllib.request.Request(
        f"{openai_server.base_url}/embeddings",
        data=json.dumps({"model": "e", "input": "x", "encoding_format": "base64"}).encode(),
        headers={
            "Authorization": f"Bearer {openai_server.api_key}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        payload = json.loads(response.read())
    packed = base64.b64decode(payload["data"][0]["embedding"])
    assert struct.unpack(f"<{EMBEDDING_DIM}f", packed) == pytest.approx(embedding_for("x"))


# -- real-model habits: reasoning, request options, re-sends, local timeouts ----------


@pytest.mark.parametrize(
    "reply, text",
    [
        pytest.param(
            Reply(content="<think>\nThe answer is [9].\n</think>\n\nThe MRI was approved."),
            "The MRI was approved.",
            id="think-block",
        ),
        pytest.param(
            Reply(content="The MRI was approved.", reasoning_content="Maybe it was denied?"),
            "The MRI was approved.",
            id="reasoning-content",
        ),
        pytest.param(
            Reply(content="<THINK>unfinished thought, cut off by max_tokens"),
            None,
            id="unclosed-think-is-empty",
        ),
    ],
)
def test_reasoning_is_never_part_of_the_text(
    openai_server: OpenAITestServer,  # noqa: F811
    reply: Reply,
    text: str | None,
) -> None:
    openai_server.script([reply])
    with make_client(openai_server) as client:
        if text is None:
            with pytest.raises(LLMRequestError) as info:
                client.complete(MESSAGES)
            assert info.value.kind == "empty"
        else:
            assert client.complete(MESSAGES).text == text


def test_think_block_is_never_streamed(openai_server: OpenAITestServer) -> None:  # noqa: F811
    # The tags are split across chunks, as a tokenizer splits them.
    chunks = ["<thi", "nk>I should cite", " [7].</th", "ink>\n\nThe MRI ", "was approved."]
    openai_server.script([Reply(chunks=chunks, reasoning_content="more thinking")])
    pieces: list[str] = []
    with make_client(openai_server) as client:
        reply = client.stream(MESSAGES, pieces.append)
    assert "".join(pieces) == "The MRI was approved."
    assert reply.text == "The MRI was approved."
    assert not any("think" in p or "cite" in p for p in pieces)


def test_response_format_and_max_tokens_are_sent_only_when_given(
    openai_server: OpenAITestServer,  # noqa: F811
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    openai_server.script(['{"a": 1}', "plain"])
    with make_client(openai_server) as client:
        assert client.complete(MESSAGES, response_format=fmt, max_tokens=64, temperature=0.3)
        client.complete(MESSAGES)
    first, second = (r.body for r in openai_server.chat_requests)
    assert first["response_format"] == fmt
    assert first["max_tokens"] == 64
    assert first["temperature"] == 0.3
    assert "response_format" not in second and "max_tokens" not in second
    assert second["temperature"] == 0.0


def test_reply_says_why_it_was_resent(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.script([Reply(delay=2), Reply(status=503), "ok"])
    with make_client(openai_server, timeout=0.5) as client:
        reply = client.complete(MESSAGES)
    assert reply.text == "ok"
    assert reply.attempts == 3
    assert reply.resent == [
        "timed out after 0.5s",
        "had a server error (HTTP 503: scripted HTTP 503)",
    ]


def test_reply_reports_a_cut_off(openai_server: OpenAITestServer) -> None:  # noqa: F811
    openai_server.script([Reply(content="The MRI was", finish_reason="length")])
    with make_client(openai_server) as client:
        reply = client.complete(MESSAGES)
    assert reply.finish_reason == "length" and reply.attempts == 1 and reply.resent == []


@pytest.mark.parametrize(
    "base_url, timeout",
    [
        pytest.param("http://127.0.0.1:8765/v1", 900.0, id="ipv4-loopback"),
        pytest.param("http://localhost:11434/v1", 900.0, id="localhost"),
        pytest.param("http://[::1]:8000/v1", 900.0, id="ipv6-loopback"),
        pytest.param("http://127.3.4.5:8000/v1", 900.0, id="loopback-range"),
        pytest.param("https://api.example.com/v1", 60.0, id="remote"),
        pytest.param("http://10.0.0.7:8000/v1", 60.0, id="private-but-not-local"),
        pytest.param(None, 60.0, id="openai"),
    ],
)
def test_default_timeout_is_longer_for_local_servers(base_url: str | None, timeout: float) -> None:
    from imr_assist.answer.llm_client import client_from_settings
    from imr_assist.settings import Settings

    settings = Settings(llm_model="m", openai_base_url=base_url, openai_api_key="k")
    with client_from_settings(settings) as client:
        assert client.config.timeout == timeout
    with client_from_settings(settings.model_copy(update={"llm_timeout": 7.0})) as client:
        assert client.config.timeout == 7.0
