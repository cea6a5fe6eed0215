"""LLM answers over the sample index, through the real openai client and a local server.

Nothing is mocked: the answers come from ``tests/openai_server.py`` over HTTP, the
evidence from the Chroma index of the five sample letters. Scripted behaviours stand
in for what a real small model did (refusing, leaving out ``[n]``, thinking aloud,
JSON under a grammar); the real-model figures are a benchmark (evals/results/), not
a test.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_assist.answer.evidence import build_evidence, header_excerpts
from imr_assist.answer.llm import (
    LLM_COVERAGE_NOTICE,
    LLM_DECISION_NOTICE,
    LLM_FIGURE_NOTICE,
    LLM_REFUSAL_NOTICE,
    DraftSentence,
    check_answer,
    check_sentence,
    read_reply,
)
from imr_assist.answer.service import Assistant
from imr_assist.answer.support import content_words, quote_in, stem, support, words
from imr_assist.cli import _register, app
from imr_assist.constants import CANNOT_ANSWER, LLM_FALLBACK_NOTICE
from imr_assist.index.index import Index
from imr_assist.models import Answer, Citation
from imr_assist.retrieve.hybrid import SearchResult
from imr_assist.settings import Settings
from imr_assist.text import clean
from tests.openai_server import (
    OpenAITestServer,
    RecordedRequest,
    Reply,
    follow_facts,
    no_markers,
    prompt_facts,
    refuse,
    think,
)

_register()

QUESTION = "Why are Norco requests upheld?"
UNANSWERABLE = "Why was Lyrica denied?"
SENTINEL = "sk-test-SENTINEL-99"
_EXCERPT = re.compile(r'<excerpt n="(\d+)" letter="([^"]+)"[^>]*>\n(.*?)\n</excerpt>', re.S)

MakeAssistant = Callable[..., Assistant]
GOOD = Reply(behaviour=follow_facts)


# -- fixtures and helpers ------------------------------------------------------------


@pytest.fixture(scope="module")
def index(sample_index: Path) -> Iterator[Index]:
    idx = Index.open(Settings(index_dir=sample_index))
    yield idx
    idx.close()


@pytest.fixture(scope="module")
def extractive(sample_index: Path, index: Index) -> tuple[Answer, SearchResult]:
    """The extractive answer: its citations are the first LLM excerpts, in order."""
    settings = Settings(index_dir=sample_index, llm_enabled=False)
    return Assistant(settings, index=index).ask(QUESTION)


@pytest.fixture
def make(sample_index: Path, index: Index, openai_server: OpenAITestServer) -> MakeAssistant:
    def make(**overrides: object) -> Assistant:
        values: dict[str, object] = {
            "index_dir": sample_index,
            "llm_enabled": True,
            "llm_model": "test-model",
            "openai_base_url": openai_server.base_url,
            "openai_api_key": openai_server.api_key,
            "llm_timeout": 1.0,
            "llm_max_retries": 1,
        }
        values.update(overrides)
        return Assistant(Settings(**values), index=index)  # type: ignore[arg-type]

    return make


def prompt_excerpts(server: OpenAITestServer, request: int = 0) -> list[tuple[int, str, str]]:
    user = server.chat_requests[request].messages[1]["content"]
    return [(int(n), doc, text) for n, doc, text in _EXCERPT.findall(user)]


def assert_verbatim(index: Index, c: Citation) -> None:
    letter = index.catalog.letter(c.doc_id)
    assert letter is not None
    assert clean(letter.text[c.start : c.end]).strip() == c.quote
    assert c.quote in clean(letter.text)


def assert_fallback(answer: Answer, extractive: Answer, problem: str) -> None:
    assert answer.mode == "extractive"
    assert answer.answered == extractive.answered
    assert answer.answer == extractive.answer
    assert answer.citations == extractive.citations
    assert answer.notices, "a fallback always says why"
    assert any(problem in n for n in answer.notices), answer.notices


def with_sentence(extra: dict[str, object]) -> Callable[[RecordedRequest], Reply]:
    """The rule-following reply plus one more sentence."""

    def behaviour(request: RecordedRequest) -> Reply:
        sentences = [{"text": t, "excerpts": n} for t, n in prompt_facts(request)]
        return Reply.json({"sentences": [*sentences, extra]})

    return behaviour


# -- the prompt ----------------------------------------------------------------------


def test_prompt_is_deduplicated_whole_words_in_budget_and_question_last(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    index: Index,
    extractive: tuple[Answer, SearchResult],
) -> None:
    ex = extractive[0]
    openai_server.script([GOOD])
    make(llm_evidence_tokens=1500, llm_max_tokens=321).ask(QUESTION)
    (request,) = openai_server.chat_requests
    messages = request.messages
    assert [m["role"] for m in messages] == ["system", "user"]
    got = prompt_excerpts(openai_server)
    assert [n for n, _, _ in got] == list(range(1, len(got) + 1))
    # The extractive answer's citations come first, with their numbers.
    assert [(doc, text) for _, doc, text in got[: len(ex.citations)]] == [
        (c.doc_id, c.quote) for c in ex.citations
    ]
    assert len(got) > len(ex.citations)
    for n, doc, text in got:
        letter = index.catalog.letter(doc)
        assert letter is not None
        flat = clean(letter.text)
        at = flat.find(text)
        assert at >= 0, f"excerpt {n} is not verbatim"
        # Nothing cut mid-word.
        assert at == 0 or not (flat[at - 1].isalnum() and text[0].isalnum()), text[:40]
        after = flat[at + len(text) : at + len(text) + 1]
        assert not (after.isalnum() and text[-1].isalnum()), text[-40:]
        # No excerpt inside another.
        for m, doc2, other in got:
            if m != n and doc2 == doc:
                assert text not in other, (n, m)
    evidence_chars = sum(len(t) for _, _, t in got[len(ex.citations) :])
    assert evidence_chars <= 1500 * 4
    user = messages[1]["content"]
    # Evidence first, then the question and the rules, then a neutral example.
    assert user.index("</evidence>") < user.index(f"Question: {QUESTION}") < user.index("Rules:")
    example = user[user.index("Reply with JSON") :]
    assert "Drug A" in example and "Norco" not in example
    assert CANNOT_ANSWER in user
    # Facts keep their [n]: the extractive answer's lines, markers and all.
    assert ex.answer.splitlines()[1] in user
    assert request.body["max_tokens"] == 321
    fmt = request.body["response_format"]
    assert fmt["type"] == "json_schema"
    numbers = fmt["json_schema"]["schema"]["properties"]["sentences"]["items"]["properties"]
    items = numbers["excerpts"]["items"]
    assert (items["minimum"], items["maximum"]) == (1, len(got))


def test_smaller_budget_means_fewer_passages(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    openai_server.script([GOOD, GOOD])
    make(llm_evidence_tokens=1500).ask(QUESTION)
    make(llm_evidence_tokens=200).ask(QUESTION)
    big, small = prompt_excerpts(openai_server, 0), prompt_excerpts(openai_server, 1)
    assert len(small) == len(extractive[0].citations) < len(big)


def test_header_facts_are_citable_excerpts(
    make: MakeAssistant, index: Index, extractive: tuple[Answer, SearchResult]
) -> None:
    letter = index.catalog.letter(extractive[0].citations[0].doc_id)
    assert letter is not None
    texts = [c.quote for c in header_excerpts(letter)]
    assert any(t.startswith("The injured worker is a 47 year old male") for t in texts), texts
    assert "State(s) of Licensure: New Jersey, Michigan, California" in texts
    assert "Certification(s)/Specialty: Neurology, Neuromuscular Medicine" in texts
    # And they are part of the evidence when a question is about a letter.
    ev = build_evidence(extractive[1], extractive[0], make().texts, 1500, headers=True)
    assert {"header"} <= set(ev.kinds.values())
    assert "State(s) of Licensure: New Jersey, Michigan, California" in [
        c.quote for c in ev.excerpts
    ]


# -- verified answers ----------------------------------------------------------------


def test_json_answer_is_verified_with_markers_written_by_code(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    index: Index,
    extractive: tuple[Answer, SearchResult],
) -> None:
    ex = extractive[0]
    openai_server.script([GOOD])
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm", answer.notices
    assert answer.answered and answer.notices == []
    assert answer.filters == ex.filters
    facts = prompt_facts(openai_server.chat_requests[0])
    sentences = re.split(r"(?<=\]\.) ", answer.answer)
    assert len(sentences) == len(facts)
    for line, (text, _) in zip(sentences, facts, strict=True):
        assert line.startswith(text.rstrip(".")) and re.search(r"\[\d+\]\.?$", line)
    # Every citation of the extractive answer, renumbered in order of first use.
    assert sorted((c.doc_id, c.start) for c in answer.citations) == sorted(
        (c.doc_id, c.start) for c in ex.citations
    )
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert_verbatim(index, c)
    assert len(openai_server.chat_requests) == 1


def test_quote_is_taken_by_id_never_retyped(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    index: Index,
    extractive: tuple[Answer, SearchResult],
) -> None:
    ex = extractive[0]
    cite = next(c for c in ex.citations if "4 A's" in c.quote or "aberrant" in c.quote.lower())
    openai_server.script(
        [
            Reply(
                behaviour=with_sentence(
                    {
                        "text": "One reviewer found no documentation addressing the 4 A's domains.",
                        "excerpts": [],
                        "quote": cite.n,
                    }
                )
            )
        ]
    )
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm", answer.notices
    last = answer.answer[answer.answer.index("One reviewer found") :]
    quoted = re.findall(r'"([^"]+)"', last)
    assert quoted and quoted[0] in cite.quote
    assert last.startswith("One reviewer found no documentation addressing the 4 A's domains: \"")


def test_prose_without_markers_is_attributed_by_support(
    make: MakeAssistant, openai_server: OpenAITestServer, index: Index
) -> None:
    """The 1.5B model never wrote [n]; sentences its excerpts back still count."""
    openai_server.reject_formats = {"json_schema", "json_object"}
    openai_server.script([Reply(behaviour=no_markers)])
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm", answer.notices
    assert answer.citations and all(re.search(r"\[\d+\]", s) for s in answer.answer.split(". "))
    for c in answer.citations:
        assert_verbatim(index, c)
    formats = [
        (r.body.get("response_format") or {}).get("type") for r in openai_server.chat_requests
    ]
    assert formats == ["json_schema", "json_object", None]


def test_json_object_schema_form_for_older_llama_cpp(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    openai_server.reject_formats = {"json_schema"}
    openai_server.script([GOOD, GOOD])
    assistant = make()
    assert assistant.ask(QUESTION)[0].mode == "llm"
    assert assistant.ask(QUESTION)[0].mode == "llm"
    formats = [r.body["response_format"]["type"] for r in openai_server.chat_requests]
    # The rejected form is tried once, then remembered.
    assert formats == ["json_schema", "json_object", "json_object"]
    assert "schema" in openai_server.chat_requests[1].body["response_format"]


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(think(follow_facts), id="think-block"),
        pytest.param(
            lambda r: Reply(content=follow_facts(r).content, reasoning_content="cite [42]"),
            id="reasoning-content",
        ),
        pytest.param(
            lambda r: Reply(content="```json\n" + follow_facts(r).content + "\n```"),
            id="code-fence",
        ),
    ],
)
def test_real_model_wrappings_are_read(
    make: MakeAssistant, openai_server: OpenAITestServer, behaviour: Callable[..., Reply]
) -> None:
    openai_server.script([Reply(behaviour=behaviour)])
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm", answer.notices
    assert "42" not in answer.answer and "think" not in answer.answer.lower()


def test_heading_lines_need_no_citation(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    def behaviour(request: RecordedRequest) -> Reply:
        body = follow_facts(request).content
        return Reply(content="**Why Norco is upheld:**\n" + body)

    openai_server.reject_formats = {"json_schema", "json_object"}
    openai_server.script([Reply(behaviour=behaviour)])
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm", answer.notices
    assert answer.answer.splitlines()[0] == "**Why Norco is upheld:**"


# -- never worse than extractive ---------------------------------------------------------


def test_refusal_does_not_replace_a_cited_extractive_answer(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    openai_server.script([Reply(behaviour=refuse)])
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, extractive[0], LLM_REFUSAL_NOTICE)
    assert answer.answered
    assert len(openai_server.chat_requests) == 1


@pytest.mark.parametrize("reply", [Reply(behaviour=refuse), Reply(content=f"{CANNOT_ANSWER}\n")])
def test_refusal_is_accepted_when_extractive_found_nothing(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    sample_index: Path,
    index: Index,
    reply: Reply,
) -> None:
    plain = Assistant(Settings(index_dir=sample_index, llm_enabled=False), index=index)
    ex, _ = plain.ask(UNANSWERABLE)
    assert not ex.answered
    openai_server.script([reply])
    answer, _ = make().ask(UNANSWERABLE)
    if answer.mode == "llm":
        assert answer.answer == CANNOT_ANSWER and not answer.answered
        assert answer.evidence == ex.evidence
    else:  # no evidence to send: the model is not asked
        assert answer.answer == ex.answer and not openai_server.chat_requests


def test_answer_covering_fewer_items_is_not_preferred(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    def first_fact_only(request: RecordedRequest) -> Reply:
        text, nums = prompt_facts(request)[1]
        return Reply.json({"sentences": [{"text": text, "excerpts": nums}]})

    openai_server.script([Reply(behaviour=first_fact_only)])
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, extractive[0], LLM_COVERAGE_NOTICE)
    assert re.search(r"\d+ of \d+ decisions, \d+ of \d+ reasons", answer.notices[-1])


# -- support, quotes and decisions ---------------------------------------------------------


def test_unsupported_sentence_is_named_in_the_reask_and_fixed(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    invented = {
        "text": "Norco was denied because the patient ran a marathon weekly.",
        "excerpts": [1],
    }
    openai_server.script([Reply(behaviour=with_sentence(invented)), GOOD])
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm"
    assert "marathon" not in answer.answer
    retry = openai_server.chat_requests[1]
    assert retry.messages[2]["role"] == "assistant"
    reask = retry.messages[3]["content"]
    assert "'Norco was denied because the patient ran a marathon weekly.'" in reask
    assert "'marathon'" in reask and "is not backed by excerpt(s) [1]" in reask
    assert retry.body["temperature"] > 0  # temperature 0 repeated the reply word for word


@pytest.mark.parametrize("keep_figure", [True, False], ids=["figure-stated", "figure-left-out"])
def test_count_answer_must_state_the_count(
    make: MakeAssistant, openai_server: OpenAITestServer, keep_figure: bool
) -> None:
    # The real 1.5B model answered a share question without the share (q042).
    def behaviour(request: RecordedRequest) -> Reply:
        sentences = [{"text": t, "excerpts": n} for t, n in prompt_facts(request)]
        if not keep_figure:
            head = re.sub(r"^\d+ of \d+ ", "", sentences[0]["text"])
            sentences[0]["text"] = re.sub(r"\s*\(\d+%\)", "", head)
        return Reply.json({"sentences": sentences})

    openai_server.script([Reply(behaviour=behaviour)] * 2)
    answer, _ = make().ask("How many Norco requests were upheld?")
    assert (answer.mode == "llm") is keep_figure, answer.notices
    if not keep_figure:
        assert any(n.startswith(LLM_FIGURE_NOTICE) and "(4)" in n for n in answer.notices)


@pytest.mark.parametrize("keep_decision", [True, False], ids=["decision-stated", "left-out"])
def test_decision_answer_must_state_the_decision(
    make: MakeAssistant, openai_server: OpenAITestServer, keep_decision: bool
) -> None:
    # The real 1.5B model answered "Was baclofen denied ...?" with the rationale's words
    # and no decision (q025).
    def behaviour(request: RecordedRequest) -> Reply:
        sentences = [{"text": t, "excerpts": n} for t, n in prompt_facts(request)]
        if not keep_decision:
            for x in sentences:
                x["text"] = re.sub(r"\s*:?\s*\b(?:overturned|upheld)\b", "", str(x["text"]))
        return Reply.json({"sentences": sentences})

    openai_server.script([Reply(behaviour=behaviour)] * 2)
    answer, _ = make().ask(
        "Was baclofen denied in the case decided by the family practice reviewer?"
    )
    assert answer.answered
    assert (answer.mode == "llm") is keep_decision, answer.notices
    assert (LLM_DECISION_NOTICE in answer.notices) is not keep_decision, answer.notices


def test_sentence_still_unsupported_is_left_out_with_a_notice(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    invented = {
        "text": "Norco was denied because the patient ran a marathon weekly.",
        "excerpts": [1],
    }
    openai_server.script([Reply(behaviour=with_sentence(invented))] * 2)
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm"
    assert "marathon" not in answer.answer
    assert any("left out" in n and "marathon" in n for n in answer.notices)


@pytest.mark.parametrize(
    "age_shift, ok", [pytest.param(0, True, id="as-stated"), pytest.param(1, False, id="wrong-age")]
)
def test_sentence_naming_the_letter_as_asked_cites_its_cover_line(
    make: MakeAssistant, extractive: tuple[Answer, SearchResult], age_shift: int, ok: bool
) -> None:
    # The real 1.5B model cited the decision excerpt only, for words the cover line says.
    ans, result = extractive
    texts = make().texts
    ev = build_evidence(result, ans, texts, 1500, headers=True)
    decision = next(c for c in ev.excerpts if ev.kinds[c.n] == "answer" and c.decision)
    header = next(
        c
        for c in ev.excerpts
        if ev.kinds[c.n] == "header" and c.doc_id == decision.doc_id and "year old" in c.quote
    )
    match = re.search(r"(\d+) year old", header.quote)
    assert match is not None
    age = int(match[1]) + age_shift
    sentence = DraftSentence(
        f"For the {age}-year-old worker, {decision.treatment} was upheld.", [decision.n]
    )
    checked = check_sentence(sentence, ev, texts)
    assert checked.ok is ok, checked.problem
    if ok:
        assert checked.excerpts == [decision.n, header.n]
    else:
        assert f"'{age}'" in (checked.problem or "")


@pytest.mark.parametrize("from_same_item", [True, False], ids=["same-decision", "other-letter"])
def test_sentence_citing_one_excerpt_of_a_decision_gets_the_one_holding_its_words(
    make: MakeAssistant, extractive: tuple[Answer, SearchResult], from_same_item: bool
) -> None:
    # The real 1.5B model cited one excerpt of a decision for words of another of it.
    ans, result = extractive
    texts = make().texts
    ev = build_evidence(result, ans, texts, 1500)
    line = next(
        c
        for c in ev.excerpts
        if c.decision
        and any(
            o.n != c.n and (o.doc_id, o.treatment) == (c.doc_id, c.treatment) for o in ev.excerpts
        )
    )
    same = [
        c
        for c in ev.excerpts
        if c.n != line.n and (c.doc_id, c.treatment) == (line.doc_id, line.treatment)
    ]
    if from_same_item:
        donor = same[0]
    else:
        donor = next(c for c in ev.excerpts if c.doc_id != line.doc_id and c.decision)
    near = {stem(w) for c in [line, *same] for w in words(c.quote)}
    new_words = [w for w in dict.fromkeys(content_words(donor.quote)) if not w[0].isdigit()]
    if not from_same_item:
        new_words = [w for w in new_words if stem(w) not in near]
    else:
        new_words = [w for w in new_words if stem(w) not in {stem(x) for x in words(line.quote)}]
    sentence = DraftSentence(f"{line.treatment} was upheld: {' '.join(new_words[:3])}.", [line.n])
    checked = check_sentence(sentence, ev, texts)
    assert checked.ok is from_same_item, checked.problem
    if from_same_item:
        assert checked.excerpts[0] == line.n and set(checked.excerpts[1:]) <= {c.n for c in same}
        assert len(checked.excerpts) >= 2


@pytest.mark.parametrize(
    "sentence, problem",
    [
        pytest.param(
            {"text": "Norco requests are upheld for lack of improvement.", "excerpts": [99]},
            "cites excerpt [99], which does not exist",
            id="no-such-excerpt",
        ),
        pytest.param(
            {
                "text": 'The reviewer noted "the patient ran a marathon while on Norco".',
                "excerpts": [1],
            },
            "quotes words not in excerpt(s) [1]",
            id="invented-quote",
        ),
        pytest.param(
            {"text": "The Norco request was overturned.", "excerpts": [1]},
            "says overturned but cites no overturned decision",
            id="decision-backwards",
        ),
        pytest.param(
            {"text": "Norco 10/325mg #240 was upheld.", "excerpts": [1]},
            "'240' not in them",
            id="wrong-number",
        ),
    ],
)
def test_unverifiable_only_answer_falls_back(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    extractive: tuple[Answer, SearchResult],
    sentence: dict[str, object],
    problem: str,
) -> None:
    openai_server.script([Reply.json({"sentences": [sentence]})] * 2)
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, extractive[0], LLM_FALLBACK_NOTICE)
    assert problem in answer.notices[-1]
    assert problem in openai_server.chat_requests[1].messages[-1]["content"]


@pytest.mark.parametrize(
    "quote, source, found",
    [
        pytest.param("long-term use", "Long term use of opioids", True, id="hyphen-vs-space"),
        pytest.param("4 A's", "the 4 A\u2019s domains", True, id="curly-apostrophe"),
        pytest.param("pain \u2013 function", "pain - function", True, id="en-dash"),
        pytest.param("NO FUNCTIONAL improvement", "no functional improvement", True, id="case"),
        pytest.param(
            "there is no ... of pain",
            "there is no objective documentation of pain",
            True,
            id="ellipsis",
        ),
        pytest.param(
            "no \u2026 pain", "no objective documentation of pain", True, id="ellipsis-char"
        ),
        pytest.param(
            "pain of no", "no objective documentation of pain", False, id="ellipsis-order"
        ),
        pytest.param("functional impro", "functional improvement", False, id="partial-word"),
        pytest.param(
            "documented improvement", "no documentation of improvement", False, id="other-words"
        ),
    ],
)
def test_quote_matching_is_tolerant_but_verbatim(quote: str, source: str, found: bool) -> None:
    assert quote_in(quote, source) is found


@pytest.mark.parametrize(
    "sentence, ok",
    [
        pytest.param(
            "Norco was not supported because long-term use is not recommended.", True, id="restated"
        ),
        pytest.param(
            "The reviewer said long-term opioid use is not recommended by MTUS.",
            True,
            id="inflections",
        ),
        pytest.param(
            "Norco was stopped because the patient developed liver failure and jaundice.",
            False,
            id="new-claim",
        ),
        pytest.param(
            "Norco 10/325mg #240 use is not recommended long-term.", False, id="wrong-number"
        ),
    ],
)
def test_support_check_table(sentence: str, ok: bool) -> None:
    source = (
        "The MTUS guidelines do not recommend long-term use of opioids for chronic pain; "
        "the request for Norco 10/325mg #30 is not medically necessary."
    )
    assert support(sentence, [source]).ok is ok


@pytest.mark.parametrize(
    "sentence, ok",
    [
        pytest.param("1 muscle relaxant request was approved.", True, id="count-as-recorded"),
        # The real 1.5B model's answer to "How many muscle relaxant requests were approved?"
        pytest.param("There were no muscle relaxant requests approved.", False, id="no-requests"),
        pytest.param("None of them were approved.", False, id="none"),
        pytest.param(
            "3 muscle relaxant requests were approved.", False, id="the-marker-is-no-count"
        ),
        pytest.param(
            "The request was approved although there was no functional improvement.",
            True,
            id="no-as-a-reason",
        ),
    ],
)
def test_support_check_counts(sentence: str, ok: bool) -> None:
    fact = "1 of 2 muscle relaxant decisions in the index were overturned (50%): [3]"
    source = "Functional improvement: no functional improvement was documented."
    assert support(sentence, [fact, source]).ok is ok


def test_check_answer_reads_prose_with_markers(
    make: MakeAssistant, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    texts = make().texts
    quote = "there is no objective documentation of pain"
    assert check_answer(f'They noted "{quote}" [1].', ex.citations, texts).ok
    bad = check_answer(f'They noted "{quote}" [2].', ex.citations, texts)
    assert not bad.ok and bad.used == [2]
    assert check_answer(CANNOT_ANSWER, ex.citations, texts).ok
    assert check_answer("   ", ex.citations, texts).problems == ["the answer is empty"]


@pytest.mark.parametrize(
    "raw, sentences, refused",
    [
        pytest.param(
            '{"sentences": [{"text": "A [2].", "excerpts": ["1", 3]}]}',
            [("A.", [1, 3])],
            False,
            id="json",
        ),
        pytest.param(
            'Here you go: {"sentences": [{"text": "A", "excerpts": [1],},]}',
            [("A", [1])],
            False,
            id="trailing-comma",
        ),
        pytest.param('{"sentences": []}', [], True, id="empty-is-refusal"),
        pytest.param(
            "Norco is upheld [1][2]. It is [3, 4].",
            [("Norco is upheld.", [1, 2]), ("It is.", [3, 4])],
            False,
            id="prose",
        ),
        pytest.param(f'"{CANNOT_ANSWER}"', [], True, id="quoted-refusal"),
    ],
)
def test_read_reply_table(raw: str, sentences: list[tuple[str, list[int]]], refused: bool) -> None:
    draft = read_reply(raw)
    assert [(s.text, s.excerpts) for s in draft.sentences] == sentences
    assert draft.refused is refused


# -- transport failures --------------------------------------------------------------


def test_rate_limit_then_good(make: MakeAssistant, openai_server: OpenAITestServer) -> None:
    openai_server.script([Reply(status=429, headers={"Retry-After": "0"}), GOOD])
    started = time.monotonic()
    answer, _ = make().ask(QUESTION)
    assert time.monotonic() - started < 5
    assert answer.mode == "llm"
    assert len(openai_server.chat_requests) == 2
    assert any("sent 2 times" in n and "HTTP 429" in n for n in answer.notices)


def test_timeout_then_good_is_reported(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    openai_server.script([Reply(delay=3), GOOD])
    answer, _ = make(llm_timeout=1.0).ask(QUESTION)
    assert answer.mode == "llm"
    assert any("sent 2 times (timed out after 1s)" in n for n in answer.notices), answer.notices


def test_server_errors_exhaust_retries_and_fall_back(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    error = Reply(status=500, headers={"Retry-After": "0"})
    openai_server.script([error, error, GOOD])
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, ex, "HTTP 500")
    assert "(2 attempts)" in answer.notices[-1]
    assert len(openai_server.chat_requests) == 2
    assert openai_server.pending == 1
    assert answer.usage is None


def test_timeout_falls_back_in_bounded_time(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    openai_server.script([Reply(behaviour=follow_facts, delay=3)] * 2)
    started = time.monotonic()
    answer, _ = make(llm_timeout=1.0).ask(QUESTION)
    elapsed = time.monotonic() - started
    assert_fallback(answer, extractive[0], "timed out after 1s")
    assert elapsed < 5, elapsed
    assert len(openai_server.chat_requests) == 2


@pytest.mark.parametrize(
    "replies, problem, requests",
    [
        ([Reply(content="")], "returned an empty reply", 1),
        ([Reply(raw=b'{"choices": [ not json')], "malformed reply", 1),
        (["诺可的请求被维持，因为没有记录功能改善 [1]。"] * 2, "not in English", 2),
    ],
    ids=["empty", "malformed-json", "chinese"],
)
def test_unusable_replies_fall_back(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    extractive: tuple[Answer, SearchResult],
    replies: list[Reply | str],
    problem: str,
    requests: int,
) -> None:
    openai_server.script(replies)
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, extractive[0], problem)
    assert len(openai_server.chat_requests) == requests


def test_usage_of_every_attempt_is_reported(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    usage = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
    invented = {
        "text": "Norco was denied because the patient ran a marathon weekly.",
        "excerpts": [1],
    }
    openai_server.script(
        [Reply(behaviour=lambda r: Reply(content=with_sentence(invented)(r).content, usage=usage))]
        + [Reply(behaviour=lambda r: Reply(content=follow_facts(r).content, usage=usage))]
    )
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm"
    assert answer.usage == {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}
    assert json.loads(answer.model_dump_json())["usage"] == answer.usage


def test_on_delta_gets_only_the_verified_text(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    openai_server.script([Reply(behaviour=think(follow_facts))])
    pieces: list[str] = []
    answer, _ = make().ask(QUESTION, on_delta=pieces.append)
    assert pieces == [answer.answer]
    assert not openai_server.chat_requests[0].body.get("stream")


# -- the API key never leaks ---------------------------------------------------------


@pytest.mark.parametrize(
    "accepts, reply, problem",
    [
        (SENTINEL, None, None),
        # A server error that echoes the key back.
        (
            SENTINEL,
            Reply(status=500, headers={"Retry-After": "0"}, error_message=f"bad key {SENTINEL}"),
            "bad key ***",
        ),
        # The server wants another key: 401, and the writer falls back.
        ("sk-test-other", None, "HTTP 401"),
    ],
    ids=["ok", "echoed-in-error", "refused"],
)
def test_api_key_never_appears_in_answers(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    extractive: tuple[Answer, SearchResult],
    accepts: str,
    reply: Reply | None,
    problem: str | None,
) -> None:
    openai_server.api_key = accepts
    openai_server.script([reply or GOOD] * 2)
    assistant = make(openai_api_key=SENTINEL)
    answer, _ = assistant.ask(QUESTION)
    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {SENTINEL}"
    if problem is None:
        assert answer.mode == "llm"
    else:
        assert_fallback(answer, extractive[0], problem)
    assert SENTINEL not in answer.model_dump_json()
    assert SENTINEL not in repr(answer)
    assert SENTINEL not in repr(assistant.settings)
    assert SENTINEL not in repr(assistant.llm_writer().client)
    assert SENTINEL not in repr(assistant.llm_writer().client.config)


# -- the CLI ----------------------------------------------------------------------------


def run_ask(sample_index: Path, server: OpenAITestServer, *extra: str, key: str | None = None):  # type: ignore[no-untyped-def]
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": key or server.api_key}
    args = ["ask", QUESTION, "--llm", "test-model", "--index", str(sample_index), *extra]
    return CliRunner().invoke(app, args, env=env)


def test_cli_ask_json_llm(
    sample_index: Path, openai_server: OpenAITestServer, make: MakeAssistant
) -> None:
    openai_server.script([GOOD, GOOD])
    library, _ = make().ask(QUESTION)
    result = run_ask(sample_index, openai_server, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "llm"
    assert data["answered"] is True
    assert data["answer"] == library.answer
    assert [c["quote"] for c in data["citations"]] == [c.quote for c in library.citations]
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0
    assert openai_server.chat_requests[1].body["model"] == "test-model"


def test_cli_ask_plain_llm_prints_sources_and_tokens(
    sample_index: Path, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    openai_server.script([GOOD])
    result = run_ask(sample_index, openai_server)
    assert result.exit_code == 0, result.output
    assert ex.citations[0].quote in result.stdout
    assert re.search(r"tokens: \d+ in, \d+ out", result.stderr)


def test_cli_ask_prints_bracketed_text_literally(
    sample_index: Path, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    """Server messages are data, not rich markup: no crash, nothing eaten."""
    openai_server.script([Reply(status=404, error_message="no route [/v1/chat/completions]")] * 2)
    result = run_ask(sample_index, openai_server)
    assert result.exit_code == 0, result.output
    assert extractive[0].answer in result.stdout
    assert "no route [/v1/chat/completions]" in result.stderr


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
@pytest.mark.parametrize(
    "accepts, reply",
    [
        (SENTINEL, None),
        (
            SENTINEL,
            Reply(status=500, headers={"Retry-After": "0"}, error_message=f"no {SENTINEL}"),
        ),
        (SENTINEL, Reply(status=400, error_message=f"key {SENTINEL} is not valid here")),
        ("sk-test-other", None),
    ],
    ids=["ok", "500-echo", "400-echo", "401"],
)
def test_cli_never_prints_the_api_key(
    sample_index: Path,
    openai_server: OpenAITestServer,
    extractive: tuple[Answer, SearchResult],
    accepts: str,
    reply: Reply | None,
    as_json: bool,
) -> None:
    openai_server.api_key = accepts
    openai_server.script([reply or GOOD] * 2)
    result = run_ask(sample_index, openai_server, *(["--json"] if as_json else []), key=SENTINEL)
    assert result.exit_code == 0, result.output
    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert SENTINEL not in result.output
    assert SENTINEL not in result.stdout
    assert SENTINEL not in result.stderr
    if reply is not None or accepts != SENTINEL:
        assert LLM_FALLBACK_NOTICE in (result.stdout if as_json else result.stderr)
