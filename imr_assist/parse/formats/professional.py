"""The "MEDICAL PROFESSIONAL REVIEW" layout: decisions as sentences under ``ISSUE AT
DISPUTE:``, then ``CASE SUMMARY:``, one block per item under ``MEDICAL TREATMENT
GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:`` and ``RATIONALE FOR WHY THE
REQUESTED TREATMENT/SERVICE IS/WAS (NOT) MEDICALLY NECESSARY:``, and ``MEDICAL REVIEWER
QUALIFICATIONS:``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imr_assist.constants import FORMAT_PROFESSIONAL, OVERTURNED, UPHELD
from imr_assist.errors import LetterError
from imr_assist.models import Item, Letter, Span
from imr_assist.parse import fields
from imr_assist.parse.formats.base import (
    H_DOCS,
    H_SUMMARY,
    LetterContext,
    read_cover,
    read_summary,
    skip_ws,
)
from imr_assist.parse.reasons import label_reasons

_I = re.IGNORECASE

# "MEDICAL PROFESSIONAL REVIEW" layout. The short headings stay case-sensitive so
# that prose ("the issue at dispute") is not read as one.
H_PRO_TITLE = re.compile(r"MEDICAL\s+PROFESSIONAL\s+REVIEW\b")
H_ISSUE = re.compile(r"ISSUE\s*(?:\(\s*S\s*\)|S)?\s+AT\s+DISPUTE\s*:?")
H_PRO_GUIDELINE = re.compile(
    r"MEDICAL\s+TREATMENT\s+GUIDELINE\s*(?:\(\s*S\s*\)|S)?\s+RELIED\s+UPON\s+BY\s+"
    r"(?:THE\s+)?PROFESSIONAL\s+REVIEWER(?:\s+AND\s+WHY)?\s*:?",
    _I,
)
H_PRO_RATIONALE = re.compile(
    r"RATIONALE\s+FOR\s+WHY\s+THE\s+REQUESTED\s+TREATMENT\s*/\s*SERVICE\s+IS\s*/\s*WAS\s+"
    r"(?P<not>NOT)?\s*MEDICALLY\s+NECESSARY\s*:?",
    _I,
)
H_PRO_QUALS = re.compile(r"MEDICAL\s+REVIEWER\s+QUALIFICATIONS\s*:?", _I)
# "1. Norco 10/325mg #60 is not medically necessary and appropriate." Fused words
# from PDF text ("is notmedically", "isnot medically") are allowed.
PRO_VERDICT = re.compile(
    r"\b(?P<verdict>(?:is|was)\s*not|is|was)\s*medically\s*necessary"
    r"(?:\s*(?:and|or)\s*appropriate)?",
    _I,
)
# A numbered entry: at a line start, or after a sentence on the same line.
PRO_NUMBER = re.compile(r"(?:^|(?<=[.;] ))(?P<num>\d{1,2})\s*[.)][ \n]+", re.MULTILINE)
PRO_REQUEST = re.compile(r"(?:the\s+)?(?:request(?:ed)?\s+(?:for\s+)?)?(?:an?\s+|the\s+)?", _I)
# The numbered item line repeating a treatment before its guideline block is short.
PRO_HEADING_MAX = 250


@dataclass
class _Issue:
    """One decision sentence from ISSUE AT DISPUTE."""

    num: int | None
    t_start: int
    t_end: int
    verdict: re.Match[str]

    @property
    def decision(self) -> str:
        return UPHELD if "not" in self.verdict["verdict"].lower() else OVERTURNED


@dataclass
class _Block:
    """One item's guideline and rationale block, and the numbered line that heads it."""

    guideline: re.Match[str] | None = None
    rationale: re.Match[str] | None = None
    start: int = 0  # the heading line, or the first of the two headings
    issue: int | None = None  # index of the ISSUE AT DISPUTE entry it belongs to

    @property
    def first(self) -> re.Match[str]:
        m = self.guideline or self.rationale
        assert m is not None
        return m

    @property
    def last_end(self) -> int:
        return (self.rationale or self.first).end()


def _items_professional(ctx: LetterContext, issue_head: re.Match[str]) -> tuple[list[Item], int]:
    """Items of a professional-review letter, and where its case summary must stop."""
    nt, flat = ctx.nt, ctx.nt.flat
    blocks = _pro_blocks(flat, issue_head.end())
    after = issue_head.end()
    quals = H_PRO_QUALS.search(flat, after)
    # ISSUE AT DISPUTE runs to the next section, whichever comes first.
    stops = [
        m.start() for m in (H_SUMMARY.search(flat, after), H_DOCS.search(flat, after), quals) if m
    ]
    if blocks:
        stops.append(blocks[0].start)
    region_end = min(stops, default=len(flat))
    issues = _pro_issues(ctx, after, region_end)
    _pro_headings(ctx, blocks, issues, region_end)

    body_end = len(flat)
    if quals and blocks and quals.start() > blocks[-1].last_end:
        body_end = quals.start()
    by_issue: dict[int, tuple[int, int, _Block]] = {}
    for k, block in enumerate(blocks):
        end = blocks[k + 1].start if k + 1 < len(blocks) else body_end
        if block.issue is not None and block.issue not in by_issue:
            by_issue[block.issue] = (block.start, end, block)

    items = []
    for i, entry in enumerate(issues):
        treatment, t_span = nt.field(entry.t_start, entry.t_end)
        tf = fields.treatment_fields(nt, entry.t_start, entry.t_end)
        spans: dict[str, Span] = {"treatment": t_span, **tf.pop("spans")}  # type: ignore[dict-item]
        spans["decision"] = nt.span(entry.verdict.start("verdict"), entry.verdict.end())
        values: dict[str, object] = {}
        reasons = []
        item_span = spans["decision"]
        if i in by_issue:
            b_start, b_end, block = by_issue[i]
            item_span = nt.field(b_start, b_end)[1]
            g, r = block.guideline, block.rationale
            if g is not None:
                g_end = r.start() if r is not None else b_end
                value, span = nt.field(g.end(), g_end)
                if value:
                    values["reviewer_guideline"], spans["reviewer_guideline"] = value, span
                    if pages := fields.find_pages(nt, g.end(), g_end):
                        values["pages"], spans["pages"] = pages
            if r is not None:
                value, span = nt.field(r.end(), b_end)
                if value:
                    values["rationale"], spans["rationale"] = value, span
                # The decision is the ISSUE AT DISPUTE sentence; the rationale heading's
                # "NOT" normally agrees with it and is not consulted.
                reasons = label_reasons(nt, r.end(), b_end, entry.decision)
        items.append(
            Item(
                index=i,
                treatment=treatment,
                decision=entry.decision,
                guidelines=fields.guideline_families(str(values.get("reviewer_guideline", ""))),
                reasons=reasons,
                span=item_span,
                spans=spans,
                **tf,
                **values,
            )
        )
    # The summary ends at the first block, or at the qualifications if they come first.
    ends = ([blocks[0].start] if blocks else []) + ([quals.start()] if quals else [])
    return items, min(ends, default=len(flat))


def _pro_blocks(flat: str, start: int) -> list[_Block]:
    """Pair each guideline heading with the rationale heading that follows it."""
    marks = sorted(
        [(m.start(), "g", m) for m in H_PRO_GUIDELINE.finditer(flat, start)]
        + [(m.start(), "r", m) for m in H_PRO_RATIONALE.finditer(flat, start)],
        key=lambda x: x[0],
    )
    blocks: list[_Block] = []
    for _, kind, m in marks:
        if kind == "g":
            blocks.append(_Block(guideline=m))
        elif blocks and blocks[-1].rationale is None:
            blocks[-1].rationale = m
        else:
            blocks.append(_Block(rationale=m))
    for b in blocks:
        b.start = b.first.start()
    return blocks


def _pro_issues(ctx: LetterContext, start: int, end: int) -> list[_Issue]:
    """The decision sentences of ISSUE AT DISPUTE, numbered or (one item) not."""
    nt, flat = ctx.nt, ctx.nt.flat
    entries: list[re.Match[str]] = []
    for m in PRO_NUMBER.finditer(nt.norm, start, end):
        # Numbers run 1, 2, 3...; any other number at a line start is prose.
        if int(m["num"]) == len(entries) + 1:
            entries.append(m)
    issues: list[_Issue] = []
    if not entries:
        # Unnumbered: each decision sentence is one item.
        pos = start
        while v := PRO_VERDICT.search(flat, pos, end):
            issues.append(_issue(None, pos, v))
            pos = v.end()
        if not issues:
            raise LetterError(ctx.source, _no_decision("ISSUE AT DISPUTE", flat[start:end]))
        return issues
    for k, m in enumerate(entries):
        a, b = m.end(), entries[k + 1].start() if k + 1 < len(entries) else end
        v = PRO_VERDICT.search(flat, a, b)
        if v is None or not flat[a : v.start()].strip():
            raise LetterError(
                ctx.source, _no_decision(f"ISSUE AT DISPUTE item {m['num']}", flat[a:b])
            )
        issues.append(_issue(int(m["num"]), a, v))
    return issues


def _issue(num: int | None, start: int, verdict: re.Match[str]) -> _Issue:
    flat = verdict.string
    start = skip_ws(flat, start)
    # "The request for a Norco 10/325mg #60 is ...": the treatment is what follows.
    if m := PRO_REQUEST.match(flat, start, verdict.start()):
        start = m.end() if m.end() < verdict.start() else start
    return _Issue(num=num, t_start=start, t_end=verdict.start(), verdict=verdict)


def _no_decision(where: str, text: str) -> str:
    shown = " ".join(text.split())
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return (
        f"{where} has no readable decision ('{shown}'); expected "
        "'is medically necessary' or 'is not medically necessary'"
    )


def _pro_headings(
    ctx: LetterContext, blocks: list[_Block], issues: list[_Issue], floor: int
) -> None:
    """Find the line heading each block ("2. Acupuncture x 6 sessions") and its item.

    The heading is the last numbered line before the block's first heading whose text
    names that item's treatment; a one-item letter may have none. Blocks without a
    heading are matched to the items in order.
    """
    nt, flat = ctx.nt, ctx.nt.flat
    lower = floor
    for k, block in enumerate(blocks):
        top = block.first.start()
        window = max(lower, top - PRO_HEADING_MAX)
        for m in reversed(list(PRO_NUMBER.finditer(nt.norm, window, top))):
            num = int(m["num"])
            if 1 <= num <= len(issues) and _same_treatment(
                flat[m.end() : top], _issue_text(flat, issues[num - 1])
            ):
                block.start, block.issue = m.start(), num - 1
                break
        else:
            # An unnumbered line repeating the treatment of a one-item letter.
            if len(issues) == 1:
                t = _issue_text(flat, issues[0])
                head = flat[window:top].rstrip(" :.")
                at = len(head) - len(t)
                if (
                    t
                    and at >= 0
                    and head[at:].lower() == t.lower()
                    and _line_of_its_own(nt.norm, window + at)
                ):
                    block.start = window + at
            block.issue = k if k < len(issues) else None
        lower = block.last_end


def _line_of_its_own(norm: str, at: int) -> bool:
    """Whether the line starting at ``at`` stands alone rather than ending a sentence.

    A summary wrapped as "... requested authorization for" / "Norco 10/325mg #60." ends
    with the treatment on its own line; that line continues the sentence above it, so
    it is not a heading. A heading line follows a finished sentence or a label.
    """
    if at > 0 and norm[at - 1] != "\n":
        return False
    before = norm[:at].rstrip(" \n")
    return not before or before[-1] in ".:;!?\"')"


def _issue_text(flat: str, entry: _Issue) -> str:
    return " ".join(flat[entry.t_start : entry.t_end].split())


def _same_treatment(heading: str, treatment: str) -> bool:
    """Whether a block's heading line names the treatment an ISSUE entry decided."""
    h = " ".join(heading.split()).strip(" .:;").lower()
    t = treatment.strip(" .:;").lower()
    if not h or not t:
        return False
    return h == t or h.startswith(t) or t.startswith(h) or h.split()[0] == t.split()[0]


class ProfessionalReviewFormat:
    """``MEDICAL PROFESSIONAL REVIEW`` with an ``ISSUE AT DISPUTE`` section."""

    name = FORMAT_PROFESSIONAL

    def detect(self, flat: str) -> re.Match[str] | None:
        return H_ISSUE.search(flat) or H_PRO_TITLE.search(flat)

    def read(self, ctx: LetterContext, letter: Letter, found: re.Match[str]) -> list[Item]:
        flat = ctx.nt.flat
        issue = H_ISSUE.search(flat)
        if issue is None:
            raise LetterError(
                ctx.source, "MEDICAL PROFESSIONAL REVIEW letter has no ISSUE AT DISPUTE section"
            )
        # The cover block sits between the title and ISSUE AT DISPUTE.
        read_cover(ctx, letter, issue.start())
        items, summary_limit = _items_professional(ctx, issue)
        read_summary(ctx, letter, H_SUMMARY, None, after=issue.end(), limit=summary_limit)
        return items
