"""Stage 3: hybrid retrieval. Dense (Chroma) and lexical (BM25) fused by RRF.

Filters from the question restrict both lists; only chunks committed to the
catalog are returned, so a letter being ingested is never half visible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from imr_assist.index.catalog import ItemRow
from imr_assist.index.index import Index
from imr_assist.models import Chunk
from imr_assist.retrieve.query import QueryFilters, parse_question

#: Reciprocal rank fusion constant (the usual 60: later ranks still count a little).
RRF_K = 60
#: Candidates taken from each list before fusion.
CANDIDATES = 50


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None


@dataclass
class SearchResult:
    question: str
    filters: QueryFilters
    hits: list[Hit] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)  # every item matching the filters


def resolve_doc_refs(index: Index, question: str, filters: QueryFilters) -> None:
    """Letters named in the question by case number, doc id or file stem ("letter 004")."""
    ids = index.catalog.doc_ids()
    found: list[str] = []
    if filters.case_number:
        found += [d for d in ids if d.upper() == filters.case_number]
    for tok in re.findall(r"\b[\w-]{3,}\b", question):
        if tok.isdigit() or "_" in tok or "-" in tok:
            found += [d for d in ids if d == tok or d.startswith(tok + "_") or d.startswith(tok)]
    filters.doc_ids = sorted(set(found))


def matching_items(index: Index, filters: QueryFilters) -> list[ItemRow]:
    """Every catalog item the filters select (all items when there are no filters)."""
    return [row for row in index.catalog.items() if item_matches(row, filters)]


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
    if f.specialty:
        s = f.specialty.lower()
        if not any(s in sp.lower() or sp.lower() in s for sp in row.specialties):
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
    if f.specialty:
        s = f.specialty.lower()
        if not any(s in sp.lower() for sp in meta.get("specialties") or []):
            return False
    return True


def search(
    index: Index, question: str, k: int = 8, filters: QueryFilters | None = None
) -> SearchResult:
    """Rank chunks for a question; filters default to those the question names."""
    f = filters if filters is not None else parse_question(question)
    if f.doc_ids == ["*"]:
        f = QueryFilters()
    elif not f.doc_ids:
        resolve_doc_refs(index, question, f)
    result = SearchResult(question=question, filters=f)
    result.items = matching_items(index, f)
    restricted = f.has_treatment or f.decision or f.doc_ids or f.guideline or f.specialty
    if restricted and not result.items:
        # Nothing matches: keep the closest passages overall as evidence to show.
        result.hits = search(index, question, k=3, filters=QueryFilters(doc_ids=["*"])).hits
        return result
    where = f.chroma_where()
    if f.specialty:
        where = None  # substring match on a list: applied below in Python
    dense = index.store.query(index.query_vector(question), CANDIDATES, where)
    dense = [(i, s) for i, s in dense]
    lex_scores = index.lexical_scores(question)
    lex_top = sorted(lex_scores.items(), key=lambda kv: -kv[1])[: CANDIDATES * 4]
    ids = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lex_top]))
    chunks = index.catalog.chunks_by_id(ids)  # committed chunks only
    dense = [(i, s) for i, s in dense if i in chunks and _meta_matches(chunks[i].metadata, f)]
    lexical = [(i, s) for i, s in lex_top if i in chunks and _meta_matches(chunks[i].metadata, f)]
    lexical = lexical[:CANDIDATES]
    fused: dict[str, float] = {}
    for ranked in (dense, lexical):
        for rank, (cid, _) in enumerate(ranked):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    dense_map, lex_map = dict(dense), dict(lexical)
    order = sorted(fused, key=lambda c: (-fused[c], c))[:k]
    result.hits = [
        Hit(chunk=chunks[c], score=fused[c], dense=dense_map.get(c), lexical=lex_map.get(c))
        for c in order
    ]
    return result
