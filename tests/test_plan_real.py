"""Questions nobody tuned the reader on, over an index of ten real letters.

Each test states what the answer may cite (computed from the parsed letters, not
written down) and checks that it cites nothing else: a constraint is applied, said,
or the question is refused with a notice, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.constants import CANNOT_ANSWER, UPHELD
from imr_assist.models import Answer
from imr_assist.retrieve.plan import read_question
from imr_assist.text import clean
from tests.real_index import ask_verified, index_real_letters
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
    return index_real_letters(tmp_path_factory, "real-index", LETTERS)


ask = ask_verified


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
        assert f"{n} decision{'s' * (n != 1)}" in line and f"{over} overturned" in line


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


def letters(a: Assistant):
    for doc_id in a.index.catalog.doc_ids():
        letter = a.texts.letter(doc_id)
        assert letter is not None
        yield letter


def cited_letters(ans: Answer) -> set[str]:
    return {c.doc_id for c in ans.citations}


def test_share_of_letters_is_out_of_letters(assistant: Assistant) -> None:
    every = [lt for lt in letters(assistant) if all(it.decision == "upheld" for it in lt.items)]
    total = len(list(letters(assistant)))
    ans = ask(assistant, "What percent of letters had every item upheld?")
    n = len(every)
    assert ans.answered and ans.answer.startswith(
        f"{n} of {total} letters ({100 * n / total:.0f}%)"
    )
    assert cited_letters(ans) == {lt.doc_id for lt in every}


def test_decision_date_range_selects_letters(assistant: Assistant) -> None:
    inside = {
        lt.doc_id
        for lt in letters(assistant)
        if lt.decision_date and "2017-02-01" <= lt.decision_date <= "2017-02-10"
    }
    assert inside  # the ten letters include some
    ans = ask(assistant, "Which letters were decided between February 1 and February 10, 2017?")
    assert ans.plan and ans.plan["decided_from"] == "2017-02-01"
    assert ans.answered and cited_letters(ans) == inside


def test_letters_by_number_of_items(assistant: Assistant) -> None:
    many = {lt.doc_id for lt in letters(assistant) if len(lt.items) > 1}
    ans = ask(assistant, "How many letters decided more than one item?")
    assert ans.answered and ans.answer.startswith(f"{len(many)} letters")
    assert cited_letters(ans) == many
    groups = ask(assistant, "How many letters decided 1 item, 2 items, 3 items and so on?")
    for n in {len(lt.items) for lt in letters(assistant)}:
        k = sum(1 for lt in letters(assistant) if len(lt.items) == n)
        assert f"- {n} item{'s' if n != 1 else ''}: {k} letters" in groups.answer


def test_letter_facts_beyond_the_cover_block(assistant: Assistant) -> None:
    ans = ask(assistant, "What are the reviewer credentials in CM16-0232543?")
    lt = next(x for x in letters(assistant) if x.case_number == "CM16-0232543")
    assert ans.answered
    assert all(v in ans.answer for v in lt.reviewer.specialties + lt.reviewer.licensure)
    hurt = ask(assistant, "How did the worker in CM16-0232543 get hurt?")
    summary = next(x for x in letters(assistant) if x.case_number == "CM16-0232543").summary
    assert hurt.answered and "mechanism of injury" in hurt.answer and "fall" in hurt.answer
    assert hurt.citations and all(c.quote in (summary or "") for c in hurt.citations)
    typo = ask(assistant, "whn was CM16-0234202 decidded")
    assert typo.answered and "2017-01-06" in typo.answer
    assert {"asked": "whn", "read_as": "when"} in (typo.plan or {}).get("corrections", [])


def test_topic_in_the_requests_own_names(assistant: Assistant) -> None:
    named = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if "retrospective" in it.treatment.lower()
    }
    assert len(named) >= 3
    ans = ask(assistant, "Which requests were retrospective?")
    assert ans.answered and cited_items(assistant, ans) == named
    assert "as part of the request" in ans.answer


def test_topic_words_no_letter_holds_are_named(assistant: Assistant) -> None:
    ans = ask(assistant, "Which decisions mention the zebra protocol and the CURES database?")
    assert any("could not use 'zebra protocol'" in n for n in ans.notices)
    assert ans.answered
    with_cures = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if "cures" in (it.rationale or "").lower()
    }
    assert cited_items(assistant, ans) <= with_cures
    # half the topic unknown: nothing is matched on the rest alone
    none = ask(assistant, "Which decisions mention zebra protocols for llamas and the database?")
    assert not none.answered


def test_treatment_no_letter_decided_is_searched_by_its_name(assistant: Assistant) -> None:
    ans = ask(assistant, "Were there any psychiatric treatment requests?")
    assert ans.answered and ans.answer.startswith("No Psychiatric consultation request was decided")
    assert cited_letters(ans) and cited_letters(ans) <= {
        lt.doc_id for lt in letters(assistant) if "psychiatric" in (lt.text or "").lower()
    }
    assert all("psychiatric" in c.quote.lower() for c in ans.citations if not c.treatment)
    butrans = ask(assistant, "What did IMR decide about Butrans patches?")
    assert not butrans.answered  # no Butrans: "patches" alone is not the question


def test_chat_pronouns_and_bare_follow_ups(assistant: Assistant) -> None:
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    ortho = {
        lt.doc_id
        for lt in letters(assistant)
        if any("Orthopedic" in s for s in lt.reviewer.specialties)
    }
    first = chat.ask("Which letters were reviewed by an orthopedic surgeon?")
    assert first.answered and cited_letters(first) == ortho
    over = chat.ask("which of their decisions were overturned?")
    expected = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if lt.doc_id in ortho and it.decision == "overturned"
    }
    assert expected and over.answered and cited_items(assistant, over) == expected
    upheld = chat.ask("and how many did they uphold?")
    n = sum(1 for lt, it in all_items(assistant) if lt.doc_id in ortho and it.decision == "upheld")
    assert upheld.answer.startswith(f"{n} of ")
    chat.reset()
    chat.ask("What was decided in CM16-0246487?")
    spec = chat.ask("what specialty was the reviewer?")
    assert spec.answered and "Orthopedic Surgery" in spec.answer
    assert ask(assistant, "what specialty was the reviewer?").answered is False  # no letter named


def test_reader_handles_outside_wordings() -> None:
    """Wordings from question sets written by others, read into the plan they mean."""
    p = read_question("Do reviewers say anything about weaning or tapering opioids?")
    assert ("weaning", "tapering") in p.topic_or and p.filters.classes == ["opioid"]
    p = read_question("Which imaging requests were denied with the reviewer noting no red flags?")
    assert p.topic_negated and p.topic[:2] == ("red", "flags")
    p = read_question("Which requests were retrospective (already provided / dates of service)?")
    assert p.topic == ("retrospective",) and "provided" in p.terms
    p = read_question("list the prilosec-type stomache protection meds that were requested")
    assert "proton pump inhibitor" in p.filters.classes and "omeprazole" in p.filters.generics
    assert ("stomache", "stomach") in p.corrections
    p = read_question(
        "List the medication decisions made by reviewers with a pain management certification."
    )
    assert p.filters.specialty and p.filters.canonicals == ["medication"] and p.fact is None
    p = read_question("CM17-0007300: patient sex and age, and where is the reviewer licensed?")
    assert set((p.fact or "").split("+")) == {"age", "sex", "licensure"}
    p = read_question("How many letters had every single item upheld?")
    assert p.all_decided == "upheld" and p.min_items is None and p.unit == "letters"
    p = read_question("For workers 50 and over, what proportion of decisions upheld the denial?")
    assert p.age_min == 50 and p.age_max is None and p.kind == "share"
    p = read_question("which drugs did physiatrists (PM&R) review, and did any get approved?")
    assert p.filters.decision is None and p.filters.specialty
    p = read_question("overturned decisions where the reviewer was Family Practice")
    assert p.filters.specialty and p.filters.decision == "overturned"
    assert read_question("which chiropractic requests were reviewed").filters.specialty is None
    assert (
        read_question("Break down upheld vs overturned decisions by decision month").group_by
        == "month"
    )
    p = read_question("Letters where the worker has depression, anxiety or stress symptoms")
    assert not p.corrections and ("depression", "anxiety", "stress") in p.topic_or
    emg = read_question("all EMG/NCV requests").filters.names_without_generic
    assert "EMG/NCV" in emg and "EMG" in emg


def test_negated_topic_needs_a_sentence_saying_so(assistant: Assistant) -> None:
    plain = ask(assistant, "Which MRI requests were denied with the reviewer mentioning red flags?")
    negated = ask(
        assistant, "Which MRI requests were denied with the reviewer noting no red flags?"
    )
    assert negated.plan and negated.plan.get("topic_negated")
    assert negated.answered and cited_items(assistant, negated) <= cited_items(assistant, plain)
    said_absent = re.compile(r"\b(?:no|not|without|lack\w*|absen\w*)\b|n't", re.I)
    quotes = [c.quote for c in negated.citations if "red flag" in c.quote.lower()]
    assert quotes and all(said_absent.search(q) for q in quotes)
    # the plain question also quotes the criteria that only name red flags; the negated one not
    criteria = [
        c.quote
        for c in plain.citations
        if "red flag" in c.quote.lower() and not said_absent.search(c.quote)
    ]
    assert criteria and not set(criteria) & set(quotes)


def test_topic_word_groups_are_read_from_their_examples() -> None:
    from imr_assist.parse.rules import load_toml
    from imr_assist.retrieve.plan import topic_alternates

    groups = load_toml("topic_words.toml")["group"]
    assert groups
    for g in groups:
        plan = read_question(g["example"])
        said = [w for w in plan.topic if w in g["words"]]
        assert said, g["example"]  # the example's topic holds a word of the group
        for w in said:
            assert set(topic_alternates(w)) >= set(g["words"]) - {w}
            assert any(w in alt and set(alt) >= set(g["words"]) for alt in plan.topic_or)


def test_fact_questions_beside_decisions_and_dates(assistant: Assistant) -> None:
    lt = next(x for x in letters(assistant) if x.case_number == "CM16-0246487")
    ans = ask(assistant, "age, sex and DOI of the worker in CM16-0246487?")
    assert ans.answered and f"age {lt.patient.age}" in ans.answer
    assert f"sex {lt.patient.sex}" in ans.answer and str(lt.date_of_injury) in ans.answer
    # "UR denial" is a date here, not a restriction to upheld decisions
    ph = next(x for x in letters(assistant) if x.case_number == "CM17-0001749")
    dates = ask(
        assistant,
        "For CM17-0001749, when was the UR denial and when was the IMR application received?",
    )
    assert dates.answered and str(ph.ur_denial_date) in dates.answer
    assert str(ph.application_received) in dates.answer
    both = ask(assistant, "case CM17-0020384: how old is the patient and what got decided")
    emg = next(x for x in letters(assistant) if x.case_number == "CM17-0020384")
    assert both.answered and f"age {emg.patient.age}" in both.answer
    assert {(c.doc_id, c.treatment) for c in both.citations if c.treatment} == {
        (emg.doc_id, it.treatment) for it in emg.items
    }
    p = read_question("Overturned items where the UR denial was issued in Jan 2017")
    assert p.ur_denied_in == "2017-01" and p.decided_in is None
    assert (
        read_question("In how many letters were there two or more disputed items?").min_items == 2
    )


@pytest.mark.parametrize(
    "question",
    [
        "Which decisions were not physical therapy?",
        "Apart from physical therapy, what was decided?",
        "List the requests other than PT.",
    ],
)
def test_a_negated_treatment_is_left_out(assistant: Assistant, question: str) -> None:
    """'not X', 'apart from X', 'other than X': every decision but X's, and the answer
    says what it left out (a treatment filter read the wrong way round lists only X)."""
    ans = ask(assistant, question)
    everything = {(lt.doc_id, it.treatment) for lt, it in all_items(assistant)}
    pt = {(d, t) for d, t in everything if "physical therapy" in t.lower()}
    assert pt and ans.answered and ans.plan and "excluded" in ans.plan
    cited = cited_items(assistant, ans)
    assert not cited & pt
    assert cited == everything - pt
    assert "not physical therapy" in ans.answer.splitlines()[0].lower() or "(not PT" in ans.answer


def test_decision_date_bounds_by_month_leave_the_month_out(assistant: Assistant) -> None:
    """'before February 2017' is up to 31 January; 'since February 2017' from 1 February."""
    dates = {lt.doc_id: lt.decision_date for lt, _ in all_items(assistant)}
    assert all(dates.values())
    before = ask(assistant, "Which requests were decided before February 2017?")
    since = ask(assistant, "Which requests were decided since Feb 2017?")
    assert before.plan and before.plan["decided_to"] == "2017-01-31"
    assert since.plan and since.plan["decided_from"] == "2017-02-01"
    early = {d for d, day in dates.items() if day and day < "2017-02-01"}
    late = {d for d, day in dates.items() if day and day >= "2017-02-01"}
    assert early and late
    assert {c.doc_id for c in before.citations if c.treatment} == early
    assert {c.doc_id for c in since.citations if c.treatment} == late


def test_a_region_after_the_request_words_is_the_requests_own(assistant: Assistant) -> None:
    """'PT requests that covered the knee': the treatment names the knee (a letter that
    mentions a knee elsewhere is not enough)."""
    ans = ask(assistant, "Show me the physical therapy requests that covered the knee.")
    knee_pt = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if "physical therapy" in it.treatment.lower() and "knee" in it.treatment.lower()
    }
    assert knee_pt and ans.plan and ans.plan["regions"] == ["knee"]
    assert cited_items(assistant, ans) == knee_pt


def test_a_misspelt_bound_word_is_read_and_said(assistant: Assistant) -> None:
    ans = ask(assistant, "for injured workers ovr 55, which requests were upheld?")
    assert ans.plan and ans.plan["corrections"] == [{"asked": "ovr", "read_as": "over"}]
    want = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if (lt.patient.age or 0) > 55 and it.decision == "upheld"
    }
    everyone = {(lt.doc_id, it.treatment) for lt, it in all_items(assistant)}
    assert want and want < everyone
    assert cited_items(assistant, ans) == want


@pytest.mark.parametrize(
    ("question", "pick"),
    [("Who is the youngest injured worker in these letters?", min), ("oldest patient?", max)],
)
def test_the_youngest_or_oldest_worker_is_found_and_cited(
    assistant: Assistant, question: str, pick
) -> None:
    ages = {lt.doc_id: lt.patient.age for lt, _ in all_items(assistant) if lt.patient.age}
    best = pick(ages.values())
    ans = ask(assistant, question)
    assert ans.answered and f"is {best} years old" in ans.answer
    assert {c.doc_id for c in ans.citations} == {d for d, a in ages.items() if a == best}
    for c in ans.citations:
        assert str(best) in c.quote


def test_licensed_only_in_a_state_excludes_reviewers_licensed_elsewhere(
    assistant: Assistant,
) -> None:
    letters = {lt.doc_id: lt for lt, _ in all_items(assistant)}
    only = {d for d, lt in letters.items() if lt.reviewer.licensure == ["California"]}
    anywhere = {d for d, lt in letters.items() if "California" in lt.reviewer.licensure}
    assert only and only < anywhere  # the letters tell the two apart
    ans = ask(assistant, "Which letters were decided by a reviewer licensed only in California?")
    assert ans.plan and ans.plan.get("licensed_only") is True
    assert {c.doc_id for c in ans.citations} == only
    assert "licensed only in California" in ans.answer.splitlines()[0]


def test_a_class_word_before_medication_keeps_its_class(assistant: Assistant) -> None:
    """'topical medication requests' are the topicals, not every drug."""
    ans = ask(assistant, "List every topical medication request and how it came out.")
    classes = {"topical analgesic", "compounded topical"}
    topicals = {
        (lt.doc_id, it.treatment) for lt, it in all_items(assistant) if it.drug_class in classes
    }
    assert topicals and cited_items(assistant, ans) == topicals


def test_a_misspelt_topic_word_is_read_as_the_letters_spell_it(assistant: Assistant) -> None:
    """'tapring' is one letter from 'taping' (a treatment) and from 'tapering' (what the
    opioid rationales say): the letters' word is used, and the answer says so."""
    ans = ask(assistant, "anything in these about tapring off opiods?")
    assert ans.answered, ans.notices
    assert "Read 'tapring' as 'tapering'." in ans.answer
    assert all("taper" in c.quote.lower() for c in ans.citations)


def test_a_follow_up_naming_a_specialty_replaces_the_last(assistant: Assistant) -> None:
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    letters = {lt.doc_id: lt for lt, _ in all_items(assistant)}
    first = chat.ask("How many letters were decided by Family Practice reviewers?")
    then = chat.ask("what about Internal Medicine?")
    fp = {d for d, lt in letters.items() if "Family Practice" in lt.reviewer.specialties}
    im = {d for d, lt in letters.items() if "Internal Medicine" in lt.reviewer.specialties}
    assert fp and im and fp != im
    assert {c.doc_id for c in first.citations} == fp
    assert then.plan and then.plan["filters"]["specialty"] == "Internal Medicine"
    assert {c.doc_id for c in then.citations} == im


def test_none_going_one_way_is_said_from_the_decisions_that_went_the_other(
    assistant: Assistant,
) -> None:
    """'Were any MRIs overturned?' with every MRI upheld: 'None: 0 of N', each MRI cited
    with its decision, not the refusal a list with no rows would give."""
    mris = {
        (lt.doc_id, it.treatment, it.decision)
        for lt, it in all_items(assistant)
        if it.canonical == "MRI"
    }
    assert mris and all(d == "upheld" for *_, d in mris)
    ans = ask(assistant, "Were any MRI requests overturned?")
    assert ans.answered
    assert ans.answer.startswith(f"None: 0 of {len(mris)} MRI decisions were overturned")
    assert cited_items(assistant, ans) == {(d, t) for d, t, _ in mris}


@pytest.mark.parametrize(
    "question",
    [
        "What do reviewers say about urine drug screens?",
        "Which letters mention the CURES database?",
        "What do reviewers say about functional improvement?",
        "Which letters discuss a home exercise program?",
        "anything about tapring?",
        # stems of eight letters or more are looked for as their two halves
        "anything about tenderness?",
        "What do reviewers say about medication agreements?",
    ],
)
def test_sql_narrows_a_topic_to_its_letters_without_changing_its_answer(
    assistant: Assistant, question: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over many letters a topic is looked for only in the letters whose chunk texts
    could hold its words (one SQL scan); the answer is the one reading every letter
    gives."""
    from imr_assist.answer.planned import PlanRunner

    scanned = ask(assistant, question)
    calls: list[int] = []
    narrow = PlanRunner._holding_a_topic_word

    def spy(self, stems, rows):  # type: ignore[no-untyped-def]
        out = narrow(self, stems, rows)
        calls.append(len({r.doc_id for r in rows}) - len({r.doc_id for r in out}))
        return out

    monkeypatch.setattr(PlanRunner, "TOPIC_SCAN", 0)
    monkeypatch.setattr(PlanRunner, "_holding_a_topic_word", spy)
    narrowed = ask(assistant, question)
    assert calls and max(calls) > 0  # some letters were left out unread
    assert narrowed.answer == scanned.answer
    assert narrowed.citations == scanned.citations


def test_a_topic_that_names_requests_scans_no_letter_text(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'Which requests were retrospective?': some requests' names say it, so the names
    decide and no letter's chunk text is scanned for the word; the answer is the one
    every letter read gives."""
    from imr_assist.answer.planned import PlanRunner

    question = "Which requests were retrospective?"
    every = ask(assistant, question)
    calls: list[int] = []
    narrow = PlanRunner._holding_a_topic_word

    def spy(self, stems, rows):  # type: ignore[no-untyped-def]
        calls.append(1)
        return narrow(self, stems, rows)

    monkeypatch.setattr(PlanRunner, "TOPIC_SCAN", 0)
    monkeypatch.setattr(PlanRunner, "_holding_a_topic_word", spy)
    named = ask(assistant, question)
    assert calls == []
    assert named.answer == every.answer and named.citations == every.citations
    assert "as part of the request" in named.answer
    retro = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if "retrospective" in it.treatment.lower()
    }
    assert retro and cited_items(assistant, named) == retro


def test_after_none_went_one_way_a_follow_up_is_about_the_decisions_shown(
    assistant: Assistant,
) -> None:
    """'were any of them approved?' (none were) then 'the partial one': the follow-up is
    about the muscle relaxant decisions, not about approved ones (there are none)."""
    from imr_assist.answer.chat import ChatSession

    relaxants = [
        (lt.doc_id, it) for lt, it in all_items(assistant) if it.drug_class == "muscle relaxant"
    ]
    assert len(relaxants) >= 2 and all(it.decision == "upheld" for _, it in relaxants)
    partial = {(d, it.treatment) for d, it in relaxants if it.partial}
    assert len(partial) == 1
    chat = ChatSession(assistant.settings, assistant=assistant)
    chat.ask("How many muscle relaxant requests are in here?")
    none = chat.ask("were any of them approved?")
    assert none.answered and none.answer.startswith(f"0 of {len(relaxants)} ")
    why = chat.ask("what was the reason on the partial one?")
    assert why.answered and cited_items(assistant, why) == partial


def test_an_off_topic_question_is_refused(assistant: Assistant) -> None:
    """No sentence holds the words and none is close in meaning: the fixed refusal."""
    off = ask(assistant, "What do reviewers say about the weather in Paris?")
    assert not off.answered and off.answer == CANNOT_ANSWER


def test_a_topic_said_absent_is_matched_where_the_letter_says_it_is_missing(
    assistant: Assistant,
) -> None:
    """'doesn't state a quantity', 'missing quantity': the topic is the quantity, and a
    passage holds it only with a negation just before it ('failed to provide quantity');
    'missing' and 'state' are not topic words. A sentence that names a quantity with no
    negation before it is not one of them."""
    negated = re.compile(
        r"\b(?:no|not|failed|without|lack\w*)\b(?:\W+\w+){0,5}?\W+(?:quantity|amount)", re.I
    )
    for q in (
        "What happens when the request doesn't state a quantity?",
        "denials for missing quantity on the request",
    ):
        plan = read_question(q)
        assert plan.topic == ("quantity",) and plan.topic_negated, q
        ans = ask(assistant, q)
        assert ans.answered, ans.notices
        quotes = [c.quote for c in ans.citations if c.treatment]
        assert quotes and all(negated.search(x) for x in quotes), quotes
        assert ("CM16-0246487", "Post-op Percocet 5/325mg") in cited_items(assistant, ans)


def test_generic_head_nouns_rank_and_case_questions_read_the_case() -> None:
    """'stress symptoms', 'in the history': the head noun only ranks passages; 'cases
    with X in the history' and 'letters where the worker has X' are about the case."""
    plan = read_question("Letters where the worker has depression, anxiety or stress symptoms")
    assert plan.topic == ("depression", "anxiety", "stress") and "symptoms" in plan.terms
    assert plan.about_case
    plan = read_question("which cases have carpal tunnel syndrome in the history")
    assert plan.topic == ("carpal", "tunnel", "syndrome") and plan.about_case
    # a head noun alone is the topic
    assert read_question("What do reviewers say about symptoms?").topic == ("symptoms",)


def test_where_it_comes_up_in_the_decisions_reads_the_rationales(assistant: Assistant) -> None:
    """'where does it come up in the decisions?': the rationales that name it, not a case
    history that lists it among past treatments."""
    q = "UDS / urine drug testing - where does it come up in the decisions?"
    assert read_question(q).in_rationale
    ans = ask(assistant, q)
    assert ans.answered, ans.notices
    assert ans.citations and all(c.treatment for c in ans.citations)
    assert all(
        re.search(r"\bUDS\b|urine drug (?:test|screen)", c.quote, re.I) for c in ans.citations
    )


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        ("There is no documentation of tissue insult, nerve impairment, or other red flags.", True),
        ("Without evidence of cervical nerve root compromise or other red flag findings.", True),
        ("There is no pain relief, but red flags were found on examination.", False),
        ("The guideline supports imaging if a red flag is found.", False),
    ],
)
def test_a_negation_reaches_the_topic_word_within_its_clause(sentence: str, negated: bool) -> None:
    from imr_assist.answer.planned import _negated_near

    assert _negated_near(sentence.lower(), [["red"], ["flag"]]) is negated


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Which requests were faulted for not naming the body part to be treated?", None),
        ("Which requests did not specify the body part for treatment?", None),
        ("What body part was injured in CM17-0004547?", "body_region"),
        ("which body parts were treated?", "body_region"),
    ],
)
def test_a_body_part_a_request_failed_to_name_is_the_topic(question: str, fact: str | None) -> None:
    """'not naming the body part to be treated' is what the requests lacked, searched
    in the rationales; it does not ask which body part was injured."""
    plan = read_question(question)
    assert plan.fact == fact
    if fact is None:
        assert "body" in plan.topic and plan.topic_negated


@pytest.mark.parametrize(
    "question",
    [
        "Which requests were retrospective?",
        "which requests were for physical therapy?",
        "What do reviewers say about MRIs?",
    ],
)
def test_requests_a_topic_names_are_read_alone_with_the_same_answer(
    assistant: Assistant, question: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When some requests' own names hold a short topic, only their letters are read:
    the answer is the one reading every matching letter gives."""
    from imr_assist.answer.planned import PlanRunner

    read: list[int] = []
    match = PlanRunner._match_topic

    def spy(self, plan, stems, rows, **kw):  # type: ignore[no-untyped-def]
        read.append(len(rows))
        return match(self, plan, stems, rows, **kw)

    monkeypatch.setattr(PlanRunner, "_match_topic", spy)
    quick = ask(assistant, question)
    fewest = min(read, default=None)
    read.clear()
    monkeypatch.setattr(PlanRunner, "_named_rows", staticmethod(lambda *a: None))
    whole = ask(assistant, question)
    assert quick.answer == whole.answer and quick.citations == whole.citations
    if question.startswith("Which requests were retrospective"):
        assert quick.answered and fewest is not None and fewest < min(read)


def test_a_treatment_name_is_its_own_sentence_without_the_letters_view(
    assistant: Assistant,
) -> None:
    """A request's name, taken from the parsed record alone, is the sentence the
    letter's normalised view gives for its span: the same words, quote and span."""
    from imr_assist.answer.planned import PlanRunner, _name_sentence

    seen = 0
    for lt, it in all_items(assistant):
        index = lt.items.index(it)
        alone = _name_sentence(lt, index)
        nt = assistant.texts.view(lt.doc_id)
        span = it.spans["treatment"]
        assert nt is not None
        (ev, seq, words, low), *rest = PlanRunner._sentences(nt, lt, span.start, span.end)
        if alone is None:
            assert rest  # only a name that splits into sentences is left to the view
            continue
        seen += 1
        assert not rest
        assert alone == (replace(ev, item_index=index), seq, words, low)
    assert seen >= 20


@pytest.mark.parametrize(
    "question",
    [
        "Which decisions mention the CURES database?",
        "which decisions mention the cures database?",
        "What do reviewers say about CURES?",
        "cures?",
    ],
)
def test_an_acronym_is_matched_as_written(assistant: Assistant, question: str) -> None:
    """'CURES' is a name: never 'care' one letter off; 'database' only ranks."""
    ans = ask(assistant, question)
    assert ans.answered, ans.notices
    quoted = [c.quote for c in ans.citations if "CURES" in c.quote]
    assert quoted and all("CURES" in c.quote for c in ans.citations if c.treatment)


@pytest.mark.parametrize(
    ("question", "decision"),
    [
        (
            "What do the letters say about lidocaine only being approved as the Lidoderm patch?",
            None,
        ),
        ("Which FDA-approved drugs were requested?", None),
        ("was it approved as requested?", "overturned"),
        ("how mnay CT scans did IMR refuse to approve", "upheld"),
        ("which requests did reviewers fail to approve?", "upheld"),
        ("Which requests did IMR refuse?", "upheld"),
        ("Was Norco approved?", "overturned"),
    ],
)
def test_approved_as_a_guideline_says_it_is_no_decision(
    question: str, decision: str | None
) -> None:
    from imr_assist.retrieve.query import decision_asked

    assert decision_asked(question) == decision


def test_a_topic_in_the_decisions_of_one_side_keeps_that_side(assistant: Assistant) -> None:
    """'... in upheld decisions': a treatment no letter decided is searched as a topic
    within the upheld decisions, not in none of them."""
    ans = ask(assistant, "What do reviewers say about urine drug screens in upheld decisions?")
    assert ans.answered, ans.notices
    decided = {(lt.doc_id, it.treatment): it.decision for lt, it in all_items(assistant)}
    cited = [(c.doc_id, c.treatment) for c in ans.citations if c.treatment]
    assert cited and all(decided[x] == "upheld" for x in cited)


def test_a_treatment_no_letter_decided_beside_one_decided_is_part_of_the_topic(
    assistant: Assistant,
) -> None:
    """'urine drug screens or CURES checks for opioid requests': no urine drug screen was
    decided, opioids were; the screens are searched in the opioid rationales with CURES."""
    q = "What do reviewers say about urine drug screens or CURES checks for opioid requests?"
    ans = ask(assistant, q)
    assert ans.answered, ans.notices
    assert any("searched as part of the topic" in n for n in ans.notices)
    opioids = {
        (lt.doc_id, it.treatment) for lt, it in all_items(assistant) if it.drug_class == "opioid"
    }
    cited = cited_items(assistant, ans)
    assert cited <= opioids
    quotes = " ".join(c.quote for c in ans.citations)
    assert re.search(r"drug screen|screening", quotes, re.I) and "CURES" in quotes


@pytest.mark.parametrize(
    ("question", "left_out"),
    [
        ("Which items were overturned, other than physical therapy and acupuncture?", 2),
        ("apart from PT and acupuncture, what got overturned?", 2),
        ("which medication requests were neither muscle relaxants nor opioids?", 2),
        ("overturned requests except x-rays, MRIs or CT scans", 3),
        ("Which overturned requests were not PT, and which were acupuncture?", 1),
    ],
)
def test_every_treatment_of_a_list_left_out_is_left_out(question: str, left_out: int) -> None:
    plan = read_question(question)
    assert plan.excluded is not None and len(plan.excluded.mentions) == left_out


def test_an_answer_leaves_out_each_treatment_listed(assistant: Assistant) -> None:
    ans = ask(assistant, "Which items were overturned, other than physical therapy and MRIs?")
    assert ans.answered, ans.notices
    items = {(lt.doc_id, it.treatment): it for lt, it in all_items(assistant)}
    want = {
        k
        for k, it in items.items()
        if it.decision == "overturned" and it.canonical not in ("Physical therapy", "MRI")
    }
    assert want and cited_items(assistant, ans) == want


@pytest.mark.parametrize(
    ("question", "kind", "unit", "decided_in"),
    [
        ("# of letters decided feb 2017", "count", "letters", "2017-02"),
        (
            "How many determinations had a decision date in February 2017?",
            "count",
            "letters",
            "2017-02",
        ),
        ("what % of accupuncture requets got overturned", "share", "decisions", None),
        ("how mnay CT scans did IMR refuse to approve", "count", "decisions", None),
    ],
)
def test_shorthand_and_swapped_letters(
    question: str, kind: str, unit: str, decided_in: str | None
) -> None:
    plan = read_question(question)
    assert (plan.kind, plan.unit, plan.decided_in) == (kind, unit, decided_in)


@pytest.mark.parametrize(
    ("question", "fixed"),
    [
        ("whats the UR denail date for CM16-0239607", ("denail", "denial")),
        ("which cases had an injury date in decmber 2016", ("decmber", "december")),
        ("how mnay CT scans did IMR refuse to approve", ("mnay", "many")),
    ],
)
def test_a_word_with_two_letters_swapped_is_read(question: str, fixed: tuple[str, str]) -> None:
    assert fixed in read_question(question).corrections


def test_a_misspelt_month_dates_the_injury() -> None:
    assert read_question("which cases had an injury date in decmber 2016").filters.injury_date == (
        "2016-12"
    )


def test_every_cue_of_a_partial_certification_is_used(assistant: Assistant) -> None:
    q = (
        "How many decided items were partial certifications, where UR had already "
        "authorized part of the original request?"
    )
    plan = read_question(q)
    assert plan.partial and plan.kind == "count" and not plan.topic
    ans = ask(assistant, q)
    partial = [it for _, it in all_items(assistant) if it.partial]
    assert ans.answered and str(len(partial)) in ans.answer.splitlines()[0]


def test_a_known_word_is_no_misspelling_of_its_inflection() -> None:
    """'raise' is a word, not a misspelt 'raised'."""
    plan = read_question("In which cases was a postive straight leg raise documented on exam?")
    assert all(a.lower() != "raise" for a, _ in plan.corrections)


_FALL_WORDS = re.compile(r"\b(?:fall|falls|fell|fallen|slip|slipped|trip|tripped)\b", re.I)


@pytest.mark.parametrize(
    "question",
    [
        "list the slip and fall injuries",
        "Which cases involved an injury from a fall — slips, trips and the like?",
        "which workers were hurt in a fall, a slip, a trip, etc.?",
    ],
)
def test_a_fall_is_found_however_the_letter_words_it_and_never_one_letter_off(
    assistant: Assistant, question: str
) -> None:
    """'slip and fall' and examples ending 'and the like' are any one of them: every
    letter that says the worker fell, slipped or tripped, from its summary or (when the
    summary does not say it) from what its rationale says of the case; a word the
    letters hold as written ('fall') is never matched one letter off ('full')."""
    ans = ask(assistant, question)
    assert ans.answered, ans.notices
    holding = set()
    for doc_id in assistant.index.catalog.doc_ids():
        view = assistant.texts.view(doc_id)
        assert view is not None
        if _FALL_WORDS.search(view.flat):
            holding.add(doc_id)
    assert len(holding) >= 3
    assert {c.doc_id for c in ans.citations} == holding
    # besides each decision's own line ("Norflex 100mg #60: Upheld"), what is quoted says it
    said = [c.quote for c in ans.citations if not re.search(r"(?:Upheld|Overturned)$", c.quote)]
    assert said and all(_FALL_WORDS.search(q) for q in said)


def _letters_with(a: Assistant, pattern: str) -> list:
    return [
        lt
        for lt in (a.texts.letter(d) for d in a.index.catalog.doc_ids())
        if lt is not None and any(re.search(pattern, it.treatment, re.I) for it in lt.items)
    ]


@pytest.mark.parametrize(
    ("question", "pattern", "field"),
    [
        (
            "whats the date of injury in the partial hospitalization letter",
            "hospitali",
            "date_of_injury",
        ),
        ("UR denial date on the EMG case?", r"\bEMG\b", "ur_denial_date"),
        ("When was the letter that overturned the EMG decided?", r"\bEMG\b", "decision_date"),
    ],
)
def test_a_letter_fact_is_answered_for_the_letter_a_request_picks(
    assistant: Assistant, question: str, pattern: str, field: str
) -> None:
    """'the date of injury in the partial hospitalization letter': no case number, but
    the request names the letter; the fact is that letter's, with the decisions that
    picked it, and no other letter is cited."""
    ans = ask(assistant, question)
    letters = _letters_with(assistant, pattern)
    assert ans.answered and len(letters) == 1, ans.notices
    lt = letters[0]
    value = getattr(lt, field)
    assert value and value in ans.answer
    assert {c.doc_id for c in ans.citations} == {lt.doc_id}
    assert ans.plan and ans.plan["kind"] == "fact"


def test_age_and_sex_of_the_worker_in_a_case_named_by_its_request(assistant: Assistant) -> None:
    ans = ask(assistant, "age and sex of the injured worker in the partial hospitalization case")
    (lt,) = _letters_with(assistant, "hospitali")
    assert lt.patient.age and lt.patient.sex
    assert f"age {lt.patient.age}" in ans.answer and lt.patient.sex in ans.answer
    assert {c.doc_id for c in ans.citations} == {lt.doc_id}


def test_both_sides_asked_keeps_every_decision(assistant: Assistant) -> None:
    """'which got approved and which didn't' asks for both: no decision is left out."""
    ans = ask(
        assistant, "how did reviewers handle the x-ray requests? which got approved and which didnt"
    )
    xrays = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if "x-ray" in it.treatment.lower()
    }
    assert len(xrays) >= 3 and cited_items(assistant, ans) == xrays


def test_the_decisions_left_out_by_their_decision_are_left_out(assistant: Assistant) -> None:
    """'Other than the ones that got overturned, why were ... denied?': the upheld ones."""
    ans = ask(assistant, "Other than the ones that got overturned, why were the requests denied?")
    upheld = {(lt.doc_id, it.treatment) for lt, it in all_items(assistant) if it.decision == UPHELD}
    got = cited_items(assistant, ans)
    assert ans.answered and got and got <= upheld


@pytest.mark.parametrize(
    "question",
    [
        "X-ray requests, not counting the pelvis film",
        "Which x-rays were upheld, not counting the one of the pelvis?",
    ],
)
def test_a_request_left_out_by_words_of_its_name_is_left_out_and_said(
    assistant: Assistant, question: str
) -> None:
    ans = ask(assistant, question)
    xrays = {
        (lt.doc_id, it.treatment)
        for lt, it in all_items(assistant)
        if "x-ray" in it.treatment.lower()
    }
    kept = {x for x in xrays if "pelvis" not in x[1].lower()}
    assert kept and kept != xrays
    assert cited_items(assistant, ans) == kept
    # the head line says what was left out, as asked
    head = next(x for x in ans.answer.splitlines() if not x.startswith(("- ", "Read ")))
    assert "pelvis" in head and "not counting" in head, ans.answer


def test_words_naming_no_request_left_out_are_said_not_used(assistant: Assistant) -> None:
    ans = ask(assistant, "X-ray requests, not counting the chest film")
    assert any("could not use 'not counting the chest film'" in n for n in ans.notices)


def _items_of(a: Assistant, case: str) -> list:
    return [it for lt, it in all_items(a) if lt.case_number == case]


def _doc_of(a: Assistant, case: str) -> str:
    return next(lt.doc_id for lt, _ in all_items(a) if lt.case_number == case)


def test_every_request_of_the_letter_a_request_names(assistant: Assistant) -> None:
    """'what all was requested in the Norflex letter?': the letter Norflex was decided
    in, every request it decided."""
    ans = ask(assistant, "what all was requested in the Norflex letter? list the items")
    (lt,) = _letters_with(assistant, "norflex")
    assert len(lt.items) > 1
    assert cited_items(assistant, ans) == {(lt.doc_id, it.treatment) for it in lt.items}
    assert lt.case_number and lt.case_number in ans.answer


def test_what_else_leaves_out_the_request_that_named_the_letter(assistant: Assistant) -> None:
    ans = ask(assistant, "What else was decided in the Norflex case?")
    (lt,) = _letters_with(assistant, "norflex")
    others = {(lt.doc_id, it.treatment) for it in lt.items if "norflex" not in it.treatment.lower()}
    assert others and cited_items(assistant, ans) == others


def test_a_question_naming_its_own_requests_is_not_about_the_whole_letter(
    assistant: Assistant,
) -> None:
    """'In the Bankart repair case ... why were the post-op Percocet denied?': the
    requests named are what is asked about, not every request of that letter."""
    ans = ask(assistant, "In the Bankart repair case, why was the post-op Percocet denied?")
    got = cited_items(assistant, ans)
    assert got and all("percocet" in t.lower() for _, t in got)


def test_a_device_named_after_a_region_names_no_region() -> None:
    plan = read_question("which states is the reviewer licensed in for the knee scooter letter?")
    assert plan.kind == "fact" and not plan.regions


def test_reviewers_licensed_in_a_state_against_the_rest(assistant: Assistant) -> None:
    """'Do reviewers licensed in Texas rule differently from the rest?': by licensure in
    the state named, each group's decisions counted from the letters."""
    ans = ask(assistant, "Do reviewers licensed in Texas rule differently from the rest?")
    assert ans.plan and ans.plan["group_by"] == "licensure"
    texas = [it for lt, it in all_items(assistant) if "Texas" in lt.reviewer.licensure]
    rest = [it for lt, it in all_items(assistant) if "Texas" not in lt.reviewer.licensure]
    assert texas and rest
    assert f"licensed in Texas: {len(texas)} decision{'s' * (len(texas) != 1)}" in ans.answer
    assert f"not licensed in Texas: {len(rest)} decision{'s' * (len(rest) != 1)}" in ans.answer
    assert "partial" not in ans.plan


def test_chat_a_new_treatment_drops_the_last_ones_region_and_an_aside_is_context(
    assistant: Assistant,
) -> None:
    """'what did IMR decide on the shoulder surgery in ...?' then 'and the post-op meds
    in that one?': the medications, wherever they act; then 'why were those turned down
    if the surgery was approved?' is about those medications, not the surgery."""
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    doc = _doc_of(assistant, "CM16-0246487")
    drugs = {
        (doc, it.treatment) for it in _items_of(assistant, "CM16-0246487") if it.kind == "drug"
    }
    assert drugs
    first = chat.ask("what did IMR decide on the shoulder surgery in CM16-0246487?")
    assert first.answered
    meds = chat.ask("and the post-op meds in that one?")
    assert cited_items(assistant, meds) == drugs
    why = chat.ask("why were those turned down if the surgery was approved?")
    got = cited_items(assistant, why)
    assert got and got <= drugs
    for ans in (first, meds, why):  # every quote verbatim in its letter
        for c in ans.citations:
            letter = assistant.texts.letter(c.doc_id)
            assert letter is not None and clean(letter.text[c.start : c.end]).strip() == c.quote


def test_regions_named_in_a_breakdown_are_its_groups(assistant: Assistant) -> None:
    """'x-rays by body region — lumbar, shoulder, everything else': those regions are the
    groups, the rest one group; nothing is left out."""
    from imr_assist.retrieve.plan import REGIONS

    ans = ask(assistant, "x-rays by body region please — lumbar, shoulder, everything else")
    assert ans.plan and ans.plan["group_by"] == "region" and "regions" not in ans.plan
    xrays = [it for _, it in all_items(assistant) if "x-ray" in it.treatment.lower()]
    lumbar = [it for it in xrays if REGIONS["lumbar spine"].search(it.treatment)]
    shoulder = [it for it in xrays if it not in lumbar and REGIONS["shoulder"].search(it.treatment)]
    other = len(xrays) - len(lumbar) - len(shoulder)
    assert lumbar and shoulder and other
    assert f"{len(xrays)} decision{'s' * (len(xrays) != 1)}" in ans.answer
    assert f"lumbar spine: {len(lumbar)} decision{'s' * (len(lumbar) != 1)}" in ans.answer
    assert f"other regions: {other} decision{'s' * (other != 1)}" in ans.answer


def test_what_the_reviewer_found_missing_is_why_it_was_denied(assistant: Assistant) -> None:
    ans = ask(assistant, "What exactly did the reviewer say was missing for the Norco request?")
    assert ans.plan and ans.plan["kind"] == "why"
    norco = {
        (lt.doc_id, it.treatment) for lt, it in all_items(assistant) if it.canonical == "Norco"
    }
    assert ans.answered and norco and cited_items(assistant, ans) == norco


def test_the_guideline_each_decision_rested_on_is_quoted(assistant: Assistant) -> None:
    """'what guidelines were cited for the x-rays?': each decision with its reviewer's
    guideline line, quoted from the letter."""
    ans = ask(assistant, "what guidelines were cited for the x-rays?")
    xrays = [(lt, it) for lt, it in all_items(assistant) if "x-ray" in it.treatment.lower()]
    assert ans.plan and ans.plan.get("guidelines_asked") and xrays
    assert cited_items(assistant, ans) == {(lt.doc_id, it.treatment) for lt, it in xrays}
    for lt, it in xrays:
        span = it.spans["reviewer_guideline"]
        said = " ".join(lt.text[span.start : span.end].split())
        assert f'"{said}"' in ans.answer
    assert not any("guidelines" in n for n in ans.notices)


def test_a_letter_named_by_a_request_the_catalog_files_under_another_name(
    assistant: Assistant,
) -> None:
    """'the Bankart repair letter': the request is filed under another name, but its own
    name says Bankart repair; that letter's fact, without saying none was decided."""
    ans = ask(assistant, "What was the date of injury in the Bankart repair letter?")
    (lt,) = _letters_with(assistant, "bankart")
    assert lt.date_of_injury and lt.date_of_injury in ans.answer
    assert {c.doc_id for c in ans.citations} == {lt.doc_id}
    assert "was decided in the indexed letters" not in ans.answer


def test_a_letter_named_by_its_case_history(assistant: Assistant) -> None:
    """'the worker with the crush injury': no request named, the case summary picks it."""
    ans = ask(assistant, "How old was the worker with the crush injury?")
    holding = []
    for d in assistant.index.catalog.doc_ids():
        lt = assistant.texts.letter(d)
        assert lt is not None
        if lt.summary and re.search(r"\bcrush", lt.summary, re.I):
            holding.append(lt)
    (lt,) = holding
    assert lt.patient.age and f"age {lt.patient.age}" in ans.answer
    assert {c.doc_id for c in ans.citations} == {lt.doc_id}


def test_chat_their_dates_are_the_dates_of_the_letters_just_shown(assistant: Assistant) -> None:
    from imr_assist.answer.chat import ChatSession

    chat = ChatSession(assistant.settings, assistant=assistant)
    first = chat.ask("Which letters had an overturned decision?")
    shown = {c.doc_id for c in first.citations}
    assert len(shown) >= 2
    dates = chat.ask("what were their decision dates?")
    assert {c.doc_id for c in dates.citations} == shown
    for d in shown:
        lt = assistant.texts.letter(d)
        assert lt is not None and lt.decision_date and lt.decision_date in dates.answer


def test_the_average_age_over_the_letters_picked(assistant: Assistant) -> None:
    """'the average age of the workers whose requests were denied': the mean over the
    letters with an upheld decision that state an age, each age cited."""
    ans = ask(assistant, "what is the average age of the workers whose requests were denied?")
    ages = {
        lt.doc_id: lt.patient.age
        for lt, it in all_items(assistant)
        if it.decision == UPHELD and lt.patient.age is not None
    }
    assert len(ages) >= 3
    mean = sum(ages.values()) / len(ages)
    assert f"is {mean:.1f} " in ans.answer
    assert {c.doc_id for c in ans.citations} == set(ages)


def test_what_reviewers_say_about_a_request_none_decided_is_a_topic(assistant: Assistant) -> None:
    """'What do reviewers say about urine drug screens?': no such request was decided, so
    the passages that discuss them, not any decision's reasons."""
    ans = ask(assistant, "What do reviewers say about urine drug screens?")
    assert ans.answered and "as a topic" in ans.answer
    said = [c.quote for c in ans.citations if not re.search(r"(?:Upheld|Overturned)$", c.quote)]
    assert said and all(re.search(r"drug\s+(?:screen|misuse)|screening", q, re.I) for q in said)


def test_a_reason_without_a_label_is_quoted_where_the_rationale_gives_it(
    assistant: Assistant,
) -> None:
    """'Why was the EMG overturned?': its rationale's reasons carry no label; what is
    quoted is the rationale's conclusion, or, when that only restates the decision
    ("... are medically necessary."), the sentence before it."""
    ans = ask(assistant, "Why was the EMG overturned?")
    (lt,) = _letters_with(assistant, r"\bEMG\b")
    (it,) = [i for i in lt.items if re.search(r"\bEMG\b", i.treatment)]
    span = it.spans["rationale"]
    quoted = [c for c in ans.citations if c.treatment == it.treatment]
    assert quoted
    for c in quoted:
        assert span.start <= c.start and c.end <= span.end
        assert not re.fullmatch(r"[^.]{0,100}\bmedically\s+necessary\.", c.quote.strip(), re.I)


def test_two_regions_compared_show_those_regions_only(assistant: Assistant) -> None:
    from imr_assist.retrieve.plan import REGIONS

    ans = ask(assistant, "lumbar vs shoulder x-ray outcomes")
    xrays = [(lt, it) for lt, it in all_items(assistant) if "x-ray" in it.treatment.lower()]
    named = {
        (lt.doc_id, it.treatment)
        for lt, it in xrays
        if REGIONS["lumbar spine"].search(it.treatment) or REGIONS["shoulder"].search(it.treatment)
    }
    assert named and len(named) < len(xrays)
    assert ans.answered and "other regions" not in ans.answer
    assert cited_items(assistant, ans) == named


@pytest.mark.parametrize(
    ("question", "how"),
    [
        ("which letters had mixed results?", "mixed"),
        ("how many letters had some items upheld and some overturned?", "mixed"),
        ("show me letters where everything was denied", "upheld"),
    ],
)
def test_letters_by_how_all_their_decisions_went(
    assistant: Assistant, question: str, how: str
) -> None:
    """'mixed results': the letters whose decisions went both ways; 'everything was
    denied': those whose every decision was upheld."""
    ans = ask(assistant, question)
    by_doc: dict[str, set[str]] = {}
    for lt, it in all_items(assistant):
        by_doc.setdefault(lt.doc_id, set()).add(it.decision)
    want = {
        d for d, ways in by_doc.items() if (len(ways) == 2 if how == "mixed" else ways == {how})
    }
    assert want and want != set(by_doc)
    assert {c.doc_id for c in ans.citations} == want
    assert f"{len(want)} letter{'s' if len(want) != 1 else ''}" in ans.answer


def test_an_identifier_that_names_no_letter_is_said_not_answered_for_all(
    assistant: Assistant,
) -> None:
    """'outcome of case 0009282': no letter has that number; the answer says so rather
    than giving every decision."""
    ans = ask(assistant, "outcome of case 0009282")
    assert not ans.answered and ans.citations == []
    assert any("no indexed letter matches" in n for n in ans.notices)


def test_a_count_of_a_treatment_none_decided_says_so(assistant: Assistant) -> None:
    ans = ask(assistant, "How many Soma requests were overturned?")
    assert not any(it.canonical == "Soma" for _, it in all_items(assistant))
    assert not ans.answered and "no Soma request was decided in the indexed letters" in ans.notices


def test_a_date_is_no_letter_identifier(assistant: Assistant) -> None:
    """'between 2017-01-15 and 2017-02-05': dates, not an identifier naming no letter."""
    ans = ask(assistant, "letters decided between 2016-12-01 and 2017-03-31")
    assert ans.answered and not any("no indexed letter" in n for n in ans.notices)
