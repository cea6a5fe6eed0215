"""Letters the tests build: the samples rewritten into other formats and with PDF noise."""

from __future__ import annotations

import random

from imr_assist.models import Letter
from imr_assist.parse.fields import iso_date
from imr_assist.text import clean

COVER = (
    "Case Number: CM15-0123456\nDate Assigned: 07/20/2015\nDate of Injury: 03/12/2002\n"
    "Decision Date: 08/28/2015\nUR Denial Date: 07/09/2015\nPriority: Standard\n"
    "Application Received: 07/17/2015\n\n"
)


def with_cover(text: str) -> str:
    return COVER + text


def as_2013(letter: Letter) -> str:
    """The letter's content in the 2013 numbered-sentence notice format."""
    lines = [
        "MAXIMUS FEDERAL SERVICES, INC.",
        "Notice of Independent Medical Review Determination",
        "Dated: 10/01/2013",
        "IMR Case Number: CM13-0012345",
        "",
    ]
    for n, it in enumerate(letter.items, 1):
        verdict = (
            "is not medically necessary" if it.decision == "upheld" else "is medically necessary"
        )
        lines.append(
            f"{n}) MAXIMUS Federal Services, Inc. has determined the request for "
            f"{it.treatment} {verdict} and appropriate."
        )
    spec = letter.reviewer.specialties[0] if letter.reviewer.specialties else "Internal Medicine"
    lines += [
        "",
        "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE",
        "Medical Qualifications of the Expert Reviewer:",
        f"The physician reviewer is Board Certified in {spec} and is licensed to practice in "
        "California.",
        "Case Summary:",
        letter.summary or "",
    ]
    for n, it in enumerate(letter.items, 1):
        lines += [
            f"{n}) Regarding the request for {it.treatment}:",
            "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:",
            it.claims_administrator_guideline or "",
            "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:",
            it.reviewer_guideline or "",
            "Rationale for the Decision:",
            it.rationale or "",
        ]
    return "\n".join(lines) + "\n"


def later_headings(text: str) -> str:
    """The later heading variants: DOCUMENTS REVIEWED and IMR DECISION(S) AND RATIONALE(S)."""
    text = text.replace(
        "CLINICAL CASE SUMMARY",
        "DOCUMENTS REVIEWED\nMedical records, UR denial letter\n\nCLINICAL CASE SUMMARY",
    )
    return text.replace("IMR ISSUES, DECISIONS AND RATIONALES", "IMR DECISION(S) AND RATIONALE(S)")


def add_noise(text: str, rng: random.Random, width: int = 60) -> str:
    """PDF-style noise: re-wrapped lines, blank lines, footers, CRLF, double spaces."""
    out: list[str] = []
    page = 1
    for line in text.splitlines():
        words = line.split(" ")
        cur = ""
        for w in words:
            if cur and len(cur) + len(w) > width and rng.random() < 0.7:
                out.append(cur)
                cur = w
            else:
                cur = f"{cur}{'  ' if rng.random() < 0.1 else ' '}{w}" if cur else w
        out.append(cur)
        if rng.random() < 0.05:
            page += 1
            out.append(f"Page {page} of 9")
        if rng.random() < 0.5:
            out.append("")
    sep = "\r\n" if rng.random() < 0.5 else "\n"
    return sep.join(out) + sep


PRO_GUIDELINE = "MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:"
PRO_RATIONALE = (
    "RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS {not_}MEDICALLY NECESSARY:"
)


def as_professional(letter: Letter, *, cover: bool = False) -> str:
    """The letter's content in the "MEDICAL PROFESSIONAL REVIEW" layout.

    Items are numbered when there is more than one. The reviewer is written as prose
    ("Board Certified in X, has a subspecialty in Y and is licensed to practice in
    California") when licensed in one state with at most two specialties, and as the
    labelled lines otherwise.
    """
    items = letter.items
    numbered = len(items) > 1
    lines = ["MEDICAL PROFESSIONAL REVIEW", ""]
    if cover:
        lines += COVER.splitlines()
    lines.append("ISSUE AT DISPUTE:")
    for n, it in enumerate(items, 1):
        verdict = "is not" if it.decision == "upheld" else "is"
        number = f"{n}. " if numbered else ""
        lines.append(f"{number}{it.treatment} {verdict} medically necessary and appropriate.")
    lines += ["", "CASE SUMMARY:", letter.summary or "", ""]
    for n, it in enumerate(items, 1):
        if numbered:
            lines.append(f"{n}. {it.treatment}")
        guideline = it.reviewer_guideline or ""
        if guideline.startswith("Decision based on "):
            guideline = guideline[len("Decision based on ") :]
        lines += [
            PRO_GUIDELINE,
            guideline,
            PRO_RATIONALE.format(not_="NOT " if it.decision == "upheld" else ""),
            it.rationale or "",
            "",
        ]
    lines.append("MEDICAL REVIEWER QUALIFICATIONS:")
    states, specs = letter.reviewer.licensure, letter.reviewer.specialties
    if len(states) == 1 and 1 <= len(specs) <= 2:
        sub = f", has a subspecialty in {specs[1]}" if len(specs) == 2 else ""
        lines.append(
            f"The physician reviewer is Board Certified in {specs[0]}{sub} and is licensed to "
            f"practice in {states[0]}."
        )
    else:
        lines += [
            f"State(s) of Licensure: {', '.join(states)}",
            f"Certification(s)/Specialty: {', '.join(specs)}",
        ]
    return "\n".join(lines) + "\n"


def check_grounding(letter: Letter) -> int:
    """Assert every grounded field of ``letter`` reads back from its span; returns the count."""
    text, checked = letter.text, 0

    def check(value: object, name: str, span) -> None:
        nonlocal checked
        raw = clean(text[span.start : span.end])
        if name.startswith("date") or name.endswith("_date") or name == "application_received":
            assert iso_date(raw) == value, name
        elif name == "sex":
            assert {"man": "male", "woman": "female"}.get(raw.lower(), raw.lower()) == value
        elif name == "decision":
            # The decision word ("Upheld"), or the 2013 verdict ("is not medically necessary").
            said = raw.lower()
            if "medically" in said:
                said = "upheld" if "not" in said else "overturned"
            assert said == value, name
        else:
            assert raw == str(value), (name, raw, value)
        checked += 1

    def walk(obj, spans) -> None:
        for key, span in spans.items():
            name, _, idx = key.partition(".")
            value = getattr(obj, name)
            check(value[int(idx)] if idx else value, name, span)

    walk(letter, letter.spans)
    walk(letter.reviewer, letter.reviewer.spans)
    walk(letter.patient, letter.patient.spans)
    for it in letter.items:
        walk(it, it.spans)
        for r in it.reasons:
            assert clean(text[r.start : r.end]) == r.quote
            checked += 1
        assert it.span.start < it.span.end
        if "rationale" in it.spans:
            assert (
                it.span.start
                <= it.spans["rationale"].start
                < it.spans["rationale"].end
                <= it.span.end
            )
    return checked
