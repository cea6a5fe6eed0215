"""The sample letters' layout: ``HOW THE IMR FINAL DETERMINATION WAS MADE``, ``CLINICAL
CASE SUMMARY``, ``IMR ISSUES, DECISIONS AND RATIONALES`` (or the later heading variants
``DOCUMENTS REVIEWED``, ``IMR DECISION(S) AND RATIONALE(S)``), each item a decision line
followed by its ``Claims Administrator guideline:``, ``MAXIMUS guideline:`` and
``Decision rationale:`` labels. ``standard_cover`` (``standard_cover.py``) is the same
under a cover block of case fields.
"""

from __future__ import annotations

import re

from imr_assist.constants import FORMAT_STANDARD, OVERTURNED, UPHELD
from imr_assist.models import Item, Letter, Span
from imr_assist.parse import fields
from imr_assist.parse.formats.base import (
    H_SUMMARY,
    LetterContext,
    read_cover,
    read_summary,
    require_items,
)
from imr_assist.parse.reasons import label_reasons
from imr_assist.text import NormalizedText

_I = re.IGNORECASE

H_DECISIONS = re.compile(
    r"IMR\s+ISSUES\s*,?\s+DECISIONS\s+AND\s+RATIONALES"
    r"|IMR\s+DECISION\s*\(?S?\)?\s+AND\s+RATIONALE\s*\(?S?\)?"
)
SET_FORTH = re.compile(
    r"The\s+Final\s+Determination\s+was\s+based\s+on\s+decisions\s+for\s+the\s+disputed"
    r"\s+items\s*/\s*services\s+set\s+forth\s+below\s*:",
    _I,
)
LABEL_CA = re.compile(r"Claims\s+Administrator\s+guideline\s*:", _I)
LABEL_MX = re.compile(r"MAXIMUS\s+guideline\s*:", _I)
LABEL_DR = re.compile(r"Decision\s+rationale\s*:", _I)
# An item's labels, in the order they come in its block.
_LABEL_ORDER = (("ca", LABEL_CA), ("mx", LABEL_MX), ("dr", LABEL_DR))
_RANK = {"ca": 0, "mx": 1, "dr": 2}
# The end of an item heading, just before its first label: "...#60:  Upheld",
# "... is:\nOverturned", "...: Upheld." The word is checked afterwards, so that a
# misread word becomes a warning on the record instead of a lost letter.
DECISION_TAIL = re.compile(
    r":[ \n]*(?P<dec>[A-Za-z][A-Za-z \-]{0,30}?)[ \n]*\.?[ \n]*\Z", re.IGNORECASE
)
# Lines an item heading may span: real headings wrap over up to four lines, and a
# partial certification tells the original request, the authorized part and the
# remaining part in up to six (CM17-0002198).
_HEADING_LINES = 6
_PARTIAL_HEADING_LINES = 9
# A line ending a sentence ends the previous item's rationale, not a heading. A colon
# does not ("Associated surgical service:" / "Cold therapy unit: Upheld", CM16-0246487).
_SENTENCE_END = re.compile(r"[.;!?][\"'\u201d\u2019)\]]*\Z")
_RATIONALE_CLOSE = re.compile(r"medically\s+(?:necessary|appropriate)\W*\Z", _I)
# Words a wrapped heading line can end with before its next line.
_CONTINUING = re.compile(
    r"(?:[,&/\-+]|\b(?:and|or|of|the|for|to|with|a|an|in|on|per|x|times|at|by|from|"
    r"including|plus|versus|vs))\Z",
    _I,
)
# Partial and modified certifications (CM16-0234202, CM16-0249724):
#   "X was the original request. Y was authorized by the Claims Administrator. The
#    remaining IMR eligible portion of the original request, Z is: Upheld"
#   "X was the original request. The Claims Administrator authorized Y, leaving the
#    original request IMR eligible. The original request, X' is: Upheld"
PARTIAL_ORIGINAL = re.compile(r"\s+(?:was|were)\s+the\s+original\s+requests?\.", _I)
PARTIAL_REMAINING = re.compile(
    r"^(?P<auth>.+?)\s+(?:was|were)\s+(?:authorized|certified|approved)\s+by\s+the\s+"
    r"Claims\s+Administrator\.\s+The\s+remaining\s+(?:IMR\s+eligible\s+)?portion\s+of\s+"
    r"the\s+original\s+request\s*,?\s+(?P<treat>.+?)(?:\s+(?:is|are))?\s*\Z",
    _I,
)
PARTIAL_LEAVING = re.compile(
    r"^The\s+Claims\s+Administrator\s+(?:authorized|certified|approved|modified\s+the\s+"
    r"request\s+to)\s+(?P<auth>.+?)\s*,?\s+leaving\s+the\s+original\s+request\s+IMR\s+"
    r"eligible\.\s+The\s+original\s+request\s*,?\s+(?P<treat>.+?)(?:\s+(?:is|are))?\s*\Z",
    _I,
)
_IS_TAIL = re.compile(r"\s+(?:is|are)\s*\Z", _I)


def _label_groups(flat: str, start: int) -> list[list[tuple[str, re.Match[str]]]]:
    """Group the item labels of the decisions section, one group per item.

    Each item has its labels in the order Claims Administrator guideline, MAXIMUS
    guideline, Decision rationale, any of them possibly missing; a label that does
    not come later in that order than the one before it starts the next item.
    """
    marks = sorted(
        ((m.start(), kind, m) for kind, rx in _LABEL_ORDER for m in rx.finditer(flat, start)),
        key=lambda x: x[0],
    )
    groups: list[list[tuple[str, re.Match[str]]]] = []
    for _, kind, m in marks:
        if groups and _RANK[kind] > _RANK[groups[-1][-1][0]]:
            groups[-1].append((kind, m))
        else:
            groups.append([(kind, m)])
    return groups


def _items_standard(ctx: LetterContext, section_start: int) -> list[Item]:
    """Items of the decisions section: one per label group, headed by its decision line.

    The labels are the frame: each group's heading is the text just before its first
    label, ending in ": Upheld" or ": Overturned". So a wrapped guideline line
    ("Section(s):" / "Special Studies.") is never taken for an item, and a heading that
    cannot be read costs that item a warning, not the letter.
    """
    nt = ctx.nt
    flat = nt.flat
    floor = section_start
    if m := SET_FORTH.search(flat, section_start):
        floor = m.end()
    groups = _label_groups(flat, floor)
    heads: list[tuple[int, int, int, str, int, list[tuple[str, re.Match[str]]]] | None] = []
    prev_end = floor
    for group in groups:
        first = group[0][1]
        heads.append(_heading(ctx, prev_end, first.start(), group))
        prev_end = group[-1][1].end()
    # An item's block runs from its heading to the next readable heading.
    starts = [h for h in heads if h is not None]
    items: list[Item] = []
    for k, head in enumerate(starts):
        t_start, colon, dec_start, word, line_end, group = head
        block_end = starts[k + 1][0] if k + 1 < len(starts) else len(flat)
        items.append(
            _build_item(
                ctx, len(items), t_start, colon, word, dec_start, line_end, block_end, group
            )
        )
    return items


def _heading(
    ctx: LetterContext, floor: int, label_at: int, group: list[tuple[str, re.Match[str]]]
) -> tuple[int, int, int, str, int, list[tuple[str, re.Match[str]]]] | None:
    """Read the heading before an item's first label, or warn and return None.

    Returns (heading start, colon, decision word start, decision, end of the word,
    the group).
    """
    nt, flat = ctx.nt, ctx.nt.flat
    tail = DECISION_TAIL.search(flat, max(floor, label_at - 80), label_at)
    if tail is None:
        ctx.warn(
            "item_without_decision",
            "an item's labels have no 'treatment: Upheld/Overturned' line before them; "
            "item skipped",
            nt.span(max(floor, label_at - 80), label_at),
        )
        return None
    raw_word = " ".join(tail["dec"].split())
    colon = tail.start()
    word = _decision_word(raw_word)
    t_start = _heading_start(nt, colon, floor)
    treat_value = nt.value(t_start, colon).strip()
    if word is None:
        ctx.warn(
            "unreadable_decision",
            f"item '{_short(treat_value)}' has decision '{raw_word}', expected Upheld or "
            "Overturned; item skipped",
            nt.span(t_start, tail.end("dec")),
        )
        return None
    if word != raw_word.lower():
        ctx.warn(
            "decision_word_read",
            f"item '{_short(treat_value)}': decision word '{raw_word}' read as {word.title()}",
            nt.span(tail.start("dec"), tail.end("dec")),
        )
    return (t_start, colon, tail.start("dec"), word, tail.end("dec"), group)


def _decision_word(raw: str) -> str | None:
    """'Upheld' / 'Overturned', and the near misses a letter or its PDF text may carry."""
    w = raw.lower().replace(" ", "").replace("-", "")
    if w in (UPHELD, OVERTURNED):
        return w
    if w in ("uphold", "upholds", "upheldd", "uheld", "upeld") or w.startswith("upheld"):
        return UPHELD
    if w in ("overturn", "overturns", "overtuned", "overtumed") or w.startswith("overturned"):
        return OVERTURNED
    return None


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _heading_start(nt: NormalizedText, colon: int, floor: int) -> int:
    """Where the heading that ends at ``colon`` begins.

    Walk back line by line from the colon's line: a line after a blank line starts a
    paragraph and so the heading; without one (letters whose heading follows the
    rationale directly), a line before that ends a sentence stops the walk. A partial
    certification heading is taken back to its "X was the original request." sentence.
    """
    norm, flat = nt.norm, nt.flat
    start = norm.rfind("\n", floor, colon) + 1
    if start < floor:
        start = floor
    lines = 1
    while start > floor:
        text = flat[start:colon]
        partial = "original request" in text.lower()
        seen_original = PARTIAL_ORIGINAL.search(text) is not None
        limit = _PARTIAL_HEADING_LINES if partial else _HEADING_LINES
        if lines >= limit:
            break
        prev_end = start - 1
        prev_start = max(floor, norm.rfind("\n", floor, prev_end) + 1)
        prev = norm[prev_start:prev_end].rstrip()
        if not prev:
            break
        if _SENTENCE_END.search(prev) and not (partial and not seen_original):
            break
        if _RATIONALE_CLOSE.search(prev):  # "... is not medically necessary" without a period
            break
        if start in nt.paragraph_starts and (not partial or seen_original):
            # A blank line inside a heading (a page break, a PDF's stray empty line)
            # is crossed only where the lines plainly run on: "Norco" / "" /
            # "10/325mg #35 is: Upheld".
            cur = flat[start : start + 1]
            if not (_CONTINUING.search(prev) or cur.islower() or cur.isdigit() or cur in "#(%"):
                break
        start = prev_start
        lines += 1
    # Without a paragraph break, the line reached may still hold the end of the
    # previous rationale: "... not medically necessary. Norco 10/325mg #60 was the
    # original request."
    text = flat[start:colon]
    if (orig := PARTIAL_ORIGINAL.search(text)) and start not in nt.paragraph_starts:
        before = text[: orig.start()]
        cut = max((m.end() for m in re.finditer(r"[.!?]\s+(?=[A-Z])", before)), default=0)
        start += cut
    return start


def _build_item(
    ctx: LetterContext,
    index: int,
    t_start: int,
    t_end: int,
    decision: str,
    dec_start: int,
    line_end: int,
    block_end: int,
    group: list[tuple[str, re.Match[str]]] | None = None,
) -> Item:
    nt, flat = ctx.nt, ctx.nt.flat
    values: dict[str, object] = {}
    spans: dict[str, Span] = {}
    head_start = t_start
    t_start, t_end = _partial_certification(ctx, index, t_start, t_end, values, spans)
    treatment, t_span = nt.field(t_start, t_end)
    tf = fields.treatment_fields(nt, t_start, t_end)
    spans.update({"treatment": t_span, **tf.pop("spans")})  # type: ignore[dict-item]
    spans["decision"] = nt.span(dec_start, dec_start + len(decision))
    labels = dict(group) if group else {}
    ca = labels.get("ca") or (None if group else LABEL_CA.search(flat, line_end, block_end))
    mx = labels.get("mx") or (None if group else LABEL_MX.search(flat, line_end, block_end))
    dr = labels.get("dr") or (None if group else LABEL_DR.search(flat, line_end, block_end))

    def take(name: str, a: int, b: int) -> None:
        if b > a:
            value, span = nt.field(a, b)
            if value:
                values[name] = value
                spans[name] = span

    if ca:
        nxt = mx or dr
        take("claims_administrator_guideline", ca.end(), nxt.start() if nxt else block_end)
    if mx:
        take("reviewer_guideline", mx.end(), dr.start() if dr else block_end)
        if pages := fields.find_pages(nt, mx.end(), dr.start() if dr else block_end):
            values["pages"], spans["pages"] = pages
    reasons = []
    if dr:
        take("rationale", dr.end(), block_end)
        reasons = label_reasons(nt, dr.end(), block_end, decision)
    else:
        ctx.warn(
            "item_without_rationale",
            f"item '{_short(treatment)}' has no 'Decision rationale:' section",
            nt.span(t_start, block_end),
            item_index=index,
        )
    guideline_text = str(values.get("reviewer_guideline", ""))
    block_span = nt.field(head_start, block_end)[1]
    return Item(
        index=index,
        treatment=treatment,
        decision=decision,
        guidelines=fields.guideline_families(guideline_text),
        reasons=reasons,
        span=block_span,
        spans=spans,
        **tf,
        **values,
    )


def _partial_certification(
    ctx: LetterContext,
    index: int,
    t_start: int,
    t_end: int,
    values: dict[str, object],
    spans: dict[str, Span],
) -> tuple[int, int]:
    """Read a partial certification heading; returns the range of the decided part.

    For an ordinary heading the range is returned unchanged. For "X was the original
    request. ..." the original request and the authorized portion become fields and
    the item's treatment is the part IMR decided.
    """
    nt, flat = ctx.nt, ctx.nt.flat
    text = flat[t_start:t_end]
    orig = PARTIAL_ORIGINAL.search(text)
    if orig is None:
        if is_tail := _IS_TAIL.search(text):  # "The request for X is: Upheld"
            return t_start, t_start + is_tail.start()
        return t_start, t_end
    values["original_request"], spans["original_request"] = nt.field(
        t_start, t_start + orig.start()
    )
    rest_at = t_start + orig.end()
    while rest_at < t_end and flat[rest_at] == " ":
        rest_at += 1
    rest = flat[rest_at:t_end]
    m = PARTIAL_REMAINING.match(rest) or PARTIAL_LEAVING.match(rest)
    if m is None:
        ctx.warn(
            "partial_certification_unread",
            "a partial certification heading could not be read whole; the item is the "
            "text after its last comma",
            nt.span(t_start, t_end),
            item_index=index,
        )
        comma = text.rfind(",")
        a = t_start + comma + 1 if comma > orig.end() else rest_at
        b = t_end
        if is_tail := _IS_TAIL.search(flat, a, t_end):
            b = is_tail.start()
        return a, b
    values["authorized_portion"], spans["authorized_portion"] = nt.field(
        rest_at + m.start("auth"), rest_at + m.end("auth")
    )
    return rest_at + m.start("treat"), rest_at + m.end("treat")


class StandardFormat:
    """Sections with an ``IMR ISSUES, DECISIONS AND RATIONALES`` heading."""

    name = FORMAT_STANDARD

    def detect(self, flat: str) -> re.Match[str] | None:
        return H_DECISIONS.search(flat)

    def read(self, ctx: LetterContext, letter: Letter, found: re.Match[str]) -> list[Item]:
        read_cover(ctx, letter)
        items = _items_standard(ctx, found.end())
        require_items(ctx, items)
        read_summary(ctx, letter, H_SUMMARY, H_DECISIONS)
        return items
