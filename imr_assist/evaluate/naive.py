"""The naive baseline: what a generic retrieval-augmented setup would do with these letters.

Whole letters are cut with langchain's ``RecursiveCharacterTextSplitter`` (1000
characters, 200 overlap), embedded with the project's embedder into a Chroma
collection of their own, searched by plain vector similarity with no filters, and
"answered" by showing the top passages, each cited. There is no parsing: no items,
no decisions, no reasons. Its citations are verbatim by construction (each is a
slice of the letter text with its offsets), and it never declines to answer.

``pad_to`` pads every input to a fixed number of tokens, as Chroma's own default
embedder does (256), for benchmarks that want that cost; the vectors are the same
up to float rounding, since padding is masked out of the pooling.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imr_assist.errors import ConfigError, LetterError
from imr_assist.evaluate.corpus import text_sha256
from imr_assist.index.embed import TOKENIZER_PATH, Embedder, OnnxMiniLMEmbedder, default_embedder
from imr_assist.models import Answer, Citation
from imr_assist.parse.loaders import expand_paths, read_letter_text
from imr_assist.text import clean

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

COLLECTION = "naive_chunks"
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 5


@dataclass
class NaiveHit:
    doc_id: str
    source: str
    start: int
    end: int
    text: str
    score: float


@dataclass
class NaiveIngestReport:
    letters: int = 0
    duplicates: int = 0
    chunks: int = 0
    failures: list[LetterError] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0


class PaddedMiniLM:
    """all-MiniLM-L6-v2 with every input padded to ``pad_to`` tokens, like Chroma's embedder."""

    def __init__(self, base: OnnxMiniLMEmbedder, pad_to: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if pad_to < 1:
            raise ConfigError(f"pad_to must be a positive number of tokens, got {pad_to}")
        self.pad_to = pad_to
        self.max_tokens = base.max_tokens
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self.tokenizer.enable_truncation(max_length=base.max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=max(pad_to, 1))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = base.num_threads
        self.session = ort.InferenceSession(
            str(base.model_path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.batch_size = base.batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            encs = self.tokenizer.encode_batch(texts[start : start + self.batch_size])
            # Texts longer than pad_to are truncated to max_tokens; pad the batch to its widest.
            width = max(len(e.ids) for e in encs)
            ids = np.zeros((len(encs), width), dtype=np.int64)
            mask = np.zeros((len(encs), width), dtype=np.int64)
            for r, e in enumerate(encs):
                ids[r, : len(e.ids)] = e.ids
                mask[r, : len(e.attention_mask)] = e.attention_mask
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            tokens = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[start : start + len(encs)] = pooled / norms
        return out


class NaivePipeline:
    """Split, embed, store and search whole letters; answer with the top passages.

    ``root`` is the folder of its own Chroma store (a temporary folder, removed by
    ``close()``, when not given).
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        embedder: Embedder | None = None,
        chunk_size: int = CHUNK_SIZE,
        chunk_overlap: int = CHUNK_OVERLAP,
        top_k: int = TOP_K,
        pad_to: int | None = None,
    ) -> None:
        import chromadb
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="imr-naive-")
            root = Path(self._tmp.name)
        self.root = root
        self.embedder = embedder or default_embedder()
        self.pad_to = pad_to
        self._padded: PaddedMiniLM | None = None
        if pad_to is not None:
            if not isinstance(self.embedder, OnnxMiniLMEmbedder):
                raise ConfigError(
                    "pad_to needs the bundled ONNX embedder (IMR_ASSIST_EMBEDDER=onnx)"
                )
            self._padded = PaddedMiniLM(self.embedder, pad_to)
        self.top_k = top_k
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True
        )
        root.mkdir(parents=True, exist_ok=True)
        self.client: Any = chromadb.PersistentClient(
            path=str(root),
            settings=chromadb.config.Settings(anonymized_telemetry=False, allow_reset=True),
        )
        self.collection: Any = self.client.get_or_create_collection(
            COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        #: doc_id -> (source, sha256) of every ingested letter
        self.letters: dict[str, tuple[str, str]] = {}
        self._by_sha: dict[str, str] = {}

    def settings(self) -> dict[str, Any]:
        return {
            "splitter": "RecursiveCharacterTextSplitter",
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "top_k": self.top_k,
            "pad_to": self.pad_to,
            "embedder": getattr(self.embedder, "name", type(self.embedder).__name__),
        }

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._padded is not None:
            return self._padded.embed(texts)
        return self.embedder.embed(texts)

    def ingest(self, paths: Sequence[str | Path]) -> NaiveIngestReport:
        """Split and embed every letter under ``paths``; a text seen before is skipped."""
        t0 = time.perf_counter()
        report = NaiveIngestReport()
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for src in expand_paths(list(paths), on_error=report.failures.append):
            try:
                text = read_letter_text(src.path, src.display)
            except LetterError as err:
                report.failures.append(err)
                continue
            sha = text_sha256(text)
            if sha in self._by_sha:
                report.duplicates += 1
                continue
            doc_id = src.path.stem
            if doc_id in self.letters:
                doc_id = f"{doc_id}~{sha[:8]}"
            self.letters[doc_id] = (src.display, sha)
            self._by_sha[sha] = doc_id
            report.letters += 1
            for n, doc in enumerate(self.splitter.create_documents([text])):
                start = int(doc.metadata["start_index"])
                ids.append(f"{doc_id}:{n}")
                texts.append(doc.page_content)
                metas.append(
                    {
                        "doc_id": doc_id,
                        "source": src.display,
                        "start": start,
                        "end": start + len(doc.page_content),
                    }
                )
        te = time.perf_counter()
        vectors = self.embed(texts) if texts else np.zeros((0, 384), dtype=np.float32)
        report.embed_seconds = time.perf_counter() - te
        for i in range(0, len(ids), 2000):
            self.collection.add(
                ids=ids[i : i + 2000],
                embeddings=vectors[i : i + 2000],
                documents=texts[i : i + 2000],
                metadatas=metas[i : i + 2000],
            )
        report.chunks = len(ids)
        report.seconds = time.perf_counter() - t0
        return report

    def doc_sha(self, doc_id: str) -> str | None:
        entry = self.letters.get(doc_id)
        return entry[1] if entry else None

    def search(self, question: str, k: int = TOP_K) -> list[NaiveHit]:
        """The ``k`` passages most similar to the question (cosine), no filters."""
        total = self.collection.count()
        if total == 0:
            return []
        vector = self.embed([question])[0]
        res = self.collection.query(
            query_embeddings=vector.reshape(1, -1),
            n_results=min(k, total),
            include=["documents", "metadatas", "distances"],
        )
        return [
            NaiveHit(
                doc_id=str(meta["doc_id"]),
                source=str(meta["source"]),
                start=int(meta["start"]),
                end=int(meta["end"]),
                text=str(doc),
                score=1.0 - float(dist),
            )
            for doc, meta, dist in zip(
                res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
            )
        ]

    def compose(self, question: str, hits: Sequence[NaiveHit]) -> Answer:
        """The answer: the passages one after another, each with its citation mark."""
        citations = [
            Citation(
                n=n,
                doc_id=h.doc_id,
                source=h.source,
                quote=clean(h.text).strip(),
                start=h.start,
                end=h.end,
            )
            for n, h in enumerate(hits, 1)
        ]
        text = "\n\n".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(
            question=question, answer=text, answered=True, mode="naive", citations=citations
        )

    def answer(self, question: str) -> Answer:
        return self.compose(question, self.search(question, self.top_k))

    def close(self) -> None:
        """Release the store; a temporary folder is removed."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> NaivePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
