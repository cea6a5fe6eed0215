"""The letter-layout registry: which layout reads which letter, and a layout added as one
module in the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imr_assist.constants import (
    FORMAT_2013,
    FORMAT_COVER,
    FORMAT_PROFESSIONAL,
    FORMAT_STANDARD,
    UPHELD,
)
from imr_assist.errors import LetterError
from imr_assist.models import Item, Letter
from imr_assist.parse import formats, parse_text
from imr_assist.parse.formats.base import LetterContext, read_cover, read_summary
from imr_assist.parse.reasons import label_reasons
from imr_assist.text import normalize
from tests.letters import as_2013, as_professional, check_grounding, with_cover

SAMPLES = Path(__file__).resolve().parents[1] / "imr_assist" / "data" / "samples"


def test_the_registry_holds_the_four_layouts_in_order() -> None:
    assert [f.name for f in formats.FORMATS] == [
        FORMAT_PROFESSIONAL,
        FORMAT_2013,
        FORMAT_COVER,
        FORMAT_STANDARD,
    ]


def _sample_texts() -> list[object]:
    cases = []
    for path in sorted(SAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        letter = parse_text(text)
        cases.append(pytest.param(text, FORMAT_STANDARD, id=f"{path.stem}-standard"))
        cases.append(pytest.param(with_cover(text), FORMAT_COVER, id=f"{path.stem}-cover"))
        cases.append(pytest.param(as_2013(letter), FORMAT_2013, id=f"{path.stem}-2013"))
        cases.append(
            pytest.param(as_professional(letter), FORMAT_PROFESSIONAL, id=f"{path.stem}-pro")
        )
    return cases


@pytest.mark.parametrize(("text", "name"), _sample_texts())
def test_the_first_layout_that_detects_a_letter_reads_it(text: str, name: str) -> None:
    flat = normalize(text).flat
    first = next(f for f in formats.FORMATS if f.detect(flat) is not None)
    assert first.name == name
    assert parse_text(text).format == name


def test_a_letter_no_layout_detects_is_refused() -> None:
    with pytest.raises(LetterError, match="no decisions section found"):
        parse_text("Independent Medical Review\nThe letter stops here.")
    with pytest.raises(LetterError, match="not an IMR determination letter"):
        parse_text("Dear customer, your order has shipped.")


# --- adding a layout: the example in ARCHITECTURE.md ---------------------------------------


class BulletinFormat:
    """A one-page bulletin: "IMR DETERMINATION BULLETIN", a "Summary:" line, then per item
    "Request: X", "Outcome: Upheld|Overturned" and "Reason: ..."."""

    name = "bulletin"
    HEAD = re.compile(r"IMR\s+DETERMINATION\s+BULLETIN")
    SUMMARY = re.compile(r"Summary\s*:")
    ITEM = re.compile(
        r"Request\s*:\s*(?P<t>[^\n]+?)\s+Outcome\s*:\s*(?P<d>Upheld|Overturned)\s+"
        r"Reason\s*:\s*(?P<r>.+?)(?=\s+Request\s*:|\Z)",
        re.IGNORECASE | re.DOTALL,
    )

    def detect(self, flat: str) -> re.Match[str] | None:
        return self.HEAD.search(flat)

    def read(self, ctx: LetterContext, letter: Letter, found: re.Match[str]) -> list[Item]:
        nt = ctx.nt
        read_cover(ctx, letter)
        read_summary(ctx, letter, self.SUMMARY, re.compile(r"Request\s*:"))
        items = []
        for m in self.ITEM.finditer(nt.flat, found.end()):
            decision = m["d"].lower()
            treatment, t_span = nt.field(m.start("t"), m.end("t"))
            rationale, r_span = nt.field(m.start("r"), m.end("r"))
            items.append(
                Item(
                    index=len(items),
                    treatment=treatment,
                    decision=decision,  # type: ignore[arg-type]
                    rationale=rationale,
                    reasons=label_reasons(nt, m.start("r"), m.end("r"), decision),
                    span=nt.span(m.start(), m.end()),
                    spans={
                        "treatment": t_span,
                        "decision": nt.span(m.start("d"), m.end("d")),
                        "rationale": r_span,
                    },
                )
            )
        return items


BULLETIN = """\
IMR DETERMINATION BULLETIN
IMR Case Number: CM19-0101010   Date of Injury: 03/04/2015
Summary: The patient is a 52 year old female with chronic neck pain.
Request: Norco 10/325mg #90
Outcome: Upheld
Reason: There is no documentation of functional improvement with Norco.
Request: Cervical MRI
Outcome: Overturned
Reason: The criteria for imaging are met.
"""


def test_a_new_layout_is_one_module_in_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LetterError):
        parse_text(BULLETIN)
    monkeypatch.setattr(formats, "FORMATS", [*formats.FORMATS, BulletinFormat()])
    letter = parse_text(BULLETIN)
    assert letter.format == "bulletin"
    assert letter.case_number == "CM19-0101010"
    assert letter.date_of_injury == "2015-03-04"
    assert (letter.patient.age, letter.patient.sex) == (52, "female")
    assert [(i.treatment, i.decision) for i in letter.items] == [
        ("Norco 10/325mg #90", UPHELD),
        ("Cervical MRI", "overturned"),
    ]
    assert letter.items[0].reason_categories == ["no_functional_improvement"]
    assert letter.items[1].reason_categories == ["guideline_criteria_met"]
    check_grounding(letter)
