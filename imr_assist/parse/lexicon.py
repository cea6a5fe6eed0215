"""The treatment lexicon: drug brands, generic names and services, and how to find them.

The data lives in ``imr_assist/data/lexicon.json``; this module only loads and matches it.

Naming rule (one rule for the whole file):

- every **brand** is its own entry, with the brand as canonical ("Norco", "Vicodin",
  "Zanaflex"); brands that share an active ingredient share the ``generic`` string;
- every **generic name** is its own entry, whose canonical is the generic with its first
  letter capitalised ("Tizanidine", "Hydrocodone/acetaminophen", "Lidocaine patch");
- a generic name is never an alias of a brand entry, and a surface form belongs to exactly
  one entry. So "Tizanidine 4 mg #30" is Tizanidine and "Zanaflex 4mg" is Zanaflex, both
  with generic "tizanidine", and ``same_generic`` links them;
- drug classes are narrow ("antispasticity agent" for tizanidine and baclofen); the
  ``groups`` table maps question words to one or more classes ("muscle relaxants" ->
  muscle relaxant and antispasticity agent).

Matching works on tokens (runs of letters, runs of digits, and the signs ``# & % +``), so
it is whole-word by construction: "Soma" is not found in "somatic", while "Norco10/325"
still starts with the token "norco" and "Tylenol 325mg" is not "Tylenol 3". It is
case-insensitive, except for the few ``exact_case_aliases`` ("PT", "OT", "TENS", "E/M")
that are everyday words or other abbreviations in lower case. Between the words of an alias
the text may have any run of spaces, line breaks, hyphens, dashes, slashes, dots or
apostrophes ("physical-therapy", "hydrocodone / acetaminophen", "Tylenol No. 3"); a word
fused from a multi-word alias ("physicaltherapy", "xray") matches too, as PDF text fuses
words. Before a dosage-form word a per-cent strength may intervene ("Lidocaine 5% patch"
is the alias "lidocaine patch"). The last word of an alias may be plural ("MRIs",
"injections", "patches", "therapies").

Why tokens and not one big regular expression: a longest-first alternation of the ~1,500
surface forms took about a second to compile and milliseconds per search in CPython's
``re``; even compiled as a character trie it took 100-200 ms to build. A trie of tokens
builds in a few milliseconds and finds a treatment in a few microseconds. Longest match
wins at each position, and ``find`` takes the earliest position.

``stop_phrases`` in the data contain a treatment or group word but name neither: in
"morphine equivalent dose" there is no morphine, and a reviewer board-certified in
"Physical Medicine & Rehabilitation" or "Orthopaedic Surgery" is not a request for physical
medicine or surgery. They are matched like aliases (a longer alias still wins) and report
nothing.

``compounds`` in the data describe how ``find`` reads a compounded topical: two or more
drug ingredients in a list ("Flurbiprofen 10%, Cyclobenzaprine 3%, Gabapentin 6%,
Lidocaine 5%/Dextromethorphan", "Gabapentin/Amitriptyline/Bupivacaine cream"), with a
per-cent strength, a topical entry among them, or a topical form word after them, are one
compounded topical, not their first ingredient; the match spans the list and
``LexiconMatch.ingredients`` names them. ``ingredients`` there are words met only inside
compounds (dextromethorphan, camphor, bupivacaine). One oral drug written with a per-cent
strength or a topical form word ("Ketoprofen 20%", "Gabapentin 10% cream", "Diclofenac
sodium 3%") is read as its topical form (``topical_forms``, by generic) or else as the
compounded topical. Only oral-style lists with "mg" stop a list ("Naproxen 550mg,
omeprazole 20mg" is naproxen).

``session_readings`` name a surface form that means another entry when the treatment
string counts sessions or gives a frequency: "Ultrasound 1 times 8" in a chiropractic
plan is therapeutic ultrasound, "Ultrasound of the right knee" is imaging.

In ``groups`` a class may be written ``kind:drug`` or ``kind:service``: every class of
that kind, so "medication requests" means every drug class in the file. Every class a
group names must be some entry's class; the loader refuses the file otherwise.

``find`` (one treatment string) also has a fuzzy fallback: when no exact match starts in
the first four words, a word of five or more letters within one edit (insertion, deletion,
substitution or swap of neighbours) of a one-word alias with the same first letter is
accepted ("Norcco", "Tizanadine", "Gabapentine"). ``find_all`` (questions) has none: in
free text it finds too many false friends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

__all__ = ["DEFAULT_PATH", "Lexicon", "LexiconEntry", "LexiconMatch", "alias_key", "get_lexicon"]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "lexicon.json"

KINDS = ("drug", "service")

# Words of a treatment string within which an exact match must start before the fuzzy
# fallback is tried: names come first ("Norco 10/325mg #60", "Lumbar epidural steroid
# injection L4-L5", "28 day functional restoration program").
_FUZZY_WORD_WINDOW = 4
_FUZZY_MIN_LEN = 5

_TOKEN = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?|[#&%+]")
# What may stand between two words of one alias.
_GAP = re.compile(r"[\s\-/\u2010-\u2013.'\u2019]*")
_WORD = re.compile(r"\S+")
# A per-cent strength may stand before these words: "diclofenac 1% gel".
_FORM_WORDS = frozenset(
    "patch patches cream gel ointment lotion solution film spray topical transdermal".split()
)


@dataclass(frozen=True)
class LexiconEntry:
    """One drug brand, generic name or service."""

    canonical: str
    kind: str
    generic: str | None
    drug_class: str | None
    aliases: tuple[str, ...]

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """Canonical name first, then the aliases."""
        return (self.canonical, *self.aliases)


@dataclass(frozen=True)
class LexiconMatch:
    """An entry found in a text; ``start``/``end`` are offsets into the searched text."""

    entry: LexiconEntry
    start: int
    end: int
    surface: str
    fuzzy: bool = field(default=False, compare=False)
    # A compounded topical: its ingredients' generics (or ingredient words), in order.
    ingredients: tuple[str, ...] = field(default=(), compare=False)


def alias_key(alias: str) -> str:
    """Comparison key of a surface form: its tokens, case folded, joined without spaces.

    Two aliases with the same key match the same texts, so the data integrity test uses it
    to check that no surface form belongs to two entries.
    """
    return "".join(_tokens_of(alias.casefold()))


def _tokens_of(text: str) -> list[str]:
    return _TOKEN.findall(text)


class _Node:
    """A token trie node; ``terminal`` is the alias index of an alias ending here."""

    __slots__ = ("children", "terminal")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.terminal: int | None = None


def _singulars(token: str) -> tuple[str, ...]:
    """Possible singular forms of a plural token ("mris", "patches", "therapies").

    Singulars shorter than three letters are not tried: "CTS" is carpal tunnel syndrome,
    not CT scans.
    """
    if len(token) < 4 or not token.endswith("s") or not token.isalpha():
        return ()
    forms = [token[:-1]]
    if token.endswith("es") and len(token) >= 5:
        forms.append(token[:-2])
    if token.endswith("ies") and len(token) >= 5:
        forms.append(token[:-3] + "y")
    return tuple(forms)


class _Tok(NamedTuple):
    text: str  # as written
    low: str  # case folded
    start: int
    end: int


class _TokenTrie:
    """Aliases as token sequences; finds the longest alias starting at a token."""

    def __init__(self, case_sensitive: bool = False) -> None:
        self.root = _Node()
        self.case_sensitive = case_sensitive

    def add(self, alias: str, idx: int, fused: bool) -> None:
        tokens = _tokens_of(alias if self.case_sensitive else alias.casefold())
        if not tokens:
            return
        self._insert(tokens, idx)
        # PDF text fuses words: "physicaltherapy", "xray" for "x-ray".
        if fused and len(tokens) > 1 and all(t.isalpha() for t in tokens):
            self._insert(["".join(tokens)], idx)

    def _insert(self, tokens: list[str], idx: int) -> None:
        node = self.root
        for tok in tokens:
            node = node.children.setdefault(tok, _Node())
        if node.terminal is None:  # a duplicate surface form keeps its first entry
            node.terminal = idx

    def longest_at(self, text: str, toks: Sequence[_Tok], i: int) -> tuple[int, int] | None:
        """``(last token index, alias index)`` of the longest alias starting at ``toks[i]``."""
        node = self.root
        best: tuple[int, int] | None = None
        j = i
        n = len(toks)
        while j < n:
            tok = toks[j]
            if j > i and not _GAP.fullmatch(text, toks[j - 1].end, tok.start):
                break
            key = tok.text if self.case_sensitive else tok.low
            for singular in _singulars(key):
                child = node.children.get(singular)
                if child is not None and child.terminal is not None:
                    best = (j, child.terminal)
            child = node.children.get(key)
            if child is None:
                # "lidocaine 5% patch": skip a strength before a dosage-form word.
                if (
                    j > i
                    and j + 2 < n
                    and key[0].isdigit()
                    and toks[j + 1].text == "%"
                    and toks[j + 2].low in _FORM_WORDS
                    and toks[j + 2].low in node.children
                ):
                    j += 2
                    continue
                break
            node = child
            if node.terminal is not None:
                best = (j, node.terminal)
            j += 1
        return best


_SAID_TOPICAL = re.compile(
    r"\b(?:topical\w*|creams?|ointments?|patch(?:es)?|gels?|lotions?|rubs?)\b", re.I
)
_SAID_ORAL = re.compile(
    r"\b(?:oral\w*|suspensions?|liquids?|tablets?|pills?|capsules?|by\s+mouth)\b", re.I
)


def _of_the_form_said(text: str, classes: tuple[str, ...]) -> tuple[str, ...]:
    """The classes of a group word that fit the one form a question speaks of: "the
    compounds" among "topical creams, ointments and patches" are compounded topicals,
    not compounded oral suspensions."""
    topical = [c for c in classes if "topical" in c]
    oral = [c for c in classes if "oral" in c]
    if not (topical and oral):
        return classes
    said_topical, said_oral = _SAID_TOPICAL.search(text), _SAID_ORAL.search(text)
    if said_topical and not said_oral:
        return tuple(c for c in classes if c not in oral)
    if said_oral and not said_topical:
        return tuple(c for c in classes if c not in topical)
    return classes


def _tokenize(text: str) -> list[_Tok]:
    return [
        _Tok(m.group(0), m.group(0).casefold(), m.start(), m.end()) for m in _TOKEN.finditer(text)
    ]


def _within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (a swap of neighbours counts)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    if la > lb:
        a, b = b, a
    # b is one longer: deleting one of its characters must give a.
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


_STOP = -1  # alias index of a stop phrase

# Between the ingredients of a compound: spaces and list signs ("10%, ", "5%/", " + ").
_LIST_GAP = re.compile(r"[\s,/\-+&;:()\u2010-\u2013.]*")
_LIST_WORDS = frozenset({"and", "with", "plus"})
# Words after (or before) a drug that make it a topical: "Gabapentin 10% cream".
_TOPICAL_WORDS = frozenset(
    "cream creams gel gels ointment lotion topical transdermal compound compounded liniment "
    "balm".split()
)
# A treatment string that counts sessions or gives a frequency ("1 times 8", "2x4",
# "twice a week", "six sessions").
_SESSIONS = re.compile(
    r"\b\d+\s*(?:x|times)\s*\d+|\b(?:times|x)\s*(?:a|per)\s*week|\bweekly\b|"
    r"\btwice\b|\bsessions?\b|\bvisits?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _CompoundRule:
    entry: LexiconEntry  # what a compound is read as
    ingredient_words: tuple[str, ...]
    topical_forms: Mapping[str, LexiconEntry]  # generic -> its topical entry
    topical_classes: frozenset[str]


class _Matcher:
    """A case-insensitive and an exact-case token trie over one alias table.

    Stop phrases are matched like aliases, longest wins, but report nothing: they consume
    "morphine equivalent dose" so that "morphine" in it is not the drug.
    """

    def __init__(
        self,
        aliases: Sequence[str],
        exact_case: Sequence[bool],
        fused: bool,
        stop_phrases: Sequence[str] = (),
    ) -> None:
        self.folded = _TokenTrie()
        self.exact = _TokenTrie(case_sensitive=True)
        for idx, alias in enumerate(aliases):
            if exact_case[idx]:
                self.exact.add(alias, idx, fused=False)
            else:
                self.folded.add(alias, idx, fused=fused)
        # After the aliases, so an alias identical to a stop phrase keeps winning.
        for phrase in stop_phrases:
            self.folded.add(phrase, _STOP, fused=False)

    def at(self, text: str, toks: Sequence[_Tok], i: int) -> tuple[int, int] | None:
        a = self.folded.longest_at(text, toks, i)
        b = self.exact.longest_at(text, toks, i)
        if a is None or (b is not None and b[0] > a[0]):
            return b
        return a

    def first(self, text: str, toks: Sequence[_Tok]) -> tuple[int, int, int] | None:
        """``(first token, last token, alias index)`` of the earliest match."""
        i = 0
        while i < len(toks):
            hit = self.at(text, toks, i)
            if hit is None:
                i += 1
            elif hit[1] == _STOP:
                i = hit[0] + 1
            else:
                return i, hit[0], hit[1]
        return None

    def all(self, text: str, toks: Sequence[_Tok]) -> list[tuple[int, int, int]]:
        """Every non-overlapping match, earliest first, each the longest at its start."""
        out = []
        i = 0
        while i < len(toks):
            hit = self.at(text, toks, i)
            if hit is None:
                i += 1
                continue
            if hit[1] != _STOP:
                out.append((i, hit[0], hit[1]))
            i = hit[0] + 1
        return out


class Lexicon:
    """Entries, class groups and the matchers over them."""

    def __init__(
        self,
        entries: Iterable[LexiconEntry],
        groups: Mapping[str, Sequence[str]] | None = None,
        exact_case_aliases: Iterable[str] = (),
        stop_phrases: Iterable[str] = (),
        compounds: _CompoundRule | None = None,
        session_readings: Mapping[str, LexiconEntry] | None = None,
    ) -> None:
        self.entries: tuple[LexiconEntry, ...] = tuple(entries)
        self.groups: dict[str, tuple[str, ...]] = {
            word: tuple(classes) for word, classes in (groups or {}).items()
        }
        exact = set(exact_case_aliases)
        self.stop_phrases: tuple[str, ...] = tuple(stop_phrases)

        # Alias table: one row per surface form, in file order.
        self._alias_text: list[str] = []
        self._alias_entry: list[LexiconEntry] = []
        exact_flags: list[bool] = []
        for entry in self.entries:
            for surface in entry.surface_forms:
                self._alias_text.append(surface)
                self._alias_entry.append(entry)
                exact_flags.append(surface in exact)
        self._matcher = _Matcher(
            self._alias_text, exact_flags, fused=True, stop_phrases=self.stop_phrases
        )

        self._group_words = list(self.groups)
        # Group words are matched as written: "anti-inflammatories" is not a fused word.
        self._group_matcher = _Matcher(
            self._group_words,
            [False] * len(self._group_words),
            fused=False,
            stop_phrases=self.stop_phrases,
        )

        self._by_canonical = {e.canonical.casefold(): e for e in self.entries}

        self._compounds = compounds
        self._ingredient_trie = _TokenTrie()
        if compounds is not None:
            for n, word in enumerate(compounds.ingredient_words):
                self._ingredient_trie.add(word, n, fused=False)
        # Alias rows whose reading changes when the string counts sessions.
        readings = {alias_key(a): e for a, e in (session_readings or {}).items()}
        self._session_target: dict[int, LexiconEntry] = {
            idx: readings[alias_key(a)]
            for idx, a in enumerate(self._alias_text)
            if alias_key(a) in readings
        }

        # Fuzzy index (symmetric deletion): one-word alphabetic aliases of five letters or
        # more, under themselves and under each of their one-letter deletions.
        self._fuzzy_index: dict[str, set[int]] = {}
        for idx, surface in enumerate(self._alias_text):
            word = surface.casefold()
            if exact_flags[idx] or len(word) < _FUZZY_MIN_LEN or not word.isalpha():
                continue
            for key in {word} | _deletions(word):
                self._fuzzy_index.setdefault(key, set()).add(idx)

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Lexicon:
        """Build from the parsed JSON document; raises ``ValueError`` on malformed data."""
        raw_entries = data.get("entries")
        if not isinstance(raw_entries, list):
            raise ValueError("lexicon: 'entries' must be a list")
        entries = []
        exact: list[str] = []
        for i, raw in enumerate(raw_entries):
            if not isinstance(raw, dict):
                raise ValueError(f"lexicon: entry {i} is not an object")
            canonical = raw.get("canonical")
            kind = raw.get("kind")
            if not isinstance(canonical, str) or not canonical.strip():
                raise ValueError(f"lexicon: entry {i} has no canonical name")
            if kind not in KINDS:
                raise ValueError(f"lexicon: {canonical!r} has kind {kind!r}")
            aliases = [str(a) for a in raw.get("aliases") or []]
            exact_aliases = [str(a) for a in raw.get("exact_case_aliases") or []]
            exact.extend(exact_aliases)
            entries.append(
                LexiconEntry(
                    canonical=canonical,
                    kind=kind,
                    generic=raw.get("generic") or None,
                    drug_class=raw.get("class") or None,
                    aliases=tuple(aliases + exact_aliases),
                )
            )
        by_canonical = {e.canonical.casefold(): e for e in entries}
        kind_classes = {
            k: list(dict.fromkeys(e.drug_class for e in entries if e.kind == k and e.drug_class))
            for k in KINDS
        }
        known_classes = {c for cs in kind_classes.values() for c in cs}
        raw_groups = data.get("groups", {})
        if not isinstance(raw_groups, dict):
            raise ValueError("lexicon: 'groups' must be an object")
        groups: dict[str, list[str]] = {}
        for word, classes in raw_groups.items():
            if not isinstance(classes, list) or not classes:
                raise ValueError(f"lexicon: group {word!r} must list one or more classes")
            expanded: list[str] = []
            for c in map(str, classes):
                if c.startswith("kind:"):
                    if c[5:] not in KINDS:
                        raise ValueError(f"lexicon: group {word!r} names {c!r}; use kind:drug")
                    expanded.extend(kind_classes[c[5:]])
                elif entries and c not in known_classes:
                    raise ValueError(f"lexicon: group {word!r} names {c!r}, no entry's class")
                else:
                    expanded.append(c)
            groups[str(word)] = list(dict.fromkeys(expanded))
        raw_stop = data.get("stop_phrases", [])
        if not isinstance(raw_stop, list):
            raise ValueError("lexicon: 'stop_phrases' must be a list")

        def entry_named(name: object, where: str) -> LexiconEntry:
            e = by_canonical.get(str(name).casefold())
            if e is None:
                raise ValueError(f"lexicon: {where} names {name!r}, which is no entry")
            return e

        compounds = None
        raw_comp = data.get("compounds")
        if raw_comp is not None:
            if not isinstance(raw_comp, dict):
                raise ValueError("lexicon: 'compounds' must be an object")
            topical_classes = frozenset(str(c) for c in raw_comp.get("topical_classes") or [])
            forms = {}
            for generic, name in (raw_comp.get("topical_forms") or {}).items():
                target = entry_named(name, f"compounds.topical_forms[{generic!r}]")
                if target.drug_class not in topical_classes:
                    raise ValueError(f"lexicon: topical form {name!r} is not in a topical class")
                forms[str(generic)] = target
            compounds = _CompoundRule(
                entry=entry_named(raw_comp.get("entry"), "compounds.entry"),
                ingredient_words=tuple(str(w) for w in raw_comp.get("ingredients") or []),
                topical_forms=forms,
                topical_classes=topical_classes,
            )
        surface_keys = {alias_key(f) for e in entries for f in e.surface_forms}
        raw_readings = data.get("session_readings") or {}
        if not isinstance(raw_readings, dict):
            raise ValueError("lexicon: 'session_readings' must be an object")
        readings = {}
        for surface, name in raw_readings.items():
            if alias_key(str(surface)) not in surface_keys:
                raise ValueError(f"lexicon: session reading {surface!r} is no entry's alias")
            readings[str(surface)] = entry_named(name, f"session_readings[{surface!r}]")
        return cls(entries, groups, exact, [str(p) for p in raw_stop], compounds, readings)

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        """Load a lexicon file (default: the packaged one); cached per path."""
        return _load_cached(str(Path(path).resolve() if path else DEFAULT_PATH))

    # ------------------------------------------------------------------ matching

    def _make(
        self, text: str, toks: Sequence[_Tok], first: int, last: int, idx: int
    ) -> LexiconMatch:
        start, end = toks[first].start, toks[last].end
        return LexiconMatch(self._alias_entry[idx], start, end, text[start:end])

    def find(self, text: str) -> LexiconMatch | None:
        """The treatment a treatment string names: earliest match, longest at that position.

        If no exact match starts within the first four words, a one-edit misspelling of a
        one-word name in those words is taken instead.
        """
        toks = _tokenize(text)
        hit = self._matcher.first(text, toks)
        compound = self._find_compound(text, toks, hit[0] if hit else len(toks))
        if compound is not None:
            return compound
        window_end = len(text)
        for n, w in enumerate(_WORD.finditer(text)):
            if n == _FUZZY_WORD_WINDOW - 1:
                window_end = w.end()
                break
        if hit is not None and toks[hit[0]].start < window_end:
            return self._read_sessions(text, self._make(text, toks, *hit), hit[2])
        fuzzy = self._find_fuzzy(toks, window_end)
        if fuzzy is not None:
            return fuzzy
        return self._read_sessions(text, self._make(text, toks, *hit), hit[2]) if hit else None

    def _read_sessions(self, text: str, m: LexiconMatch, idx: int) -> LexiconMatch:
        target = self._session_target.get(idx)
        if target is None or not _SESSIONS.search(text):
            return m
        return LexiconMatch(target, m.start, m.end, m.surface)

    # ------------------------------------------------------------------ compounds

    def _ingredient_at(
        self, text: str, toks: Sequence[_Tok], i: int
    ) -> tuple[int, str, LexiconEntry | None] | None:
        """``(last token, label, entry)`` of a drug or ingredient word at ``toks[i]``."""
        hit = self._matcher.at(text, toks, i)
        if hit is not None and hit[1] != _STOP:
            e = self._alias_entry[hit[1]]
            if e.kind == "drug":
                return hit[0], (e.generic or e.canonical).casefold(), e
            return None
        word = self._ingredient_trie.longest_at(text, toks, i)
        if word is not None and self._compounds is not None:
            return word[0], self._compounds.ingredient_words[word[1]].casefold(), None
        return None

    def _strength_end(self, text: str, toks: Sequence[_Tok], j: int) -> int | None:
        """Last token of a per-cent strength starting at ``toks[j]`` ("10%", "4%-27.5%")."""
        end = None
        k = j
        while k < len(toks) and (toks[k].low[0].isdigit() or toks[k].text == "%"):
            if k > j and not _LIST_GAP.fullmatch(text, toks[k - 1].end, toks[k].start):
                break
            if toks[k].text == "%":
                end = k
            k += 1
        return end

    def _find_compound(self, text: str, toks: Sequence[_Tok], limit: int) -> LexiconMatch | None:
        """A compounded topical (or a topical form of one drug) starting before ``limit``."""
        rule = self._compounds
        if rule is None:
            return None
        for i in range(min(limit + 1, len(toks))):
            if self._ingredient_at(text, toks, i) is not None:
                return self._compound_at(text, toks, i, rule)
        return None

    def _compound_at(
        self, text: str, toks: Sequence[_Tok], i: int, rule: _CompoundRule
    ) -> LexiconMatch | None:
        parts: list[tuple[str, LexiconEntry | None, bool]] = []  # label, entry, per-cent
        end = i
        j = i
        n = len(toks)
        while j < n:
            got = self._ingredient_at(text, toks, j)
            if got is None:
                break
            last, label, entry = got
            end = last
            strength = self._strength_end(text, toks, last + 1) if last + 1 < n else None
            if strength is not None:
                end = strength
            parts.append((label, entry, strength is not None))
            j = end + 1
            if j < n and toks[j].low in _LIST_WORDS:
                j += 1
            if j >= n or not _LIST_GAP.fullmatch(text, toks[j - 1].end, toks[j].start):
                break
        form_after = (
            end + 1 < n
            and toks[end + 1].low in _TOPICAL_WORDS
            and _LIST_GAP.fullmatch(text, toks[end].end, toks[end + 1].start) is not None
        )
        form_before = i > 0 and toks[i - 1].low in _TOPICAL_WORDS
        if form_after:
            end += 1
        labels = list(dict.fromkeys(label for label, _, _ in parts))
        start, stop = toks[i].start, toks[end].end
        if len(labels) >= 2:
            topical = (
                form_after
                or form_before
                or any(p for _, _, p in parts)
                or any(e is not None and e.drug_class in rule.topical_classes for _, e, _ in parts)
            )
            if topical:
                return LexiconMatch(
                    rule.entry, start, stop, text[start:stop], ingredients=tuple(labels)
                )
            return None
        label, entry, pct = parts[0]
        if entry is not None and entry.drug_class in rule.topical_classes:
            return None  # already a topical: "Lidocaine 5%", "LidoPro 4%-27.5%"
        if not (pct or form_after):
            return None
        target = rule.topical_forms.get(label, rule.entry)
        return LexiconMatch(target, start, stop, text[start:stop], ingredients=(label,))

    def _find_fuzzy(self, toks: Sequence[_Tok], window_end: int) -> LexiconMatch | None:
        for tok in toks:
            if tok.start >= window_end:
                break
            word = tok.low
            if len(word) < _FUZZY_MIN_LEN or not word.isalpha():
                continue
            candidates: set[int] = set()
            for key in {word} | _deletions(word):
                candidates |= self._fuzzy_index.get(key, set())
            # Exactly one edit: a word spelled like an alias that the exact matcher passed
            # over was consumed by a stop phrase ("morphine equivalent dose").
            hits = sorted(
                idx
                for idx in candidates
                if self._alias_text[idx][0].casefold() == word[0]
                and self._alias_text[idx].casefold() != word
                and _within_one_edit(word, self._alias_text[idx].casefold())
            )
            if hits:
                entry = self._alias_entry[hits[0]]
                return LexiconMatch(entry, tok.start, tok.end, tok.text, fuzzy=True)
        return None

    def find_all(self, text: str) -> list[LexiconMatch]:
        """Every exact, non-overlapping match in ``text``, in order (for questions)."""
        toks = _tokenize(text)
        return [self._make(text, toks, *hit) for hit in self._matcher.all(text, toks)]

    def classes_for_group_word(self, text: str) -> list[tuple[str, int, int]]:
        """Class-level words in a question, as ``(class, start, end)``, in text order.

        A group word inside a longer treatment name is not a class question:
        "injections" in "epidural steroid injections" or "surgery" in "spine surgery
        consultation" ask about that treatment, which ``find_all`` reports.
        """
        toks = _tokenize(text)
        spans = [(m.start, m.end) for m in self.find_all(text)]
        found: list[tuple[int, int, tuple[str, ...]]] = []
        for first, last, idx in self._group_matcher.all(text, toks):
            s, e = toks[first].start, toks[last].end
            if any(a <= s and e <= b and b - a > e - s for a, b in spans):
                continue
            found.append((s, e, self.groups[self._group_words[idx]]))
        # "topical medication", "opioid drugs": the broad word next to a narrower one is
        # its head noun, not a second class asked for.
        out: list[tuple[str, int, int]] = []
        for s, e, classes in found:
            if any(
                set(other) < set(classes) and text[min(e, e2) : max(s, s2)].strip(" -") == ""
                for s2, e2, other in found
            ):
                continue
            out.extend((cls, s, e) for cls in _of_the_form_said(text, classes))
        return out

    # ------------------------------------------------------------------ look-ups

    def entries_for_class(self, drug_class: str) -> list[LexiconEntry]:
        """Entries of one drug class or service category (case-insensitive), in file order."""
        wanted = drug_class.casefold()
        return [e for e in self.entries if e.drug_class and e.drug_class.casefold() == wanted]

    def by_canonical(self, name: str) -> LexiconEntry | None:
        """The entry with this canonical name (case-insensitive), if any."""
        return self._by_canonical.get(name.strip().casefold())

    def same_generic(self, entry: LexiconEntry) -> list[LexiconEntry]:
        """Entries sharing ``entry``'s generic (brands and the generic entry), in file order.

        An entry without a generic (services, medical foods) is related only to itself.
        """
        if not entry.generic:
            return [entry]
        wanted = entry.generic.casefold()
        return [e for e in self.entries if e.generic and e.generic.casefold() == wanted]

    @property
    def classes(self) -> list[str]:
        """Every drug class and service category, in order of first appearance."""
        return list(dict.fromkeys(e.drug_class for e in self.entries if e.drug_class))


@lru_cache(maxsize=8)
def _load_cached(path: str) -> Lexicon:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"lexicon: {path} does not hold a JSON object")
    return Lexicon.from_data(data)


def get_lexicon() -> Lexicon:
    """The process-wide lexicon loaded from the packaged data file."""
    return Lexicon.load()
