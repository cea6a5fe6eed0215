"""The evidence an LLM writes from: numbered excerpts, none inside another, in a budget.

Excerpts, in this order, each a verified verbatim span of a letter:

1. the extractive answer's own citations (numbers kept, so the facts that cite them
   keep their ``[n]``); one that lies inside another is merged into it;
2. header facts of the letters the answer is about, when the question asks about a
   letter (a case summary or a fact such as the date of injury): the sentence or
   cover-block line holding each field (age, sex, dates, licensure, specialties);
3. the top search passages, less the parts already given: a passage that holds a
   cited sentence contributes only its other sentences, so no text is shown twice.

Every excerpt starts and ends at a word boundary, and excerpts are added while the
estimated token count stays within the budget (``Settings.llm_evidence_tokens``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from imr_assist.answer.citations import LetterTexts, verify
from imr_assist.models import Answer, Citation, Letter, Span
from imr_assist.parse.reasons import sentences
from imr_assist.retrieve.hybrid import SearchResult
from imr_assist.text import NormalizedText, clean

#: Characters per token, a fair average for English under the BPE tokenizers of
#: current chat models (Qwen, Llama, GPT): a budget estimate, not a count.
CHARS_PER_TOKEN = 4
#: A passage remnant shorter than this (characters) is not worth an excerpt.
MIN_PIECE = 40
#: Header facts are given for at most this many letters.
MAX_HEADER_LETTERS = 3
#: A header sentence longer than this is cut (at word boundaries) around its field.
MAX_HEADER_CHARS = 320

_MARK = re.compile(r"\[(\d+)\]")
_HEADER_FIELDS = ("case_number", "date_of_injury", "decision_date", "ur_denial_date")


def tokens(text: str) -> int:
    """Estimated tokens of ``text``."""
    return len(text) // CHARS_PER_TOKEN + 1


@dataclass
class EvidenceSet:
    """Numbered excerpts and the extractive answer's lines as facts citing them."""

    excerpts: list[Citation]
    facts: list[str]
    kinds: dict[int, str] = field(default_factory=dict)  # n -> 'answer', 'header', 'passage'

    @property
    def tokens(self) -> int:
        return sum(tokens(c.quote) for c in self.excerpts) + sum(tokens(f) for f in self.facts)

    def by_n(self) -> dict[int, Citation]:
        return {c.n: c for c in self.excerpts}


def _inside(a: Citation, b: Citation) -> bool:
    return a.doc_id == b.doc_id and b.start <= a.start and a.end <= b.end


def build_evidence(
    result: SearchResult,
    extractive: Answer,
    texts: LetterTexts,
    budget: int,
    *,
    headers: bool = False,
) -> EvidenceSet:
    """The excerpts and facts for one question; see the module docstring."""
    out: list[Citation] = []
    kinds: dict[int, str] = {}
    renumber: dict[int, int] = {}
    for c in extractive.citations:
        holder = next((o for o in out if _inside(c, o)), None)
        if holder is not None:
            renumber[c.n] = holder.n
            continue
        contained = [o for o in out if _inside(o, c)]
        if contained:  # a later citation holds an earlier one: the earlier takes its span
            keep = contained[0]
            out[out.index(keep)] = c.model_copy(update={"n": keep.n})
            renumber[c.n] = keep.n
            for o in contained[1:]:
                out.remove(o)
                renumber[o.n] = keep.n
            continue
        new = c.model_copy(update={"n": len(out) + 1})
        renumber[c.n] = new.n
        out.append(new)
        kinds[new.n] = "answer"
    facts = []
    for line in extractive.answer.splitlines():
        line = line.strip()
        if line:
            facts.append(_MARK.sub(lambda m: f"[{renumber.get(int(m[1]), int(m[1]))}]", line))
    evidence = EvidenceSet(out, facts if extractive.answered else [], kinds)
    used = evidence.tokens

    def add(c: Citation, kind: str) -> bool:
        nonlocal used
        cost = tokens(c.quote)
        if used + cost > budget:
            return False
        if any(_inside(c, o) for o in out):
            return True
        checked = verify(texts, c.model_copy(update={"n": len(out) + 1}))
        if checked is None:
            return True
        out.append(checked)
        kinds[checked.n] = kind
        used += cost
        return True

    if headers:
        docs = list(dict.fromkeys(c.doc_id for c in extractive.citations))
        docs += [d for d in result.filters.doc_ids if d not in docs]
        for doc_id in docs[:MAX_HEADER_LETTERS]:
            letter = texts.letter(doc_id)
            if letter is not None:
                for c in header_excerpts(letter):
                    add(c, "header")
    wanted = {(r.doc_id, r.item_index) for r in result.items}
    for h in result.hits:
        chunk = h.chunk
        if result.filters.restricted and chunk.item_index is not None:
            if (chunk.doc_id, chunk.item_index) not in wanted:
                continue  # an item the question's filters leave out
        letter = texts.letter(chunk.doc_id)
        if letter is None:
            continue
        taken = [Span(start=o.start, end=o.end) for o in out if o.doc_id == chunk.doc_id]
        for start, end in _uncovered(chunk.start, chunk.end, taken):
            piece = _piece(letter, start, end, chunk.item_index)
            if piece is not None and not add(piece, "passage"):
                return evidence
    return evidence


def _uncovered(start: int, end: int, taken: list[Span]) -> list[tuple[int, int]]:
    """Parts of ``[start, end)`` outside every span in ``taken``."""
    parts = []
    pos = start
    for s in sorted(taken, key=lambda s: s.start):
        if s.end <= pos or s.start >= end:
            continue
        if s.start > pos:
            parts.append((pos, s.start))
        pos = max(pos, s.end)
    if pos < end:
        parts.append((pos, end))
    return parts


def _piece(letter: Letter, start: int, end: int, item_index: int | None) -> Citation | None:
    """The whole words of ``letter.text[start:end]`` as a citation, or None if too short."""
    text = letter.text
    while start < end and (text[start].isalnum() and start > 0 and text[start - 1].isalnum()):
        start += 1  # inside a word: move to its end
    while start < end and not text[start].isalnum() and text[start] not in "\"'(":
        start += 1
    while end > start and end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end -= 1
    while end > start and text[end - 1].isspace():
        end -= 1
    quote = clean(text[start:end]).strip()
    if len(quote) < MIN_PIECE:
        return None
    item = letter.items[item_index] if item_index is not None else None
    return Citation(
        n=0,
        doc_id=letter.doc_id,
        source=letter.source,
        treatment=item.treatment if item else None,
        decision=item.decision if item else None,
        quote=quote,
        start=start,
        end=end,
    )


def sentence_spans(nt: NormalizedText, span: Span) -> list[tuple[str, Span]]:
    """The sentences of the original range ``span``, each with its original span."""
    a = bisect.bisect_left(nt.offsets, span.start)
    b = bisect.bisect_left(nt.offsets, span.end)
    return [nt.field(sa, sb) for sa, sb in sentences(nt, a, b)]


_BLANK = re.compile(r"\n[ \t]*\n")
_SENT_END = re.compile(r"[.!?](?=\s)")


def header_excerpts(letter: Letter) -> list[Citation]:
    """The sentence or cover-block line that states each header field of the letter.

    A field's context ends at a blank line (cover blocks put one field per line
    between blank lines) or at a sentence end ("... is licensed to practice in
    California."), whichever is nearer.
    """
    spans = [letter.spans[k] for k in _HEADER_FIELDS if k in letter.spans]
    spans += list(letter.patient.spans.values()) + list(letter.reviewer.spans.values())
    text = letter.text
    out: list[Citation] = []
    seen: set[tuple[int, int]] = set()
    for s in sorted(spans, key=lambda s: s.start):
        if s.end <= s.start:
            continue
        left = max(
            [m.end() for m in _BLANK.finditer(text, 0, s.start)]
            + [m.end() + 1 for m in _SENT_END.finditer(text, 0, s.start)]
            + [0]
        )
        right_blank = _BLANK.search(text, s.end)
        right_sent = _SENT_END.search(text, s.end)
        right = (
            min(
                m.start() + (1 if m.re is _SENT_END else 0)
                for m in (right_blank, right_sent)
                if m is not None
            )
            if (right_blank or right_sent)
            else len(text)
        )
        left = max(left, s.start - MAX_HEADER_CHARS // 2)
        right = min(right, s.end + MAX_HEADER_CHARS // 2)
        piece = _piece(letter, left, right, None)
        if piece is None:
            # A short line ("State(s) of Licensure: California") is a fact all the same.
            quote = clean(text[left:right]).strip()
            if not quote:
                continue
            lead = len(text[left:right]) - len(text[left:right].lstrip())
            tail = len(text[left:right]) - len(text[left:right].rstrip())
            piece = Citation(
                n=0,
                doc_id=letter.doc_id,
                source=letter.source,
                quote=quote,
                start=left + lead,
                end=right - tail,
            )
        key = (piece.start, piece.end)
        if key in seen or any(o.start <= piece.start and piece.end <= o.end for o in out):
            continue
        seen.add(key)
        out.append(piece)
    return out
