"""What every letter layout shares: the ``LetterFormat`` protocol, the parsing context,
and the fields read the same way in each layout (the cover block, the case summary with
the worker's age, sex, diagnoses and dates, and the reviewer's licensure and specialty).

All matching runs on the normalised view, so line breaks, footers and CRLF in PDF text
do not change what is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from imr_assist.errors import LetterError
from imr_assist.models import Item, Letter, ParseWarning, Patient, Reviewer, Span
from imr_assist.parse import fields
from imr_assist.parse.fields import DATE
from imr_assist.text import NormalizedText

_I = re.IGNORECASE
H_MADE = re.compile(r"HOW\s+THE\s+IMR\s+FINAL\s+DETERMINATION\s+WAS\s+MADE", _I)
H_SUMMARY = re.compile(r"(?:CLINICAL\s+)?CASE\s+SUMMARY\s*:?", 0)
H_DOCS = re.compile(r"DOCUMENTS\s+REVIEWED\s*:?")
H_2013_RATIONALE = re.compile(r"INDEPENDENT\s+MEDICAL\s+REVIEW\s+DECISION\s+AND\s+RATIONALE")
SUMMARY_BOILERPLATE = re.compile(
    r"The\s+expert\s+reviewer\s+developed\s+the\s+following\s+clinical\s+case\s+summary"
    r"[^:]{0,120}:",
    _I,
)
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
class LetterContext:
    nt: NormalizedText
    source: str
    warnings: list[ParseWarning] = field(default_factory=list)

    def warn(
        self, code: str, message: str, span: Span | None = None, item_index: int | None = None
    ) -> None:
        self.warnings.append(
            ParseWarning(code=code, message=message, span=span, item_index=item_index)
        )


def read_cover(ctx: LetterContext, letter: Letter, end: int | None = None) -> None:
    """The cover block's fields (case number, dates, priority), before ``end``."""
    nt = ctx.nt
    if end is None:
        end = cover_end(nt.flat)
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


def read_summary(
    ctx: LetterContext,
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
    if b := SUMMARY_BOILERPLATE.match(flat, skip_ws(flat, start)):
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


def _diagnoses(ctx: LetterContext, letter: Letter, start: int, end: int) -> None:
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


def read_reviewer(ctx: LetterContext) -> Reviewer:
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


def skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \n":
        i += 1
    return i


class LetterFormat(Protocol):
    """One letter layout: how to recognise it, and how to read it.

    ``detect`` looks at the letter's normalised text and returns the heading that marks
    the layout, or None. ``read`` fills the letter's cover fields and case summary and
    returns its items; it is given what ``detect`` found. The parser tries the layouts
    of ``imr_assist.parse.formats.FORMATS`` in order and reads the letter with the first
    that detects it; ``name`` is the record's ``format``.
    """

    name: str

    def detect(self, flat: str) -> re.Match[str] | None: ...

    def read(self, ctx: LetterContext, letter: Letter, found: re.Match[str]) -> list[Item]: ...


def cover_end(flat: str) -> int:
    """Where the cover block ends: cover fields come before the letter body (or the 2013
    rationale section)."""
    body = H_MADE.search(flat) or H_2013_RATIONALE.search(flat)
    return body.start() if body else len(flat)


def require_items(ctx: LetterContext, items: list[Item]) -> None:
    """A letter whose decisions section holds no readable item is an error."""
    if not items:
        unread = [w.message for w in ctx.warnings if w.item_index is None]
        if unread:  # every item had a heading, and none could be read
            raise LetterError(ctx.source, unread[0].removesuffix("; item skipped"))
        raise LetterError(ctx.source, "no decisions found in the decisions section")
