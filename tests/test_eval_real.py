"""The real-letter eval's scoring, on hand-made answers: right, broadened, refused."""

from __future__ import annotations

from imr_assist.constants import CANNOT_ANSWER
from imr_assist.evaluate.real import score_answer
from imr_assist.models import Answer, Citation

CASES = {"d1": "CM16-0000001", "d2": "CM16-0000002"}


def cite(n: int, doc: str, treatment: str | None) -> Citation:
    return Citation(
        n=n, doc_id=doc, source=f"{doc}.pdf", treatment=treatment, quote="q", start=0, end=1
    )


def answer(text: str, *cites: Citation, answered: bool = True) -> Answer:
    return Answer(
        question="q", answer=text, answered=answered, mode="extractive", citations=list(cites)
    )


LIST_Q = {
    "kind": "list",
    "question": "Which MRI requests were upheld?",
    "unit": "decisions",
    "items": [{"case": "CM16-0000001", "treatment": "MRI"}],
    "letters": ["CM16-0000001"],
}


def test_a_list_citing_exactly_the_gold_is_right() -> None:
    s = score_answer(LIST_Q, answer("1 upheld", cite(1, "d1", "MRI")), CASES, 1)
    assert s.right and not s.broadened


def test_a_list_citing_an_item_outside_the_asked_set_is_broadened_and_wrong() -> None:
    ans = answer("2 upheld", cite(1, "d1", "MRI"), cite(2, "d2", "X-ray"))
    s = score_answer(LIST_Q, ans, CASES, 2)
    assert s.broadened and not s.right


def test_a_list_missing_a_gold_item_is_wrong_but_not_broadened() -> None:
    s = score_answer(LIST_Q, answer("none", cite(1, "d1", "Norco")), CASES, 1)
    assert not s.right and s.broadened  # Norco is outside the asked set
    s = score_answer(LIST_Q, answer("nothing cited"), CASES, 0)
    assert not s.right and not s.broadened


def test_counts_and_shares_are_read_from_the_text() -> None:
    count_q = {**LIST_Q, "kind": "count", "question": "How many MRI requests?", "count": 3}
    assert score_answer(
        count_q, answer("3 of 5 MRI decisions", cite(1, "d1", "MRI")), CASES, 1
    ).right
    assert not score_answer(count_q, answer("4 of 5 MRI decisions"), CASES, 0).right
    share_q = {**LIST_Q, "kind": "share", "share": {"num": 1, "den": 4}}
    assert score_answer(share_q, answer("1 of 4 (25%)", cite(1, "d1", "MRI")), CASES, 1).right
    assert not score_answer(share_q, answer("2 of 4 (50%)", cite(1, "d1", "MRI")), CASES, 1).right


def test_refusals_are_right_only_where_the_letters_have_nothing() -> None:
    absent = {"kind": "absent", "question": "claimant's name?", "answerable": False}
    refused = answer(CANNOT_ANSWER, answered=False)
    assert score_answer(absent, refused, CASES, 0).right
    assert not score_answer(absent, answer("Jane Doe", cite(1, "d1", None)), CASES, 1).right
    assert not score_answer(LIST_Q, refused, CASES, 0).right


def test_facts_accept_dates_as_written() -> None:
    fact_q = {
        "kind": "fact",
        "question": "When?",
        "letters": ["CM16-0000001"],
        "expected": ["2016-12-09"],
    }
    assert score_answer(fact_q, answer("decided 12/09/2016", cite(1, "d1", None)), CASES, 1).right
    assert not score_answer(
        fact_q, answer("decided 12/10/2016", cite(1, "d1", None)), CASES, 1
    ).right
