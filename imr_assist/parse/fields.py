"""Small extractors shared by the letter formats: dates, people, treatments, pages.

Every extractor works on the normalised view (``NormalizedText``) and returns
values with their spans in the original text.
"""

from __future__ import annotations

import re
from datetime import date

from imr_assist.models import Span
from imr_assist.parse.lexicon import get_lexicon
from imr_assist.text import NormalizedText

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
DATE = (
    r"(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4})"
)


def iso_date(raw: str) -> str | None:
    """'6/9/15', '06/09/2015', 'June 7, 1993', '2015-06-09' -> ISO date, or None."""
    raw = " ".join(raw.split())
    try:
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", raw):
            mo, d, y = int(m[1]), int(m[2]), int(m[3])
            if y < 100:
                # Two-digit years: letters decide injuries from the 1970s to now.
                y += 2000 if y < 50 else 1900
            return date(y, mo, d).isoformat()
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", raw):
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if m := re.fullmatch(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})", raw):
            month = _MONTHS.get(m[1].lower())
            if month:
                return date(int(m[3]), month, int(m[2])).isoformat()
    except ValueError:
        return None
    return None


def find_date(
    nt: NormalizedText, pattern: str, start: int = 0, end: int | None = None
) -> tuple[str, Span] | None:
    """First match of ``pattern`` (with a group named ``d``) holding a valid date."""
    rx = re.compile(pattern, re.IGNORECASE)
    for m in rx.finditer(nt.flat, start, len(nt.flat) if end is None else end):
        iso = iso_date(m["d"])
        if iso:
            return iso, nt.span(m.start("d"), m.end("d"))
    return None


def split_list(nt: NormalizedText, start: int, end: int, separators: str) -> list[tuple[str, Span]]:
    """Split ``flat[start:end]`` on a separator regex into trimmed, grounded parts."""
    bounds: list[tuple[int, int]] = []
    pos = start
    for m in re.finditer(separators, nt.flat[start:end], re.IGNORECASE):
        bounds.append((pos, start + m.start()))
        pos = start + m.end()
    bounds.append((pos, end))
    out = []
    for a, b in bounds:
        while a < b and nt.flat[a] in " ,;.:":
            a += 1
        while b > a and nt.flat[b - 1] in " ,;.:":
            b -= 1
        if b > a:
            out.append(nt.field(a, b))
    return out


# --- treatments -----------------------------------------------------------------

# A strength is a dose or a concentration: "10/325mg", "20mcg/hr", "5%", "100 units",
# "10mg/ml". A bare volume or weight ("Menthoderm gel 120ml", "cream 120gm") is the
# package size, neither a strength nor a count of units, so it is not read.
_STRENGTH = re.compile(
    r"\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?\s*(?:mg|mcg|%|units?|iu)"
    r"(?:\s*/\s*(?:hr|h|ml|g|gm|dose|spray|actuation))?(?!\w)",
    re.IGNORECASE,
)
# "x 6 sessions" is a count, but "2 x 6" is a frequency times a duration (twice a
# week for six weeks), so an "x" right after a number is not read as a quantity.
_QUANTITY = re.compile(
    r"(?:#\s*(?P<a>\d+)|\b(?:quantity|qty)\s*:?\s*(?P<b>\d+)"
    r"|(?<!\d)(?<!\d\s)(?<!\d\s\s)\bx\s*(?P<c>\d+)\b"
    r"|(?P<d>\d+)\s+(?:sessions|visits|tablets|capsules|patches)\b)",
    re.IGNORECASE,
)
_REFILLS = re.compile(r"\b(?P<n>\d+)\s*refills?\b", re.IGNORECASE)


def treatment_fields(nt: NormalizedText, start: int, end: int) -> dict[str, object]:
    """Name, lexicon facts, strength, quantity and refills of a treatment string."""
    text = nt.flat[start:end]
    spans: dict[str, Span] = {}
    out: dict[str, object] = {"spans": spans}
    match = get_lexicon().find(text)
    name_end = 0
    if match is not None:
        out["name"], spans["name"] = nt.field(start + match.start, start + match.end)
        name_end = match.end
        e = match.entry
        out.update(canonical=e.canonical, generic=e.generic, drug_class=e.drug_class, kind=e.kind)
    else:
        # Unknown treatment: its name is the words before the first number.
        m = re.match(r"[A-Za-z][A-Za-z\-' ]*[A-Za-z]", text)
        if m:
            out["name"], spans["name"] = nt.field(start + m.start(), start + m.end())
    if m := _STRENGTH.search(text):
        out["strength"], spans["strength"] = nt.field(start + m.start(), start + m.end())
    if m := _REFILLS.search(text):
        out["refills"] = int(m["n"])
        spans["refills"] = nt.span(start + m.start("n"), start + m.end("n"))
    # A number inside the name ("Tylenol #3") is part of the name, not a quantity.
    for m in _QUANTITY.finditer(text, name_end):
        g = next(k for k in "abcd" if m[k] is not None)
        out["quantity"] = int(m[g])
        spans["quantity"] = nt.span(start + m.start(g), start + m.end(g))
        break
    return out


# --- guidelines and pages -------------------------------------------------------

_PAGES = re.compile(
    r"Page\s*\(\s*s\s*\)\s*:?\s*(?P<p>\d[\d\s,\-\u2013]*?(?:\s*of\s*\d+)?)\s*(?:\.|$|[A-Za-z(])"
    r"|\bpages?\s+(?P<q>\d+(?:\s*[-\u2013]\s*\d+)?(?:\s*(?:,|and)\s*\d+(?:\s*[-\u2013]\s*\d+)?)*)",
    re.IGNORECASE,
)


def find_pages(nt: NormalizedText, start: int, end: int) -> tuple[str, Span] | None:
    m = _PAGES.search(nt.flat, start, end)
    if not m:
        return None
    g = "p" if m["p"] is not None else "q"
    a, b = m.start(g), m.end(g)
    while b > a and nt.flat[b - 1] in " ,-\u2013":
        b -= 1
    return nt.field(a, b)


# A guideline field can name the MTUS only to set it aside: "Non-MTUS Citation",
# "ODG ..., which is not part of the MTUS", "The MTUS does not address this request,
# so the ODG was applied". Such mentions are removed before the MTUS is looked for.
_MTUS = r"(?:the\s+)?(?:CA\s+|California\s+)?MTUS(?:\s*/\s*ACOEM)?(?:\s+guidelines?)?"
_MTUS_SET_ASIDE = re.compile(
    "|".join(
        [
            r"\bNon[\s-]*MTUS\b",
            r"\b(?:not|neither|nor)\s+(?:\w+\s+){0,2}?(?:part\s+of|in|within|from|covered\s+"
            r"(?:by|in)|addressed\s+(?:by|in)|(?:included|found|listed|discussed)\s+in)\s+" + _MTUS,
            r"\boutside\s+(?:of\s+)?" + _MTUS,
            _MTUS + r"\s+(?:(?:is|are)\s+silent|(?:does|do|did)\s*(?:not|n't)\s+(?:\w+\s+)?"
            r"(?:address|discuss|cover|mention|apply|include)\w*|(?:is|are)\s+not\s+"
            r"(?:applicable|relevant)|(?:has|have)\s+no\s+(?:\w+\s+)?(?:recommendation|guidance))",
        ]
    ),
    re.IGNORECASE,
)


def guideline_families(text: str) -> list[str]:
    """Guideline families a guideline field cites, in a fixed order."""
    found = []
    cited = _MTUS_SET_ASIDE.sub(" ", text)
    if re.search(r"\bMTUS\b|Chronic Pain (?:Medical )?Treatment Guidelines", cited):
        found.append("MTUS")
    if re.search(r"\bACOEM\b", cited):
        found.append("ACOEM")
    if re.search(r"\bODG\b|Official Disability Guidelines", text):
        found.append("ODG")
    return found
