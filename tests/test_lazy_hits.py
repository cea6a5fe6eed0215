"""Ranking hits on first read changes no answer: each question answered through
``Assistant.ask`` (hits ranked only if the answer reads them) gets the answer the same
plan gets from a search that ranked its hits at once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.retrieve.hybrid import RankedHits, search
from imr_assist.retrieve.plan import read_question
from imr_assist.settings import Settings

QUESTIONS = [
    pytest.param("How many Norco requests were upheld?", False, id="count"),
    pytest.param("What share of opioid requests were upheld?", False, id="share"),
    pytest.param("Which letters involve a knee injury?", False, id="letters"),
    pytest.param("Upheld and overturned counts by reviewer specialty", False, id="group-by"),
    pytest.param("Why are Norco requests upheld?", True, id="why"),
    pytest.param("What did reviewers say about weaning?", None, id="topic"),
    pytest.param("How many Xanax requests were overturned?", None, id="none-match"),
    pytest.param("What is the capital of France?", True, id="refused"),
]


@pytest.fixture(scope="module")
def assistant(sample_index: Path) -> Assistant:
    return Assistant(Settings(index_dir=sample_index, llm_enabled=False))


@pytest.mark.parametrize(("question", "ranks"), QUESTIONS)
def test_the_answer_is_the_one_an_eager_search_gives(
    assistant: Assistant, question: str, ranks: bool | None
) -> None:
    answer, result = assistant.ask(question)
    plan = read_question(question)
    eager = search(
        assistant.index, plan.corrected, k=assistant.settings.k, filters=replace(plan.filters)
    )
    eager.question = plan.question
    assert not isinstance(eager.hits, RankedHits)
    want = assistant.planner.answer(plan, eager)
    assert answer.model_dump() == want.model_dump()
    assert isinstance(result.hits, RankedHits)
    if ranks is not None:  # whether this answer needed passages at all
        assert result.hits.ranked is ranks


def test_copies_of_a_result_share_one_ranking(assistant: Assistant) -> None:
    calls: list[int] = []

    def rank() -> list:
        calls.append(1)
        return []

    hits = RankedHits(rank)
    assert not hits.ranked and "not ranked" in repr(hits)
    assert list(hits) == [] and len(hits) == 0 and hits[:3] == []
    assert hits.ranked and calls == [1]
