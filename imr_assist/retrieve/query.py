"""Read a question: what it filters on, and what kind of answer it wants.

Filters come from the lexicon (brand, generic, class: "opioids" finds Norco and
Butrans), decision words ("denied", "not medically necessary" mean upheld),
case numbers, reviewer specialties and guideline names. They select items from
the catalog's structured records and become Chroma ``where`` filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.parse.lexicon import get_lexicon

_I = re.IGNORECASE

# Decision words, upheld side first: "not medically necessary" must win over
# "medically necessary", so negated phrases are matched and removed first.
_UPHELD_WORDS = re.compile(
    r"\b(?:upheld|uphold\w*|den(?:y|ied|ial|ials|ies)|not\s+medically\s+necessary|"
    r"non-?certif\w+|rejected|refused|turned\s+down|not\s+approved)\b",
    _I,
)
_OVERTURNED_WORDS = re.compile(
    r"\b(?:overturn\w*|approv\w*|granted|reversed|certified|allowed|medically\s+necessary|"
    r"won|succeed\w*)\b",
    _I,
)
_CASE = re.compile(r"\b(?:CM|MR|IMR)?\d{2}-\d{5,8}\b", _I)
_GUIDELINES = {
    "MTUS": re.compile(r"\bMTUS\b|chronic\s+pain\s+(?:medical\s+)?treatment\s+guidelines", _I),
    "ODG": re.compile(r"\bODG\b|official\s+disability\s+guidelines", _I),
    "ACOEM": re.compile(r"\bACOEM\b", _I),
}
_SPECIALTY_HINT = re.compile(
    r"\b(?:by|from)\s+(?:an?\s+)?(?P<s>[A-Za-z&/ ]+?)\s+(?:reviewers?|specialists?|doctors?|physicians?)\b",
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
    unknown_terms: list[str] = field(default_factory=list)  # treatment-like words not known

    @property
    def has_treatment(self) -> bool:
        return bool(self.generics or self.classes or self.names_without_generic)

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
        for key in ("decision", "case_number", "specialty", "guideline"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.doc_ids:
            out["doc_id"] = self.doc_ids
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


def parse_question(question: str) -> QueryFilters:
    """Filters named by a question."""
    lex = get_lexicon()
    f = QueryFilters()
    q = question
    for m in lex.find_all(q):
        e = m.entry
        f.mentions.append(m.surface)
        if e.canonical not in f.canonicals:
            f.canonicals.append(e.canonical)
        if e.generic:
            if e.generic not in f.generics:
                f.generics.append(e.generic)
        elif e.canonical not in f.names_without_generic:
            f.names_without_generic.append(e.canonical)
    for cls, a, b in lex.classes_for_group_word(q):
        f.mentions.append(q[a:b])
        if cls not in f.classes:
            f.classes.append(cls)
    if m := _CASE.search(q):
        f.case_number = m.group(0).upper()
    # Negated phrases first, then remove them so "medically necessary" inside
    # "not medically necessary" does not also count as overturned.
    up = _UPHELD_WORDS.search(q)
    rest = _UPHELD_WORDS.sub(" ", q)
    over = _OVERTURNED_WORDS.search(rest)
    if up and not over:
        f.decision = UPHELD
    elif over and not up:
        f.decision = OVERTURNED
    for name, rx in _GUIDELINES.items():
        if rx.search(q):
            f.guideline = name
            break
    if m := _SPECIALTY_HINT.search(q):
        f.specialty = m["s"].strip()
    return f


# --- question kinds -------------------------------------------------------------------

KINDS = ("why", "count", "share", "list", "decision", "summary", "compare", "general")

_KIND_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("compare", re.compile(r"\b(?:vs\.?|versus|compare\w*|compared|difference\s+between)\b", _I)),
    (
        "share",
        re.compile(
            r"\b(?:what\s+(?:share|percent\w*|proportion|fraction|rate)|how\s+often|"
            r"rate\s+of|percent\w*|share\s+of)\b",
            _I,
        ),
    ),
    ("count", re.compile(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b", _I)),
    (
        "why",
        re.compile(
            r"\bwhy\b|\breasons?\b|\bon\s+what\s+grounds\b|\bwhat\s+gets\b|"
            r"\bwhat\s+(?:must|should)\b.*\bdocument",
            _I,
        ),
    ),
    ("summary", re.compile(r"\bsummar\w+|\bdigest\b|\btell\s+me\s+about\s+(?:case|letter)", _I)),
    (
        "list",
        re.compile(
            r"^\s*(?:which|list|what)\b.*\b(?:requests?|items?|treatments?|"
            r"drugs?|medications?|services?|cases?|letters?)\b",
            _I,
        ),
    ),
    (
        "decision",
        re.compile(
            r"\bwhat\s+(?:was|were)\s+(?:decided|the\s+decision)|\bdecision\s+"
            r"(?:on|for)\b|\bwas\s+.+\b(?:upheld|overturned|approved|denied)\b",
            _I,
        ),
    ),
]


def question_kind(question: str) -> str:
    for kind, rx in _KIND_RULES:
        if rx.search(question):
            return kind
    return "general"
