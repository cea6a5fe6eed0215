"""The deterministic answer writer, built on the structured records.

Counts and lists come from every matching item in the index (not from the top-k
passages); "why" answers group the matching items by reason category, each
reason backed by the reviewer's own sentence. Same index and question, same answer.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, replace

from imr_assist.answer.citations import LetterTexts, verify
from imr_assist.constants import (
    CANNOT_ANSWER,
    OVERTURNED,
    REASON_LABELS,
    UPHELD,
    reason_label_in_text,
)
from imr_assist.index.catalog import ItemRow
from imr_assist.models import Answer, Citation, Item, Letter
from imr_assist.parse.lexicon import get_lexicon
from imr_assist.parse.reasons import sentences
from imr_assist.retrieve.hybrid import SearchResult
from imr_assist.retrieve.query import QueryFilters, fact_asked
from imr_assist.settings import DEFAULTS
from imr_assist.text import clean, normalize

# Answer limits: settings.AnswerSettings (the values and why); these are the defaults.
MIN_RELEVANCE = DEFAULTS.answer.min_relevance


@dataclass
class Evidence:
    doc_id: str
    item_index: int | None
    start: int
    end: int
    quote: str


class CitationLedger:
    """Numbers citations in order of first use; refuses any that fail verification."""

    def __init__(self, texts: LetterTexts) -> None:
        self.texts = texts
        self.citations: list[Citation] = []
        self._by_span: dict[tuple[str, int, int], int] = {}

    def cite(self, ev: Evidence) -> str:
        key = (ev.doc_id, ev.start, ev.end)
        if key in self._by_span:
            return f"[{self._by_span[key]}]"
        letter = self.texts.letter(ev.doc_id)
        if letter is None:
            return ""
        item = letter.items[ev.item_index] if ev.item_index is not None else None
        candidate = Citation(
            n=len(self.citations) + 1,
            doc_id=ev.doc_id,
            source=letter.source,
            treatment=item.treatment if item else None,
            decision=item.decision if item else None,
            quote=ev.quote,
            start=ev.start,
            end=ev.end,
        )
        checked = verify(self.texts, candidate)
        if checked is None:
            return ""
        self.citations.append(checked)
        self._by_span[key] = checked.n
        return f"[{checked.n}]"


def decision_line(letter: Letter, item: Item) -> Evidence:
    """The item's decision as the letter states it ("Norco 10/325mg #60: Upheld")."""
    start = item.spans["treatment"].start
    end = item.spans["decision"].end
    if end <= start:  # 2013 format: the decision sentence follows the treatment
        end = item.spans["treatment"].end
    return Evidence(letter.doc_id, item.index, start, end, clean(letter.text[start:end]).strip())


def reason_evidence(letter: Letter, item: Item, category: str) -> Evidence | None:
    for r in item.reasons:
        if r.category == category:
            return Evidence(letter.doc_id, item.index, r.start, r.end, r.quote)
    return None


def rationale_evidence(letter: Letter, item: Item) -> Evidence | None:
    """The rationale's first sentence, for items whose reasons carry no label."""

    span = item.spans.get("rationale")
    if span is None:
        return None
    nt = normalize(letter.text)
    a = bisect.bisect_left(nt.offsets, span.start)
    b = bisect.bisect_left(nt.offsets, span.end)
    sents = list(sentences(nt, a, b))
    if not sents:
        return None
    # the conclusion ("the request ... is not medically necessary"), or when it only says
    # the decision again ("Therefore, this request for right knee MRI is medically
    # necessary."), the sentence before it, which gives the reason
    at = len(sents) - 1
    while at > 0 and _ONLY_DECIDED.match(nt.flat[sents[at][0] : sents[at][1]]):
        at -= 1
    sa, sb = sents[at]
    value, s = nt.field(sa, sb)
    return Evidence(letter.doc_id, item.index, s.start, s.end, value)


#: A sentence that only states the decision, with no reason in it.
_ONLY_DECIDED = re.compile(
    r"^\s*(?:(?:therefore|thus|hence|consequently|accordingly|as\s+such|in\s+summary|"
    r"for\s+(?:these|those|this|the\s+above|all\s+of\s+these)\s+reasons?|given\s+the\s+above|"
    r"in\s+light\s+of\s+(?:the|this)[^,]{0,40}|"
    r"based\s+on\s+(?:the|this)[^,]{0,60}),?\s+)?(?:(?:the|this)\s+)?(?:request|requested|"
    r"treatment|retrospective)?[^,;:]{0,90}?\b(?:is|are|was|were)\s+(?:not\s+)?(?:medically\s+"
    r"necessary|certified|supported|warranted|appropriate)(?:\s+(?:and|or)\s+(?:medically\s+)?"
    r"(?:necessary|appropriate|warranted))?\s*\.?\s*$",
    re.IGNORECASE,
)


def subject(filters: QueryFilters) -> str:
    # A group word meaning many classes ("medications") is said as one word.
    classes = filters.classes if len(filters.classes) <= 4 else ["drug"]
    names = filters.canonicals + classes
    if not names:
        return ""
    return " / ".join(names) + " "


def scope(f: QueryFilters) -> str:
    """The restrictions other than treatment and decision, said in the answer:
    " (citing MTUS; reviewer: neurology; patient: 64, female)"."""
    parts = []
    if f.guideline:
        parts.append(f"citing {f.guideline}")
    if f.specialty:
        parts.append(f"reviewer: {f.specialty}")
    if f.patient_ages or f.patient_sex:
        who = ", ".join(str(a) for a in f.patient_ages)
        parts.append("patient: " + ", ".join(x for x in (who, f.patient_sex or "") if x))
    if f.injury_date:
        parts.append(f"injured {f.injury_date}")
    if f.case_number:
        parts.append(f"case {f.case_number}")
    if f.narrowed:
        parts.append(f.narrowed)
    elif f.doc_ids and not (f.specialty or f.patient_ages or f.injury_date):
        parts.append("letter " + ", ".join(f.doc_ids[:3]) + (" ..." if len(f.doc_ids) > 3 else ""))
    return f" ({'; '.join(parts)})" if parts else ""


EXAMPLES_PER_REASON = DEFAULTS.answer.examples_per_reason
MAX_LISTED = DEFAULTS.answer.max_listed
COMPARED_PER_SIDE = DEFAULTS.answer.compared_per_side
MAX_GROUPS = DEFAULTS.answer.max_groups
MAX_LETTERS = DEFAULTS.answer.max_letters


class Found:
    """A matching item: the catalog row, with its letter loaded only when quoted."""

    __slots__ = ("row", "_texts")

    def __init__(self, row: ItemRow, texts: LetterTexts) -> None:
        self.row = row
        self._texts = texts

    @property
    def doc_id(self) -> str:
        return self.row.doc_id

    @property
    def decision(self) -> str:
        return self.row.decision

    @property
    def categories(self) -> list[str]:
        return self.row.reasons

    @property
    def name(self) -> str:
        return self.row.canonical or self.row.treatment

    @property
    def label(self) -> str:
        return f"{self.row.treatment} ({self.row.doc_id})"

    @property
    def letter(self) -> Letter | None:
        return self._texts.letter(self.row.doc_id)

    @property
    def item(self) -> Item | None:
        lt = self.letter
        if lt is None or self.row.item_index >= len(lt.items):
            return None
        return lt.items[self.row.item_index]

    def decision_evidence(self) -> Evidence | None:
        lt, it = self.letter, self.item
        return decision_line(lt, it) if lt is not None and it is not None else None

    def reason_evidence(self, category: str | None = None) -> Evidence | None:
        """The reviewer's sentence for ``category`` (the item's first reason if None)."""
        lt, it = self.letter, self.item
        if lt is None or it is None or not it.reasons:
            return None
        if category is None:
            r = it.reasons[0]
            return Evidence(lt.doc_id, it.index, r.start, r.end, r.quote)
        return reason_evidence(lt, it, category)


def _more(shown: int, total: int) -> str:
    return f" (showing {shown} of {total})" if total > shown else ""


def _labels(found: list[Found], limit: int = EXAMPLES_PER_REASON) -> str:
    text = ", ".join(x.label for x in found[:limit])
    if len(found) > limit:
        text += f" and {len(found) - limit} more"
    return text


class ExtractiveWriter:
    """Writes answers from the search result and the letters' records."""

    mode = "extractive"

    def __init__(self, texts: LetterTexts) -> None:
        self.texts = texts

    def write(self, result: SearchResult, kind: str, *, rank: bool = True) -> Answer:
        """The answer of ``kind`` from ``result``. With ``rank`` false, examples keep the
        catalog's order and the hits are not read (no model, no vector store): for a
        count or a list whose every word is a filter, the search has nothing to rank by."""
        ledger = CitationLedger(self.texts)
        f = result.filters
        rows = result.items
        if f.restricted and not rows:
            zero_count = kind in ("count", "share") and f.decision and self._all_rows_for(f)
            if not zero_count:  # "How many Xanax requests were overturned?" can be 0 of 1
                return self._cannot(result)
        if not f.restricted and kind in ("general", "why", "decision"):
            best = max((h.dense or 0.0 for h in result.hits), default=0.0)
            if not result.hits or best < MIN_RELEVANCE:
                return self._cannot(result)
        if kind == "fact":
            lines = self._fact(result.question, rows, ledger) if f.doc_ids else []
        else:
            # Where only some items are quoted, those the search ranked come first, so the
            # examples are the most relevant ones; complete lists keep the catalog's order.
            order: dict[tuple[str, int | None], int] = {}
            complete = kind in ("list", "decision", "count", "share") and len(rows) <= MAX_LISTED
            for n, h in enumerate([] if complete or not rank else result.hits):
                order.setdefault((h.chunk.doc_id, h.chunk.item_index), n)
            if order:
                rows = sorted(
                    rows,
                    key=lambda r: order.get((r.doc_id, r.item_index), len(order)),
                )  # stable: the rest keep the catalog's order
            found = [Found(r, self.texts) for r in rows]
            if kind == "general" and not f.restricted:
                found = self._found_from_hits(result)
            writer = {
                "why": self._why,
                "count": self._count,
                "share": self._count,
                "list": self._list,
                "decision": self._decisions,
                "summary": self._summary,
                "compare": self._compare,
            }.get(kind, self._decisions)
            lines = writer(found, f, ledger)
        text = "\n".join(lines).strip()
        if not ledger.citations or not text:
            return self._cannot(result)
        return Answer(
            question=result.question,
            answer=text,
            answered=True,
            mode=self.mode,
            filters=f.as_dict(),
            citations=ledger.citations,
        )

    # --- helpers -------------------------------------------------------------------
    def _found_from_hits(self, result: SearchResult) -> list[Found]:
        wanted: list[tuple[str, int]] = []
        for h in result.hits:
            key = (h.chunk.doc_id, h.chunk.item_index)
            if key[1] is not None and key not in wanted:
                wanted.append(key)  # type: ignore[arg-type]
        rows = {
            (r.doc_id, r.item_index): r
            for r in self.texts.catalog.items(doc_ids=sorted({d for d, _ in wanted}))
        }
        return [Found(rows[k], self.texts) for k in wanted if k in rows]

    def _cannot(self, result: SearchResult) -> Answer:
        evidence = CitationLedger(self.texts)
        for h in result.hits[:3]:
            c = h.chunk
            evidence.cite(Evidence(c.doc_id, c.item_index, c.start, c.end, c.text))
        return Answer(
            question=result.question,
            answer=CANNOT_ANSWER,
            answered=False,
            mode=self.mode,
            filters=result.filters.as_dict(),
            citations=[],
            evidence=evidence.citations,
        )

    def _all_rows_for(self, f: QueryFilters) -> list[ItemRow]:
        """The items the filters select whatever their decision: the base of a share."""
        from imr_assist.retrieve.hybrid import item_matches

        if f.letter_refs_unmatched:
            return []  # the question named a letter the index does not hold
        g = replace(f, decision=None)
        rows = self.texts.catalog.items(
            generics=g.generics,
            classes=g.classes,
            canonicals=g.names_without_generic,
            doc_ids=g.doc_ids,
        )
        return [r for r in rows if item_matches(r, g)]

    @staticmethod
    def _partial_note(x: Found, led: CitationLedger) -> str:
        """For a partial certification: what was first asked and what UR had authorized."""
        lt, it = x.letter, x.item
        if lt is None or it is None or not it.partial:
            return ""
        parts = []
        for name, say in (("original_request", "original request"), ("authorized_portion", "")):
            span = it.spans.get(name)
            value = getattr(it, name)
            if span is None or not value:
                continue
            mark = led.cite(Evidence(lt.doc_id, it.index, span.start, span.end, value))
            parts.append(f"{say} {value} {mark}" if say else f"{value} already authorized {mark}")
        return f" (the part IMR decided; {'; '.join(p.strip() for p in parts)})" if parts else ""

    @staticmethod
    def _cite_decision(x: Found, led: CitationLedger) -> str:
        ev = x.decision_evidence()
        return led.cite(ev) if ev else ""

    @staticmethod
    def _cite_reason(x: Found, led: CitationLedger) -> str:
        """ "; <reason label> [n]" for the item's first reason, or ""."""
        ev = x.reason_evidence()
        if ev is None or not x.categories:
            return ""
        return f"; {reason_label_in_text(x.categories[0])} {led.cite(ev)}"

    def _item_lines(
        self, found: list[Found], led: CitationLedger, *, reason: bool, total: int | None = None
    ) -> list[str]:
        """A line per item, the first ``MAX_LISTED`` of ``total`` (default: all found)."""
        lines = []
        for x in found[:MAX_LISTED]:
            line = f"- {x.label}: {x.decision} {self._cite_decision(x, led)}"
            line += self._partial_note(x, led)
            if reason:
                line += self._cite_reason(x, led)
            lines.append(line)
        total = len(found) if total is None else total
        if total > MAX_LISTED:
            lines.append(f"- and {total - MAX_LISTED} more")
        return lines

    # --- answer kinds ----------------------------------------------------------------
    def _why(self, found: list[Found], f: QueryFilters, led: CitationLedger) -> list[str]:
        lines: list[str] = []
        decisions = [f.decision] if f.decision else [UPHELD, OVERTURNED]
        for decision in decisions:
            group = [x for x in found if x.decision == decision]
            if not group:
                continue
            n = len(group)
            what = f"{subject(f)}decision{'s' if n != 1 else ''}"
            where = f"in the index{scope(f)}"
            verdict = "not medically necessary" if decision == UPHELD else "medically necessary"
            lines.append(f"{n} {decision} {what} {where} ({verdict}), by reason:")
            by_cat: dict[str, list[Found]] = defaultdict(list)
            unlabelled = []
            for x in group:
                if not x.categories:
                    unlabelled.append(x)
                for cat in x.categories:
                    by_cat[cat].append(x)
            order = sorted(by_cat, key=lambda c: (-len(by_cat[c]), list(REASON_LABELS).index(c)))
            for cat in order:
                members = by_cat[cat]
                marks = "".join(
                    led.cite(ev)
                    for x in members[:EXAMPLES_PER_REASON]
                    if (ev := x.reason_evidence(cat))
                )
                lines.append(
                    f"- {REASON_LABELS[cat]}: {len(members)} of {n} {decision} {what} "
                    f"({_labels(members)}) {marks}"
                )
            for x in unlabelled[:EXAMPLES_PER_REASON]:
                lt, it = x.letter, x.item
                if lt is None or it is None:
                    continue
                ev = rationale_evidence(lt, it) or decision_line(lt, it)
                lines.append(f"- Other reasoning in {x.label}: {led.cite(ev)}")
            if len(unlabelled) > EXAMPLES_PER_REASON:
                lines.append(
                    f"- Other reasoning in {len(unlabelled) - EXAMPLES_PER_REASON} more "
                    f"{decision} {what}"
                )
        return lines

    def _count(self, found: list[Found], f: QueryFilters, led: CitationLedger) -> list[str]:
        # Counts are over the treatment filter; the decision word picks what is counted.
        if f.decision:
            base = [Found(r, self.texts) for r in self._all_rows_for(f)]
            # none counted: the decisions that were made are cited
            return self.decided_lines(f, len(found), len(base), found or base, found, led)
        groups = {name: [x for x in found if x.decision == name] for name in (UPHELD, OVERTURNED)}
        return self.tally_lines(f, len(found), {k: (len(v), v) for k, v in groups.items()}, led)

    def decided_lines(
        self,
        f: QueryFilters,
        n: int,
        total: int,
        examples: list[Found],
        listed: list[Found],
        led: CitationLedger,
    ) -> list[str]:
        """ "n of total ... were <f.decision> (p%)", cited from ``examples``, then the
        ``n`` decisions, of which ``listed`` holds the first ones."""
        marks = "".join(self._cite_decision(x, led) for x in examples[:EXAMPLES_PER_REASON])
        share = f" ({100 * n / total:.0f}%)" if total else ""
        line = (
            f"{n} of {total} {subject(f)}decision{'s' if total != 1 else ''} "
            f"in the index{scope(f)} "
            f"{'was' if n == 1 else 'were'} {f.decision}{share}. {marks}".rstrip()
        )
        return [line] + self._item_lines(listed, led, reason=False, total=n)

    def tally_lines(
        self,
        f: QueryFilters,
        n: int,
        groups: dict[str, tuple[int, list[Found]]],
        led: CitationLedger,
    ) -> list[str]:
        """ "n decisions:" and a line per decision with its count, cited from its first
        examples; ``groups`` maps each decision to (its count, examples)."""
        if not n:
            return []
        lines = [f"{n} {subject(f)}decision{'s' if n != 1 else ''} in the index{scope(f)}:"]
        for name in (UPHELD, OVERTURNED):
            count, examples = groups.get(name, (0, []))
            marks = "".join(self._cite_decision(x, led) for x in examples[:EXAMPLES_PER_REASON])
            lines.append(
                f"- {count} of {n} ({100 * count / n:.0f}%) "
                f"{'was' if count == 1 else 'were'} {name}. {marks}".rstrip()
            )
        return lines

    def _list(self, found: list[Found], f: QueryFilters, led: CitationLedger) -> list[str]:
        return self.list_lines(f, len(found), found, led)

    def list_lines(
        self, f: QueryFilters, n: int, listed: list[Found], led: CitationLedger
    ) -> list[str]:
        """ "n requests (showing ...):" and the first of them, ``listed``."""
        what = f"{f.decision} " if f.decision else ""
        head = f"{n} {what}{subject(f)}request{'s' if n != 1 else ''}{scope(f)}"
        lines = [f"{head}{_more(MAX_LISTED, n)}:"] + self._item_lines(
            listed, led, reason=False, total=n
        )
        if f.cite_reasons:
            # "requests denied because a study was already done": each with the sentence
            # of its rationale that says so
            for k, x in enumerate(listed[:MAX_LISTED]):
                cat = next((c for c in f.cite_reasons if c in x.categories), None)
                ev = x.reason_evidence(cat) if cat else None
                if ev is not None:
                    lines[k + 1] += f'; "{ev.quote}" {led.cite(ev)}'
        return lines

    def _decisions(self, found: list[Found], f: QueryFilters, led: CitationLedger) -> list[str]:
        if not found:
            return []
        head = f"Decisions on {subject(f) or 'the matching '}requests{scope(f)}"
        return [f"{head}{_more(MAX_LISTED, len(found))}:"] + self._item_lines(
            found, led, reason=True
        )

    def _summary(self, found: list[Found], f: QueryFilters, led: CitationLedger) -> list[str]:
        lines = []
        doc_ids = list(dict.fromkeys(x.doc_id for x in found))
        if len(doc_ids) > MAX_LETTERS:
            lines.append(f"{len(doc_ids)} letters match; the first {MAX_LETTERS}:")
        for doc_id in doc_ids[:MAX_LETTERS]:
            lt = self.texts.letter(doc_id)
            if lt is None:
                continue
            p = lt.patient
            who = " ".join(x for x in (f"{p.age}-year-old" if p.age else "", p.sex or "") if x)
            head = f"Case {lt.case_number or lt.doc_id}"
            if who:
                head += f": a {who} injured worker"
            if lt.date_of_injury:
                head += f", injured {lt.date_of_injury}"
            if lt.reviewer.specialties:
                head += f"; reviewer: {', '.join(lt.reviewer.specialties)}"
            lines.append(head + ".")
            for it in lt.items:
                line = f"- {it.treatment}: {it.decision} {led.cite(decision_line(lt, it))}"
                for r in it.reasons[:2]:
                    ev = Evidence(lt.doc_id, it.index, r.start, r.end, r.quote)
                    line += f"; {reason_label_in_text(r.category)} {led.cite(ev)}"
                lines.append(line)
        return lines

    def _compare(self, found: list[Found], f: QueryFilters, led: CitationLedger) -> list[str]:
        """Side by side, grouped as asked: by drug class when the question names classes
        ("opioids vs NSAIDs"), otherwise by treatment."""
        lines = []
        groups: dict[str, list[Found]] = defaultdict(list)
        asked = [(c, set(c.lower().split())) for c in f.canonicals]
        for x in found:
            cls = x.row.drug_class
            if cls and cls in f.classes:
                groups[cls].append(x)
                continue
            # "PT" also finds the combined "Physical and occupational therapy" requests:
            # they are on the side of the name asked
            words = set(x.name.lower().split())
            home = x.name if x.name in f.canonicals else None
            home = home or next((c for c, cw in asked if cw <= words), x.name)
            groups[home].append(x)
        names = sorted(groups, key=lambda g: (-len(groups[g]), g))
        lex = get_lexicon()
        as_asked: dict[str, str] = {}  # "Physical therapy (PT)": the name as asked too
        for m in f.mentions:
            hit = lex.find(m)
            if hit is not None and hit.entry.canonical.lower() != m.lower():
                as_asked.setdefault(hit.entry.canonical, m)
        for name in names[:MAX_GROUPS]:
            group = groups[name]
            n = len(group)
            if f.decision:
                counts = f"{n} {f.decision} decision{'s' if n != 1 else ''}"
            else:
                up = sum(1 for x in group if x.decision == UPHELD)
                rate = round(100 * (n - up) / n)
                counts = (
                    f"{n} decision{'s' if n != 1 else ''} ({up} upheld, {n - up} overturned: "
                    f"{rate}% overturned)"
                )
            said = f" ({as_asked[name]})" if name in as_asked else ""
            lines.append(f"{name}{said}, {counts}{scope(f)}:")
            for decision in (UPHELD, OVERTURNED):
                side = [x for x in group if x.decision == decision]
                for x in side[:COMPARED_PER_SIDE]:
                    lines.append(
                        f"- {x.label}: {x.decision} {self._cite_decision(x, led)}"
                        + self._cite_reason(x, led)
                    )
                if len(side) > COMPARED_PER_SIDE:
                    lines.append(f"- and {len(side) - COMPARED_PER_SIDE} more {decision}")
        if len(names) > MAX_GROUPS:
            lines.append(f"and {len(names) - MAX_GROUPS} more treatments")
        return lines

    def _fact(self, question: str, rows: list[ItemRow], led: CitationLedger) -> list[str]:
        """A field of the named letters, quoted where the letter states it."""
        name = fact_asked(question)
        if name is None or name == "reviewer_name":
            return []  # reviewers are anonymous: no letter names one
        lines = []
        for doc_id in list(dict.fromkeys(r.doc_id for r in rows))[:MAX_LISTED]:
            lt = self.texts.letter(doc_id)
            value = getattr(lt, name, None) if lt is not None else None
            span = lt.spans.get(name) if lt is not None else None
            if lt is None or not value or span is None:
                continue
            quote = clean(lt.text[span.start : span.end]).strip()
            mark = led.cite(Evidence(lt.doc_id, None, span.start, span.end, quote))
            lines.append(f"{lt.doc_id}: {name.replace('_', ' ')} {value} {mark}".rstrip())
        return lines
