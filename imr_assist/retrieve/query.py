"""Read a question: what it filters on, and what kind of answer it wants.

Filters come from the lexicon (brand, generic, class: "opioids" finds Norco and
Butrans), decision words ("denied", "not medically necessary" mean upheld),
case numbers, reviewer specialties and guideline names. They select items from
the catalog's structured records and become Chroma ``where`` filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.parse.lexicon import get_lexicon
from imr_assist.parse.rules import PatternTable

_I = re.IGNORECASE

# Decision words. "not medically necessary" is matched whole before "medically
# necessary"; any other decision word right after a negation ("not overturned",
# "wasn't approved", "won't approve") counts for the other side.
_DECISION_WORD = re.compile(
    r"(?P<up>\bnot\s+medically\s+necessary\b|\bnon-?certif\w*|\bupheld\b|\buphold\w*|"
    r"\bden(?:y|ied|ies|ying)\b|\breject(?:ed|s|ing)?\b|\brefus(?:e|ed|es|ing)\b|\bturned\s+down\b|"
    # who the decision went for: "sides with the carrier", "favors UR"
    r"\b(?:favou?r(?:s|ed|ing)?|side[sd]?\s+with|siding\s+with)\s+(?:the\s+)?(?:employer|carrier|"
    r"insurer|insurance\s+company|claims\s+administrator|defen[cs]e|UR|utilization\s+review)\b|"
    r"\bwent\s+(?:the\s+)?(?:employer|carrier|insurer|defen[cs]e)(?:'s)?\s+way\b|"
    r"\bin\s+(?:the\s+)?(?:employer|carrier|insurer|defen[cs]e)(?:'s)?\s+favou?r\b)"
    # "FDA-approved", "approved as the Lidoderm patch": what a guideline says, not a decision
    r"|(?P<over>\boverturn\w*|(?<!FDA\s)(?<!FDA-)\bapprov\w*\b(?!\s+as\s+(?:the|a|an)\b)|"
    r"\bgrant(?:ed|s)?\b|\brevers(?:ed|e|al|als)\b|"
    # "reviewers certified in Orthopedic Surgery", "board certified": a credential
    r"(?<!board\s)(?<!board-)\bcertified\b(?!\s+(?:in|by\s+the\s+(?:american\s+)?board)\b)|\ballowed\b|\bmedically\s+necessary\b|\bwon\b(?!')|\bsucceed\w*|"
    # the worker's side: "favor the injured worker", "side with the worker", "winning
    # an appeal", "the success rate"
    r"\bsuccess\w*|\bwin(?:s|ning)?\s+(?:an?\s+|the\s+|their\s+)?(?:[\w-]+\s+){0,2}?(?:appeal|IMR|"
    r"case|review)s?\b|"
    r"\b(?:favou?r(?:s|ed|ing)?|side[sd]?\s+with|siding\s+with)\s+(?:the\s+)?(?:injured\s+)?"
    r"(?:workers?|patients?|applicants?|claimants?|employees?)\b|"
    # "went the worker's way", "in the applicant's favor"
    r"\bwent\s+(?:the\s+)?(?:injured\s+)?(?:workers?|patients?|applicants?|claimants?|employees?)(?:'s|s')?\s+"
    r"way\b|\bin\s+(?:the\s+)?(?:injured\s+)?(?:workers?|patients?|applicants?|claimants?|employees?)"
    r"(?:'s|s')?\s+favou?r\b)",
    _I,
)
_NEGATED = re.compile(
    r"(?:\bnot|\bnever|n't|\bno\s+longer|\b(?:refus|fail|declin)\w*\s+to)\s+(?:[\w/-]+\s+){0,2}$",
    _I,
)
# "CM17-0009282", "17-0009282", and as typed: "cm17 0009282", "CM170009282"
_CASE = re.compile(r"\b(?:CM|MR|IMR)?\d{2}-\d{5,8}\b|\b(?:CM|MR|IMR)\s?\d{2}\s?\d{7}\b", _I)
# Guideline names and reviewer specialties are data: imr_assist/data/specialties.toml.
_GUIDELINES = PatternTable("specialties.toml", "guidelines")
# The MAXIMUS guideline line of a decision: "The Expert Reviewer based their decision on
# recommendation(s) outside of the MTUS Guidelines", or "... did not cite any medical
# evidence for its decision", as questions say them
OUTSIDE_MTUS = re.compile(
    r"\b(?:outside\s+(?:of\s+)?(?:the\s+)?MTUS(?:\s+guidelines?)?(?:\s+entirely)?|"
    r"non-?MTUS(?:\s+(?:sources?|guidelines?|recommendations?|evidence))?|"
    r"(?:not|n't)\s+(?:based\s+)?(?:on|in|from)\s+the\s+MTUS|beyond\s+the\s+MTUS)\b",
    _I,
)
NO_EVIDENCE_CITED = re.compile(
    r"\b(?:did\s+not|didn't)\s+cite\s+any\s+(?:medical\s+)?evidence|"
    r"\bno\s+(?:medical\s+)?evidence\s+(?:was\s+)?cited|\bcit(?:ed|ing)\s+no\s+(?:medical\s+)?evidence|"
    r"\bwithout\s+citing\s+(?:any\s+)?(?:medical\s+)?evidence",
    _I,
)
# "denial" is a noun the decision verbs act on: "the denial was reversed" is an
# overturn, "the denial stood" or "was upheld" is not. Alone it means upheld.
_DENIAL_NOUN = re.compile(r"\b(?:(?:UR|utilization\s+review)\s+)?denials?\b", _I)
_DENIAL_STOOD = re.compile(r"\bdenials?\s+(?:stand|stood|stands|hold|held|remain\w*)\b", _I)

# Reviewer specialties a question can name a letter by; each pattern is matched
# against the question and against the letters' specialty lines alike.
SPECIALTY_PATTERNS = PatternTable("specialties.toml", "specialties")
# A specialty word names the reviewer only beside a reviewer noun ("the neurology
# reviewer", "reviewed by an anesthesiologist", "a reviewer in psychiatry"), so
# "psychiatric consultation" or "acupuncture sessions" stay treatments.
_REVIEWER_AFTER = re.compile(
    r"^\s*(?:[\w&/-]+\s+){0,2}?(?:reviewers?|specialists?|doctors?|docs?|physicians?|surgeons?|"
    r"experts?|certifications?|certified|board\s+certification|specialty|background)\b",
    _I,
)
_REVIEWER_BEFORE = re.compile(
    r"(?:\b(?:reviewed|decided|denied|approved|upheld|overturned)\s+by\s+(?:an?\s+|the\s+)?"
    r"|\b(?:reviewers?|specialists?|physicians?|experts?)\s+(?:in|of|certified\s+in)\s+)$",
    _I,
)
_ABOUT_REVIEWERS = re.compile(r"\breview(?:er|ers|ed)\b|\bspecialt|\bcertif|\bboard\b", _I)
_PERSON_SPECIALTY = re.compile(
    r"\b(?:anesthesiologist|neurologist|neurosurgeon|orthopedist|orthopaedist|internist|"
    r"physiatrist|psychiatrist|psychologist|chiropractor|rheumatologist|podiatrist|"
    r"acupuncturist)s?\b",
    _I,
)
# "referrals to a spine surgeon", "a consult with a psychiatrist": the request, not the reviewer
_TREATMENT_BEFORE = re.compile(
    r"\b(?:referrals?|refer(?:red|ring)?|consult(?:ation)?s?|evaluations?|evals?|visits?|"
    r"appointments?|follow-?ups?)\s+(?:to|with|by)\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+)?$",
    _I,
)
_LETTERS_AFTER = re.compile(r"\s+(?:letters?|cases?|decisions?|determinations?|reviews?)\b", _I)
_TREATMENT_AFTER = re.compile(
    r"^\s*(?:consult\w*|referral|evaluation|assessment|therapy|sessions?|treatment|"
    r"manipulation|program|care|visits?|follow-?up)\b",
    _I,
)
_AGE = re.compile(r"\b(?P<age>[1-9]\d)[- ]?(?:year|yr)s?[- ]?old\b", _I)
# "my client is 47", "a worker aged 52", "she was 61 at the time"
_AGE_IS = re.compile(
    r"\b(?:client|worker|patient|claimant|employee|applicant|he|she|man|woman|guy|lady)\s+"
    r"(?:is|was|who\s+is|who\s+was|aged|age)\s+(?P<age>[1-9]\d)\b(?![-\s]*(?:%|percent|items?|"
    r"requests?|mg|days?|weeks?|months?|sessions?|visits?|times?|tabs?|tablets?|pills?)|\s*\+|"
    r"\s+(?:or|and)\s+(?:older|over|above|up|more|younger|under|below|less)\b|\s*(?:-|to)\s*\d)",
    _I,
)
_SEX = {
    "female": re.compile(r"\b(?:woman|women|female|lady|she|her)\b", _I),
    "male": re.compile(r"\b(?:man|men|male|gentleman|he|his)\b", _I),
}
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_INJURED = re.compile(
    r"\b(?:injured|injury|hurt)\b[^.?!]{0,20}?\b(?:in|on)?\s*"
    r"(?:(?P<month>" + "|".join(_MONTHS) + r")\s+(?:(?P<day>\d{1,2}),?\s+)?)?"
    r"(?P<year>(?:19|20)\d{2})\b",
    _I,
)
_INJURED_NUMERIC = re.compile(
    r"\b(?:injured|injury|hurt)\b[^.?!]{0,20}?\b(?P<m>\d{1,2})([/-])(?P<d>\d{1,2})\2(?P<y>\d{2}|\d{4})\b",
    _I,
)


@dataclass
class QueryFilters:
    """What a question restricts the answer to."""

    canonicals: list[str] = field(default_factory=list)  # names as asked, for display
    generics: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    names_without_generic: list[str] = field(default_factory=list)  # services
    decision: str | None = None
    case_number: str | None = None
    doc_ids: list[str] = field(default_factory=list)
    specialty: str | None = None
    guideline: str | None = None
    mentions: list[str] = field(default_factory=list)  # surface words, for display
    # Letters named by who and when rather than by number
    patient_ages: list[int] = field(default_factory=list)
    patient_sex: str | None = None
    injury_date: str | None = None  # ISO date, or "YYYY" / "YYYY-MM" prefix
    letter_refs_unmatched: bool = False  # the question named a letter the index lacks
    unknown_terms: list[str] = field(default_factory=list)  # treatment-like words not known
    # A plan narrowed the items further (body region, partial certification, topic...):
    # how, in the words the answer's scope says it.
    narrowed: str = ""
    # the reasons a plan restricted to: each item listed cites its sentence that gives one
    cite_reasons: tuple[str, ...] = ()

    @property
    def has_treatment(self) -> bool:
        return bool(self.generics or self.classes or self.names_without_generic)

    @property
    def names_letter(self) -> bool:
        """The question picks letters by patient, injury date or reviewer specialty."""
        return bool(self.patient_ages or self.patient_sex or self.injury_date or self.specialty)

    @property
    def restricted(self) -> bool:
        return bool(
            self.has_treatment
            or self.decision
            or self.doc_ids
            or self.guideline
            or self.specialty
            or self.letter_refs_unmatched
            or self.narrowed
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.canonicals:
            out["treatment"] = self.canonicals
        if self.generics:
            out["generic"] = self.generics
        if self.classes:
            out["drug_class"] = self.classes
        if self.names_without_generic:
            out["service"] = self.names_without_generic
        for key in (
            "decision",
            "case_number",
            "specialty",
            "guideline",
            "patient_ages",
            "patient_sex",
            "injury_date",
        ):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.doc_ids:
            shown = self.doc_ids[:20]
            out["doc_id"] = shown + [f"... {len(self.doc_ids) - 20} more"] * (
                len(self.doc_ids) > 20
            )
        return out

    def chroma_where(self) -> dict[str, Any] | None:
        """The same restriction as a Chroma metadata filter."""
        parts: list[dict[str, Any]] = []
        ors: list[dict[str, Any]] = []
        if self.generics:
            ors.append({"generic": {"$in": self.generics}})
        if self.classes:
            ors.append({"drug_class": {"$in": self.classes}})
        if self.names_without_generic:
            ors.append({"canonical": {"$in": self.names_without_generic}})
        if len(ors) == 1:
            parts.append(ors[0])
        elif ors:
            parts.append({"$or": ors})
        if self.decision:
            parts.append({"decision": self.decision})
        if self.doc_ids:
            parts.append({"doc_id": {"$in": self.doc_ids}})
        elif self.case_number:
            parts.append({"case_number": self.case_number})
        if self.guideline:
            parts.append({"guidelines": {"$contains": self.guideline}})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}


@lru_cache(maxsize=1)
def _alias_words() -> frozenset[str]:
    """Every word of the lexicon's aliases, lower-cased."""
    return frozenset(
        w.lower()
        for e in get_lexicon().entries
        for alias in e.aliases
        for w in re.findall(r"[A-Za-z]+", alias)
    )


_COMPOUNDED = frozenset(("compounded oral suspension", "compounded topical"))


def parse_question(question: str) -> QueryFilters:
    """Filters named by a question."""
    lex = get_lexicon()
    f = QueryFilters()
    q = question
    for m in lex.find_all(q):
        e = m.entry
        # "the SLAP arthroscopy": an acronym just before the name that the lexicon knows
        # as a kind of some treatment ("SLAP repair") is part of what is asked
        pre = re.search(r"\b([A-Z]{2,})\s+$", q[: m.start])
        if pre and pre.group(1).lower() in _alias_words() and lex.find(pre.group(1)) is None:
            f.mentions.append(q[pre.start(1) : m.end])
        else:
            f.mentions.append(m.surface)
        if e.canonical not in f.canonicals:
            f.canonicals.append(e.canonical)
        # a compounded product ("Tabradol", cyclobenzaprine oral suspension) is asked
        # for by its own name: its generic would also pick the tablets
        own_name = e.drug_class in _COMPOUNDED and e.generic != e.drug_class
        if e.generic and not own_name:
            if e.generic not in f.generics:
                f.generics.append(e.generic)
        elif e.canonical not in f.names_without_generic:
            f.names_without_generic.append(e.canonical)
    groups = lex.classes_for_group_word(q)
    spans: dict[tuple[int, int], int] = {}
    for _cls, a, b in groups:
        spans[(a, b)] = spans.get((a, b), 0) + 1
    # "the GI-protective medication requests (PPIs / H2 blockers)": the classes named
    # say which medications; the word for every drug class does not add the rest
    narrower = f.canonicals or any(n < 8 for n in spans.values())
    for cls, a, b in groups:
        # ... but "every medication request (oral, topical or compounded)" is every one
        every = re.search(r"\b(?:every|all|any)\s+(?:of\s+the\s+)?(?:[\w-]+\s+)?$", q[:a], re.I)
        if narrower and spans[(a, b)] >= 8 and not every:
            continue
        f.mentions.append(q[a:b])
        if cls not in f.classes:
            f.classes.append(cls)
    if case := _CASE.search(q):
        said = re.sub(r"\s+", "", case.group(0).upper())
        f.case_number = said if "-" in said else re.sub(r"^([A-Z]*\d{2})", r"\1-", said)
    # Negated phrases first, then remove them so "medically necessary" inside
    # "not medically necessary" does not also count as overturned.
    if not YES_NO.search(q):
        # "Was Xanax approved?" asks for the decision; it does not restrict to one.
        f.decision = decision_asked(q)
    # "decisions based on guidelines outside the MTUS": what the reviewer did not rely on
    named = [name for name, rx in _GUIDELINES.items() if rx.search(OUTSIDE_MTUS.sub(" ", q))]
    # "MTUS or ODG?", "MTUS vs ODG": which one is asked, neither restricts
    if len(named) == 1 or (named and not re.search(r"\b(?:or|vs\.?|versus)\b", q, _I)):
        f.guideline = named[0]
    f.specialty = specialty_named(q)
    _patient_refs(q, f)
    return f


#: A question that asks which way a decision went, rather than naming one side.
YES_NO = re.compile(
    r"^\s*(?:was|were|did|is|has|have|had)\b(?!\s+(?:there\s+)?any\b)[^?]*\b(?:upheld|uphold\w*|overturn\w*|"
    r"approv\w*|den(?:y|ied|ial)\w*|granted|grant|medically\s+necessary|certified|"
    r"stand|stood|reversed)\b"
    r"|\b(?:upheld|approved|denied|granted)\s+or\s+(?:overturned|denied|approved|upheld|not)\b",
    _I,
)


# What the asked-about requests are set against: "what made the knee one different from
# the ones that got denied?" does not ask about denied ones.
_CONTRAST = re.compile(
    r"\b(?:differ\w*\s+from|unlike|compared\s+(?:to|with)|versus|vs\.?)\s+(?:all\s+)?"
    r"(?:the\s+)?(?:ones?|those|others?|rest)\b[^?.;]*|"
    # "what did those requests have that the upheld ones didn't?"
    r"\b(?:that|than|which)\s+the\s+(?:\w+\s+)?(?:ones?|requests?|cases?|decisions?)\s+"
    r"(?:didn'?t|did\s+not|don'?t|do\s+not|lacked|lack|were\s+missing|had\s+not|hadn'?t)\b[^?.;]*",
    _I,
)


# Both sides asked for: "which got approved and which didn't", "approved or not"
_BOTH_SIDES = re.compile(
    r"\b(?:approv\w*|upheld|uphold|overturn\w*|denied|certified|granted|reversed)\s+"
    r"(?:and|or|vs\.?|versus)\s+(?:(?:which|what|those|the)\s+)?(?:ones?\s+)?"
    r"(?:(?:that|which|were|got)\s+)?(?:didn'?t|did\s+not|weren'?t|were\s+not|wasn'?t|"
    r"was\s+not|not)\b|"
    # "list the acupuncture requests and whether they were approved": the outcome asked
    r"\b(?:and\s+)?(?:whether|if)\s+(?:or\s+not\s+)?(?:they|it|each|any|these|those|the\s+\w+)\s+"
    r"(?:(?:one|ones)\s+)?(?:was|were|got|had\s+been|ended\s+up)\s+(?:\w+\s+)?(?:approv\w*|upheld|"
    r"overturn\w*|denied|certified|granted|reversed)\b|"
    r"\bhow\s+(?:each|they|it|every\s+one)\s+(?:came\s+out|turned\s+out|went|fared)\b|"
    # "why approve the Bankart repair but not the SLAP repair": one side each
    r"\b(?:approv\w*|overturn\w*|uph[eo]ld\w*|den(?:y|ied|ying)|certif\w*|revers\w*|grant\w*)\s+"
    r"(?:the\s+|a\s+|an\s+)?[^?.;]{1,80}?\s+but\s+not\b",
    _I,
)


# An approval spoken of as a condition, not a decision made: "what do reviewers require
# before approving it", "criteria for approval", "to get it approved"
_HYPOTHETICAL = re.compile(
    r"\b(?:before|prior\s+to|criteria\s+for|conditions?\s+for|requirements?\s+for)\s+"
    r"(?:(?:getting|being)\s+)?(?:approv\w*|certif\w*)\b|"
    # "before a topical analgesic such as a lidocaine patch is approved"
    r"\b(?:before|until|unless)\s+(?:an?\s+|the\s+)?[^?;]{1,120}?\s+(?:is|are|gets?|can\s+be|will\s+be|would\s+be)\s+"
    r"(?:approved|certified|authori[sz]ed|covered)\b|"
    r"(?<!\bfail\s)(?<!\bfailed\s)(?<!\brefuse\s)(?<!\brefused\s)(?<!\bdecline\s)(?<!\bdeclined\s)"
    r"\bto\s+(?:get\s+(?:[\w/-]+\s+){0,3}?)?(?:approv\w*|certif\w*)\b|"
    r"\b(?:would|will|could|can)\s+(?:\w+\s+)?(?:approve|certify|be\s+approved)\b|"
    r"\bapproval\s+criteria\b",
    _I,
)


# "Most PT requests get upheld, but a few got overturned. What made the difference in
# those?": the side set apart, which the question then points back to
_BUT_A_FEW = re.compile(
    r"\bbut\s+(?:only\s+)?(?:a\s+few|some|several|one|two|three|a\s+couple|a\s+handful)\s+"
    r"(?:of\s+them\s+)?(?:\w+\s+){0,2}?(?:got|were|was|get)\s+(?P<d>overturned|upheld|approved|"
    r"denied|reversed)\b(?=.*\b(?:those|them|these|the\s+ones?)\b)",
    _I | re.S,
)


def decision_asked(q: str) -> str | None:
    """The decision a question restricts to, if it names exactly one side."""
    if m := _BUT_A_FEW.search(q):
        return UPHELD if m["d"].lower() in ("upheld", "denied") else OVERTURNED
    if _BOTH_SIDES.search(q):
        return None
    q = _HYPOTHETICAL.sub(" ", q)
    q = _CONTRAST.sub(" ", q)
    # "the time from the UR denial to the IMR decision", "UR denial date": a date, not
    # a side asked for
    q = re.sub(
        r"\b(?:UR|utilization\s+review)\s+denials?\s+dates?\b|"
        r"\bfrom\s+(?:the\s+)?(?:UR|utilization\s+review)\s+denials?\b",
        " ",
        q,
        flags=_I,
    )
    stood = bool(_DENIAL_STOOD.search(q))
    had_denial = bool(_DENIAL_NOUN.search(q))
    q = _DENIAL_STOOD.sub(" ", q)
    q = _DENIAL_NOUN.sub(" ", q)
    sides = {UPHELD} if stood else set()
    for m in _DECISION_WORD.finditer(q):
        side = UPHELD if m.lastgroup == "up" else OVERTURNED
        if m.lastgroup == "over" or not m.group(0).lower().startswith("not"):
            if _NEGATED.search(q[: m.start()]):
                side = OVERTURNED if side == UPHELD else UPHELD
        sides.add(side)
    if not sides and had_denial:
        sides.add(UPHELD)
    return sides.pop() if len(sides) == 1 else None


def specialty_named(q: str) -> str | None:
    """The reviewer specialty a question names, in the question's own words."""
    found: list[tuple[int, str]] = []
    for rx in SPECIALTY_PATTERNS.values():
        for m in rx.finditer(q):
            after, before = q[m.end() :], q[: m.start()]
            if _TREATMENT_AFTER.search(after) or _TREATMENT_BEFORE.search(before):
                continue
            if (
                _PERSON_SPECIALTY.fullmatch(m.group(0))
                or re.search(r"(?:surgeon|ist|ian)s?$", m.group(0), _I)
                or _REVIEWER_AFTER.search(after)
                or _REVIEWER_BEFORE.search(before)
                # "family practice letters w/ an overturn": a specialty no treatment is
                # named by, before what its reviewers decided
                or (
                    _LETTERS_AFTER.match(after)
                    and not any(t.start <= m.start() < t.end for t in get_lexicon().find_all(q))
                )
            ):
                found.append((m.start(), m.group(0)))
    if (
        not found
        and (person := _PERSON_SPECIALTY.search(q))
        and not _TREATMENT_BEFORE.search(q[: person.start()])
    ):
        return person.group(0)
    if not found and _ABOUT_REVIEWERS.search(q):
        # "overturned decisions where the reviewer was Family Practice"
        named = [(t.start, t.end) for t in get_lexicon().find_all(q)]
        for rx in SPECIALTY_PATTERNS.values():
            for m in rx.finditer(q):
                if _TREATMENT_AFTER.search(q[m.end() :]) or any(
                    a <= m.start() < b for a, b in named
                ):
                    continue  # "chiropractic requests": a treatment
                found.append((m.start(), m.group(0)))
    return min(found)[1] if found else None


def specialty_groups(q: str) -> list[frozenset[str]]:
    """The reviewer specialties a question compares, each as the set of specialties it
    names: "Family Practice, Preventive Medicine/Occupational Medicine, and PM&R
    reviewers" is three (a slash joins two certifications of one reviewer). Fewer than
    two is no comparison (empty)."""
    if not _ABOUT_REVIEWERS.search(q) and not _PERSON_SPECIALTY.search(q):
        return []
    named = [(t.start, t.end) for t in get_lexicon().find_all(q)]
    found = sorted(
        (m.start(), m.end(), key)
        for key, rx in SPECIALTY_PATTERNS.items()
        for m in rx.finditer(q)
        if not _TREATMENT_AFTER.search(q[m.end() :])
        and not any(a <= m.start() < b for a, b in named)
    )
    groups: list[set[str]] = []
    last_end = None
    for start, end, key in found:
        if last_end is not None and re.fullmatch(r"\s*/\s*", q[last_end:start]):
            groups[-1].add(key)
        elif not any(key in g for g in groups):
            groups.append({key})
        last_end = end
    return [frozenset(g) for g in groups] if len(groups) >= 2 else []


def specialty_key(specialty: str) -> str:
    """The specialty a letter's specialty line names, when a pattern finds it at the
    line's start ("Orthopedic Surgery"); otherwise the line itself, lower-cased
    ("Public Health & General Preventive Medicine" is not Preventive Medicine)."""
    text = specialty.strip()
    for key, rx in SPECIALTY_PATTERNS.items():
        m = rx.search(text)
        if m and m.start() == 0:
            return key
    return text.lower()


def bare_specialty(q: str) -> str | None:
    """A specialty named with no word about reviewers ("what about Internal Medicine?"),
    for a follow-up to a question about one; None where it names a treatment."""
    named = [(t.start, t.end) for t in get_lexicon().find_all(q)]
    found = [
        (m.start(), m.group(0))
        for rx in SPECIALTY_PATTERNS.values()
        for m in rx.finditer(q)
        if not _TREATMENT_AFTER.search(q[m.end() :])
        and not any(a <= m.start() < b for a, b in named)
    ]
    return min(found)[1] if found else None


def specialty_matches(name: str, specialties: list[str]) -> bool:
    """Whether a reviewer with these specialties is the one ``name`` describes."""
    for rx in SPECIALTY_PATTERNS.values():
        if rx.search(name):
            return any(rx.search(s) for s in specialties)
    low = name.lower()
    return any(low in s.lower() or s.lower() in low for s in specialties)


def _patient_refs(q: str, f: QueryFilters) -> None:
    f.patient_ages = sorted({int(m["age"]) for rx in (_AGE, _AGE_IS) for m in rx.finditer(q)})
    if f.patient_ages:
        # A sex word describes the patient only beside an age ("the 64-year-old woman");
        # with both sexes named, each age keeps its own and neither filters.
        sexes = [sex for sex, rx in _SEX.items() if rx.search(q)]
        f.patient_sex = sexes[0] if len(sexes) == 1 else None
    if m := _INJURED_NUMERIC.search(q):
        y = int(m["y"])
        y = y + (1900 if y >= 50 else 2000) if y < 100 else y
        f.injury_date = f"{y:04d}-{int(m['m']):02d}-{int(m['d']):02d}"
    elif m := _INJURED.search(q):
        date = m["year"]
        if m["month"]:
            date += f"-{_MONTHS.index(m['month'].lower()) + 1:02d}"
            if m["day"]:
                date += f"-{int(m['day']):02d}"
        f.injury_date = date


# --- question kinds -------------------------------------------------------------------

KINDS = ("why", "count", "share", "list", "decision", "summary", "compare", "fact", "general")

#: Letter facts a question can ask for; the reviewer's name is never in a letter
#: (IMR reviewers are anonymous), so asking for it cannot be answered.
FACT_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "reviewer_name",
        re.compile(
            r"\b(?:name|identity)\s+of\s+(?:the\s+)?(?:expert\s+|IMR\s+|independent\s+)?"
            r"(?:medical\s+)?reviewer\b|\bwho\s+(?:is|was)\s+the\s+(?:expert\s+|IMR\s+)?"
            r"(?:medical\s+)?reviewer\b|\breviewer'?s\s+name\b",
            _I,
        ),
    ),
    (
        "case_number",
        re.compile(
            r"^\s*(?:what|which|give\s+me|tell\s+me)\b[^?]{0,30}\bcase\s+(?:number|no\.?|#)", _I
        ),
    ),
    (
        "decision_date",
        re.compile(
            r"^\s*(?:when(?![^?]*,\s*(?:what|which|how|did|do|does|were|was|is|are)\b)|"
            r"on\s+what\s+date|what\s+(?:date|day)|which\s+date)\b[^?]{0,60}"
            r"\b(?:decided|decision|determination|issued)\b|\bdecision\s+dates?\b|"
            r"\bon\s+what\s+date\b(?![^?]{0,30}\b(?:injur|UR\b|utilization|assign|receiv|applica))",
            _I,
        ),
    ),
    (
        "date_of_injury",
        re.compile(
            r"^\s*(?:when(?![^?]*,\s*(?:what|which|how|did|do|does|were|was|is|are)\b)|"
            r"on\s+what\s+date|what\s+(?:date|day)|which\s+date)\b[^?]{0,60}"
            r"\binjur\w*|\bdate\s+of\s+(?:the\s+)?injury\b",
            _I,
        ),
    ),
]


def fact_asked(question: str) -> str | None:
    for name, rx in FACT_RULES:
        if rx.search(question):
            return name
    return None


_KIND_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("compare", re.compile(r"\b(?:vs\.?|versus|compare\w*|compared|difference\s+between)\b", _I)),
    (
        "share",
        re.compile(
            r"\b(?:what\s+(?:share|percent\w*|proportion|portion|fraction|rate)|how\s+often|"
            r"(?:odds|chances?|likelihood)\s+(?:of|that)|how\s+likely|"
            r"rate\s+of|percent\w*|share\s+of|(?:overturn|uphold|approval|denial|"
            r"success|reversal)\s+rate)\b",
            _I,
        ),
    ),
    (
        "count",
        # "denied because the number of visits exceeded...": a reason, not a count
        re.compile(
            # "for not saying how many or how much was asked for": what the request lacked
            r"(?<!saying )(?<!stating )(?<!state )(?<!say )(?<!specify )(?<!specifying )"
            r"(?<!indicate )(?<!indicating )(?<!know )"
            r"\bhow\s+many\b|(?<!because the )(?<!due to the )(?<!since the )(?<!as the )"
            r"(?<!push the )(?<!pushed the )(?<!exceed the )(?<!exceeds the )(?<!exceeded the )"
            r"\bnumber\s+of\b|\bcount\b",
            _I,
        ),
    ),
    (
        "why",
        re.compile(
            r"\bwhy\b|\bwhy'd\b|\breasons?\b|\breasoning\b|\brationale\b|\bjustif\w+|"
            r"\bon\s+what\s+(?:grounds|basis)\b|\bwhat\s+gets\b|"
            r"\b(?:what|the)\s+(?:was|were|is|are)\s+(?:the\s+)?(?:basis|grounds)\s+(?:for|of)\b|"
            r"\bwhat\s+(?:grounds|basis)\b|"
            r"\bhold\s+against\b|\bwhat\s+documentation\b|\bwhat\s+(?:made|makes)\b|"
            r"\bwhat\s+(?:must|should)\b.*\bdocument",
            _I,
        ),
    ),
    (
        "summary",
        # "what does the case summary say": the letter's section, not a summary asked for
        re.compile(
            r"\bsummar\w+(?!\s+(?:say|says|said|give|gives|gave|mention|mentions|mentioned|state|"
            r"states|stated|describe|describes|described|note|notes|noted|report|reports|show|shows|"
            r"list|lists|indicate|indicates|tell|tells|document|documents)\b)|"
            r"\bsummar(?:ise|ize)\b|\bdigest\b|\btell\s+me\s+about\s+(?:case|letter)",
            _I,
        ),
    ),
    (
        "decision",
        re.compile(
            r"\bwhat\s+(?:was|were)\s+(?:decided|the\s+decision)|\bdecision\s+"
            r"(?:on|for)\b|\bwas\s+.+\b(?:upheld|overturned|approved|denied)\b|"
            r"\bwhat\s+happened\b|\boutcome\b|\bdecide\b|\bwhat\s+(?:got|was|were)\s+decided\b",
            _I,
        ),
    ),
    (
        "list",
        re.compile(
            r"^\s*(?:which|list|what)\b.*\b(?:requests?|items?|treatments?|"
            r"drugs?|medications?|services?|cases?|letters?)\b",
            _I,
        ),
    ),
]


def question_kind(question: str) -> str:
    # "(qty, dose, rental vs purchase)", "such as a quantity, rental versus purchase, or":
    # a list glossed compares nothing and asks for no fact
    unglossed = re.sub(r"\([^)]*\)", " ", question)
    unglossed = re.sub(
        r"\b(?:such\s+as|e\.g\.|for\s+example|like)\b[^?.;]*", " ", unglossed, flags=re.IGNORECASE
    )
    if fact_asked(unglossed):
        return "fact"
    # "according to the case summaries, which workers ...": where to look, not a summary
    unsourced = re.sub(
        r"\b(?:according\s+to|in|per|from)\s+(?:the|their|its)\s+(?:case\s+|clinical\s+)?summar\w+",
        " ",
        question,
        flags=re.IGNORECASE,
    )
    for kind, rx in _KIND_RULES:
        said = unglossed if kind == "compare" else unsourced if kind == "summary" else question
        if rx.search(said):
            if kind == "list" and YES_NO.search(question):
                return "decision"  # "Was the request for ... upheld?"
            return kind
    if YES_NO.search(question):
        return "decision"
    return "general"
