"""Terse and long-winded questions as outsiders type them, over real letters: shorthand
("pt", "pts 60+", "w/", "bc", state codes), a part of the asked requests left out by
what qualifies it ("not counting the pre-op chest x-ray"), and the two kinds of partial
certification the letters name."""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.retrieve.plan import correct_names
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM16-0230548",  # 60-year-old; acupuncture overturned; Texas
    "CM16-0241231",  # 29-year-old; PT partly certified (remaining portion); California
    "CM16-0239190",  # 60 or older; occupational therapy partly certified (remaining portion)
    "CM16-0246487",  # post-op PT overturned with the Bankart repair; post-op Percocet
    "CM17-0014449",  # SLAP repair upheld; pre-op chest x-ray and 13 more services upheld
    "CM16-0232543",  # x-rays of the pelvis, lumbar spine and left shoulder upheld; Texas
    "CM16-0249724",  # wheelchair (remaining portion), commode and shower chair (modified)
    "CM17-0001749",  # partial hospitalization overturned (evaluation only certified)
    "CM17-0010365",  # PT overturned; California
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-shorthand-index", LETTERS)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("pts 60+ which letters", "patients 60 or older which letters"),
        ("youngest pt w/ an overturned item", "youngest patient with an overturned item"),
        ("items denied just bc surgery was denied", "items denied just because surgery was denied"),
        ("PT cases w/ reviewer licensed in CA", "PT cases with reviewer licensed in California"),
        ("car crash claims which letters", "motor vehicle accident claims which letters"),
    ],
)
def test_shorthand_is_read_as_meant(typed: str, meant: str) -> None:
    assert correct_names(typed)[0] == meant


def test_physical_therapy_stays_physical_therapy() -> None:
    # "PT" in capitals, and "pt" with nothing of a patient beside it, are left alone
    assert correct_names("PT denied for the lumbar spine")[0] == "PT denied for the lumbar spine"
    assert correct_names("lumbar pt denied")[0] == "lumbar pt denied"


def test_patients_sixty_and_over(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "pts 60+ which letters")
    assert ans.plan.get("age_min") == 60, ans.plan
    assert cases_of(assistant, ans) == {"CM16-0230548", "CM16-0239190"}, ans.answer


def test_a_state_code_after_licensed_in(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "PT cases w/ reviewer licensed in CA")
    assert ans.plan.get("licensed_in") == "California", ans.plan
    got = cases_of(assistant, ans)
    assert "CM17-0010365" in got and "CM16-0232543" not in got, ans.answer


@pytest.mark.parametrize(
    ("question", "kept", "left_out"),
    [
        (
            "List every X-ray request and its outcome, not counting the pre-operative chest "
            "x-ray requested as an associated surgical service.",
            "CM16-0232543",
            "CM17-0014449",
        ),
        (
            "why were the overturned physical therapy requests found medically necessary, other "
            "than the post-operative therapy tied to the approved shoulder surgery?",
            "CM17-0010365",
            "CM16-0246487",
        ),
    ],
)
def test_part_of_the_requests_left_out_by_what_qualifies_it(
    assistant: Assistant, question: str, kept: str, left_out: str
) -> None:
    ans = ask_verified(assistant, question)
    assert ans.plan.get("excluded_words"), ans.plan
    assert "Surgery" not in ans.plan["filters"].get("treatment", []), ans.plan
    got = cases_of(assistant, ans)
    assert kept in got and left_out not in got, ans.answer


def test_two_kinds_of_partial_certification(assistant: Assistant) -> None:
    whole = ask_verified(
        assistant,
        "In which partial certs did UR authorize something different (a rental, an eval only) "
        "so that the whole original request went to IMR?",
    )
    assert whole.plan.get("partial_kind") == "modified", whole.plan
    named = {c.treatment for c in whole.citations if c.treatment}
    assert named == {
        "purchase of a bedside 3 in 1 commode",
        "purchase of a bath/shower chair",
        "Partial Hospitalization day treatment",
    }, whole.answer
    rest = ask_verified(
        assistant,
        "Which decisions addressed only the remaining IMR-eligible portion of a request after "
        "utilization review had certified part of it?",
    )
    assert rest.plan.get("partial_kind") == "remaining", rest.plan
    named = {c.treatment for c in rest.citations if c.treatment}
    assert named == {
        "standard wheelchair for a 2 month rental",
        "Three sessions of physical therapy of the right knee",
        "Occupational therapy for six sessions",
    }, rest.answer
    loose = ask_verified(
        assistant, "When UR only approved part of a request, did IMR overturn the rest?"
    )
    assert "partial_kind" not in loose.plan, loose.plan


def test_a_bare_fact_follow_up_in_chat(assistant: Assistant) -> None:
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    chat.ask("pts 60+ which letters")
    over = chat.ask("any overturned?")
    assert cases_of(assistant, over) == {"CM16-0230548"}, over.answer
    date = chat.ask("date?")
    assert date.plan.get("fact") == "decision_date", date.plan
    assert "2017-01-04" in date.answer and cases_of(assistant, date) == {"CM16-0230548"}
    doi = chat.ask("and the DOI?")
    assert doi.plan.get("fact") == "date_of_injury", doi.plan


def test_a_comparison_names_each_side_as_asked(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "PT vs acupuncture overturn rates")
    assert "Physical therapy (PT)" in ans.answer, ans.answer


def test_sessions_pushed_past_the_guideline_is_the_quantity_reason(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "Training memo: which denied PT and OT requests did the reviewer say would push the "
        "number of sesions past what the guidelines alow?",
    )
    assert ans.plan.get("reasons") == ["exceeds_guideline_quantity"], ans.plan
    assert ans.plan["kind"] == "list", ans.plan
