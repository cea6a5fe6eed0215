"""What the letter says of the worker's earlier treatment is a restriction: "PT requests
where the patient had never had PT before" are the requests whose rationale or case
summary says so, over six real letters. Listing every PT request instead would answer a
broader question."""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM17-0016666",  # "There is no previous physical therapy sessions noted" (PT upheld)
    "CM17-0010365",  # "does not appear the patient has undergone physical therapy previously"
    "CM16-0235869",  # "noted to have had prior physical therapy" (PT upheld)
    "CM17-0007886",  # "noted to have had prior physical therapy" (PT upheld)
    "CM17-0010885",  # "does not document any prior acupuncture sessions" (overturned)
    "CM17-0011703",  # acupuncture upheld; nothing said of earlier acupuncture
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-history-index", LETTERS)


@pytest.mark.parametrize(
    "question",
    [
        "Were there any PT requests where the letter says the patient had never had PT "
        "before? How did those turn out?",
        "Which PT requests say there was no previous physical therapy?",
        "PT requests where the patient had no prior PT",
        "physical therapy for workers who hadn't had any therapy before",
    ],
)
def test_no_earlier_course_restricts_the_requests(assistant: Assistant, question: str) -> None:
    ans = ask_verified(assistant, question)
    assert ans.plan.get("none_before") is True, ans.plan
    assert cases_of(assistant, ans) == {"CM17-0016666", "CM17-0010365"}, ans.answer
    assert "had none of it before" in ans.answer.splitlines()[0]


def test_every_request_when_the_history_is_not_asked(assistant: Assistant) -> None:
    ans = ask_verified(assistant, "Which PT requests were upheld?")
    assert "none_before" not in ans.plan
    assert cases_of(assistant, ans) == {"CM17-0016666", "CM16-0235869", "CM17-0007886"}


def test_a_count_says_the_restriction(assistant: Assistant) -> None:
    ans = ask_verified(
        assistant,
        "how many acupuncture requests were for workers who never tried acupuncture before",
    )
    assert ans.plan.get("none_before") is True, ans.plan
    assert cases_of(assistant, ans) == {"CM17-0010885"}, ans.answer
    assert ans.answer.startswith("1 ") and "none of it before" in ans.answer
