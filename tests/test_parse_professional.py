"""Parser: the "MEDICAL PROFESSIONAL REVIEW" layout (ISSUE AT DISPUTE / CASE SUMMARY / ...)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_assist.constants import FORMAT_PROFESSIONAL
from imr_assist.errors import LetterError
from imr_assist.models import Letter
from imr_assist.parse import parse_file, parse_text
from imr_assist.samples import sample_paths
from tests.letters import add_noise, as_professional, check_grounding

SAMPLES = {p.stem[:3]: p for p in sample_paths()}
ORIGINALS = {key: parse_file(path) for key, path in SAMPLES.items()}


def item_facts(letter: Letter) -> list[tuple[object, ...]]:
    return [
        (
            it.treatment,
            it.name,
            it.canonical,
            it.generic,
            it.drug_class,
            it.strength,
            it.quantity,
            it.refills,
            it.decision,
            it.guidelines,
            it.pages,
            it.reason_categories,
        )
        for it in letter.items
    ]


def people(letter: Letter) -> tuple[object, ...]:
    return (
        letter.reviewer.licensure,
        letter.reviewer.specialties,
        letter.patient.age,
        letter.patient.sex,
    )


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_samples_round_trip(key: str) -> None:
    original = ORIGINALS[key]
    letter = parse_text(as_professional(original), "pro.txt", "pro")
    assert letter.format == FORMAT_PROFESSIONAL
    assert letter.doc_id == "pro"
    assert item_facts(letter) == item_facts(original)
    assert people(letter) == people(original)
    assert (letter.date_of_injury, letter.diagnoses, letter.summary) == (
        original.date_of_injury,
        original.diagnoses,
        original.summary,
    )
    for it, orig in zip(letter.items, original.items, strict=True):
        assert it.claims_administrator_guideline is None
        assert it.rationale == orig.rationale
        assert it.reviewer_guideline and orig.reviewer_guideline
        assert orig.reviewer_guideline.endswith(it.reviewer_guideline)
        assert [r.quote for r in it.reasons] == [r.quote for r in orig.reasons]
    assert check_grounding(letter) > 15


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_cover_block(key: str) -> None:
    original = ORIGINALS[key]
    letter = parse_text(as_professional(original, cover=True), "pro.txt", "pro")
    assert letter.format == FORMAT_PROFESSIONAL
    assert letter.doc_id == letter.case_number == "CM15-0123456"
    assert (
        letter.date_assigned,
        letter.date_of_injury,
        letter.decision_date,
        letter.ur_denial_date,
        letter.application_received,
        letter.priority,
    ) == ("2015-07-20", "2002-03-12", "2015-08-28", "2015-07-09", "2015-07-17", "Standard")
    assert item_facts(letter) == item_facts(original)
    assert people(letter) == people(original)
    check_grounding(letter)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    key=st.sampled_from(sorted(SAMPLES)),
    cover=st.booleans(),
    width=st.sampled_from([30, 45, 60]),
)
def test_pdf_noise_does_not_change_the_letter(seed: int, key: str, cover: bool, width: int) -> None:
    original = ORIGINALS[key]
    clean_text = as_professional(original, cover=cover)
    noisy = parse_text(add_noise(clean_text, random.Random(seed), width), "noisy.txt")
    assert noisy.format == FORMAT_PROFESSIONAL
    assert item_facts(noisy) == item_facts(original)
    assert people(noisy) == people(original)
    assert noisy.summary == original.summary
    assert [it.rationale for it in noisy.items] == [it.rationale for it in original.items]
    check_grounding(noisy)


def test_one_item_letter_without_numbers() -> None:
    text = as_professional(ORIGINALS["000"])
    assert "ISSUE AT DISPUTE:\nNorco 10/325mg #60 is not medically necessary" in text
    assert "\n1. " not in text
    letter = parse_text(text)
    assert item_facts(letter) == item_facts(ORIGINALS["000"])
    # The rationale stops at the qualifications, the summary at the guideline heading.
    assert letter.items[0].rationale == ORIGINALS["000"].items[0].rationale
    assert letter.summary == ORIGINALS["000"].summary


def test_one_item_letter_with_numbers() -> None:
    text = as_professional(ORIGINALS["000"])
    text = text.replace("ISSUE AT DISPUTE:\nNorco", "ISSUE AT DISPUTE:\n1. Norco").replace(
        "\nMEDICAL TREATMENT", "\n1. Norco 10/325mg #60\nMEDICAL TREATMENT"
    )
    letter = parse_text(text)
    assert item_facts(letter) == item_facts(ORIGINALS["000"])
    assert letter.summary == ORIGINALS["000"].summary
    assert letter.items[0].span.start == text.index("1. Norco 10/325mg #60\nMEDICAL")


def test_one_item_heading_line_without_number_is_not_summary() -> None:
    text = as_professional(ORIGINALS["000"]).replace(
        "\nMEDICAL TREATMENT", "\nNorco 10/325mg #60\nMEDICAL TREATMENT"
    )
    letter = parse_text(text)
    assert letter.summary == ORIGINALS["000"].summary
    assert item_facts(letter) == item_facts(ORIGINALS["000"])


def test_blocks_without_headings_follow_the_issue_order() -> None:
    original = ORIGINALS["004"]
    text = as_professional(original)
    for n, it in enumerate(original.items, 1):
        text = text.replace(f"\n{n}. {it.treatment}\nMEDICAL", "\nMEDICAL")
    letter = parse_text(text)
    assert item_facts(letter) == item_facts(original)
    assert [it.rationale for it in letter.items] == [it.rationale for it in original.items]


def test_fused_words_and_past_tense() -> None:
    text = (
        as_professional(ORIGINALS["002"])
        .replace("120 is medically", "120 was medically")
        .replace("30 is not medically", "30 isnot medically")
        .replace("IS/WAS NOT MEDICALLY", "IS/WAS NOTMEDICALLY")
    )
    letter = parse_text(text)
    assert [(it.canonical, it.decision) for it in letter.items] == [
        ("Norco", "overturned"),
        ("Xanax", "upheld"),
    ]
    assert letter.items[1].reason_categories == ORIGINALS["002"].items[1].reason_categories


def test_headings_broken_across_lines() -> None:
    text = (
        as_professional(ORIGINALS["001"])
        .replace("ISSUE AT DISPUTE:", "ISSUE AT\nDISPUTE:")
        .replace("RELIED UPON BY PROFESSIONAL", "RELIED\r\n\r\nUPON BY\nPROFESSIONAL")
        .replace("TREATMENT/SERVICE IS/WAS NOT", "TREATMENT/SERVICE\nIS/WAS NOT")
        .replace("MEDICAL REVIEWER QUALIFICATIONS", "MEDICAL REVIEWER\nQUALIFICATIONS")
    )
    letter = parse_text(text)
    assert item_facts(letter) == item_facts(ORIGINALS["001"])
    assert people(letter) == people(ORIGINALS["001"])
    check_grounding(letter)


def test_request_wording_in_issue_line() -> None:
    text = as_professional(ORIGINALS["003"]).replace("1. Norco", "1. The request for Norco")
    letter = parse_text(text)
    assert letter.items[0].treatment == ORIGINALS["003"].items[0].treatment


def test_qualifications_before_the_items_are_not_summary() -> None:
    text = as_professional(ORIGINALS["002"])
    quals = text[text.index("MEDICAL REVIEWER QUALIFICATIONS:") :]
    heading = "\n1. Norco 10/325mg quantity 120\nMEDICAL"
    text = text.replace(quals, "").replace(heading, "\n" + quals + heading[1:])
    letter = parse_text(text)
    assert letter.summary == ORIGINALS["002"].summary
    assert people(letter) == people(ORIGINALS["002"])
    assert item_facts(letter) == item_facts(ORIGINALS["002"])


REVIEWERS = [
    pytest.param(
        "The physician reviewer is Board Certified in Neurology, Neuromuscular Medicine and "
        "is licensed to practice in New Jersey, Michigan and California.",
        ["New Jersey", "Michigan", "California"],
        ["Neurology", "Neuromuscular Medicine"],
        id="prose-lists",
    ),
    pytest.param(
        "The physician reviewer is Board Certified in Physical Medicine & Rehabilitation and "
        "is licensed to practice in California.",
        ["California"],
        ["Physical Medicine & Rehabilitation"],
        id="prose-one",
    ),
    pytest.param(
        "State(s) of Licensure: Oregon, California\nCertification(s)/Specialty: Orthopaedic "
        "Surgery; Sports Medicine",
        ["Oregon", "California"],
        ["Orthopaedic Surgery", "Sports Medicine"],
        id="labelled",
    ),
]


@pytest.mark.parametrize("quals,licensure,specialties", REVIEWERS)
def test_reviewer_qualifications(quals: str, licensure: list[str], specialties: list[str]) -> None:
    text = as_professional(ORIGINALS["000"])
    head = "MEDICAL REVIEWER QUALIFICATIONS:\n"
    text = text[: text.index(head) + len(head)] + quals + "\n"
    letter = parse_text(text)
    assert (letter.reviewer.licensure, letter.reviewer.specialties) == (licensure, specialties)
    check_grounding(letter)


BAD = [
    pytest.param(
        lambda t: t.replace(
            "Norco 10/325mg #60 is not medically necessary and appropriate.",
            "Norco 10/325mg #60 is under review.",
        ),
        "ISSUE AT DISPUTE has no readable decision ('Norco 10/325mg #60 is under review.')",
        "000",
        id="no-decision",
    ),
    pytest.param(
        lambda t: t.replace(
            "2. Soma 350mg #60 is not medically necessary and appropriate.",
            "2. Soma 350mg #60 was modified.",
        ),
        "ISSUE AT DISPUTE item 2 has no readable decision ('Soma 350mg #60 was modified.')",
        "001",
        id="item-2-no-decision",
    ),
    pytest.param(
        lambda t: (
            t[: t.index("ISSUE AT DISPUTE")] + "CASE SUMMARY:\n" + t[t.index("CASE SUMMARY:") :]
        ),
        "has no ISSUE AT DISPUTE section",
        "004",
        id="no-issue-section",
    ),
    pytest.param(
        lambda t: t[: t.index("ISSUE AT DISPUTE:") + 18] + t[t.index("CASE SUMMARY:") :],
        "ISSUE AT DISPUTE has no readable decision",
        "002",
        id="empty-issue-section",
    ),
    pytest.param(
        lambda t: t[: t.index("ISSUE AT DISPUTE:") + 18],
        "ISSUE AT DISPUTE has no readable decision",
        "003",
        id="truncated",
    ),
]


@pytest.mark.parametrize("damage,problem,key", BAD)
def test_broken_letters_name_the_file(tmp_path: Path, damage, problem: str, key: str) -> None:
    text = as_professional(ORIGINALS[key])
    broken = damage(text)
    assert broken != text
    path = tmp_path / "broken letter.txt"
    path.write_text(broken)
    with pytest.raises(LetterError) as err:
        parse_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message
