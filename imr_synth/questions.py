"""Questions over a synthetic corpus, with gold answers computed from the gold records.

One JSON object per line of ``questions.jsonl``, the schema the evaluation reads
for the hand-written questions too::

    {"id": "q001", "question": "Why are Norco requests upheld?", "kind": "why_upheld",
     "answerable": true, "items": [{"doc_id": "...", "index": 0}],
     "decision": null, "count": null, "share": null, "reasons": ["no_functional_improvement"]}

Kinds: ``why_upheld``, ``why_overturned`` (items: the target's items with that
decision; reasons: their categories, most frequent first), ``decision`` (one named
item in one case), ``count`` (items: those counted), ``share`` (items: every item of
the target; share: the fraction with the asked decision), ``list``, ``summary``
(items of one case), ``compare`` (items of both targets) and ``unanswerable`` (a
treatment absent from the corpus: answerable false, no items).

Questions name treatments by brand ("Norco"), generic ("hydrocodone"), class
("opioid", "muscle relaxant") and service ("physical therapy"). A question is kept
only when the lexicon reads exactly the intended target in it, and a brand or
generic is asked about only when its items are unambiguous (every item of the
generic is that brand; no other generic of the corpus starts with the same
ingredient), so the gold items are the same whichever reading a system takes.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.parse.lexicon import get_lexicon

KIND_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("why_upheld", 0.16),
    ("why_overturned", 0.10),
    ("decision", 0.12),
    ("count", 0.14),
    ("share", 0.10),
    ("list", 0.10),
    ("summary", 0.08),
    ("compare", 0.10),
    ("unanswerable", 0.10),
)
KINDS = tuple(k for k, _ in KIND_WEIGHTS)

# Class words asked about, each read by the lexicon as the classes listed in its groups.
CLASS_TERMS = (
    "opioid", "muscle relaxant", "benzodiazepine", "NSAID", "anticonvulsant", "antidepressant",
    "proton pump inhibitor", "sleep aid", "topical analgesic", "antiemetic", "laxative", "triptan",
    "injection", "imaging", "surgery", "durable medical equipment", "behavioral health",
    "physical medicine", "consultation", "electrodiagnostic", "medical food", "home health",
)  # fmt: skip


@dataclass(frozen=True)
class ItemFact:
    """What the questions need to know about one gold item."""

    doc_id: str
    index: int
    canonical: str | None
    generic: str | None
    drug_class: str | None
    kind: str | None
    decision: str
    treatment: str
    name: str
    reasons: tuple[str, ...]

    @property
    def ref(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "index": self.index}


@dataclass(frozen=True)
class LetterFact:
    doc_id: str
    case_number: str | None
    items: tuple[ItemFact, ...]


@dataclass
class Target:
    """Something a question can name, and the gold items it covers."""

    kind: str  # "brand", "generic", "class" or "service"
    term: str
    items: list[ItemFact] = field(default_factory=list)
    classes: tuple[str, ...] = ()
    generic: str | None = None
    canonical: str | None = None

    def with_decision(self, decision: str) -> list[ItemFact]:
        return [i for i in self.items if i.decision == decision]


def _service_term(canonical: str) -> str:
    return canonical if canonical[:2].isupper() else canonical[0].lower() + canonical[1:]


def build_targets(letters: list[LetterFact]) -> tuple[list[Target], list[Target]]:
    """Targets present in the corpus, and lexicon targets absent from it."""
    lex = get_lexicon()
    items = [it for lt in letters for it in lt.items]
    by_generic: dict[str, list[ItemFact]] = {}
    by_canonical: dict[str, list[ItemFact]] = {}
    by_class: dict[str, list[ItemFact]] = {}
    for it in items:
        if it.generic:
            by_generic.setdefault(it.generic, []).append(it)
        if it.canonical:
            by_canonical.setdefault(it.canonical, []).append(it)
        if it.drug_class:
            by_class.setdefault(it.drug_class, []).append(it)
    first_words = Counter(g.split("/")[0].split()[0] for g in by_generic)

    present: list[Target] = []
    absent: list[Target] = []
    for e in lex.entries:
        if e.kind == "service":
            term = _service_term(e.canonical)
            found = by_canonical.get(e.canonical, [])
            t = Target("service", term, list(found), canonical=e.canonical)
            (present if found else absent).append(t)
            continue
        if not e.generic:
            continue
        is_brand = e.canonical.casefold() != e.generic.casefold()
        found = by_generic.get(e.generic, [])
        if is_brand:
            if not found:
                absent.append(
                    Target("brand", e.canonical, [], generic=e.generic, canonical=e.canonical)
                )
            elif all(i.canonical == e.canonical for i in found):
                present.append(
                    Target(
                        "brand", e.canonical, list(found), generic=e.generic, canonical=e.canonical
                    )
                )
            continue
        if not found:
            continue
        word = e.generic.split("/")[0].split()[0]
        if first_words[word] > 1:
            continue  # "oxycodone" would also mean oxycodone ER and oxycodone/APAP
        term = word if _reads_as(word, generic=e.generic) else e.generic
        present.append(
            Target("generic", term, list(found), generic=e.generic, canonical=e.canonical)
        )

    groups = {k.casefold(): v for k, v in lex.groups.items()}
    for term in CLASS_TERMS:
        classes = groups.get(term.casefold())
        if not classes:
            continue
        found = [i for c in classes for i in by_class.get(c, [])]
        found.sort(key=lambda i: (i.doc_id, i.index))
        t = Target("class", term, found, classes=tuple(classes))
        (present if found else absent).append(t)
    return present, absent


def _reads_as(text: str, *, generic: str | None = None, canonical: str | None = None) -> bool:
    """Whether the lexicon reads ``text`` as exactly one treatment with that generic/name."""
    lex = get_lexicon()
    found = lex.find_all(text)
    if len(found) != 1 or lex.classes_for_group_word(text):
        return False
    e = found[0].entry
    if generic is not None:
        return e.generic == generic
    return e.canonical == canonical


def _names_exactly(question: str, targets: list[Target]) -> bool:
    """The lexicon reads in ``question`` the targets and nothing else."""
    lex = get_lexicon()
    found = lex.find_all(question)
    classes = {c for c, _a, _b in lex.classes_for_group_word(question)}
    want_generics = {t.generic for t in targets if t.kind in ("brand", "generic")}
    want_services = {t.canonical for t in targets if t.kind == "service"}
    want_classes = {c for t in targets if t.kind == "class" for c in t.classes}
    got_generics = {m.entry.generic for m in found if m.entry.generic}
    got_services = {m.entry.canonical for m in found if not m.entry.generic}
    return (
        got_generics == want_generics and got_services == want_services and classes == want_classes
    )


def _reasons(items: list[ItemFact]) -> list[str]:
    counts = Counter(c for it in items for c in dict.fromkeys(it.reasons))
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _question(kind: str, text: str, items: list[ItemFact], **answer: Any) -> dict[str, Any]:
    q: dict[str, Any] = {
        "id": "",
        "question": text,
        "kind": kind,
        "answerable": kind != "unanswerable",
        "items": [i.ref for i in sorted(items, key=lambda i: (i.doc_id, i.index))],
        "decision": None,
        "count": None,
        "share": None,
        "reasons": [],
    }
    q.update(answer)
    return q


WHY_UPHELD = (
    "Why are {t} requests upheld?",
    "Why are {t} requests denied?",
    "Why do reviewers uphold denials of {t} requests?",
    "What reasons do reviewers give for upholding {t} denials?",
    "Why are {t} requests found not medically necessary?",
)
WHY_OVERTURNED = (
    "Why are {t} requests overturned?",
    "What gets {t} requests overturned?",
    "Why were {t} denials reversed?",
    "On what grounds do reviewers overturn {t} denials?",
)
COUNT = {
    UPHELD: ("How many {t} requests were upheld?", "How many {t} denials were upheld?"),
    OVERTURNED: ("How many {t} requests were overturned?", "How many {t} denials were overturned?"),
    None: ("How many {t} requests were decided?", "How many {t} decisions are there?"),
}
SHARE = {
    UPHELD: (
        "What percentage of {t} requests were upheld?",
        "What share of {t} requests were upheld?",
    ),
    OVERTURNED: (
        "What share of {t} requests were overturned?",
        "What proportion of {t} decisions were overturned?",
    ),
}
LIST = {
    UPHELD: ("Which {t} requests were upheld?", "List the {t} requests that were upheld."),
    OVERTURNED: (
        "Which {t} requests were overturned?",
        "List the {t} requests that were overturned.",
    ),
}
DECISION = (
    "What was decided on {t} in case {c}?",
    "What was the decision on {t} in case {c}?",
    "What did the reviewer decide about {t} in case {c}?",
    "What was the decision on the {n} request in case {c}?",
)
SUMMARY = (
    "Summarise case {c}",
    "Summarize case {c}.",
    "Give me a digest of case {c}.",
    "Summarize the decisions in case {c}.",
)
COMPARE = (
    "How do {a} and {b} decisions differ?",
    "Compare {a} and {b} decisions.",
    "How do reviewers decide {a} requests compared with {b} requests?",
)


class _Maker:
    def __init__(self, letters: list[LetterFact], rng: random.Random) -> None:
        self.rng = rng
        self.letters = letters
        self.present, self.absent = build_targets(letters)
        self.cased = [lt for lt in letters if lt.case_number]

    def _pick(self, targets: list[Target], decision: str | None = None) -> Target | None:
        """A target: the way of naming (brand, generic, class, service) uniformly, then a
        target of that kind weighted by how many items it covers, so common treatments
        are asked about more often than rare ones."""
        if not targets:
            return None
        kinds = sorted({t.kind for t in targets})
        kind = self.rng.choice(kinds)
        pool = [t for t in targets if t.kind == kind]
        weights = [
            max(1, len(t.items if decision is None else t.with_decision(decision))) for t in pool
        ]
        return self.rng.choices(pool, weights)[0]

    def make(self, kind: str) -> dict[str, Any] | None:
        made: dict[str, Any] | None = getattr(self, "_" + kind)()
        return made

    def _why(self, decision: str, templates: tuple[str, ...], kind: str) -> dict[str, Any] | None:
        t = self._pick([t for t in self.present if t.with_decision(decision)], decision)
        if t is None:
            return None
        text = self.rng.choice(templates).format(t=t.term)
        if not _names_exactly(text, [t]):
            return None
        items = t.with_decision(decision)
        return _question(kind, text, items, reasons=_reasons(items))

    def _why_upheld(self) -> dict[str, Any] | None:
        return self._why(UPHELD, WHY_UPHELD, "why_upheld")

    def _why_overturned(self) -> dict[str, Any] | None:
        return self._why(OVERTURNED, WHY_OVERTURNED, "why_overturned")

    def _count(self) -> dict[str, Any] | None:
        t = self._pick(self.present)
        if t is None:
            return None
        decision = self.rng.choice((UPHELD, UPHELD, OVERTURNED, None))
        text = self.rng.choice(COUNT[decision]).format(t=t.term)
        if not _names_exactly(text, [t]):
            return None
        items = t.items if decision is None else t.with_decision(decision)
        return _question("count", text, items, count=len(items))

    def _share(self) -> dict[str, Any] | None:
        t = self._pick([t for t in self.present if len(t.items) >= 2])
        if t is None:
            return None
        decision = self.rng.choice((UPHELD, OVERTURNED, OVERTURNED))
        text = self.rng.choice(SHARE[decision]).format(t=t.term)
        if not _names_exactly(text, [t]):
            return None
        share = round(len(t.with_decision(decision)) / len(t.items), 4)
        return _question("share", text, t.items, share=share)

    def _list(self) -> dict[str, Any] | None:
        decision = self.rng.choice((UPHELD, OVERTURNED))
        t = self._pick([t for t in self.present if t.with_decision(decision)], decision)
        if t is None:
            return None
        text = self.rng.choice(LIST[decision]).format(t=t.term)
        if not _names_exactly(text, [t]):
            return None
        return _question("list", text, t.with_decision(decision))

    def _decision(self) -> dict[str, Any] | None:
        lt = self._pick_letter()
        if lt is None:
            return None
        it = self.rng.choice(lt.items)
        if sum(1 for x in lt.items if x.canonical == it.canonical) > 1:
            return None
        text = self.rng.choice(DECISION).format(t=it.treatment, n=it.name, c=lt.case_number)
        return _question("decision", text, [it], decision=it.decision)

    def _summary(self) -> dict[str, Any] | None:
        lt = self._pick_letter()
        if lt is None:
            return None
        text = self.rng.choice(SUMMARY).format(c=lt.case_number)
        return _question("summary", text, list(lt.items))

    def _pick_letter(self) -> LetterFact | None:
        return self.rng.choice(self.cased) if self.cased else None

    def _compare(self) -> dict[str, Any] | None:
        a = self._pick(self.present)
        if a is None:
            return None
        same = [t for t in self.present if t.kind == a.kind and t is not a]
        b = self._pick(same)
        if b is None:
            return None
        keys_a = {(i.doc_id, i.index) for i in a.items}
        if any((i.doc_id, i.index) in keys_a for i in b.items):
            return None
        text = self.rng.choice(COMPARE).format(a=a.term, b=b.term)
        if not _names_exactly(text, [a, b]):
            return None
        return _question("compare", text, a.items + b.items)

    def _unanswerable(self) -> dict[str, Any] | None:
        t = self._pick(self.absent)
        if t is None:
            return None
        templates = WHY_UPHELD + WHY_OVERTURNED + COUNT[UPHELD] + LIST[OVERTURNED]
        text = self.rng.choice(templates).format(t=t.term)
        if not _names_exactly(text, [t]):
            return None
        return _question("unanswerable", text, [])


def make_questions(
    letters: list[LetterFact], count: int, rng: random.Random
) -> list[dict[str, Any]]:
    """``count`` questions spread over the kinds by ``KIND_WEIGHTS``.

    A kind the corpus cannot support (no overturned items, no case numbers) gives
    its share to the other kinds; fewer questions come back only when no kind can
    produce a new one.
    """
    maker = _Maker(letters, rng)
    quotas = _quotas(count)
    schedule = [k for k, n in quotas.items() for _ in range(n)]
    rng.shuffle(schedule)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    dead: set[str] = set()
    pending = list(schedule)
    while pending and len(out) < count:
        kind = pending.pop(0)
        if kind in dead:
            live = [k for k in KINDS if k not in dead]
            if not live:
                break
            kind = rng.choice(live)
        q = None
        for _ in range(40):
            q = maker.make(kind)
            if q is not None and q["question"] not in seen:
                break
            q = None
        if q is None:
            dead.add(kind)
            pending.append(kind)
            continue
        seen.add(q["question"])
        q["id"] = f"q{len(out) + 1:03d}"
        out.append(q)
    return out


def _quotas(count: int) -> dict[str, int]:
    raw = {k: count * w for k, w in KIND_WEIGHTS}
    quotas = {k: int(v) for k, v in raw.items()}
    rest = count - sum(quotas.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - quotas[k]), KINDS.index(k)))[:rest]:
        quotas[k] += 1
    return quotas
