"""A model reads the question into a plan; the plan is checked before it is answered.

The model is the local scripted server over HTTP (tests/openai_server.py), through the
real openai client; the letters are the five sample letters' index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.index.index import Index
from imr_assist.parse.lexicon import get_lexicon
from imr_assist.retrieve.llm_plan import PlanRejected, plan_from_reply
from imr_assist.retrieve.plan import read_question
from imr_assist.settings import Settings
from tests.openai_server import OpenAITestServer, Reply

#: The rule reader takes no treatment from this wording; a model reads it as opioids.
QUESTION = "Which painkillers got turned down?"
NORCO_PLAN = {"kind": "list", "unit": "decisions", "treatments": ["opioids"], "decision": "upheld"}


@pytest.fixture(scope="module")
def index(sample_index: Path) -> Iterator[Index]:
    idx = Index.open(Settings(index_dir=sample_index))
    yield idx
    idx.close()


@pytest.fixture
def make(
    sample_index: Path, index: Index, openai_server: OpenAITestServer
) -> Callable[..., Assistant]:
    def make(**overrides: Any) -> Assistant:
        values: dict[str, Any] = {
            "index_dir": sample_index,
            "llm_enabled": True,
            "llm_model": "test-model",
            "llm_read_plans": True,
            "openai_base_url": openai_server.base_url,
            "openai_api_key": openai_server.api_key,
            "llm_timeout": 5.0,
            "llm_max_retries": 0,
        }
        values.update(overrides)
        return Assistant(Settings(**values), index=index)

    return make


def opioid_items(index: Index, decision: str) -> set[tuple[str, str]]:
    generics = {e.generic for e in get_lexicon().entries if e.drug_class == "opioid"}
    return {
        (r.doc_id, r.treatment)
        for r in index.catalog.items()
        if (r.drug_class == "opioid" or r.generic in generics) and r.decision == decision
    }


def test_a_checked_model_plan_is_answered(
    make: Callable[..., Assistant], index: Index, openai_server: OpenAITestServer
) -> None:
    assert not read_question(QUESTION).filters.has_treatment
    openai_server.script([Reply.json(NORCO_PLAN)])
    answer, _ = make().ask(QUESTION)
    first = openai_server.chat_requests[0].body
    assert first["response_format"]["type"] == "json_schema"
    assert QUESTION in first["messages"][-1]["content"]
    assert answer.plan and answer.plan["filters"]["drug_class"] == ["opioid"]
    assert answer.notices[0].startswith("the question was read by the model")
    cited = {(c.doc_id, c.treatment) for c in answer.citations if c.treatment}
    upheld = opioid_items(index, "upheld")
    assert upheld and answer.answered and cited == upheld


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ({**NORCO_PLAN, "treatments": ["Zebra tonic"]}, "'Zebra tonic' is no treatment"),
        ({**NORCO_PLAN, "case_number": "CM16-0000001"}, "case number CM16-0000001 is not in"),
        ({**NORCO_PLAN, "topic": ["opioid", "agreements"]}, "topic word 'opioid' is not in"),
        ({**NORCO_PLAN, "decision": "denied"}, "decision 'denied' is not one of"),
        ({**NORCO_PLAN, "colour": "blue"}, "unknown field 'colour'"),
        ({**NORCO_PLAN, "age_min": 70, "age_max": 30}, "the lowest age is above"),
        ({"kind": "fact", "unit": "decisions"}, "a fact question names no fact"),
        ({**NORCO_PLAN, "excluded_treatments": ["Zebra tonic"]}, "'Zebra tonic' is no"),
        ({**NORCO_PLAN, "licensed_only": True}, "licensed only names no state"),
        ({**NORCO_PLAN, "licensed_in": "Atlantis"}, "licensed_in 'Atlantis' is not one of"),
        (
            {"kind": "fact", "unit": "decisions", "fact": "specialty", "extreme": "min"},
            "asks for an age or a date",
        ),
    ],
)
def test_a_plan_failing_a_check_is_rejected_with_the_reason(
    make: Callable[..., Assistant],
    openai_server: OpenAITestServer,
    plan: dict[str, Any],
    problem: str,
) -> None:
    openai_server.script([Reply.json(plan)])
    answer, _ = make().ask(QUESTION)
    assert answer.notices[0].startswith("the model's reading of the question was rejected")
    assert problem in answer.notices[0]
    assert answer.plan == read_question(QUESTION).as_dict()  # the rule reader's plan


def test_a_reply_that_is_not_json_is_rejected() -> None:
    rule = read_question(QUESTION)
    with pytest.raises(PlanRejected, match="no JSON object"):
        plan_from_reply(QUESTION, "Sure! The plan is to look at Norco.", rule)
    fenced = '```json\n{"kind": "list", "unit": "decisions", "treatments": ["Norco"]}\n```'
    assert plan_from_reply(QUESTION, fenced, rule).filters.generics == ["hydrocodone/acetaminophen"]


def test_a_server_without_json_schema_gets_json_mode(
    make: Callable[..., Assistant], openai_server: OpenAITestServer
) -> None:
    openai_server.script(
        [
            Reply(status=400, error_message="response_format json_schema is not supported"),
            Reply.json(NORCO_PLAN),
        ]
    )
    answer, _ = make().ask(QUESTION)
    formats = [r.body.get("response_format") for r in openai_server.chat_requests[:2]]
    assert formats == [formats[0], {"type": "json_object"}]
    assert formats[0]["type"] == "json_schema"
    assert answer.plan and answer.plan["filters"]["drug_class"] == ["opioid"]


def test_an_unreachable_model_leaves_the_rule_reader(
    make: Callable[..., Assistant], openai_server: OpenAITestServer
) -> None:
    openai_server.script([Reply(status=500)] * 4)
    assistant = make(llm_enabled=True)
    plan, notice = assistant.read(QUESTION)
    assert plan == read_question(QUESTION)
    assert notice and notice.startswith("the question was read by rules")


def test_off_by_default(make: Callable[..., Assistant], openai_server: OpenAITestServer) -> None:
    plan, notice = make(llm_read_plans=False).read(QUESTION)
    assert plan == read_question(QUESTION) and notice is None
    assert not openai_server.chat_requests


def test_a_model_plan_can_leave_a_treatment_out(
    make: Callable[..., Assistant], index: Index, openai_server: OpenAITestServer
) -> None:
    """'excluded_treatments' is checked against the lexicon like 'treatments' and
    applied: every upheld decision but the opioids'."""
    plan = {"kind": "list", "unit": "decisions", "decision": "upheld"}
    openai_server.script([Reply.json({**plan, "excluded_treatments": ["opioids"]})])
    answer, _ = make().ask("Which non-narcotic requests got turned down?")
    assert answer.notices[0].startswith("the question was read by the model")
    assert answer.plan and answer.plan["excluded"]["drug_class"] == ["opioid"]
    upheld = {(r.doc_id, r.treatment) for r in index.catalog.items(decision="upheld")}
    opioids = opioid_items(index, "upheld")
    cited = {(c.doc_id, c.treatment) for c in answer.citations if c.treatment}
    assert opioids and answer.answered and cited == upheld - opioids
