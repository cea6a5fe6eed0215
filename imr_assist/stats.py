"""Decision counts over the whole index, grouped by one field of the items.

Counts come from the catalog's item rows (every indexed decision), never from a
search, so they are exact, and they are read in one catalog snapshot. Multi-valued
groupings (reason, specialty, guideline) count an item once under each of its
values, so their rows can sum to more than the total: the total counts items (and
letters) directly, and ``report`` says when rows overlap. Reasons are shown by
their labels (``REASON_LABELS``); guidelines by family and by who cited them (the
claims administrator's UR decision, or the IMR reviewer).

A partial certification (UR certified part of the request, ``original_request`` /
``authorized_portion`` on the item) is one decision: the part IMR decided. Each row
and the total say how many of their decisions were partial.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypedDict

from imr_assist.constants import OVERTURNED, REASON_LABELS, UPHELD
from imr_assist.errors import ConfigError
from imr_assist.index.catalog import Catalog, ItemDetail, ItemRow
from imr_assist.parse.fields import guideline_families

if TYPE_CHECKING:
    from imr_assist.index.index import Index

#: Groupings ``stats`` knows, in the order the CLI lists them.
GROUPINGS: tuple[str, ...] = (
    "treatment",
    "generic",
    "class",
    "decision",
    "reason",
    "specialty",
    "guideline",
    "letter",
)
#: Other names for groupings: a drug is a treatment.
ALIASES: dict[str, str] = {"drug": "treatment", "drug_class": "class", "guidelines": "guideline"}
#: Groupings under which one item can count in several rows.
MULTI_VALUED = ("reason", "specialty", "guideline")

#: Key for items that have no value for the grouping (e.g. an unmapped drug's class).
NONE_KEY = "(none)"
#: Key of the row ``stats_total`` returns.
TOTAL_KEY = "total"
#: How guideline rows name who cited the guideline.
REVIEWER = "IMR reviewer"
CLAIMS_ADMINISTRATOR = "claims administrator"


class StatsRow(TypedDict):
    """One group: how many decisions (in how many letters), each way, the overturn
    share, and how many were partial certifications."""

    key: str
    letters: int
    decisions: int
    upheld: int
    overturned: int
    overturn_rate: float
    partial: int


class StatsReport(TypedDict):
    """What ``imr-assist stats`` shows (its ``--json`` shape)."""

    by: str
    filters: dict[str, str]
    rows: list[StatsRow]
    total: StatsRow
    rows_overlap: bool
    notes: list[str]


@dataclass(frozen=True)
class StatsFilters:
    """Which decisions to count; every given filter must hold (case-insensitive).

    ``treatment`` matches the lexicon name, the generic or the name as written;
    ``drug_class`` the class; ``specialty`` part of a reviewer specialty; the dates
    bound the letter's decision date (inclusive), leaving out letters without one.
    """

    treatment: str | None = None
    drug_class: str | None = None
    decision: str | None = None
    specialty: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_dict(self) -> dict[str, str]:
        values = {
            "treatment": self.treatment,
            "class": self.drug_class,
            "decision": self.decision,
            "specialty": self.specialty,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def dated(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def keeps(self, r: ItemRow, d: ItemDetail | None) -> bool:
        if self.treatment:
            want = self.treatment.casefold()
            names = [r.canonical, r.generic, d.name if d else None]
            if not any(n and n.casefold() == want for n in names) and (
                want not in r.treatment.casefold()
            ):
                return False
        if self.drug_class and (r.drug_class or "").casefold() != self.drug_class.casefold():
            return False
        if self.decision and r.decision != self.decision:
            return False
        if self.specialty:
            want = self.specialty.casefold()
            if not any(want in s.casefold() for s in r.specialties):
                return False
        if self.dated:
            when = _iso_date(d.decision_date if d else None)
            if when is None:
                return False
            if self.date_from and when < self.date_from:
                return False
            if self.date_to and when > self.date_to:
                return False
        return True


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _catalog(source: Index | Catalog) -> Catalog:
    # An Index carries its catalog; accepting both keeps callers from reaching inside.
    return source if isinstance(source, Catalog) else source.catalog


def _distinct(values: list[str]) -> list[str]:
    """Values in first-seen order, each once, or ``[NONE_KEY]`` when there are none."""
    out = list(dict.fromkeys(v for v in values if v))
    return out or [NONE_KEY]


def grouping(by: str) -> str:
    """The grouping ``by`` names (aliases resolved), or a ConfigError listing them."""
    name = ALIASES.get(by, by)
    if name not in GROUPINGS:
        raise ConfigError(
            f"stats: cannot group by {by!r}; use one of {', '.join(GROUPINGS)} "
            "(or drug, the same as treatment)"
        )
    return name


def _keys_for(
    by: str, details: dict[tuple[str, int], ItemDetail]
) -> Callable[[ItemRow], list[str]]:
    """The function giving an item row's group keys for grouping ``by``."""

    def detail(r: ItemRow) -> ItemDetail | None:
        return details.get((r.doc_id, r.item_index))

    def treatment(r: ItemRow) -> list[str]:
        if r.canonical:
            return [r.canonical]
        d = detail(r)  # the name as written is only in the letter record
        return [(d.name if d else None) or r.treatment]

    def guideline(r: ItemRow) -> list[str]:
        d = detail(r)
        claims = guideline_families(d.claims_administrator_guideline or "") if d else []
        keys = [f"{g} ({REVIEWER})" for g in r.guidelines]
        keys += [f"{g} ({CLAIMS_ADMINISTRATOR})" for g in claims]
        return _distinct(keys)

    table: dict[str, Callable[[ItemRow], list[str]]] = {
        "treatment": treatment,
        "generic": lambda r: [r.generic or NONE_KEY],
        "class": lambda r: [r.drug_class or NONE_KEY],
        "decision": lambda r: [r.decision],
        "reason": lambda r: _distinct([REASON_LABELS.get(c, c) for c in r.reasons]),
        "specialty": lambda r: _distinct(r.specialties),
        "guideline": guideline,
        "letter": lambda r: [r.doc_id],
    }
    return table[grouping(by)]


def _row(key: str, rows: list[ItemRow], details: dict[tuple[str, int], ItemDetail]) -> StatsRow:
    upheld = sum(1 for r in rows if r.decision == UPHELD)
    overturned = sum(1 for r in rows if r.decision == OVERTURNED)
    partial = 0
    for r in rows:
        d = details.get((r.doc_id, r.item_index))
        partial += int(d is not None and d.original_request is not None)
    n = len(rows)
    return StatsRow(
        key=key,
        letters=len({r.doc_id for r in rows}),
        decisions=n,
        upheld=upheld,
        overturned=overturned,
        overturn_rate=round(overturned / n, 3) if n else 0.0,
        partial=partial,
    )


def _selected(
    catalog: Catalog, filters: StatsFilters | None
) -> tuple[list[ItemRow], dict[tuple[str, int], ItemDetail]]:
    details = catalog.item_details()
    rows = catalog.items()
    if filters is not None:
        rows = [r for r in rows if filters.keeps(r, details.get((r.doc_id, r.item_index)))]
    return rows, details


def _grouped(
    by: str, rows: list[ItemRow], details: dict[tuple[str, int], ItemDetail]
) -> list[StatsRow]:
    keys_of = _keys_for(by, details)
    groups: dict[str, list[ItemRow]] = defaultdict(list)
    for row in rows:
        for key in keys_of(row):
            groups[key].append(row)
    out = [_row(key, members, details) for key, members in groups.items()]
    out.sort(key=lambda r: (-r["decisions"], r["key"].casefold(), r["key"]))
    return out


def stats(
    source: Index | Catalog, by: str = "treatment", filters: StatsFilters | None = None
) -> list[StatsRow]:
    """Decision counts per group, most decisions first, then by key."""
    catalog = _catalog(source)
    with catalog.snapshot():
        rows, details = _selected(catalog, filters)
        return _grouped(by, rows, details)


def stats_total(source: Index | Catalog, filters: StatsFilters | None = None) -> StatsRow:
    """Counts over every indexed (selected) decision, each item once."""
    catalog = _catalog(source)
    with catalog.snapshot():
        rows, details = _selected(catalog, filters)
        return _row(TOTAL_KEY, rows, details)


def report(
    source: Index | Catalog, by: str = "treatment", filters: StatsFilters | None = None
) -> StatsReport:
    """Rows, an honest total (letters and decisions, each once) and notes, from one
    snapshot of the catalog."""
    catalog = _catalog(source)
    name = grouping(by)
    with catalog.snapshot():
        rows, details = _selected(catalog, filters)
        grouped = _grouped(name, rows, details)
        total = _row(TOTAL_KEY, rows, details)
        letters_in_index = catalog.count_letters()
    notes: list[str] = []
    summed = sum(r["decisions"] for r in grouped)
    overlap = summed > total["decisions"]
    if overlap:
        what = {"reason": "reasons", "specialty": "specialties", "guideline": "guidelines"}
        notes.append(
            f"a decision with several {what.get(name, 'values')} counts under each: the rows "
            f"add up to {summed}, the total counts the {total['decisions']} decisions once"
        )
    if name == "guideline":
        notes.append(
            f"'{REVIEWER}' rows count the guidelines the IMR reviewer based the decision on; "
            f"'{CLAIMS_ADMINISTRATOR}' rows those the UR decision under review cited"
        )
    if total["partial"]:
        notes.append(
            f"{total['partial']} of the {total['decisions']} decisions were partial "
            "certifications: IMR decided the part UR did not certify (the original request "
            "and the part already authorized are in each letter's digest)"
        )
    if filters is not None and filters.dated:
        notes.append("letters without a decision date are left out when --from or --to is given")
    if filters is not None and filters.as_dict():
        notes.append(
            f"{total['decisions']} decisions in {total['letters']} of the "
            f"{letters_in_index} indexed letters match the filters"
        )
    return StatsReport(
        by=name,
        filters=filters.as_dict() if filters else {},
        rows=grouped,
        total=total,
        rows_overlap=overlap,
        notes=notes,
    )
