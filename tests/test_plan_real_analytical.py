"""Long questions of researchers and auditors, over eight real letters: what a decision
rested on by its MAXIMUS guideline line ("outside the MTUS"), licensure in one state and
not another, the letter that decided the most requests, letters by how many items they
decided or by whether every item went one way, months as groups, and who asks and why
said first ("For a workload study, ...")."""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.retrieve.plan import _asker_context
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM16-0230548",  # Texas; 2 items
    "CM16-0232543",  # Texas, Ohio; 6 items, one decided outside the MTUS (upheld)
    "CM16-0238352",  # Texas, New York, California; 1 item
    "CM16-0241231",  # Texas, New York, California; 1 item
    "CM16-0246487",  # Colorado, Texas, Arizona; 6 items, two outside the MTUS (overturned)
    "CM17-0014449",  # Texas; 15 items, all upheld
    "CM17-0015348",  # California; knee PT outside the MTUS, overturned
    "CM17-0020384",  # Massachusetts; EMG outside the MTUS, overturned
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-analytical-index", LETTERS)


@pytest.mark.parametrize(
    "question",
    [
        "When the expert reviewer based the decision on guidelines outside the MTUS, what share "
        "of those decisions were overturned?",
        "Of the items where the reviewer went outside the MTUS entirely and relied only on "
        "non-MTUS sources, how many were reversed in the worker's favor, out of how many?",
    ],
)
def test_decisions_rested_outside_the_mtus(assistant: Assistant, question: str) -> None:
    ans = ask_verified(assistant, question)
    assert ans.plan.get("reviewer_basis") == "outside_mtus", ans.plan
    assert "guideline" not in ans.plan["filters"] and ans.plan["kind"] != "fact", ans.plan
    assert "4 of 5" in ans.answer, ans.answer


def test_licensed_in_one_state_and_not_another(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "How many letters were decided by reviewers licensed in Texas but not in California?",
    )
    assert ans.plan.get("licensed_in") == "Texas", ans.plan
    assert ans.plan.get("licensed_except") == "California", ans.plan
    assert ans.answer.startswith("4 letters"), ans.answer


def test_the_letter_that_decided_the_most_requests(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "A researcher asks: which single letter decided the most requests, and how many items "
        "did it decide?",
    )
    assert ans.plan.get("fact") == "items_decided" and ans.plan.get("extreme") == "max"
    assert cases_of(assistant, ans) == {"CM17-0014449"} and "15" in ans.answer, ans.answer


def test_letters_by_how_many_items_and_every_item_upheld(assistant: Assistant) -> None:
    many = ask_verified(
        assistant, "For a workload study, how many letters decided more than five separate items?"
    )
    assert many.plan.get("min_items") == 6 and not many.plan.get("topic"), many.plan
    assert many.answer.startswith("3 letters"), many.answer
    every = ask_verified(
        assistant, "What fraction of the letters decided in February 2017 upheld every item?"
    )
    assert every.plan.get("all_decided") == "upheld", every.plan
    assert "1 of 3 letters" in every.answer, every.answer


def test_months_as_groups(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "For a trend report, break down all decisions by the month of the IMR decision date, "
        "with overturned and upheld counts for each month.",
    )
    assert ans.plan.get("group_by") == "month" and not ans.plan.get("topic"), ans.plan
    assert "2017-01" in ans.answer and "2017-02" in ans.answer


def test_a_head_noun_after_a_treatment_is_no_class(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "which requests for MRI imaging were upheld?")
    assert "imaging" not in ans.plan["filters"].get("drug_class", []), ans.plan


@pytest.mark.parametrize(
    ("question", "begins"),
    [
        ("For a workload study, how many letters decided more than five items?", "how many"),
        ("A researcher asks: which letter decided the most requests?", "which letter"),
        ("Writing a UR training memo: why were the Norco requests upheld?", "why were"),
        ("For an audit of shoulder imaging, which MRIs were upheld?", " of shoulder imaging"),
        ("For the male claimants only, what reasoning was given?", "For the male"),
    ],
)
def test_what_a_question_is_for_is_not_what_it_asks(question: str, begins: str) -> None:
    assert question[_asker_context(question) :].startswith(begins)


def test_a_chat_that_moves_the_region_and_then_narrows_it(assistant: Assistant) -> None:
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    chat.ask("A defense adjuster asks why the overturned physical therapy requests won.")
    again = chat.ask("Now the same for the knee.")
    assert again.plan.get("regions") == ["knee"] and not again.plan.get("topic"), again.plan
    assert cases_of(assistant, again) == {"CM17-0015348"}, again.answer


def test_who_asks_is_said_first() -> None:
    question = "A defense adjuster asks why the lumbar MRI requests were upheld."
    assert question[_asker_context(question) :] == "why the lumbar MRI requests were upheld."


def test_the_longest_and_shortest_time_from_ur_denial_to_decision(assistant: Assistant) -> None:
    import datetime as dt

    days = {}
    for d in assistant.index.catalog.doc_ids():
        lt = assistant.texts.letter(d)
        assert lt is not None and lt.decision_date and lt.ur_denial_date
        days[lt.case_number] = (
            dt.date.fromisoformat(lt.decision_date) - dt.date.fromisoformat(lt.ur_denial_date)
        ).days
    longest = ask_verified(
        assistant,
        "Which letter had the longest gap between the UR denial date and the IMR decision date, "
        "and how many days was it?",
    )
    assert longest.plan.get("fact") == "ur_to_decision_days", longest.plan
    top = max(days.values())
    assert cases_of(assistant, longest) == {c for c, n in days.items() if n == top}
    assert f"{top} days" in longest.answer
    shortest = ask_verified(assistant, "shortest time from UR denial to IMR decision?")
    assert "decision" not in shortest.plan["filters"], shortest.plan
    assert f"{min(days.values())} days" in shortest.answer


def test_reviewers_licensed_in_every_state_named(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant, "Which letters were reviewed by someone licensed in both Texas and Ohio?"
    )
    assert ans.plan.get("licensed_in") == "Texas" and ans.plan.get("licensed_also") == ["Ohio"]
    assert cases_of(assistant, ans) == {"CM16-0232543"}, ans.answer


def test_some_overturned_and_others_upheld_is_mixed(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant, "show me the letters where some items were overturned and others upheld"
    )
    assert ans.plan.get("all_decided") == "mixed", ans.plan
    # the Bankart letter, and the MRI upheld beside the acupuncture overturned
    assert cases_of(assistant, ans) == {"CM16-0246487", "CM16-0230548"}, ans.answer


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("Which requests did the medical toxicologist decide?", "medical toxicologist"),
        ("What did the Neuromuscular Medicine reviewer decide?", "Neuromuscular Medicine"),
        (
            "items reviewed by the Pediatric Rehabilitation Medicine doctor",
            "Pediatric Rehabilitation Medicine",
        ),
    ],
)
def test_rarer_certifications_name_the_reviewer(question: str, said: str) -> None:
    from imr_assist.retrieve.plan import read_question

    assert read_question(question).filters.specialty == said


def test_a_second_certification_held_too_is_no_comparison() -> None:
    from imr_assist.retrieve.plan import read_question

    plan = read_question(
        "Which requests did internal medicine reviewers overturn, counting reviewers who also "
        "hold a hospice and palliative medicine certification?"
    )
    assert plan.filters.specialty == "internal medicine" and not plan.specialty_groups, plan
