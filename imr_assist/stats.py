"""Decision counts over the whole index, grouped by one field of the items.

Counts come from the catalog's item rows (every indexed decision), never from a
search, so they are exact. Multi-valued groupings (reason, specialty, guideline)
count an item once under each of its values, so their rows can sum to more than
the total; that is why ``stats_total`` counts items directly instead of summing rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict

from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.errors import ConfigError
from imr_assist.index.catalog import Catalog, ItemRow

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

#: Key for items that have no value for the grouping (e.g. an unmapped drug's class).
NONE_KEY = "(none)"
#: Key of the row ``stats_total`` returns.
TOTAL_KEY = "total"


class StatsRow(TypedDict):
    """One group: how many decisions, how many each way, and the overturn share."""

    key: str
    decisions: int
    upheld: int
    overturned: int
    overturn_rate: float


def _catalog(source: Index | Catalog) -> Catalog:
    # An Index carries its catalog; accepting both keeps callers from reaching inside.
    return source if isinstance(source, Catalog) else source.catalog


def _distinct(values: list[str]) -> list[str]:
    """Values in first-seen order, each once, or ``[NONE_KEY]`` when there are none."""
    out = list(dict.fromkeys(v for v in values if v))
    return out or [NONE_KEY]


def _keys_for(by: str, catalog: Catalog) -> Callable[[ItemRow], list[str]]:
    """The function giving an item row's group keys for grouping ``by``."""

    def treatment(r: ItemRow) -> list[str]:
        if r.canonical:
            return [r.canonical]
        # The name as written is only in the letter record, not the item row.
        letter = catalog.letter(r.doc_id)
        name = None
        if letter is not None and r.item_index < len(letter.items):
            name = letter.items[r.item_index].name
        return [name or r.treatment]

    table: dict[str, Callable[[ItemRow], list[str]]] = {
        "treatment": treatment,
        "generic": lambda r: [r.generic or NONE_KEY],
        "class": lambda r: [r.drug_class or NONE_KEY],
        "decision": lambda r: [r.decision],
        "reason": lambda r: _distinct(r.reasons),
        "specialty": lambda r: _distinct(r.specialties),
        "guideline": lambda r: _distinct(r.guidelines),
        "letter": lambda r: [r.doc_id],
    }
    if by not in table:
        raise ConfigError(f"stats: cannot group by {by!r}; use one of {', '.join(GROUPINGS)}")
    return table[by]


def _row(key: str, rows: list[ItemRow]) -> StatsRow:
    upheld = sum(1 for r in rows if r.decision == UPHELD)
    overturned = sum(1 for r in rows if r.decision == OVERTURNED)
    n = len(rows)
    return StatsRow(
        key=key,
        decisions=n,
        upheld=upheld,
        overturned=overturned,
        overturn_rate=round(overturned / n, 3) if n else 0.0,
    )


def stats(source: Index | Catalog, by: str = "treatment") -> list[StatsRow]:
    """Decision counts per group, most decisions first, then by key."""
    catalog = _catalog(source)
    keys_of = _keys_for(by, catalog)
    groups: dict[str, list[ItemRow]] = defaultdict(list)
    for row in catalog.items():
        for key in keys_of(row):
            groups[key].append(row)
    out = [_row(key, rows) for key, rows in groups.items()]
    out.sort(key=lambda r: (-r["decisions"], r["key"].casefold(), r["key"]))
    return out


def stats_total(source: Index | Catalog) -> StatsRow:
    """Counts over every indexed decision, each item once."""
    return _row(TOTAL_KEY, _catalog(source).items())
