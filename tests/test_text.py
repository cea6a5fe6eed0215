"""The normalised view of a letter's text and its map back to the original."""

from __future__ import annotations

import random

import pytest

from imr_assist.text import clean, normalize

_ALPHABET = "ab1 -.\t\u00a0\u2003\u3000\r\n\f"


def test_runs_of_spaces_are_one_space_at_the_runs_start() -> None:
    text = "Norco\t \u00a0 10/325mg\u2003\u2003#90"
    nt = normalize(text)
    assert nt.norm == "Norco 10/325mg #90"
    assert nt.offsets[5] == 5 and text[nt.offsets[6]] == "1"
    assert nt.span(0, len(nt.norm)).end == len(text)


def test_lines_footers_and_hyphens() -> None:
    text = "The request for non-\r\nMTUS care\r\n\r\nPage 2 of 5\r\n  is   upheld.  \f\nNext"
    nt = normalize(text)
    assert nt.norm == "The request for non-MTUS care\nis upheld.\nNext"
    assert nt.flat == nt.norm.replace("\n", " ")
    assert clean("  one \n two  ") == "one two"


@pytest.mark.parametrize("seed", range(5))
def test_every_character_maps_back_to_where_it_came_from(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 60)))
        nt = normalize(text)
        assert len(nt.offsets) == len(nt.norm)
        assert all(a < b for a, b in zip(nt.offsets, nt.offsets[1:], strict=False))
        for ch, at in zip(nt.norm, nt.offsets, strict=True):
            if ch == " ":
                assert text[at] in " \t\u00a0\u2003\u3000"
            elif ch == "\n":  # where the line's content ends: a space or the line end
                assert text[at] in " \t\u00a0\u2003\u3000\r\n\f"
            else:
                assert text[at] == ch
        assert " " * 2 not in nt.norm.replace("\n", "|")  # one space per run
