"""Lexicon coverage of parsed letters: which treatments matched no lexicon entry.

``coverage(letters)`` counts the items whose treatment the lexicon did not resolve (no
``canonical``), grouped by the name the parser took for them (the words before the first
number: "Fanatrex 25mg/ml oral suspension" and "Fanatrex 420ml" are one row), most
frequent first. It is how the lexicon is grown from a new corpus:
``imr-assist extract letters/ --report``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from imr_assist.models import Letter

__all__ = ["CoverageReport", "UnmatchedTreatment", "coverage"]


@dataclass(frozen=True)
class UnmatchedTreatment:
    """Items with one unmatched name: how many, one treatment as written, and where."""

    name: str
    count: int
    example: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class CoverageReport:
    """Items seen, items the lexicon resolved, and the unmatched names, most frequent first."""

    items: int
    matched: int
    unmatched: list[UnmatchedTreatment] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Share of items that matched an entry (1.0 when there are no items)."""
        return self.matched / self.items if self.items else 1.0

    def summary(self) -> str:
        """One line: "N of M items matched a lexicon entry (P%)"."""
        return f"{self.matched} of {self.items} items matched a lexicon entry ({self.share:.1%})"

    def lines(self) -> list[str]:
        """The report as text: one line per unmatched name, then the summary."""
        out = [
            f"{u.count:>5}  {u.name}" + (f"  ({u.example})" if u.example != u.name else "")
            for u in self.unmatched
        ]
        return [*out, self.summary()]

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready object."""
        return {
            "items": self.items,
            "matched": self.matched,
            "share": round(self.share, 4),
            "summary": self.summary(),
            "unmatched": [
                {
                    "name": u.name,
                    "count": u.count,
                    "example": u.example,
                    "sources": list(u.sources),
                }
                for u in self.unmatched
            ],
        }


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def coverage(letters: Iterable[Letter]) -> CoverageReport:
    """Count the items whose treatment matched no lexicon entry, by name, most first."""
    items = matched = 0
    rows: dict[str, dict[str, Any]] = {}
    for letter in letters:
        for it in letter.items:
            items += 1
            if it.canonical is not None:
                matched += 1
                continue
            name = " ".join((it.name or it.treatment).split())
            row = rows.setdefault(
                _key(name), {"name": name, "count": 0, "example": it.treatment, "sources": []}
            )
            row["count"] += 1
            if letter.source not in row["sources"]:
                row["sources"].append(letter.source)
    unmatched = [
        UnmatchedTreatment(
            r["name"], r["count"], " ".join(r["example"].split()), tuple(r["sources"])
        )
        for r in rows.values()
    ]
    unmatched.sort(key=lambda u: (-u.count, u.name.casefold()))
    return CoverageReport(items=items, matched=matched, unmatched=unmatched)
