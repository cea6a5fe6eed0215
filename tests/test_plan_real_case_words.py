"""What a case summary tells, asked for in researchers' words, over real letters: falls
named by their kinds ("including slips, trips, fainting and falls from a ladder"), a
fracture with examples ("for example a distal radius or femur fracture"), what imaging
found as the case rather than a request, the summary named as where to look, and the
fields a list is asked to show ("with the body region")."""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM16-0232543",  # "The mechanism of injury is detailed as a fall."
    "CM16-0235869",  # "... detailed as a trip and fall."
    "CM17-0005924",  # "... when he fainted and fell"; C2 fracture; CT of the cervical spine
    "CM16-0234202",  # "The X-rays revealed ... fracture of the distal radius."
    "CM17-0006912",  # femur fracture; motor vehicle accident
    "CM16-0236380",  # "an 8 foot fall off a ladder"; cervical and thoracic CT scans
    "CM16-0246487",  # Bankart repair overturned; "a physical altercation"
    "CM17-0011703",  # CT of the cervical spine; no fall, no fracture
]
FALLS = {"CM16-0232543", "CM16-0235869", "CM17-0005924", "CM16-0236380"}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-case-words-index", LETTERS)


def test_falls_named_by_their_kinds(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "A researcher coding mechanism of injury: which letters describe the injury as a fall, "
        "including slips, trips, fainting and falls from a ladder or height?",
    )
    assert ans.plan["kind"] == "topic" and "fact" not in ans.plan, ans.plan
    assert cases_of(assistant, ans) == FALLS, ans.answer


def test_a_fracture_with_examples(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "Which letters mention a fracture in the worker's diagnoses or imaging findings, for "
        "example a distal radius, femur or cervical vertebra fracture?",
    )
    assert ans.plan.get("topic") == ["fracture"], ans.plan
    assert not ans.plan["filters"] and "letter_regions" not in ans.plan, ans.plan
    assert cases_of(assistant, ans) == {"CM17-0005924", "CM16-0234202", "CM17-0006912"}


def test_the_case_summary_named_as_where_to_look(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "In the case where the left shoulder Bankart repair was overturned, what mechanism of "
        "injury does the case summary give?",
    )
    assert ans.plan["kind"] == "fact" and ans.plan.get("fact") == "mechanism", ans.plan
    assert "physical altercation" in ans.answer and cases_of(assistant, ans) == {"CM16-0246487"}


def test_fields_a_list_is_asked_to_show(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "List all of the CT scan requests in these letters, with the body region and whether "
        "each was upheld or overturned.",
    )
    assert not ans.plan.get("topic"), ans.plan
    assert cases_of(assistant, ans) == {"CM16-0236380", "CM17-0005924", "CM17-0011703"}


def test_compared_specialties_with_dual_certified_reviewers(assistant: Assistant) -> None:
    from imr_assist.retrieve.plan import read_question

    both = read_question(
        "Comparing internal medicine with family practice reviewers, including dual-certified "
        "ones, how many items did each decide and overturn?"
    )
    assert both.group_by == "specialty" and both.specialty_any and not both.topic, both
    exact = read_question("Compare internal medicine with family practice reviewers")
    assert exact.group_by == "specialty" and not exact.specialty_any


def test_decisions_broken_down_for_treatments_compared() -> None:
    from imr_assist.retrieve.plan import read_question

    plan = read_question("break down approved vs denied for PT vs chiropactic vs acupuncture")
    assert plan.kind == "compare" and plan.group_by is None, plan
    every = read_question(
        "Break the MRI decisions down by reviewer specialty (Family Practice vs occ med vs PM&R "
        "and so on), with upheld and overturned counts for each specialty"
    )
    assert every.group_by == "specialty" and not every.specialty_groups, every
    named = read_question(
        "Break the MRI decisions down by reviewer specialty: Family Practice vs PM&R"
    )
    assert named.group_by == "specialty" and len(named.specialty_groups) == 2, named


def test_a_class_glossed_by_examples_keeps_the_class() -> None:
    from imr_assist.retrieve.plan import read_question

    plan = read_question(
        "oral suspension versions of meds (the liquid gabapentin etc) - how did reviewers handle those?"
    )
    assert "compounded oral suspension" in plan.filters.classes, plan


def test_classes_named_with_and_other_group_every_medication() -> None:
    from imr_assist.retrieve.plan import read_question

    plan = read_question(
        "Split the medication decisions by drug class — opioids, muscle relaxants, topical "
        "analgesics, oral NSAIDs, stomach/acid drugs, and other — with upheld and overturned counts."
    )
    assert plan.group_by == "class" and plan.filters.canonicals == ["medication"], plan
    outside = read_question(
        "Among decisions where the letter says the reviewer based the decision on recommendations "
        "outside the MTUS (rather than on the MTUS itself), what share were overturned?"
    )
    assert outside.kind == "share" and outside.group_by is None, outside
    assert outside.reviewer_basis == "outside_mtus", outside


def test_a_guideline_statement_alone_is_no_case_of_the_topic() -> None:
    # the rationale's "The MTUS and ACOEM Guidelines support using electrodiagnostic
    # studies when ..." says what a guideline allows, not what happened to the worker
    from imr_assist.answer.planned import _GUIDELINE_STATEMENT

    assert _GUIDELINE_STATEMENT.search(
        "The MTUS and ACOEM Guidelines support using electrodiagnostic studies when someone is "
        "experiencing neurologic symptoms."
    )
    assert _GUIDELINE_STATEMENT.search(
        "According to California MTUS 2016 Chronic Pain Guidelines, a TENS unit is not recommended."
    )
    assert not _GUIDELINE_STATEMENT.search(
        "The mechanism of injury is detailed as a slip and fall."
    )
    assert not _GUIDELINE_STATEMENT.search(
        "He should have also been taught a home exercise program to continue."
    )


def test_falls_are_the_workers_not_a_guideline_quote(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "which workers got hurt in a fall?")
    assert cases_of(assistant, ans) == FALLS, ans.answer


HISTORY_LETTERS = [
    "CM16-0236380",  # "Prior treatment has included chiropractic treatment, ..."
    "CM17-0008479",  # "The prior treatment included chiropractic treatment, ..."
    "CM16-0247405",  # chiropractic is the request decided, not the worker's history
    "CM16-0237163",  # "The treatment plan included ... chiropractic": planned, not had
]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-history-told-index", HISTORY_LETTERS)


def test_a_treatment_the_worker_had_before_is_the_case_history(history: Assistant) -> None:
    ans = ask_verified(
        history,
        "According to the case summaries, which workers had already received chiropractic "
        "treatment before the disputed requests went to IMR?",
    )
    assert ans.plan.get("history_only") and not ans.plan["filters"], ans.plan
    assert cases_of(history, ans) == {"CM16-0236380", "CM17-0008479"}, ans.answer


def test_one_workers_age_and_sex_asked_as_male_or_female(assistant: Assistant) -> None:
    from imr_assist.retrieve.plan import read_question

    plan = read_question("how old is the 24 year old who fainted, and male or femal?")
    assert plan.group_by is None and plan.sex is None, plan
    assert plan.fact and "sex" in plan.fact, plan
    grouped = read_question("outcomes for men or women")
    assert grouped.group_by == "sex", grouped


def test_the_employer_is_not_in_the_letters() -> None:
    from imr_assist.retrieve.plan import read_question

    assert (
        read_question("Who was the truck driver's employer in CM17-0020384?").absent
        == "the employer"
    )


LETTER_NAMED = ["CM16-0246487", "CM17-0014449", "CM17-0013625", "CM16-0232543"]


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-letter-named-index", LETTER_NAMED)


@pytest.mark.parametrize(
    ("question", "case", "n"),
    [
        ("What did the Celebrex letter ask for, and how was each item decided?", "CM17-0013625", 5),
        (
            "bankart repiar letter - list evry item and whether it was upheld or overturned",
            "CM16-0246487",
            6,
        ),
        ("How many items did the SLAP repair letter decide?", "CM17-0014449", 15),
    ],
)
def test_a_letter_named_by_a_request_is_all_its_requests(
    named: Assistant, question: str, case: str, n: int
) -> None:
    ans = ask_verified(named, question)
    assert cases_of(named, ans) == {case}, ans.answer
    assert str(n) in ans.answer, ans.answer


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Case summary for the 64-year-old woman with the sacrum and coccyx fracture", "summary"),
        ("Summarise the case of the 65-year-old woman", "summary"),
        ("what mechanism of injury does the case summary give?", "general"),
        ("According to the case summaries, which workers had chiropractic?", "general"),
    ],
)
def test_a_summary_asked_for_or_named_as_where_to_look(question: str, kind: str) -> None:
    from imr_assist.retrieve.plan import correct_names
    from imr_assist.retrieve.query import question_kind

    assert (question_kind(question) == "summary") == (kind == "summary")
    assert correct_names(question)[1] == ()  # "Summarise" is no misspelt "summaries"


def test_what_the_asker_knows_of_another_request_selects_nothing(named: Assistant) -> None:
    ans = ask_verified(
        named,
        "In the Bankart case, why was the post-op Percocet upheld when the surgery itself was "
        "approved?",
    )
    assert ans.plan["filters"].get("treatment") == ["Percocet"], ans.plan
    assert ans.plan["filters"].get("decision") == "upheld", ans.plan
    assert {c.treatment for c in ans.citations if c.treatment} == {"Post-op Percocet 5/325mg"}


def test_a_worker_described_by_several_words_of_the_letter() -> None:
    import re

    from imr_assist.answer.planned import _said_word

    rx = re.compile(
        r"\bpinn\w*\W+(?:\w+\W+){0,2}?" + _said_word("two") + r"\w*\W+(?:\w+\W+){0,2}?truck"
    )
    assert rx.search("a crushing injury after being pinned between 2 trucks")
    assert not rx.search("closed reduction and percutaneous pinning of the right distal radius")
