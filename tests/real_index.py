"""Small indexes of real letters for the question-reading tests, and asking them with
every citation checked verbatim in its letter."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.models import Answer
from imr_assist.settings import Settings
from imr_assist.text import clean
from tests.test_real_letters import REAL


def index_real_letters(
    tmp_path_factory: pytest.TempPathFactory, name: str, cases: Sequence[str]
) -> Assistant:
    """An assistant over a fresh index of the real letters ``cases``, every one indexed."""
    from imr_assist.index.ingest import ingest

    settings = Settings(index_dir=tmp_path_factory.mktemp(name), llm_enabled=False)
    report = ingest([str(REAL / f"{c}.pdf") for c in cases], settings)
    assert report.failed == 0 and report.letters_indexed == len(cases)
    return Assistant(settings)


def ask_verified(a: Assistant, question: str) -> Answer:
    """The answer, after checking that each citation is verbatim in its letter."""
    ans, _ = a.ask(question)
    for c in ans.citations:
        letter = a.texts.letter(c.doc_id)
        assert letter is not None and clean(letter.text[c.start : c.end]).strip() == c.quote
    return ans


def cases_of(a: Assistant, ans: Answer) -> set[str]:
    """The case numbers of the letters an answer cites."""
    out = set()
    for c in ans.citations:
        letter = a.texts.letter(c.doc_id)
        assert letter is not None
        out.add(letter.case_number or c.doc_id)
    return out
