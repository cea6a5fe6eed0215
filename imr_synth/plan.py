"""What one synthetic letter says, decided before it is laid out.

A ``LetterPlan`` holds the facts of a letter (case, dates, patient, reviewer,
diagnoses, the disputed items with their decisions, citations and rationale
sentences); ``layouts`` then writes it in one of the four formats. All choices
come from the ``random.Random`` passed in, so a seed fixes the letter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from imr_assist.constants import FORMAT_2013, FORMAT_COVER, FORMAT_PROFESSIONAL, OVERTURNED, UPHELD
from imr_assist.parse.lexicon import LexiconEntry, get_lexicon
from imr_synth import vocab
from imr_synth.treatments import (
    CLASS_WEIGHT,
    FAMILIES,
    POPULAR,
    Citation,
    Written,
    citations_for,
    family_of,
    write_treatment,
)

# Items per letter: 1 to 5, about 40% of letters deciding more than one.
ITEM_COUNTS = ((1, 0.6), (2, 0.2), (3, 0.11), (4, 0.06), (5, 0.03))
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip

# Guideline visit limits the quantity reasons quote (MTUS and ODG figures).
VISIT_LIMITS: dict[str, int] = {
    "Physical therapy": 10, "Occupational therapy": 10, "Aquatic therapy": 10,
    "Chiropractic manipulation": 6, "Acupuncture": 6, "Massage therapy": 6,
    "Extracorporeal shockwave therapy": 3, "Functional restoration program": 10,
    "Work conditioning": 10, "Psychotherapy": 4, "Cognitive behavioral therapy": 4,
    "Biofeedback": 4, "Hypnotherapy": 4,
}  # fmt: skip


@dataclass(frozen=True)
class WrittenDate:
    """A date and how the letter writes it."""

    value: date
    text: str

    @property
    def iso(self) -> str:
        return self.value.isoformat()


def write_date(d: date, style: str) -> WrittenDate:
    if style == "m/d/yy":
        text = f"{d.month}/{d.day}/{d.year % 100:02d}"
    elif style == "m/d/yyyy":
        text = f"{d.month}/{d.day}/{d.year}"
    elif style == "month":
        text = f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    else:
        text = f"{d.month:02d}/{d.day:02d}/{d.year}"
    return WrittenDate(d, text)


def any_style(rng: random.Random) -> str:
    return rng.choice(("m/d/yy", "mm/dd/yyyy", "month", "m/d/yyyy"))


@dataclass
class Sentence:
    text: str
    category: str | None = None  # the reason it gives, if any


@dataclass
class ItemPlan:
    written: Written
    decision: str
    citation: Citation
    pages: str | None
    second: Citation | None  # a second guideline the reviewer cites
    ca_citation: Citation | None
    ca_pages: str | None
    sentences: list[Sentence]

    @property
    def entry(self) -> LexiconEntry:
        return self.written.entry

    @property
    def guidelines(self) -> list[str]:
        fams = set(self.citation.families)
        if self.second is not None:
            fams.update(self.second.families)
        return [f for f in ("MTUS", "ACOEM", "ODG") if f in fams]


@dataclass
class Reviewer:
    licensure: list[str]
    specialties: list[str]
    prose: bool  # "is Board Certified in ..." rather than labelled lines


@dataclass
class LetterPlan:
    index: int
    name: str
    format: str
    later_headings: bool
    noisy: bool
    decision_date: date
    case_number: str | None
    cover: dict[str, WrittenDate | str] = field(default_factory=dict)
    age: int = 0
    sex: str = "female"
    sex_word: str = "female"
    injury: WrittenDate = field(default_factory=lambda: WrittenDate(date(2010, 1, 1), "1/1/10"))
    ur_denial: WrittenDate | None = None  # the gold value: from the header, else the summary
    summary_ur: WrittenDate | None = None  # the UR date as the summary tells it, if it does
    reviewer: Reviewer = field(
        default_factory=lambda: Reviewer(["California"], ["Internal Medicine"], False)
    )
    diagnoses: list[str] = field(default_factory=list)
    region: str = "low back"
    items: list[ItemPlan] = field(default_factory=list)

    @property
    def pronouns(self) -> dict[str, str]:
        if self.sex == "female":
            return {"he": "she", "He": "She", "his": "her", "His": "Her", "him": "her"}
        return {"he": "he", "He": "He", "his": "his", "His": "His", "him": "him"}


def _weighted(rng: random.Random, options: list[tuple[object, float]]) -> object:
    total = sum(w for _, w in options)
    x = rng.random() * total
    for value, w in options:
        x -= w
        if x < 0:
            return value
    return options[-1][0]


def _entry_table() -> list[tuple[LexiconEntry, float]]:
    """Every lexicon entry with its chance of being requested."""
    lex = get_lexicon()
    per_class: dict[str, list[LexiconEntry]] = {}
    for e in lex.entries:
        per_class.setdefault(e.drug_class or "", []).append(e)
    table: list[tuple[LexiconEntry, float]] = []
    for cls, entries in per_class.items():
        weights = [POPULAR.get(e.canonical, 1.0) for e in entries]
        total = sum(weights)
        share = CLASS_WEIGHT.get(cls, 0.3)
        table.extend((e, share * w / total) for e, w in zip(entries, weights, strict=True))
    return table


_TABLE: list[tuple[LexiconEntry, float]] | None = None


def entry_table() -> list[tuple[LexiconEntry, float]]:
    global _TABLE
    if _TABLE is None:
        _TABLE = _entry_table()
    return _TABLE


def pick_entries(rng: random.Random, n: int) -> list[LexiconEntry]:
    """``n`` different treatments, no two sharing a generic (one letter, one request each)."""
    table = entry_table()
    chosen: list[LexiconEntry] = []
    keys: list[str] = []
    while len(chosen) < n:
        e = _weighted(rng, table)  # type: ignore[arg-type]
        assert isinstance(e, LexiconEntry)
        key = e.generic or e.canonical
        if key in keys:
            continue
        chosen.append(e)
        keys.append(key)
    return chosen


# --- one letter --------------------------------------------------------------------------


def plan_letter(
    rng: random.Random, index: int, name: str, fmt: str, noisy: bool, case_numbers: set[str]
) -> LetterPlan:
    if fmt == FORMAT_2013:
        year = 2013
    elif fmt == FORMAT_PROFESSIONAL:
        year = rng.randint(2016, 2019)
    else:
        year = rng.randint(2014, 2016)
    decided = date(year, rng.randint(1, 12), rng.randint(1, 28))
    has_cover = fmt == FORMAT_COVER or (fmt == FORMAT_PROFESSIONAL and rng.random() < 0.7)
    case_number = None
    if has_cover or fmt == FORMAT_2013:
        while True:
            digits = rng.randint(1000, 299999) if fmt == FORMAT_2013 else rng.randint(1000, 999999)
            case_number = f"CM{year % 100:02d}-{digits:07d}"
            if case_number not in case_numbers:
                case_numbers.add(case_number)
                break
    plan = LetterPlan(
        index=index,
        name=name,
        format=fmt,
        later_headings=fmt not in (FORMAT_2013, FORMAT_PROFESSIONAL) and rng.random() < 0.3,
        noisy=noisy,
        decision_date=decided,
        case_number=case_number,
    )
    plan.age = rng.randint(25, 75)
    plan.sex = rng.choice(("female", "male"))
    plan.sex_word = (
        plan.sex if rng.random() < 0.85 else {"female": "woman", "male": "man"}[plan.sex]
    )
    earliest = max(1990, year - (plan.age - 18))
    latest = min(2016, year - 1)
    injury_year = rng.randint(min(earliest, latest), latest)
    injured = date(injury_year, rng.randint(1, 12), rng.randint(1, 28))
    plan.injury = write_date(injured, any_style(rng))

    assigned = decided - timedelta(days=rng.randint(10, 45))
    received = assigned - timedelta(days=rng.randint(1, 10))
    ur = received - timedelta(days=rng.randint(5, 30))
    if has_cover:
        cover_style = rng.choice(("mm/dd/yyyy", "mm/dd/yyyy", "m/d/yyyy"))
        plan.cover = {
            "case_number": case_number or "",
            "date_assigned": write_date(assigned, cover_style),
            "date_of_injury": write_date(injured, cover_style),
            "decision_date": write_date(decided, cover_style),
            "ur_denial_date": write_date(ur, cover_style),
            "priority": rng.choice(("Standard", "Standard", "Standard", "Expedited")),
            "application_received": write_date(received, cover_style),
        }
        plan.ur_denial = plan.cover["ur_denial_date"]  # type: ignore[assignment]
    elif fmt == FORMAT_2013:
        style = "mm/dd/yyyy"
        plan.cover = {
            "case_number": case_number or "",
            "decision_date": write_date(decided, style),
        }
        if rng.random() < 0.6:
            plan.cover["date_of_injury"] = write_date(injured, style)
        if rng.random() < 0.6:
            plan.cover["ur_denial_date"] = write_date(ur, style)
            plan.ur_denial = plan.cover["ur_denial_date"]  # type: ignore[assignment]
        if rng.random() < 0.5:
            plan.cover["application_received"] = write_date(received, style)
    # The summary may also tell the UR date; it is the gold value only without a header one.
    summary_ur = None
    if plan.ur_denial is not None:
        if rng.random() < 0.5:
            summary_ur = write_date(ur, any_style(rng))
    elif rng.random() < 0.6:
        summary_ur = write_date(ur, any_style(rng))
        plan.ur_denial = summary_ur
    plan.summary_ur = summary_ur

    plan.reviewer = _reviewer(rng)
    plan.region = rng.choice(vocab.REGIONS_PAIN)
    pool = list(vocab.DIAGNOSES[plan.region])
    n_dx = min(len(pool), rng.choice((1, 2, 2, 3, 3, 4)))
    plan.diagnoses = rng.sample(pool, n_dx)
    if rng.random() < 0.5:
        other = rng.choice(vocab.DIAGNOSES["other"])
        if other not in plan.diagnoses:
            plan.diagnoses.append(other)

    n_items = int(_weighted(rng, list(ITEM_COUNTS)))  # type: ignore[call-overload]
    for entry in pick_entries(rng, n_items):
        plan.items.append(_plan_item(rng, plan, entry))
    return plan


def _reviewer(rng: random.Random) -> Reviewer:
    states = ["California"]
    if rng.random() < 0.3:
        extra = [s for s in vocab.STATES if s != "California"]
        states = rng.sample(extra, rng.randint(1, 2)) + ["California"]
        if rng.random() < 0.5:
            rng.shuffle(states)
    specialties = [rng.choice(vocab.SPECIALTIES)]
    prose = rng.random() < 0.35
    if rng.random() < (0.3 if prose else 0.4):
        sub = rng.choice(
            vocab.SUBSPECIALTIES if prose else vocab.SPECIALTIES + vocab.SUBSPECIALTIES
        )
        if sub not in specialties:
            specialties.append(sub)
    return Reviewer(states, specialties, prose)


def _plan_item(rng: random.Random, plan: LetterPlan, entry: LexiconEntry) -> ItemPlan:
    written = write_treatment(entry, rng)
    family = family_of(entry)
    decision = OVERTURNED if rng.random() < family.overturn_rate else UPHELD
    cites = citations_for(entry)
    citation = rng.choice(cites)
    pages = rng.choice(citation.pages) if citation.pages else None
    second = None
    others = [c for c in cites + family.citations if c.source != citation.source]
    if others and citation.source in ("MTUS", "ACOEM") and rng.random() < 0.2:
        second = rng.choice(others)
        if second.source != "ODG":
            second = None
    ca_citation: Citation | None = rng.choice(cites + family.citations)
    ca_pages = None
    if ca_citation is not None and ca_citation.pages and rng.random() < 0.5:
        ca_pages = rng.choice(ca_citation.pages)
    if rng.random() < 0.08:
        ca_citation = None  # "did not cite any medical evidence"
    sentences = _rationale(rng, plan, written, decision, family.key)
    return ItemPlan(written, decision, citation, pages, second, ca_citation, ca_pages, sentences)


def rationale_context(
    rng: random.Random, plan: LetterPlan, w: Written, family: str
) -> dict[str, str]:
    entry = w.entry
    name = w.name
    if entry.kind == "service" and not name[:2].isupper():
        name = name[0].lower() + name[1:]
    cap = name[0].upper() + name[1:]
    noun = FAMILIES[family].noun
    units = w.units
    limit = VISIT_LIMITS.get(entry.canonical, 6)
    prior = limit - (units or 0) + rng.randint(1, 6)
    p1 = rng.randint(6, 9)
    ctx = dict(plan.pronouns)
    progress = plan.decision_date - timedelta(days=rng.randint(40, 120))
    old = plan.decision_date - timedelta(days=rng.randint(200, 400))
    ctx.update(
        name=name,
        Name=cap,
        treatment=w.text,
        noun=noun,
        service=name,
        Service=cap,
        months=str(rng.choice((6, 8, 9, 12, 14, 18, 24, 36))),
        years=str(rng.randint(2, 10)),
        med=str(rng.choice((140, 150, 160, 180, 195, 210, 240, 270, 300, 360))),
        pain=str(rng.randint(6, 9)),
        p1=str(p1),
        p2=str(p1 - rng.randint(2, 4)),
        units=str(units) if units is not None else "",
        limit=str(limit),
        prior=str(max(prior, 1)),
        date=write_date(progress, any_style(rng)).text,
        old_date=write_date(old, any_style(rng)).text,
        region=plan.region,
        indication=vocab.indication(entry, family, rng),
    )
    ctx["activity"] = rng.choice(vocab.ACTIVITIES).format_map(ctx)
    return ctx


def _rationale(
    rng: random.Random, plan: LetterPlan, w: Written, decision: str, family: str
) -> list[Sentence]:
    entry = w.entry
    ctx = rationale_context(rng, plan, w, family)
    table = vocab.UPHELD_WEIGHTS if decision == UPHELD else vocab.OVERTURNED_WEIGHTS
    options = [(c, wt) for c, wt in table[family] if vocab.fits(c, entry, w.units)]
    if decision == UPHELD:
        k = int(_weighted(rng, [(1, 0.4), (2, 0.4), (3, 0.2)]))  # type: ignore[call-overload]
        fallback = "insufficient_documentation"
    else:
        k = int(_weighted(rng, [(1, 0.5), (2, 0.5)]))  # type: ignore[call-overload]
        fallback = "guideline_criteria_met"
    categories: list[str] = []
    while options and len(categories) < k:
        c = str(_weighted(rng, options))  # type: ignore[arg-type]
        categories.append(c)
        options = [(x, wt) for x, wt in options if x != c]
    if not categories:
        categories = [fallback]

    kind = entry.kind or "drug"
    units_ok = w.units is not None and (
        entry.kind == "drug" or w.units > VISIT_LIMITS.get(entry.canonical, 6)
    )
    out: list[Sentence] = []
    if rng.random() < 0.5:
        pool = vocab.DESCRIBE.get(
            family if kind == "drug" else "service", vocab.DESCRIBE["service"]
        )
        out.append(Sentence(rng.choice(pool).format_map(ctx)))
    if rng.random() < 0.4:
        pool = vocab.GUIDE.get(family, vocab.GUIDE["any"])
        out.append(Sentence(rng.choice(pool).format_map(ctx)))
    used: set[str] = set()
    for c in categories:
        if rng.random() < 0.25:
            history = rng.choice(vocab.HISTORY).format_map(ctx)
            if history not in used:
                used.add(history)
                out.append(Sentence(history))
        text = vocab.reason_sentence(
            c, entry, family, ctx, rng, numbers=units_ok, avoid=frozenset(used)
        )
        used.add(text)
        out.append(Sentence(text, c))
    closing = vocab.CLOSING_UPHELD if decision == UPHELD else vocab.CLOSING_OVERTURNED
    out.append(Sentence(rng.choice(closing).format_map(ctx)))
    return out
