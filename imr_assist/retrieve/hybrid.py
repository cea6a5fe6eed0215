"""Stage 3: hybrid retrieval. Dense (Chroma) and lexical (BM25) fused by RRF.

Filters from the question restrict both lists; only chunks committed to the
catalog are returned, so a letter being ingested is never half visible.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, overload

from imr_assist.index.catalog import ItemRow, LetterFacts, NameFilter
from imr_assist.index.index import Index
from imr_assist.models import Chunk
from imr_assist.retrieve.query import (
    QueryFilters,
    parse_question,
    question_kind,
    specialty_matches,
)


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None


class RankedHits(Sequence[Hit]):
    """Hits ranked on first use, then kept.

    Ranking embeds the question (loading the embedding model), queries the vector store
    (importing chromadb and opening it) and loads the lexical index: most of a one-shot
    ``ask``. An answer the catalog gives alone (a count, a list, a letter's facts) never
    reads its hits, so it never pays for them. Copies of a result (``dataclasses.replace``)
    share one ranking. Hits ranked late read the catalog as it is then: still only
    committed chunks.
    """

    def __init__(self, rank: Callable[[], list[Hit]]) -> None:
        self._rank: Callable[[], list[Hit]] | None = rank
        self._hits: list[Hit] = []

    @property
    def ranked(self) -> bool:
        """Whether the ranking has run (a test's way to see that it did not)."""
        return self._rank is None

    def within(self, rows: list[ItemRow]) -> Sequence[Hit]:
        """The same ranking over the chunks of ``rows`` alone (a plan narrowed the
        search's items, by body region or partial certification): the dense step scores
        just those, and the passages are from the asked requests. Ranked already: these
        hits, as they are."""
        if self._rank is None or not isinstance(self._rank, partial):
            return self
        return RankedHits(partial(self._rank, within=rows))

    def _get(self) -> list[Hit]:
        if self._rank is not None:
            self._hits = self._rank()
            self._rank = None
        return self._hits

    @overload
    def __getitem__(self, i: int) -> Hit: ...
    @overload
    def __getitem__(self, i: slice) -> list[Hit]: ...
    def __getitem__(self, i: int | slice) -> Hit | list[Hit]:
        return self._get()[i]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator[Hit]:
        return iter(self._get())

    def __repr__(self) -> str:
        return f"RankedHits({self._hits!r})" if self.ranked else "RankedHits(<not ranked yet>)"


@dataclass
class SearchResult:
    question: str
    filters: QueryFilters
    hits: Sequence[Hit] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)  # every item matching the filters


#: A date as a question may write it ("2017-01-15", "11-09-2016"): no letter's identifier.
_DATE_TOKEN = re.compile(r"\d{1,4}-\d{1,2}-\d{1,4}")


def resolve_doc_refs(index: Index, question: str, filters: QueryFilters) -> None:
    """Letters the question names: by case number, doc id or file stem ("letter 004"),
    or by who and when (patient age and sex, date of injury, reviewer specialty)."""
    found: set[str] | None = None
    tokens = [
        t for t in re.findall(r"\b[\w-]{3,}\b", question) if t.isdigit() or "_" in t or "-" in t
    ]
    if filters.case_number or tokens:
        named: set[str] = set()
        cat = index.catalog
        if filters.case_number:
            # "15-0165674" names CM15-0165674 as well
            cn = filters.case_number
            named |= {
                d
                for d in cat.doc_ids_like([cn], [], [] if cn[:1].isalpha() else [cn])
                if d.upper() == cn or (d.upper().endswith(cn) and d[: -len(cn)].isalpha())
            }
        # a doc id, or the sample-style prefix before its hash ("004" for 004_c3a8...)
        named |= cat.doc_ids_like(tokens, [t + "_" for t in tokens], [])
        # an identifier of five digits or more that names no letter ("case 0009282")
        # still names one: the answer says no letter matches, not every letter's
        said_id = any(
            sum(ch.isdigit() for ch in t) >= 5 and not _DATE_TOKEN.fullmatch(t) for t in tokens
        )
        if named or filters.case_number or said_id:
            found = named
    if filters.names_letter:
        facts = index.catalog.letter_facts(  # narrowed in SQL, then matched exactly here
            ages=filters.patient_ages, sex=filters.patient_sex, injury_prefix=filters.injury_date
        )
        described = {lf.doc_id for lf in facts if _describes(lf, filters)}
        found = described if found is None else found & described
    if found is not None:
        filters.doc_ids = sorted(found)
        filters.letter_refs_unmatched = not found


def _describes(lf: LetterFacts, f: QueryFilters) -> bool:
    if f.patient_ages and lf.age not in f.patient_ages:
        return False
    if f.patient_sex and lf.sex and lf.sex != f.patient_sex:
        return False
    if f.injury_date and not (lf.date_of_injury or "").startswith(f.injury_date):
        return False
    if f.specialty and not specialty_matches(f.specialty, lf.specialties):
        return False
    return True


def matching_items(
    index: Index, filters: QueryFilters, names: NameFilter | None = None
) -> list[ItemRow]:
    """Every catalog item the filters select (all items when there are no filters),
    and whose treatment name passes ``names`` if given."""
    if filters.letter_refs_unmatched:
        return []
    rows = index.catalog.items(
        generics=filters.generics,
        classes=filters.classes,
        canonicals=filters.names_without_generic,
        decision=filters.decision,
        doc_ids=filters.doc_ids,
        names=names,
    )
    return [row for row in rows if item_matches(row, filters)]


def item_matches(row: ItemRow, f: QueryFilters) -> bool:
    if f.has_treatment:
        ok = (
            (row.generic is not None and row.generic in f.generics)
            or (row.drug_class is not None and row.drug_class in f.classes)
            or (row.canonical is not None and row.canonical in f.names_without_generic)
        )
        if not ok:
            return False
    if f.decision and row.decision != f.decision:
        return False
    if f.doc_ids and row.doc_id not in f.doc_ids:
        return False
    if f.guideline and f.guideline not in row.guidelines:
        return False
    if f.specialty and not specialty_matches(f.specialty, row.specialties):
        return False
    return True


#: How many times ``n`` nearest chunks are taken unfiltered before filtering them here.
OVERFETCH = 10
#: The second, wider unfiltered fetch, times ``n``, before the filtered search (an
#: unfiltered fetch of 2,000 takes about 45 ms at 500,000 chunks; a filtered search, 3 to
#: 20 s).
WIDE_OVERFETCH = 40
#: Letters a question may name for their chunks to be scored one by one.
EXACT_LETTERS = 200


def dense_candidates(
    index: Index, vector: Any, n: int, f: QueryFilters, within: list[ItemRow] | None = None
) -> list[tuple[str, float]]:
    """(chunk id, cosine similarity) of the ``n`` chunks nearest ``vector`` that match
    ``f``, nearest first.

    Structure first: when the filters (or a small index) leave at most
    ``retrieval.exact_chunks`` chunks (float32 rows, 1.5 KB each), the catalog names them and they are scored exactly from its copy of their
    vectors, without opening the vector store (importing Chroma alone costs about a
    second of a one-shot ``ask``). Otherwise Chroma answers. Its metadata-filtered search
    is slow on a large store (0.5 to 3 s at 200,000 vectors, whatever the filter keeps,
    against 5 to 20 ms unfiltered: it reads the metadata), so the filter is mostly
    applied here, from the catalog's copy of it: the ``OVERFETCH * n`` nearest chunks
    are taken unfiltered and the matching ones kept; that is the filtered search's
    answer whenever ``n`` of them match. If not, ``WIDE_OVERFETCH * n`` are taken; for a
    filter that keeps too many chunks to score exactly, the matches among them are the
    answer even when fewer than ``n``. Only when none of this applies does Chroma filter.
    """
    if f.letter_refs_unmatched:
        return []  # the question named a letter the index does not hold
    if within is not None:  # the chunks of these items only, scored exactly if few enough
        allowed = _item_chunks(index, within)
        exact = index.nearest_kept(vector, allowed, n) if allowed is not None else None
        if exact is not None:
            return exact
    where = f.chroma_where()  # letters named by specialty or patient are in doc_ids
    allowed = _allowed_chunks(index, f, where)
    if allowed is not None:
        exact = index.nearest_kept(vector, allowed, n)
        if exact is not None:
            return exact
    if where is None:
        return index.store.query(vector, n, None)
    if allowed is not None and f.doc_ids and len(f.doc_ids) <= EXACT_LETTERS:
        return index.store.nearest_among(vector, list(allowed), n)
    kept: list[tuple[str, float]] = []
    for fetch in (n * OVERFETCH, n * WIDE_OVERFETCH):
        near = index.store.query(vector, fetch, None)
        metas = index.catalog.chunk_metadata(ids=[cid for cid, _ in near])
        kept = [(cid, s) for cid, s in near if cid in metas and _where_matches(metas[cid], where)]
        if len(kept) >= n or len(near) < fetch:  # enough, or the whole store was read
            return kept[:n]
    if kept and allowed is None and not f.doc_ids:
        # A filter too broad to score exactly: the nearest that match among the widest
        # unfiltered fetch (fewer than ``n``; BM25 adds the rest) rather than a filtered
        # search that takes seconds.
        return kept
    return index.store.query(vector, n, where)


def _allowed_chunks(
    index: Index, f: QueryFilters, where: dict[str, Any] | None
) -> dict[str, int | None] | None:
    """The committed chunks that pass ``where``, read from the catalog (each mapped to
    its row in the vector file when that was read with it, else None), or None when
    there may be more than ``retrieval.exact_chunks`` of them."""
    cat = index.catalog
    most = index.settings.retrieval.exact_chunks
    if where is None:
        return dict.fromkeys(cat.all_chunk_ids()) if cat.chunk_count() <= most else None
    if f.has_treatment or f.decision or f.guideline:  # item chunks only
        selected: dict[str, Any] = {
            "generics": f.generics,
            "classes": f.classes,
            "canonicals": f.names_without_generic,
            "decision": f.decision,
            "doc_ids": f.doc_ids,
        }
        rows = cat.items(**selected)  # the search's own rows, kept by the snapshot
        if len(rows) > most:
            return None
        if not (f.guideline or (f.case_number and not f.doc_ids)):
            # the items were selected by every part of ``where``, and an item chunk's
            # metadata is its item's: each of their chunks passes, unread
            if any(r.vector_first is None for r in rows):  # an older catalog: in SQL
                return cat.item_chunk_ids(**selected, most=most)
            return _item_chunks(index, rows)
        metas = cat.item_chunk_metadata((r.doc_id, r.item_index) for r in rows)
    elif f.doc_ids and len(f.doc_ids) <= most // 10:
        metas = cat.chunk_metadata(doc_ids=f.doc_ids)
    else:
        return None
    allowed = sorted(cid for cid, meta in metas.items() if _where_matches(meta, where))
    return dict.fromkeys(allowed) if len(allowed) <= most else None


def _item_chunks(index: Index, rows: list[ItemRow]) -> dict[str, int | None] | None:
    """The item chunks of ``rows``, each mapped to its row in the vector file (which
    the rows name; else None), or None when more than ``retrieval.exact_chunks``."""
    most = index.settings.retrieval.exact_chunks
    out: dict[str, int | None] = {}
    unnamed = []
    for r in rows:
        first, key = r.vector_first, r.chunk_key
        if first is None or key is None or not r.vector_count:
            unnamed.append((r.doc_id, r.item_index))
            continue
        for k in range(r.vector_count):  # as ``ItemRow.chunk_rows``, without a dict each
            out[f"{key}:{k}"] = first + k
        if len(out) > most:
            return None
    if unnamed:
        out.update(dict.fromkeys(index.catalog.item_chunk_metadata(unnamed)))
    return out if len(out) <= most else None


def _where_matches(meta: dict[str, Any], where: dict[str, Any]) -> bool:
    """Whether chunk metadata passes a Chroma ``where`` filter of the shapes
    ``QueryFilters.chroma_where`` writes: ``$and``, ``$or``, ``$in``, ``$contains`` and
    equality."""
    for key, cond in where.items():
        if key == "$and":
            if not all(_where_matches(meta, c) for c in cond):
                return False
        elif key == "$or":
            if not any(_where_matches(meta, c) for c in cond):
                return False
        elif isinstance(cond, dict):
            (op, value), *rest = cond.items()
            assert not rest, cond
            have = meta.get(key)
            if op == "$in" and have not in value:
                return False
            if op == "$contains" and value not in (have or []):
                return False
            if op not in ("$in", "$contains"):
                raise ValueError(f"filter operator {op} is not handled here")
        elif meta.get(key) != cond:
            return False
    return True


def _meta_matches(meta: dict[str, Any], f: QueryFilters) -> bool:
    if f.has_treatment or f.decision or f.guideline:
        if meta.get("section") != "item":
            return False
    if f.has_treatment and not (
        meta.get("generic") in f.generics
        or meta.get("drug_class") in f.classes
        or meta.get("canonical") in f.names_without_generic
    ):
        return False
    if f.decision and meta.get("decision") != f.decision:
        return False
    if f.doc_ids and meta.get("doc_id") not in f.doc_ids:
        return False
    if f.guideline and f.guideline not in (meta.get("guidelines") or []):
        return False
    if f.specialty and not specialty_matches(f.specialty, meta.get("specialties") or []):
        return False
    return True


def search(
    index: Index,
    question: str,
    k: int = 8,
    filters: QueryFilters | None = None,
    *,
    lazy: bool = False,
    items: bool = True,
    names: NameFilter | None = None,
) -> SearchResult:
    """Rank chunks for a question; filters default to those the question names.

    The matching catalog items are read at once (not with ``items`` false, for an
    answer that counts them in SQL); with ``lazy`` the hits are ranked only when first
    read (``RankedHits``).
    """
    f = filters if filters is not None else parse_question(question)
    if f.doc_ids == ["*"]:
        f = QueryFilters()
    elif not f.doc_ids:
        resolve_doc_refs(index, question, f)
    result = SearchResult(question=question, filters=f)
    # The closest-passages search needs no items, nor does an open question that names
    # nothing to filter on ("what is the capital of France?"): its answer comes from hits.
    wants_items = f.restricted or question_kind(question) not in ("general", "fact")
    if not items:
        wants_items = False
    elif (filters is None or filters.doc_ids != ["*"]) and wants_items:
        if names is not None and f.restricted:
            # a plan's test of the names (a region, words left out) applied in SQL; the
            # passages are then ranked among these items alone
            result.items = matching_items(index, f, names)
            if result.items:
                ranked = partial(_rank, index, question, k, copy.deepcopy(f), within=result.items)
                result.hits = RankedHits(ranked) if lazy else ranked()
                return result
        result.items = matching_items(index, f)
    if f.restricted and wants_items and not result.items:
        # Nothing matches: keep the closest passages overall as evidence to show.
        everywhere = QueryFilters(doc_ids=["*"])
        result.hits = search(index, question, k=3, filters=everywhere, lazy=lazy).hits
        return result
    if lazy:  # ranked later with the filters as they are now
        result.hits = RankedHits(partial(_rank, index, question, k, copy.deepcopy(f)))
    else:
        result.hits = _rank(index, question, k, f)
    return result


def _rank(
    index: Index, question: str, k: int, f: QueryFilters, within: list[ItemRow] | None = None
) -> list[Hit]:
    """Dense and lexical candidates that match ``f`` (and are chunks of the items
    ``within``, if given), fused by RRF: the ``k`` best."""
    tuning = index.settings.retrieval  # candidates per list, RRF constant
    vector = index.query_vector(question)
    dense = dense_candidates(index, vector, tuning.candidates, f, within)
    lex_top = list(index.lexical_scores(question, top=tuning.candidates * 4).items())
    ids = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lex_top]))
    chunks = index.catalog.chunks_by_id(ids)  # committed chunks only
    keys = None if within is None else {(r.doc_id, r.item_index) for r in within}

    def kept(cid: str) -> bool:
        c = chunks.get(cid)
        if c is None or not _meta_matches(c.metadata, f):
            return False
        return keys is None or (c.doc_id, c.item_index) in keys

    dense = [(i, s) for i, s in dense if kept(i)]
    lexical = [(i, s) for i, s in lex_top if kept(i)]
    lexical = lexical[: tuning.candidates]
    fused: dict[str, float] = {}
    for ranked in (dense, lexical):
        for rank, (cid, _) in enumerate(ranked):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (tuning.rrf_k + rank + 1)
    dense_map, lex_map = dict(dense), dict(lexical)
    order = sorted(fused, key=lambda c: (-fused[c], c))[:k]
    return [
        Hit(chunk=chunks[c], score=fused[c], dense=dense_map.get(c), lexical=lex_map.get(c))
        for c in order
    ]
