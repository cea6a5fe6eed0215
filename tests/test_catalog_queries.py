"""Catalog queries that must stay fast at scale: what they return, and that SQLite
answers them from an index (``EXPLAIN QUERY PLAN``), not by reading every row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from imr_assist.index.catalog import Catalog
from imr_assist.index.index import CATALOG_FILE

FILTERS = [
    pytest.param({"ages": [47]}, id="age"),
    pytest.param({"ages": [47, 52, 64], "sex": "female"}, id="ages-and-sex"),
    pytest.param({"sex": "male"}, id="sex"),
    pytest.param({"injury_prefix": "2013"}, id="injury-year"),
    pytest.param({"injury_prefix": "2013-0[1"}, id="a-wildcard-only-widens"),
    pytest.param({}, id="none"),
]


@pytest.fixture
def catalog(sample_index: Path, tmp_path: Path) -> Catalog:
    src = sqlite3.connect(sample_index / CATALOG_FILE)  # with what its WAL still holds
    dst = sqlite3.connect(tmp_path / CATALOG_FILE)
    src.backup(dst)
    src.close()
    dst.close()
    return Catalog(tmp_path / CATALOG_FILE)


@pytest.mark.parametrize("narrow", FILTERS)
def test_letter_facts_narrowed_in_sql_are_those_matched_one_by_one(
    catalog: Catalog, narrow: dict
) -> None:
    every = catalog.letter_facts()
    assert len(every) == 5
    ages, sex, prefix = narrow.get("ages"), narrow.get("sex"), narrow.get("injury_prefix")
    expected = [
        lf
        for lf in every
        if (not ages or lf.age in ages)
        and (not sex or not lf.sex or lf.sex == sex)
        and (not prefix or (lf.date_of_injury or "").startswith(prefix.split("[")[0]))
    ]
    assert catalog.letter_facts(**narrow) == expected


def test_the_samples_have_facts_to_narrow_by(catalog: Catalog) -> None:
    every = catalog.letter_facts()
    some = every[0]
    assert some.age is not None and some.date_of_injury
    assert some in catalog.letter_facts(ages=[some.age], injury_prefix=some.date_of_injury[:4])


@pytest.mark.parametrize(
    ("sql", "args", "index"),
    [
        pytest.param(
            "SELECT * FROM letter_facts WHERE age IN (?)", [47], "letter_facts_age", id="age"
        ),
        pytest.param(
            "SELECT * FROM letter_facts WHERE date_of_injury GLOB ?",
            ["2013*"],
            "letter_facts_injury",
            id="injury",
        ),
        pytest.param(
            "SELECT * FROM items WHERE decision = ?", ["upheld"], "items_decision", id="decision"
        ),
        pytest.param(
            "SELECT * FROM items WHERE generic IN (?)",
            ["tizanidine"],
            "items_generic",
            id="generic",
        ),
        pytest.param(
            "SELECT id, meta FROM chunks WHERE doc_id IN (?)",
            ["x"],
            "chunks_doc_item",
            id="chunk-meta",
        ),
        pytest.param(
            "SELECT id, doc_id, item_index FROM chunks WHERE section = 'item' AND doc_id IN (?)",
            ["x"],
            "chunks_doc_item",
            id="item-chunks",
        ),
    ],
)
def test_filters_are_searched_through_an_index(
    catalog: Catalog, sql: str, args: list, index: str
) -> None:
    plan = " ".join(r[3] for r in catalog.db.execute("EXPLAIN QUERY PLAN " + sql, args))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan


def test_a_catalog_without_letter_facts_is_filled_on_open(catalog: Catalog) -> None:
    """Opening skips the backfill when every letter has its facts (by counts); a catalog
    from before ``letter_facts`` (or missing some rows) is still filled."""
    before = catalog.letter_facts()
    path = catalog.path
    catalog.db.execute("DELETE FROM letter_facts WHERE doc_id = ?", (before[0].doc_id,))
    catalog.close()
    reopened = Catalog(path)
    assert reopened.letter_facts() == before
    reopened.close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM letter_facts")
    db.commit()
    db.close()
    assert Catalog(path).letter_facts() == before


def test_item_rows_are_reused_within_one_snapshot_and_read_anew_after_a_commit(
    catalog: Catalog,
) -> None:
    with catalog.snapshot():
        first = catalog.items(decision="upheld")
        again = catalog.items(decision="upheld")
        assert first and all(a is b for a, b in zip(first, again, strict=True))
        again.pop()  # a caller's list is its own
        assert len(catalog.items(decision="upheld")) == len(first)
    outside = catalog.items(decision="upheld")  # no snapshot: read anew
    assert [r.doc_id for r in outside] == [r.doc_id for r in first]
    assert outside[0] is not first[0]
    # Another process commits: one decision changes, the generation moves on.
    other = sqlite3.connect(catalog.path)
    other.execute(
        "UPDATE items SET decision = 'overturned' WHERE doc_id = ? AND item_index = ?",
        (first[0].doc_id, first[0].item_index),
    )
    other.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    other.commit()
    other.close()
    with catalog.snapshot():
        assert len(catalog.items(decision="upheld")) == len(first) - 1


def _facts_by_hand(letter, **want) -> bool:
    """What ``Catalog.letters_where`` must select, read from the parsed record."""
    age, sex = letter.patient.age, letter.patient.sex
    states = {s.lower() for s in letter.reviewer.licensure}
    day, ur = letter.decision_date, letter.ur_denial_date
    checks = {
        "age_min": lambda v: age is not None and age >= v,
        "age_max": lambda v: age is not None and age <= v,
        "sex": lambda v: sex == v,
        "licensed_in": lambda v: v.lower() in states,
        "licensed_only": lambda v: len(states) == 1,
        "decided_from": lambda v: day is not None and day >= v,
        "decided_to": lambda v: day is not None and day <= v,
        "decided_in": lambda v: day is not None and day.startswith(v),
        "ur_denied_in": lambda v: ur is not None and ur.startswith(v),
    }
    return all(checks[k](v) for k, v in want.items())


@pytest.fixture(scope="module")
def real_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A catalog of 16 real letters (records only: no chunks, no vectors)."""
    from imr_assist.parse import parse_file
    from tests.test_real_letters import REAL

    pdfs = sorted(REAL.glob("*.pdf"))[::4]
    if not pdfs:
        pytest.skip(f"real letters not found at {REAL}")
    cat = Catalog(tmp_path_factory.mktemp("real-catalog") / CATALOG_FILE)
    cat.commit_letters([(parse_file(p), []) for p in pdfs])
    return cat


def test_letter_restrictions_in_sql_are_those_read_from_the_records(
    real_catalog: Catalog,
) -> None:
    catalog = real_catalog
    letters = [catalog.letter(d) for d in catalog.doc_ids()]
    assert len(letters) >= 16 and all(lt is not None for lt in letters)
    ages = sorted({lt.patient.age for lt in letters if lt.patient.age})
    days = sorted({lt.decision_date for lt in letters if lt.decision_date})
    urs = sorted({lt.ur_denial_date for lt in letters if lt.ur_denial_date})
    assert len(ages) >= 3 and len(days) >= 2 and urs
    cases = [
        {"age_min": ages[1]},
        {"age_max": ages[1]},
        {"age_min": ages[0], "age_max": ages[-2], "sex": "female"},
        {"sex": "male"},
        {"licensed_in": "CALIFORNIA"},
        {"licensed_in": "California", "licensed_only": True},
        {"decided_from": days[1]},
        {"decided_to": days[0]},
        {"decided_in": days[0][:7]},
        {"decided_in": days[0][:4], "age_max": ages[-1]},
        {"ur_denied_in": urs[0][:7]},
        {"ur_denied_in": "2015"},
    ]
    seen = set()
    for want in cases:
        got = catalog.letters_where(**want)
        assert got == {lt.doc_id for lt in letters if _facts_by_hand(lt, **want)}, want
        seen.add(frozenset(got))
    assert len(seen) >= 4  # the cases tell the letters apart


def test_a_catalog_without_cover_facts_is_filled_on_open(catalog: Catalog) -> None:
    want = catalog.letters_where(licensed_in="California")
    assert want
    path = catalog.path
    catalog.db.execute("DELETE FROM letter_cover")
    assert catalog.letters_where(licensed_in="California") == set()
    catalog.close()
    assert Catalog(path).letters_where(licensed_in="California") == want


def test_letters_item_counts_are_kept_and_filled_for_older_catalogs(catalog: Catalog) -> None:
    """Each letter's item count is kept beside it (letters that decided at least n items
    are selected by it, not by grouping every item); a catalog written before it gets
    the counts from its item rows when opened."""
    grouped = dict(catalog.db.execute("SELECT doc_id, COUNT(*) FROM items GROUP BY doc_id"))
    assert catalog.item_counts() == grouped and max(grouped.values()) >= 2
    by, letters = catalog.item_tally(decided=(2, None))
    assert letters == sum(1 for n in grouped.values() if n >= 2)
    assert sum(by.values()) == sum(n for n in grouped.values() if n >= 2)
    path = catalog.path
    catalog.db.execute("DELETE FROM letter_items")
    catalog.close()
    again = Catalog(path)
    try:
        assert again.item_counts() == grouped
    finally:
        again.close()
