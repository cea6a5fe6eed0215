"""The evaluation metrics on hand-made predictions with known scores.

Each metric family gets a perfect prediction, an empty one and a half-right one,
and the exact numbers are checked. Reason categories come from the project's real
labeller; the judge talks to the local OpenAI-compatible test server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imr_assist.answer.llm_client import client_from_settings
from imr_assist.errors import ConfigError
from imr_assist.evaluate.corpus import CorpusError, EvalQuestion, load_questions
from imr_assist.evaluate.judge import CitationJudge, render_prompt, supported_share
from imr_assist.evaluate.metrics import (
    AnswerObs,
    CitationObs,
    GoldTarget,
    Passage,
    answer_sentences,
    grade,
    normalise_treatment,
    percentile,
    score_answers,
    score_citations,
    score_extraction,
    score_latency,
    score_ranking,
    score_retrieval,
    stated_count,
    stated_decision,
    stated_share,
)
from imr_assist.evaluate.report import (
    METRICS,
    EvalReport,
    check_gates,
    compare,
    metrics_from_json,
    parse_gate,
)
from imr_assist.models import Item, Letter, Patient, Reason, Reviewer, Span
from imr_assist.settings import Settings
from tests.openai_server import OpenAITestServer

# Reviewer sentences from the sample letters, and the category the labeller gives each.
WEANING = "This request however is not for a weaning treatment, but to continue treatment."
CEILING = (
    "In this case, the injured worker is on Butrans patch and the addition of Norco exceeds "
    "the recommended ceiling of morphine equivalent dosage."
)


# --- builders -----------------------------------------------------------------------------


def item(
    index: int,
    treatment: str,
    decision: str = "upheld",
    reasons: tuple[str, ...] = (),
    guidelines: tuple[str, ...] = ("MTUS",),
    pages: str | None = None,
) -> Item:
    return Item(
        index=index,
        treatment=treatment,
        decision=decision,  # type: ignore[arg-type]
        guidelines=list(guidelines),
        pages=pages,
        reasons=[Reason(category=r, quote="q", start=0, end=1) for r in reasons],
        span=Span(start=100 * index, end=100 * index + 90),
    )


def letter(doc_id: str, items: list[Item], **fields: Any) -> Letter:
    return Letter(
        doc_id=doc_id,
        source=f"{doc_id}.txt",
        format="standard",
        sha256=doc_id * 4,
        items=items,
        patient=Patient(age=fields.pop("age", None), sex=fields.pop("sex", None)),
        reviewer=Reviewer(
            licensure=fields.pop("licensure", []), specialties=fields.pop("specialties", [])
        ),
        **fields,
    )


def gold_letter() -> Letter:
    return letter(
        "a",
        [
            item(0, "Norco 10/325mg #60", reasons=("r1", "r2"), pages="74-95, 124"),
            item(1, "Soma 350mg #60", reasons=("r3",), pages="67"),
            item(2, "Baclofen 10mg #270", "overturned", reasons=("r4",), pages="29"),
            item(3, "Physical therapy x 6", reasons=()),
        ],
        age=65,
        sex="female",
        date_of_injury="1993-06-07",
        ur_denial_date="2014-11-25",
        licensure=["California", "New Jersey"],
        specialties=["Neurology"],
    )


def question(kind: str, **fields: Any) -> EvalQuestion:
    items = [{"doc_id": d, "index": i} for d, i in fields.pop("items", [])]
    return EvalQuestion.model_validate(
        {"id": fields.pop("id", kind), "question": "q?", "kind": kind, "items": items, **fields}
    )


def cite(n: int, item: tuple[str, int] | None, quote: str = "a quote", valid: bool = True):  # type: ignore[no-untyped-def]
    doc = item[0] if item else "a"
    return CitationObs(n, doc, 0, len(quote), quote, valid, item)


# --- extraction -----------------------------------------------------------------------------


def test_extraction_perfect() -> None:
    gold = gold_letter()
    result = score_extraction([(gold, gold.model_copy(deep=True))])
    m = result.metrics
    assert (m["item_precision"], m["item_recall"], m["item_f1"]) == (1.0, 1.0, 1.0)
    assert m["decision_accuracy"] == 1.0
    assert m["fields"] == dict.fromkeys(m["fields"], 1.0)
    assert m["field_accuracy"] == 1.0
    assert (m["reason_precision"], m["reason_recall"]) == (1.0, 1.0)
    assert result.letters[0]["missed_items"] == []


def test_extraction_empty() -> None:
    m = score_extraction([(gold_letter(), None)]).metrics
    assert (m["item_precision"], m["item_recall"], m["item_f1"]) == (0.0, 0.0, 0.0)
    assert m["decision_accuracy"] == 0.0
    # every field the gold has is missed; pages: 3 items carry pages, one does not
    assert m["fields"] == dict.fromkeys(m["fields"], 0.0)
    assert m["field_accuracy"] == 0.0
    # reasons are compared on matched items only: with none matched there is no data
    assert (m["reason_precision"], m["reason_recall"]) == (None, None)


def test_extraction_half_right() -> None:
    gold = gold_letter()
    pred = letter(
        "a",
        [
            # spacing differs: still the same request
            item(0, "Norco 10/325 mg #60", reasons=("r1", "r5"), pages="74-95,  124"),
            item(1, "Soma 350mg #60", "overturned", ("r3",), ("MTUS", "ODG"), pages="68"),
            item(2, "Tramadol 50mg #30"),  # not in the gold
        ],
        age=64,
        sex="Female",
        date_of_injury="1993-06-07",
        decision_date="2015-01-01",  # the gold has none: a wrong value
        licensure=["new jersey", "California"],
        specialties=[],
    )
    result = score_extraction([(gold, pred)])
    m = result.metrics
    assert m["item_precision"] == pytest.approx(2 / 3)
    assert m["item_recall"] == 0.5
    assert m["item_f1"] == pytest.approx(4 / 7)
    assert m["decision_accuracy"] == 0.25  # Norco right; Soma wrong; two missed
    assert m["fields"] == {
        "age": 0.0,
        "sex": 1.0,
        "dates": pytest.approx(1 / 3),  # injury right; UR denial missed; decision date extra
        "licensure": 1.0,
        "specialties": 0.0,
        "guidelines": 0.25,  # Norco right; Soma adds ODG; two items missed
        "pages": pytest.approx(1 / 3),  # Norco right; Soma wrong; Baclofen missed
    }
    assert m["field_accuracy"] == pytest.approx(5 / 14)
    # Norco: r1 of {r1, r5} against {r1, r2}; Soma: r3 against r3
    assert m["reason_precision"] == pytest.approx(2 / 3)
    assert m["reason_recall"] == pytest.approx(2 / 3)
    detail = result.letters[0]
    assert detail["missed_items"] == ["Baclofen 10mg #270", "Physical therapy x 6"]
    assert detail["extra_items"] == ["Tramadol 50mg #30"]
    assert detail["wrong_decisions"] == ["Soma 350mg #60"]


def test_treatment_names_normalise() -> None:
    assert normalise_treatment("Norco 10/325 mg #30") == normalise_treatment("norco 10/325mg  #30")
    assert normalise_treatment("Norco 10/325mg #30") != normalise_treatment("Norco 10/325mg #60")


# --- retrieval -------------------------------------------------------------------------------

T1 = GoldTarget("a", 0, (Span(start=100, end=200),), chunk_item_index=0)
T2 = GoldTarget("a", 1, (Span(start=300, end=400),), chunk_item_index=1)
MISS = Passage("a", 500, 600)
OTHER_DOC = Passage("b", 100, 200, 0)  # same offsets and index, another letter


def test_retrieval_perfect() -> None:
    s = score_ranking([Passage("a", 100, 200, 0), Passage("a", 300, 400, 1)], [T1, T2])
    assert (s.recall_at_5, s.recall_at_10, s.reciprocal_rank, s.first_rank) == (1, 1, 1, 1)


def test_retrieval_empty() -> None:
    s = score_ranking([], [T1, T2])
    assert (s.recall_at_5, s.recall_at_10, s.reciprocal_rank, s.first_rank) == (0, 0, 0, None)


def test_retrieval_half_right() -> None:
    ranked = [
        MISS,
        OTHER_DOC,
        Passage("a", 150, 250),  # overlaps T1's span: counts for it
        MISS,
        Passage("a", 200, 300),  # touches T1 and T2 without overlapping either
        MISS,
        Passage("a", 0, 10, item_index=1),  # T2's chunk by item index
        MISS,
    ]
    s = score_ranking(ranked, [T1, T2])
    assert (s.recall_at_5, s.recall_at_10, s.first_rank) == (0.5, 1.0, 3)
    assert s.reciprocal_rank == pytest.approx(1 / 3)
    metrics, n = score_retrieval([(ranked, [T1, T2]), ([], [T1]), ([MISS], [])])
    assert n == 2  # a question without gold items is not scored
    assert metrics["recall@5"] == 0.25
    assert metrics["recall@10"] == 0.5
    assert metrics["mrr@10"] == pytest.approx(1 / 6)


# --- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decision", "count", "share"),
    [
        pytest.param(
            "4 of 5 Norco decisions were upheld (80%). [1][2]", "upheld", 4, 0.8, id="count"
        ),
        pytest.param("[1] The request is not medically necessary.", "upheld", None, None, id="nmn"),
        pytest.param("Overturned: medically necessary [3]", "overturned", None, None, id="over"),
        pytest.param("Two requests; 1 of 3 was upheld.", "upheld", 2, 1 / 3, id="words"),
        pytest.param("A share of 0.25 was overturned", "overturned", None, 0.25, id="fraction"),
        pytest.param("Norco 10/325mg #60 on 6/9/15", None, None, None, id="no-claims"),
    ],
)
def test_stated_values(
    text: str, decision: str | None, count: int | None, share: float | None
) -> None:
    assert stated_decision(text) == decision
    assert stated_count(text) == count
    assert stated_share(text) == (pytest.approx(share) if share is not None else None)


def test_answer_sentences_keep_marks_and_skip_lead_ins() -> None:
    text = "2 upheld decisions. By reason:\n- Long-term use: 2 of 2 [1][2]\nOne more. [3]"
    assert answer_sentences(text) == [
        "2 upheld decisions.",
        "- Long-term use: 2 of 2 [1][2]",
        "One more. [3]",
    ]


QUESTIONS = [
    question("decision", items=[("a", 0)], decision="upheld", id="d"),
    question("count", items=[("a", 0), ("a", 1)], count=2, id="c"),
    question("share", items=[("a", 0), ("a", 1), ("a", 2)], share=0.3333, id="s"),
    question("unanswerable", answerable=False, id="u"),
]


def test_answers_perfect() -> None:
    obs = [
        AnswerObs("Norco: upheld [1]", True, [cite(1, ("a", 0))]),
        AnswerObs("2 of 3 were upheld [1][2]", True, [cite(1, ("a", 0)), cite(2, ("a", 1))]),
        AnswerObs("1 of 3 (33%) was overturned [1]", True, [cite(1, ("a", 2))]),
        AnswerObs("The indexed letters do not answer this question.", False),
    ]
    m, support = score_answers(list(zip(QUESTIONS, obs, strict=True)))
    assert m["correct"] == 1.0
    assert (m["decision"], m["count"], m["share"]) == (1.0, 1.0, 1.0)
    assert (m["abstention_accuracy"], m["answered_precision"]) == (1.0, 1.0)
    assert m["by_kind"] == {"count": 1.0, "decision": 1.0, "share": 1.0, "unanswerable": 1.0}
    assert (m["list_precision"], m["list_recall"]) == (None, None)  # no list questions
    assert support["answers.correct"] == 4 and support["answers.answered_precision"] == 3


def test_answers_empty() -> None:
    refused = AnswerObs("The indexed letters do not answer this question.", False)
    m, _ = score_answers([(q, refused) for q in QUESTIONS])
    assert m["correct"] == 0.25  # only the unanswerable question is right to refuse
    assert (m["decision"], m["count"], m["share"]) == (0.0, 0.0, 0.0)
    assert m["abstention_accuracy"] == 0.25
    assert m["answered_precision"] is None  # nothing answered


def test_answers_half_right() -> None:
    obs = [
        AnswerObs("Norco: upheld [1]", True, [cite(1, ("a", 0))]),
        AnswerObs("3 requests [1]", True, [cite(1, ("a", 0))]),  # wrong count
        AnswerObs("34% were overturned [1]", True, [cite(1, ("a", 2))]),  # within 0.01
        AnswerObs("Lyrica was upheld [1]", True, [cite(1, None)]),  # should have refused
    ]
    m, _ = score_answers(list(zip(QUESTIONS, obs, strict=True)))
    assert m["correct"] == 0.5
    assert (m["decision"], m["count"], m["share"]) == (1.0, 0.0, 1.0)
    assert m["abstention_accuracy"] == 0.75
    assert m["answered_precision"] == 0.75
    assert stated_share("35% were overturned") == 0.35
    assert not grade(QUESTIONS[2], AnswerObs("35% were overturned [1]", True)).correct


def test_list_and_reason_scores() -> None:
    listing = question("list", items=[("a", 0), ("a", 1)])
    why = question(
        "why_upheld",
        items=[("a", 0), ("b", 0)],
        reasons=["not_a_weaning_request", "worsening_or_no_efficacy"],
    )
    obs_list = AnswerObs("- a [1]\n- b [2]", True, [cite(1, ("a", 0)), cite(2, ("b", 2))])
    obs_why = AnswerObs(
        "Not a weaning request [1]. Above the ceiling [2].",
        True,
        [cite(1, ("a", 0), WEANING), cite(2, ("b", 0), CEILING)],
    )
    m, _ = score_answers([(listing, obs_list), (why, obs_why)])
    assert (m["list_precision"], m["list_recall"]) == (0.5, 0.5)
    # the labeller reads the quotes: weaning (expected) and MED ceiling (not expected)
    assert (m["reason_precision"], m["reason_recall"]) == (0.5, 0.5)
    assert grade(why, obs_why).reasons == {"not_a_weaning_request", "exceeds_med_ceiling"}
    assert m["by_kind"] == {"list": 0.0, "why_upheld": 0.0}
    exact = AnswerObs("- a [1]\n- b [2]", True, [cite(1, ("a", 0)), cite(2, ("a", 1))])
    assert grade(listing, exact).correct
    # an invalid citation cites nothing
    broken = AnswerObs(
        "- a [1]\n- b [2]", True, [cite(1, ("a", 0)), cite(2, ("a", 1), valid=False)]
    )
    assert not grade(listing, broken).correct


# --- citations -------------------------------------------------------------------------------


def test_citations_perfect() -> None:
    q = question("list", items=[("a", 0), ("a", 1)])
    obs = AnswerObs(
        "First claim [1]. Second claim [2].", True, [cite(1, ("a", 0)), cite(2, ("a", 1))]
    )
    m, support = score_citations([(q, obs)])
    assert m == {"validity": 1.0, "precision": 1.0, "recall": 1.0, "faithfulness": 1.0}
    assert support["citations.faithfulness"] == 2


def test_citations_empty() -> None:
    q = question("list", items=[("a", 0), ("a", 1)])
    m, _ = score_citations([(q, AnswerObs("No sources at all here.", True))])
    assert m == {"validity": None, "precision": 0.0, "recall": 0.0, "faithfulness": 0.0}
    m, _ = score_citations([(q, AnswerObs("The letters do not say.", False))])
    assert m == {"validity": None, "precision": 0.0, "recall": 0.0, "faithfulness": None}


def test_citations_half_right() -> None:
    q = question("list", items=[("a", 0), ("a", 1)])
    quote = "The patient reports no change in pain."
    obs = AnswerObs(
        "Norco was upheld [1]. "
        "Soma was upheld [2]. "
        "The patient reports no change in pain. "  # verbatim in quote 3: supported
        "Nothing backs this claim.",
        True,
        [
            cite(1, ("a", 0)),
            cite(2, ("a", 1), valid=False),  # not verbatim in the letter
            cite(3, None, quote),  # verbatim, but outside every gold item
            cite(4, ("a", 0), "Norco 10/325mg #60: Upheld"),
        ],
    )
    m, _ = score_citations([(q, obs)])
    assert m["validity"] == 0.75
    assert m["precision"] == 0.5  # citations 1 and 4
    assert m["recall"] == 0.5  # a#1 is cited only by the invalid citation
    assert m["faithfulness"] == 0.5  # sentences 1 and 3 of 4


# --- latency ---------------------------------------------------------------------------------


def test_latency_percentiles() -> None:
    assert percentile(list(range(1, 101)), 50) == 50
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert score_latency({"retrieve": [0.010, 0.030, 0.020, 0.040], "answer": []}) == {
        "retrieve_p50_ms": 20.0,
        "retrieve_p95_ms": 40.0,
        "answer_p50_ms": None,
        "answer_p95_ms": None,
    }


# --- report, gates, comparisons --------------------------------------------------------------


def _report(imr: dict[str, float], naive: dict[str, float]) -> EvalReport:
    return EvalReport(
        corpus={"name": "t", "letters": 1, "gold_items": 1, "questions": 1},
        settings={},
        metrics={
            "imr_assist": {**dict.fromkeys(METRICS), **imr},
            "naive": {**dict.fromkeys(METRICS), **naive},
        },
        support={},
    )


def test_gates_pass_fail_and_unknown_names() -> None:
    report = _report({"answers.correct": 0.85, "retrieval.recall@5": 0.9}, {"answers.correct": 0.2})
    gates = [parse_gate("answers.correct=0.8"), parse_gate("naive.answers.correct=0.5")]
    assert check_gates(report, gates) == ["naive.answers.correct = 0.2000 is under 0.5"]
    assert check_gates(report, [parse_gate("retrieval.recall@5=0.9")]) == []
    assert check_gates(report, [parse_gate("answers.share=0.5")]) == [
        "answers.share has no value on this corpus (needs 0.5)"
    ]
    with pytest.raises(
        ConfigError, match=r"unknown metric 'answers\.corect'; did you mean answers\.correct"
    ):
        parse_gate("answers.corect=0.9")
    with pytest.raises(ConfigError, match="not a number"):
        parse_gate("answers.correct=high")
    with pytest.raises(ConfigError, match="METRIC=VALUE"):
        parse_gate("answers.correct")


def test_compare_reads_a_json_report() -> None:
    before = _report({"answers.correct": 0.9, "latency.retrieve_p50_ms": 30.0}, {})
    now = _report({"answers.correct": 0.8, "latency.retrieve_p50_ms": 20.0}, {})
    earlier = metrics_from_json(json.loads(json.dumps(before.to_json())), "before.json")
    changes = {(c.pipeline, c.metric): c for c in compare(now, earlier)}
    correct = changes[("imr_assist", "answers.correct")]
    assert correct.delta == pytest.approx(-0.1) and correct.worse
    faster = changes[("imr_assist", "latency.retrieve_p50_ms")]
    assert faster.delta == -10.0 and not faster.worse
    with pytest.raises(CorpusError, match="not an imr-assist eval JSON report"):
        metrics_from_json({"something": 1}, "x.json")


# --- corpus files ----------------------------------------------------------------------------


def test_questions_file_is_checked(tmp_path: Path) -> None:
    gold = {"a": gold_letter()}
    good = {
        "id": "q1",
        "question": "Why?",
        "kind": "why_upheld",
        "items": [{"doc_id": "a", "index": 0}],
    }
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps(good) + "\n\n")
    assert [q.id for q in load_questions(path, gold)] == ["q1"]
    other = {**good, "id": "q2"}
    bad_lines = [
        ({**other, "items": [{"doc_id": "a", "index": 9}]}, "no such item"),
        ({**other, "items": [{"doc_id": "zz", "index": 0}]}, "no gold record 'zz'"),
        ({**other, "kind": "count"}, "needs its 'count' value"),
        ({**other, "kind": "wonder"}, "kind"),
        ({**good, "id": "q1"}, "question id 'q1' is used twice"),
        ({**other, "reasons": ["bad_reason"]}, "unknown reason categories"),
    ]
    for record, problem in bad_lines:
        path.write_text(json.dumps(good) + "\n" + json.dumps(record) + "\n")
        with pytest.raises(CorpusError, match=problem) as info:
            load_questions(path, gold)
        assert f"{path}:2" in str(info.value)


# --- the LLM judge ---------------------------------------------------------------------------


def test_judge_asks_the_model_per_cited_sentence(openai_server: OpenAITestServer) -> None:
    settings = Settings(
        llm_model="judge-model",
        openai_base_url=openai_server.base_url,
        openai_api_key=openai_server.api_key,  # type: ignore[arg-type]
        llm_max_retries=0,
    )
    judge = CitationJudge(client_from_settings(settings))
    openai_server.script(["Yes.", "no", "maybe"])
    obs = AnswerObs(
        "The request was not for weaning [1]. The dose was above the ceiling [2]. "
        "Lead sentence without a source.\nThe request was not for weaning [1].",
        True,
        [cite(1, ("a", 0), WEANING), cite(2, ("a", 0), CEILING)],
    )
    verdicts = judge.judge(obs)
    # the repeated sentence citing the same quote is asked once; the uncited one never
    assert len(openai_server.chat_requests) == 2
    assert [v.supported for v in verdicts] == [True, False, True]
    assert supported_share(verdicts) == pytest.approx(2 / 3)
    prompt = openai_server.chat_requests[0].messages[-1]["content"]
    assert WEANING in prompt and "The request was not for weaning" in prompt
    assert openai_server.chat_requests[0].body["model"] == "judge-model"
    assert judge.judge(AnswerObs("Refused.", False)) == []
    assert "yes or no" in render_prompt("S.", [{"n": 1, "quote": "Q."}])


def test_a_quote_belongs_to_the_item_whose_spans_hold_it() -> None:
    from imr_assist.evaluate.metrics import GoldTarget
    from imr_assist.models import Span

    # "Norco 10/325mg #60: Upheld": treatment span 0-18, decision span 20-26
    t = GoldTarget("d", 0, (Span(start=0, end=18), Span(start=20, end=26), Span(start=40, end=90)))
    assert t.contains("d", 0, 26)  # the decision line across both spans
    assert t.contains("d", 45, 80)
    assert not t.contains("other", 0, 26)
    assert not t.contains("d", 10, 40)  # half of it lies outside the item
    assert not t.contains("d", 85, 120)


def test_why_answers_need_every_reason_and_only_gold_items() -> None:
    why = question(
        "why_upheld", items=[("a", 0), ("b", 0), ("c", 0)], reasons=["not_a_weaning_request"]
    )
    # one example of the reason, from a gold item: right
    some = AnswerObs("Not a weaning request [1].", True, [cite(1, ("b", 0), WEANING)])
    assert grade(why, some).correct
    # the same reason quoted from an item that is not gold: wrong
    stray = AnswerObs("Not a weaning request [1].", True, [cite(1, ("z", 0), WEANING)])
    assert not grade(why, stray).correct
    # gold items cited but the expected reason missing: wrong
    other = AnswerObs("Above the ceiling [1].", True, [cite(1, ("a", 0), CEILING)])
    assert not grade(why, other).correct
    # the reason in the text but no item cited: wrong
    bare = AnswerObs("Not a weaning request.", True, [])
    assert not grade(why, bare).correct
