"""Reading a question into a plan with a language model, checked before it is used.

The rule reader (``plan.read_question``) is the default and the fallback. With a model
configured and ``llm.read_plans`` on, the model is asked for the plan as JSON under
``PLAN_SCHEMA`` (a JSON-schema ``response_format`` where the server takes one, plain
JSON otherwise). Its reading is used only when every part of it checks out:

- every key is one of the schema's, every enumerated value one it lists;
- each treatment resolves in the lexicon, each specialty in the specialty table, each
  reason category, body region, guideline, fact and group-by is a known one;
- a case number and every topic word stand in the question itself (a model may
  normalise "pain pills" to opioids, but may not invent a letter or a subject);
- dates are ISO dates, ages lie between 14 and 100, and the minimum is not above the
  maximum.

A reading that fails any check is rejected, and the answer says why; the rule reader's
plan is answered instead. Either way the plan answered is the one ``ask --json`` shows.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from imr_assist.constants import OVERTURNED, REASON_LABELS, UPHELD
from imr_assist.errors import LLMError
from imr_assist.prompts import render
from imr_assist.retrieve import query
from imr_assist.retrieve.plan import (
    _STATES,
    REGIONS,
    QueryPlan,
    _with_class_generics,
    _with_combined_services,
    read_question,
    treatment_filters,
)
from imr_assist.retrieve.query import QueryFilters, parse_question

KINDS = ("why", "list", "count", "share", "group", "fact", "decision", "topic", "general")
FACTS = (
    "decision_date",
    "ur_denial_date",
    "date_assigned",
    "application_received",
    "date_of_injury",
    "specialty",
    "licensure",
    "credentials",
    "age",
    "sex",
    "body_region",
    "mechanism",
)
GROUPS = (
    "specialty",
    "month",
    "year",
    "sex",
    "age",
    "class",
    "treatment",
    "decision",
    "licensure",
    "partial",
    "items",
)
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def plan_schema() -> dict[str, Any]:
    """The JSON schema a model's plan is asked for (and checked against)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "unit"],
        "properties": {
            "kind": {"enum": list(KINDS)},
            "unit": {"enum": ["decisions", "letters"]},
            "treatments": {"type": "array", "items": {"type": "string"}},
            "excluded_treatments": {"type": "array", "items": {"type": "string"}},
            "decision": {"enum": [UPHELD, OVERTURNED, None]},
            "case_number": {"type": ["string", "null"]},
            "specialty": {"type": ["string", "null"]},
            "guideline": {"enum": [*query._GUIDELINES.keys(), None]},
            "reasons": {"type": "array", "items": {"enum": sorted(REASON_LABELS)}},
            "regions": {"type": "array", "items": {"enum": sorted(REGIONS)}},
            "case_regions": {"type": "array", "items": {"enum": sorted(REGIONS)}},
            "partial": {"type": "boolean"},
            "sex": {"enum": ["male", "female", None]},
            "age_min": {"type": ["integer", "null"]},
            "age_max": {"type": ["integer", "null"]},
            "licensed_in": {"enum": [*(st.title() for st in _STATES), None]},
            "licensed_only": {"type": "boolean"},
            "licensed_not": {"type": "boolean"},
            "extreme": {"enum": ["min", "max", "range", None]},
            "decided_from": {**_DATE, "type": ["string", "null"]},
            "decided_to": {**_DATE, "type": ["string", "null"]},
            "every_decision": {"enum": [UPHELD, OVERTURNED, "mixed", None]},
            "group_by": {"enum": [*GROUPS, None]},
            "fact": {"enum": [*FACTS, None]},
            "topic": {"type": "array", "items": {"type": "string"}},
        },
    }


class PlanRejected(ValueError):
    """A model's plan that failed a check; the message says which."""


def read_with_llm(question: str, client: Any, *, max_tokens: int = 300) -> tuple[QueryPlan, str]:
    """The plan to answer and a notice saying whose reading it is and why."""
    rule = read_question(question)
    messages = [
        {
            "role": "system",
            "content": render("plan_system.j2", schema_json=json.dumps(plan_schema())),
        },
        {"role": "user", "content": render("plan_user.j2", question=question)},
    ]
    try:
        reply = _complete(client, messages, max_tokens)
        plan = plan_from_reply(question, reply, rule)
    except LLMError as err:
        return rule, f"the question was read by rules: the model did not answer ({err})"
    except PlanRejected as err:
        return rule, f"the model's reading of the question was rejected: {err}"
    return (
        plan,
        "the question was read by the model; the plan was checked against the letters' vocabulary",
    )


def _complete(client: Any, messages: list[dict[str, str]], max_tokens: int) -> str:
    """The reply under a JSON schema, else JSON mode, else plain (servers differ)."""
    formats: list[dict[str, Any] | None] = [
        {"type": "json_schema", "json_schema": {"name": "plan", "schema": plan_schema()}},
        {"type": "json_object"},
        None,
    ]
    last: LLMError | None = None
    for fmt in formats:
        try:
            return str(
                client.complete(
                    messages, response_format=fmt, max_tokens=max_tokens, temperature=0
                ).text
            )
        except LLMError as err:
            last = err
            if getattr(err, "kind", None) != "bad_request" and "response_format" not in str(err):
                raise
    assert last is not None
    raise last


def plan_from_reply(question: str, reply: str, rule: QueryPlan) -> QueryPlan:
    """Check a model's JSON plan and build the ``QueryPlan`` it describes."""
    data = _json_object(reply)
    _check_shape(data)
    low = rule.corrected.lower() + " " + question.lower()

    f = QueryFilters()
    for t in data.get("treatments") or []:
        named = parse_question(t)
        if not named.has_treatment:
            raise PlanRejected(f"'{t}' is no treatment the lexicon knows")
        f.generics += [g for g in named.generics if g not in f.generics]
        f.classes += [c for c in named.classes if c not in f.classes]
        f.names_without_generic += [
            n for n in named.names_without_generic if n not in f.names_without_generic
        ]
        f.canonicals += [c for c in named.canonicals if c not in f.canonicals]
        f.mentions += [m for m in named.mentions if m not in f.mentions]
    excluded = None
    if said := data.get("excluded_treatments"):
        excluded = treatment_filters(" and ".join(said))
        if not excluded.has_treatment:
            raise PlanRejected(f"'{said[0]}' is no treatment the lexicon knows")
    f.decision = data.get("decision")
    if case := data.get("case_number"):
        if case.lower() not in low:
            raise PlanRejected(f"case number {case} is not in the question")
        f.case_number = parse_question(case).case_number or case.upper()
    if spec := data.get("specialty"):
        if not any(rx.search(spec) for rx in query.SPECIALTY_PATTERNS.values()):
            raise PlanRejected(f"'{spec}' is no reviewer specialty the letters use")
        f.specialty = spec
    f.guideline = data.get("guideline")
    topic = tuple(w.lower() for w in data.get("topic") or [])
    for w in topic:
        if not re.search(rf"\b{re.escape(w)}", low):
            raise PlanRejected(f"topic word '{w}' is not in the question")
    ages = [data.get("age_min"), data.get("age_max")]
    if any(a is not None and not 14 <= a <= 100 for a in ages):
        raise PlanRejected("an age outside 14-100")
    low_age, high_age = ages
    if low_age is not None and high_age is not None and low_age > high_age:
        raise PlanRejected("the lowest age is above the highest")
    if data.get("decided_from") and data.get("decided_to"):
        if data["decided_from"] > data["decided_to"]:
            raise PlanRejected("the date range ends before it starts")
    kind = data["kind"]
    if kind == "fact" and not data.get("fact"):
        raise PlanRejected("a fact question names no fact")
    if kind == "group" and not data.get("group_by"):
        raise PlanRejected("a group-by names no grouping")
    if data.get("extreme") and data.get("fact") not in ("age", "decision_date"):
        raise PlanRejected("a youngest/oldest or earliest/latest asks for an age or a date")
    if data.get("licensed_only") and not data.get("licensed_in"):
        raise PlanRejected("licensed only names no state")
    if data.get("licensed_not") and (not data.get("licensed_in") or data.get("licensed_only")):
        raise PlanRejected("licensed outside names no state, or says only that state")
    filters = _with_class_generics(_with_combined_services(f))
    return replace(
        rule,
        filters=filters,
        kind=kind,
        unit=data["unit"],
        group_by=data.get("group_by"),
        measure=f.decision if kind == "group" else None,
        fact=data.get("fact"),
        regions=tuple(data.get("regions") or ()),
        letter_regions=tuple(data.get("case_regions") or ()),
        all_decided=data.get("every_decision"),
        reasons=tuple(data.get("reasons") or ()),
        partial=bool(data.get("partial")),
        age_min=data.get("age_min"),
        age_max=data.get("age_max"),
        licensed_in=data.get("licensed_in"),
        licensed_only=bool(data.get("licensed_only")),
        licensed_not=bool(data.get("licensed_not")),
        extreme=data.get("extreme"),
        excluded=excluded,
        sex=data.get("sex"),
        decided_in=None,
        decided_from=data.get("decided_from"),
        decided_to=data.get("decided_to"),
        min_items=None,
        max_items=None,
        topic=topic,
        terms=(),
        absent=rule.absent,
        topic_phrase=False,
        phrases=(),
    )


def _json_object(reply: str) -> dict[str, Any]:
    text = reply.strip()
    if text.startswith("```"):
        text = re.sub(r"^```\w*\s*|\s*```$", "", text)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise PlanRejected("the reply holds no JSON object")
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError as err:
        raise PlanRejected(f"the reply is not valid JSON ({err.msg})") from None
    if not isinstance(data, dict):
        raise PlanRejected("the reply is not a JSON object")
    return data


def _check_shape(data: dict[str, Any]) -> None:
    """The schema's keys and enumerations, checked here: not every server enforces them."""
    props = plan_schema()["properties"]
    for key in ("kind", "unit"):
        if key not in data:
            raise PlanRejected(f"no '{key}'")
    for key, value in data.items():
        spec = props.get(key)
        if spec is None:
            raise PlanRejected(f"unknown field '{key}'")
        if "enum" in spec and value not in spec["enum"]:
            raise PlanRejected(f"{key} '{value}' is not one of {', '.join(map(str, spec['enum']))}")
        if spec.get("type") == "array":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PlanRejected(f"{key} is not a list of strings")
            allowed = spec["items"].get("enum")
            if allowed is not None and (bad := [v for v in value if v not in allowed]):
                raise PlanRejected(f"{key} '{bad[0]}' is not one the letters use")
        if key in ("age_min", "age_max") and value is not None and not isinstance(value, int):
            raise PlanRejected(f"{key} is not a whole number")
        if key in ("decided_from", "decided_to") and value is not None:
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise PlanRejected(f"{key} is not an ISO date")
        if key in ("case_number", "specialty") and value is not None:
            if not isinstance(value, str):
                raise PlanRejected(f"{key} is not a string")
        if key in ("partial", "licensed_only", "licensed_not") and not isinstance(value, bool):
            raise PlanRejected(f"{key} is not true or false")
