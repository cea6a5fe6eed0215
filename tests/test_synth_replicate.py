"""Real letters copied with varied identifiers (``imr_synth.replicate``): the
real-like benchmark corpus. Each copy is a distinct letter that parses like its original."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from imr_assist.parse import parse_file
from imr_synth.replicate import replicate

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-letters not present")


@needs_real
def test_copies_are_distinct_letters_with_their_originals_items(tmp_path: Path) -> None:
    originals = sorted(REAL.glob("*.pdf"))[:3]
    src = tmp_path / "src"
    src.mkdir()
    for pdf in originals:
        (src / pdf.name).symlink_to(pdf)
    made = replicate(src, 7, seed=1, out=tmp_path / "out")
    assert (made.letters, made.originals, made.skipped) == (7, 3, [])

    copies = sorted((tmp_path / "out").glob("*.txt"))
    assert len(copies) == 7
    shas = {hashlib.sha256(p.read_bytes()).hexdigest() for p in copies}
    assert len(shas) == 7
    parsed = [parse_file(p) for p in copies]
    assert len({lt.doc_id for lt in parsed}) == 7
    assert all(lt.case_number and lt.case_number.startswith("CM") for lt in parsed)
    # Copy k is of original k % 3 (sorted as the loader walks the folder): same items,
    # same decisions, about the same length.
    by_name = {p.name: parse_file(p) for p in originals}
    order = [by_name[p.name] for p in originals]
    for k, copy in enumerate(parsed):
        orig = order[k % 3]
        assert [(i.treatment, i.decision) for i in copy.items] == [
            (i.treatment, i.decision) for i in orig.items
        ]
        assert abs(len(copy.text) - len(orig.text)) < 20
        assert copy.case_number != orig.case_number


def test_a_folder_without_letters_is_an_error(tmp_path: Path) -> None:
    from imr_assist.errors import LetterError

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "note.txt").write_text("not a letter", encoding="utf-8")
    with pytest.raises(LetterError, match="no letters with a case number"):
        replicate(tmp_path / "src", 2, seed=1, out=tmp_path / "out")
