"""LLM answers over the sample index, through the real openai client and a local server.

Nothing is mocked: the answers come from ``tests/openai_server.py`` over HTTP, the
evidence from the Chroma index of the five sample letters.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_assist.answer.llm import check_answer
from imr_assist.answer.service import Assistant
from imr_assist.cli import _register, app
from imr_assist.constants import CANNOT_ANSWER, LLM_FALLBACK_NOTICE
from imr_assist.index.index import Index
from imr_assist.models import Answer, Citation
from imr_assist.retrieve.hybrid import SearchResult
from imr_assist.settings import Settings
from imr_assist.text import clean
from tests.openai_server import OpenAITestServer, Reply

_register()

QUESTION = "Why are Norco requests upheld?"
SENTINEL = "sk-test-SENTINEL-99"
_EXCERPT = re.compile(r'<excerpt n="(\d+)" letter="([^"]+)"[^>]*>\n(.*?)\n</excerpt>', re.S)

MakeAssistant = Callable[..., Assistant]


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


def expected_excerpts(extractive: tuple[Answer, SearchResult]) -> list[tuple[str, str]]:
    """(doc_id, text) of every excerpt: the extractive citations, then the other top hits."""
    answer, result = extractive
    out = [(c.doc_id, c.quote) for c in answer.citations]
    seen = {(c.doc_id, c.start, c.end) for c in answer.citations}
    for h in result.hits:
        key = (h.chunk.doc_id, h.chunk.start, h.chunk.end)
        if key not in seen:
            seen.add(key)
            out.append((h.chunk.doc_id, h.chunk.text))
    return out


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
    assert len(answer.notices) == len(extractive.notices) + 1
    notice = answer.notices[-1]
    assert notice.startswith(LLM_FALLBACK_NOTICE)
    assert problem in notice


def good_reply(extractive: Answer) -> str:
    """Cites [2], then [1] with a verbatim quote from citation 1."""
    q1 = extractive.citations[0].quote
    words = q1.rstrip(".").split()
    part = " ".join(words[3:14])  # a phrase from the middle of the sentence
    assert len(part) > 20 and part in q1
    return (
        "Norco requests are upheld when the records do not address the 4 A's domains [2]. "
        f'One reviewer found "{part}" [1].'
    )


def renumbered_good(extractive: Answer) -> str:
    return good_reply(extractive).replace("[2]", "[#]").replace("[1]", "[2]").replace("[#]", "[1]")


# -- the prompt ----------------------------------------------------------------------


def test_prompt_holds_the_extractive_citations_then_top_passages(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    extractive: tuple[Answer, SearchResult],
) -> None:
    ex = extractive[0]
    openai_server.script([good_reply(ex)])
    make().ask(QUESTION)
    assert len(openai_server.chat_requests) == 1
    request = openai_server.chat_requests[0]
    assert request.body["model"] == "test-model"
    messages = request.messages
    assert [m["role"] for m in messages] == ["system", "user"]

    got = prompt_excerpts(openai_server)
    want = expected_excerpts(extractive)
    assert len(want) > len(ex.citations) > 2
    assert [n for n, _, _ in got] == list(range(1, len(want) + 1))
    assert [(doc, text) for _, doc, text in got] == want

    # Letter text is only ever inside the <evidence> block of the user message.
    system, user = messages[0]["content"], messages[1]["content"]
    assert user.count("<evidence>") == 1 and user.count("</evidence>") == 1
    start, end = user.index("<evidence>"), user.index("</evidence>")
    before, inside, after = user[:start], user[start:end], user[end:]
    assert before.strip() == f"Question: {QUESTION}"
    assert "<excerpt" not in after and "Facts" not in after
    assert CANNOT_ANSWER in system
    for _, doc, text in got:
        assert text in inside
        for outside in (system, before, after):
            assert text not in outside
            assert doc not in outside
    # The extractive answer's counts are given as facts, without its [n] markers.
    fact = ex.answer.splitlines()[0]
    assert f"- {fact}" in inside
    assert "Facts from the structured records:" in inside
    facts_part = inside.split("Excerpts:", 1)[0]
    assert not re.search(r"\[\d+\]", facts_part)


# -- verified answers ----------------------------------------------------------------


def test_good_answer_is_verified_and_renumbered(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    index: Index,
    extractive: tuple[Answer, SearchResult],
) -> None:
    ex = extractive[0]
    first_hit = len(ex.citations) + 1
    reply = good_reply(ex) + f" The reviewers applied the MTUS opioid criteria [{first_hit}]."
    openai_server.script([reply])
    answer, _ = make().ask(QUESTION)

    assert answer.mode == "llm"
    assert answer.answered
    assert answer.notices == []
    assert answer.question == QUESTION
    assert answer.filters == ex.filters
    assert (
        answer.answer
        == renumbered_good(ex) + " The reviewers applied the MTUS opioid criteria [3]."
    )
    assert [c.n for c in answer.citations] == [1, 2, 3]
    excerpts = {n: (doc, text) for n, doc, text in prompt_excerpts(openai_server)}
    for c, old in zip(answer.citations, (2, 1, first_hit), strict=True):
        assert (c.doc_id, c.quote) == excerpts[old]
        assert_verbatim(index, c)
    assert answer.citations[0] == ex.citations[1].model_copy(update={"n": 1})
    assert answer.citations[1] == ex.citations[0].model_copy(update={"n": 2})
    # The quoted phrase is verbatim in the letter of the excerpt it cites.
    quoted = re.findall(r'"([^"]+)"', answer.answer)
    assert quoted and all(q in answer.citations[1].quote for q in quoted)
    assert len(openai_server.chat_requests) == 1


def test_quote_with_abbreviation_is_accepted(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    index: Index,
    extractive: tuple[Answer, SearchResult],
) -> None:
    ex = extractive[0]
    # A verbatim quote with "e.g. CURES" in it must not be split into two sentences.
    cite = next(c for c in ex.citations if "e.g. " in c.quote)
    reply = f'A reviewer wrote that "{cite.quote}" [{cite.n}].'
    openai_server.script([reply])
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm", answer.notices
    assert answer.answer == f'A reviewer wrote that "{cite.quote}" [1].'
    assert answer.citations == [cite.model_copy(update={"n": 1})]
    assert_verbatim(index, answer.citations[0])
    assert len(openai_server.chat_requests) == 1


def test_bad_citation_twice_falls_back(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    bad = "Norco requests are upheld for lack of documented improvement [99]."
    openai_server.script([bad, bad])
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, ex, "citation [99] does not exist")
    assert len(openai_server.chat_requests) == 2
    first, retry = (r.messages for r in openai_server.chat_requests)
    assert retry[:2] == first
    assert retry[2] == {"role": "assistant", "content": bad}
    assert retry[3]["role"] == "user"
    n_excerpts = len(prompt_excerpts(openai_server))
    assert "- citation [99] does not exist" in retry[3]["content"]
    assert f"Cite only excerpt numbers from 1 to {n_excerpts}" in retry[3]["content"]
    # Usage of both attempts is kept, even on fallback.
    assert answer.usage and answer.usage["completion_tokens"] > 0


def test_bad_then_good_is_answered_by_the_retry(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    usage = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
    openai_server.script(
        [
            Reply(content="Norco requests are upheld because doctors say so.", usage=usage),
            Reply(content=good_reply(ex), usage=usage),
        ]
    )
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm"
    assert answer.answered
    assert answer.answer == renumbered_good(ex)
    assert len(openai_server.chat_requests) == 2
    retry = openai_server.chat_requests[1].messages[-1]["content"]
    assert "sentence without a citation: 'Norco requests are upheld because doctors say so.'" in (
        retry
    )
    assert answer.usage == {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}


@pytest.mark.parametrize(
    "reply, problem",
    [
        # Not in any letter.
        (
            'The reviewer noted "the patient ran a marathon while on Norco" [1].',
            "quote not found in the cited letters: 'the patient ran a marathon while on Norco'",
        ),
        # Verbatim in letter 001, but the sentence cites only excerpt 2 (letter 003).
        (
            'The reviewer noted "there is no objective documentation of pain" [2].',
            "quote not found in the cited letters",
        ),
        # A sentence with no citation at all.
        ("Norco requests are upheld. Everyone knows that [1].", "sentence without a citation"),
    ],
    ids=["invented-quote", "quote-from-another-letter", "uncited-sentence"],
)
def test_unverifiable_answer_is_rejected(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    extractive: tuple[Answer, SearchResult],
    reply: str,
    problem: str,
) -> None:
    ex = extractive[0]
    assert ex.citations[0].doc_id.startswith("001") and ex.citations[1].doc_id.startswith("003")
    openai_server.script([reply, reply])
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, ex, problem)
    assert problem in openai_server.chat_requests[1].messages[-1]["content"]


def test_check_answer_uses_the_cited_letter(
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


# -- transport failures --------------------------------------------------------------


def test_rate_limit_then_good(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    openai_server.script([Reply(status=429, headers={"Retry-After": "0"}), good_reply(ex)])
    started = time.monotonic()
    answer, _ = make().ask(QUESTION)
    assert time.monotonic() - started < 5
    assert answer.mode == "llm"
    assert answer.answer == renumbered_good(ex)
    assert len(openai_server.chat_requests) == 2


def test_server_errors_exhaust_retries_and_fall_back(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    error = Reply(status=500, headers={"Retry-After": "0"})
    openai_server.script([error, error, good_reply(ex)])
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, ex, "HTTP 500")
    assert "(2 attempts)" in answer.notices[-1]
    # max_retries=1: one retry, and a failed request is not re-asked by the writer.
    assert len(openai_server.chat_requests) == 2
    assert openai_server.pending == 1
    assert answer.usage is None


def test_timeout_falls_back_in_bounded_time(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    openai_server.script([Reply(content=good_reply(ex), delay=3)] * 2)
    started = time.monotonic()
    answer, _ = make(llm_timeout=1.0).ask(QUESTION)
    elapsed = time.monotonic() - started
    assert_fallback(answer, ex, "timed out after 1s")
    assert elapsed < 5, elapsed
    assert len(openai_server.chat_requests) == 2


@pytest.mark.parametrize(
    "replies, problem, requests",
    [
        ([Reply(content="")], "returned an empty reply", 1),
        ([Reply(raw=b'{"choices": [ not json')], "malformed reply", 1),
        (
            ["诺可的请求被维持，因为没有记录功能改善 [1]。"] * 2,
            "the answer cites no excerpt",
            2,
        ),
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
    ex = extractive[0]
    openai_server.script(replies)
    answer, _ = make().ask(QUESTION)
    assert_fallback(answer, ex, problem)
    assert len(openai_server.chat_requests) == requests


def test_chinese_answer_is_reported_as_not_english(
    make: MakeAssistant, openai_server: OpenAITestServer
) -> None:
    reply = "诺可的请求被维持，因为没有记录功能改善 [1]。"
    openai_server.script([reply, reply])
    make().ask(QUESTION)
    assert (
        "- the answer is not in English" in openai_server.chat_requests[1].messages[-1]["content"]
    )


def test_model_says_cannot_answer(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    openai_server.script([f"{CANNOT_ANSWER}\n"])
    answer, _ = make().ask(QUESTION)
    assert answer.mode == "llm"
    assert answer.answered is False
    assert answer.answer == CANNOT_ANSWER
    assert answer.citations == []
    assert answer.notices == []
    assert answer.filters == extractive[0].filters
    assert len(openai_server.chat_requests) == 1


# -- streaming and usage --------------------------------------------------------------


def test_streaming_deltas_and_verified_answer(
    make: MakeAssistant,
    openai_server: OpenAITestServer,
    index: Index,
    extractive: tuple[Answer, SearchResult],
) -> None:
    ex = extractive[0]
    raw = good_reply(ex)
    chunks = [raw[:10], raw[10:40], raw[40:85], raw[85:120], raw[120:]]
    assert all(chunks) and "".join(chunks) == raw
    usage = {"prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290}
    openai_server.script([Reply(chunks=chunks, usage=usage)])
    pieces: list[str] = []
    answer, _ = make().ask(QUESTION, on_delta=pieces.append)

    assert pieces == chunks
    assert "".join(pieces) == raw
    body = openai_server.chat_requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert answer.mode == "llm"
    assert answer.answer == renumbered_good(ex)
    for c in answer.citations:
        assert_verbatim(index, c)
    assert answer.usage == usage


def test_streamed_draft_failing_verification_is_retried_without_streaming(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    bad = "Norco is upheld [42]."
    openai_server.script([bad, good_reply(ex)])
    pieces: list[str] = []
    answer, _ = make().ask(QUESTION, on_delta=pieces.append)
    assert "".join(pieces) == bad
    assert answer.mode == "llm"
    assert answer.answer == renumbered_good(ex)
    assert [r.body.get("stream", False) for r in openai_server.chat_requests] == [True, False]


def test_usage_is_reported(
    make: MakeAssistant, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    openai_server.script([good_reply(extractive[0])])
    answer, _ = make().ask(QUESTION)
    assert answer.usage is not None
    assert answer.usage["prompt_tokens"] > 100
    assert answer.usage["completion_tokens"] > 0
    total = answer.usage["prompt_tokens"] + answer.usage["completion_tokens"]
    assert answer.usage["total_tokens"] == total
    assert json.loads(answer.model_dump_json())["usage"] == answer.usage


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
    openai_server.script([reply or good_reply(extractive[0])] * 2)
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
    sample_index: Path, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    openai_server.script([good_reply(ex)])
    result = run_ask(sample_index, openai_server, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "llm"
    assert data["answered"] is True
    assert data["answer"] == renumbered_good(ex)
    assert [c["doc_id"] for c in data["citations"]] == [
        ex.citations[1].doc_id,
        ex.citations[0].doc_id,
    ]
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0
    assert openai_server.chat_requests[0].body["model"] == "test-model"


def test_cli_ask_plain_llm_prints_sources_and_tokens(
    sample_index: Path, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    ex = extractive[0]
    openai_server.script([good_reply(ex)])
    result = run_ask(sample_index, openai_server)
    assert result.exit_code == 0, result.output
    assert renumbered_good(ex) in result.stdout
    assert ex.citations[0].quote in result.stdout
    assert re.search(r"tokens: \d+ in, \d+ out", result.stderr)


def test_cli_ask_prints_bracketed_text_literally(
    sample_index: Path, openai_server: OpenAITestServer, extractive: tuple[Answer, SearchResult]
) -> None:
    """Model text and server messages are data, not rich markup: no crash, nothing eaten."""
    reply = "Norco requests are upheld for lack of [bold]documented improvement [1] [/INST]"
    openai_server.script([reply])
    result = run_ask(sample_index, openai_server)
    assert result.exit_code == 0, result.output
    assert reply in result.stdout

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
    openai_server.script([reply or good_reply(extractive[0])] * 2)
    result = run_ask(sample_index, openai_server, *(["--json"] if as_json else []), key=SENTINEL)
    assert result.exit_code == 0, result.output
    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert SENTINEL not in result.output
    assert SENTINEL not in result.stdout
    assert SENTINEL not in result.stderr
    if reply is not None or accepts != SENTINEL:
        assert LLM_FALLBACK_NOTICE in (result.stdout if as_json else result.stderr)
