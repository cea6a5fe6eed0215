"""A corpus of letters like the real ones: real letters copied with varied identifiers.

The generated corpus (``generate``) is shorter and simpler than real letters, which run
to twenty items and case summaries of several pages. For benchmarks that must see real
lengths and item counts, ``replicate`` copies a folder of real letters (``.txt`` or
``.pdf``, read as ingest reads them) as often as needed, each copy with its own case
number and a shifted patient age, so every copy is a distinct letter (its own sha256
and doc id) with the original's structure, length and items.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from imr_assist.errors import LetterError
from imr_assist.parse.loaders import expand_paths, read_letter_text

#: "CM16-0213037": the IMR case number, the letter's id.
CASE_NUMBER = re.compile(r"\bCM(\d{2})-(\d{7})\b")
#: "a now 40-year-old female", "45 year old": the patient's age.
AGE = re.compile(r"\b(\d{2})(-|\s)year(-|\s)old\b")


@dataclass
class Replicated:
    letters: int
    originals: int
    skipped: list[str]
    out: Path


def replicate(source: Path, n: int, seed: int, out: Path) -> Replicated:
    """Write ``n`` letters to ``out`` (``replica-NNNNN.txt``), cycling through the letters
    under ``source``; copy k of a letter gets case number ``CMyy-9kkkkkk`` in place of
    the original's and every age moved by the same random few years."""
    originals: list[tuple[str, str]] = []
    skipped: list[str] = []
    for src in expand_paths([source], on_error=lambda e: skipped.append(str(e))):
        try:
            text = read_letter_text(src.path, src.display)
        except LetterError as err:
            skipped.append(str(err))
            continue
        if CASE_NUMBER.search(text):
            originals.append((src.display, text))
        else:
            skipped.append(f"{src.display}: no case number")
    if not originals:
        raise LetterError(str(source), "no letters with a case number to replicate")
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        _, text = originals[k % len(originals)]
        serial = 9_000_000 + k
        copy = CASE_NUMBER.sub(lambda m, s=serial: f"CM{m[1]}-{s:07d}", text)
        shift = rng.randint(-4, 4)
        copy = AGE.sub(lambda m, d=shift: f"{max(18, int(m[1]) + d)}{m[2]}year{m[3]}old", copy)
        (out / f"replica-{k:05d}.txt").write_text(copy, encoding="utf-8")
    return Replicated(letters=n, originals=len(originals), skipped=skipped, out=out)
