"""Comparisons between named reviewer specialties, requests named by their own words,
and services denied with the procedure they go with, over ten real letters.

What each answer may cite is computed from the parsed letters, never written down.
"""

from __future__ import annotations

import re

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.retrieve.plan import read_question
from imr_assist.text import clean
from tests.real_index import ask_verified, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM17-0014449",  # SLAP repair upheld, 14 services that go with it upheld
    "CM17-0015957",  # knee arthroscopy upheld, its pre-op clearance upheld
    "CM16-0246487",  # shoulder surgery overturned, its services overturned
    "CM16-0213037",  # Family Practice
    "CM16-0240518",  # Preventive Medicine, Occupational Medicine and Family Practice
    "CM16-0230548",  # Preventive Medicine, Occupational Medicine
    "CM17-0007300",  # the same and Public Health & General Preventive Medicine
    "CM16-0231745",  # Physical Medicine & Rehabilitation
    "CM16-0232543",  # Physical Medicine & Rehabilitation and Pain Management
    "CM17-0001749",  # Internal Medicine
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-groups", LETTERS)


ask = ask_verified


def letters(a: Assistant):
    for doc_id in a.index.catalog.doc_ids():
        letter = a.texts.letter(doc_id)
        assert letter is not None
        yield letter


def test_named_specialties_are_compared_each_as_exactly_what_it_names(
    assistant: Assistant,
) -> None:
    """Three specialties named, one of them two certifications joined by a slash: one
    group each, holding the reviewers certified in exactly that; a reviewer who also
    holds another certification is in none, and the answer says so."""
    q = (
        "Compare decisions by Family Practice, Preventive Medicine/Occupational Medicine, "
        "and Physical Medicine & Rehabilitation reviewers"
    )
    plan = read_question(q)
    assert plan.kind == "group" and plan.group_by == "specialty"
    assert plan.filters.specialty is None and len(plan.specialty_groups) == 3
    wanted = [
        {"Family Practice"},
        {"Preventive Medicine", "Occupational Medicine"},
        {"Physical Medicine & Rehabilitation"},
    ]
    exact = {lt.doc_id for lt in letters(assistant) if set(lt.reviewer.specialties) in wanted}
    mixed = {
        lt.doc_id
        for lt in letters(assistant)
        if set(lt.reviewer.specialties) not in wanted
        and any(s in set().union(*wanted) for s in lt.reviewer.specialties)
    }
    assert len(exact) >= 3 and len(mixed) >= 3  # the fixture holds both kinds
    ans = ask(assistant, q)
    assert ans.answered
    assert {c.doc_id for c in ans.citations} == exact
    assert "exactly the specialties named" in ans.answer.splitlines()[0]
    for label in ("Family Practice", "Preventive Medicine, Occupational Medicine"):
        assert re.search(rf"^- {re.escape(label)}: \d+ decisions?", ans.answer, re.M)
    # one named specialty no reviewer here holds alone is listed as having none
    none = ask(assistant, "How do Family Practice and neurology reviewers compare?")
    assert none.answered and "- Neurology (no decisions)" in none.answer
    # one specialty named is a filter, not a comparison
    one = read_question("How many letters were decided by Family Practice reviewers?")
    assert one.specialty_groups == () and one.filters.specialty


def test_words_naming_some_requests_pick_those_requests(assistant: Assistant) -> None:
    """'the associated surgical services in CM17-0014449': the letter's requests whose
    names say so, not its surgery; the answer says how it read the words."""
    letter = next(lt for lt in letters(assistant) if lt.case_number == "CM17-0014449")
    named = {
        it.treatment
        for it in letter.items
        if it.treatment.lower().startswith("associated surgical")
    }
    assert 0 < len(named) < len(letter.items)
    ans = ask(assistant, "Why were the associated surgical services in CM17-0014449 upheld?")
    assert ans.answered
    cited = {c.treatment for c in ans.citations if c.treatment}
    assert cited and cited <= named  # a "why" answer quotes a few of each reason's
    assert re.search(rf"^{len(named)} upheld decisions\b", ans.answer.splitlines()[1])
    assert "Read 'associated surgical services' as the requests so named." in ans.answer
    assert ans.plan and ans.plan["named_by"] == "associated surgical services"
    # one word alone is too common to pick requests by: the surgery stays in
    wide = ask(assistant, "Why were the services in CM17-0014449 upheld?")
    assert "as the requests so named" not in wide.answer


def test_services_denied_with_their_procedure_carry_that_reason(assistant: Assistant) -> None:
    """'denied only because the surgery they went with was denied': the upheld items
    whose rationale says the procedure is not necessary so neither is the service; not
    the surgeries themselves, and not the services of a surgery that was approved. The
    treatment word inside the reason ('the surgery') does not also select surgeries."""
    said = re.compile(r"surgical intervention is not medically necessary[^.]*ancillary", re.I)
    dependent = {
        (lt.doc_id, it.treatment)
        for lt in letters(assistant)
        for it in lt.items
        if it.decision == "upheld" and said.search(clean(it.rationale or ""))
    }
    assert len({d for d, _ in dependent}) == 2 and len(dependent) >= 10
    q = "Which items were denied only because the surgery they went with was denied?"
    plan = read_question(q)
    assert plan.reasons == ("depends_on_denied_procedure",) and not plan.filters.has_treatment
    ans = ask(assistant, q)
    assert ans.answered
    assert {(c.doc_id, c.treatment) for c in ans.citations if c.treatment} == dependent


def test_a_topic_no_passage_words_is_answered_from_passages_close_in_meaning(
    assistant: Assistant,
) -> None:
    """'were the medical records hard to read': the letter says 'it was blurry'. No
    sentence holds the question's words; the sentences nearest in meaning are shown,
    said as such, each verbatim in its letter."""
    ans = ask(assistant, "In which letters were the medical records hard to read?")
    assert ans.answered, ans.notices
    assert "closest in meaning" in ans.answer.splitlines()[0]
    assert any("passages close in meaning are shown instead" in n for n in ans.notices)
    assert any("blurry" in c.quote for c in ans.citations)


def test_in_that_case_after_an_answer_about_one_letter_is_that_letter(
    assistant: Assistant,
) -> None:
    """'which letters had a shoulder surgery request?' (two), 'why was the second one
    denied?' (one letter), then 'the post-op stuff in that case': the letter the last
    answer was about, not every letter the first question's filters match."""
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    first = chat.ask("which letters had a shoulder surgery request?")
    assert len({c.doc_id for c in first.citations}) == 2
    why = chat.ask("why was the second one denied?")
    (letter,) = {c.doc_id for c in why.citations}
    then = chat.ask("and what happened to all the post-op stuff in that case?")
    assert then.answered and {c.doc_id for c in then.citations} == {letter}
    assert chat.plan is not None and chat.plan.filters.doc_ids == [letter]
    # with no single letter before it, "that case" pins nothing
    chat.reset()
    chat.ask("which letters had a shoulder surgery request?")
    chat.ask("and what happened to all the post-op stuff in that case?")
    assert chat.plan is not None and not chat.plan.filters.doc_ids


def test_when_the_surgery_is_denied_is_the_reason_not_a_request_asked_about(
    assistant: Assistant,
) -> None:
    """'ancillary services like pre-op clearance, labs and slings when the surgery itself
    is denied': services denied with their procedure; the surgeries themselves and the
    services of the approved surgery are not among them."""
    said = re.compile(r"surgical intervention is not medically necessary[^.]*ancillary", re.I)
    dependent = {
        (lt.doc_id, it.treatment)
        for lt in letters(assistant)
        for it in lt.items
        if it.decision == "upheld" and said.search(clean(it.rationale or ""))
    }
    q = (
        "What happens to ancillary services like pre-op clearance, labs and slings when the "
        "surgery itself is denied?"
    )
    plan = read_question(q)
    assert "depends_on_denied_procedure" in plan.reasons
    ans = ask(assistant, q)
    assert ans.answered
    cited = {(c.doc_id, c.treatment) for c in ans.citations if c.treatment}
    assert cited and cited <= dependent


def test_words_in_parentheses_that_stand_for_each_other_are_the_topic(
    assistant: Assistant,
) -> None:
    """'hard to read (handwritten, blurry or illegible)': the parentheses spell out the
    topic; 'hard to read' only ranks passages."""
    q = "In which letters were the medical records hard to read (handwritten, blurry or illegible)?"
    plan = read_question(q)
    assert set(plan.topic) == {"handwritten", "blurry", "illegible"}
    assert "hard" in plan.terms
    # parentheses that gloss with other words still only rank
    assert (
        "retrospective"
        in read_question(
            "Which requests were retrospective (already provided / dates of service)?"
        ).topic
    )
    ans = ask(assistant, q)
    assert ans.answered, ans.notices
    assert any(c.doc_id.startswith("CM16-0230548") or "blurry" in c.quote for c in ans.citations)
    assert all(
        re.search(r"handwrit|blurry|legib|decipher|unreadable", c.quote, re.I)
        for c in ans.citations
        if not c.treatment
    )


SQL_COUNTED = [
    "How many decisions are there across all the letters?",
    "How many decisions were upheld?",
    "hw many decisons were overturned",
    "What percentage of decisions were overturned?",
    "Which requests were upheld?",
    "How many letters are in the collection?",
    "Which letters had at least one decision overturned?",
    "How many decisions were made in CM17-0014449?",
    "How many letters decided more than one item?",
    "Which letters decided only one item?",
]


@pytest.mark.parametrize("q", SQL_COUNTED)
def test_counts_over_every_decision_come_from_sql_as_from_the_rows(
    assistant: Assistant, q: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count or list over every decision or letter is counted in SQL, with only the
    rows it shows built and no passage ranked: the answer is the one written from every
    matching row."""
    from imr_assist.answer.planned import PlanRunner
    from imr_assist.retrieve.hybrid import RankedHits

    plan = read_question(q)
    assert PlanRunner.counted_in_sql(plan), plan
    fast, result = assistant.ask(q)
    assert isinstance(result.hits, RankedHits) and not result.hits.ranked
    assert result.items == []  # no row was read for the search either
    monkeypatch.setattr(PlanRunner, "counted_in_sql", staticmethod(lambda p, f=None: False))
    slow, _ = assistant.ask(q)
    assert fast.answered and fast.model_dump() == slow.model_dump()
    cat = assistant.index.catalog
    rows = cat.items(doc_ids=result.filters.doc_ids)
    head = fast.answer.split("\n")[1 if plan.corrections else 0]
    decision = plan.filters.decision
    per = {d: sum(1 for r in rows if r.doc_id == d) for d in {r.doc_id for r in rows}}
    lo, hi = plan.min_items or 0, plan.max_items or 10**6
    chosen = [r for r in rows if decision in (None, r.decision) and lo <= per[r.doc_id] <= hi]
    if plan.unit == "letters":
        want = f"{len({r.doc_id for r in chosen})} letters ({len(chosen)} decisions"
    elif decision and plan.kind != "list":
        want = f"{len(chosen)} of {len(rows)} decisions"
    else:
        want = f"{len(chosen)} "
    assert head.startswith(want), head
    # more than are listed: the counts are not the rows shown
    assert len(rows) > 40 or result.filters.doc_ids


def test_the_sql_count_keeps_to_what_it_can_count() -> None:
    """Counts that need the rows (a restriction, a topic, unused words, a reviewer)
    are not counted in SQL."""
    from imr_assist.answer.planned import PlanRunner

    for q in (
        "How many decisions for patients over 50 were upheld?",
        "How many decisions were upheld by neurologists?",
        "How many decisions mention weaning?",
        "How many upheld decisions by reason?",
    ):
        assert not PlanRunner.counted_in_sql(read_question(q)), q


def test_counts_by_reason_are_counted_per_reason(assistant: Assistant) -> None:
    """'How many upheld decisions by reason?' is answered per reason, not as one count."""
    for q in ("How many upheld decisions by reason?", "overturned decisions broken down by reason"):
        assert read_question(q).kind == "why", q
    ans = ask(assistant, "How many upheld decisions by reason?")
    rows = [r for r in assistant.index.catalog.items() if r.decision == "upheld"]
    head, *lines = ans.answer.split("\n")
    assert head.startswith(f"{len(rows)} upheld decisions") and "by reason" in head
    per = {}
    for r in rows:
        for c in r.reasons:
            per[c] = per.get(c, 0) + 1
    from imr_assist.constants import REASON_LABELS

    for cat, n in per.items():
        assert any(ln.startswith(f"- {REASON_LABELS[cat]}: {n} of {len(rows)}") for ln in lines), (
            cat
        )


@pytest.mark.parametrize(
    "q",
    [
        "Which MRI requests were not for the spine?",
        "MRIs other than spine MRIs",
        "non-spine MRI requests",
        "list MRI requests excluding the neck and lower back",
    ],
)
def test_a_region_left_out_leaves_out_the_requests_naming_it(assistant: Assistant, q: str) -> None:
    """'MRIs not for the spine': the MRI requests whose names say no part of the spine,
    as the catalog's rows say them; never every MRI."""
    from imr_assist.retrieve.plan import REGIONS

    plan = read_question(q)
    assert plan.regions_excluded and not plan.regions, plan
    rows = [r for r in assistant.index.catalog.items() if r.canonical == "MRI"]
    left = [
        r for r in rows if not any(REGIONS[g].search(r.treatment) for g in plan.regions_excluded)
    ]
    assert 0 < len(left) < len(rows)  # the letters hold both kinds
    ans = ask(assistant, q)
    cited = {(c.doc_id, c.treatment) for c in ans.citations if c.treatment}
    assert cited == {(r.doc_id, r.treatment) for r in left}
    assert "not naming the" in ans.answer.split("\n")[0]


def test_region_words_outside_a_negation_are_not_left_out() -> None:
    assert read_question("Why was the spinal cord stimulator denied?").regions_excluded == ()
    assert read_question("Which MRIs of the knee were upheld?").regions_excluded == ()
    assert read_question("imaging other than the knee or shoulder").regions_excluded == (
        "knee",
        "shoulder",
    )
    p = read_question("MRIs of the shoulder but not the knee")
    assert p.regions == ("shoulder",) and p.regions_excluded == ("knee",)


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("which treatment was denied most often?", "upheld"),
        ("what are the most commonly overturned requests?", "overturned"),
    ],
)
def test_most_often_is_a_breakdown_by_treatment_led_by_the_most(
    assistant: Assistant, question: str, measure: str
) -> None:
    """'which treatment was denied most often?': every treatment's count, the treatment
    with the most decisions that went that way first."""
    ans = ask(assistant, question)
    assert ans.plan and ans.plan["group_by"] == "treatment" and ans.plan["measure"] == measure
    counts: dict[str, int] = {}
    for d in assistant.index.catalog.doc_ids():
        lt = assistant.texts.letter(d)
        assert lt is not None
        for it in lt.items:
            if it.decision == measure:
                counts[it.canonical or it.treatment] = (
                    counts.get(it.canonical or it.treatment, 0) + 1
                )
    top = max(counts.values())
    first = ans.answer.splitlines()[1]
    assert f" {top} {measure}" in first and first.split(":")[0][2:] in {
        k for k, v in counts.items() if v == top
    }


SQL_COUNTED_TREATMENTS = [
    "How many physical therapy requests were upheld?",
    "How many MRI requests were decided?",
    "Which x-ray requests were upheld?",
    "What percentage of physical therapy requests were overturned?",
    "How many letters had an MRI request?",
]


@pytest.mark.parametrize("q", SQL_COUNTED_TREATMENTS)
def test_counts_of_a_treatment_come_from_sql_as_from_the_rows(
    assistant: Assistant, q: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A treatment selects in SQL exactly as the rows do: its count, share or list is
    counted there, with no passage ranked, and is the answer every matching row gives."""
    from imr_assist.answer.planned import PlanRunner
    from imr_assist.retrieve.hybrid import RankedHits

    plan = read_question(q)
    assert plan.filters.has_treatment and PlanRunner.counted_in_sql(plan), plan
    fast, result = assistant.ask(q)
    assert isinstance(result.hits, RankedHits) and not result.hits.ranked
    monkeypatch.setattr(PlanRunner, "counted_in_sql", staticmethod(lambda p, f=None: False))
    slow, _ = assistant.ask(q)
    assert fast.answered and fast.answer == slow.answer and fast.citations == slow.citations


@pytest.mark.parametrize(
    "q", ["How many open MRI requests were there?", "How many SLAP repair requests were decided?"]
)
def test_a_name_that_picks_some_of_its_requests_is_not_counted_whole(q: str) -> None:
    from imr_assist.answer.planned import PlanRunner

    assert not PlanRunner.counted_in_sql(read_question(q))


def test_two_guidelines_compared_are_a_breakdown_by_guideline(assistant: Assistant) -> None:
    """'do ODG-based decisions get overturned more than MTUS-based ones?': each set of
    guidelines a decision rested on is a group, none restricts."""
    ans = ask(assistant, "do ODG-based decisions get overturned more than MTUS-based ones?")
    assert (
        ans.plan and ans.plan["group_by"] == "guideline" and "guideline" not in ans.plan["filters"]
    )
    counts: dict[str, int] = {}
    for d in assistant.index.catalog.doc_ids():
        lt = assistant.texts.letter(d)
        assert lt is not None
        for it in lt.items:
            key = " + ".join(sorted(it.guidelines)) or "no guideline named"
            counts[key] = counts.get(key, 0) + 1
    for key, n in counts.items():
        assert f"- {key}: {n} decision{'s' * (n != 1)}" in ans.answer


def test_decisions_by_the_reviewers_state(assistant: Assistant) -> None:
    """'break down decisions by reviewer state': a group per state of licensure, each
    decision counted in every state its reviewer is licensed in."""
    ans = ask(assistant, "break down decisions by reviewer state")
    assert ans.plan and ans.plan["group_by"] == "state" and not ans.notices
    counts: dict[str, int] = {}
    for d in assistant.index.catalog.doc_ids():
        lt = assistant.texts.letter(d)
        assert lt is not None
        for st in lt.reviewer.licensure:
            counts[st] = counts.get(st, 0) + len(lt.items)
    assert counts
    for st, n in counts.items():
        assert f"- {st}: {n} decision{'s' * (n != 1)}" in ans.answer
