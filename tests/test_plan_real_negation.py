"""A topic said negated in the question is matched only where the letter says it so:
"denied because the guidelines don't recommend it" finds the rationales that say the
guidelines do not recommend the treatment, over eight real letters; "at all" leaves out
those that do not recommend it for some use only ("routine", "as a primary treatment").
"""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
NOT_RECOMMENDED = {
    "CM16-0231745",  # "do not recommend ultrasound therapy for therapeutic purposes"
    "CM16-0235869",  # "Thermography (infrared stress thermography) is not recommended."
    "CM17-0008479",  # infrared lasers, shockwave therapy for the back
    "CM17-0017776",  # TENS, i.e. the modality in question, is deemed "not recommended"
}
FOR_SOME_USE = {
    "CM16-0240518",  # "do not recommend the routine use of MRI with low back complaints"
    "CM16-0244053",  # hip MRI "not recommended for routine acute or chronic hip pain"
}
LETTERS = [
    *NOT_RECOMMENDED,
    *FOR_SOME_USE,
    "CM16-0248471",  # TENS "not recommended as a primary treatment modality"
    "CM17-0003284",  # "no exceptional factors ... exceeding the guideline recommendation"
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-negation-index", LETTERS)


cases = cases_of


@pytest.mark.parametrize(
    "question",
    [
        "Which therapies or tests were turned down because the guidelines don't recommend "
        "that modality at all?",
        "which requests were denied since the guidlines do not recommend the treatment at all",
    ],
)
def test_not_recommended_at_all(assistant: Assistant, question: str) -> None:
    ans = ask_verified(assistant, question)
    assert ans.answered, ans.notices
    assert ans.plan.get("topic_negated") and ans.plan.get("topic_unqualified"), ans.plan
    assert cases(assistant, ans) == NOT_RECOMMENDED


def test_not_recommended_for_some_use_is_still_not_recommended(assistant: Assistant) -> None:
    """Without "at all", a guideline that does not recommend the routine use counts; a
    sentence that only mentions a recommendation beside a negation does not."""
    ans = ask_verified(
        assistant, "Which requests were denied because the guidelines do not recommend them?"
    )
    assert ans.answered, ans.notices
    got = cases(assistant, ans)
    assert NOT_RECOMMENDED | FOR_SOME_USE <= got
    assert "CM17-0003284" not in got


def test_an_unnegated_recommendation_topic_is_not_read_negated(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "What do reviewers say the guidelines recommend for TENS?")
    assert not ans.plan.get("topic_negated"), ans.plan
