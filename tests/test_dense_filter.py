"""Dense candidates filtered from the catalog give what Chroma's filtered search gives.

``dense_candidates`` takes the nearest chunks unfiltered and keeps those whose
metadata (the catalog's copy) passes the filter, or scores a few named letters' chunks
exactly; both must return the chunks Chroma's own ``where`` search returns, in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imr_assist.index.index import Index
from imr_assist.retrieve import hybrid
from imr_assist.retrieve.hybrid import _where_matches, dense_candidates
from imr_assist.retrieve.query import QueryFilters, parse_question
from imr_assist.settings import Settings

QUESTIONS = [
    pytest.param("Why are Norco requests upheld?", id="drug-and-decision"),
    pytest.param("Which opioid requests were overturned?", id="class-and-decision"),
    pytest.param("What was decided about tizanidine?", id="drug"),
    pytest.param("Which requests were upheld?", id="decision"),
]


@pytest.fixture(scope="module")
def index(sample_index: Path) -> Index:
    return Index.open(Settings(index_dir=sample_index))


def chroma_filtered(index: Index, question: str, n: int, f: QueryFilters) -> list[str]:
    vector = index.query_vector(question)
    return [cid for cid, _ in index.store.query(vector, n, f.chroma_where())]


@pytest.mark.parametrize("question", QUESTIONS)
def test_filtered_here_as_chroma_filters(index: Index, question: str) -> None:
    f = parse_question(question)
    assert f.chroma_where() is not None
    for n in (1, 2, 3, 50):  # few: kept from the unfiltered nearest; 50: Chroma filters
        got = dense_candidates(index, index.query_vector(question), n, f)
        assert [cid for cid, _ in got] == chroma_filtered(index, question, n, f), n


def test_named_letters_are_scored_exactly(index: Index) -> None:
    doc_ids = index.catalog.doc_ids()[:2]
    for f in (QueryFilters(doc_ids=doc_ids), QueryFilters(doc_ids=doc_ids, decision="upheld")):
        question = "Norco functional improvement"
        got = dense_candidates(index, index.query_vector(question), 5, f)
        assert [cid for cid, _ in got] == chroma_filtered(index, question, 5, f)
        want = dict(index.store.query(index.query_vector(question), 5, f.chroma_where()))
        for cid, sim in got:
            assert sim == pytest.approx(want[cid], abs=1e-5)


def test_the_catalog_metadata_passes_the_filters_chroma_passes(index: Index) -> None:
    metas = index.catalog.chunk_metadata(ids=index.catalog.all_chunk_ids())
    wheres = [parse_question(str(q.values[0])).chroma_where() for q in QUESTIONS]
    wheres += [
        {"doc_id": {"$in": index.catalog.doc_ids()[:1]}},
        {"guidelines": {"$contains": "MTUS"}},
        {"$or": [{"generic": {"$in": ["tizanidine"]}}, {"drug_class": {"$in": ["opioid"]}}]},
    ]
    for where in wheres:
        assert where is not None
        chroma = set(index.store.collection.get(where=where, include=[])["ids"])
        assert {cid for cid, m in metas.items() if _where_matches(m, where)} == chroma, where


def test_too_few_matches_nearby_falls_back_to_chroma(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no over-fetch, a selective filter finds too few among the nearest: Chroma's
    filtered search answers, and the result is the same."""
    monkeypatch.setattr(hybrid, "OVERFETCH", 1)
    question = "Why are Norco requests upheld?"
    f = parse_question(question)
    got = dense_candidates(index, index.query_vector(question), 4, f)
    assert [cid for cid, _ in got] == chroma_filtered(index, question, 4, f)


def test_filtered_vectors_come_from_the_catalog_copy(index: Index) -> None:
    """Every committed chunk's vector is kept in the catalog, equal to the store's."""
    ids = index.catalog.all_chunk_ids()
    got = index.catalog.vectors(ids)
    assert got is not None and got[0] == sorted(ids)
    stored = index.store.collection.get(ids=got[0], include=["embeddings"])
    by_id = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    for cid, row in zip(got[0], got[1], strict=True):
        assert row == pytest.approx(by_id[cid], abs=1e-7)
    assert index.catalog.chunks_without_vectors() == []


def test_an_index_without_the_copy_uses_the_store_until_the_next_ingest(
    sample_index: Path, tmp_path: Path
) -> None:
    """A catalog written before vectors were kept in it answers through Chroma, with
    the same chunks; the next ingest copies the store's vectors in."""
    import shutil

    from imr_assist.index.ingest import ingest
    from imr_assist.samples import samples_dir

    root = tmp_path / "old"
    shutil.copytree(sample_index, root)
    old = Index.open(Settings(index_dir=root))
    question = "Why are Norco requests upheld?"
    f = parse_question(question)
    want = chroma_filtered(old, question, 3, f)
    old.catalog.db.execute("DELETE FROM vector_rows")
    old.catalog.vector_file.remove()
    assert old.catalog.vectors(want) is None
    assert [c for c, _ in dense_candidates(old, old.query_vector(question), 3, f)] == want
    old.close()
    ingest([samples_dir()], Settings(index_dir=root))  # every letter unchanged
    again = Index.open(Settings(index_dir=root))
    try:
        assert again.catalog.chunks_without_vectors() == []
        assert "store" not in again.__dict__
        got = dense_candidates(again, again.query_vector(question), 3, f)
        assert [c for c, _ in got] == want and "store" not in again.__dict__
    finally:
        again.close()


def test_vectors_kept_as_blobs_are_read_then_moved_to_the_vector_file(
    sample_index: Path, tmp_path: Path
) -> None:
    """A catalog from before the vector file kept its vectors as blobs: they are read
    from there (alone, or beside rows already in the file), and the next ingest moves
    them into the file, the same values, and the blobs are gone."""
    import shutil

    import numpy as np

    from imr_assist.index.ingest import ingest
    from imr_assist.samples import samples_dir

    root = tmp_path / "blobs"
    shutil.copytree(sample_index, root)
    old = Index.open(Settings(index_dir=root))
    ids = old.catalog.all_chunk_ids()
    want = old.catalog.vectors(ids)
    assert want is not None and want[0] == sorted(ids)
    db = old.catalog.db
    half = want[0][::2]  # half as blobs, half still in the file
    db.executemany(
        "INSERT INTO chunk_vectors VALUES (?, ?)",
        [(cid, want[1][want[0].index(cid)].tobytes()) for cid in half],
    )
    db.executemany("DELETE FROM vector_rows WHERE id = ?", [(c,) for c in half])
    mixed = old.catalog.vectors(ids)
    assert mixed is not None and mixed[0] == want[0]
    assert np.array_equal(mixed[1], want[1])
    db.execute("DELETE FROM vector_rows")
    old.catalog.vector_file.remove()
    only_blobs = old.catalog.vectors(half)
    assert only_blobs is not None and only_blobs[0] == sorted(half)
    old.close()
    ingest([samples_dir()], Settings(index_dir=root))  # every letter unchanged
    again = Index.open(Settings(index_dir=root))
    try:
        count = again.catalog.db.execute("SELECT COUNT(*) FROM chunk_vectors").fetchone()[0]
        assert count == 0
        moved = again.catalog.vectors(half)
        assert moved is not None and np.array_equal(moved[1], only_blobs[1])
        assert again.catalog.chunks_without_vectors() == []
        # each item's chunks' rows recorded on its row: the exact step reads no chunk
        assert all(r.chunk_rows() is not None for r in again.catalog.items())
    finally:
        again.close()


def test_a_broad_filter_keeps_the_matches_of_the_wide_fetch(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter keeping too many chunks to score exactly, with fewer than ``n`` matches
    among even the wide unfiltered fetch: those matches are the answer, in the order of
    Chroma's filtered search, and the filtered search is not run (it takes seconds on a
    large store)."""
    settings = Settings(index_dir=sample_index)
    settings.retrieval.exact_chunks = 0  # as if the filter kept too many to score here
    index = Index.open(settings)
    try:
        monkeypatch.setattr(hybrid, "OVERFETCH", 1)
        monkeypatch.setattr(hybrid, "WIDE_OVERFETCH", 2)
        question = "Which opioid requests were overturned?"
        f = parse_question(question)
        n = 6
        assert index.store.count() > 2 * n  # the wide fetch does not read the whole store
        wheres: list[object] = []
        query = index.store.query

        def spy(vector, k, where):  # type: ignore[no-untyped-def]
            wheres.append(where)
            return query(vector, k, where)

        monkeypatch.setattr(index.store, "query", spy)
        got = [cid for cid, _ in dense_candidates(index, index.query_vector(question), n, f)]
        assert wheres == [None, None]
        want = chroma_filtered(index, question, n, f)
        assert 0 < len(got) < n and got == want[: len(got)]
    finally:
        index.close()
