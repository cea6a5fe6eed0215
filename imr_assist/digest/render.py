"""Digests: one letter as a page a person reads (Markdown, HTML) or as a JSON record.

A digest shows the letter's parsed facts and, per item, the reviewer's reasons,
each backed by its verbatim sentence. Every quote passes
``imr_assist.answer.citations.verify`` first (the cleaned letter text at its span
equals the quote); a quote that does not is left out rather than shown unchecked.

Quotes are numbered once per letter, decision lines and reasons in letter order,
then each item's decisive finding and the case summary's sentences
(``imr_assist.digest.summary``), and the same numbers serve the digest's markers,
the HTML highlights (``q<n>``) and the excerpts an LLM summary cites, so ``[3]``
means one sentence everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jinja2

from imr_assist.answer.citations import LetterTexts, verify
from imr_assist.answer.extractive import decision_line
from imr_assist.constants import REASON_LABELS
from imr_assist.digest.summary import SummaryLine, case_summary, decisive_sentence
from imr_assist.errors import ConfigError
from imr_assist.index.catalog import Catalog
from imr_assist.models import Answer, Citation, Item, Letter
from imr_assist.settings import Settings

if TYPE_CHECKING:
    from imr_assist.answer.llm_client import LLMClient

#: Output formats ``digest`` writes, and the file extension of each.
FORMATS: tuple[str, ...] = ("md", "html", "json")
#: Shown for a field the letter does not state.
NOT_STATED = "not stated"
#: Shown instead of an LLM summary that failed verification or could not be written.
SUMMARY_UNVERIFIED_NOTE = (
    "A plain-language summary could not be verified against the letter, so it is omitted."
)

_MARK = re.compile(r"\[(\d+)\]")
# CommonMark treats these as syntax; a backslash makes each one literal text.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&])")


# --- the digest's content ------------------------------------------------------------


@dataclass(frozen=True)
class ReasonQuote:
    """One reason of an item with the verified sentence that signals it."""

    category: str
    label: str
    citation: Citation


@dataclass
class DigestItem:
    """One decided item as the digest shows it."""

    item: Item
    decision_citation: Citation | None
    reasons: list[ReasonQuote] = field(default_factory=list)
    #: The reviewer's decisive sentence when no reason category was verified.
    finding: Citation | None = None

    @property
    def partial_note(self) -> str | None:
        """For a partial certification: what IMR decided, against the original request
        and the part UR had already authorized; None for a whole request."""
        it = self.item
        if it.original_request is None:
            return None
        note = f"Partial certification: the part IMR decided; {it.original_request} was the original request"
        if it.authorized_portion:
            note += f"; {it.authorized_portion} already authorized"
        return note + "."

    @property
    def quantity(self) -> str:
        it = self.item
        if it.quantity is None:
            return ""
        refills = ""
        if it.refills:
            refills = f" ({it.refills} refill{'s' if it.refills != 1 else ''})"
        return f"{it.quantity}{refills}"

    @property
    def quoted_reasons(self) -> list[tuple[list[str], Citation]]:
        """Reason labels grouped by the sentence they rest on, so each quote shows once."""
        groups: dict[int, tuple[list[str], Citation]] = {}
        for r in self.reasons:
            groups.setdefault(r.citation.n, ([], r.citation))[0].append(r.label)
        return list(groups.values())


@dataclass
class LetterQuotes:
    """A letter's verified quotes, numbered from 1, grouped by item."""

    letter: Letter
    citations: list[Citation]
    items: list[DigestItem]
    #: The case summary's lines with their citations (``case_summary``).
    summary: list[tuple[SummaryLine, Citation]] = field(default_factory=list)

    def topic(self, name: str) -> Citation | None:
        return next((c for line, c in self.summary if line.topic == name), None)


class _OneLetterCatalog:
    """Just enough of ``Catalog`` for ``LetterTexts`` over one letter, indexed or not."""

    def __init__(self, letter: Letter) -> None:
        self._letter = letter

    def letter(self, doc_id: str) -> Letter | None:
        return self._letter if doc_id == self._letter.doc_id else None


def letter_texts(letter: Letter) -> LetterTexts:
    """``LetterTexts`` for a single letter, so a parsed file needs no index."""
    return LetterTexts(cast(Catalog, _OneLetterCatalog(letter)))


def letter_quotes(letter: Letter, texts: LetterTexts | None = None) -> LetterQuotes:
    """Each item's decision line and reasons, verified and numbered in letter order.

    Two reasons resting on the same sentence share one number; a quote that fails
    verification is dropped.
    """
    texts = texts or letter_texts(letter)
    citations: list[Citation] = []
    by_span: dict[tuple[int, int], Citation] = {}

    def cite(item: Item | None, quote: str, start: int, end: int) -> Citation | None:
        candidate = Citation(
            n=len(citations) + 1,
            doc_id=letter.doc_id,
            source=letter.source,
            treatment=item.treatment if item else None,
            decision=item.decision if item else None,
            quote=quote,
            start=start,
            end=end,
        )
        checked = verify(texts, candidate)
        if checked is None:
            return None
        key = (checked.start, checked.end)
        if key not in by_span:
            citations.append(checked)
            by_span[key] = checked
        return by_span[key]

    items: list[DigestItem] = []
    for item in letter.items:
        decision_cite = None
        if "treatment" in item.spans and "decision" in item.spans:
            ev = decision_line(letter, item)
            decision_cite = cite(item, ev.quote, ev.start, ev.end)
        reasons = []
        for r in item.reasons:
            c = cite(item, r.quote, r.start, r.end)
            if c is not None:
                label = REASON_LABELS.get(r.category, r.category)
                reasons.append(ReasonQuote(r.category, label, c))
        items.append(DigestItem(item, decision_cite, reasons))
    for d in items:
        if not d.reasons and (found := decisive_sentence(letter, d.item)) is not None:
            d.finding = cite(d.item, found[0], found[1].start, found[1].end)
    summary = []
    for line in case_summary(letter):
        owner = letter.items[line.item_index] if line.item_index is not None else None
        c = cite(owner, line.quote, line.span.start, line.span.end)
        if c is not None:
            summary.append((line, c))
    return LetterQuotes(letter, citations, items, summary)


# --- LLM summary --------------------------------------------------------------------


def llm_client(settings: Settings) -> LLMClient:
    """An LLM client built from ``settings`` (the caller closes it)."""
    from imr_assist.answer.llm_client import client_from_settings

    return client_from_settings(settings)


def summarize(letter: Letter, settings: Settings, client: LLMClient | None = None) -> Answer:
    """A plain-language summary written by the LLM, kept only if its sentences hold up.

    The excerpts are the digest's own numbered quotes, and each sentence is checked as
    an answer's is (``LLMWriter.run``: cited excerpts exist, words and decisions backed
    by them); sentences that fail are left out with a notice. With none left, or on an
    LLM error, the result has ``answered=False``, no text, and a notice.
    ``client`` is an ``LLMClient``; by default one is built from ``settings``.
    """
    from imr_assist.answer.evidence import EvidenceSet
    from imr_assist.answer.llm import LLMWriter
    from imr_assist.prompts import render

    texts = letter_texts(letter)
    quotes = letter_quotes(letter, texts)
    excerpts = quotes.citations
    question = f"Plain-language summary of {letter.case_number or letter.doc_id}"

    def unverified(problem: str, notes: list[str] | None = None, usage=None) -> Answer:  # type: ignore[no-untyped-def]
        return Answer(
            question=question,
            answer="",
            answered=False,
            mode="llm",
            notices=[*(notes or []), f"{SUMMARY_UNVERIFIED_NOTE} ({problem})"],
            usage=usage or None,
        )

    if not excerpts:
        return unverified("the letter has no verifiable quotes to cite")
    facts = [
        f"{d.item.treatment}: {d.item.decision} [{d.decision_citation.n}]"
        for d in quotes.items
        if d.decision_citation is not None
    ]
    ev = EvidenceSet(excerpts, facts)
    prompt = render("digest_summary.j2", excerpts=excerpts, facts=facts)
    own = client is None
    llm = client or llm_client(settings)
    try:
        writer = LLMWriter(llm, texts, max_tokens=settings.llm_max_tokens)
        run = writer.run([{"role": "user", "content": prompt}], ev)
    finally:
        if own:
            llm.close()
    if run.error is not None:
        return unverified(run.error, run.notes, run.usage)
    if run.refused:
        return unverified("the model gave no summary", run.notes, run.usage)
    if run.problem is not None:
        return unverified(run.problem, run.notes, run.usage)
    return Answer(
        question=question,
        answer=run.text,
        answered=True,
        mode="llm",
        citations=[c for c in excerpts if c.n in run.used],
        notices=run.notes,
        usage=run.usage or None,
    )


# --- rendering ------------------------------------------------------------------------


def md_escape(value: object) -> str:
    """Text as literal Markdown on one line: syntax characters backslash-escaped.

    Whitespace runs become one space but are not stripped, so pieces of a sentence
    (the summary around its markers) keep their spacing.
    """
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", str(value)))


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    here = Path(__file__).resolve().parent.parent / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(here)),
        undefined=jinja2.StrictUndefined,
        # Letter text is untrusted input: HTML templates escape everything they print.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    return env


@dataclass(frozen=True)
class Segment:
    """A run of text; ``mark`` names the highlight or the link target it belongs to."""

    text: str
    mark: str | None = None
    n: int | None = None


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or nested spans merged, sorted; touching spans stay apart."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _highlights(text: str, citations: list[Citation]) -> tuple[list[Segment], dict[int, str]]:
    """The letter cut into plain and marked runs, and each quote's mark id.

    Marks cannot nest or overlap in HTML, so overlapping quotes share one merged
    mark, named after the lowest quote number inside it.
    """
    groups = merge_spans([(c.start, c.end) for c in citations])
    anchor: dict[int, str] = {}
    names: dict[tuple[int, int], str] = {}
    for c in sorted(citations, key=lambda c: c.n):
        group = next(g for g in groups if g[0] <= c.start and c.end <= g[1])
        names.setdefault(group, f"q{c.n}")
        anchor[c.n] = names[group]
    segments: list[Segment] = []
    pos = 0
    for start, end in groups:
        if start > pos:
            segments.append(Segment(text[pos:start]))
        segments.append(Segment(text[start:end], mark=names[(start, end)]))
        pos = end
    if pos < len(text):
        segments.append(Segment(text[pos:]))
    return segments, anchor


def _summary_segments(text: str, anchor: dict[int, str]) -> list[Segment]:
    """Summary text split around its ``[n]`` markers, so templates can link them."""
    out: list[Segment] = []
    pos = 0
    for m in _MARK.finditer(text):
        n = int(m[1])
        if n not in anchor:
            continue
        if m.start() > pos:
            out.append(Segment(text[pos : m.start()]))
        out.append(Segment(m[0], mark=anchor[n], n=n))
        pos = m.end()
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


def _summary_text(summary: Answer | None) -> str | None:
    """The summary's text if it passed verification, else None."""
    if summary is None or not summary.answered or not summary.answer.strip():
        return None
    return summary.answer.strip()


def _context(letter: Letter, summary: Answer | None) -> dict[str, Any]:
    quotes = letter_quotes(letter)
    segments, anchor = _highlights(letter.text, quotes.citations)
    text = _summary_text(summary)
    notes = list(summary.notices) if summary else []
    p = letter.patient
    return {
        "letter": letter,
        "title": letter.case_number or letter.doc_id,
        "not_stated": NOT_STATED,
        "dates": [
            ("Date of injury", letter.date_of_injury or NOT_STATED),
            ("Decision date", letter.decision_date or NOT_STATED),
            ("UR denial date", letter.ur_denial_date or NOT_STATED),
        ],
        "licensure": ", ".join(letter.reviewer.licensure) or NOT_STATED,
        "specialties": ", ".join(letter.reviewer.specialties) or NOT_STATED,
        "age": p.age if p.age is not None else NOT_STATED,
        "sex": p.sex or NOT_STATED,
        "items": quotes.items,
        "case_summary": [(line, c) for line, c in quotes.summary if line.topic != "finding"],
        "findings": [(line, c) for line, c in quotes.summary if line.topic == "finding"],
        "diagnoses_quote": quotes.topic("diagnoses"),
        "citations": quotes.citations,
        "anchor": anchor,
        "segments": segments,
        "summary": _summary_segments(text, anchor) if text else [],
        "notes": notes,
    }


def digest_json(letter: Letter, *, summary: Answer | None = None) -> dict[str, Any]:
    """The digest as a JSON-ready record; reasons refer to ``citations`` by number."""
    quotes = letter_quotes(letter)
    text = _summary_text(summary)
    return {
        "doc_id": letter.doc_id,
        "source": letter.source,
        "case_number": letter.case_number,
        "date_of_injury": letter.date_of_injury,
        "decision_date": letter.decision_date,
        "ur_denial_date": letter.ur_denial_date,
        "reviewer": {
            "licensure": letter.reviewer.licensure,
            "specialties": letter.reviewer.specialties,
        },
        "patient": {
            "age": letter.patient.age,
            "sex": letter.patient.sex,
            "date_of_injury": letter.date_of_injury,
            "diagnoses": letter.diagnoses,
        },
        "items": [
            {
                "index": d.item.index,
                "treatment": d.item.treatment,
                "quantity": d.item.quantity,
                "refills": d.item.refills,
                "decision": d.item.decision,
                "guidelines": d.item.guidelines,
                "pages": d.item.pages,
                "original_request": d.item.original_request,
                "authorized_portion": d.item.authorized_portion,
                "partial_note": d.partial_note,
                "decision_citation": d.decision_citation.n if d.decision_citation else None,
                "finding": d.finding.n if d.finding else None,
                "reasons": [
                    {
                        "category": r.category,
                        "label": r.label,
                        "quote": r.citation.quote,
                        "citation": r.citation.n,
                    }
                    for r in d.reasons
                ],
            }
            for d in quotes.items
        ],
        "case_summary": [
            {
                "topic": line.topic,
                "label": line.label,
                "quote": c.quote,
                "citation": c.n,
                "item_index": line.item_index,
            }
            for line, c in quotes.summary
        ],
        "citations": [c.model_dump(mode="json") for c in quotes.citations],
        "summary": (
            {"text": text, "citations": [c.n for c in summary.citations]}
            if summary and text
            else None
        ),
        "notes": list(summary.notices) if summary else [],
    }


def digest(letter: Letter, fmt: str = "md", *, summary: Answer | None = None) -> str:
    """The letter's digest as Markdown (``md``), a standalone HTML page, or JSON.

    ``summary`` is a verified LLM summary from ``summarize``; when it was not
    verified, only its notice is shown.
    """
    if fmt == "json":
        return json.dumps(digest_json(letter, summary=summary), indent=2, ensure_ascii=False) + "\n"
    if fmt not in FORMATS:
        raise ConfigError(f"digest format {fmt!r} is not one of {', '.join(FORMATS)}")
    template = _env().get_template(f"digest.{fmt}.j2")
    return template.render(**_context(letter, summary))
