"""The plan's narrowing reads a letter's record only where the item row cannot answer:
whatever it skips, it keeps exactly the rows that checking every letter keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.retrieve.hybrid import matching_items
from imr_assist.retrieve.plan import read_question
from imr_assist.settings import Settings

QUESTIONS = [
    pytest.param("Why were the lumbar spine MRI requests upheld?", id="item-region"),
    pytest.param("Which knee requests were overturned?", id="item-region-any"),
    pytest.param("Which decisions cited no functional improvement?", id="reason"),
    pytest.param("Which letters involve a knee injury?", id="letter-region"),
    pytest.param("Which requests for a 47-year-old were upheld?", id="age"),
    pytest.param("Which partially certified requests were there?", id="partial"),
    pytest.param("How many letters decided more than one item?", id="items-per-letter"),
    pytest.param("Which letters decided more than two knee requests?", id="items-and-region"),
]


@pytest.fixture(scope="module")
def assistant(sample_index: Path) -> Assistant:
    return Assistant(Settings(index_dir=sample_index, llm_enabled=False))


@pytest.mark.parametrize("question", QUESTIONS)
def test_narrowing_keeps_what_checking_every_letter_keeps(
    assistant: Assistant, question: str
) -> None:
    plan = read_question(question)
    runner = assistant.planner
    rows = matching_items(assistant.index, plan.filters)
    every = [
        r
        for r in rows
        if (lt := assistant.texts.letter(r.doc_id)) is not None
        and runner._letter_ok(plan, lt)
        and runner._item_ok(plan, lt, r)
    ]
    if plan.letter_restricted:
        assert runner._narrow(plan, rows) == every
    else:
        assert runner._narrow(plan, rows) == rows


def test_some_plans_need_no_letter_and_some_do() -> None:
    """The cases above include both paths."""
    needs = {
        str(q.values[0]): read_question(str(q.values[0]))
        for q in QUESTIONS  # type: ignore[attr-defined]
    }
    from imr_assist.answer.planned import PlanRunner

    flags = {q: (p.letter_restricted, PlanRunner._needs_letter(p)) for q, p in needs.items()}
    assert (True, False) in flags.values(), flags  # row-only checks
    assert (True, True) in flags.values(), flags  # a letter read
