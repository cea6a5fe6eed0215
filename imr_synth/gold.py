"""The gold record of a synthetic letter, in the schema of ``imr-assist extract``.

Values come from the plan and from the marked ranges of the clean text (collapsed
to single spaces, as the parser normalises them); spans point into the letter
as written, noise included. ``doc_id`` and ``sha256`` are what the parser
assigns: the case number when there is one, else the file stem; the hash of the
text exactly as it is read back from the file.
"""

from __future__ import annotations

import hashlib

from imr_assist.constants import FORMAT_COVER, FORMAT_PROFESSIONAL, FORMAT_STANDARD
from imr_assist.models import Item, Letter, Patient, Reason, Reviewer, Span
from imr_synth.plan import LetterPlan, WrittenDate

LETTER_DATES = ("date_assigned", "decision_date", "application_received")


class _Spans:
    """Marked ranges of the clean text, moved onto the noisy text."""

    def __init__(self, clean: str, ranges: dict[str, tuple[int, int]], pos: list[int]) -> None:
        self.clean = clean
        self.ranges = ranges
        self.pos = pos

    def has(self, key: str) -> bool:
        return key in self.ranges

    def bounds(self, key: str) -> tuple[int, int]:
        a, b = self.ranges[key]
        while a < b and self.clean[a].isspace():
            a += 1
        while b > a and self.clean[b - 1].isspace():
            b -= 1
        return a, b

    def value(self, key: str) -> str:
        a, b = self.bounds(key)
        return " ".join(self.clean[a:b].split())

    def span(self, key: str) -> Span:
        a, b = self.bounds(key)
        if b <= a:
            return Span(start=self.pos[a], end=self.pos[a])
        return Span(start=self.pos[a], end=self.pos[b - 1] + 1)

    def take(self, spans: dict[str, Span], key: str, as_key: str | None = None) -> None:
        if key in self.ranges:
            spans[as_key or key] = self.span(key)


def build_gold(
    plan: LetterPlan,
    clean: str,
    ranges: dict[str, tuple[int, int]],
    text: str,
    pos: list[int],
    source: str,
) -> Letter:
    s = _Spans(clean, ranges, pos)
    fmt = plan.format
    if fmt == FORMAT_STANDARD and plan.case_number:
        fmt = FORMAT_COVER
    letter = Letter(
        doc_id=plan.case_number or plan.name,
        source=source,
        format=fmt,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        case_number=plan.case_number,
    )
    spans: dict[str, Span] = {}
    s.take(spans, "case_number")
    for key in LETTER_DATES:
        value = plan.cover.get(key)
        if isinstance(value, WrittenDate):
            setattr(letter, key, value.iso)
            s.take(spans, key)
    injury = plan.cover.get("date_of_injury")
    letter.date_of_injury = (injury if isinstance(injury, WrittenDate) else plan.injury).iso
    s.take(spans, "date_of_injury")
    if plan.ur_denial is not None:
        letter.ur_denial_date = plan.ur_denial.iso
        s.take(spans, "ur_denial_date")
    priority = plan.cover.get("priority")
    if isinstance(priority, str):
        letter.priority = priority
        s.take(spans, "priority")

    reviewer = Reviewer(
        licensure=list(plan.reviewer.licensure), specialties=list(plan.reviewer.specialties)
    )
    for field in ("licensure", "specialties"):
        for i in range(len(getattr(reviewer, field))):
            s.take(reviewer.spans, f"reviewer.{field}.{i}", f"{field}.{i}")
    letter.reviewer = reviewer
    patient = Patient(age=plan.age, sex=plan.sex)
    s.take(patient.spans, "patient.age", "age")
    s.take(patient.spans, "patient.sex", "sex")
    letter.patient = patient
    letter.diagnoses = list(plan.diagnoses)
    for i in range(len(plan.diagnoses)):
        s.take(spans, f"diagnoses.{i}")
    letter.summary = s.value("summary")
    s.take(spans, "summary")

    for i, it in enumerate(plan.items):
        p = f"items.{i}."
        w = it.written
        e = w.entry
        item_spans: dict[str, Span] = {}
        for key in ("treatment", "name", "strength", "quantity", "refills", "decision"):
            s.take(item_spans, p + key, key)
        ca = None
        if fmt != FORMAT_PROFESSIONAL and s.has(p + "claims_administrator_guideline"):
            ca = s.value(p + "claims_administrator_guideline")
            s.take(
                item_spans, p + "claims_administrator_guideline", "claims_administrator_guideline"
            )
        for key in ("reviewer_guideline", "pages", "rationale"):
            s.take(item_spans, p + key, key)
        reasons = []
        j = 0
        for sentence in it.sentences:
            if sentence.category is None:
                continue
            sp = s.span(f"{p}reasons.{j}")
            reasons.append(
                Reason(category=sentence.category, quote=sentence.text, start=sp.start, end=sp.end)
            )
            j += 1
        letter.items.append(
            Item(
                index=i,
                treatment=s.value(p + "treatment"),
                name=w.name,
                canonical=e.canonical,
                generic=e.generic,
                drug_class=e.drug_class,
                kind=e.kind,
                strength=w.strength,
                quantity=w.quantity,
                refills=w.refills,
                decision=it.decision,
                claims_administrator_guideline=ca,
                reviewer_guideline=s.value(p + "reviewer_guideline"),
                guidelines=it.guidelines,
                pages=s.value(p + "pages") if s.has(p + "pages") else None,
                rationale=s.value(p + "rationale"),
                reasons=reasons,
                span=s.span(p + "span"),
                spans=item_spans,
            )
        )
    letter.spans = spans
    return letter
