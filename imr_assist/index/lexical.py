"""The lexical index: BM25 over the committed chunks, updated without a rebuild.

A BM25 score depends on every chunk (the term's document frequency, the mean chunk
length), so an index that stores finished scores (as bm25s does) must rescore all of
them when letters are added: at 100,000 letters that is minutes. This index stores
what the scores are made of instead, and scores at query time:

- per term, its postings: the chunks that hold it and how often (``post_doc``,
  ``post_tf``, grouped by term through ``term_ptr``);
- each chunk's length in terms (``doc_len``), its id (``ids``), and the vocabulary.

Adding chunks tokenizes only them and merges their postings into each term's list;
removing chunks drops theirs. ``tests/test_lexical.py`` checks that an updated index
holds exactly the postings of one built from scratch and scores the same, and that
both score as bm25s did (its Lucene variant, k1 1.5, b 0.75, the same tokens), so
switching changed no ranking.

Saved as ``.npy`` arrays in a folder and opened memory-mapped: a one-shot ``ask``
reads only the postings of its own terms.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75
#: Lucene's English stop words (as bm25s removes them).
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the "
    "their then there these they this to was will with".split()
)
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
FORMAT = "imr-assist-bm25/1"
META_FILE = "lexical.json"
_ARRAYS = ("term_ptr", "post_doc", "post_tf", "doc_len")


def tokens(text: str) -> list[str]:
    """Terms of ``text``: lower-cased words of two or more characters, no stop words."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


@dataclass
class LexicalIndex:
    """Postings by term; ``ids[d]`` is the chunk of document number ``d``."""

    ids: list[str]
    terms: list[str]  # term id -> term
    term_ptr: np.ndarray  # int64, len(terms) + 1: term t's postings are [ptr[t], ptr[t+1])
    post_doc: np.ndarray  # int32 document number of each posting
    post_tf: np.ndarray  # int32 times the term occurs in that document
    doc_len: np.ndarray  # int32 terms in each document

    def __post_init__(self) -> None:
        self.vocab = {t: i for i, t in enumerate(self.terms)}
        total = int(self.doc_len.sum(dtype=np.int64))
        self.avg_len = float(np.float64(total) / len(self.ids)) if self.ids else 0.0

    # --- building ----------------------------------------------------------------------
    @classmethod
    def build(cls, rows: Iterable[tuple[str, str]]) -> LexicalIndex:
        """An index of ``(chunk id, text)`` rows, from scratch."""
        empty = cls.empty()
        return empty.updated(rows, remove=())

    @classmethod
    def empty(cls) -> LexicalIndex:
        return cls(
            ids=[],
            terms=[],
            term_ptr=np.zeros(1, np.int64),
            post_doc=np.zeros(0, np.int32),
            post_tf=np.zeros(0, np.int32),
            doc_len=np.zeros(0, np.int32),
        )

    def updated(self, rows: Iterable[tuple[str, str]], remove: Iterable[str] = ()) -> LexicalIndex:
        """A new index: this one without the chunks in ``remove``, with ``rows`` added
        (a row whose chunk is already here replaces it). Only the new rows are tokenized;
        the old postings are copied, not rescored."""
        rows = list(rows)
        gone = set(remove) | {cid for cid, _ in rows}
        keep = np.fromiter((cid not in gone for cid in self.ids), bool, len(self.ids))
        old = self if keep.all() else self._without(keep)
        terms = list(old.terms)
        vocab = dict(old.vocab)
        new_term = array("i")
        new_doc = array("i")
        new_tf = array("i")
        lengths = array("i")
        base = len(old.ids)
        for n, (_, text) in enumerate(rows):
            toks = tokens(text)
            lengths.append(len(toks))
            for term, tf in Counter(toks).items():
                tid = vocab.get(term)
                if tid is None:
                    tid = vocab[term] = len(terms)
                    terms.append(term)
                new_term.append(tid)
                new_doc.append(base + n)
                new_tf.append(tf)
        return old._merged(
            [cid for cid, _ in rows],
            terms,
            np.frombuffer(new_term, np.int32),
            np.frombuffer(new_doc, np.int32),
            np.frombuffer(new_tf, np.int32),
            np.frombuffer(lengths, np.int32),
        )

    def _without(self, keep: np.ndarray) -> LexicalIndex:
        """This index restricted to the documents where ``keep`` is true, renumbered."""
        number = np.cumsum(keep, dtype=np.int64) - 1  # old document -> new number
        kept = keep[self.post_doc]
        term_of = np.repeat(np.arange(len(self.terms), dtype=np.int64), np.diff(self.term_ptr))
        counts = np.bincount(term_of[kept], minlength=len(self.terms))
        ptr = np.zeros(len(self.terms) + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        return LexicalIndex(
            ids=[cid for cid, k in zip(self.ids, keep, strict=True) if k],
            terms=self.terms,
            term_ptr=ptr,
            post_doc=number[self.post_doc[kept]].astype(np.int32),
            post_tf=np.asarray(self.post_tf[kept]),
            doc_len=np.asarray(self.doc_len[keep]),
        )

    def _merged(
        self,
        ids: list[str],
        terms: list[str],
        term: np.ndarray,
        doc: np.ndarray,
        tf: np.ndarray,
        lengths: np.ndarray,
    ) -> LexicalIndex:
        """This index with new documents (numbered after the old ones) and their
        postings: each term's new postings go after its old ones, so every list stays
        in document order, the order a rebuild writes."""
        n_terms = len(terms)
        order = np.argsort(term, kind="stable")  # new postings by term, then document
        old_counts = np.zeros(n_terms, np.int64)
        old_counts[: len(self.terms)] = np.diff(self.term_ptr)
        new_counts = np.bincount(term, minlength=n_terms).astype(np.int64)
        ptr = np.zeros(n_terms + 1, np.int64)
        np.cumsum(old_counts + new_counts, out=ptr[1:])
        total = int(ptr[-1])
        post_doc = np.empty(total, np.int32)
        post_tf = np.empty(total, np.int32)
        # old posting j of term t moves up by the new postings of the terms before t
        new_before = np.cumsum(new_counts) - new_counts
        n_old = len(self.post_doc)
        old_at = np.arange(n_old, dtype=np.int64) + np.repeat(
            new_before[: len(self.terms)], old_counts[: len(self.terms)]
        )
        post_doc[old_at] = self.post_doc
        post_tf[old_at] = self.post_tf
        # new posting i (in term order) goes after its term's old postings
        sorted_term = term[order]
        starts = ptr[:-1] + old_counts  # where each term's new postings begin
        first = np.cumsum(new_counts) - new_counts  # index of each term's first new posting
        new_at = starts[sorted_term] + (np.arange(len(order)) - first[sorted_term])
        post_doc[new_at] = doc[order]
        post_tf[new_at] = tf[order]
        return LexicalIndex(
            ids=self.ids + ids,
            terms=terms,
            term_ptr=ptr,
            post_doc=post_doc,
            post_tf=post_tf,
            doc_len=np.concatenate([np.asarray(self.doc_len), lengths]).astype(np.int32),
        )

    # --- scoring -----------------------------------------------------------------------
    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (float32; 0 where no term matches).

        A term said twice counts twice. Each term's part is computed in float64 and
        stored as float32, and the parts are added in the query's order, as bm25s did.
        """
        n = len(self.ids)
        out = np.zeros(n, np.float32)
        for term in tokens(query):
            t = self.vocab.get(term)
            if t is None:
                continue
            a, b = int(self.term_ptr[t]), int(self.term_ptr[t + 1])
            docs = np.asarray(self.post_doc[a:b])
            tf = np.asarray(self.post_tf[a:b], np.float64)
            df = b - a
            idf = np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))
            norm = K1 * ((1 - B) + B * self.doc_len[docs].astype(np.float64) / self.avg_len)
            out[docs] += (np.float64(idf) * (tf / (norm + tf))).astype(np.float32)
        return out

    def top(self, query: str, k: int | None = None) -> dict[str, float]:
        """Chunk id -> score of the matching chunks, best first, ties by chunk id; the
        ``k`` best if given."""
        scores = self.scores(query)
        nz = np.flatnonzero(scores)
        if k is not None and len(nz) > k:
            kth = np.partition(scores[nz], len(nz) - k)[len(nz) - k]
            nz = nz[scores[nz] >= kth]  # every tie at the cut, so ids decide among them
        best = sorted(nz.tolist(), key=lambda d: (-scores[d], self.ids[d]))[:k]
        return {self.ids[d]: float(scores[d]) for d in best}

    # --- what it holds (for tests and checks) ----------------------------------------------
    def postings(self) -> dict[str, dict[str, int]]:
        """term -> {chunk id: times}: the index's content, whatever its numbering."""
        out: dict[str, dict[str, int]] = {}
        for t, term in enumerate(self.terms):
            a, b = int(self.term_ptr[t]), int(self.term_ptr[t + 1])
            if b > a:
                out[term] = {
                    self.ids[d]: int(f)
                    for d, f in zip(self.post_doc[a:b], self.post_tf[a:b], strict=True)
                }
        return out

    def lengths(self) -> dict[str, int]:
        return {cid: int(n) for cid, n in zip(self.ids, self.doc_len, strict=True)}

    # --- files -------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))
        (folder / "terms.json").write_text(json.dumps(self.terms))
        (folder / "ids.json").write_text(json.dumps(self.ids))
        (folder / META_FILE).write_text(json.dumps({"format": FORMAT, "chunks": len(self.ids)}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Open a saved index; the postings stay on disk until a query reads them."""
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        return cls(
            ids=json.loads((folder / "ids.json").read_text()),
            terms=json.loads((folder / "terms.json").read_text()),
            **arrays,
        )

    @staticmethod
    def is_saved_in(folder: Path) -> bool:
        """Whether ``folder`` holds an index in this format (not an older bm25s one)."""
        try:
            meta = json.loads((folder / META_FILE).read_text())
        except (OSError, ValueError):
            return False
        return isinstance(meta, dict) and meta.get("format") == FORMAT
