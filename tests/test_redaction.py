"""URLs lose their credentials wherever they are stored or shown (``imr_assist.urls``).

A sentinel key is put in the userinfo and the query string of the embeddings,
LLM and Chroma URLs; it must not reach the catalog, an error message, a repr or
a log line, while the URL's host (IPv6 brackets included), port and path stay.
"""

from __future__ import annotations

import logging
import socket

import pytest

from imr_assist.answer.llm_client import LLMClient, LLMConfig
from imr_assist.errors import ImrError, IndexStateError
from imr_assist.index.embed import OpenAIEmbedder
from imr_assist.index.index import Index
from imr_assist.index.store import VectorStore
from imr_assist.settings import Settings
from imr_assist.urls import redact_url, redact_urls_in

SENTINEL = "sk-test-SENTINEL-URL-77"


@pytest.mark.parametrize(
    "url, shown",
    [
        pytest.param("https://api.example.test/v1", "https://api.example.test/v1", id="plain"),
        pytest.param(
            f"https://user:{SENTINEL}@api.example.test/v1",
            "https://api.example.test/v1",
            id="userinfo",
        ),
        pytest.param(
            f"https://api.example.test/v1?api-key={SENTINEL}&x=1",
            "https://api.example.test/v1",
            id="query",
        ),
        pytest.param(
            f"http://{SENTINEL}@gpu-host:8080/v1/#frag", "http://gpu-host:8080/v1", id="user-only"
        ),
        pytest.param(
            f"http://u:{SENTINEL}@[::1]:8080/v1?key={SENTINEL}", "http://[::1]:8080/v1", id="ipv6"
        ),
        pytest.param("http://[fe80::1%25eth0]/v1/", "http://[fe80::1%25eth0]/v1", id="ipv6-zone"),
        pytest.param(f"127.0.0.1:8000?token={SENTINEL}", "127.0.0.1:8000", id="no-scheme"),
        pytest.param(f"http://[::1:{SENTINEL}", "<invalid URL>", id="unparsable"),
        pytest.param("http://h:99999/v1", "<invalid URL>", id="bad-port"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_urls_in_text() -> None:
    text = (
        f"POST https://u:{SENTINEL}@h.test/v1/embeddings?api-key={SENTINEL} failed; "
        f"retry ('http://[::1]:9/v1?k={SENTINEL}')"
    )
    assert redact_urls_in(text) == (
        "POST https://h.test/v1/embeddings failed; retry ('http://[::1]:9/v1')"
    )


def test_embedder_name_and_repr_hold_no_key() -> None:
    emb = OpenAIEmbedder(
        "m", base_url=f"https://user:{SENTINEL}@example.test/v1/?api-key={SENTINEL}", api_key="k"
    )
    assert emb.name == "openai:m@https://example.test/v1"
    assert SENTINEL not in repr(emb)


def _embed_settings(tmp_path, url: str) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        index_dir=tmp_path / "ix", embedder="openai", embed_api_model="m", embed_base_url=url
    )


def test_catalog_stores_the_embeddings_url_without_its_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"http://user:{SENTINEL}@127.0.0.1:9/v1?api-key={SENTINEL}"
    idx = Index.open(_embed_settings(tmp_path, url), create=True)
    try:
        idx.ensure_embedder_matches()
        assert idx.catalog.get_meta("embedder") == "openai:m@http://127.0.0.1:9/v1"
    finally:
        idx.close()


def test_embedder_mismatch_error_holds_no_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    idx = Index.open(
        _embed_settings(tmp_path, f"http://10.0.0.2:9/v1?api-key={SENTINEL}"), create=True
    )
    try:
        # An index written before URLs were redacted, by another endpoint.
        idx.catalog.set_meta("embedder", f"openai:m@http://10.0.0.1:9/v1?api-key={SENTINEL}")
        with pytest.raises(IndexStateError) as caught:
            idx.ensure_embedder_matches()
        message = str(caught.value)
        assert SENTINEL not in message
        assert "'openai:m@http://10.0.0.1:9/v1'" in message
        assert "'openai:m@http://10.0.0.2:9/v1'" in message
    finally:
        idx.close()


def test_an_old_catalog_name_with_a_key_is_rewritten(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"http://10.0.0.1:9/v1?api-key={SENTINEL}"
    idx = Index.open(_embed_settings(tmp_path, url), create=True)
    try:
        idx.catalog.set_meta("embedder", f"openai:m@{url}")  # the same endpoint, stored raw
        idx.ensure_embedder_matches()
        assert idx.catalog.get_meta("embedder") == "openai:m@http://10.0.0.1:9/v1"
    finally:
        idx.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_embeddings_endpoint_errors_hold_no_key(caplog: pytest.LogCaptureFixture) -> None:
    port = _closed_port()
    emb = OpenAIEmbedder(
        "m",
        base_url=f"http://u:{SENTINEL}@127.0.0.1:{port}/v1?api-key={SENTINEL}",
        api_key="k",
        max_retries=0,
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ImrError) as caught:
        emb.embed(["hello"])
    assert f"127.0.0.1:{port}/v1" in str(caught.value)
    assert SENTINEL not in str(caught.value)
    assert SENTINEL not in caplog.text


def test_llm_endpoint_errors_and_reprs_hold_no_key(caplog: pytest.LogCaptureFixture) -> None:
    port = _closed_port()
    config = LLMConfig(
        model="m",
        base_url=f"http://u:{SENTINEL}@127.0.0.1:{port}/v1?api-key={SENTINEL}",
        api_key="k",
        max_retries=0,
    )
    assert SENTINEL not in repr(config)
    with LLMClient(config) as client:
        assert SENTINEL not in repr(client)
        with caplog.at_level(logging.DEBUG), pytest.raises(ImrError) as caught:
            client.complete([{"role": "user", "content": "hi"}])
    assert f"127.0.0.1:{port}/v1" in str(caught.value)
    assert SENTINEL not in str(caught.value)
    assert SENTINEL not in caplog.text


def test_chroma_url_errors_hold_no_key() -> None:
    port = _closed_port()
    url = f"http://u:{SENTINEL}@127.0.0.1:{port}/?token={SENTINEL}"
    with pytest.raises(IndexStateError) as caught:
        VectorStore(url=url)
    message = str(caught.value)
    assert message.startswith(f"cannot reach the Chroma server at http://127.0.0.1:{port} (")
    assert SENTINEL not in message
