"""Reasons and cases outsiders name in their own words, over real letters: a study
already done ("denied because the same test had already been done"), the quantity left
unstated ("for not saying how many"), the drug a worker is on as the case a question
sets ("for someone on an NSAID"), a referral to a specialist as a request, and a class
said again in a later sentence."""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM16-0242667",  # "not clear what the clinical indication is for repeat lumbar x-ray"
    "CM17-0003284",  # "why the patient would require an additional electrodiagnostic study"
    "CM17-0011703",  # "the patient received a cervical x-ray previously"
    "CM17-0021656",  # "Repeat x-rays were not performed": no study done before
    "CM17-0008577",  # quotes "repeat advanced imaging should be limited": a guideline only
    "CM16-0236380",  # TOC to ortho spine surgeon eval and treatment
    "CM16-0247802",  # Spine surgery evaluation for the lumbar
    "CM16-0232543",  # Pepcid
    "CM17-0013625",  # Celecoxib (an NSAID), Deprizine
    "CM16-0246487",  # "the request failed to provide quantity" (Percocet, Zofran)
]
REPEATED = {"CM16-0242667", "CM17-0003284", "CM17-0011703"}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-repeat-index", LETTERS)


@pytest.mark.parametrize(
    "question",
    [
        "Which requests were denied partly because the same kind of test had already been done?",
        "What do reviewers say when a test had already been done before?",
        "where did reviewers deny a test partly because the same test had already been done?",
        "denials where a similar diagnostic study had already been done",
    ],
)
def test_a_study_already_done_is_a_reason(assistant: Assistant, question: str) -> None:
    ans = ask_verified(assistant, question)
    assert ans.plan.get("reasons") == ["repeat_study"], ans.plan
    assert not ans.plan.get("topic"), ans.plan
    assert cases_of(assistant, ans) == REPEATED, ans.answer


def test_each_request_listed_quotes_the_sentence_that_gives_the_reason(
    assistant: Assistant,
) -> None:
    ans = ask_verified(
        assistant, "Which requests were denied because a study had already been done?"
    )
    lines = [x for x in ans.answer.splitlines() if x.startswith("- ")]
    assert lines and all('"' in x for x in lines), ans.answer
    quoted = {c.quote for c in ans.citations}
    assert any("repeat lumbar x-ray" in q for q in quoted), quoted


def test_the_quantity_left_unsaid(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "Show me the rationales that ding the request for not saying how many or how much was "
        "being asked for.",
    )
    assert ans.plan["kind"] == "topic" and ans.plan.get("topic_negated"), ans.plan
    assert cases_of(assistant, ans) == {"CM16-0246487"}, ans.answer


def test_the_drug_a_worker_is_on_is_no_request_asked_about(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "What do the letters say about stomach-protection meds (Pepcid, famotidine) for someone "
        "on an NSAID?",
    )
    assert "NSAID" not in ans.plan["filters"].get("drug_class", []), ans.plan
    treatments = {c.treatment for c in ans.citations if c.treatment}
    assert not any("Celecoxib" in t for t in treatments), treatments
    assert any("Pepcid" in t for t in treatments), treatments


def test_a_referral_to_a_specialist_is_a_request(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "What do the letters say about referrals to a spine surgeon?")
    assert "specialty" not in ans.plan["filters"], ans.plan
    assert cases_of(assistant, ans) == {"CM16-0236380", "CM16-0247802"}, ans.answer


def test_a_class_said_again_later_is_the_same_requests(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "why were the lumbar x-ray requests upheld? trying to see what reviewers want before "
        "they'll approve low back imaging",
    )
    assert "imaging" not in ans.plan["filters"].get("drug_class", []), ans.plan
    treatments = {c.treatment for c in ans.citations if c.treatment}
    assert treatments and all("x-ray" in t.lower() for t in treatments), treatments


def test_a_why_question_with_a_part_no_passage_says(assistant: Assistant) -> None:
    # the reasons are answered; the part no passage says is named as not used
    ans = ask_verified(
        assistant,
        "why was the post-op Percocet upheld, and what did the reviewers say about the "
        "worker's hobbies?",
    )
    assert ans.answered and cases_of(assistant, ans) == {"CM16-0246487"}, ans.answer
    assert ans.answer.splitlines()[0].startswith("Not used: '"), ans.answer
    assert "hobbies" in ans.answer.splitlines()[0]


def test_a_treatment_never_decided_is_still_refused(assistant: Assistant) -> None:
    ans, _ = assistant.ask("Why was the Butrans patch denied?")
    assert not ans.answered, ans.answer


def test_before_it_is_approved_is_no_decision(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "Before a drug such as Pepcid is approved, what do the reviewers say the worker must "
        "have tried first?",
    )
    assert "decision" not in ans.plan["filters"], ans.plan
    assert ans.plan["kind"] == "why", ans.plan


def test_what_reviewers_said_was_missing(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "what monitoring or documentation did reviewers say was missing when they upheld the "
        "Percocet?",
    )
    assert ans.plan["kind"] == "why", ans.plan
    assert cases_of(assistant, ans) == {"CM16-0246487"}


def test_a_request_that_left_things_unsaid_is_a_reason(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "Which IMR decisions faulted the RFA for leaving something unspecified (qty, dose, body "
        "part, location)?",
    )
    assert ans.plan.get("reasons") == ["request_unspecified"], ans.plan
    assert cases_of(assistant, ans) == {"CM16-0246487"}, ans.answer
    # one thing named alone stays a topic: the sentences that say it is missing
    one = ask_verified(
        assistant,
        "In which decisions did the reviewer fault the request for not stating a quantity?",
    )
    assert "reasons" not in one.plan and one.plan.get("topic_negated"), one.plan


def test_the_section_relied_on_for_a_request_in_a_case_described(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "Which MTUS Opioid Treatment section did the reviewer rely on for the Norco 5/325 request "
        "in the lumbar disc extrusion case?",
    )
    assert ans.plan.get("guidelines_asked") and "regions" not in ans.plan, ans.plan
    assert cases_of(assistant, ans) == {"CM16-0247802"}, ans.answer
    assert any("Opioid" in c.quote for c in ans.citations), ans.answer


SURGERY_LETTERS = [
    "CM16-0213037",  # "no documentation of a willingness to consider ... surgical intervention"
    "CM16-0247255",  # "There was no plan for surgery."
    "CM17-0004039",  # "Absent red flags or clear indications for surgery"
    "CM17-0006634",  # quotes "would consider surgery an option" without applying it
    "CM17-0008479",  # acupuncture: "adjunct to ... surgical intervention" (a guideline quote)
]


@pytest.fixture(scope="module")
def surgery(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-surgery-index", SURGERY_LETTERS)


@pytest.mark.parametrize(
    "question",
    [
        "MRI/CT/x-ray requests upheld partly because nobody was contemplating surgery — which ones?",
        "what do reviewers say about whether the patient is a surgical candidate / would act on "
        "MRI results",
        "Which imaging denials rested at least in part on there being no surgical plan, or on the "
        "worker not being described as a surgical candidate?",
    ],
)
def test_no_surgery_the_study_would_guide_is_a_reason(surgery: Assistant, question: str) -> None:
    ans = ask_verified(surgery, question)
    assert ans.plan.get("reasons") == ["no_surgical_plan"] and not ans.plan.get("topic"), ans.plan
    # the criterion quoted but not applied (CM17-0006634) and the acupuncture guideline's
    # "surgical intervention" (CM17-0008479) are not the reason
    assert cases_of(surgery, ans) == {"CM16-0213037", "CM16-0247255", "CM17-0004039"}, ans.answer
