"""The deterministic answer writer, built on the structured records.

Counts and lists come from every matching item in the index (not from the top-k
passages); "why" answers group the matching items by reason category, each
reason backed by the reviewer's own sentence. Same index and question, same answer.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass

from imr_assist.answer.citations import LetterTexts, verify
from imr_assist.constants import CANNOT_ANSWER, OVERTURNED, REASON_LABELS, UPHELD
from imr_assist.index.catalog import ItemRow
from imr_assist.models import Answer, Citation, Item, Letter
from imr_assist.parse.reasons import sentences
from imr_assist.retrieve.hybrid import SearchResult
from imr_assist.retrieve.query import QueryFilters, fact_asked
from imr_assist.text import clean, normalize

#: Below this dense similarity, an unfiltered question is taken as off-topic.
MIN_RELEVANCE = 0.30


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
    sa, sb = sents[-1]  # the conclusion: "the request ... is not medically necessary"
    value, s = nt.field(sa, sb)
    return Evidence(letter.doc_id, item.index, s.start, s.end, value)


def subject(filters: QueryFilters) -> str:
    names = filters.canonicals + [f"{c}" for c in filters.classes]
    if not names:
        return ""
    return " / ".join(names) + " "


def _item_label(letter: Letter, item: Item) -> str:
    return f"{item.treatment} ({letter.doc_id})"


class ExtractiveWriter:
    """Writes answers from the search result and the letters' records."""

    mode = "extractive"

    def __init__(self, texts: LetterTexts) -> None:
        self.texts = texts

    def write(self, result: SearchResult, kind: str) -> Answer:
        self._question = result.question
        ledger = CitationLedger(self.texts)
        f = result.filters
        rows = result.items
        restricted = f.restricted
        if restricted and not rows:
            zero_count = kind in ("count", "share") and f.decision and self._all_rows_for(f)
            if not zero_count:  # "How many Xanax requests were overturned?" can be 0 of 1
                return self._cannot(result, ledger)
        if not restricted:
            best = max((h.dense or 0.0 for h in result.hits), default=0.0)
            if kind in ("general", "why", "decision") and (not result.hits or best < MIN_RELEVANCE):
                return self._cannot(result, ledger)
        if kind == "fact" and not f.doc_ids:
            return self._cannot(result, ledger)  # a letter fact needs a named letter
        pairs = self._pairs(rows)
        if kind == "general" and not restricted:
            pairs = self._pairs_from_hits(result)
        writer = {
            "why": self._why,
            "count": self._count,
            "share": self._count,
            "list": self._list,
            "decision": self._decisions,
            "summary": self._summary,
            "compare": self._compare,
            "fact": self._fact,
        }.get(kind, self._decisions)
        lines = writer(pairs, f, ledger)
        text = "\n".join(lines).strip()
        if not ledger.citations or not text:
            return self._cannot(result, ledger)
        return Answer(
            question=result.question,
            answer=text,
            answered=True,
            mode=self.mode,
            filters=f.as_dict(),
            citations=ledger.citations,
        )

    # --- helpers -------------------------------------------------------------------
    def _pairs(self, rows: list[ItemRow]) -> list[tuple[Letter, Item]]:
        out = []
        for r in rows:
            letter = self.texts.letter(r.doc_id)
            if letter is not None and r.item_index < len(letter.items):
                out.append((letter, letter.items[r.item_index]))
        return out

    def _pairs_from_hits(self, result: SearchResult) -> list[tuple[Letter, Item]]:
        out: list[tuple[Letter, Item]] = []
        seen = set()
        for h in result.hits:
            c = h.chunk
            if c.item_index is None or (c.doc_id, c.item_index) in seen:
                continue
            seen.add((c.doc_id, c.item_index))
            letter = self.texts.letter(c.doc_id)
            if letter is not None:
                out.append((letter, letter.items[c.item_index]))
        return out

    def _cannot(self, result: SearchResult, ledger: CitationLedger) -> Answer:
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

    # --- answer kinds ----------------------------------------------------------------
    def _why(
        self, pairs: list[tuple[Letter, Item]], f: QueryFilters, led: CitationLedger
    ) -> list[str]:
        lines: list[str] = []
        decisions = [f.decision] if f.decision else [UPHELD, OVERTURNED]
        for decision in decisions:
            group = [(lt, it) for lt, it in pairs if it.decision == decision]
            if not group:
                continue
            n = len(group)
            what = f"{subject(f)}decision{'s' if n != 1 else ''}"
            verdict = "not medically necessary" if decision == UPHELD else "medically necessary"
            lines.append(
                f"{n} {decision} {what} in the index: the reviewers found the request "
                f"{verdict}. By reason:"
            )
            by_cat: dict[str, list[tuple[Letter, Item]]] = defaultdict(list)
            unlabelled = []
            for lt, it in group:
                cats = it.reason_categories
                if not cats:
                    unlabelled.append((lt, it))
                for cat in cats:
                    by_cat[cat].append((lt, it))
            order = sorted(by_cat, key=lambda c: (-len(by_cat[c]), list(REASON_LABELS).index(c)))
            for cat in order:
                members = by_cat[cat]
                marks = "".join(
                    led.cite(ev) for lt, it in members if (ev := reason_evidence(lt, it, cat))
                )
                who = ", ".join(_item_label(lt, it) for lt, it in members)
                lines.append(
                    f"- {REASON_LABELS[cat]}: {len(members)} of {n} {decision} {what} "
                    f"({who}) {marks}"
                )
            for lt, it in unlabelled:
                ev = rationale_evidence(lt, it) or decision_line(lt, it)
                lines.append(f"- Other reasoning in {_item_label(lt, it)}: {led.cite(ev)}")
        return lines

    def _count(
        self, pairs: list[tuple[Letter, Item]], f: QueryFilters, led: CitationLedger
    ) -> list[str]:
        # Counts are over the treatment filter; the decision word picks what is counted.
        lines = []
        n = len(pairs)
        if f.decision:
            total_pairs = self._pairs([r for r in self._all_rows_for(f)])
            total = len(total_pairs)
            shown = pairs or total_pairs  # none counted: the decisions that were made
            marks = "".join(led.cite(decision_line(lt, it)) for lt, it in shown)
            share = f" ({100 * n / total:.0f}%)" if total else ""
            lines.append(
                f"{n} of {total} {subject(f)}decision{'s' if total != 1 else ''} in the index "
                f"{'was' if n == 1 else 'were'} {f.decision}{share}. {marks}".rstrip()
            )
            for lt, it in pairs:
                lines.append(f"- {_item_label(lt, it)}: {it.decision}")
            return lines
        up = [(lt, it) for lt, it in pairs if it.decision == UPHELD]
        ov = [(lt, it) for lt, it in pairs if it.decision == OVERTURNED]
        for name, group in (("upheld", up), ("overturned", ov)):
            if not n:
                break
            marks = "".join(led.cite(decision_line(lt, it)) for lt, it in group)
            lines.append(
                f"{len(group)} of {n} {subject(f)}decisions ({100 * len(group) / n:.0f}%) "
                f"{'was' if len(group) == 1 else 'were'} {name}. {marks}".rstrip()
            )
        return lines

    def _all_rows_for(self, f: QueryFilters) -> list[ItemRow]:
        from dataclasses import replace

        from imr_assist.retrieve.hybrid import item_matches

        g = replace(f, decision=None)
        rows = self.texts.catalog.items(
            generics=g.generics,
            classes=g.classes,
            canonicals=g.names_without_generic,
            doc_ids=g.doc_ids,
        )
        return [r for r in rows if item_matches(r, g)]

    def _list(
        self, pairs: list[tuple[Letter, Item]], f: QueryFilters, led: CitationLedger
    ) -> list[str]:
        what = f"{f.decision} " if f.decision else ""
        lines = [f"{len(pairs)} {what}{subject(f)}request{'s' if len(pairs) != 1 else ''}:"]
        for lt, it in pairs:
            lines.append(
                f"- {_item_label(lt, it)}: {it.decision} {led.cite(decision_line(lt, it))}"
            )
        return lines

    def _decisions(
        self, pairs: list[tuple[Letter, Item]], f: QueryFilters, led: CitationLedger
    ) -> list[str]:
        lines = []
        for lt, it in pairs:
            line = f"- {_item_label(lt, it)}: {it.decision} {led.cite(decision_line(lt, it))}"
            if it.reasons:
                r = it.reasons[0]
                ev = Evidence(lt.doc_id, it.index, r.start, r.end, r.quote)
                line += f"; {REASON_LABELS[r.category].lower()} {led.cite(ev)}"
            lines.append(line)
        if lines:
            lines.insert(0, f"Decisions on {subject(f) or 'the matching '}requests:")
        return lines

    def _summary(
        self, pairs: list[tuple[Letter, Item]], f: QueryFilters, led: CitationLedger
    ) -> list[str]:
        lines = []
        letters: dict[str, Letter] = {}
        for lt, _ in pairs:
            letters.setdefault(lt.doc_id, lt)
        for lt in letters.values():
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
                    line += f"; {REASON_LABELS[r.category].lower()} {led.cite(ev)}"
                lines.append(line)
        return lines

    def _fact(
        self, pairs: list[tuple[Letter, Item]], f: QueryFilters, led: CitationLedger
    ) -> list[str]:
        """A field of the named letters, quoted where the letter states it."""
        name = fact_asked(self._question)
        if name is None or name == "reviewer_name":
            return []  # reviewers are anonymous: no letter names one
        lines = []
        seen: set[str] = set()
        for lt, _ in pairs:
            if lt.doc_id in seen:
                continue
            seen.add(lt.doc_id)
            value = getattr(lt, name, None)
            span = lt.spans.get(name)
            if not value or span is None:
                continue
            quote = clean(lt.text[span.start : span.end]).strip()
            mark = led.cite(Evidence(lt.doc_id, None, span.start, span.end, quote))
            label = name.replace("_", " ")
            lines.append(f"{lt.doc_id}: {label} {value} {mark}".rstrip())
        return lines

    def _compare(
        self, pairs: list[tuple[Letter, Item]], f: QueryFilters, led: CitationLedger
    ) -> list[str]:
        lines = []
        groups: dict[str, list[tuple[Letter, Item]]] = defaultdict(list)
        for lt, it in pairs:
            groups[it.canonical or it.name or it.treatment].append((lt, it))
        for name in sorted(groups):
            group = groups[name]
            up = sum(1 for _, it in group if it.decision == UPHELD)
            lines.append(
                f"{name}: {len(group)} decision{'s' if len(group) != 1 else ''}, "
                f"{up} upheld, {len(group) - up} overturned."
            )
            for lt, it in group:
                line = f"- {_item_label(lt, it)}: {it.decision} {led.cite(decision_line(lt, it))}"
                if it.reasons:
                    r = it.reasons[0]
                    ev = Evidence(lt.doc_id, it.index, r.start, r.end, r.quote)
                    line += f"; {REASON_LABELS[r.category].lower()} {led.cite(ev)}"
                lines.append(line)
        return lines
