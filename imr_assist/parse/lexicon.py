"""The treatment lexicon: drug brands, generic names and services, and how to find them.

The data lives in ``imr_assist/data/lexicon.json``; this module only loads and matches it.

Naming rule (one rule for the whole file):

- every **brand** is its own entry, with the brand as canonical ("Norco", "Vicodin",
  "Zanaflex"); brands that share an active ingredient share the ``generic`` string;
- every **generic name** is its own entry, whose canonical is the generic with its first
  letter capitalised ("Tizanidine", "Hydrocodone/acetaminophen", "Lidocaine patch");
- a generic name is never an alias of a brand entry, and a surface form belongs to exactly
  one entry. So "Tizanidine 4 mg #30" is Tizanidine and "Zanaflex 4mg" is Zanaflex, both
  with generic "tizanidine"; ``same_generic`` links them.
- drug classes are narrow ("antispasticity agent" for tizanidine and baclofen); the
  ``groups`` table maps question words to one or more classes ("muscle relaxants" ->
  muscle relaxant and antispasticity agent).

Matching is case-insensitive and whole-word ("Soma" is not found in "somatic"), except for
the few ``exact_case_aliases`` ("PT", "OT", "TENS", "E/M") that are also everyday words or
abbreviations in lower case. Between the words of an alias any run of spaces, line breaks,
hyphens or slashes is accepted, or none at all (PDF text fuses words), and so is a strength
in per cent ("lidocaine 5% patch" matches the alias "lidocaine patch"). A digit may follow a
name directly ("Norco10/325"), and aliases ending in a letter also match plural forms
("MRIs", "injections", "patches").

All aliases are compiled into one regular expression, built as a trie of characters so
that the engine only explores aliases that share the text's prefix; at each trie node
longer continuations are tried before stopping, so the longest alias wins at a given
position. A plain alternation of ~1,400 aliases took a second to compile and milliseconds
per search; the trie compiles in tens of milliseconds and searches in microseconds. Each
alias ends with an empty capturing group, and ``match.lastindex`` names the alias found.

``find`` (one treatment string) also tries a fuzzy fallback: when no exact match starts in
the first four words, a word of five or more letters within edit distance 1 of a one-word
alias with the same first letter is accepted ("Norcco", "Tizanadine", "Gabapentine").
Questions (``find_all``) get no fuzzy matching: in free text it finds too many false friends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["Lexicon", "LexiconEntry", "LexiconMatch", "get_lexicon", "DEFAULT_PATH"]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "lexicon.json"

KINDS = ("drug", "service")

# Words in a treatment string within which an exact match must start before the fuzzy
# fallback is tried: drug and service names come first ("Norco 10/325mg #60", "Lumbar
# epidural steroid injection L4-L5", "28 day functional restoration program").
_FUZZY_WORD_WINDOW = 4
_FUZZY_MIN_LEN = 5

# Between the words of an alias: spaces, line breaks, hyphens, dashes, slashes, or nothing.
_SEP = r"[-\s/\u2010-\u2013]*"
# Before a dosage-form word a per-cent strength may come too: "lidocaine 5% patch" is the
# alias "lidocaine patch", "diclofenac 1% gel" is "diclofenac gel". Only there, because every
# separator adds to the compiled pattern and its compile time.
_SEP_STRENGTH = _SEP + r"(?:\d+(?:\.\d+)?\s*%" + _SEP + ")?"
_FORM_WORDS = frozenset(
    "patch patches cream gel ointment lotion solution film spray topical transdermal".split()
)
# Not preceded by a letter or digit (Unicode-aware).
_START = r"(?<![^\W_])"
# After every alias, whatever its last character:
# - a letter: an optional plural ending ("MRIs", "MRI's", "patches"), then no letter, so
#   "Soma" is not found in "somatic" but "Norco10/325" is still Norco;
# - a digit: no letter or digit ("Tylenol 3" must not match the start of "Tylenol 325mg");
# - anything else (a per-cent sign, a dot): no constraint.
# One shared tail keeps the compiled pattern small; if it fails after the longest alias the
# engine backtracks into the trie and tries shorter ones.
_TAIL_PLURAL = (
    r"(?:(?<=[^\W\d_])(?:'?s|es)?(?![^\W\d_])|(?<=\d)(?![^\W_])|(?<![^\W_]))"
)
_TAIL = r"(?:(?<=[^\W\d_])(?![^\W\d_])|(?<=\d)(?![^\W_])|(?<![^\W_]))"
_SPLIT = re.compile(r"[\s/\-\u2010-\u2013]+")
_WORD = re.compile(r"\S+")
_ALPHA_TOKEN = re.compile(r"[^\W\d_]+")


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


@dataclass
class _TrieNode:
    children: dict[str, _TrieNode] = field(default_factory=dict)
    terminal: int | None = None  # index into the alias table
    depth: int = 0  # longest path below this node, to try long continuations first


def alias_key(alias: str) -> str:
    """Comparison key of a surface form: case folded, separators, dots and quotes removed.

    Two aliases with the same key match the same texts, so the data integrity test uses it
    to check that no surface form belongs to two entries.
    """
    return re.sub(r"[\s/\-\u2010-\u2013.'\u2019]+", "", alias.casefold())


def _char_unit(ch: str) -> str:
    """Regex for one character of an alias."""
    if ch == ".":
        return r"\.?"  # "no. 3" and "no 3"
    if ch == "#":
        return r"\#\s*"  # "#3" and "# 3"
    if ch == "&":
        return r"\s*&\s*"  # "E&M" and "E & M"
    if ch in "'\u2019":
        return "['\u2019]?"  # "Quervain's", "Quervain’s", "Quervains"
    return re.escape(ch)


def _alias_units(alias: str) -> list[str]:
    """Regex units of an alias: one per character, a separator between words."""
    words = [w for w in _SPLIT.split(alias.strip()) if w]
    units: list[str] = []
    for i, word in enumerate(words):
        if i:
            units.append(_SEP_STRENGTH if word.casefold() in _FORM_WORDS else _SEP)
        units.extend(_char_unit(ch) for ch in word)
    return units


def _plural_variants(alias: str) -> list[str]:
    """Spellings to index besides the alias: "therapy" also as "therapies"."""
    a = alias.strip()
    if len(a) > 2 and a[-1] in "yY" and a[-2].isalpha() and a[-2].lower() not in "aeiou":
        return [a[:-1] + ("IES" if a[-1] == "Y" else "ies")]
    return []


def _build_regex(
    aliases: Sequence[str], exact_case: Sequence[bool], plurals: bool
) -> tuple[re.Pattern[str], list[int]]:
    """Compile all aliases into one trie-shaped, case-insensitive regex.

    Returns the pattern and, per capturing group number, the alias index it marks.
    """
    root = _TrieNode()
    exact: list[int] = []
    for idx, alias in enumerate(aliases):
        if exact_case[idx]:
            exact.append(idx)
            continue
        spellings = [alias, *(_plural_variants(alias) if plurals else [])]
        for spelling in spellings:
            node = root
            for unit in _alias_units(spelling.casefold()):
                node = node.children.setdefault(unit, _TrieNode())
            if node.terminal is None:  # a duplicate surface form keeps its first entry
                node.terminal = idx

    def set_depth(node: _TrieNode) -> int:
        node.depth = max((1 + set_depth(c) for c in node.children.values()), default=0)
        return node.depth

    set_depth(root)
    group_alias: list[int] = [-1]  # group 0 is the whole match

    def emit(node: _TrieNode) -> str:
        alts = []
        # Deeper subtrees first, stopping here last: the longest alias should win.
        for unit, child in sorted(node.children.items(), key=lambda kv: -kv[1].depth):
            alts.append(unit + emit(child))
        if node.terminal is not None:
            group_alias.append(node.terminal)
            alts.append("()")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    parts = [emit(root)] if root.children else []
    for idx in exact:
        group_alias.append(idx)
        parts.append("(?-i:" + "".join(_alias_units(aliases[idx])) + ")()")
    if not parts:
        return re.compile(r"(?!)"), group_alias
    tail = _TAIL_PLURAL if plurals else _TAIL
    source = _START + "(?:" + "|".join(parts) + ")" + tail
    return re.compile(source, re.IGNORECASE), group_alias


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (adjacent transposition counts)."""
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
    # b is one longer: deleting one character of b must give a.
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Lexicon:
    """Entries, class groups and the compiled matchers over them."""

    def __init__(
        self,
        entries: Iterable[LexiconEntry],
        groups: Mapping[str, Sequence[str]] | None = None,
        exact_case_aliases: Iterable[str] = (),
    ) -> None:
        self.entries: tuple[LexiconEntry, ...] = tuple(entries)
        self.groups: dict[str, tuple[str, ...]] = {
            word: tuple(classes) for word, classes in (groups or {}).items()
        }
        exact = set(exact_case_aliases)

        # Alias table: one row per surface form, in file order.
        self._alias_text: list[str] = []
        self._alias_entry: list[LexiconEntry] = []
        exact_flags: list[bool] = []
        for entry in self.entries:
            for surface in entry.surface_forms:
                self._alias_text.append(surface)
                self._alias_entry.append(entry)
                exact_flags.append(surface in exact)
        self._rx, self._rx_groups = _build_regex(self._alias_text, exact_flags, plurals=True)

        words = list(self.groups)
        self._group_rx, self._group_groups = _build_regex(
            words, [False] * len(words), plurals=False
        )
        self._group_words = words

        self._by_canonical = {e.canonical.casefold(): e for e in self.entries}

        # Fuzzy index (symmetric deletion): one-word alphabetic aliases of five letters or
        # more, keyed by themselves and by every one-character deletion.
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
        raw_groups = data.get("groups") or {}
        if not isinstance(raw_groups, dict):
            raise ValueError("lexicon: 'groups' must be an object")
        groups = {str(k): [str(c) for c in v] for k, v in raw_groups.items()}
        return cls(entries, groups, exact)

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        """Load a lexicon file (default: the packaged one); cached per path."""
        return _load_cached(str(Path(path).resolve() if path else DEFAULT_PATH))

    # ------------------------------------------------------------------ matching

    def _match(self, m: re.Match[str]) -> LexiconMatch:
        idx = self._rx_groups[m.lastindex or 0]
        return LexiconMatch(
            entry=self._alias_entry[idx], start=m.start(), end=m.end(), surface=m.group(0)
        )

    def find(self, text: str) -> LexiconMatch | None:
        """The treatment a treatment string names: earliest match, longest at that position.

        If no exact match starts within the first four words, a one-edit misspelling of a
        one-word name in those words is accepted instead.
        """
        m = self._rx.search(text)
        window_end = len(text)
        for n, w in enumerate(_WORD.finditer(text)):
            if n == _FUZZY_WORD_WINDOW - 1:
                window_end = w.end()
                break
        if m is not None and m.start() < window_end:
            return self._match(m)
        fuzzy = self._find_fuzzy(text, window_end)
        if fuzzy is not None:
            return fuzzy
        return self._match(m) if m is not None else None

    def _find_fuzzy(self, text: str, end: int) -> LexiconMatch | None:
        for tok in _ALPHA_TOKEN.finditer(text, 0, end):
            word = tok.group(0).casefold()
            if len(word) < _FUZZY_MIN_LEN:
                continue
            candidates: set[int] = set()
            for key in {word} | _deletions(word):
                candidates |= self._fuzzy_index.get(key, set())
            hits = sorted(
                idx
                for idx in candidates
                if self._alias_text[idx][0].casefold() == word[0]
                and _edit_distance_at_most_one(word, self._alias_text[idx].casefold())
            )
            if hits:
                return LexiconMatch(
                    entry=self._alias_entry[hits[0]],
                    start=tok.start(),
                    end=tok.end(),
                    surface=tok.group(0),
                    fuzzy=True,
                )
        return None

    def find_all(self, text: str) -> list[LexiconMatch]:
        """Every exact, non-overlapping match in ``text``, in order (for questions)."""
        return [self._match(m) for m in self._rx.finditer(text)]

    def classes_for_group_word(self, text: str) -> list[tuple[str, int, int]]:
        """Class-level words in a question, as ``(class, start, end)``, in text order.

        A group word inside a longer treatment name is not a class question:
        "injections" in "epidural steroid injections" or "surgery" in "spine surgery
        consultation" ask about that treatment, which ``find_all`` reports.
        """
        entry_spans = [(m.start, m.end) for m in self.find_all(text)]
        out: list[tuple[str, int, int]] = []
        for m in self._group_rx.finditer(text):
            s, e = m.start(), m.end()
            if any(a <= s and e <= b and b - a > e - s for a, b in entry_spans):
                continue
            word = self._group_words[self._group_groups[m.lastindex or 0]]
            out.extend((cls, s, e) for cls in self.groups[word])
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
        """Every class and service category, in order of first appearance."""
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
