"""Rule-based reason categories for an item's rationale.

A rationale is split into sentences; each category has patterns in priority order,
and the first sentence that matches the highest-priority pattern backs the label.
Only the categories of the item's own decision are tried: an overturned rationale
often restates the rule it found satisfied ("discontinue opioids if there is no
documentation of improved function"), which must not read as an uphold reason.

The patterns come from the sample letters and from MTUS wording; each comment names
the letter or phrase that needed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from imr_assist.constants import OVERTURNED, OVERTURNED_REASONS, UPHELD_REASONS
from imr_assist.models import Reason
from imr_assist.text import NormalizedText

_I = re.IGNORECASE
_NEG = r"(?:no|not|nor|without|lack\s+of|absence\s+of|failed\s+to)"

RULES: dict[str, list[re.Pattern[str]]] = {
    "no_functional_improvement": [
        # 001: "no objective documentation of pain and functional improvement"
        re.compile(
            _NEG + r"\b[^.]{0,120}?\b(?:functional\s+(?:improvement|status|gains?|benefit)"
            r"|improvement\s+(?:in|of)\s+(?:function|pain)|return\s+to\s+work"
            r"|4\s*A'?s)",
            _I,
        ),
        re.compile(r"no\s+(?:overall\s+)?improvement\s+in\s+function", _I),
    ],
    "no_aberrant_behavior_monitoring": [
        # 003: "efforts to rule out aberrant behavior (e.g. CURES report, UDS, opiate agreement)"
        re.compile(
            r"\b(?:CURES|urine\s+drug\s+(?:screen|test)s?|UDS|drug\s+screen"
            r"|opi(?:oid|ate)\s+(?:agreement|contract)|pain\s+(?:agreement|contract))\b",
            _I,
        ),
    ],
    "exceeds_med_ceiling": [
        # 004: "the addition of Norco exceeds the recommended ceiling of morphine equivalent"
        re.compile(r"exceed\w*\s+(?:the\s+)?(?:recommended\s+)?(?:ceiling|MED\b|MME\b)", _I),
        re.compile(
            r"(?:morphine\s+equivalent|\bMED\b|\bMME\b)[^.]{0,80}\b(?:exceed|above|greater\s+than)",
            _I,
        ),
    ],
    "long_term_use_not_recommended": [
        # 002: "Not recommended for long-term use"; 004: "do not support the long-term use"
        re.compile(
            r"not\s+(?:be\s+)?(?:recommended|supported|indicated)\s+for\s+long[\s-]*term", _I
        ),
        re.compile(r"do(?:es)?\s+not\s+support\s+the\s+long[\s-]*term", _I),
        # 003: "has been in use long-term"; 001: "prescribed Soma a long time"
        re.compile(r"(?:in\s+use|been\s+(?:used|prescribed|taking))\s+long[\s-]*term", _I),
        re.compile(r"prescribed\s+\w+\s+(?:for\s+)?a\s+long\s+time|used\s+for\s+long\s*time", _I),
        re.compile(r"recommended\s+for\s+short[\s-]*term\s+use", _I),
        re.compile(r"limit\s+use\s+to\s+\d+\s+weeks", _I),
        re.compile(r"long[\s-]*term\s+use[^.]{0,40}\bnot\s+(?:recommended|supported)", _I),
    ],
    "not_first_line": [
        # 001: "not recommended as a first line oral analgesic"
        re.compile(r"not\s+(?:recommended\s+)?(?:as\s+)?(?:a\s+)?first[\s-]*line", _I),
        re.compile(r"second[\s-]*line", _I),
    ],
    "lowest_dose_shortest_period": [
        # 001: "no clear evidence that the lowest NSAID was used"
        re.compile(r"no\s+(?:clear\s+)?evidence\s+that\s+the\s+lowest", _I),
        re.compile(r"does\s+not\s+comply[^.]{0,80}short", _I),
        re.compile(r"lowest\s+dose\s+for\s+the\s+shortest", _I),
    ],
    "worsening_or_no_efficacy": [
        # 000: "she has recently experienced an increase in pain while using Norco"
        re.compile(r"increase\s+in\s+(?:her\s+|his\s+|the\s+)?pain", _I),
        re.compile(
            r"pain\s+(?:has\s+|had\s+)?(?:increased|worsened)|worsening\s+(?:of\s+)?pain", _I
        ),
        re.compile(
            r"(?:not\s+(?:been\s+)?effective|no\s+(?:significant\s+)?(?:benefit|relief))", _I
        ),
    ],
    "no_documented_indication": [
        # 001: "without clear evidence of spasm or excacerbation"
        re.compile(
            r"(?:without|no)\s+(?:clear\s+|recent\s+|objective\s+)?(?:evidence|documentation)\s+"
            r"(?:of\s+(?:spasm|acute|exacerbation|neuropathic|radicul)"
            r"|that\s+the\s+patient\s+(?:was|is|has)\s+(?:complaining|having|experiencing))",
            _I,
        ),
        re.compile(r"no\s+(?:documented\s+|clear\s+)?indication", _I),
    ],
    "exceeds_guideline_quantity": [
        re.compile(
            r"exceed\w*\s+(?:the\s+)?(?:guideline|recommended|MTUS|ODG)[^.]{0,40}"
            r"(?:number|sessions|visits|quantity|days|units|duration)",
            _I,
        ),
        re.compile(r"(?:number|quantity)\s+of\s+(?:sessions|visits)[^.]{0,30}exceed", _I),
        re.compile(r"in\s+excess\s+of\s+(?:the\s+)?(?:guideline|recommended)", _I),
    ],
    "not_a_weaning_request": [
        # 000: "This request however is not for a weaning treatment"
        re.compile(r"not\s+for\s+(?:a\s+)?(?:weaning|taper)", _I),
        # 002: "there is no provision to modify the current request to allow tapering"
        re.compile(r"no\s+provision\s+to\s+modify", _I),
        re.compile(r"(?:cannot|can\s+not)\s+(?:be\s+)?modif(?:y|ied)", _I),
    ],
    "insufficient_documentation": [
        # 002: "there is no rationale provided for long-term use"
        re.compile(r"no\s+rationale\s+(?:was\s+)?provided", _I),
        re.compile(r"insufficient\s+(?:documentation|information|records)", _I),
        re.compile(
            r"(?:documentation|records?)\s+(?:submitted|available|provided)\s+(?:for\s+review\s+)?"
            r"(?:do(?:es)?|did)\s+not\s+(?:state|indicate|include|document|show)",
            _I,
        ),
        re.compile(r"absence\s+of\s+such\s+documentation", _I),
    ],
    "documented_improvement": [
        # 004: "Efficacy is noted with the current medication regimen"
        re.compile(r"efficacy\s+is\s+(?:noted|documented)", _I),
        # 004: "notes significant improvement with the utilization of Butrans"
        re.compile(
            r"(?:notes?|noted|documents?|documented|reports?)\s+significant\s+improvement", _I
        ),
        # 002: "there is indication that the medication is improving the patient's function"
        re.compile(r"indication\s+that\s+the\s+(?:medication|treatment)\s+is\s+improving", _I),
        re.compile(r"(?:documented|documentation\s+of)\s+(?:\w+\s+){0,3}improvement", _I),
    ],
    "guideline_criteria_met": [
        # 004: "recommended as a first line option for neuropathic pain"
        re.compile(r"first[\s-]*line\s+(?:option|agent|treatment)", _I),
        re.compile(r"(?:criteria|guidelines?)\s+(?:are|have\s+been|were)\s+met", _I),
        re.compile(r"(?:this|the)\s+request(?:\s+for\s+[^.]{1,60}?)?\s+is\s+supported", _I),
    ],
    "neuropathic_indication": [
        # 004: "Baclofen has been noted to have benefits for treating ... neuropathic pain"
        re.compile(
            r"(?:benefits?\s+for\s+treating|indicated\s+for|setting\s+of)[^.]{0,40}neuropath", _I
        ),
        re.compile(r"neuropathic\s+pain", _I),
    ],
}

assert set(RULES) == set(UPHELD_REASONS) | set(OVERTURNED_REASONS)

_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|Dr|vs|No|approx|etc|Inc|p|pp)\.)$", _I)


def sentences(nt: NormalizedText, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Sentence ranges of ``flat[start:end]``.

    Splits after ., ! or ? followed by a space and a capital, and also where PDF
    extraction fused two sentences ("framework.According", sample 001).
    """
    text = nt.flat
    boundary = re.compile(
        r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(]?[A-Z0-9])|(?<=[a-z]{3}[.])(?=[A-Z][a-z])"
    )
    pos = start
    for m in boundary.finditer(text, start, end):
        if _ABBREV.search(text[max(pos, m.start() - 8) : m.start()]):
            continue
        a, b = pos, m.start()
        if text[a:b].strip():
            yield _trim(text, a, b)
        pos = m.end()
    if text[pos:end].strip():
        yield _trim(text, pos, end)


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] == " ":
        a += 1
    while b > a and text[b - 1] == " ":
        b -= 1
    return a, b


def label_reasons(nt: NormalizedText, start: int, end: int, decision: str) -> list[Reason]:
    """Reason categories for the rationale ``flat[start:end]`` of an item."""
    cats = OVERTURNED_REASONS if decision == OVERTURNED else UPHELD_REASONS
    sents = list(sentences(nt, start, end))
    found: list[Reason] = []
    for cat in cats:
        hit = _first_hit(nt.flat, sents, RULES[cat])
        if hit is not None:
            a, b = hit
            quote, span = nt.field(a, b)
            found.append(Reason(category=cat, quote=quote, start=span.start, end=span.end))
    found.sort(key=lambda r: r.start)
    return found


def _first_hit(
    text: str, sents: list[tuple[int, int]], patterns: list[re.Pattern[str]]
) -> tuple[int, int] | None:
    for rx in patterns:
        for a, b in sents:
            if rx.search(text, a, b):
                return a, b
    return None
