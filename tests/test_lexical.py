"""The lexical index: updating it gives what a rebuild gives, and it scores as bm25s did.

The texts are the embedded texts of the sample letters' chunks, and of generated letters
for an index large enough that terms are shared across many chunks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from imr_assist.errors import IndexStateError
from imr_assist.index.catalog import Catalog
from imr_assist.index.index import CATALOG_FILE, Index
from imr_assist.index.ingest import ingest
from imr_assist.index.lexical import LexicalIndex, tokens
from imr_assist.settings import Settings

QUERIES = [
    pytest.param("Why are Norco requests upheld?", id="why"),
    pytest.param("no documentation of functional improvement", id="phrase"),
    pytest.param("urine drug screen opioid opioid", id="repeated-term"),
    pytest.param("MRI of the lumbar spine", id="imaging"),
    pytest.param("the of and", id="only-stop-words"),
    pytest.param("xyzzy", id="unknown-term"),
]


@pytest.fixture(scope="module")
def rows(sample_index: Path) -> list[tuple[str, str]]:
    """(chunk id, embedded text) of the sample index's chunks."""
    catalog = Catalog(sample_index / CATALOG_FILE)
    try:
        return catalog.all_chunks()
    finally:
        catalog.close()


def same(a: LexicalIndex, b: LexicalIndex) -> None:
    """Two indexes with the same content, whatever the order they number chunks and terms."""
    assert sorted(a.ids) == sorted(b.ids)
    assert a.postings() == b.postings()
    assert a.lengths() == b.lengths()
    for query in ("Norco upheld functional improvement", "knee physical therapy", "mri"):
        assert a.top(query) == b.top(query)
        assert a.top(query, 5) == b.top(query, 5)


@pytest.mark.parametrize("query", QUERIES)
def test_scores_are_those_of_bm25s(rows: list[tuple[str, str]], query: str) -> None:
    bm25s = pytest.importorskip("bm25s")
    reference = bm25s.BM25()  # the Lucene variant, k1 1.5, b 0.75: what the index used before
    corpus = bm25s.tokenize([t for _, t in rows], stopwords="en", show_progress=False)
    reference.index(corpus, show_progress=False)
    asked = bm25s.tokenize([query], stopwords="en", show_progress=False)
    inverse = {v: k for k, v in asked.vocab.items()}
    words = [
        inverse[t] for t in asked.ids[0] if t in inverse and inverse[t] in reference.vocab_dict
    ]
    expected = reference.get_scores(words) if words else np.zeros(len(rows), np.float32)
    assert np.array_equal(LexicalIndex.build(rows).scores(query), expected)


def test_tokens_drop_stop_words_and_single_characters() -> None:
    assert tokens("The MRI of the L4-L5 disc is not x indicated") == [
        "mri",
        "l4",
        "l5",
        "disc",
        "indicated",
    ]


def test_adding_chunks_in_parts_equals_a_rebuild(rows: list[tuple[str, str]]) -> None:
    whole = LexicalIndex.build(rows)
    third = len(rows) // 3
    parts = (
        LexicalIndex.build(rows[:third]).updated(rows[third : 2 * third]).updated(rows[2 * third :])
    )
    same(parts, whole)
    one_by_one = LexicalIndex.empty()
    for row in reversed(rows):
        one_by_one = one_by_one.updated([row])
    same(one_by_one, whole)


def test_removing_and_replacing_chunks_equals_a_rebuild(rows: list[tuple[str, str]]) -> None:
    gone = {rows[0][0], rows[len(rows) // 2][0]}
    changed = (rows[1][0], rows[1][1] + " Norco Norco weaning")
    updated = LexicalIndex.build(rows).updated([changed], remove=gone)
    expected = [changed if cid == changed[0] else (cid, t) for cid, t in rows if cid not in gone]
    same(updated, LexicalIndex.build(expected))
    same(
        LexicalIndex.build(rows).updated([], remove=[cid for cid, _ in rows]), LexicalIndex.empty()
    )


def test_saved_and_loaded_it_scores_the_same(rows: list[tuple[str, str]], tmp_path: Path) -> None:
    built = LexicalIndex.build(rows)
    built.save(tmp_path / "lex")
    assert LexicalIndex.is_saved_in(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    same(loaded, built)
    same(
        loaded.updated(rows[:2], remove=[rows[-1][0]]),
        built.updated(rows[:2], remove=[rows[-1][0]]),
    )


def test_an_index_updated_after_ingest_equals_its_rebuild(
    sample_index: Path, tmp_path: Path, synth_letters: Path
) -> None:
    """Ingest updates the lexical index with the new letters' chunks only; rebuilding it
    from every committed chunk gives the same index."""
    root = tmp_path / "index"
    shutil.copytree(sample_index, root)
    settings = Settings(index_dir=root)
    report = ingest([str(synth_letters)], settings)
    assert report.letters_indexed == 6
    idx = Index.open(settings)
    try:
        assert idx.lexical_is_current()
        updated = idx._load_lexical()
        idx.rebuild_lexical()
        rebuilt = idx._load_lexical()
        assert updated is not None and rebuilt is not None
        same(updated, rebuilt)
        assert sorted(rebuilt.ids) == idx.catalog.all_chunk_ids()
    finally:
        idx.close()


def test_an_older_lexical_index_is_rebuilt_by_ingest_and_named_to_readers(
    sample_index: Path, tmp_path: Path
) -> None:
    root = tmp_path / "index"
    shutil.copytree(sample_index, root)
    settings = Settings(index_dir=root)
    idx = Index.open(settings)
    folder = idx._bm25_current()
    assert folder is not None
    (folder / "lexical.json").unlink()  # what a bm25s folder of an earlier version lacks
    idx = Index.open(settings)
    assert not idx.lexical_is_current()
    with pytest.raises(IndexStateError, match="older format.*imr-assist ingest"):
        idx.lexical_scores("Norco")
    idx.close()
    ingest([], settings)  # nothing new to read: the lexical index is rebuilt
    idx = Index.open(settings)
    assert idx.lexical_is_current()
    assert idx.lexical_scores("Norco")
    idx.close()


@pytest.fixture
def synth_letters(tmp_path: Path) -> Path:
    from imr_synth import generate

    out = tmp_path / "corpus"
    generate(6, 3, out, questions=1, noise=0.0)
    return out / "letters"
