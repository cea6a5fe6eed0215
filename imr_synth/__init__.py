"""Synthetic IMR letters with gold records and gold questions, for evaluation and benchmarks.

``generate(n, seed, out)`` writes a corpus folder::

    out/letters/<name>.txt     the letters (four formats, some with PDF-style noise)
    out/gold/<doc_id>.json     one gold record per letter (``Letter.public_dict()``)
    out/questions.jsonl        questions with gold answers (see ``questions``)
    out/manifest.json          n, seed, formats, noise and counts

The same ``n``, ``seed``, formats, noise and question count give the same corpus,
byte for byte: every choice comes from ``random.Random(seed)``, nothing depends on
the clock or on set order.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from imr_assist.constants import (
    FORMAT_2013,
    FORMAT_COVER,
    FORMAT_PROFESSIONAL,
    FORMAT_STANDARD,
    OVERTURNED,
    UPHELD,
)
from imr_assist.errors import ImrError
from imr_assist.models import Letter
from imr_synth.gold import build_gold
from imr_synth.layouts import render
from imr_synth.noise import add_noise
from imr_synth.plan import plan_letter
from imr_synth.questions import ItemFact, LetterFact, make_questions

__all__ = ["FORMATS", "SynthError", "SynthLetter", "SynthReport", "generate", "synth_letter"]

#: Formats and their share of a corpus that uses all of them.
FORMATS: dict[str, float] = {
    FORMAT_STANDARD: 0.35,
    FORMAT_COVER: 0.30,
    FORMAT_2013: 0.15,
    FORMAT_PROFESSIONAL: 0.20,
}
MAX_LETTERS = 99_999  # file names carry a five-digit index


class SynthError(ImrError):
    """A generator setting is wrong or the output folder cannot be used."""

    exit_code = 2


class SynthCounts(BaseModel):
    letters: int = 0
    items: int = 0
    upheld: int = 0
    overturned: int = 0
    noisy_letters: int = 0
    later_headings: int = 0
    by_format: dict[str, int] = Field(default_factory=dict)
    reasons: dict[str, int] = Field(default_factory=dict, description="Gold reason categories")
    questions: int = 0
    question_kinds: dict[str, int] = Field(default_factory=dict)


class SynthReport(BaseModel):
    """What ``generate`` wrote."""

    out: str = Field(description="The corpus folder")
    n: int
    seed: int
    formats: list[str]
    noise: float
    counts: SynthCounts

    def manifest(self) -> dict[str, object]:
        """The report without the folder, so two runs with one seed match byte for byte."""
        return self.model_dump(mode="json", exclude={"out"})


@dataclass
class SynthLetter:
    """One generated letter: file stem, gold record (``gold.text`` is the letter text)."""

    name: str
    gold: Letter
    noisy: bool
    later_headings: bool


def synth_letter(
    index: int,
    letter_seed: int,
    fmt: str,
    noise: float,
    case_numbers: set[str] | None = None,
) -> SynthLetter:
    """One letter of format ``fmt``; ``case_numbers`` keeps case numbers unique across calls."""
    rng = random.Random(letter_seed)
    noisy = rng.random() < noise
    name = f"{index:05d}_{rng.getrandbits(64):016x}"
    plan = plan_letter(
        rng, index, name, fmt, noisy, case_numbers if case_numbers is not None else set()
    )
    doc = render(plan, rng)
    clean = doc.text
    if noisy:
        text, pos = add_noise(clean, rng)
    else:
        text, pos = clean, list(range(len(clean) + 1))
    gold = build_gold(plan, clean, doc.ranges, text, pos, f"letters/{name}.txt")
    gold.text = text
    return SynthLetter(name, gold, noisy, plan.later_headings)


def generate(
    n: int,
    seed: int,
    out: Path,
    *,
    formats: Sequence[str] | None = None,
    noise: float = 0.3,
    questions: int = 100,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SynthReport:
    """Write ``n`` letters, their gold records and ``questions`` questions to ``out``.

    ``formats`` limits the letter formats (default: all four); ``noise`` is the
    share of letters with PDF-style noise. ``out`` must not already hold a corpus
    unless ``overwrite`` is set, in which case the corpus files in it are replaced.
    ``progress(done, total)`` is called after each letter.
    """
    chosen = _check(n, seed, formats, noise, questions)
    out = Path(out)
    _prepare(out, overwrite)
    letters_dir, gold_dir = out / "letters", out / "gold"

    rng = random.Random(seed)
    weights = [FORMATS[f] for f in chosen]
    counts = SynthCounts()
    by_format: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    facts: list[LetterFact] = []
    case_numbers: set[str] = set()
    for i in range(n):
        fmt = rng.choices(chosen, weights)[0]
        letter_seed = rng.getrandbits(64)
        made = synth_letter(i, letter_seed, fmt, noise, case_numbers)
        gold = made.gold
        (letters_dir / f"{made.name}.txt").write_bytes(gold.text.encode("utf-8"))
        (gold_dir / f"{gold.doc_id}.json").write_text(
            json.dumps(gold.public_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        counts.letters += 1
        counts.items += len(gold.items)
        counts.upheld += sum(1 for it in gold.items if it.decision == UPHELD)
        counts.overturned += sum(1 for it in gold.items if it.decision == OVERTURNED)
        counts.noisy_letters += int(made.noisy)
        counts.later_headings += int(made.later_headings)
        by_format[gold.format] += 1
        reasons.update(r.category for it in gold.items for r in it.reasons)
        facts.append(_facts(gold))
        if progress is not None:
            progress(i + 1, n)

    qs = make_questions(facts, questions, random.Random(f"{seed}:questions"))
    with (out / "questions.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for q in qs:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    counts.by_format = dict(sorted(by_format.items()))
    counts.reasons = dict(sorted(reasons.items()))
    counts.questions = len(qs)
    counts.question_kinds = dict(sorted(Counter(q["kind"] for q in qs).items()))
    report = SynthReport(
        out=str(out), n=n, seed=seed, formats=list(chosen), noise=noise, counts=counts
    )
    (out / "manifest.json").write_text(
        json.dumps(report.manifest(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return report


def _facts(gold: Letter) -> LetterFact:
    items = tuple(
        ItemFact(
            doc_id=gold.doc_id,
            index=it.index,
            canonical=it.canonical,
            generic=it.generic,
            drug_class=it.drug_class,
            kind=it.kind,
            decision=it.decision,
            treatment=it.treatment,
            name=it.name or it.treatment,
            reasons=tuple(it.reason_categories),
        )
        for it in gold.items
    )
    return LetterFact(gold.doc_id, gold.case_number, items)


def _check(
    n: int, seed: int, formats: Sequence[str] | None, noise: float, questions: int
) -> list[str]:
    if not 1 <= n <= MAX_LETTERS:
        raise SynthError(f"--n: {n} letters asked; give a number from 1 to {MAX_LETTERS}")
    if not 0.0 <= noise <= 1.0:
        raise SynthError(f"--noise: {noise} is not a share; give a number from 0 to 1")
    if questions < 0:
        raise SynthError(f"--questions: {questions} is negative; give 0 or more")
    if seed < 0:
        raise SynthError(f"--seed: {seed} is negative; give 0 or more")
    if formats is None:
        return list(FORMATS)
    chosen: list[str] = []
    for f in formats:
        name = f.strip()
        if name not in FORMATS:
            raise SynthError(
                f"--formats: unknown format {name!r}; choose from {', '.join(FORMATS)}"
            )
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise SynthError(f"--formats: no format given; choose from {', '.join(FORMATS)}")
    return chosen


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out}: exists and is not a folder")
    letters_dir, gold_dir = out / "letters", out / "gold"
    ours = [
        *sorted(letters_dir.glob("*.txt")),
        *sorted(gold_dir.glob("*.json")),
        *[p for p in (out / "questions.jsonl", out / "manifest.json") if p.exists()],
    ]
    if ours and not overwrite:
        raise SynthError(f"{out}: already holds a corpus; pass --force to replace it")
    for p in ours:
        p.unlink()
    try:
        letters_dir.mkdir(parents=True, exist_ok=True)
        gold_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SynthError(f"{out}: cannot create the corpus folders ({err.strerror})") from None
