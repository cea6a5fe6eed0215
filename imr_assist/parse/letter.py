"""Parse one letter's text into a ``Letter`` record.

Formats (DOMAIN.md):

- the sample letters' sections (``HOW THE IMR FINAL DETERMINATION WAS MADE``,
  ``CLINICAL CASE SUMMARY``, ``IMR ISSUES, DECISIONS AND RATIONALES``), optionally
  under a cover block of case fields;
- the later heading variants of the same (``DOCUMENTS REVIEWED``,
  ``IMR DECISION(S) AND RATIONALE(S)``);
- the 2013 "Notice of Independent Medical Review Determination" with numbered
  decision sentences;
- the "MEDICAL PROFESSIONAL REVIEW" layout: decisions as sentences under
  ``ISSUE AT DISPUTE:``, then ``CASE SUMMARY:``, one block per item under
  ``MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:``
  and ``RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS (NOT) MEDICALLY
  NECESSARY:``, and ``MEDICAL REVIEWER QUALIFICATIONS:``.

All matching runs on the normalised view, so line breaks, footers and CRLF in PDF
text do not change what is found.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from imr_assist.constants import (
    FORMAT_2013,
    FORMAT_COVER,
    FORMAT_PROFESSIONAL,
    FORMAT_STANDARD,
    OVERTURNED,
    UPHELD,
)
from imr_assist.errors import LetterError
from imr_assist.models import Item, Letter, ParseWarning, Patient, Reviewer, Span
from imr_assist.parse import fields
from imr_assist.parse.fields import DATE
from imr_assist.parse.reasons import label_reasons
from imr_assist.text import NormalizedText, normalize

_I = re.IGNORECASE
W = r"\s+"  # between words of a heading: PDF text may break a heading across lines

H_MADE = re.compile(r"HOW\s+THE\s+IMR\s+FINAL\s+DETERMINATION\s+WAS\s+MADE", _I)
H_SUMMARY = re.compile(r"(?:CLINICAL\s+)?CASE\s+SUMMARY\s*:?", 0)
H_DOCS = re.compile(r"DOCUMENTS\s+REVIEWED\s*:?")
H_DECISIONS = re.compile(
    r"IMR\s+ISSUES\s*,?\s+DECISIONS\s+AND\s+RATIONALES"
    r"|IMR\s+DECISION\s*\(?S?\)?\s+AND\s+RATIONALE\s*\(?S?\)?"
)
H_2013_NOTICE = re.compile(
    r"Notice\s+of\s+Independent\s+Medical\s+Review\s+Determination"
    r"|has\s+determined\s+the\s+request\s+for",
    _I,
)
H_2013_RATIONALE = re.compile(r"INDEPENDENT\s+MEDICAL\s+REVIEW\s+DECISION\s+AND\s+RATIONALE")
H_2013_QUALS = re.compile(r"Medical\s+Qualifications\s+of\s+the\s+Expert\s+Reviewer\s*:", _I)
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
SUMMARY_BOILERPLATE = re.compile(
    r"The\s+expert\s+reviewer\s+developed\s+the\s+following\s+clinical\s+case\s+summary"
    r"[^:]{0,120}:",
    _I,
)
SET_FORTH = re.compile(
    r"The\s+Final\s+Determination\s+was\s+based\s+on\s+decisions\s+for\s+the\s+disputed"
    r"\s+items\s*/\s*services\s+set\s+forth\s+below\s*:",
    _I,
)
LABEL_CA = re.compile(r"Claims\s+Administrator\s+guideline\s*:", _I)
LABEL_MX = re.compile(r"MAXIMUS\s+guideline\s*:", _I)
LABEL_DR = re.compile(r"Decision\s+rationale\s*:", _I)
COVER_FIELDS = {
    "case_number": r"(?:IMR\s+)?Case\s+(?:Number|No\.?)\s*:?\s*(?P<v>[A-Z]{2}\d{2}-\d{5,8})",
    "date_assigned": r"Date\s+Assigned\s*:\s*(?P<d>" + DATE + ")",
    "date_of_injury": r"Date\s+of\s+Injury\s*:\s*(?P<d>" + DATE + ")",
    "decision_date": r"(?:Decision\s+Date|Dated)\s*:\s*(?P<d>" + DATE + ")",
    "ur_denial_date": r"(?:UR\s+Denial\s+Date|Date\s+of\s+UR\s+Decision)\s*:\s*(?P<d>" + DATE + ")",
    "application_received": r"Application\s+Received\s*:\s*(?P<d>" + DATE + ")",
    "priority": r"Priority\s*:\s*(?P<v>[A-Za-z]+)",
}


# The UR denial told in the summary: "On 6/9/15, the Claims Administrator
# non-certified ...", "Utilization review dated 1/30/2016 denied the request",
# "UR on 3/2/15 modified ...".
_UR_BY = r"(?:the\s+)?(?:Claims\s+Administrator|utilization\s+review(?:er)?|UR)"
_UR_ACT = r"(?:non-?\s*certified|noncertified|denied|modified|did\s+not\s+certify)"
UR_DENIED = (
    r"(?:\bOn\s+(?=" + DATE + r",?\s+" + _UR_BY + r"\s+" + _UR_ACT + r")"
    r"|\b" + _UR_BY + r"\s+(?:(?:determination|decision|report|letter)\s+)?(?:dated|of|on)\s+"
    r"(?=" + DATE + r",?\s+" + _UR_ACT + r"))(?P<d>" + DATE + r")"
)


@dataclass
class _Ctx:
    nt: NormalizedText
    source: str
    warnings: list[ParseWarning] = field(default_factory=list)

    def warn(
        self, code: str, message: str, span: Span | None = None, item_index: int | None = None
    ) -> None:
        self.warnings.append(
            ParseWarning(code=code, message=message, span=span, item_index=item_index)
        )


def parse_text(text: str, source: str = "<text>", doc_id: str | None = None) -> Letter:
    """Parse a letter. Raises ``LetterError`` if it is not an IMR determination."""
    if "\x00" in text:
        raise LetterError(source, "file contains NUL bytes; not a text letter")
    nt = normalize(text)
    if not nt.norm.strip():
        raise LetterError(source, "file has no text")
    ctx = _Ctx(nt, source)
    flat = nt.flat
    issue = H_ISSUE.search(flat)
    is_professional = issue is not None or H_PRO_TITLE.search(flat) is not None
    is_2013 = not is_professional and bool(H_2013_NOTICE.search(flat))
    dec_heading = None if is_professional else H_DECISIONS.search(flat)
    if is_professional and issue is None:
        raise LetterError(
            source, "MEDICAL PROFESSIONAL REVIEW letter has no ISSUE AT DISPUTE section"
        )
    if not is_professional and not is_2013 and dec_heading is None:
        if re.search(r"Independent\s+Medical\s+Review|MAXIMUS|\bIMR\b", flat, _I):
            raise LetterError(source, "no decisions section found (truncated letter?)")
        raise LetterError(source, "not an IMR determination letter (no IMR sections found)")

    letter = Letter(
        doc_id=doc_id or "",
        source=source,
        format=FORMAT_2013 if is_2013 else FORMAT_STANDARD,
        sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        text=text,
    )
    if issue is not None:
        letter.format = FORMAT_PROFESSIONAL
        # The cover block sits between the title and ISSUE AT DISPUTE.
        _cover(ctx, letter, issue.start())
        items, summary_limit = _items_professional(ctx, issue)
        _summary(ctx, letter, H_SUMMARY, None, after=issue.end(), limit=summary_limit)
    else:
        _cover(ctx, letter)
        if letter.format == FORMAT_STANDARD and letter.case_number:
            letter.format = FORMAT_COVER
        if is_2013:
            items = _items_2013(ctx)
            summary_rx, summary_end_rx = (
                re.compile(r"Case\s+Summary\s*:", _I),
                re.compile(r"\b1\s*\)\s*Regarding\s+the\s+request", _I),
            )
        else:
            assert dec_heading is not None
            items = _items_standard(ctx, dec_heading.end())
            summary_rx, summary_end_rx = H_SUMMARY, H_DECISIONS
        if not items:
            unread = [w.message for w in ctx.warnings if w.item_index is None]
            if unread:  # every item had a heading, and none could be read
                raise LetterError(source, unread[0].removesuffix("; item skipped"))
            raise LetterError(source, "no decisions found in the decisions section")
        _summary(ctx, letter, summary_rx, summary_end_rx)
    letter.items = items
    letter.reviewer = _reviewer(ctx)
    letter.warnings = ctx.warnings
    if not letter.doc_id:
        letter.doc_id = letter.case_number or letter.sha256[:16]
    elif letter.case_number:
        letter.doc_id = letter.case_number
    return letter


# --- header fields ----------------------------------------------------------------


def _cover(ctx: _Ctx, letter: Letter, end: int | None = None) -> None:
    nt = ctx.nt
    if end is None:
        # Cover fields come before the letter body (or the 2013 rationale section).
        body = H_MADE.search(nt.flat) or H_2013_RATIONALE.search(nt.flat)
        end = body.start() if body else len(nt.flat)
    for name, pattern in COVER_FIELDS.items():
        if "(?P<d>" in pattern:
            found = fields.find_date(nt, pattern, 0, end)
            if found:
                setattr(letter, name, found[0])
                letter.spans[name] = found[1]
        elif m := re.compile(pattern, _I).search(nt.flat, 0, end):
            value, span = nt.field(m.start("v"), m.end("v"))
            setattr(letter, name, value.upper() if name == "case_number" else value)
            letter.spans[name] = span


def _summary(
    ctx: _Ctx,
    letter: Letter,
    head: re.Pattern[str],
    stop: re.Pattern[str] | None,
    after: int = 0,
    limit: int | None = None,
) -> None:
    """The case summary: from ``head`` to ``stop``, DOCUMENTS REVIEWED or ``limit``."""
    nt, flat = ctx.nt, ctx.nt.flat
    h = head.search(flat, after)
    if h is None:
        return
    start = h.end()
    if b := SUMMARY_BOILERPLATE.match(flat, _skip_ws(flat, start)):
        start = b.end()
    ends = [len(flat) if limit is None else limit]
    for rx in (H_DOCS, stop):
        if rx is not None and (m := rx.search(flat, start)):
            ends.append(m.start())
    end = min(ends)
    if end <= start:
        return
    letter.summary, letter.spans["summary"] = nt.field(start, end)

    letter.patient = _patient(nt, start, end)
    if letter.date_of_injury is None:
        found = fields.find_date(
            nt, r"(?:injury|injured)\s+(?:on\s+|of\s+)?(?:date\s+)?(?P<d>" + DATE + ")", start, end
        )
        if found:
            letter.date_of_injury, letter.spans["date_of_injury"] = found
    if letter.ur_denial_date is None:
        found = fields.find_date(
            nt,
            r"date\s+of\s+(?:the\s+)?UR\s+(?:decision|denial)\s+(?:was\s+)?(?P<d>" + DATE + ")",
            start,
            end,
        )
        if found is None:
            found = fields.find_date(nt, UR_DENIED, start, end)
        if found:
            letter.ur_denial_date, letter.spans["ur_denial_date"] = found
    _diagnoses(ctx, letter, start, end)


_AGE_SEX = re.compile(
    r"(?P<age>\d{1,3})\s*-?\s*years?\s*-?\s*old\s+(?:\w+\s+){0,2}?(?P<sex>female|male|woman|man)\b",
    _I,
)
_AGE = re.compile(r"\b(?P<age>\d{1,3})\s*-?\s*years?\s*-?\s*old\b", _I)
# Sex without an age: "The injured worker is a female who sustained ..." (CM16-0249170,
# whose records give two birthdates and so no age).
_SEX = re.compile(
    r"\b(?:is|was)\s+an?\s+(?P<sex>female|male|woman|man)\b"
    r"|\b(?P<sex2>female|male)\s+(?:injured\s+worker|patient|claimant|applicant|employee)\b",
    _I,
)


def _patient(nt: NormalizedText, start: int, end: int) -> Patient:
    """Age and sex from the case summary: "a 48 year old male", "50-year-old female"."""
    p = Patient()
    flat = nt.flat
    m = _AGE_SEX.search(flat, start, end)
    age = m or _AGE.search(flat, start, end)
    if age is not None:
        p.age = int(age["age"])
        p.spans["age"] = nt.span(age.start("age"), age.end("age"))
    sex_at: tuple[int, int] | None = None
    if m is not None:
        sex_at = (m.start("sex"), m.end("sex"))
    elif s := _SEX.search(flat, start, end):
        g = "sex" if s["sex"] else "sex2"
        sex_at = (s.start(g), s.end(g))
    if sex_at is not None:
        sex = flat[sex_at[0] : sex_at[1]].lower()
        p.sex = {"man": "male", "woman": "female"}.get(sex, sex)
        p.spans["sex"] = nt.span(*sex_at)
    return p


def _diagnoses(ctx: _Ctx, letter: Letter, start: int, end: int) -> None:
    nt, flat = ctx.nt, ctx.nt.flat
    rx = re.compile(
        r"(?:diagnosed\s+(?:as\s+having|with)|Impression\s*:|Diagnos[ie]s\s*:)\s*(?P<v>.+?)"
        r"\.(?=\s+[A-Z]|\s*$)",
        _I,
    )
    m = rx.search(flat, start, end)
    if not m:
        return
    sep = r";|,\s*(?:and\s+)?|\s+and\s+(?=[^,;]*$)" if ";" not in m["v"] else r";"
    parts = fields.split_list(nt, m.start("v"), m.end("v"), sep)
    for i, (value, span) in enumerate(parts):
        letter.diagnoses.append(value)
        letter.spans[f"diagnoses.{i}"] = span


def _reviewer(ctx: _Ctx) -> Reviewer:
    nt, flat = ctx.nt, ctx.nt.flat
    r = Reviewer()
    stop = (
        r"(?=\s*(?:Certification\s*\(s\)|State\s*\(s\)|CLINICAL\s+CASE|CASE\s+SUMMARY|"
        r"DOCUMENTS\s+REVIEWED|IMR\s+ISSUES|IMR\s+DECISION|Case\s+Summary|"
        r"MEDICAL\s+(?:PROFESSIONAL\s+REVIEW|TREATMENT\s+GUIDELINE|REVIEWER\s+QUALIFICATIONS)|"
        r"ISSUES?\s+AT\s+DISPUTE|RATIONALE\s+FOR\s+WHY|$))"
    )
    lic = re.search(r"State\s*\(s\)\s+of\s+Licensure\s*:\s*(?P<v>.+?)" + stop, flat)
    spec = re.search(r"Certification\s*\(s\)\s*/\s*Specialty\s*:\s*(?P<v>.+?)" + stop, flat)
    if lic:
        _add_list(nt, r, "licensure", lic.start("v"), lic.end("v"), r",|\s+and\s+")
    if spec:
        _add_list(nt, r, "specialties", spec.start("v"), spec.end("v"), r",|;")
    if lic or spec:
        return r
    # Prose variant (sample 003): "is Board Certified in Anesthesia, has a subspecialty
    # in Acupuncture & Pain Medicine and is licensed to practice in California". The
    # board certifications may be a comma list ("in Neurology, Neuromuscular Medicine");
    # "and" is not a separator there, since it is part of names such as "Obstetrics and
    # Gynecology".
    prose = re.search(
        r"Board\s+Certified\s+in\s+(?P<spec>(?:(?!,?\s+(?:and\s+)?(?:has\s+a\s+)?sub-?specialty)"
        r"[^.])+?)"
        r"(?:,?\s+(?:and\s+)?(?:has\s+a\s+)?sub-?specialty\s+in\s+(?P<sub>[^,.]+?))?"
        r",?\s+and\s+is\s+licensed\s+to\s+practice\s+in\s+(?P<states>[A-Z][A-Za-z ,]*?[a-z])"
        r"\s*(?:\.|$)",
        flat,
    )
    if prose:
        _add_list(nt, r, "specialties", prose.start("spec"), prose.end("spec"), r",|;")
        if prose["sub"]:
            _add_list(nt, r, "specialties", prose.start("sub"), prose.end("sub"), r",|;")
        _add_list(nt, r, "licensure", prose.start("states"), prose.end("states"), r",|\s+and\s+")
    return r


def _add_list(nt: NormalizedText, r: Reviewer, name: str, a: int, b: int, sep: str) -> None:
    target: list[str] = getattr(r, name)
    for value, span in fields.split_list(nt, a, b, sep):
        r.spans[f"{name}.{len(target)}"] = span
        target.append(value)


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \n":
        i += 1
    return i


# --- items: standard format ---------------------------------------------------------


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


def _items_standard(ctx: _Ctx, section_start: int) -> list[Item]:
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
    ctx: _Ctx, floor: int, label_at: int, group: list[tuple[str, re.Match[str]]]
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
    ctx: _Ctx,
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
        decision=decision,  # type: ignore[arg-type]
        guidelines=fields.guideline_families(guideline_text),
        reasons=reasons,
        span=block_span,
        spans=spans,
        **tf,  # type: ignore[arg-type]
        **values,  # type: ignore[arg-type]
    )


def _partial_certification(
    ctx: _Ctx,
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


# --- items: 2013 notice format ------------------------------------------------------

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


def _items_2013(ctx: _Ctx) -> list[Item]:
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
                decision=decision,  # type: ignore[arg-type]
                guidelines=fields.guideline_families(str(values.get("reviewer_guideline", ""))),
                reasons=reasons,
                span=item_span,
                spans=spans,
                **tf,  # type: ignore[arg-type]
                **values,  # type: ignore[arg-type]
            )
        )
    return items


# --- items: "MEDICAL PROFESSIONAL REVIEW" layout ----------------------------------------

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


def _items_professional(ctx: _Ctx, issue_head: re.Match[str]) -> tuple[list[Item], int]:
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
                decision=entry.decision,  # type: ignore[arg-type]
                guidelines=fields.guideline_families(str(values.get("reviewer_guideline", ""))),
                reasons=reasons,
                span=item_span,
                spans=spans,
                **tf,  # type: ignore[arg-type]
                **values,  # type: ignore[arg-type]
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


def _pro_issues(ctx: _Ctx, start: int, end: int) -> list[_Issue]:
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
    start = _skip_ws(flat, start)
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


def _pro_headings(ctx: _Ctx, blocks: list[_Block], issues: list[_Issue], floor: int) -> None:
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
