"""The reason rules file, ``imr_assist/data/reasons.toml``: every example it holds, and
what its loader refuses.

Each rule's ``match`` sentences must be matched by that rule and labelled with its
category when they are the whole rationale; its ``no_match`` sentences must not be
matched by that rule (another rule of the category may still take them). The cases are
generated from the file, so a rule added there is tested without touching this file.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from imr_assist.constants import REASON_LABELS, UPHELD_REASONS
from imr_assist.errors import ConfigError
from imr_assist.parse import parse_text, reasons, rules
from imr_assist.text import normalize

DATA = rules.DATA_DIR / reasons.DATA_FILE
FILE = tomllib.loads(DATA.read_text(encoding="utf-8"))


def _cases(key: str) -> list[object]:
    out = []
    for cat, spec in FILE["categories"].items():
        for i, rule in enumerate(spec["rules"]):
            for k, sentence in enumerate(rule.get(key, [])):
                out.append(pytest.param(cat, i, sentence, id=f"{cat}[{i}]-{key}{k}"))
    return out


def _matches(cat: str, i: int, sentence: str) -> bool:
    group = reasons.compiled_rules().by_spec[cat][i]
    return any(r.matches(sentence, 0, len(sentence)) for r in group)


def _labels(text: str, decision: str) -> set[str]:
    nt = normalize(text)
    return {r.category for r in reasons.label_reasons(nt, 0, len(nt.flat), decision)}


@pytest.mark.parametrize(("cat", "i", "sentence"), _cases("match"))
def test_rule_matches_its_example(cat: str, i: int, sentence: str) -> None:
    assert _matches(cat, i, sentence)
    assert cat in _labels(sentence, FILE["categories"][cat]["decision"])


@pytest.mark.parametrize(("cat", "i", "sentence"), _cases("no_match"))
def test_rule_does_not_match_its_counter_example(cat: str, i: int, sentence: str) -> None:
    assert not _matches(cat, i, sentence)


def test_every_rule_has_examples_both_ways() -> None:
    for cat, spec in FILE["categories"].items():
        for i, rule in enumerate(spec["rules"]):
            assert rule.get("match") and rule.get("no_match"), f"{cat}[{i}]"


def test_nothing_is_compiled_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import imr_assist.parse, imr_assist.parse.reasons as r, imr_assist.constants;"
        "print(r.compiled_rules.cache_info().currsize, r.reason_data.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]


# --- the loader ---------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the data folder that the loader reads instead of the packaged one."""
    for data_file in DATA.parent.glob("*.toml"):  # the other tables questions read too
        shutil.copy(data_file, tmp_path / data_file.name)
    monkeypatch.setattr(rules, "DATA_DIR", tmp_path)
    monkeypatch.setattr(reasons, "DATA_DIR", tmp_path)
    reasons.reload()
    yield tmp_path
    monkeypatch.undo()
    reasons.reload()


def _append(folder: Path, text: str) -> None:
    with (folder / reasons.DATA_FILE).open("a", encoding="utf-8") as fh:
        fh.write(text)


def test_a_new_category_is_one_data_edit(data_dir: Path) -> None:
    # The example in ARCHITECTURE.md: one table in reasons.toml, nothing else.
    _append(
        data_dir,
        """
[categories.experimental_treatment]
label = "Experimental or investigational treatment"
decision = "upheld"
asked = ['\\b(?:experimental|investigational)\\b']

[[categories.experimental_treatment.rules]]
pattern = '\\b(?:experimental|investigational)\\b'
match = ["The guidelines consider this device investigational."]
no_match = ["The device would be reconsidered if it were no longer investigational."]
""",
    )
    assert REASON_LABELS["experimental_treatment"] == "Experimental or investigational treatment"
    assert "experimental_treatment" in UPHELD_REASONS
    letter = parse_text(_LETTER)
    assert letter.items[0].reason_categories == ["experimental_treatment"]
    # and questions name it by its `asked` patterns, after a cue
    from imr_assist.retrieve import plan

    plan._reason_phrases.cache_clear()
    try:
        asked = plan.read_question("Which requests were denied because they were experimental?")
        assert asked.reasons == ("experimental_treatment",)
    finally:
        plan._reason_phrases.cache_clear()


_LETTER = """\
HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services reviewed the records.
CLINICAL CASE SUMMARY
The patient is a 50 year old male with low back pain.
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
1. Spinal cord stimulator trial is: Upheld
Claims Administrator guideline: Decision based on MTUS.
MAXIMUS guideline: Decision based on MTUS.
Decision rationale: The guidelines consider this device investigational for this condition.
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[[categories.no_functional_improvement.rules]]\npattern = '{NOPE}'\nmatch = ['x']\n",
            "unknown fragment {NOPE}",
            id="unknown-fragment",
        ),
        pytest.param(
            "[[categories.no_functional_improvement.rules]]\npattern = '(?:'\nmatch = ['x']\n",
            "categories.no_functional_improvement.rules[",
            id="bad-regex-names-the-rule",
        ),
        pytest.param(
            "[[categories.no_functional_improvement.rules]]\npattern = 'a'\nmissing = 'b'\n"
            "match = ['x']\n",
            "exactly one of 'pattern' and 'missing'",
            id="pattern-and-missing",
        ),
        pytest.param(
            "[[categories.no_functional_improvement.rules]]\npattern = 'a'\n",
            "match",
            id="no-examples",
        ),
        pytest.param(
            "[categories.odd]\nlabel = 'Odd'\ndecision = 'partial'\nrules = []\n",
            "categories.odd.decision",
            id="unknown-decision",
        ),
    ],
)
def test_the_loader_refuses_a_bad_file(data_dir: Path, text: str, message: str) -> None:
    _append(data_dir, "\n" + text)
    with pytest.raises(ConfigError) as err:
        reasons.compiled_rules()
    assert message in str(err.value)
    assert str(data_dir / reasons.DATA_FILE) in str(err.value)


def test_a_fragment_that_uses_itself_is_refused(data_dir: Path) -> None:
    path = data_dir / reasons.DATA_FILE
    path.write_text(
        path.read_text(encoding="utf-8").replace("[fragments]\n", "[fragments]\nLOOP = '{LOOP}'\n"),
        encoding="utf-8",
    )
    _append(
        data_dir,
        "\n[[categories.no_functional_improvement.rules]]\npattern = '{LOOP}'\nmatch = ['x']\n",
    )
    with pytest.raises(ConfigError, match="fragment uses itself"):
        reasons.compiled_rules()
