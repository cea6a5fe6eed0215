"""The pipelined ingest: batches parsed, embedded and written on separate threads must
land exactly as a one-by-one ingest would put them, and a failure on a worker thread
must reach the caller instead of hanging or vanishing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imr_assist.index.index import Index
from imr_assist.index.ingest import BATCH_LETTERS, ingest
from imr_assist.settings import Settings
from imr_synth import generate

LETTERS = 3 * BATCH_LETTERS + 5  # several full batches and a partial one


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pipeline-corpus")
    generate(LETTERS, 11, out, questions=1, noise=0.0)
    return out / "letters"


def test_every_stored_vector_is_its_own_chunks_embedding(corpus: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    settings = Settings(index_dir=tmp_path / "ix")
    report = ingest([corpus], settings, progress=lambda done, total, _: seen.append(done))
    assert report.failed == 0 and report.letters_indexed == LETTERS
    assert seen == list(range(1, LETTERS + 1))  # every letter reported once, in order

    idx = Index.open(settings)
    try:
        rows = idx.catalog.db.execute("SELECT id, embed_text FROM chunks ORDER BY id").fetchall()
        assert len(rows) == report.chunks_embedded == idx.store.count()
        got = idx.store.collection.get(ids=[r[0] for r in rows], include=["embeddings"])
        stored = dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
        # Embedded one text at a time here, in batches of other letters' texts there:
        # the same vector up to float rounding, and never another chunk's.
        expected = idx.embedder.embed([text for _, text in rows])
        sims = np.array([stored[cid] @ expected[n] for n, (cid, _) in enumerate(rows)])
        assert sims.min() > 0.999
    finally:
        idx.close()


def test_a_failure_on_the_parsing_thread_reaches_the_caller(corpus: Path, tmp_path: Path) -> None:
    """The progress callback runs on the parsing thread: its exception must surface from
    ``ingest`` itself, with the letters of the batches written before it kept whole."""

    class Boom(Exception):
        pass

    def progress(done: int, total: int, current: str) -> None:
        if done == 2 * BATCH_LETTERS + 3:
            raise Boom(current)

    settings = Settings(index_dir=tmp_path / "ix")
    with pytest.raises(Boom):
        ingest([corpus], settings, progress=progress)
    idx = Index.open(settings)
    try:
        held = idx.catalog.count_letters()
        assert held == 2 * BATCH_LETTERS  # both batches made before the failure
        assert idx.store.count() == idx.catalog.chunk_count()
    finally:
        idx.close()
    again = ingest([corpus], settings)
    assert again.failed == 0 and again.letters_unchanged + again.letters_indexed == LETTERS
