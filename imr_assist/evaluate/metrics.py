"""Evaluation metrics: deterministic functions of gold records and observed outputs.

Nothing here runs a pipeline. The runner turns what a pipeline did into the plain
records below (passages it retrieved; an answer's text, citations and answered
flag) and these functions score them, the same way for every pipeline.

Conventions: a precision with nothing predicted is 0 when there was something to
find and ``None`` when there was not; a recall or accuracy over nothing is ``None``
(no data), never a made-up 0 or 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from imr_assist.evaluate.corpus import ITEM_SET_KINDS, WHY_KINDS, EvalQuestion
from imr_assist.models import Item, Letter, Span
from imr_assist.parse.reasons import label_reasons
from imr_assist.text import clean, normalize

ItemKey = tuple[str, int]  # (gold doc_id, gold item index)

#: A stated share counts as right within this distance of the gold share.
SHARE_TOLERANCE = 0.01


# --- small arithmetic -----------------------------------------------------------------


def precision(hits: int, predicted: int, gold: int) -> float | None:
    if predicted:
        return hits / predicted
    return 0.0 if gold else None


def recall(hits: int, gold: int) -> float | None:
    return hits / gold if gold else None


def f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def accuracy(correct: int, total: int) -> float | None:
    return correct / total if total else None


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest value with ``pct`` % of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# --- extraction -------------------------------------------------------------------------

DATE_FIELDS = (
    "date_of_injury",
    "decision_date",
    "ur_denial_date",
    "date_assigned",
    "application_received",
)
FIELD_NAMES = ("age", "sex", "dates", "licensure", "specialties", "guidelines", "pages")


def normalise_treatment(text: str) -> str:
    """Treatment as written, reduced to lower-case letters and digits.

    "Norco 10/325 mg #30" and "Norco 10/325mg #30" are the same request.
    """
    return re.sub(r"[^a-z0-9]+", "", clean(text).lower())


def match_items(gold: Letter, predicted: Letter | None) -> list[tuple[Item, Item | None]]:
    """Each gold item with the predicted item of the same normalised treatment, in order."""
    free = list(predicted.items) if predicted else []
    pairs: list[tuple[Item, Item | None]] = []
    for g in gold.items:
        key = normalise_treatment(g.treatment)
        found = next((p for p in free if normalise_treatment(p.treatment) == key), None)
        if found is not None:
            free.remove(found)
        pairs.append((g, found))
    return pairs


def _norm_list(values: Iterable[str]) -> list[str]:
    return sorted({" ".join(v.split()).casefold() for v in values if v and v.strip()})


def _norm_scalar(value: object) -> object:
    if isinstance(value, str):
        v = " ".join(value.split()).casefold()
        return v or None
    return value


def _field_slots(gold: Letter, pred: Letter | None) -> Iterable[tuple[str, object, object]]:
    """(field family, gold value, predicted value) for every field compared."""
    gp, pp = gold.patient, pred.patient if pred else None
    yield "age", gp.age, pp.age if pp else None
    yield "sex", _norm_scalar(gp.sex), _norm_scalar(pp.sex) if pp else None
    for name in DATE_FIELDS:
        yield "dates", getattr(gold, name), getattr(pred, name) if pred else None
    yield (
        "licensure",
        _norm_list(gold.reviewer.licensure),
        _norm_list(pred.reviewer.licensure) if pred else [],
    )
    yield (
        "specialties",
        _norm_list(gold.reviewer.specialties),
        _norm_list(pred.reviewer.specialties) if pred else [],
    )
    for g, p in match_items(gold, pred):
        yield "guidelines", _norm_list(g.guidelines), _norm_list(p.guidelines) if p else []
        yield "pages", _norm_scalar(g.pages), _norm_scalar(p.pages) if p else None


@dataclass
class ExtractionResult:
    metrics: dict[str, Any]
    support: dict[str, int]
    letters: list[dict[str, Any]] = field(default_factory=list)


def score_extraction(pairs: Sequence[tuple[Letter, Letter | None]]) -> ExtractionResult:
    """Score predicted letter records against gold ones.

    ``pairs`` holds each gold letter with the record the pipeline produced for it
    (``None`` when it produced none: every gold item is then missed). Items are
    matched by normalised treatment within a letter. Decision accuracy is over gold
    items, a missed item counting as wrong. A field is compared where the gold or the
    prediction has a value (both empty says nothing); a field of a missed item or
    letter counts as wrong. Reason categories are compared per matched item and
    micro-averaged.
    """
    n_gold = n_pred = n_matched = n_decisions = 0
    r_hits = r_pred = r_gold = 0
    slots: dict[str, list[int]] = {name: [0, 0] for name in FIELD_NAMES}  # [correct, total]
    letters = []
    for gold, pred in pairs:
        matched = match_items(gold, pred)
        n_gold += len(gold.items)
        n_pred += len(pred.items) if pred else 0
        detail: dict[str, Any] = {
            "doc_id": gold.doc_id,
            "predicted": pred is not None,
            "missed_items": [g.treatment for g, p in matched if p is None],
            "extra_items": [],
            "wrong_decisions": [],
            "wrong_fields": [],
        }
        used = {id(p) for _, p in matched if p is not None}
        if pred:
            detail["extra_items"] = [p.treatment for p in pred.items if id(p) not in used]
        for g, p in matched:
            if p is None:
                continue
            n_matched += 1
            if p.decision == g.decision:
                n_decisions += 1
            else:
                detail["wrong_decisions"].append(g.treatment)
            gc, pc = set(g.reason_categories), set(p.reason_categories)
            r_hits += len(gc & pc)
            r_pred += len(pc)
            r_gold += len(gc)
        for name, gv, pv in _field_slots(gold, pred):
            if gv in (None, []) and pv in (None, []):
                continue
            slots[name][1] += 1
            if gv == pv:
                slots[name][0] += 1
            else:
                detail["wrong_fields"].append({"field": name, "gold": gv, "predicted": pv})
        letters.append(detail)
    item_p = precision(n_matched, n_pred, n_gold)
    item_r = recall(n_matched, n_gold)
    total_ok = sum(c for c, _ in slots.values())
    total = sum(t for _, t in slots.values())
    metrics: dict[str, Any] = {
        "item_precision": item_p,
        "item_recall": item_r,
        "item_f1": f1(item_p, item_r),
        "decision_accuracy": accuracy(n_decisions, n_gold),
        "fields": {name: accuracy(c, t) for name, (c, t) in slots.items()},
        "field_accuracy": accuracy(total_ok, total),
        "reason_precision": precision(r_hits, r_pred, r_gold),
        "reason_recall": recall(r_hits, r_gold),
    }
    support = {
        "extraction.item_precision": n_pred,
        "extraction.item_recall": n_gold,
        "extraction.item_f1": n_gold,
        "extraction.decision_accuracy": n_gold,
        "extraction.field_accuracy": total,
        "extraction.reason_precision": r_pred,
        "extraction.reason_recall": r_gold,
        **{f"extraction.fields.{name}": t for name, (_, t) in slots.items()},
    }
    return ExtractionResult(metrics, support, letters)


# --- retrieval --------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    """A retrieved piece of a letter: its doc_id and character span in the letter text.

    ``item_index`` is the index of the item the chunk was cut from, in the pipeline's
    own record of the letter, when the pipeline knows it.
    """

    doc_id: str
    start: int
    end: int
    item_index: int | None = None


@dataclass(frozen=True)
class GoldTarget:
    """A gold item as retrieval and citations see it.

    ``spans`` are the item's block and its grounded field spans in the letter text;
    ``chunk_item_index`` is the index of the same item in the indexed record, if the
    pipeline's parser found it.
    """

    doc_id: str
    index: int
    spans: tuple[Span, ...]
    chunk_item_index: int | None = None

    @property
    def key(self) -> ItemKey:
        return (self.doc_id, self.index)

    def contains(self, doc_id: str, start: int, end: int) -> bool:
        """Whether a quote lies inside the item: at least 90% of its characters fall in the
        item's spans (a decision line quoted whole runs over the treatment and decision
        spans and the space between them)."""
        if doc_id != self.doc_id or end <= start:
            return False
        covered, pos = 0, start
        for s in sorted(self.spans, key=lambda s: s.start):
            a, b = max(s.start, pos), min(s.end, end)
            if b > a:
                covered += b - a
                pos = b
        return covered >= 0.9 * (end - start)


def covers(p: Passage, t: GoldTarget) -> bool:
    """A passage counts for a gold item when it is that item's chunk, or overlaps its span."""
    if p.doc_id != t.doc_id:
        return False
    if p.item_index is not None and p.item_index == t.chunk_item_index:
        return True
    return any(p.start < s.end and s.start < p.end for s in t.spans)


@dataclass
class RetrievalScore:
    recall_at_5: float
    recall_at_10: float
    reciprocal_rank: float
    first_rank: int | None


def score_ranking(passages: Sequence[Passage], targets: Sequence[GoldTarget]) -> RetrievalScore:
    """Recall@5, recall@10 and reciprocal rank (within 10) of one ranked list."""

    def found(k: int) -> int:
        top = passages[:k]
        return sum(1 for t in targets if any(covers(p, t) for p in top))

    first = next(
        (n for n, p in enumerate(passages[:10], 1) if any(covers(p, t) for t in targets)), None
    )
    n = len(targets)
    return RetrievalScore(found(5) / n, found(10) / n, 1 / first if first else 0.0, first)


def score_retrieval(
    runs: Sequence[tuple[Sequence[Passage], Sequence[GoldTarget]]],
) -> tuple[dict[str, float | None], int]:
    """Mean recall@5, recall@10 and MRR@10 over the runs that have gold items."""
    scores = [score_ranking(p, t) for p, t in runs if t]
    return (
        {
            "recall@5": mean([s.recall_at_5 for s in scores]),
            "recall@10": mean([s.recall_at_10 for s in scores]),
            "mrr@10": mean([s.reciprocal_rank for s in scores]),
        },
        len(scores),
    )


# --- answers ----------------------------------------------------------------------------


@dataclass
class CitationObs:
    """A citation as the evaluation sees it: where it points, whether it is verbatim there,
    and which gold item (if any) contains it."""

    n: int
    doc_id: str
    start: int
    end: int
    quote: str
    valid: bool
    item: ItemKey | None = None


@dataclass
class AnswerObs:
    """What a pipeline's answer observably is: its text, citations and answered flag."""

    text: str
    answered: bool
    citations: list[CitationObs] = field(default_factory=list)

    @property
    def valid_citations(self) -> list[CitationObs]:
        return [c for c in self.citations if c.valid]

    @property
    def cited_items(self) -> set[ItemKey]:
        return {c.item for c in self.citations if c.valid and c.item is not None}

    @cached_property
    def clean_quotes(self) -> list[str]:
        """The valid quotes in normalised one-line form."""
        return [clean(c.quote) for c in self.valid_citations]


_MARK = re.compile(r"\[(\d+)\]")
_DECISION_WORDS = re.compile(
    r"\b(?P<up>upheld|not\s+medically\s+necessary)\b|\b(?P<over>overturned|medically\s+necessary)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*%")
_FRACTION = re.compile(r"(?<![\w./])(0?\.\d+|1\.0+)(?![\w/%]|\.\d)")
_N_OF_M = re.compile(r"(?<![\w/#.-])(\d+)\s+(?:of|out\s+of)\s+(\d+)\b", re.IGNORECASE)


def strip_marks(text: str) -> str:
    return _MARK.sub(" ", text)


def stated_decision(text: str) -> str | None:
    """The first decision the answer states ("not medically necessary" reads as upheld)."""
    m = _DECISION_WORDS.search(strip_marks(text))
    if m is None:
        return None
    return "upheld" if m.group("up") else "overturned"


def stated_count(text: str) -> int | None:
    """The first whole number the answer states, in digits or words (zero to twenty)."""
    for token in strip_marks(text).split():
        t = token.strip("()[],.;:!?\"'")
        if t.isdigit():
            return int(t)
        if t.lower() in _NUMBER_WORDS:
            return _NUMBER_WORDS[t.lower()]
    return None


def stated_share(text: str) -> float | None:
    """The share the answer states: its first percentage, else fraction, else "N of M"."""
    body = strip_marks(text)
    if m := _PERCENT.search(body):
        return float(m.group(1)) / 100
    if m := _FRACTION.search(body):
        return float(m.group(1))
    for m in _N_OF_M.finditer(body):
        n, total = int(m.group(1)), int(m.group(2))
        if 0 < total and n <= total:
            return n / total
    return None


def answer_reasons(obs: AnswerObs, side: str) -> set[str]:
    """Reason categories the project's labeller finds in the answer's verbatim quotes."""
    cats: set[str] = set()
    for c in obs.valid_citations:
        nt = normalize(c.quote)
        cats.update(r.category for r in label_reasons(nt, 0, len(nt.flat), side))
    return cats


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])|\n+")


def answer_sentences(text: str) -> list[str]:
    """The answer's statements; citation marks stay with the sentence they follow.

    A lead-in ending in a colon ("By reason:", "Decisions on Norco requests:") only
    introduces what follows and is not counted; nor are fragments under two words.
    """
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [
        p
        for p in parts
        if len(re.findall(r"[A-Za-z0-9]+", strip_marks(p))) >= 2 and not p.endswith(":")
    ]


def sentence_supported(sentence: str, obs: AnswerObs) -> bool:
    """Carries a valid citation mark, or is itself a verbatim piece of a valid quote."""
    by_n = {c.n: c for c in obs.citations}
    if any((c := by_n.get(int(n))) is not None and c.valid for n in _MARK.findall(sentence)):
        return True
    body = clean(strip_marks(sentence)).strip(" -")
    return bool(body) and any(body in q for q in obs.clean_quotes)


@dataclass
class Grade:
    """How one answer did on one question."""

    correct: bool
    stated: Any = None
    cited: set[ItemKey] = field(default_factory=set)
    reasons: set[str] = field(default_factory=set)
    sentences: int = 0
    supported: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "stated": self.stated,
            "cited_items": [list(k) for k in sorted(self.cited)],
            "reasons": sorted(self.reasons),
            "sentences": self.sentences,
            "supported_sentences": self.supported,
        }


def grade(q: EvalQuestion, obs: AnswerObs) -> Grade:
    """Whether the answer is right for the question's kind, from what it observably says.

    why: every expected reason category among the quotes, and the items cited (at least
    one) all gold items: a "why" answer quotes a few examples per reason, not every item;
    decision / count / share: the decision, number or share stated (share within
    0.01); list, summary, compare: exactly the gold items cited; unanswerable: the
    question refused. Refusing an answerable question is always wrong.
    """
    g = Grade(correct=False, cited=obs.cited_items)
    if obs.answered:
        sents = answer_sentences(obs.text)
        g.sentences = len(sents)
        g.supported = sum(1 for s in sents if sentence_supported(s, obs))
    if q.kind in WHY_KINDS:
        g.reasons = answer_reasons(obs, q.reason_side)
    if not q.answerable:
        g.correct = not obs.answered
        return g
    if not obs.answered:
        return g
    if q.kind in WHY_KINDS:
        g.correct = bool(g.cited) and g.cited <= q.item_keys and set(q.reasons) <= g.reasons
    elif q.kind == "decision":
        g.stated = stated_decision(obs.text)
        g.correct = g.stated == q.decision
    elif q.kind == "count":
        g.stated = stated_count(obs.text)
        g.correct = g.stated == q.count
    elif q.kind == "share":
        g.stated = stated_share(obs.text)
        g.correct = (
            g.stated is not None
            and q.share is not None
            and abs(g.stated - q.share) <= SHARE_TOLERANCE + 1e-9
        )
    elif q.kind in ITEM_SET_KINDS:
        g.correct = g.cited == q.item_keys
    return g


def score_answers(
    pairs: Sequence[tuple[EvalQuestion, AnswerObs]],
) -> tuple[dict[str, Any], dict[str, int]]:
    """Answer metrics over all questions, and how many questions each one rests on."""
    grades = [(q, obs, grade(q, obs)) for q, obs in pairs]

    def acc(kinds: tuple[str, ...] | None) -> tuple[float | None, int]:
        sel = [g for q, _, g in grades if kinds is None or q.kind in kinds]
        return accuracy(sum(g.correct for g in sel), len(sel)), len(sel)

    l_hits = l_pred = l_gold = 0
    r_hits = r_pred = r_gold = 0
    for q, _, g in grades:
        if q.kind == "list":
            l_hits += len(g.cited & q.item_keys)
            l_pred += len(g.cited)
            l_gold += len(q.item_keys)
        if q.kind in WHY_KINDS:
            expected = set(q.reasons)
            r_hits += len(g.reasons & expected)
            r_pred += len(g.reasons)
            r_gold += len(expected)
    answered = [q for q, obs, _ in grades if obs.answered]
    abstain_ok = sum(1 for q, obs, _ in grades if obs.answered == q.answerable)
    correct, n_all = acc(None)
    decision, n_dec = acc(("decision",))
    count, n_count = acc(("count",))
    share, n_share = acc(("share",))
    kinds_present = sorted({q.kind for q, _, _ in grades})
    metrics: dict[str, Any] = {
        "correct": correct,
        "decision": decision,
        "count": count,
        "share": share,
        "list_precision": precision(l_hits, l_pred, l_gold),
        "list_recall": recall(l_hits, l_gold),
        "reason_precision": precision(r_hits, r_pred, r_gold),
        "reason_recall": recall(r_hits, r_gold),
        "abstention_accuracy": accuracy(abstain_ok, len(grades)),
        "answered_precision": accuracy(sum(q.answerable for q in answered), len(answered)),
        "by_kind": {k: acc((k,))[0] for k in kinds_present},
    }
    support = {
        "answers.correct": n_all,
        "answers.decision": n_dec,
        "answers.count": n_count,
        "answers.share": n_share,
        "answers.list_precision": l_pred,
        "answers.list_recall": l_gold,
        "answers.reason_precision": r_pred,
        "answers.reason_recall": r_gold,
        "answers.abstention_accuracy": len(grades),
        "answers.answered_precision": len(answered),
        **{f"answers.by_kind.{k}": acc((k,))[1] for k in kinds_present},
    }
    return metrics, support


# --- citations --------------------------------------------------------------------------


def score_citations(
    pairs: Sequence[tuple[EvalQuestion, AnswerObs]],
) -> tuple[dict[str, float | None], dict[str, int]]:
    """Citation validity, precision, recall and faithfulness.

    validity: citations whose quote is verbatim in the cited letter, over all
    citations of answered questions. precision: citations that are valid and fall
    inside a gold item of their question. recall: gold items of answerable questions
    that some valid citation falls inside (a refused question cites nothing).
    faithfulness: answer sentences carrying a valid citation (or quoting one
    verbatim), over all sentences of answered questions.
    """
    n_cit = n_valid = n_precise = 0
    g_items = g_cited = 0
    n_sent = n_supported = 0
    for q, obs in pairs:
        if obs.answered:
            for c in obs.citations:
                n_cit += 1
                n_valid += c.valid
                n_precise += c.valid and c.item is not None and c.item in q.item_keys
            sents = answer_sentences(obs.text)
            n_sent += len(sents)
            n_supported += sum(1 for s in sents if sentence_supported(s, obs))
        if q.answerable and q.items:
            g_items += len(q.item_keys)
            g_cited += len(q.item_keys & obs.cited_items) if obs.answered else 0
    metrics = {
        "validity": accuracy(n_valid, n_cit),
        "precision": precision(n_precise, n_cit, g_items),
        "recall": recall(g_cited, g_items),
        "faithfulness": accuracy(n_supported, n_sent),
    }
    support = {
        "citations.validity": n_cit,
        "citations.precision": n_cit,
        "citations.recall": g_items,
        "citations.faithfulness": n_sent,
    }
    return metrics, support


# --- latency ----------------------------------------------------------------------------


def score_latency(stages: dict[str, Sequence[float]]) -> dict[str, float | None]:
    """p50 and p95 in milliseconds per stage, from durations in seconds."""
    out: dict[str, float | None] = {}
    for stage, seconds in stages.items():
        ms = [s * 1000 for s in seconds]
        for pct in (50, 95):
            v = percentile(ms, pct)
            out[f"{stage}_p{pct}_ms"] = None if v is None else round(v, 3)
    return out
