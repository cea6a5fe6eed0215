"""The index as one object: catalog, vector store, lexical index and embedder."""

from __future__ import annotations

import json
import shutil
from functools import cached_property
from pathlib import Path

import numpy as np

from imr_assist.errors import IndexStateError
from imr_assist.index.catalog import SCHEMA_VERSION, Catalog
from imr_assist.index.embed import Embedder, make_embedder
from imr_assist.index.store import VectorStore
from imr_assist.settings import Settings

CATALOG_FILE = "catalog.sqlite"
CHROMA_DIR = "chroma"
BM25_DIR = "bm25"


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        return make_embedder(
            "openai",
            model=settings.embed_api_model,
            base_url=settings.embed_base_url or settings.openai_base_url,
            api_key=settings.api_key(),
        )
    return make_embedder("onnx", model_path=settings.embed_model_path)


class Index:
    """Open with ``Index.open(settings)``; everything heavy loads on first use."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self.catalog = catalog
        self._bm25: tuple[object, list[str]] | None = None

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> Index:
        root = settings.index_dir
        cat = root / CATALOG_FILE
        if not create and not cat.exists():
            raise IndexStateError(
                f"no index at {root}; build one with `imr-assist ingest PATH --index {root}`"
            )
        catalog = Catalog(cat)
        if catalog.get_meta("schema") not in (None, SCHEMA_VERSION):
            raise IndexStateError(
                f"index at {root} has an older layout; rebuild it with `imr-assist ingest --reset`"
            )
        catalog.set_meta("schema", SCHEMA_VERSION)
        return cls(settings, catalog)

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        return VectorStore(path=self.root / CHROMA_DIR, url=self.settings.chroma_url)

    # --- embedder identity -------------------------------------------------------
    def ensure_embedder_matches(self) -> None:
        """Record the embedder on first use; refuse to mix vectors from two models."""
        recorded = self.catalog.get_meta("embedder")
        name = self.embedder.name
        if recorded is None:
            self.catalog.set_meta("embedder", name)
        elif recorded != name:
            raise IndexStateError(
                f"index at {self.root} was built with embedder {recorded!r}, not {name!r}; "
                "use the same embedder settings, or rebuild with `imr-assist ingest PATH --reset`"
            )

    def query_vector(self, text: str) -> np.ndarray:
        self.ensure_embedder_matches()
        return self.embedder.embed([text])[0]

    # --- maintenance -------------------------------------------------------------
    def reset(self) -> None:
        self.store.reset()
        self.catalog.close()
        for name in (CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm"):
            (self.root / name).unlink(missing_ok=True)
        shutil.rmtree(self.root / BM25_DIR, ignore_errors=True)
        self.catalog = Catalog(self.root / CATALOG_FILE)
        self.catalog.set_meta("schema", SCHEMA_VERSION)
        self._bm25 = None

    def cleanup_orphans(self) -> None:
        orphans = self.catalog.pending_orphans()
        if orphans:
            self.store.delete(orphans)
        self.catalog.clear_pending()

    # --- lexical index ------------------------------------------------------------
    def rebuild_lexical(self) -> None:
        """Rebuild BM25 over every committed chunk and save it beside the catalog."""
        import bm25s

        rows = self.catalog.all_chunks()
        ids = [r[0] for r in rows]
        target = self.root / BM25_DIR
        tmp = self.root / (BM25_DIR + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if rows:
            retriever = bm25s.BM25()
            retriever.index(
                bm25s.tokenize([r[1] for r in rows], stopwords="en", show_progress=False),
                show_progress=False,
            )
            retriever.save(str(tmp))
        (tmp / "ids.json").write_text(json.dumps(ids))
        # Swap in the new index whole, so a reader never sees half of one.
        old = self.root / (BM25_DIR + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        self._bm25 = None

    def lexical_scores(self, query: str) -> dict[str, float]:
        """BM25 score of every chunk with a non-zero score."""
        import bm25s

        if self._bm25 is None:
            target = self.root / BM25_DIR
            ids_file = target / "ids.json"
            if not ids_file.exists():
                return {}
            ids = json.loads(ids_file.read_text())
            if not ids:
                return {}
            self._bm25 = (bm25s.BM25.load(str(target)), ids)
        retriever, ids = self._bm25
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        vocab = tokens.vocab
        inv = {v: k for k, v in vocab.items()}
        words = [inv[t] for t in tokens.ids[0] if t in inv]
        if not words:
            return {}
        scores = retriever.get_scores(words)  # type: ignore[attr-defined]
        nz = np.nonzero(scores)[0]
        return {ids[i]: float(scores[i]) for i in nz}

    def close(self) -> None:
        self.catalog.close()


def index_path_exists(path: Path) -> bool:
    return (path / CATALOG_FILE).exists()
