"""Parser fields: strength, quantity, guideline families, the UR denial date told in
the summary, and the summary of a one-item professional-review letter."""

from __future__ import annotations

import pytest

from imr_assist.constants import FORMAT_PROFESSIONAL
from imr_assist.models import Letter
from imr_assist.parse import parse_file, parse_text
from imr_assist.parse.fields import guideline_families, treatment_fields
from imr_assist.samples import sample_paths
from imr_assist.text import clean, normalize
from imr_synth import FORMATS, synth_letter
from tests.letters import as_professional

SAMPLES = {p.stem[:3]: p for p in sample_paths()}


def treatment(text: str) -> tuple[object, object, object]:
    nt = normalize(text)
    found = treatment_fields(nt, 0, len(nt.flat))
    spans = found["spans"]
    assert isinstance(spans, dict)
    for name in ("strength", "name"):
        if name in found:
            assert clean(text[spans[name].start : spans[name].end]) == found[name]
    if "quantity" in found:
        assert text[spans["quantity"].start : spans["quantity"].end] == str(found["quantity"])
    return found.get("name"), found.get("strength"), found.get("quantity")


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        pytest.param("Lidocaine 5% patch", "5%", id="percent-then-word"),
        pytest.param("Flector 1.3% patch #30", "1.3%", id="decimal-percent"),
        pytest.param("Ketoprofen 20% cream 120gm", "20%", id="percent-and-tube"),
        pytest.param("Capsaicin 0.075% cream", "0.075%", id="small-percent"),
        pytest.param("Norco 10/325mg #60", "10/325mg", id="combination"),
        pytest.param("Butrans 20mcg/hr transdermal film #4", "20mcg/hr", id="per-hour"),
        pytest.param("Toradol 30mg/ml injection", "30mg/ml", id="concentration"),
        pytest.param("Botox 100 units", "100 units", id="units"),
        pytest.param("Tizanidine 4 mg #30", "4 mg", id="spaced"),
        # A volume or weight alone is the package size: neither strength nor quantity.
        pytest.param("Menthoderm gel 120ml", None, id="volume"),
        pytest.param("Terocin lotion 120ml", None, id="lotion-volume"),
        pytest.param("Compounded topical 240gm", None, id="weight"),
    ],
)
def test_strength(text: str, strength: str | None) -> None:
    assert treatment(text)[1] == strength


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        pytest.param("Norco 10/325mg #60", 60, id="hash"),
        pytest.param("Xanax 1mg quantity 30", 30, id="quantity-word"),
        pytest.param("Lidoderm 5% Qty: 2", 2, id="qty"),
        pytest.param("acupuncture x 6 sessions", 6, id="x-sessions"),
        pytest.param("Physical therapy x 12", 12, id="x-count"),
        pytest.param("Urine drug screen x 4 per year", 4, id="x-per-year"),
        pytest.param("Cyclobenzaprine 7.5mg 60 tablets", 60, id="tablets"),
        # Frequency x duration is not a quantity.
        pytest.param("Physical therapy 2 x 6", None, id="frequency-by-weeks"),
        pytest.param("Chiropractic manipulation 3 x 4 for the low back", None, id="3x4"),
        pytest.param("Acupuncture 2x6", None, id="fused"),
        # "#3" is part of the name.
        pytest.param("Tylenol #3 #90", 90, id="tylenol-3"),
        pytest.param("Tylenol #4 Qty 240", 240, id="tylenol-4"),
        pytest.param("Tylenol #3 60 tablets", 60, id="tylenol-tablets"),
        pytest.param("Tylenol #3", None, id="tylenol-alone"),
    ],
)
def test_quantity(text: str, quantity: int | None) -> None:
    assert treatment(text)[2] == quantity


def test_name_keeps_its_number() -> None:
    assert treatment("Tylenol #3 #90")[0] == "Tylenol #3"


@pytest.mark.parametrize(
    ("text", "families"),
    [
        pytest.param(
            "Decision based on MTUS Chronic Pain Medical Treatment Guidelines, Opioids, "
            "Page(s): 74-95.",
            ["MTUS"],
            id="mtus",
        ),
        pytest.param(
            "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), Pain.",
            ["ODG"],
            id="non-mtus",
        ),
        pytest.param(
            "The Expert Reviewer relied on the Official Disability Guidelines (ODG), Pain "
            "(Chronic), Benzodiazepines, which is not part of the MTUS.",
            ["ODG"],
            id="not-part-of",
        ),
        pytest.param(
            "ODG Low Back, CT. The MTUS does not address this request, so the ODG was applied.",
            ["ODG"],
            id="does-not-address",
        ),
        pytest.param("The CA MTUS is silent on this request; ODG Pain.", ["ODG"], id="silent"),
        pytest.param(
            "MTUS/ACOEM Practice Guidelines, Chapter 12, and ODG, Low Back.",
            ["MTUS", "ACOEM", "ODG"],
            id="three",
        ),
        pytest.param(
            "ODG Pain, which is not in the MTUS, and the MTUS Chronic Pain Guidelines, page 24.",
            ["MTUS", "ODG"],
            id="set-aside-and-cited",
        ),
    ],
)
def test_guideline_families(text: str, families: list[str]) -> None:
    assert guideline_families(text) == families


SUMMARY_END = "a request for Norco."


@pytest.mark.parametrize(
    ("sentence", "iso", "written"),
    [
        pytest.param(
            "Utilization review dated 1/30/2016 denied the request.",
            "2016-01-30",
            "1/30/2016",
            id="dated-denied",
        ),
        pytest.param(
            "Utilization\nreview dated February 3, 2014 non-certified the request.",
            "2014-02-03",
            "February 3, 2014",
            id="broken-line",
        ),
        pytest.param(
            "On 6/9/15, the Claims Administrator non-certified the request.",
            "2015-06-09",
            "6/9/15",
            id="on-date",
        ),
        pytest.param(
            "The UR determination dated 07/01/2015 modified the request.",
            "2015-07-01",
            "07/01/2015",
            id="determination",
        ),
    ],
)
def test_ur_denial_date_in_summary(sentence: str, iso: str, written: str) -> None:
    text = SAMPLES["000"].read_text(encoding="utf-8")
    assert text.count(SUMMARY_END) == 1
    text = text.replace(SUMMARY_END, f"{SUMMARY_END} {sentence}")
    letter = parse_text(text)
    assert letter.ur_denial_date == iso
    span = letter.spans["ur_denial_date"]
    assert text[span.start : span.end] == written


def test_a_certified_request_is_not_a_denial() -> None:
    text = (
        SAMPLES["000"]
        .read_text(encoding="utf-8")
        .replace(
            SUMMARY_END, f"{SUMMARY_END} Utilization review dated 1/30/2016 certified the request."
        )
    )
    assert parse_text(text).ur_denial_date is None


@pytest.fixture(scope="module")
def norco() -> Letter:
    return parse_file(SAMPLES["000"])


def test_summary_ending_with_the_treatment_on_its_own_line(norco: Letter) -> None:
    text = as_professional(norco).replace(
        "a request for Norco.\n\nMEDICAL", "a request for\nNorco 10/325mg #60\n\nMEDICAL"
    )
    letter = parse_text(text)
    assert letter.format == FORMAT_PROFESSIONAL
    assert letter.summary is not None
    assert letter.summary.endswith("a request for Norco 10/325mg #60")
    assert letter.items[0].rationale == norco.items[0].rationale
    # The item's block starts at its guideline heading, not in the summary.
    assert letter.items[0].span.start == text.index("MEDICAL TREATMENT GUIDELINE")


def test_summary_sentence_ending_on_its_own_line_with_a_period(norco: Letter) -> None:
    text = as_professional(norco).replace(
        "a request for Norco.\n\nMEDICAL", "a request for\nNorco 10/325mg #60.\n\nMEDICAL"
    )
    letter = parse_text(text)
    assert letter.summary is not None
    assert letter.summary.endswith("a request for Norco 10/325mg #60.")


def test_heading_line_after_a_finished_summary_is_still_a_heading(norco: Letter) -> None:
    text = as_professional(norco).replace(
        "a request for Norco.\n\nMEDICAL", "a request for Norco.\nNorco 10/325mg #60\n\nMEDICAL"
    )
    letter = parse_text(text)
    assert letter.summary == norco.summary
    assert letter.items[0].span.start == text.index("Norco 10/325mg #60\n\nMEDICAL")


def test_fields_agree_with_generated_gold() -> None:
    """A generated corpus (its own seed) parses to its gold on these fields."""
    formats = list(FORMATS)
    wrong: list[str] = []
    for i in range(120):
        made = synth_letter(i, 31_000 + i, formats[i % len(formats)], 0.3)
        gold = made.gold
        got = parse_text(gold.text, source=made.name)
        for name in ("ur_denial_date", "summary"):
            if getattr(got, name) != getattr(gold, name):
                wrong.append(f"{made.name} {name}")
        assert len(got.items) == len(gold.items)
        for g, p in zip(gold.items, got.items, strict=True):
            for name in ("strength", "quantity", "guidelines"):
                if getattr(p, name) != getattr(g, name):
                    wrong.append(f"{made.name}#{g.index} {name}: {getattr(p, name)!r}")
    assert wrong == []
