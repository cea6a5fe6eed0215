"""The vector store: Chroma, embedded (PersistentClient) or a server (HttpClient)."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from imr_assist.constants import COLLECTION_NAME
from imr_assist.errors import ConfigError, IndexStateError
from imr_assist.urls import redact_url

if TYPE_CHECKING:
    import numpy as np

# Chroma sends anonymous telemetry unless told not to; users work offline with
# confidential letters, so it is off before chromadb is imported anywhere.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class StoreLock(Protocol):
    """Shared for reading the embedded store, exclusive for writing it (``IndexLock``)."""

    def shared(self) -> AbstractContextManager[None]: ...

    def exclusive(self) -> AbstractContextManager[None]: ...


class _NoLock:
    def shared(self) -> AbstractContextManager[None]:
        return nullcontext()

    def exclusive(self) -> AbstractContextManager[None]:
        return nullcontext()


class VectorStore:
    """One Chroma collection of chunk vectors with cosine distance.

    With ``lock``, every call that opens, reads or writes the embedded store holds
    it (shared to read, exclusive to write), so other processes can use the same
    folder at the same time.
    """

    def __init__(
        self, path: Path | None = None, url: str | None = None, lock: StoreLock | None = None
    ) -> None:
        self.lock: StoreLock = lock or _NoLock()
        with self.lock.shared():
            self._open(path, url)

    def _open(self, path: Path | None, url: str | None) -> None:
        import chromadb

        settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=True)
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            if not parsed.hostname:
                raise ConfigError(
                    f"chroma_url {redact_url(url)!r} is not a URL like http://127.0.0.1:8000"
                )
            try:
                self.client: Any = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
                self.client.heartbeat()
            except Exception as err:  # noqa: BLE001 - any connect failure means the same to a user
                raise IndexStateError(
                    f"cannot reach the Chroma server at {redact_url(url)} ({type(err).__name__}); "
                    "start it with `chroma run --path DIR --port PORT`"
                ) from None
            self.where = redact_url(url)
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
            self.where = str(path)
        self.collection = self.client.get_or_create_collection(
            COLLECTION_NAME, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def upsert(
        self, ids: list[str], vectors: np.ndarray, documents: list[str], metadatas: list[dict]
    ) -> None:
        # Chroma caps one call's size; stay well under it.
        step = 2000
        with self.lock.exclusive():
            for i in range(0, len(ids), step):
                self.collection.upsert(
                    ids=ids[i : i + step],
                    embeddings=vectors[i : i + step],
                    documents=documents[i : i + step],
                    metadatas=metadatas[i : i + step],
                )

    def delete(self, ids: list[str]) -> None:
        with self.lock.exclusive():
            for i in range(0, len(ids), 2000):
                if ids[i : i + 2000]:
                    self.collection.delete(ids=ids[i : i + 2000])

    def query(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks matching ``where``."""
        with self.lock.shared():
            # No count() first: Chroma returns fewer than ``n`` (or none) by itself, and
            # counting cost as much as a third of the query (14 of 45 ms at 1,300 letters).
            res = self.collection.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=n,
                where=where or None,
                include=["distances"],
            )
        return [
            (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def nearest_among(self, vector: np.ndarray, ids: list[str], n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` chunks among ``ids`` nearest
        ``vector``, scored exactly (for a few hundred ids, faster than a filtered search)."""
        import numpy as np

        if not ids:
            return []
        with self.lock.shared():
            got = self.collection.get(ids=ids, include=["embeddings"])
        if not got["ids"]:
            return []
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        sims = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query) + 1e-12)
        order = sorted(range(len(sims)), key=lambda j: (-float(sims[j]), got["ids"][j]))[:n]
        return [(got["ids"][j], float(sims[j])) for j in order]

    def count(self) -> int:
        with self.lock.shared():
            return int(self.collection.count())

    def ids(self) -> list[str]:
        """Every stored chunk id."""
        with self.lock.shared():
            return list(self.collection.get(include=[])["ids"])

    def reset(self) -> None:
        with self.lock.exclusive():
            self.client.delete_collection(COLLECTION_NAME)
            self.collection = self.client.get_or_create_collection(
                COLLECTION_NAME,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
