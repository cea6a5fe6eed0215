"""``stats``: labels, honest totals, both guideline sources, aliases, filters, partial
certifications and ``--json``, over a real catalog of the five samples under cover
blocks with their own decision dates, plus a real letter with a partial certification.

The catalog is filled with ``Catalog.commit_letters`` (statistics read only the
catalog, so no vectors are needed); the expected figures are counted by hand from
the sample letters (``tests/test_digest_stats.py`` lists their items).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_assist.cli import _register, app
from imr_assist.constants import REASON_LABELS
from imr_assist.index.catalog import Catalog
from imr_assist.index.index import CATALOG_FILE, SCHEMA_VERSION
from imr_assist.parse import parse_file, parse_text
from imr_assist.stats import StatsFilters, report, stats
from tests.test_reliability_input import letter_variant

_register()
runner = CliRunner()
REAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters"
PARTIAL_LETTER = REAL / "CM16-0234202.pdf"  # Norco 10/325mg #35 of an original #60 request
#: Sample n under a cover block with case CM15-09000n0 and this decision date.
DATES = ["2015-01-10", "2015-03-05", "2015-05-20", "2015-08-28", "2015-11-30"]


def _cover_dated(n: int) -> str:
    y, m, d = DATES[n].split("-")
    text = letter_variant(n, f"CM15-0900{n}0")
    return text.replace("Decision Date: 08/28/2015", f"Decision Date: {m}/{d}/{y}", 1)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stats-index")
    catalog = Catalog(root / CATALOG_FILE)
    catalog.set_meta("schema", SCHEMA_VERSION)
    letters = [parse_text(_cover_dated(n), f"s{n}.txt", doc_id=f"s{n}") for n in range(5)]
    if PARTIAL_LETTER.is_file():
        letters.append(parse_file(PARTIAL_LETTER))
    catalog.commit_letters([(lt, []) for lt in letters])
    catalog.close()
    return root


@pytest.fixture
def catalog(index_dir: Path) -> Catalog:
    return Catalog(index_dir / CATALOG_FILE)


needs_real = pytest.mark.skipif(not PARTIAL_LETTER.is_file(), reason=f"{PARTIAL_LETTER} not found")
SAMPLES_ONLY = StatsFilters(date_to=date(2015, 12, 31))  # the real letter is from 2017


def test_reasons_are_shown_by_label_and_the_total_counts_each_decision_once(
    catalog: Catalog,
) -> None:
    rep = report(catalog, "reason")
    labels = set(REASON_LABELS.values())
    assert rep["rows"] and all(r["key"] in labels | {"(none)"} for r in rep["rows"])
    assert not set(REASON_LABELS) & {r["key"] for r in rep["rows"]}  # no raw codes
    n_items = len(catalog.items())
    assert rep["total"]["decisions"] == n_items
    assert rep["total"]["letters"] == catalog.count_letters()
    summed = sum(r["decisions"] for r in rep["rows"])
    assert summed > n_items and rep["rows_overlap"]
    assert any(
        f"add up to {summed}" in n and f"{n_items} decisions once" in n for n in rep["notes"]
    )
    # A grouping with one value per item does not overlap and says nothing about it.
    single = report(catalog, "decision")
    assert not single["rows_overlap"] and not any("add up to" in n for n in single["notes"])
    assert sum(r["decisions"] for r in single["rows"]) == n_items


def test_guidelines_from_both_sources(catalog: Catalog) -> None:
    rows = {r["key"]: r for r in stats(catalog, "guideline", SAMPLES_ONLY)}
    # Every sample's reviewer based all 12 decisions on the MTUS; sample 000's UR
    # decision also cited the ODG ("Non-MTUS Citation Official Disability Guidelines"),
    # which no reviewer did.
    assert rows["MTUS (IMR reviewer)"]["decisions"] == 12
    assert rows["ODG (claims administrator)"]["decisions"] >= 1
    assert "ODG (IMR reviewer)" not in rows
    assert rows["MTUS (claims administrator)"]["decisions"] >= 10


@pytest.mark.parametrize(
    "filters,expect",
    [
        # (decisions, letters, overturned) among the samples, counted from the letters
        pytest.param(StatsFilters(treatment="norco"), (5, 5, 1), id="treatment-brand"),
        pytest.param(StatsFilters(treatment="Hydrocodone/Acetaminophen"), (5, 5, 1), id="generic"),
        pytest.param(StatsFilters(drug_class="opioid"), (6, 5, 2), id="class"),
        pytest.param(StatsFilters(decision="overturned"), (4, 2, 4), id="decision"),
        pytest.param(StatsFilters(specialty="pain"), (4, 2, 1), id="specialty"),
        pytest.param(
            StatsFilters(date_from=date(2015, 3, 1), date_to=date(2015, 6, 1)),
            (5, 2, 1),
            id="dates",
        ),
        pytest.param(
            StatsFilters(
                treatment="norco",
                decision="upheld",
                date_from=date(2015, 8, 28),
                date_to=date(2015, 12, 31),
            ),
            (2, 2, 0),
            id="combined-inclusive-date",
        ),
    ],
)
def test_filters(filters: StatsFilters, expect: tuple[int, int, int], catalog: Catalog) -> None:
    dated = filters if filters.dated else replace(filters, date_to=SAMPLES_ONLY.date_to)
    rep = report(catalog, "treatment", dated)
    total = rep["total"]
    assert (total["decisions"], total["letters"], total["overturned"]) == expect
    assert sum(r["decisions"] for r in rep["rows"]) == total["decisions"]
    assert any(f"of the {catalog.count_letters()} indexed letters" in n for n in rep["notes"])


@needs_real
def test_partial_certifications_are_counted_and_said(catalog: Catalog) -> None:
    rep = report(catalog, "treatment", StatsFilters(treatment="norco"))
    norco = next(r for r in rep["rows"] if r["key"] == "Norco")
    assert (norco["decisions"], norco["partial"], rep["total"]["partial"]) == (6, 1, 1)
    assert any("1 of the 6 decisions were partial certifications" in n for n in rep["notes"])
    assert report(catalog, "treatment", SAMPLES_ONLY)["total"]["partial"] == 0


def _cli(index_dir: Path, *args: str) -> str:
    result = runner.invoke(app, ["stats", *args, "--index", str(index_dir)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_json_alias_and_drug_alias(index_dir: Path) -> None:
    as_json = json.loads(_cli(index_dir, "--by", "drug", "--json"))
    assert as_json == json.loads(_cli(index_dir, "--by", "treatment", "--format", "json"))
    assert as_json["by"] == "treatment"
    assert set(as_json) == {"by", "filters", "rows", "total", "rows_overlap", "notes"}
    filtered = json.loads(
        _cli(
            index_dir,
            "--json",
            "--decision",
            "overturned",
            "--from",
            "2015-03-01",
            "--to",
            "2015-06-01",
        )
    )
    assert filtered["filters"] == {
        "decision": "overturned",
        "from": "2015-03-01",
        "to": "2015-06-01",
    }
    assert (filtered["total"]["decisions"], filtered["total"]["letters"]) == (1, 1)


def test_cli_table_shows_labels_letters_and_notes(index_dir: Path) -> None:
    table = _cli(index_dir, "--by", "reason")
    label = REASON_LABELS["long_term_use_not_recommended"]
    assert label in table and "long_term_use_not_recommended" not in table
    assert "letters" in table and "total (each decision once)" in table
    assert "note: a decision with several reasons counts under each" in table
    csv_head = _cli(index_dir, "--by", "class", "--format", "csv").splitlines()[0]
    assert csv_head == "key,letters,decisions,upheld,overturned,overturn_rate,partial"
