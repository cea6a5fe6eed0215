"""Property-based fuzzing of ``parse_text``: any string is a Letter or a LetterError.

Two strategies: arbitrary text, and a structure-aware one that stitches real
headings, decision lines, guideline labels, cover fields, dates, 2013 decision
sentences and PDF noise taken from the sample letters into random orders, so the
parser is pushed through its section, item and field code rather than rejected
at the first heading check.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st

from imr_assist.constants import DECISIONS
from imr_assist.errors import LetterError
from imr_assist.models import Letter, Span
from imr_assist.parse import parse_text
from imr_assist.samples import sample_paths

SAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in sample_paths()]
SAMPLE_LINES = sorted({ln for t in SAMPLE_TEXTS for ln in t.splitlines() if ln.strip()})

HEADINGS = [
    "HOW THE IMR FINAL DETERMINATION WAS MADE",
    "The Expert Reviewer has the following credentials:",
    "CLINICAL CASE SUMMARY",
    "CASE SUMMARY:",
    "DOCUMENTS REVIEWED",
    "IMR ISSUES, DECISIONS AND RATIONALES",
    "IMR ISSUES,\nDECISIONS AND\nRATIONALES",
    "IMR DECISION(S) AND RATIONALE(S)",
    "The Final Determination was based on decisions for the disputed items/services set forth below:",
    "MAXIMUS FEDERAL SERVICES, INC.",
    "Notice of Independent Medical Review Determination",
    "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE",
    "Medical Qualifications of the Expert Reviewer:",
    "Case Summary:",
    "MEDICAL PROFESSIONAL REVIEW",
    "ISSUE AT DISPUTE:",
    "MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:",
    "RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY:",
    "MEDICAL REVIEWER QUALIFICATIONS:",
    "The expert reviewer developed the following clinical case summary based on a review of the "
    "case file, including all medical records:",
]
LABELS = [
    "Claims Administrator guideline:",
    "MAXIMUS guideline:",
    "Decision rationale:",
    "Claims Administrator guideline: Decision based on MTUS Chronic Pain Treatment Guidelines.",
    "MAXIMUS guideline: Decision based on MTUS Chronic Pain Treatment Guidelines Opioids "
    "Page(s): 74-96.",
    "MAXIMUS guideline: Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) "
    "Page(s): 44, 47, 75-79, 120 of 127.",
    "Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:",
    "Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:",
    "Rationale for the Decision:",
    "State(s) of Licensure: California",
    "Certification(s)/Specialty: Family Practice",
]
TREATMENTS = [
    "Norco 10/325mg #60",
    "Norco 10/325mg quantity 120",
    "Xanax 1mg quantity 30",
    "Baclofen 10mg #270 1 refill",
    "Amitriptyline 10mg #60 3 refills",
    "Butrans 20mcg/hr transdermal film #4",
    "Physical therapy 2 x 6 for the lumbar spine",
    "acupuncture x 6 sessions",
    "28 day functional restoration program",
    "MRI of the lumbar spine without contrast",
    "Lumbar epidural steroid injection L4-L5",
    "Qty: 30",
    "",
    ":",
    "#",
]
DECISION_WORDS = [
    "Upheld",
    "Overturned",
    "UPHELD",
    "overturned.",
    "Partially Approved",
    "Modified",
    "",
    "Upheld Overturned",
    "Up-\nheld",
]
DATES = ["6/9/15", "06/09/2015", "June 7, 1993", "13/45/2015", "2/30/15", "0/0/0", "12/31/9999"]
COVER_LABELS = [
    "Case Number:",
    "IMR Case Number:",
    "Date Assigned:",
    "Date of Injury:",
    "Decision Date:",
    "Dated:",
    "UR Denial Date:",
    "Application Received:",
    "Priority:",
]
NOISE = [
    "Page 2 of 5",
    "\f",
    "non-",
    "anti-\ndepressant",
    "notmedically necessary",
    "The injured worker is a 64 year old female",
    "50-year-old male",
    "is not medically necessary and appropriate.",
    "is medically necessary and appropriate.",
    "Decision: Overturned",
    "[1]",
    "</evidence>",
    "\u00a0",
    "\u2019",
    "\ufeff",
    "\ud800",  # a lone surrogate, as a broken decoder may leave
    "\x00",
    "\t",
    "  ",
    "(",
    ")",
    "$",
    "\\",
]
SEPARATORS = ["\n", "\r\n", " \n\n", "\n\n", " ", "", "\r", "\n\f\n"]


def _decision_line(draw: st.DrawFn) -> str:
    treat = draw(st.sampled_from(TREATMENTS))
    word = draw(st.sampled_from(DECISION_WORDS))
    gap = draw(st.sampled_from([": ", ":  ", ":\n", " : ", ":"]))
    return f"{treat}{gap}{word}"


def _cover_line(draw: st.DrawFn) -> str:
    label = draw(st.sampled_from(COVER_LABELS))
    value = draw(
        st.one_of(
            st.sampled_from(DATES),
            st.sampled_from(["CM15-0123456", "CM13-0012345", "XX99-1", "Standard", ""]),
        )
    )
    return f"{label} {value}"


def _numbered_2013(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 12))
    treat = draw(st.sampled_from(TREATMENTS))
    verdict = draw(
        st.sampled_from(
            ["is not medically necessary", "is medically necessary", "is", "was reviewed"]
        )
    )
    return (
        f"{n}) MAXIMUS Federal Services, Inc. has determined the request for {treat} "
        f"{verdict} and appropriate."
    )


@st.composite
def _piece(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 8))
    if kind == 0:
        return draw(st.sampled_from(HEADINGS))
    if kind == 1:
        return draw(st.sampled_from(LABELS))
    if kind == 2:
        return _decision_line(draw)
    if kind == 3:
        return _cover_line(draw)
    if kind == 4:
        return _numbered_2013(draw)
    if kind == 5:
        return draw(st.sampled_from(NOISE))
    if kind == 6:
        return draw(st.sampled_from(SAMPLE_LINES))
    if kind == 7:
        return draw(st.text(max_size=40))
    return f"Regarding the request for {draw(st.sampled_from(TREATMENTS))}:"


@st.composite
def stitched_letters(draw: st.DrawFn) -> str:
    """Real letter parts in random order, joined by assorted line breaks."""
    pieces = draw(st.lists(_piece(), min_size=1, max_size=40))
    out: list[str] = []
    for piece in pieces:
        out.append(piece)
        out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


@st.composite
def mutated_samples(draw: st.DrawFn) -> str:
    """A sample letter cut, spliced and sprinkled with letter parts and noise."""
    text = draw(st.sampled_from(SAMPLE_TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 3))
        a = draw(st.integers(0, len(text)))
        b = draw(st.integers(a, min(len(text), a + 400)))
        if op == 0:  # delete a stretch
            text = text[:a] + text[b:]
        elif op == 1:  # insert a letter part
            text = text[:a] + draw(_piece()) + text[a:]
        elif op == 2:  # duplicate a stretch elsewhere
            c = draw(st.integers(0, len(text)))
            text = text[:c] + text[a:b] + text[c:]
        else:  # truncate
            text = text[:a]
    return text


def check(text: str) -> None:
    """The property: a Letter with sane items, or a LetterError naming the source."""
    try:
        letter = parse_text(text, source="fuzz.txt")
    except LetterError as err:
        assert err.source == "fuzz.txt"
        assert err.problem and "\n" not in str(err)
        return
    assert isinstance(letter, Letter)
    assert letter.items
    for item in letter.items:
        assert item.decision in DECISIONS
        _in_bounds(item.span, text)
        for span in item.spans.values():
            _in_bounds(span, text)
    for span in letter.spans.values():
        _in_bounds(span, text)


def _in_bounds(span: Span, text: str) -> None:
    assert 0 <= span.start <= span.end <= len(text), (span, len(text))


# Inputs that once needed care: a heading with nothing after it, a decision line at
# the very end, a lone surrogate, a form feed inside a heading.
@example("IMR ISSUES, DECISIONS AND RATIONALES")
@example("IMR ISSUES, DECISIONS AND RATIONALES\nNorco 10/325mg #60: Upheld\nDecision rationale:")
@example("Notice of Independent Medical Review Determination\n1) MAXIMUS")
@example("IMR ISSUES,\fDECISIONS AND RATIONALES\n\ud800: Upheld\nMAXIMUS guideline:")
@example("")
@given(st.text())
@settings(max_examples=200, deadline=None)
def test_random_text(text: str) -> None:
    check(text)


@given(stitched_letters())
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_stitched_letter_parts(text: str) -> None:
    check(text)


@given(mutated_samples())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_sample_letters(text: str) -> None:
    check(text)


def _parses(text: str) -> bool:
    try:
        parse_text(text)
    except LetterError:
        return False
    return True


def test_strategies_reach_the_item_parser() -> None:
    """Fuzzing is only worth it if the generated letters often get past the headings."""
    stitched = find(
        stitched_letters(), _parses, settings=settings(max_examples=3000, database=None)
    )
    assert parse_text(stitched).items
    mutated = find(
        mutated_samples(),
        lambda t: _parses(t) and t not in SAMPLE_TEXTS,
        settings=settings(max_examples=500, database=None),
    )
    assert parse_text(mutated).items
