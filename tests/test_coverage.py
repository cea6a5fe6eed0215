"""Lexicon coverage: ``imr_assist.parse.coverage`` and ``imr-assist extract --report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_assist.cli import _register, app
from imr_assist.parse import parse_file
from imr_assist.parse.coverage import coverage
from imr_assist.samples import sample_paths

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters"
_register()
runner = CliRunner()

needs_real = pytest.mark.skipif(
    not (REAL / "gold.json").is_file(), reason=f"real letters not found: {REAL} (see issue 11)"
)


def _unknown_drug_letter(tmp_path: Path, name: str = "Zyxqlor") -> Path:
    """Sample 001 (Relafen, Soma, Norco) with Soma renamed to a drug no lexicon knows."""
    sample = next(p for p in sample_paths() if p.name.startswith("001_"))
    path = tmp_path / "unknown.txt"
    path.write_text(sample.read_text(encoding="utf-8").replace("Soma", name), encoding="utf-8")
    return path


def test_coverage_counts_unmatched_names_most_frequent_first(tmp_path: Path) -> None:
    samples = [parse_file(p) for p in sample_paths()]
    unknown = parse_file(_unknown_drug_letter(tmp_path))
    twice = parse_file(_unknown_drug_letter(tmp_path, "Zyxqlor"), display="again.txt")
    other = parse_file(_unknown_drug_letter(tmp_path, "Quuxadone"), display="other.txt")
    rep = coverage([*samples, unknown, twice, other])
    n_items = sum(len(lt.items) for lt in samples) + 9
    assert rep.items == n_items and rep.matched == n_items - 3
    assert [(u.name, u.count) for u in rep.unmatched] == [("Zyxqlor", 2), ("Quuxadone", 1)]
    assert rep.unmatched[0].example == "Zyxqlor 350mg #60"
    assert rep.unmatched[0].sources == (unknown.source, "again.txt")
    assert rep.summary() == f"{n_items - 3} of {n_items} items matched a lexicon entry " + (
        f"({(n_items - 3) / n_items:.1%})"
    )
    assert rep.lines()[-1] == rep.summary()
    assert json.loads(json.dumps(rep.as_dict()))["unmatched"][0]["count"] == 2


def test_coverage_of_nothing() -> None:
    rep = coverage([])
    assert (rep.items, rep.matched, rep.unmatched, rep.share) == (0, 0, [], 1.0)
    assert rep.summary() == "0 of 0 items matched a lexicon entry (100.0%)"


def test_report_flag_prints_the_list_not_the_records(tmp_path: Path) -> None:
    path = _unknown_drug_letter(tmp_path)
    text = runner.invoke(app, ["extract", str(path), "--report", "--format", "csv"])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines == [
        "    1  Zyxqlor  (Zyxqlor 350mg #60)",
        "2 of 3 items matched a lexicon entry (66.7%)",
    ]
    as_json = runner.invoke(app, ["extract", str(path), "--report", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    obj = json.loads(as_json.stdout)
    assert (obj["items"], obj["matched"]) == (3, 2)
    assert obj["summary"] == "2 of 3 items matched a lexicon entry (66.7%)"
    assert obj["unmatched"] == [
        {"name": "Zyxqlor", "count": 1, "example": "Zyxqlor 350mg #60", "sources": [str(path)]}
    ]


@needs_real
def test_report_on_real_letters() -> None:
    # Compounded oral suspensions (CM17-0013625) and a surgery with its associated
    # services (CM17-0014449): every item matches an entry.
    paths = [str(REAL / "CM17-0013625.pdf"), str(REAL / "CM17-0014449.pdf")]
    result = runner.invoke(app, ["extract", *paths, "--report", "--format", "json"])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    assert obj["unmatched"] == []
    assert obj["items"] == obj["matched"] == 20
    assert obj["summary"] == "20 of 20 items matched a lexicon entry (100.0%)"
