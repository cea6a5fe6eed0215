"""What a case involves, read from its case summary over ten real letters: a
diagnosis, however the summary words it, is what the case involves; a device named
after a body part, or a treatment given, is not.
"""

from __future__ import annotations

import re

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.retrieve.plan import REGIONS
from tests.real_index import ask_verified, cases_of, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM17-0004547",  # knee scooter; a fracture boot among the treatments given
    "CM17-0019120",  # "being treated for ... fracture nondisplaced"; knee MRI
    "CM16-0234202",  # x-rays revealed a distal radius fracture
    "CM17-0015348",  # knee physical therapy
    "CM17-0015957",  # knee arthroscopy
    "CM16-0224814",  # cervical MRI, no fracture
    "CM17-0001749",  # partial hospitalization, no fracture
    "CM17-0012614",  # "low back pain post MVA"
    "CM17-0006912",  # "a motor vehicle accident"; fractures
    "CM17-0008577",  # "Open MRI of the lumbosacral spine"
    "CM17-0014449",  # shoulder arthroscopy (SLAP repair): another arthroscopy case
    "CM16-0246487",  # shoulder arthroscopy with Bankart repair
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-case-index", LETTERS)


ask = ask_verified


cases = cases_of


@pytest.mark.parametrize(
    "question", ["Which letters involve a fracture?", "which cases involve a fractur?"]
)
def test_a_diagnosis_is_read_however_the_summary_words_it(
    assistant: Assistant, question: str
) -> None:
    ans = ask(assistant, question)
    assert ans.answered, ans.notices
    got = cases(assistant, ans)
    # "revealed ... fracture"; "He is being treated for ... fracture nondisplaced"
    assert {"CM16-0234202", "CM17-0019120"} <= got
    # a fracture boot in the list of treatments given is no diagnosis of a fracture
    assert "CM17-0004547" not in got
    assert all(re.search(r"fractur", c.quote, re.I) for c in ans.citations)


def test_a_device_named_after_a_body_part_is_not_that_region(assistant: Assistant) -> None:
    ans = ask(assistant, "What decisions involved the knee?")
    assert ans.answered, ans.notices
    named = {c.treatment for c in ans.citations if c.treatment}
    assert "1 knee scooter" not in named
    knee_items = {
        it.treatment
        for d in assistant.index.catalog.doc_ids()
        if (lt := assistant.texts.letter(d))
        for it in lt.items
        if re.search(r"\bknee\b", it.treatment, re.I) and "scooter" not in it.treatment
    }
    assert len(knee_items) >= 3 and knee_items <= named


@pytest.mark.parametrize(
    ("treatment", "knee"),
    [
        ("1 knee scooter", False),
        ("Knee walker rental", False),
        ("MRI of the right knee without contrast", True),
        ("Arthroscopy of the left knee", True),
        ("right knee medial meniscus tear", True),
    ],
)
def test_the_knee_region(treatment: str, knee: bool) -> None:
    assert bool(REGIONS["knee"].search(treatment)) is knee


@pytest.mark.parametrize(
    ("question", "also"),
    [
        ("Which letters involve a motor vehicle accident?", "'MVA'"),
        ("any MVA cases?", "'motor vehicle accident'"),
        ("which cases came from motor vehicle accidents", "'MVA'"),
    ],
)
def test_an_abbreviation_and_what_it_stands_for_are_one_topic(
    assistant: Assistant, question: str, also: str
) -> None:
    ans = ask(assistant, question)
    assert ans.answered, ans.notices
    # one letter writes it out, the other only as "post MVA"
    assert {"CM17-0006912", "CM17-0012614"} <= cases(assistant, ans)
    assert f"also as {also}" in ans.answer
    assert all(
        re.search(r"\bMVA\b|motor vehicle accident", c.quote, re.I)
        for c in ans.citations
        if not c.treatment
    )


def test_other_names() -> None:
    from imr_assist.answer.planned import _other_names

    assert _other_names(("activities", "daily", "living")) == (
        ("activities daily living", "adl", "adls"),
        ["ADL", "ADLs"],
    )
    assert _other_names(("uds",)) == (("uds", "urine drug screen"), ["urine drug screen"])
    assert _other_names(("motor", "vehicle")) is None  # word for word, not a part


def _mri_items(a: Assistant, decision: str | None = None) -> set[str]:
    return {
        it.treatment
        for d in a.index.catalog.doc_ids()
        if (lt := a.texts.letter(d))
        for it in lt.items
        if it.canonical == "MRI" and decision in (None, it.decision)
    }


def test_a_kind_of_a_treatment_picks_the_requests_so_named(assistant: Assistant) -> None:
    """'open MRI' is an MRI to the lexicon; the word it adds picks the requests."""
    assert len(_mri_items(assistant, "upheld")) >= 3
    ans = ask(assistant, "Which open MRI requests were upheld?")
    assert ans.answered and "Read 'open MRI' as the requests so named." in ans.answer
    assert {c.treatment for c in ans.citations if c.treatment} == {
        "Open MRI of the lumbosacral spine"
    }


def test_a_kind_no_request_is_named_is_said_not_dropped(assistant: Assistant) -> None:
    ans = ask(assistant, "how many upright MRI requests?")
    assert "No request is named 'upright MRI'" in ans.answer
    assert any("upright MRI" in n for n in ans.notices)


def test_a_generic_word_beside_a_name_picks_nothing(assistant: Assistant) -> None:
    ans = ask(assistant, "Which MRI scan requests were upheld?")
    assert ans.answered and "so named" not in ans.answer
    assert {c.treatment for c in ans.citations if c.treatment} == _mri_items(assistant, "upheld")


def test_a_chat_about_the_one_that_went_the_other_way(assistant: Assistant) -> None:
    """'the knee one ... different from the ones that got denied': the overturned knee
    MRI, not denied ones; 'who reviewed that one': its reviewer's credentials."""
    from imr_assist.answer.chat import ChatSession
    from imr_assist.retrieve.query import decision_asked

    assert decision_asked("what made the knee one different from the ones that got denied?") is None
    chat = ChatSession(assistant.settings, assistant=assistant)
    first = chat.ask("Were any MRIs overturned?")
    assert first.answered
    why = chat.ask("what made the knee one different from the ones that got denied?")
    assert why.answered, why.notices
    cited = {(c.doc_id, c.treatment) for c in why.citations if c.treatment}
    knee = {
        (d, it.treatment)
        for d in assistant.index.catalog.doc_ids()
        if (lt := assistant.texts.letter(d))
        for it in lt.items
        if it.canonical == "MRI" and "knee" in it.treatment.lower()
    }
    assert knee and cited == knee
    who = chat.ask("who reviewed that one and where are they licensed?")
    assert who.answered, who.notices
    (doc,) = {d for d, _ in knee}
    letter = assistant.texts.letter(doc)
    assert letter is not None
    assert all(s in who.answer for s in letter.reviewer.specialties + letter.reviewer.licensure)


def test_the_case_a_chat_showed_is_that_letter(assistant: Assistant) -> None:
    """ "the arthroscopy case" after answers that showed one knee arthroscopy letter:
    that letter's facts, not those of every letter that decided an arthroscopy; asked
    afresh, every such letter answers."""
    from imr_assist.answer.chat import ChatSession

    question = "how old was the worker in the arthroscopy case, and when was he injured?"
    chat = ChatSession(assistant.settings, assistant=assistant)
    assert chat.ask("Which injured workers had a positive McMurray's test?").answered
    assert chat.ask(
        "what did IMR decide on the knee MRI and knee surgery requests in those cases?"
    ).answered
    fact = chat.ask(question)
    assert fact.answered, fact.notices
    assert cases(assistant, fact) == {"CM17-0015957"}
    knee = next(
        lt
        for d in assistant.index.catalog.doc_ids()
        if (lt := assistant.texts.letter(d)) and lt.case_number == "CM17-0015957"
    )
    assert knee.date_of_injury and knee.date_of_injury in fact.answer
    assert f"age {knee.patient.age}" in fact.answer
    afresh = ask(assistant, question)
    assert {"CM17-0015957", "CM17-0014449"} <= cases(assistant, afresh)


@pytest.mark.parametrize(
    ("question", "case"),
    [
        (
            "What kind of doctor reviewed the Bankart repair shoulder surgery case, and "
            "which states is he/she licensed in?",
            "CM16-0246487",
        ),
        # the acronym as the letter spells it: "superior labral anterior posterior repair"
        ("who reviewed the SLAP repair shoulder surgery case?", "CM17-0014449"),
    ],
)
def test_one_kind_of_a_treatment_named_by_its_eponym(
    assistant: Assistant, question: str, case: str
) -> None:
    """Bankart and SLAP repairs are both labral repairs, and both letters file them under
    Arthroscopy: the name asked picks the one case, not every shoulder surgery."""
    ans = ask(assistant, question)
    assert ans.answered, ans.notices
    assert cases(assistant, ans) == {case}
    assert "as the requests so named" in ans.answer


def test_besides_a_request_itself_the_add_ons_are_its_letters_other_requests(
    assistant: Assistant,
) -> None:
    """Gold (blind b038): the 14 requests of the SLAP repair letter other than the
    arthroscopy, not every sling, lab or PT request, nor the other arthroscopy letters;
    the list in parentheses glosses the add-ons, it does not select."""
    ans = ask(
        assistant,
        "Besides the SLAP arthroscopy itself, why were all the add-ons (sling, Vascutherm, "
        "labs, EKG, assistant surgeon, post-op PT) denied too?",
    )
    assert ans.answered, ans.notices
    assert cases(assistant, ans) == {"CM17-0014449"}
    (slap,) = [
        lt
        for d in assistant.index.catalog.doc_ids()
        if (lt := assistant.texts.letter(d)) and lt.case_number == "CM17-0014449"
    ]
    others = [it for it in slap.items if "arthroscopy" not in it.treatment.lower()]
    assert others and all(it.decision == "upheld" for it in others)
    m = re.search(r"^(\d+) upheld ", ans.answer, re.M)
    assert m and int(m.group(1)) == len(others), ans.answer[:300]
    assert not any("arthroscopy" in (c.treatment or "").lower() for c in ans.citations)


def test_a_requests_region_is_applied_in_sql_and_ranks_within(assistant: Assistant) -> None:
    """ "MRI of the cervical spine": the search's items are the cervical MRIs alone (the
    other MRIs are never built as rows), and the passages are theirs."""
    q = "Why are requests for MRI of the cervical spine upheld?"
    ans, result = assistant.ask(q)
    assert ans.answered, ans.notices
    cervical = REGIONS["cervical spine"]
    mris = [
        (d, it)
        for d in assistant.index.catalog.doc_ids()
        if (lt := assistant.texts.letter(d))
        for it in lt.items
        if it.canonical == "MRI" and it.decision == "upheld"
    ]
    want = {(d, it.index) for d, it in mris if cervical.search(it.treatment)}
    assert want and len(want) < len(mris)  # some upheld MRIs are of other regions
    assert {(r.doc_id, r.item_index) for r in result.items} == want
    assert {(h.chunk.doc_id, h.chunk.item_index) for h in result.hits} <= want


def _row(doc: str, n: int, treatment: str, canonical: str) -> object:
    from imr_assist.index.catalog import ItemRow

    return ItemRow((doc, n, treatment, canonical, None, None, "upheld", "[]", "[]", "[]"))


@pytest.mark.parametrize(
    ("mention", "canonical", "names", "picked"),
    [
        ("open MRI", "MRI", ["Open MRI of the lumbosacral spine", "MRI of the knee"], 1),
        ("upright MRI", "MRI", ["Open MRI of the lumbosacral spine", "MRI of the knee"], 0),
        ("MRI scan", "MRI", ["MRI scan of the knee", "MRI of the knee"], None),
        ("magnetic resonance imaging", "MRI", ["Magnetic resonance imaging (MRI)", "MRI"], None),
        # a form the names leave unsaid is no kind of its own; one they say picks
        ("Butrans patch", "Butrans", ["Butrans 20mcg/hr transdermal film #4", "Butrans 5"], None),
        ("lidocaine cream", "Lidocaine", ["Lidocaine 5% cream", "Lidocaine ointment 5%"], 1),
    ],
)
def test_what_a_name_adds_to_the_lexicons(
    mention: str, canonical: str, names: list[str], picked: int | None
) -> None:
    from imr_assist.answer.planned import PlanRunner
    from imr_assist.retrieve.query import QueryFilters

    rows = [_row("d", n, t, canonical) for n, t in enumerate(names)]
    f = QueryFilters(canonicals=[canonical], mentions=[mention])
    got = PlanRunner._qualified_name(f, rows)  # type: ignore[arg-type]
    assert (None if got is None else len(got[1])) == picked


@pytest.mark.parametrize(
    ("mention", "names", "picked"),
    [
        ("PT", ["PT 2x6 for the lumbar spine", "Aquatic therapy 8 sessions"], None),  # its letters
        ("Bankart repair", ["Arthroscopy with Bankart repair", "SLAP repair, right"], 1),
        (
            "SLAP repair",
            ["Arthroscopy with Bankart repair", "Superior labral anterior posterior repair"],
            1,
        ),
    ],
)
def test_a_kind_is_named_by_an_eponym_not_by_the_names_own_letters(
    mention: str, names: list[str], picked: int | None
) -> None:
    """'PT' spells Physical therapy itself, so it picks no kind of it; 'Bankart' and
    'SLAP' (also spelled out) pick the repairs so named."""
    from imr_assist.answer.planned import PlanRunner
    from imr_assist.parse.lexicon import get_lexicon
    from imr_assist.retrieve.query import QueryFilters

    entry = get_lexicon().find(mention)
    assert entry is not None
    canonical = entry.entry.canonical
    rows = [_row("d", n, t, canonical) for n, t in enumerate(names)]
    f = QueryFilters(canonicals=[canonical, "Surgery"], mentions=[mention, "surgery"])
    got = PlanRunner._kind_named(f, rows)  # type: ignore[arg-type]
    assert (None if got is None else len(got[1])) == picked


@pytest.mark.parametrize(
    ("mention", "canonical", "some"),
    [
        ("magnetic resonance imaging", "MRI", False),  # MRI spelled out: every MRI
        ("magnetic resonance angiography", "MRI", True),  # an MRA is some of them
        ("open MRI", "MRI", True),
        ("transcutaneous electrical nerve stimulation", "TENS unit", False),
    ],
)
def test_a_name_spelled_out_is_counted_in_sql(mention: str, canonical: str, some: bool) -> None:
    """A treatment named by its letters spelled out selects what its lexicon name
    selects, so SQL counts it (at 100,000 letters a row per MRI took a quarter second);
    a word the name lacks may pick some of its requests, so those are read."""
    from imr_assist.answer.planned import PlanRunner
    from imr_assist.retrieve.query import QueryFilters

    f = QueryFilters(canonicals=[canonical], mentions=[mention])
    assert PlanRunner._may_name_some(f) is some


def test_a_letter_the_index_lacks_is_refused_with_no_other_letters_passages(
    assistant: Assistant,
) -> None:
    """A case number no indexed letter has: said so, and no passage of another letter
    shown as evidence (nor any ranked: the vector store is not opened for it)."""
    ans, result = assistant.ask("Why was the right shoulder MRI overturned in CM17-0999999?")
    assert not ans.answered and ans.evidence == []
    assert any("no indexed letter matches" in n for n in ans.notices), ans.notices
    assert not getattr(result.hits, "ranked", False)


def _holding(a: Assistant, word: str) -> set[str]:
    out = set()
    for d in a.index.catalog.doc_ids():
        view = a.texts.view(d)
        lt = a.texts.letter(d)
        assert view is not None and lt is not None
        if re.search(rf"\b{word}", view.flat, re.I):
            out.add(lt.case_number or d)
    return out


def test_a_named_test_is_what_the_topic_is_about(assistant: Assistant) -> None:
    """ "a positive McMurray's test": the possessive is the letters' word, and the name
    must be in every passage: a positive Lachman or straight-leg-raise test is not it."""
    ans = ask(assistant, "Which injured workers had a positive McMurray's test?")
    assert ans.answered, ans.notices
    holding = _holding(assistant, "mcmurray")
    assert len(holding) >= 2 and cases(assistant, ans) == holding
    said = [c.quote for c in ans.citations if not re.search(r"(?:Upheld|Overturned)$", c.quote)]
    assert said and all("McMurray" in q for q in said)


def test_a_name_no_letter_holds_is_not_answered_with_the_rest(assistant: Assistant) -> None:
    """'a positive Hoffmann's sign': no letter names it; 'positive sign' alone would be
    a broader question, so nothing is shown, and the answer says which word it could not use."""
    assert not _holding(assistant, "hoffmann")
    ans = ask(assistant, "Which workers had a positive Hoffmann's sign?")
    assert not ans.answered
    assert any("hoffmann" in n for n in ans.notices), ans.notices


def test_what_a_letter_says_the_case_lacks_is_not_what_it_involves(assistant: Assistant) -> None:
    """ "mild swelling without effusion" is no effusion: a sentence that only mentions the
    topic negated is not quoted for a case that involves it; "swelling with effusion" is."""
    ans = ask(assistant, "Which workers had a knee effusion?")
    assert ans.answered, ans.notices
    quoted = [c.quote for c in ans.citations if "effusion" in c.quote.lower()]
    only_negated = re.compile(
        r"^(?:(?!effusion).)*\b(?:without|no)\s+(?:\w+\s+){0,1}effusion", re.I
    )
    assert quoted and not any(
        only_negated.search(q) and len(re.findall("effusion", q, re.I)) == 1 for q in quoted
    )


def test_an_eponym_no_request_of_its_own_is_searched_as_that_kind(assistant: Assistant) -> None:
    """ "the Bankart repair case", with no request filed as a labral repair: the name is
    searched as asked, not as every labral repair ("superior labral anterior posterior
    repair" is a SLAP repair, another case)."""
    ans = ask(assistant, "What was the reviewer's specialty on the Bankart repair case?")
    assert ans.answered, ans.notices
    assert cases(assistant, ans) == {"CM16-0246487"}


@pytest.mark.parametrize(
    ("shown", "question", "case"),
    [
        ("What was decided in CM17-0014449?", "why was the arthroscopy denied?", "CM17-0014449"),
        (
            "What was decided in CM16-0246487?",
            "why was the percocet denied if the surgery was approved",
            "CM16-0246487",
        ),
    ],
)
def test_the_request_a_chat_showed_is_that_letters(
    assistant: Assistant, shown: str, question: str, case: str
) -> None:
    """ "why was the arthroscopy denied?" after one letter's decisions: that letter's
    arthroscopy; the clause of what the asker knows ("if the surgery was approved")
    names no request of its own."""
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    assert chat.ask(shown).answered
    ans = chat.ask(question)
    assert ans.answered, ans.notices
    assert cases(assistant, ans) == {case}
    for c in ans.citations:
        assert c.treatment and c.decision == "upheld", c
    afresh = ask(assistant, "why was the arthroscopy denied?")
    assert len(cases(assistant, afresh)) > 1
