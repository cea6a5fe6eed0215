"""Answers over a larger generated corpus: counts cover every item, quotes stay bounded."""

from __future__ import annotations

import json
import re

import pytest

from imr_assist.answer import extractive
from imr_assist.answer.extractive import EXAMPLES_PER_REASON
from imr_assist.answer.service import Assistant
from imr_assist.constants import UPHELD
from imr_assist.index.ingest import ingest
from imr_assist.models import Letter
from imr_assist.settings import Settings
from imr_synth import generate

# The cap on items listed one per line, set below this corpus's 22 upheld opioid items
# so the cap itself is exercised (the shipped value is larger).
MAX_LISTED = 12


@pytest.fixture(autouse=True)
def _small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extractive, "MAX_LISTED", MAX_LISTED)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assistant, list[Letter]]:
    root = tmp_path_factory.mktemp("scale")
    # Only opioids and muscle relaxants are asked about below; a corpus of 80 letters
    # holds dozens of each, more than an answer quotes.
    generate(80, seed=3, out=root / "corpus", noise=0.3)
    settings = Settings(index_dir=root / "index", llm_enabled=False)
    report = ingest([str(root / "corpus" / "letters")], settings)
    assert report.failed == 0
    gold = [
        Letter.model_validate(json.loads(p.read_text()))
        for p in sorted((root / "corpus" / "gold").glob("*.json"))
    ]
    return Assistant(settings), gold


def _gold_items(gold: list[Letter], drug_class: str, decision: str | None = None) -> list[str]:
    return [
        f"{lt.doc_id}:{it.index}"
        for lt in gold
        for it in lt.items
        if it.drug_class == drug_class and (decision is None or it.decision == decision)
    ]


def test_counts_cover_every_item_but_quotes_are_bounded(corpus) -> None:  # type: ignore[no-untyped-def]
    assistant, gold = corpus
    upheld = _gold_items(gold, "opioid", UPHELD)
    total = _gold_items(gold, "opioid")
    assert len(upheld) > MAX_LISTED  # the corpus is large enough to test the caps

    count, _ = assistant.ask("How many opioid requests were upheld?")
    assert count.answer.startswith(f"{len(upheld)} of {len(total)} ")
    assert f"and {len(upheld) - MAX_LISTED} more" in count.answer

    why, result = assistant.ask("Why are opioid requests denied?")
    assert len(result.items) == len(upheld)
    head = why.answer.splitlines()[0]
    assert head.startswith(f"{len(upheld)} upheld ")
    # each reason line gives its count over all items and quotes at most a few
    for line in why.answer.splitlines()[1:]:
        if m := re.search(r": (\d+) of (\d+) upheld", line):
            assert int(m[2]) == len(upheld) and int(m[1]) <= len(upheld)
            assert len(re.findall(r"\[\d+\]", line)) <= EXAMPLES_PER_REASON
    assert why.citations and all(c.decision == UPHELD for c in why.citations)


def test_listed_answers_stop_at_the_cap(corpus) -> None:  # type: ignore[no-untyped-def]
    assistant, gold = corpus
    upheld = _gold_items(gold, "opioid", UPHELD)
    listed, _ = assistant.ask("Which opioid requests were upheld?")
    lines = [ln for ln in listed.answer.splitlines() if ln.startswith("- ")]
    assert len(lines) == MAX_LISTED + 1 and lines[-1] == f"- and {len(upheld) - MAX_LISTED} more"
    assert len(listed.citations) == MAX_LISTED
    assert listed.answer.splitlines()[0].startswith(f"{len(upheld)} upheld")
