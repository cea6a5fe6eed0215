"""Treatment lexicon: brand, generic and service names to generic and class.

The data lives in ``imr_assist/data/lexicon.json``. Matching is case-insensitive
on whole words; multi-word names tolerate any whitespace or hyphen between words;
a digit may follow a name directly ("Norco10/325"). A misspelt single word
(edit distance 1, five letters or more) is matched as a fallback at the start
of a treatment ("Norcco", "Tizanadine").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "lexicon.json"


@dataclass(frozen=True)
class LexiconEntry:
    canonical: str
    kind: str
    generic: str | None
    drug_class: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class LexiconMatch:
    entry: LexiconEntry
    start: int
    end: int
    surface: str


def _pattern(term: str) -> str:
    parts = re.split(r"[\s\-]+", term.strip())
    body = r"[\s\-]*".join(re.escape(p).replace(r"/", r"\s*/\s*") for p in parts)
    return body


class Lexicon:
    def __init__(self, entries: list[LexiconEntry], groups: dict[str, list[str]]) -> None:
        self.entries = entries
        self.groups = groups
        self._by_term: dict[str, LexiconEntry] = {}
        for e in entries:
            for term in (e.canonical, *e.aliases):
                self._by_term.setdefault(_key(term), e)
        terms = sorted(self._by_term, key=len, reverse=True)
        self._rx = re.compile(
            r"(?<![A-Za-z])(?:" + "|".join(_pattern(t) for t in terms) + r")(?:e?s)?(?![A-Za-z])",
            re.IGNORECASE,
        )
        gterms = sorted(groups, key=len, reverse=True)
        self._grx = re.compile(
            r"(?<![A-Za-z])(?:" + "|".join(_pattern(t) for t in gterms) + r")(?![A-Za-z])",
            re.IGNORECASE,
        )
        self._single = {k: e for k, e in self._by_term.items() if " " not in k and len(k) >= 5}

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        data = json.loads((path or DATA).read_text(encoding="utf-8"))
        entries = [
            LexiconEntry(
                canonical=d["canonical"],
                kind=d["kind"],
                generic=d.get("generic"),
                drug_class=d.get("class"),
                aliases=tuple(d.get("aliases", [])),
            )
            for d in data["entries"]
        ]
        return cls(entries, data.get("groups", {}))

    def _entry_for(self, surface: str) -> LexiconEntry | None:
        k = _key(surface)
        if k in self._by_term:
            return self._by_term[k]
        for suffix in ("es", "s"):
            if k.endswith(suffix) and k[: -len(suffix)] in self._by_term:
                return self._by_term[k[: -len(suffix)]]
        return None

    def find_all(self, text: str) -> list[LexiconMatch]:
        out = []
        for m in self._rx.finditer(text):
            e = self._entry_for(m.group(0))
            if e is not None:
                out.append(LexiconMatch(e, m.start(), m.end(), m.group(0)))
        return out

    def find(self, text: str) -> LexiconMatch | None:
        found = self.find_all(text)
        if found:
            return found[0]
        for m in re.finditer(r"[A-Za-z]{5,}", text[:60]):
            word = m.group(0).lower()
            for term, e in self._single.items():
                if abs(len(term) - len(word)) <= 1 and _within_one(term, word):
                    return LexiconMatch(e, m.start(), m.end(), m.group(0))
        return None

    def entries_for_class(self, drug_class: str) -> list[LexiconEntry]:
        return [e for e in self.entries if e.drug_class == drug_class]

    def classes_for_group_word(self, text: str) -> list[tuple[str, int, int]]:
        out = []
        for m in self._grx.finditer(text):
            for cls in self.groups.get(_key(m.group(0)), []):
                out.append((cls, m.start(), m.end()))
        return out

    def by_canonical(self, name: str) -> LexiconEntry | None:
        for e in self.entries:
            if e.canonical.lower() == name.lower():
                return e
        return None

    def same_generic(self, entry: LexiconEntry) -> list[LexiconEntry]:
        if entry.generic is None:
            return [entry]
        return [e for e in self.entries if e.generic == entry.generic]


def _key(term: str) -> str:
    return re.sub(r"\s*/\s*", "/", re.sub(r"[\s\-]+", " ", term.strip().lower()))


def _within_one(a: str, b: str) -> bool:
    """Edit distance at most one."""
    if a == b:
        return True
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(b)):
        if a == b[:i] + b[i + 1 :]:
            return True
    return False


@lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    return Lexicon.load()
