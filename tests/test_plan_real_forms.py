"""A class of forms is not its drugs: "the compounds" among topical creams are the
compounded topicals, and a drug class still finds its drugs in other forms."""

from __future__ import annotations

import re

import pytest

from imr_assist.answer.service import Assistant
from tests.real_index import ask_verified, index_real_letters
from tests.test_real_letters import REAL

pytestmark = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found at {REAL}"
)
LETTERS = [
    "CM17-0013625",  # Tabradol, Dicopanol, Deprizine, Fanatrex: compounded oral suspensions
    "CM17-0006634",  # diclofenac 3%, lidocaine ointment
    "CM17-0007300",  # flurbiprofen / cyclobenzaprine / gabapentin / lidocaine compound
    "CM16-0247802",  # lidocaine patch; cyclobenzaprine tablets
    "CM17-0009995",  # LidoPro
    "CM16-0237163",  # cyclobenzaprine tablets
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return index_real_letters(tmp_path_factory, "real-forms-index", LETTERS)


def _head_count(text: str) -> int:
    m = re.match(r"(\d+) upheld ", text)
    assert m, text[:200]
    return int(m.group(1))


def test_the_compounds_among_topicals_are_compounded_topicals(assistant: Assistant) -> None:
    """Gold (wild w026): the five topicals; not the oral suspensions, nor cyclobenzaprine
    tablets that a suspension's generic would have pulled in."""
    ans = ask_verified(
        assistant,
        "Why were the topical creams, ointments and patches (lidocaine, diclofenac, the "
        "compounds) denied?",
    )
    assert ans.answered
    assert "compounded oral suspension" not in ans.plan["filters"]["drug_class"]
    assert "cyclobenzaprine" not in ans.plan["filters"]["generic"]
    assert _head_count(ans.answer) == 5
    for name in ("Tabradol", "Dicopanol", "Cyclobenzaprine 7.5mg"):
        assert name not in ans.answer


def test_a_drug_class_still_finds_its_drugs_in_other_forms(assistant: Assistant) -> None:
    """Muscle relaxants: the tablets and Tabradol, a cyclobenzaprine suspension."""
    ans = ask_verified(assistant, "Why were the muscle relaxant requests upheld?")
    assert ans.answered and "Tabradol" in ans.answer
    assert "cyclobenzaprine" in ans.plan["filters"]["generic"]
    assert "Dicopanol" not in ans.answer  # diphenhydramine is no muscle relaxant
