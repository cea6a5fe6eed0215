"""Reviewer specialties and guideline names, ``imr_assist/data/specialties.toml``: every
example the file holds, and a specialty added as one data edit."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from imr_assist.errors import ConfigError
from imr_assist.parse import rules
from imr_assist.retrieve import query

FILE_NAME = "specialties.toml"
FILE = tomllib.loads((rules.DATA_DIR / FILE_NAME).read_text(encoding="utf-8"))
TABLES = {"specialties": query.SPECIALTY_PATTERNS, "guidelines": query._GUIDELINES}


def _cases(key: str) -> list[object]:
    return [
        pytest.param(table, name, text, id=f"{table}.{name}-{key}{k}")
        for table in TABLES
        for name, entry in FILE[table].items()
        for k, text in enumerate(entry.get(key, []))
    ]


@pytest.mark.parametrize(("table", "name", "text"), _cases("match"))
def test_pattern_finds_its_example(table: str, name: str, text: str) -> None:
    assert TABLES[table][name].search(text)


@pytest.mark.parametrize(("table", "name", "text"), _cases("no_match"))
def test_pattern_does_not_find_its_neighbour(table: str, name: str, text: str) -> None:
    assert not TABLES[table][name].search(text)


def test_every_entry_has_examples_both_ways() -> None:
    for table in TABLES:
        for name, entry in FILE[table].items():
            assert entry.get("match") and entry.get("no_match"), f"{table}.{name}"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copy(rules.DATA_DIR / FILE_NAME, tmp_path / FILE_NAME)
    monkeypatch.setattr(rules, "DATA_DIR", tmp_path)
    rules.load_toml.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    rules.load_toml.cache_clear()


def test_a_new_specialty_is_one_data_edit(data_dir: Path) -> None:
    # The example in ARCHITECTURE.md: one table in specialties.toml, nothing else.
    assert (
        query.parse_question("Which requests did a nuclear medicine reviewer deny?").specialty
        is None
    )
    with (data_dir / FILE_NAME).open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[specialties."nuclear medicine"]\n'
            "pattern = '\\bnuclear\\s+medicine'\n"
            'match = ["Nuclear Medicine", "a nuclear medicine reviewer"]\n'
            'no_match = ["Internal Medicine"]\n'
        )
    rules.load_toml.cache_clear()
    f = query.parse_question("Which requests did a nuclear medicine reviewer deny?")
    assert f.specialty == "nuclear medicine"
    assert query.specialty_matches(f.specialty, ["Nuclear Medicine"])
    assert not query.specialty_matches(f.specialty, ["Internal Medicine"])


def test_a_bad_entry_is_refused_naming_it(data_dir: Path) -> None:
    with (data_dir / FILE_NAME).open("a", encoding="utf-8") as fh:
        fh.write("\n[specialties.broken]\npattern = '(?:'\nmatch = ['x']\n")
    rules.load_toml.cache_clear()
    with pytest.raises(ConfigError, match=r"specialties\.toml: specialties\.broken"):
        query.specialty_matches("neurology", ["Neurology"])
