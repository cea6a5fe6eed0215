"""The hand-written evaluation questions agree with the gold extractions of the samples.

Pure data checks over `evals/questions.jsonl` and `evals/gold/*.json`: no index, no model.
Besides the schema, every answerable question is tied here to the gold items it is about
(a treatment, class, decision or letter), so a question's `items` list is checked to be
complete as well as correct.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from imr_assist.constants import DECISIONS, OVERTURNED, OVERTURNED_REASONS, UPHELD, UPHELD_REASONS

EVALS = Path(__file__).resolve().parent.parent / "evals"
QUESTIONS_PATH = EVALS / "questions.jsonl"
GOLD_DIR = EVALS / "gold"

FIELDS = ("id", "question", "kind", "answerable", "items", "decision", "count", "share", "reasons")
ANSWERABLE_KINDS = (
    "why_upheld",
    "why_overturned",
    "decision",
    "count",
    "share",
    "list",
    "summary",
    "compare",
)
MIN_PER_KIND = {**dict.fromkeys(ANSWERABLE_KINDS, 4), "unanswerable": 6}
MIN_QUESTIONS = 48
WHY_KINDS = {"why_upheld": UPHELD, "why_overturned": OVERTURNED}

ItemKey = tuple[str, int]


def _load_questions() -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(QUESTIONS_PATH.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            assert isinstance(row, dict), f"line {n} is not a JSON object"
            rows.append(row)
    return rows


def _load_gold() -> dict[str, dict[str, Any]]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(GOLD_DIR.glob("*.json"))
    }


QUESTIONS = _load_questions()
GOLD = _load_gold()
GOLD_ITEMS: dict[ItemKey, dict[str, Any]] = {
    (doc_id, item["index"]): item for doc_id, letter in GOLD.items() for item in letter["items"]
}
BY_ID = {q["id"]: q for q in QUESTIONS}


def _items(question: dict[str, Any]) -> list[ItemKey]:
    return [(ref["doc_id"], ref["index"]) for ref in question["items"]]


def _of_kind(*kinds: str) -> list[Any]:
    return [pytest.param(q, id=q["id"]) for q in QUESTIONS if q["kind"] in kinds]


# --- which gold items each answerable question is about -------------------------------


@dataclass(frozen=True)
class Pick:
    """Gold items by letter (doc_id prefix), treatment name, generic, class and decision."""

    letter: str | None = None
    name: str | None = None
    generic: str | None = None
    classes: tuple[str, ...] = ()
    decision: str | None = None

    def matches(self, key: ItemKey, item: dict[str, Any]) -> bool:
        return (
            (self.letter is None or key[0].startswith(self.letter + "_"))
            and (self.name is None or item["name"] == self.name)
            and (self.generic is None or item["generic"] == self.generic)
            and (not self.classes or item["drug_class"] in self.classes)
            and (self.decision is None or item["decision"] == self.decision)
        )


OPIOIDS = ("opioid",)
# The letters call tizanidine and baclofen muscle relaxants (MTUS "Muscle Relaxants"
# section), so a question about muscle relaxants covers the antispasticity agents too.
MUSCLE_RELAXANTS = ("muscle relaxant", "antispasticity agent")
HYDROCODONE = "hydrocodone/acetaminophen"
ALL = Pick()

SELECTIONS: dict[str, tuple[Pick, ...]] = {
    # why_upheld
    "q001": (Pick(name="Norco", decision=UPHELD),),
    "q002": (Pick(generic=HYDROCODONE, decision=UPHELD),),
    "q003": (Pick(classes=OPIOIDS, decision=UPHELD),),
    "q004": (Pick(classes=MUSCLE_RELAXANTS, decision=UPHELD),),
    "q005": (Pick(name="Xanax", decision=UPHELD),),
    "q006": (Pick(classes=("NSAID",), decision=UPHELD),),
    "q007": (Pick(generic="carisoprodol", decision=UPHELD),),
    "q008": (Pick(generic="tizanidine", decision=UPHELD),),
    "q009": (Pick(classes=("benzodiazepine",), decision=UPHELD),),
    # why_overturned
    "q010": (Pick(name="Butrans", decision=OVERTURNED),),
    "q011": (Pick(generic=HYDROCODONE, decision=OVERTURNED),),
    "q012": (Pick(classes=OPIOIDS, decision=OVERTURNED),),
    "q013": (Pick(generic="amitriptyline", decision=OVERTURNED),),
    "q014": (Pick(classes=("antidepressant",), decision=OVERTURNED),),
    "q015": (Pick(generic="baclofen", decision=OVERTURNED),),
    "q016": (Pick(classes=MUSCLE_RELAXANTS, decision=OVERTURNED),),
    "q017": (Pick(decision=OVERTURNED),),
    # decision
    "q018": (Pick(letter="000", name="Norco"),),
    "q019": (Pick(letter="001", name="Soma"),),
    "q020": (Pick(letter="001", name="Relafen"),),
    "q021": (Pick(letter="002", name="Norco"),),
    "q022": (Pick(letter="002", name="Xanax"),),
    "q023": (Pick(letter="003", name="Tizanidine"),),
    "q024": (Pick(letter="004", name="Butrans"),),
    "q025": (Pick(letter="004", name="Baclofen"),),
    "q026": (Pick(letter="003", name="Norco"),),
    "q027": (Pick(letter="004", generic=HYDROCODONE),),
    "q028": (Pick(letter="001", name="Norco"),),
    # count
    "q029": (Pick(name="Norco", decision=UPHELD),),
    "q030": (Pick(classes=OPIOIDS, decision=OVERTURNED),),
    "q031": (Pick(decision=UPHELD),),
    "q032": (Pick(classes=MUSCLE_RELAXANTS, decision=OVERTURNED),),
    "q033": (Pick(generic=HYDROCODONE),),
    "q034": (Pick(decision=OVERTURNED),),
    "q035": (Pick(name="Xanax", decision=OVERTURNED),),
    "q036": (Pick(classes=("benzodiazepine",), decision=UPHELD),),
    # share: the denominator is every item of the treatment or letter
    "q037": (Pick(classes=OPIOIDS),),
    "q038": (Pick(name="Norco"),),
    "q039": (ALL,),
    "q040": (Pick(classes=MUSCLE_RELAXANTS),),
    "q041": (Pick(generic=HYDROCODONE),),
    "q042": (Pick(letter="004"),),
    "q043": (Pick(classes=("NSAID",)),),
    # list
    "q044": (Pick(decision=OVERTURNED),),
    "q045": (Pick(classes=OPIOIDS, decision=UPHELD),),
    "q046": (Pick(classes=MUSCLE_RELAXANTS),),
    "q047": (Pick(letter="001", decision=UPHELD),),
    "q048": (Pick(letter="004", decision=OVERTURNED),),
    "q049": (Pick(name="Norco", decision=OVERTURNED),),
    "q050": (Pick(decision=UPHELD),),
    # summary
    "q051": (Pick(letter="000"),),
    "q052": (Pick(letter="001"),),
    "q053": (Pick(letter="002"),),
    "q054": (Pick(letter="003"),),
    "q055": (Pick(letter="004"),),
    # compare
    "q056": (Pick(name="Norco"), Pick(name="Butrans")),
    "q057": (Pick(name="Soma"), Pick(name="Baclofen")),
    "q058": (Pick(classes=OPIOIDS), Pick(classes=MUSCLE_RELAXANTS)),
    "q059": (Pick(letter="002", name="Norco"), Pick(letter="003", name="Norco")),
    "q060": (Pick(generic="tizanidine"), Pick(generic="baclofen")),
    "q061": (Pick(name="Xanax"), Pick(name="Amitriptyline")),
}


def _selected(picks: tuple[Pick, ...]) -> set[ItemKey]:
    return {key for key, item in GOLD_ITEMS.items() if any(p.matches(key, item) for p in picks)}


# --- how users name a letter: patient age, date of injury, reviewer specialty ----------


def _letter_names(letter: dict[str, Any]) -> list[re.Pattern[str]]:
    names = [re.compile(rf"\b{letter['patient']['age']}[- ]year[- ]old\b", re.I)]
    injured = date.fromisoformat(letter["date_of_injury"])
    written = {
        str(injured.year),
        f"{injured.month}/{injured.day}/{injured.year % 100:02d}",
        f"{injured.month:02d}/{injured.day:02d}/{injured.year}",
        f"{injured.month:02d}/{injured.day:02d}/{injured.year % 100:02d}",
    }
    names += [re.compile(rf"(?<![\d/]){re.escape(w)}(?![\d/])") for w in written]
    for specialty in letter["reviewer"]["specialties"]:
        spoken = specialty.lower().replace("&", "and")
        names.append(re.compile(re.escape(spoken), re.I))
        if " " not in spoken:  # "neurology" / "neurologist", "anesthesia" / "anesthesiology"
            names.append(re.compile(rf"\b{re.escape(spoken[:6])}", re.I))
    return names


LETTER_NAMES = {doc_id: _letter_names(letter) for doc_id, letter in GOLD.items()}


def _named_letters(text: str) -> set[str]:
    return {doc_id for doc_id, names in LETTER_NAMES.items() if any(n.search(text) for n in names)}


# --- the file ---------------------------------------------------------------------------


def test_gold_is_present() -> None:
    assert len(GOLD) == 5, f"expected the five sample gold files in {GOLD_DIR}"
    for doc_id, letter in GOLD.items():
        assert letter["doc_id"] == doc_id
        assert [item["index"] for item in letter["items"]] == list(range(len(letter["items"])))


def test_file_shape() -> None:
    assert len(QUESTIONS) >= MIN_QUESTIONS
    ids = [q["id"] for q in QUESTIONS]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    texts = [q["question"].strip().lower() for q in QUESTIONS]
    assert len(set(texts)) == len(texts), [t for t, n in Counter(texts).items() if n > 1]
    for q in QUESTIONS:
        assert tuple(q) == FIELDS, f"{q['id']}: fields {list(q)}"
        assert re.fullmatch(r"q\d{3}", q["id"]), q["id"]
        assert isinstance(q["question"], str) and q["question"].strip()
        assert q["kind"] in MIN_PER_KIND, f"{q['id']}: unknown kind {q['kind']!r}"
        assert isinstance(q["answerable"], bool)
        assert isinstance(q["items"], list) and isinstance(q["reasons"], list)


def test_every_kind_has_its_minimum() -> None:
    kinds = Counter(q["kind"] for q in QUESTIONS)
    short = {k: kinds[k] for k, n in MIN_PER_KIND.items() if kinds[k] < n}
    assert not short, f"kinds below their minimum: {short}"


@pytest.mark.parametrize("q", _of_kind(*MIN_PER_KIND))
def test_items_exist_in_gold(q: dict[str, Any]) -> None:
    keys = _items(q)
    assert len(set(keys)) == len(keys), "an item is listed twice"
    for ref in q["items"]:
        assert set(ref) == {"doc_id", "index"}
        assert isinstance(ref["index"], int)
        assert (ref["doc_id"], ref["index"]) in GOLD_ITEMS, f"no gold item {ref}"


@pytest.mark.parametrize("q", _of_kind(*MIN_PER_KIND))
def test_fields_fit_the_kind(q: dict[str, Any]) -> None:
    kind = q["kind"]
    assert q["answerable"] is (kind != "unanswerable")
    assert q["decision"] is None or q["decision"] in DECISIONS
    if kind == "decision" or kind == "share":
        assert q["decision"] is not None, "the decision asked about is required"
    if kind in ("summary", "compare", "unanswerable") or kind in WHY_KINDS:
        assert q["decision"] is None
    assert (q["count"] is not None) is (kind == "count")
    assert (q["share"] is not None) is (kind == "share")
    if kind not in WHY_KINDS:
        assert q["reasons"] == []
    if kind == "unanswerable":
        assert q["items"] == []
    elif not (kind == "count" and q["count"] == 0):
        assert q["items"], "an answerable question needs the gold items that answer it"


def test_question_text_never_names_a_file() -> None:
    for q in QUESTIONS:
        for doc_id in GOLD:
            assert doc_id.split("_")[1] not in q["question"], q["id"]


@pytest.mark.parametrize("q", _of_kind(*ANSWERABLE_KINDS))
def test_items_are_exactly_the_gold_items_asked_about(q: dict[str, Any]) -> None:
    assert q["id"] in SELECTIONS, f"{q['id']}: add what it asks about to SELECTIONS"
    expected = _selected(SELECTIONS[q["id"]])
    got = set(_items(q))
    assert got == expected, f"missing {sorted(expected - got)}, extra {sorted(got - expected)}"


def test_selections_refer_to_answerable_questions() -> None:
    stray = [i for i in SELECTIONS if i not in BY_ID or not BY_ID[i]["answerable"]]
    assert not stray


@pytest.mark.parametrize("q", _of_kind("decision"))
def test_decision_matches_gold(q: dict[str, Any]) -> None:
    (key,) = _items(q)
    assert q["decision"] == GOLD_ITEMS[key]["decision"]


@pytest.mark.parametrize("q", _of_kind("decision", "summary"))
def test_one_letter_named_as_a_user_would(q: dict[str, Any]) -> None:
    letters = {doc_id for doc_id, _ in _items(q)}
    assert len(letters) == 1
    assert _named_letters(q["question"]) == letters


@pytest.mark.parametrize("q", _of_kind(*ANSWERABLE_KINDS))
def test_named_letters_hold_the_items(q: dict[str, Any]) -> None:
    named = _named_letters(q["question"])
    if named:
        assert {doc_id for doc_id, _ in _items(q)} <= named


@pytest.mark.parametrize("q", _of_kind("summary"))
def test_summary_covers_the_whole_letter(q: dict[str, Any]) -> None:
    (doc_id,) = {d for d, _ in _items(q)}
    assert sorted(_items(q)) == [(doc_id, item["index"]) for item in GOLD[doc_id]["items"]]


@pytest.mark.parametrize("q", _of_kind("count", "list"))
def test_count_and_list_decisions(q: dict[str, Any]) -> None:
    if q["kind"] == "count":
        assert isinstance(q["count"], int) and not isinstance(q["count"], bool)
        assert q["count"] == len(q["items"])
    if q["decision"] is not None:
        assert all(GOLD_ITEMS[key]["decision"] == q["decision"] for key in _items(q))


@pytest.mark.parametrize("q", _of_kind("share"))
def test_share_is_the_fraction_of_its_items(q: dict[str, Any]) -> None:
    keys = _items(q)
    hits = sum(GOLD_ITEMS[key]["decision"] == q["decision"] for key in keys)
    assert isinstance(q["share"], float) and 0.0 <= q["share"] <= 1.0
    assert q["share"] == round(hits / len(keys), 4)


@pytest.mark.parametrize("q", _of_kind("compare"))
def test_compare_spans_two_treatments(q: dict[str, Any]) -> None:
    assert len(SELECTIONS[q["id"]]) >= 2
    for pick in SELECTIONS[q["id"]]:
        assert _selected((pick,)) & set(_items(q)), f"{pick} has no item"


@pytest.mark.parametrize("q", _of_kind(*WHY_KINDS))
def test_why_reasons_are_the_gold_reasons(q: dict[str, Any]) -> None:
    decision = WHY_KINDS[q["kind"]]
    known = UPHELD_REASONS if decision == UPHELD else OVERTURNED_REASONS
    keys = _items(q)
    assert all(GOLD_ITEMS[key]["decision"] == decision for key in keys)
    reasons = q["reasons"]
    assert reasons and len(set(reasons)) == len(reasons)
    unknown = [r for r in reasons if r not in known]
    assert not unknown, f"not {decision} reason categories: {unknown}"
    gold = {r["category"] for key in keys for r in GOLD_ITEMS[key]["reasons"]}
    assert set(reasons) <= gold, f"in no item's gold reasons: {sorted(set(reasons) - gold)}"
    assert set(reasons) == gold, f"gold reasons left out: {sorted(gold - set(reasons))}"
