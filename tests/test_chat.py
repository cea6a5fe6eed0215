"""Chat over the sample index: follow-ups inherit filters; the CLI reads piped stdin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_assist.answer.chat import ChatSession
from imr_assist.answer.llm import LLM_REFUSAL_NOTICE
from imr_assist.answer.service import Assistant
from imr_assist.cli import _register, app
from imr_assist.constants import CANNOT_ANSWER
from imr_assist.settings import Settings
from tests.openai_server import OpenAITestServer, Reply, follow_facts

_register()

NORCO = "Why are Norco requests upheld?"


@pytest.fixture(scope="module")
def assistant(sample_index: Path) -> Iterator[Assistant]:
    a = Assistant(Settings(index_dir=sample_index, llm_enabled=False))
    yield a
    a.index.close()


@pytest.fixture
def session(assistant: Assistant) -> ChatSession:
    return ChatSession(assistant.settings, assistant=assistant)


def test_first_question_sets_filters(session: ChatSession) -> None:
    answer = session.ask(NORCO)
    assert answer.answered and answer.mode == "extractive"
    assert session.filters_dict()["decision"] == "upheld"
    assert session.filters_dict()["treatment"] == ["Norco"]
    assert answer.citations
    assert all(c.treatment and c.treatment.startswith("Norco") for c in answer.citations)


def test_and_soma_keeps_decision_and_swaps_treatment(session: ChatSession) -> None:
    session.ask(NORCO)
    answer = session.ask("and Soma?")
    assert answer.question == "and Soma?"
    assert answer.answered
    assert answer.citations
    for c in answer.citations:
        assert c.treatment and c.treatment.startswith("Soma"), c
        assert c.decision == "upheld"
    assert session.filters_dict()["treatment"] == ["Soma"]
    assert session.filters_dict()["decision"] == "upheld"


def test_which_of_those_were_overturned(session: ChatSession) -> None:
    session.ask(NORCO)
    answer = session.ask("which of those were overturned?")
    assert answer.answered
    assert answer.citations
    for c in answer.citations:
        assert c.doc_id.startswith("002"), c
        assert c.treatment and c.treatment.startswith("Norco")
        assert c.decision == "overturned"
    assert session.filters_dict()["decision"] == "overturned"
    assert session.filters_dict()["treatment"] == ["Norco"]


def test_follow_up_adds_a_reviewer_specialty(session: ChatSession) -> None:
    # Only letter 004's Norco item was decided by a Family Practice reviewer.
    session.ask(NORCO)
    answer = session.ask("and by Family Practice reviewers?")
    assert session.filters_dict()["specialty"] == "Family Practice"
    assert answer.citations
    for c in answer.citations:
        assert c.doc_id.startswith("004"), c
        assert c.treatment and c.treatment.startswith("Norco")


def test_a_question_pointing_back_keeps_the_letters(session: ChatSession) -> None:
    session.ask("Why are Norco requests upheld by Family Practice reviewers?")
    # its own treatment and decision, but "those letters" are the last answer's
    session.ask("Why was Xanax upheld in those letters?")
    assert session.filters_dict()["specialty"] == "Family Practice"
    assert session.filters_dict()["treatment"] == ["Xanax"]


def test_follow_up_adds_a_guideline(session: ChatSession) -> None:
    # Every sample decision cites MTUS; none cites ODG, so the follow-up has no answer.
    session.ask(NORCO)
    answer = session.ask("what about those under ODG?")
    assert session.filters_dict()["guideline"] == "ODG"
    assert not answer.answered
    assert not answer.citations


def test_question_naming_treatment_and_decision_starts_afresh(session: ChatSession) -> None:
    session.ask("Why are Norco requests upheld by Family Practice reviewers?")
    assert session.filters_dict()["specialty"] == "Family Practice"
    # It names its own treatment and decision, and points back at nothing.
    answer = session.ask("Why was Xanax upheld?")
    assert "specialty" not in session.filters_dict()
    assert answer.answered
    assert answer.citations
    for c in answer.citations:
        assert c.doc_id.startswith("002"), c
        assert c.treatment and c.treatment.startswith("Xanax")


def test_follow_up_names_another_letter(session: ChatSession) -> None:
    first = session.ask("Why was Norco upheld in letter 001?")
    assert first.citations and all(c.doc_id.startswith("001") for c in first.citations)
    answer = session.ask("what about letter 004?")
    assert session.filters_dict()["doc_id"] == ["004_c3a84b1ea5686096"]
    assert session.filters_dict()["decision"] == "upheld"
    assert answer.citations
    for c in answer.citations:
        assert c.doc_id.startswith("004"), c
        assert c.treatment and c.treatment.startswith("Norco")


def test_chained_follow_ups_repeat_the_first_question(
    assistant: Assistant, openai_server: OpenAITestServer
) -> None:
    settings = Settings(
        index_dir=assistant.settings.index_dir,
        llm_enabled=True,
        llm_model="test-model",
        openai_base_url=openai_server.base_url,
        openai_api_key=openai_server.api_key,
        llm_timeout=5.0,
        llm_max_retries=0,
    )
    chat = ChatSession(settings, assistant=Assistant(settings, index=assistant.index))
    openai_server.script([CANNOT_ANSWER] * 3)
    for q in (NORCO, "and Soma?", "and Xanax?"):
        # The model refuses, but the extractive writer answered: its answer stands.
        answer = chat.ask(q)
        assert answer.answer != CANNOT_ANSWER and answer.mode == "extractive"
        assert LLM_REFUSAL_NOTICE in answer.notices
    questions = [
        re.search(r"^Question: .*$", r.messages[1]["content"], re.M)[0]  # type: ignore[index]
        for r in openai_server.chat_requests
    ]
    assert questions == [
        f"Question: {NORCO}",
        f"Question: {NORCO} (and Soma?)",
        f"Question: {NORCO} (and Xanax?)",
    ]
    assert chat.filters_dict()["treatment"] == ["Xanax"]
    assert "Soma" not in openai_server.chat_requests[2].messages[1]["content"]


def test_reset_clears_filters(session: ChatSession) -> None:
    session.ask(NORCO)
    assert session.filters_dict()
    session.reset()
    assert session.filters_dict() == {}
    assert session.plan is None
    # After a reset "and Soma?" is a fresh question: no decision is inherited.
    answer = session.ask("and Soma?")
    assert "decision" not in session.filters_dict()
    assert answer.question == "and Soma?"
    assert all(c.treatment and c.treatment.startswith("Soma") for c in answer.citations)


# -- the CLI -----------------------------------------------------------------------


def test_cli_chat_with_piped_stdin(sample_index: Path, assistant: Assistant) -> None:
    expected, _ = assistant.ask(NORCO)
    stdin = f"{NORCO}\n/sources\n/filters\n/help\n/reset\n/filters\n/bogus\n/quit\nignored?\n"
    result = CliRunner().invoke(
        app, ["chat", "--llm", "none", "--index", str(sample_index)], input=stdin
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"> {NORCO}" in out
    assert f"({len(expected.citations)} source(s); /sources to show them)" in out
    # /sources prints each verified quote.
    for c in expected.citations:
        assert c.quote in out
    # /filters shows the filters in force, then "none" after /reset.
    filters = (
        "{'treatment': ['Norco'], 'generic': ['hydrocodone/acetaminophen'], 'decision': 'upheld'}"
    )
    assert filters in out
    assert "/sources   show the sources of the last answer" in out
    assert out.index(filters) < out.index("Conversation reset.") < out.rindex("none")
    assert "Unknown command /bogus" in out
    # Nothing after /quit is asked.
    assert "ignored?" not in out


def test_cli_chat_follow_up(sample_index: Path) -> None:
    stdin = f"{NORCO}\nand Soma?\n/sources\n"  # ends without /quit: EOF leaves cleanly
    result = CliRunner().invoke(
        app, ["chat", "--llm", "none", "--index", str(sample_index)], input=stdin
    )
    assert result.exit_code == 0, result.output
    sources = result.output.split("and Soma?", 1)[1].split("Sources", 1)[1]
    assert "Soma 350mg #60 (upheld)" in sources
    assert "Norco" not in sources


def _prompt_excerpts(server: OpenAITestServer) -> int:
    user = server.chat_requests[0].messages[1]["content"]
    return user.count("<excerpt n=")


def test_cli_chat_shows_only_the_verified_answer(
    sample_index: Path, assistant: Assistant, openai_server: OpenAITestServer
) -> None:
    bad = "Norco is upheld because the moon is full [99]."
    openai_server.script([bad, Reply(behaviour=follow_facts)])
    result = CliRunner().invoke(
        app,
        ["chat", "--llm", "test-model", "--index", str(sample_index)],
        input=f"{NORCO}\n/sources\n/quit\n",
        env=openai_server.env(),
    )
    assert result.exit_code == 0, result.output
    out = result.output
    # The draft failed verification and was re-asked; drafts are never shown.
    assert len(openai_server.chat_requests) == 2
    assert not any(r.body.get("stream") for r in openai_server.chat_requests)
    assert "moon" not in out and "Verified answer:" not in out
    assert _prompt_excerpts(openai_server) >= 2
    # The verified answer's markers and its sources are numbered alike, from [1].
    answer_line = out.split(f"> {NORCO}\n", 1)[1].splitlines()[0]
    assert re.findall(r"\[(\d+)\]", answer_line)[0] == "1"
    assert re.search(r"\((\d+) source\(s\); /sources to show them\)", out)
    assert "[1] " in out.split("/sources to show them)", 1)[1]


def test_cli_chat_refusal_keeps_the_extractive_answer(
    sample_index: Path, assistant: Assistant, openai_server: OpenAITestServer
) -> None:
    expected, _ = Assistant(
        Settings(index_dir=sample_index, llm_enabled=False), index=assistant.index
    ).ask(NORCO)
    openai_server.script([CANNOT_ANSWER])
    result = CliRunner().invoke(
        app,
        ["chat", "--llm", "test-model", "--index", str(sample_index)],
        input=f"{NORCO}\n",
        env=openai_server.env(),
    )
    assert result.exit_code == 0, result.output
    assert CANNOT_ANSWER not in result.output
    assert expected.answer.splitlines()[0] in result.output
    assert LLM_REFUSAL_NOTICE.split(";")[0] in result.output
