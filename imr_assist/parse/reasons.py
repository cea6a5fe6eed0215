"""Rule-based reason categories for an item's rationale.

A rationale is split into sentences; each category has rules in priority order, and
the first sentence that matches the highest-priority rule backs the label. Only the
categories of the item's own decision are tried: an overturned rationale often
restates the rule it found satisfied ("discontinue opioids if there is no
documentation of improved function"), which must not read as an uphold reason.

Most upheld reasons are a clinical fact the records do not show. Such a rule pairs a
concept ("functional improvement", "urine drug screen", "muscle spasm") with a
negation of the record, in the ways reviewers write it: before the concept ("there
is no documentation of", "the submitted notes do not establish", "make no mention
of", "without evidence of") or after it ("... is not documented", "neither is
shown"). The negation must sit in the same clause as the concept, so "there is no
spasm, but the function improved" does not read as "no improved function".
Overturned reasons are the same concepts stated positively, and are rejected when a
negation, a requirement or a condition ("if", "unless", "requires") comes before
them in their clause. On either side a condition turns a sentence into a recital of
the guideline ("opioids are discontinued if there is no documentation of improved
function"), not a finding, and it is not labelled.

The rules are data, in ``imr_assist/data/reasons.toml`` (see ``parse/rules.py`` for
fragments and ``RuleSpec`` for the fields of a rule); this module loads, checks and
applies them. Each category there has its label, its decision side and its rules in
priority order; each rule has sentences it must match and sentences it must not match,
and ``tests/test_reason_rules.py`` runs every one of them. The first rules of each
category come from the sample letters (each note names the letter); the rest from MTUS
and ODG practice. A new category is one more ``[categories.NAME]`` table there.

Nothing is compiled at import: the file is read and compiled on the first labelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.errors import ConfigError
from imr_assist.models import Reason
from imr_assist.parse.rules import DATA_DIR, Fragments, compile_pattern, load_toml
from imr_assist.text import NormalizedText

DATA_FILE = "reasons.toml"

Pattern = str | list[str]

# --- the data file's shape ------------------------------------------------------------


class RuleSpec(BaseModel):
    """One rule as written in the data file.

    Either ``pattern`` (with optional ``also``, ``unless`` and ``positive``): a sentence
    signals the category when ``pattern`` matches in it, each of ``also`` matches
    anywhere in it and ``unless`` does not; a condition earlier in the clause of the
    match rejects it, and with ``positive`` so does a negation.

    Or ``missing``, a concept: "the records do not show it", expanded into three rules,
    one per word order (see ``_missing``).
    """

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", description="Where the rule comes from, or what it is for")
    pattern: Pattern | None = None
    also: list[Pattern] = Field(default_factory=list)
    unless: Pattern | None = None
    positive: bool = False
    missing: Pattern | None = None
    before: int = Field(120, ge=0, description="missing: characters from negation to concept")
    bare: int = Field(3, ge=0, description="missing: words after a bare negation")
    after: int | Literal[False] = Field(
        80, description="missing: characters from concept to 'is not documented'; false: none"
    )
    gap_unless: Pattern | None = Field(
        None, description="missing: words that may not stand between negation and concept"
    )
    match: list[str] = Field(min_length=1, description="Sentences the rule must match")
    no_match: list[str] = Field(
        default_factory=list, description="Sentences the rule must not match"
    )

    @model_validator(mode="after")
    def _one_form(self) -> RuleSpec:
        if (self.pattern is None) == (self.missing is None):
            raise ValueError("a rule has exactly one of 'pattern' and 'missing'")
        if self.missing is not None and (self.also or self.positive):
            raise ValueError("'also' and 'positive' go with 'pattern', not 'missing'")
        return self


class CategorySpec(BaseModel):
    """A reason category: its label, the decision it explains, its rules in priority order."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, description="What users read")
    decision: Literal["upheld", "overturned"]
    rules: list[RuleSpec] = Field(min_length=1)
    asked: list[str] = Field(
        default_factory=list,
        description="Patterns a question names this reason by, after a cue such as "
        "'denied for lack of' (read by retrieve/plan.py)",
    )


class ReasonData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    fragments: dict[str, Pattern]
    categories: dict[str, CategorySpec] = Field(min_length=1)


@lru_cache(maxsize=1)
def reason_data() -> ReasonData:
    """The reason rules file, checked against its schema (not yet compiled)."""
    try:
        return ReasonData.model_validate(load_toml(DATA_FILE))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{DATA_DIR / DATA_FILE}: {where}: {first['msg']}") from None


@lru_cache(maxsize=8)
def categories(*decisions: str) -> Mapping[str, str]:
    """Category name -> label for the categories that explain ``decisions``, in file order."""
    cats = reason_data().categories
    return MappingProxyType({n: c.label for n, c in cats.items() if c.decision in decisions})


def reload() -> None:
    """Forget the loaded and compiled rules: the next use reads the data file again."""
    for cached in (load_toml, reason_data, categories, compiled_rules):
        cached.cache_clear()


# --- compiled rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A compiled rule: see ``RuleSpec``. ``void`` is what rejects a match earlier in
    its clause (conditions; with ``positive``, negations too), ``clause`` where a clause
    starts."""

    pattern: re.Pattern[str]
    void: re.Pattern[str]
    clause: re.Pattern[str]
    also: tuple[re.Pattern[str], ...] = ()
    unless: re.Pattern[str] | None = None
    positive: bool = False

    def matches(self, text: str, a: int, b: int) -> bool:
        if self.unless is not None and self.unless.search(text, a, b):
            return False
        if not all(rx.search(text, a, b) for rx in self.also):
            return False
        for m in self.pattern.finditer(text, a, b):
            if not self._voided(text, a, m.start()):
                return True
        return False

    def _voided(self, text: str, a: int, at: int) -> bool:
        """Whether ``void`` occurs in the clause of ``text[a:at]`` that ends at ``at``.

        Only the last 300 characters are read: a clause is shorter, and a long run of
        PDF text without punctuation must not make every match rescan it.
        """
        clause = text[max(a, at - 300) : at]
        starts = [m.end() for m in self.clause.finditer(clause)]
        return bool(self.void.search(clause, starts[-1] if starts else 0))


@dataclass(frozen=True)
class CompiledRules:
    """Every category's rules, compiled; ``by_spec`` keeps each data rule's own rules."""

    rules: dict[str, list[Rule]]
    by_spec: dict[str, list[list[Rule]]]


class _Compiler:
    def __init__(self, data: ReasonData) -> None:
        where = str(DATA_DIR / DATA_FILE)
        self.frag = Fragments(data.fragments, where)
        self.where = where
        self.clause, self.condition, self.void_positive = (
            self._rx(self.frag[name], f"{where}: fragment {name}")
            for name in ("CLAUSE_START", "CONDITION", "VOID_POSITIVE")
        )

    def _rx(self, pattern: str, where: str) -> re.Pattern[str]:
        return compile_pattern(pattern, where)

    def rule(
        self,
        pattern: str,
        where: str,
        also: tuple[str, ...] = (),
        unless: str | None = None,
        positive: bool = False,
    ) -> Rule:
        return Rule(
            self._rx(pattern, where),
            void=self.void_positive if positive else self.condition,
            clause=self.clause,
            also=tuple(self._rx(p, where) for p in also),
            unless=self._rx(unless, where) if unless else None,
            positive=positive,
        )

    def spec(self, spec: RuleSpec, where: str) -> list[Rule]:
        """The compiled rules of one data rule; ``where`` names it in errors."""
        where = f"{self.where}: {where}"
        x = self.frag.expand
        unless = x(spec.unless, where) if spec.unless is not None else None
        if spec.pattern is not None:
            also = tuple(x(p, where) for p in spec.also)
            return [self.rule(x(spec.pattern, where), where, also, unless, spec.positive)]
        assert spec.missing is not None
        gap_unless = x(spec.gap_unless, where) if spec.gap_unless is not None else None
        after = None if spec.after is False else spec.after
        return self._missing(
            x(spec.missing, where), where, spec.before, spec.bare, after, unless, gap_unless
        )

    def _missing(
        self,
        concept: str,
        where: str,
        before: int,
        bare: int,
        after: int | None,
        unless: str | None,
        gap_unless: str | None,
    ) -> list[Rule]:
        """Rules for "the records do not show ``concept``", in its three word orders.

        ``gap_unless`` matches words that may not stand between the negation and the
        concept ("no evidence of aberrant behaviour on the urine drug screens" reports a
        screen).
        """
        f = self.frag
        gap_before, words = f.gap(before), f.words(bare)
        if gap_unless:
            gap_before = rf"(?:(?!{f['BREAK']}|{gap_unless})[^.;:]){{0,{before}}}?"
            words = rf"(?:(?!{gap_unless})[\w'/-]+,?\s+){{0,{bare}}}?"
        concept = rf"\b(?:{concept})(?!\w)"
        rules = [
            self.rule(f["NEG_RECORD"] + gap_before + concept, where, unless=unless),
            self.rule(f["NEG_BARE"] + words + concept, where, unless=unless),
        ]
        if after is not None:
            # "..., which is not documented" refers to the clause before, not the concept
            # (unless it follows the concept at once: "the 4 A's, which were not addressed").
            gap_after = rf"(?:,?\s+which\s+|(?:(?!{f['BREAK']}|\bwhich\b)[^.;:]){{0,{after}}}?)"
            # "Medical necessity of the requested urine drug screen has not been
            # established" is the conclusion about the request, not a missing record.
            conclusion = r"\bmedical(?:ly)?\s+necess"
            rules.append(
                self.rule(
                    concept + gap_after + rf"(?:{f['NOT_SHOWN']})",
                    where,
                    unless=f"{unless}|{conclusion}" if unless else conclusion,
                )
            )
        return rules


@lru_cache(maxsize=1)
def compiled_rules() -> CompiledRules:
    """The rules file compiled, once per process, on first use."""
    data = reason_data()
    comp = _Compiler(data)
    by_spec: dict[str, list[list[Rule]]] = {}
    for name, cat in data.categories.items():
        by_spec[name] = [
            comp.spec(spec, f"categories.{name}.rules[{i}]") for i, spec in enumerate(cat.rules)
        ]
    rules = {name: [r for group in groups for r in group] for name, groups in by_spec.items()}
    return CompiledRules(rules=rules, by_spec=by_spec)


def __getattr__(name: str) -> object:
    # ``RULES`` (category -> compiled rules) is built on first use, not at import.
    if name == "RULES":
        return compiled_rules().rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- applying them -------------------------------------------------------------------------

_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|Dr|vs|No|approx|etc|Inc|p|pp)\.)$", re.IGNORECASE)


def sentences(nt: NormalizedText, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Sentence ranges of ``flat[start:end]``.

    Splits after ., ! or ? followed by a space and a capital, and also where PDF
    extraction fused two sentences ("framework.According", sample 001).
    """
    text = nt.flat
    boundary = re.compile(
        r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(]?[A-Z0-9])|(?<=[a-z]{3}[.])(?=[A-Z][a-z])"
    )
    pos = start
    for m in boundary.finditer(text, start, end):
        if _ABBREV.search(text[max(pos, m.start() - 8) : m.start()]):
            continue
        a, b = pos, m.start()
        if text[a:b].strip():
            yield _trim(text, a, b)
        pos = m.end()
    if text[pos:end].strip():
        yield _trim(text, pos, end)


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] == " ":
        a += 1
    while b > a and text[b - 1] == " ":
        b -= 1
    return a, b


def label_reasons(nt: NormalizedText, start: int, end: int, decision: str) -> list[Reason]:
    """Reason categories for the rationale ``flat[start:end]`` of an item."""
    side = OVERTURNED if decision == OVERTURNED else UPHELD
    rules = compiled_rules().rules
    sents = list(sentences(nt, start, end))
    found: list[Reason] = []
    for cat in categories(side):
        hit = _first_hit(nt.flat, sents, rules[cat])
        if hit is not None:
            a, b = hit
            quote, span = nt.field(a, b)
            found.append(Reason(category=cat, quote=quote, start=span.start, end=span.end))
    found.sort(key=lambda r: r.start)
    return found


def _first_hit(
    text: str, sents: list[tuple[int, int]], rules: list[Rule]
) -> tuple[int, int] | None:
    for rule in rules:
        for a, b in sents:
            if rule.matches(text, a, b):
                return a, b
    return None
