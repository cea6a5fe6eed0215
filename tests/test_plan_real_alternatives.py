"""A reason said in clauses joined by "or" is any one of them, each whole ("no surgical
plan, or the worker not described as a surgical candidate"), and why IMR decided is in
its rationale, not in the case summary's account of the UR decision; over six real
letters."""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
NO_SURGERY = {
    "CM16-0247255",  # "There was no plan for surgery."
    "CM17-0003284",  # "... indicating that the patient was a candidate for surgery."
    "CM17-0008577",  # "no discussion describing the worker as a candidate for surgery"
}
LETTERS = [
    *NO_SURGERY,
    "CM16-0236380",  # the summary: UR non-certified for lack of "surgical plans"
    "CM16-0224814",  # cervical MRI upheld on other grounds
    "CM17-0009840",  # shoulder MRI overturned
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-alternatives-index", LETTERS)


cases = cases_of


@pytest.mark.parametrize(
    "question",
    [
        "Which imaging denials rested at least in part on there being no surgical plan, or on "
        "the worker not being described as a surgical candidate?",
        "which imaging requests were upheld because there was no surgical plan or the worker "
        "was not a surgical candidate",
    ],
)
def test_clauses_joined_by_or_are_alternatives(assistant: Assistant, question: str) -> None:
    ans = ask_verified(assistant, question)
    assert ans.answered, ans.notices
    assert ans.plan["filters"].get("decision") == "upheld", ans.plan
    assert cases(assistant, ans) == NO_SURGERY
