"""Questions nobody tuned the reader on, over an index of ten real letters.

Each test states what the answer may cite (computed from the parsed letters, not
written down) and checks that it cites nothing else: a constraint is applied, said,
or the question is refused with a notice, never dropped.
"""

from __future__ import annotations

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.constants import CANNOT_ANSWER
from imr_assist.models import Answer
from imr_assist.retrieve.plan import read_question
from imr_assist.settings import Settings
from imr_assist.text import clean
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM16-0213037",  # two MRIs, cervical and shoulder
    "CM16-0224814",  # cervical MRI
    "CM16-0232543",  # six items: Norflex, Pepcid, x-rays, PT
    "CM16-0234202",  # Norco, partial certification
    "CM16-0241231",  # knee PT, partial
    "CM16-0246487",  # post-op Percocet: the CURES database
    "CM16-0249724",  # wheelchair, commode, shower chair: partial
    "CM17-0001749",  # partial hospitalization, overturned
    "CM17-0009995",  # cyclobenzaprine, partial
    "CM17-0020384",  # EMG, overturned, partial
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    from imr_assist.index.ingest import ingest

    root = tmp_path_factory.mktemp("real-index")
    settings = Settings(index_dir=root, llm_enabled=False)
    report = ingest([str(REAL / f"{c}.pdf") for c in LETTERS], settings)
    assert report.failed == 0 and report.letters_indexed == len(LETTERS)
    return Assistant(settings)


def ask(a: Assistant, question: str) -> Answer:
    ans, _ = a.ask(question)
    for c in ans.citations:  # every citation verbatim in its letter
        letter = a.texts.letter(c.doc_id)
        assert letter is not None and clean(letter.text[c.start : c.end]).strip() == c.quote
    return ans


def cited_items(a: Assistant, ans: Answer) -> set[tuple[str, str]]:
    return {(c.doc_id, c.treatment) for c in ans.citations if c.treatment}


def all_items(a: Assistant):
    for doc_id in a.index.catalog.doc_ids():
        letter = a.texts.letter(doc_id)
        assert letter is not None
        for it in letter.items:
            yield letter, it


def test_misspelt_name_is_read_and_said(assistant: Assistant) -> None:
    ans = ask(assistant, "why was norko upheld")
    norco = {
        (lt.doc_id, it.treatment) for lt, it in all_items(assistant) if it.canonical == "Norco"
    }
    assert ans.answered and norco and cited_items(assistant, ans) <= norco
    assert "Read 'norko' as Norco" in ans.answer
    assert ans.plan and ans.plan["corrections"] == [{"asked": "norko", "read_as": "Norco"}]


@pytest.mark.parametrize(
    "question",
    [
        "What is the claimant's name?",
        "patient name cm17-0001749",
        "Who was the treating physician in CM16-0234202?",
    ],
)
def test_redacted_fields_are_refused_with_the_reason(assistant: Assistant, question: str) -> None:
    ans = ask(assistant, question)
    assert not ans.answered and ans.answer == CANNOT_ANSWER
    assert any("redacted" in n for n in ans.notices)


def test_body_region_restricts_the_decisions(assistant: Assistant) -> None:
    ans = ask(assistant, "List the decisions about the cervical spine or neck.")
    cervical = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if any(w in it.treatment.lower() for w in ("cervical", "neck"))
    }
    assert ans.answered and cited_items(assistant, ans) == cervical


def test_group_by_specialty_counts_every_decision(assistant: Assistant) -> None:
    ans = ask(assistant, "How do overturn rates differ by reviewer specialty?")
    assert ans.answered and ans.plan and ans.plan["group_by"] == "specialty"
    counts: dict[str, list[int]] = {}
    for lt, it in all_items(assistant):
        c = counts.setdefault(", ".join(lt.reviewer.specialties), [0, 0])
        c[0] += 1
        c[1] += it.decision == "overturned"
    for spec, (n, over) in counts.items():
        line = next(ln for ln in ans.answer.splitlines() if ln.startswith(f"- {spec}:"))
        assert f"{n} decisions" in line and f"{over} overturned" in line


def test_letter_fact_is_cited_from_the_cover_block(assistant: Assistant) -> None:
    ans = ask(assistant, "When was case CM17-0020384 decided?")
    letter = assistant.texts.letter("CM17-0020384")
    assert letter is not None and letter.decision_date
    assert ans.answered and letter.decision_date in ans.answer
    [c] = ans.citations
    assert c.start == letter.spans["decision_date"].start


def test_letters_are_counted_as_letters(assistant: Assistant) -> None:
    ans = ask(assistant, "How many letters were reviewed by a family practice reviewer?")
    family = {
        lt.doc_id for lt, _ in all_items(assistant) if "Family Practice" in lt.reviewer.specialties
    }
    assert ans.answered and ans.answer.splitlines()[0].startswith(f"{len(family)} letters")
    assert {c.doc_id for c in ans.citations} <= family


def test_partial_certifications_are_listed_with_what_was_authorized(assistant: Assistant) -> None:
    ans = ask(assistant, "Which requests were partially certified by UR before IMR?")
    partial = {(lt.doc_id, it.treatment) for lt, it in all_items(assistant) if it.partial}
    assert ans.answered and cited_items(assistant, ans) == partial
    assert ans.answer.count("already authorized") == len(partial)


def test_topic_is_answered_from_passages(assistant: Assistant) -> None:
    ans = ask(assistant, "What do reviewers say about the CURES database?")
    assert ans.answered and ans.citations
    assert all("cures" in c.quote.lower() for c in ans.citations)


def test_topic_without_a_passage_is_refused_and_named(assistant: Assistant) -> None:
    ans = ask(assistant, "Which letters discuss hyperbaric oxygen chambers?")
    assert not ans.answered
    assert any("hyperbaric" in n for n in ans.notices)


def test_unused_words_stay_in_the_topic() -> None:
    plan = read_question("List the requests denied because guideline criteria were not met")
    assert plan.filters.decision == "upheld" and "criteria" in plan.topic
    assert read_question("Which letters involve a knee injury?").letter_regions == ("knee",)
    assert read_question("decisions about MRI of the lumbar spine").regions == ("lumbar spine",)
    assert read_question("overturnd decisons for men").corrections == (
        ("overturnd", "overturned"),
        ("decisons", "decisions"),
    )


def test_chat_follow_ups_edit_the_plan(assistant: Assistant) -> None:
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    items = list(all_items(assistant))

    def of(name: str, decision: str | None = None) -> set[tuple[str, str]]:
        return {
            (lt.doc_id, it.treatment)
            for lt, it in items
            if it.canonical == name and (decision is None or it.decision == decision)
        }

    first = chat.ask("Why were MRI requests upheld?")
    assert first.answered and cited_items(assistant, first) <= of("MRI", "upheld")
    pt = chat.ask("what about physical therapy?")
    assert chat.plan is not None and chat.plan.kind == "why"
    assert chat.plan.filters.decision == "upheld"
    assert pt.answered and cited_items(assistant, pt) <= of("Physical therapy", "upheld")
    count = chat.ask("how many were there?")
    n, total = len(of("Physical therapy", "upheld")), len(of("Physical therapy"))
    assert count.answer.startswith(f"{n} of {total} ")
    why = chat.ask("why?")
    assert chat.plan.kind == "why" and why.answered
    assert cited_items(assistant, why) <= of("Physical therapy", "upheld")
    over = chat.ask("and the overturned ones?")
    assert chat.plan.filters.decision == "overturned"
    overturned = of("Physical therapy", "overturned")
    assert overturned and over.answered
    assert cited_items(assistant, over) == overturned
