"""The 2013 "Notice of Independent Medical Review Determination": numbered decision
sentences ("1) MAXIMUS Federal Services, Inc. has determined the request for X is not
medically necessary"), then ``INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE`` with a
"Regarding the request for X:" block per item."""

from __future__ import annotations

import re

from imr_assist.constants import FORMAT_2013, OVERTURNED, UPHELD
from imr_assist.models import Item, Letter, Span
from imr_assist.parse import fields
from imr_assist.parse.formats.base import (
    H_2013_RATIONALE,
    LetterContext,
    read_cover,
    read_summary,
    require_items,
)
from imr_assist.parse.reasons import label_reasons

_I = re.IGNORECASE

H_2013_NOTICE = re.compile(
    r"Notice\s+of\s+Independent\s+Medical\s+Review\s+Determination"
    r"|has\s+determined\s+the\s+request\s+for",
    _I,
)
DECISION_2013 = re.compile(
    r"(?P<num>\d+)\s*\)\s*MAXIMUS\s+Federal\s+Services,?\s+Inc\.?,?\s+has\s+determined\s+the\s+"
    r"request\s+for\s+(?P<treat>.+?)\s*(?P<verdict>is\s*not|is)\s*medically\s*necessary"
    r"(?:\s*and\s*appropriate)?",
    _I,
)
REGARDING_2013 = re.compile(
    r"(?P<num>\d+)\s*\)\s*Regarding\s+the\s+request\s+for\s+(?P<treat>[^:]{1,200}?)\s*:", _I
)
LABEL_2013_CA = re.compile(
    r"Medical\s+Treatment\s+Guideline\s*\(s\)\s+Relied\s+Upon\s+by\s+the\s+Claims\s+"
    r"Administrator\s*:",
    _I,
)
LABEL_2013_MX = re.compile(
    r"Medical\s+Treatment\s+Guideline\s*\(s\)\s+Relied\s+Upon\s+by\s+the\s+Expert\s+Reviewer\s*:",
    _I,
)
LABEL_2013_DR = re.compile(r"Rationale\s+for\s+the\s+Decision\s*:", _I)


def _items_2013(ctx: LetterContext) -> list[Item]:
    nt, flat = ctx.nt, ctx.nt.flat
    rationale_head = H_2013_RATIONALE.search(flat)
    limit = rationale_head.start() if rationale_head else len(flat)
    decisions = [m for m in DECISION_2013.finditer(flat, 0, limit)]
    blocks: dict[str, tuple[int, int]] = {}
    if rationale_head:
        regs = list(REGARDING_2013.finditer(flat, rationale_head.end()))
        for i, m in enumerate(regs):
            end = regs[i + 1].start() if i + 1 < len(regs) else len(flat)
            blocks[m["num"]] = (m.start(), end)
    items = []
    for i, m in enumerate(decisions):
        t_start, t_end = m.start("treat"), m.end("treat")
        # "the request for a 28 day functional restoration program": drop the article.
        if art := re.match(r"(?:an?|the)\s+", flat[t_start:t_end], _I):
            t_start += art.end()
        decision = UPHELD if "not" in m["verdict"].lower() else OVERTURNED
        treatment, t_span = nt.field(t_start, t_end)
        tf = fields.treatment_fields(nt, t_start, t_end)
        spans: dict[str, Span] = {"treatment": t_span, **tf.pop("spans")}  # type: ignore[dict-item]
        spans["decision"] = nt.span(m.start("verdict"), m.end())
        values: dict[str, object] = {}
        reasons = []
        block = blocks.get(m["num"])
        item_span = nt.span(m.start(), m.end())
        if block:
            b_start, b_end = block
            item_span = nt.field(b_start, b_end)[1]
            ca = LABEL_2013_CA.search(flat, b_start, b_end)
            mx = LABEL_2013_MX.search(flat, b_start, b_end)
            dr = LABEL_2013_DR.search(flat, b_start, b_end)
            if ca:
                nxt = mx or dr
                e = nxt.start() if nxt else b_end
                (
                    values["claims_administrator_guideline"],
                    spans["claims_administrator_guideline"],
                ) = nt.field(ca.end(), e)
            if mx:
                e = dr.start() if dr else b_end
                values["reviewer_guideline"], spans["reviewer_guideline"] = nt.field(mx.end(), e)
                if pages := fields.find_pages(nt, mx.end(), e):
                    values["pages"], spans["pages"] = pages
            if dr:
                values["rationale"], spans["rationale"] = nt.field(dr.end(), b_end)
                reasons = label_reasons(nt, dr.end(), b_end, decision)
        items.append(
            Item(
                index=i,
                treatment=treatment,
                decision=decision,
                guidelines=fields.guideline_families(str(values.get("reviewer_guideline", ""))),
                reasons=reasons,
                span=item_span,
                spans=spans,
                **tf,
                **values,
            )
        )
    return items


_SUMMARY_2013 = re.compile(r"Case\s+Summary\s*:", _I)
_SUMMARY_END_2013 = re.compile(r"\b1\s*\)\s*Regarding\s+the\s+request", _I)


class Notice2013Format:
    """Numbered "has determined the request for" sentences."""

    name = FORMAT_2013

    def detect(self, flat: str) -> re.Match[str] | None:
        return H_2013_NOTICE.search(flat)

    def read(self, ctx: LetterContext, letter: Letter, found: re.Match[str]) -> list[Item]:
        read_cover(ctx, letter)
        items = _items_2013(ctx)
        require_items(ctx, items)
        read_summary(ctx, letter, _SUMMARY_2013, _SUMMARY_END_2013)
        return items
