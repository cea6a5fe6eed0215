"""Reading questions: decision words, letters named by patient, date or reviewer, facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.constants import CANNOT_ANSWER, OVERTURNED, UPHELD
from imr_assist.index.catalog import Catalog
from imr_assist.retrieve.plan import read_question
from imr_assist.retrieve.query import parse_question, question_kind, specialty_matches
from imr_assist.settings import Settings


@pytest.mark.parametrize(
    ("question", "decision"),
    [
        ("Why are Norco requests upheld?", UPHELD),
        ("Why were opioid denials reversed?", OVERTURNED),
        ("Why was carisoprodol not certified on review?", UPHELD),
        ("List all requests where the utilization review denial was upheld.", UPHELD),
        ("Which Norco denials are there?", UPHELD),
        ("Why was Butrans found medically necessary?", OVERTURNED),
        ("Why was Xanax found not medically necessary?", UPHELD),
        # Asking which way it went restricts to neither side.
        ("Was Relafen approved for the 47-year-old man?", None),
        ("Did the Norco denial stand for the man injured in March 2014?", None),
        ("Norco for the worker injured 5/26/12: upheld or overturned?", None),
    ],
)
def test_decision_words(question: str, decision: str | None) -> None:
    assert parse_question(question).decision == decision


@pytest.mark.parametrize(
    ("question", "ages", "sex", "injury", "specialty"),
    [
        (
            "Summarise the case of the 65-year-old woman injured in 1993",
            [65],
            "female",
            "1993",
            None,
        ),
        (
            "Norco for the worker injured 5/26/12: upheld or overturned?",
            [],
            None,
            "2012-05-26",
            None,
        ),
        ("What did the man injured in March 2014 get?", [], None, "2014-03", None),
        ("What did the neurology reviewer decide on Soma?", [], None, None, "neurology"),
        ("Which drugs did the anesthesiologist deny?", [], None, None, "anesthesiologist"),
        (
            "Why was Norco approved for the 50-year-old woman but denied for the 30-year-old woman?",
            [30, 50],
            "female",
            None,
            None,
        ),
        ("Compare the 50-year-old woman and the 47-year-old man", [47, 50], None, None, None),
        # A specialty word next to no reviewer noun is a treatment, not a reviewer.
        ("Why was a pain medicine consultation denied?", [], None, None, None),
    ],
)
def test_letters_named_by_who_and_when(
    question: str, ages: list[int], sex: str | None, injury: str | None, specialty: str | None
) -> None:
    f = parse_question(question)
    assert (f.patient_ages, f.patient_sex, f.injury_date) == (ages, sex, injury)
    assert (f.specialty.lower() if f.specialty else None) == specialty


def test_specialty_patterns_match_both_spellings() -> None:
    assert specialty_matches("anesthesiology", ["Anesthesia", "Pain Medicine"])
    assert specialty_matches("family practice", ["Family Medicine"])
    assert specialty_matches("PM&R", ["Physical Medicine & Rehabilitation"])
    assert not specialty_matches("neurology", ["Orthopedic Surgery"])


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What is the name of the expert reviewer?", "fact"),
        ("What is the case number of the 47-year-old man's IMR?", "fact"),
        ("On what date was the final determination issued?", "fact"),
        ("Did the anesthesiology reviewer approve tizanidine?", "decision"),
        ("What happened to the Butrans patch request?", "decision"),
        ("Why was Norco approved?", "why"),
    ],
)
def test_kinds(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def _assistant(root: Path) -> Assistant:
    return Assistant(Settings(index_dir=root, llm_enabled=False))


def _cited(answer) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(c.doc_id[:3], (c.treatment or "").split()[0]) for c in answer.citations}


def test_letter_named_by_patient_and_date(sample_index: Path) -> None:
    a = _assistant(sample_index)
    answer, result = a.ask(
        "Was the Norco request upheld for the 65-year-old woman injured in 1993?"
    )
    assert answer.answered and [r.doc_id[:3] for r in result.items] == ["000"]
    assert "upheld" in answer.answer and _cited(answer) >= {("000", "Norco")}
    answer, result = a.ask(
        "What was the outcome of the Norco request for the worker injured on 06/09/2005?"
    )
    assert [r.doc_id[:3] for r in result.items] == ["002"]
    assert "overturned" in answer.answer
    answer, result = a.ask("What did the neurology reviewer decide on Soma?")
    assert [(r.doc_id[:3], r.treatment.split()[0]) for r in result.items] == [("001", "Soma")]


def test_unknown_letter_is_not_answered(sample_index: Path) -> None:
    a = _assistant(sample_index)
    for q in (
        "What did the orthopedic surgeon reviewer decide?",
        "Was Norco approved for the 23-year-old man?",
        "Was physical therapy found medically necessary for the worker injured on 5/26/12?",
    ):
        answer, _ = a.ask(q)
        assert (answer.answer, answer.answered, answer.citations) == (CANNOT_ANSWER, False, []), q


def test_facts_quote_the_letter_or_decline(sample_index: Path) -> None:
    a = _assistant(sample_index)
    injury, _ = a.ask("What is the date of injury of the 65-year-old woman?")
    assert injury.answered and "1993-06-07" in injury.answer
    assert [c.doc_id[:3] for c in injury.citations] == ["000"]
    assert "1993" in injury.citations[0].quote
    texts = Catalog(sample_index / "catalog.sqlite")
    letter = texts.letter(injury.citations[0].doc_id)
    assert letter is not None
    assert injury.citations[0].quote in letter.text
    for q in (
        "What is the name of the expert reviewer who decided the 65-year-old woman's Norco request?",
        "What is the case number of the 47-year-old man's IMR?",  # the samples carry none
        "What is the case number?",  # no letter named
    ):
        answer, _ = a.ask(q)
        assert answer.answered is False, q


def test_zero_count_is_an_answer(sample_index: Path) -> None:
    answer, _ = _assistant(sample_index).ask("How many Xanax requests were overturned?")
    assert answer.answered and answer.answer.startswith("0 of 1 Xanax decision")
    assert _cited(answer) == {("002", "Xanax")}
    assert all(c.decision == UPHELD for c in answer.citations)


@pytest.mark.parametrize(
    ("question", "decision"),
    [
        ("How many Norco requests were not overturned?", UPHELD),
        ("Which requests were not denied?", OVERTURNED),
        ("Why wasn't Norco approved?", UPHELD),
        ("Why won't reviewers approve Norco?", UPHELD),
        ("Why were requests not reversed?", UPHELD),
        ("How many Norco requests were denied or approved?", None),
    ],
)
def test_negated_decision_words(question: str, decision: str | None) -> None:
    assert parse_question(question).decision == decision


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Why was Norco denied in case number CM15-0165674?", "why"),
        ("Why was Norco denied when the patient was injured?", "why"),
        ("How many Norco requests were denied or approved?", "count"),
        ("Is the overturn rate for Norco above 20%?", "share"),
        ("Is there a common reason Norco requests are denied?", "why"),
        ("When was the worker injured?", "fact"),
    ],
)
def test_kinds_are_not_taken_from_stray_words(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def test_only_the_reviewers_name_is_a_name_question() -> None:
    assert question_kind("What is the name of the drug the doctor prescribed?") != "fact"
    assert question_kind("Who was the treating physician?") != "fact"
    assert question_kind("Who was the expert reviewer?") == "fact"


@pytest.mark.parametrize(
    ("question", "specialty"),
    [
        ("Why was the psychiatric consultation requested by the physician denied?", None),
        ("Why did the psychiatrist deny the neurology consultation?", "psychiatrist"),
        ("Which requests were reviewed by an acupuncturist?", "acupuncturist"),
        ("What did the pain management reviewer decide?", "pain management"),
        ("What did the neurological surgeon decide?", "neurological surgeon"),
    ],
)
def test_specialty_needs_a_reviewer_beside_it(question: str, specialty: str | None) -> None:
    assert parse_question(question).specialty == specialty


def test_neurology_is_not_neurological_surgery() -> None:
    assert specialty_matches("neurology reviewer", ["Neurology"])
    assert not specialty_matches("neurology reviewer", ["Neurological Surgery"])
    assert specialty_matches("neurological surgeon", ["Neurological Surgery"])


def test_counts_about_a_letter_the_index_lacks_are_not_answered(sample_index: Path) -> None:
    a = _assistant(sample_index)
    for q in (
        "How many requests were overturned in case CM99-9999999?",
        "What share of requests for the 99-year-old woman were approved?",
    ):
        answer, _ = a.ask(q)
        assert (answer.answer, answer.answered) == (CANNOT_ANSWER, False), q


def test_numbers_in_a_question_do_not_pick_letters(sample_index: Path) -> None:
    # "120" and "10" are quantities and strengths, not the start of a doc id
    answer, result = _assistant(sample_index).ask(
        "How many Norco 10/325 #120 requests were denied?"
    )
    assert result.filters.doc_ids == []
    assert answer.answer.startswith("4 of 5 Norco decisions")


def test_answers_say_their_restrictions(sample_index: Path) -> None:
    answer, _ = _assistant(sample_index).ask(
        "How many Norco requests for the 65-year-old woman were upheld?"
    )
    assert answer.answer.startswith("1 of 1 Norco decision in the index (patient: 65, female)")


@pytest.mark.parametrize(
    ("question", "group", "qualifiers"),
    [
        ("Which letters mention rashes, hives, itching, etc.?", {"rashes", "hives", "itching"}, ()),
        ("injuries such as sprains, strains and the like", {"sprains", "strains"}, ()),
        (
            "cases with a fall — slips, trips, falls from a height and the like",
            {"fall", "slips", "trips"},
            ("height",),
        ),
    ],
)
def test_examples_ending_and_the_like_are_any_one_of_them(
    question: str, group: set[str], qualifiers: tuple[str, ...]
) -> None:
    """A list of examples is alternatives, not words every passage must hold; a word
    qualifying one example ('from a height') only ranks."""
    plan = read_question(question)
    assert any(group <= set(g) for g in plan.topic_or), plan.topic_or
    assert all(q in plan.terms and q not in plan.topic for q in qualifiers)


def test_words_listed_without_and_the_like_are_all_needed() -> None:
    plan = read_question("What do reviewers say about weight loss, diet and exercise?")
    assert not any({"diet", "exercise"} <= set(g) for g in plan.topic_or)


@pytest.mark.parametrize(
    ("question", "state"),
    [
        ("Overturned items where the reviewer had a Texas license", "Texas"),
        ("letters by a New York-licensed reviewer", "New York"),
        ("decisions by reviewers licensed in California", "California"),
    ],
)
def test_licensure_however_said(question: str, state: str) -> None:
    assert read_question(question).licensed_in == state


@pytest.mark.parametrize(
    ("question", "lo", "hi"),
    [
        ("cases where the injured worker is a woman older then 55", 56, None),
        ("workers younger then 30", None, 29),
    ],
)
def test_age_bounds_with_then_for_than(question: str, lo: int | None, hi: int | None) -> None:
    plan = read_question(question)
    assert (plan.age_min, plan.age_max) == (lo, hi) and "older" not in plan.topic


@pytest.mark.parametrize(
    "question",
    [
        "which acupuncture requests got approved and which didnt",
        "were the MRIs approved or not?",
        "which were upheld and which overturned",
    ],
)
def test_both_sides_asked_is_no_decision(question: str) -> None:
    assert read_question(question).filters.decision is None


def test_one_workers_age_is_a_fact_and_by_age_is_a_breakdown() -> None:
    one = read_question("age and sex of the injured worker in the partial hospitalization case")
    assert one.kind == "fact" and one.group_by is None
    assert read_question("How do outcomes differ by age and sex of the worker?").group_by


@pytest.mark.parametrize(
    "question",
    [
        "Did IMR ever reverse the part of a request that UR had cut back (modified certification)?",
        "which requests did UR cut back before IMR?",
    ],
)
def test_cut_back_names_no_region_and_a_certification_is_no_specialty(question: str) -> None:
    plan = read_question(question)
    assert not plan.regions and plan.fact is None and plan.partial


def test_a_class_glossed_by_its_members_is_those_members() -> None:
    """'advanced imaging (MRI + CT)': MRI and CT, not every imaging request."""
    plan = read_question("For advanced imaging (MRI + CT), what's the overturn rate?")
    assert set(plan.filters.canonicals) == {"MRI", "CT scan"} and not plan.filters.classes
    assert read_question("What is the overturn rate for imaging?").filters.classes


@pytest.mark.parametrize(
    ("question", "canonical"),
    [("pt denials", "Physical therapy"), ("ot requests upheld?", "Occupational therapy")],
)
def test_therapy_abbreviations_typed_in_lower_case(question: str, canonical: str) -> None:
    assert canonical in read_question(question).filters.canonicals


def test_the_pt_is_the_patient() -> None:
    assert (
        "Physical therapy" not in read_question("was the pt approved for norco?").filters.canonicals
    )


def test_percent_of_is_a_share() -> None:
    assert read_question("% of PT overturned").kind == "share"


def test_which_of_two_guidelines_restricts_to_neither() -> None:
    assert read_question("acupuncture denials - mtus or odg?").filters.guideline is None
    assert read_question("acupuncture denials under ODG").filters.guideline == "ODG"


def test_how_many_reviewers_counts_letters() -> None:
    assert read_question("how many reviewers were internists").unit == "letters"


@pytest.mark.parametrize(
    ("question", "ages"),
    [
        ("my client is 47 and her MRI got denied", [47]),
        ("a worker aged 52 with knee pain", [52]),
        ("letters where the injured worker was 60 or older", []),
    ],
)
def test_an_age_said_as_a_sentence(question: str, ages: list[int]) -> None:
    assert read_question(question).filters.patient_ages == ages


@pytest.mark.parametrize(
    ("question", "decision"),
    [
        ("EMG testing: what do the reviewers require before approving it?", None),
        ("what does it take to get PT approved?", None),
        ("which requests did reviewers fail to approve?", "upheld"),
        ("Which MRIs were approved?", "overturned"),
    ],
)
def test_an_approval_spoken_of_as_a_condition_is_no_decision(
    question: str, decision: str | None
) -> None:
    from imr_assist.retrieve.query import decision_asked

    assert decision_asked(question) == decision


@pytest.mark.parametrize(
    "question",
    [
        "Which overturned decisions came from reviewers licensed in Texas?",
        "Show me everything that was overturned in letters with a decision date in January 2017.",
        "which denials blamed an incomplete request - missing quantity, body part or procedure?",
    ],
)
def test_a_facts_words_inside_a_filter_ask_for_no_fact(question: str) -> None:
    plan = read_question(question)
    assert plan.kind != "fact" and plan.fact is None


def test_a_treatment_in_the_case_history_is_not_the_request() -> None:
    plan = read_question(
        "hydrocodone #60 cut to #25 by UR after wrist surgery; IMR result on the leftover?"
    )
    assert "Surgery" not in plan.filters.canonicals and "surgery" not in plan.filters.classes
    assert "hydrocodone/acetaminophen" in plan.filters.generics
    assert not plan.regions and plan.partial


def test_abbreviated_months_bound_a_date_range() -> None:
    plan = read_question("letters decided between Jan 15 and Feb 5 2017")
    assert (plan.decided_from, plan.decided_to) == ("2017-01-15", "2017-02-05")
    assert not plan.topic


def test_what_reviewers_say_about_them_is_why() -> None:
    assert read_question("tens unit denials - what do the reviewers say about them").kind == "why"


def test_on_what_date_asks_the_decision_date() -> None:
    plan = read_question(
        "There's one letter reviewed by an emergency medicine doctor. What did it decide, and on what date?"
    )
    assert plan.kind == "fact" and plan.fact == "decision_date" and plan.fact_decisions


def test_for_letters_where_counts_letters() -> None:
    q = "For letters where the reviewer was a family practice physician, what fraction had anything overturned?"
    assert read_question(q).unit == "letters"


def test_the_side_set_apart_and_pointed_back_to() -> None:
    """'Most PT requests get upheld, but a few got overturned. What made the difference
    in those?': the overturned ones."""
    from imr_assist.retrieve.query import decision_asked

    q = "Most PT requests get upheld, but a few got overturned. What made the difference in those?"
    assert decision_asked(q) == "overturned"
    assert decision_asked("Most PT requests get upheld, but a few got overturned.") is None


@pytest.mark.parametrize(
    "question",
    [
        "what did the reviewer say about the knee scooter?",
        "What do these IMR letters say about TENS units?",
    ],
)
def test_what_reviewers_said_about_a_request_is_its_reasons(question: str) -> None:
    assert read_question(question).kind == "why"


def test_denied_for_a_reason_names_the_reason() -> None:
    plan = read_question("Which requests were denied for exceeding guideline limits on visits?")
    assert plan.reasons == ("exceeds_guideline_quantity",) and plan.filters.decision == "upheld"


def test_a_reason_phrase_takes_its_finding_words_with_it() -> None:
    plan = read_question(
        "list decisions where the reviewer said no functional improvement was documented"
    )
    assert plan.reasons == ("no_functional_improvement",) and not plan.topic


def test_two_regions_compared_are_the_groups() -> None:
    plan = read_question("cervical vs lumbar MRI overturn rates")
    assert plan.group_by == "region" and set(plan.group_regions) == {
        "cervical spine",
        "lumbar spine",
    }
    assert not plan.regions


def test_a_reviewer_named_by_profession_is_no_treatment() -> None:
    plan = read_question("which cases did a chiropractor review?")
    assert plan.filters.specialty and not plan.filters.has_treatment
    both = read_question("chiropractic requests reviewed by chiropractors")
    assert both.filters.specialty and both.filters.canonicals == ["Chiropractic manipulation"]


def test_how_many_workers_counts_letters() -> None:
    assert read_question("how many workers had depression?").unit == "letters"


@pytest.mark.parametrize(
    ("question", "decision", "kind"),
    [
        ("what proportion of IMR decisions favor the injured worker?", "overturned", "share"),
        ("what's the success rate for appeals of MRI denials?", "overturned", "share"),
        ("odds of winning an acupuncture appeal", "overturned", "share"),
        ("how often does IMR side with the carrier?", "upheld", "share"),
    ],
)
def test_whose_side_a_decision_took(question: str, decision: str, kind: str) -> None:
    """The worker's side is an overturned denial, the carrier's an upheld one; 'the
    success rate for appeals of denials' is the overturned share."""
    plan = read_question(question)
    assert (plan.filters.decision, plan.kind) == (decision, kind)


def test_who_decided_and_when() -> None:
    plan = read_question("who decided the Trezix case and when?")
    assert plan.kind == "fact" and set((plan.fact or "").split("+")) == {
        "decision_date",
        "specialty",
    }


def test_what_portion_is_a_share() -> None:
    plan = read_question("what portion of partially certified requests were overturned?")
    assert plan.kind == "share" and plan.partial


@pytest.mark.parametrize(
    "question", ["cm17 0009282 outcome", "CM170009282?", "what happened in CM17-0009282"]
)
def test_a_case_number_however_typed(question: str) -> None:
    assert parse_question(question).case_number == "CM17-0009282"


def test_counts_are_no_case_number() -> None:
    assert parse_question("Physical exam 2 times 8, 12 sessions").case_number is None


def test_an_injury_date_written_with_hyphens() -> None:
    assert parse_question("what was decided for the worker injured 11-09-2016?").injury_date == (
        "2016-11-09"
    )
