"""The real DWC letters in ``../shared/real-letters``, exactly as posted, against their gold.

The PDFs are AES-encrypted with an empty password. ``gold.json`` was read by hand:
every disputed item as written, its decision, and for partial certifications the
original request and the part the claims administrator authorized.

Besides the letters as posted, each test of robustness rewrites the real text the way
other PDF extractions and other letters of the same kind lay it out (no blank lines,
the decision word alone on the next line, a page break inside a heading, headings
wrapped over more lines, stray blank lines inside a heading) and asks for the same
items. Skipped, with a message, only where the folder is absent.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_assist.errors import LetterError
from imr_assist.models import Letter
from imr_assist.parse import parse_file, parse_text
from imr_assist.parse.loaders import read_letter_text
from tests.letters import add_noise, check_grounding

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters"
pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(),
    reason=f"real letters not found at {REAL} (the shared folder beside the checkout)",
)
GOLD: list[dict] = json.loads((REAL / "gold.json").read_text()) if REAL.is_dir() else []
BY_FILE = {g["file"]: g for g in GOLD}
FILES = sorted(BY_FILE)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {f: read_letter_text(REAL / f, f) for f in FILES}


@pytest.fixture(scope="module")
def letters(texts: dict[str, str]) -> dict[str, Letter]:
    return {f: parse_text(t, f, doc_id=Path(f).stem) for f, t in texts.items()}


def items_of(letter: Letter) -> list[tuple[str, str]]:
    return [(i.treatment, i.decision) for i in letter.items]


def gold_items(name: str) -> list[tuple[str, str]]:
    return [(i["treatment"], i["decision"]) for i in BY_FILE[name]["items"]]


def test_gold_covers_the_folder() -> None:
    assert sorted(p.name for p in REAL.glob("*.pdf")) == FILES
    assert sum(len(g["items"]) for g in GOLD) == 158


@pytest.mark.parametrize("name", FILES)
def test_every_item_and_decision(name: str, letters: dict[str, Letter]) -> None:
    letter = letters[name]
    assert items_of(letter) == gold_items(name)
    assert letter.warnings == []


@pytest.mark.parametrize("name", FILES)
def test_letter_fields(name: str, letters: dict[str, Letter]) -> None:
    letter, gold = letters[name], BY_FILE[name]
    got = {
        "case_number": letter.case_number,
        "specialty": ", ".join(letter.reviewer.specialties),
        "patient_age": letter.patient.age,
        "patient_sex": letter.patient.sex,
        "injury_date": letter.date_of_injury,
    }
    assert got == {k: gold[k] for k in got}
    assert letter.decision_date and letter.ur_denial_date and letter.reviewer.licensure


@pytest.mark.parametrize("name", FILES)
def test_every_field_is_grounded(name: str, letters: dict[str, Letter]) -> None:
    assert check_grounding(letters[name]) > 10


# "UR modified the request: original request 'X'; the Claims Administrator authorized 'Y';
# IMR decided 'Z' (...)"
NOTE = re.compile(
    r"original request '(?P<orig>.+?)'; the Claims Administrator authorized '(?P<auth>.+?)'"
)
PARTIAL = [
    pytest.param(g["file"], k, NOTE.search(i["note"]), id=f"{g['file'][:-4]}-{k}")
    for g in GOLD
    for k, i in enumerate(g["items"])
    if "note" in i
]


def test_partial_certifications_are_all_in_the_table() -> None:
    assert len(PARTIAL) == 16 and all(p.values[2] for p in PARTIAL)


@pytest.mark.parametrize("name,index,note", PARTIAL)
def test_partial_certification(
    name: str, index: int, note: re.Match[str], letters: dict[str, Letter]
) -> None:
    item = letters[name].items[index]
    assert item.partial
    assert (item.original_request, item.authorized_portion) == (note["orig"], note["auth"])
    assert item.treatment == BY_FILE[name]["items"][index]["treatment"]


def test_whole_requests_are_not_partial(letters: dict[str, Letter]) -> None:
    partial = {(p.values[0], p.values[1]) for p in PARTIAL}
    for name, letter in letters.items():
        for it in letter.items:
            if (name, it.index) not in partial:
                assert not it.partial and it.authorized_portion is None, (name, it.treatment)


# --- layouts of the same letters as other extractions and letters give them ---------------


def _rewrap_headings(text: str) -> str:
    """Break every decision line after each third word: headings over four or more lines."""
    out = []
    for line in text.split("\n"):
        if re.search(r":\s+(Upheld|Overturned)\s*$", line):
            w = line.split(" ")
            line = "\n".join(" ".join(w[i : i + 3]) for i in range(0, len(w), 3))
        out.append(line)
    return "\n".join(out)


def _no_blank_lines(text: str) -> str:
    return re.sub(r"\n[ \t]*(?=\n)", "", text)


LAYOUTS: list[tuple[str, Callable[[str], str]]] = [
    ("no-blank-lines", _no_blank_lines),
    ("decision-word-next-line", lambda t: re.sub(r":\s+(Upheld|Overturned)", r":\n\1", t)),
    (
        "page-break-before-decision",
        lambda t: re.sub(r":\s+(Upheld|Overturned)", ":\n\n\f\n\\1", t),
    ),
    ("headings-over-more-lines", _rewrap_headings),
    ("no-blank-lines-and-long-headings", lambda t: _rewrap_headings(_no_blank_lines(t))),
    (
        "blank-line-inside-heading",
        lambda t: re.sub(r"([a-z,])[ ]*\n(?=[^\n]*:\s+(Upheld|Overturned))", r"\1 \n \n", t),
    ),
    (
        "rationale-without-final-period",
        lambda t: re.sub(r"medically necessary\. \n \n", "medically necessary \n \n", t),
    ),
]


@pytest.mark.parametrize("layout", [pytest.param(f, id=n) for n, f in LAYOUTS])
def test_other_layouts_give_the_same_items(
    layout: Callable[[str], str], texts: dict[str, str]
) -> None:
    wrong, changed = {}, 0
    for name, text in texts.items():
        new = layout(text)
        changed += new != text
        letter = parse_text(new, name)
        if items_of(letter) != gold_items(name):
            wrong[name] = items_of(letter)
    assert changed >= 10  # the layout applies to these letters
    assert wrong == {}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), name=st.sampled_from(FILES or ["-"]))
def test_pdf_noise_on_real_text(seed: int, name: str) -> None:
    """Re-wrapped lines, blank lines, page footers, CRLF and double spaces change nothing."""
    text = read_letter_text(REAL / name, name)
    noisy = parse_text(add_noise(text, random.Random(seed), width=90), name)
    assert items_of(noisy) == gold_items(name)
    check_grounding(noisy)


# --- one odd line is a warning, never a lost letter ---------------------------------------

MULTI = "CM16-0232543.pdf"  # six items


def test_unreadable_decision_word_costs_one_item_not_the_letter(texts: dict[str, str]) -> None:
    text = texts[MULTI].replace("Pepcid 20mg: Upheld", "Pepcid 20mg: Partially Approved")
    letter = parse_text(text, MULTI)
    expected = [x for x in gold_items(MULTI) if x[0] != "Pepcid 20mg"]
    assert items_of(letter) == expected
    [w] = letter.warnings
    assert w.code == "unreadable_decision" and "'Partially Approved'" in w.message
    assert (
        w.span is not None and "Pepcid 20mg: Partially Approved" in text[w.span.start : w.span.end]
    )


def test_near_miss_decision_word_is_read_with_a_warning(texts: dict[str, str]) -> None:
    text = texts[MULTI].replace("Pepcid 20mg: Upheld", "Pepcid 20mg: Uphold")
    letter = parse_text(text, MULTI)
    assert items_of(letter) == gold_items(MULTI)
    [w] = letter.warnings
    assert w.code == "decision_word_read" and "read as Upheld" in w.message


def test_labels_without_a_heading_are_a_warning(texts: dict[str, str]) -> None:
    text = texts[MULTI].replace("Pepcid 20mg: Upheld", "Pepcid 20mg")
    letter = parse_text(text, MULTI)
    assert items_of(letter) == [x for x in gold_items(MULTI) if x[0] != "Pepcid 20mg"]
    assert [w.code for w in letter.warnings] == ["item_without_decision"]


def test_no_readable_decision_at_all_is_an_error(texts: dict[str, str]) -> None:
    name = "CM16-0213037.pdf"
    text = re.sub(r":\s+Upheld", ": Pending", texts[name])
    with pytest.raises(LetterError, match="decision 'Pending', expected Upheld or Overturned"):
        parse_text(text, name)


def test_twenty_one_items(texts: dict[str, str]) -> None:
    """Item blocks of several real letters stitched into one decisions section."""
    blocks: list[str] = []
    expected: list[tuple[str, str]] = []
    for name in FILES:
        text = texts[name]
        section = text.split("set forth below:", 1)[1]
        blocks.append(section)
        expected += gold_items(name)
        if len(expected) >= 21:
            break
    head = texts[FILES[0]].split("set forth below:", 1)[0] + "set forth below: \n \n"
    letter = parse_text(head + " \n".join(blocks), "stitched.txt")
    assert len(expected) >= 21
    assert items_of(letter) == expected


def test_extract_prints_a_warning_line_and_keeps_the_letter(
    tmp_path: Path, texts: dict[str, str]
) -> None:
    odd = tmp_path / "odd.txt"
    odd.write_text(texts[MULTI].replace("Pepcid 20mg: Upheld", "Pepcid 20mg: Partially Approved"))
    exe = Path(sys.executable).parent / "imr-assist"
    p = subprocess.run(
        [str(exe), "extract", str(REAL / "CM16-0213037.pdf"), str(odd), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    records = json.loads(p.stdout)
    assert [len(r["items"]) for r in records] == [2, 5]
    warnings = [ln for ln in p.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and str(odd) in warnings[0] and "Partially Approved" in warnings[0]
    assert records[1]["warnings"][0]["code"] == "unreadable_decision"


def test_posted_pdfs_open_through_the_file_reader() -> None:
    letter = parse_file(REAL / "CM16-0234202.pdf")
    assert letter.case_number == "CM16-0234202" and letter.items[0].authorized_portion
