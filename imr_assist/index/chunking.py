"""Item-aware chunks: the case summary, and each item's rationale under its decision.

The "how the determination was made" section is the same boilerplate in every
letter, so it is not embedded at all; the reviewer's credentials from it live in
the chunk metadata instead. A section longer than the embedding window (MiniLM
silently truncates after 256 tokens) is split at sentence ends with
langchain-text-splitters, measuring length with the model's own tokenizer, and
each part carries the item's decision line as a header so it stands alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from imr_assist.models import Chunk, Letter
from imr_assist.settings import DEFAULTS
from imr_assist.text import NormalizedText, normalize

TokenCounter = Callable[[list[str]], list[int]]

# settings.ChunkingSettings (the value and why; it is part of the index fingerprint).
OVERLAP_TOKENS = DEFAULTS.chunking.overlap_tokens


def item_header(treatment: str, decision: str) -> str:
    return f"{treatment}: {decision.capitalize()}."


def chunk_letter(letter: Letter, count_tokens: TokenCounter, max_tokens: int = 256) -> list[Chunk]:
    """Split a parsed letter into chunks with spans and filterable metadata."""
    nt = normalize(letter.text)
    base = _base_meta(letter)
    chunks: list[Chunk] = []
    if letter.summary and "summary" in letter.spans:
        s = letter.spans["summary"]
        header = "Case summary."
        meta = {**base, "section": "summary", "item_index": -1, "decision": "", "treatment": ""}
        chunks += _sections(
            letter, nt, s.start, s.end, header, "summary", None, meta, count_tokens, max_tokens
        )
    for it in letter.items:
        meta = {
            **base,
            "section": "item",
            "item_index": it.index,
            "treatment": it.treatment,
            "name": it.name or "",
            "canonical": it.canonical or "",
            "generic": it.generic or "",
            "drug_class": it.drug_class or "",
            "decision": it.decision,
            "reasons": it.reason_categories or [""],
            "guidelines": it.guidelines or [""],
        }
        # The reviewer's rationale, under the decision line as a header. The guideline
        # citations before it are near-identical across letters ("Decision based on
        # MTUS ..."): they come from the record (guideline filters, digests), and
        # embedding them costs a third of the item's tokens for little meaning.
        tr = it.spans["treatment"]
        rationale = it.spans.get("rationale")
        if rationale is not None and it.span.start <= rationale.start < it.span.end:
            start = rationale.start
        elif it.span.start <= tr.start < it.span.end:
            start = tr.end
        else:  # 2013 letters state the decision apart from the block; there it is all
            start = it.span.start
        header = item_header(it.treatment, it.decision)
        chunks += _sections(
            letter, nt, start, it.span.end, header, "item", it.index, meta, count_tokens, max_tokens
        )
    return chunks


def _base_meta(letter: Letter) -> dict[str, Any]:
    return {
        "doc_id": letter.doc_id,
        "source": letter.source,
        "case_number": letter.case_number or "",
        "specialties": letter.reviewer.specialties or [""],
        "sha256": letter.sha256,
    }


def _sections(
    letter: Letter,
    nt: NormalizedText,
    o_start: int,
    o_end: int,
    header: str,
    section: str,
    item_index: int | None,
    meta: dict[str, Any],
    count_tokens: TokenCounter,
    max_tokens: int,
) -> list[Chunk]:
    """Chunks of the original range ``[o_start, o_end)`` of the letter."""
    a, b = _norm_range(nt, o_start, o_end)
    body = nt.flat[a:b].strip(" :")
    if not body:
        return []
    a = nt.flat.index(body, a)
    header_tokens = count_tokens([header])[0] - 2  # without [CLS]/[SEP]
    budget = max_tokens - header_tokens - 2
    if count_tokens([body])[0] - 2 <= budget:
        pieces = [(0, body)]
    else:
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=budget,
            chunk_overlap=min(OVERLAP_TOKENS, budget // 4),
            length_function=lambda s: count_tokens([s])[0] - 2,
            separators=[". ", "; ", ", ", " ", ""],
            keep_separator="end",
            add_start_index=True,
            strip_whitespace=True,
        )
        docs = splitter.create_documents([body])
        pieces = [(d.metadata["start_index"], d.page_content) for d in docs]
    out = []
    key = f"{letter.sha256[:16]}:{section}:{item_index if item_index is not None else 's'}"
    for part, (offset, piece) in enumerate(pieces):
        pa = a + offset
        pb = pa + len(piece)
        text, span = nt.field(pa, pb)
        out.append(
            Chunk(
                id=f"{key}:{part}",
                doc_id=letter.doc_id,
                text=text,
                section=section,
                item_index=item_index,
                start=span.start,
                end=span.end,
                metadata={
                    **meta,
                    "part": part,
                    "start": span.start,
                    "end": span.end,
                    "embed_text": f"{header} {text}",
                },
            )
        )
    return out


def _norm_range(nt: NormalizedText, o_start: int, o_end: int) -> tuple[int, int]:
    """Normalised range covering the original range (offsets are increasing)."""
    import bisect

    a = bisect.bisect_left(nt.offsets, o_start)
    b = bisect.bisect_left(nt.offsets, o_end)
    return a, b
