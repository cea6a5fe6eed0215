"""A letter picked by how the question describes its worker: an injury told of the
worker is the case's region, not the request's, and words the letter uses of the
worker ("truck driver") pick that letter among those that decided the request."""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.retrieve.plan import read_question
from tests.real_index import ask_verified, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM17-0020384",  # the truck driver: wrist fracture, EMG of the right upper extremity
    "CM17-0003284",  # EMG/NCS of the bilateral upper extremities; wrist in the history
    "CM17-0003623",  # NCV/EMG of the bilateral upper extremity; wrist in the history
]
QUESTION = (
    "Truck driver who broke her wrist, EMG of the right arm: when did UR deny it and "
    "when did Maximus receive the IMR application?"
)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-worker-index", LETTERS)


@pytest.mark.parametrize(
    "question",
    [QUESTION, "the worker who hurt his right shoulder lifting boxes: why was the MRI denied?"],
)
def test_an_injury_told_of_the_worker_is_the_cases_region(question: str) -> None:
    plan = read_question(question)
    assert plan.regions == () and plan.letter_regions


def test_the_request_stays_the_requests_region() -> None:
    plan = read_question("why was the MRI of the right shoulder denied?")
    assert plan.regions == ("shoulder",) and plan.letter_regions == ()


def test_words_the_letter_uses_of_the_worker_pick_the_letter(assistant: Assistant) -> None:
    """Gold (blind b027): UR denial 2017-01-19, application received 2017-01-31; the
    two other EMG letters, whose workers' wrists are in their histories too, are not it."""
    ans = ask_verified(assistant, QUESTION)
    assert ans.answered, ans.notices
    cited = {assistant.texts.letter(c.doc_id).case_number for c in ans.citations}  # type: ignore[union-attr]
    assert cited == {"CM17-0020384"}
    assert "2017-01-19" in ans.answer and "2017-01-31" in ans.answer
    assert "truck driver" in ans.answer


def test_a_side_or_body_part_describes_no_worker(assistant: Assistant) -> None:
    """'right arm' is where the EMG was, though one letter's history says it: without
    'truck driver' the EMG letters are all answered, and nothing is read as the worker."""
    ans = ask_verified(assistant, "EMG of the right arm: when did UR deny it?")
    assert ans.answered, ans.notices
    assert "the worker the letter describes" not in ans.answer
    cited = {assistant.texts.letter(c.doc_id).case_number for c in ans.citations}  # type: ignore[union-attr]
    assert cited == set(LETTERS)
