"""Is a sentence backed by the excerpts it cites? A lexical check, and tolerant quotes.

Why lexical overlap and not an entailment model: the machines this runs on have no
GPU and the answers must be checked in milliseconds, offline. Overlap is also the
right test for what goes wrong here. A small model asked to write from excerpts
either restates them (its content words are the excerpt's words, with inflections)
or adds something: a drug, a dose, a date or a reason the excerpt does not contain.
Those additions are content words and numbers absent from the cited excerpts, which
is exactly what the check counts. It cannot see a reversed meaning built from the
excerpt's own words; the decision words ("upheld", "medically necessary") are the
common case of that and are checked separately against the cited items' decisions.

The thresholds: every number must appear in a cited excerpt (a wrong dose, date or
count is the costliest error), and at least ``MIN_SUPPORT`` of the other content
words. 0.7 lets a plain-language sentence keep a few words of its own ("agreed",
"explained") while a sentence built around an unsupported claim, which needs two or
more new content words in a sentence of six to twelve, falls below it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: Share of a sentence's content words (numbers aside) its cited excerpts must hold.
MIN_SUPPORT = 0.7

_WORD = re.compile(r"[a-z]+|\d+(?:\.\d+)?")

# Words that carry no claim of their own: English function words, and the frame
# every answer about these letters is written in ("the reviewer found the request
# not medically necessary"), with the words of a count ("2 out of 3 in total"; the
# numbers themselves are still checked). Decision words are checked on their own.
_FRAME = frozenset(
    """
    a an the and or but nor of to in on at by for from with within without into onto as
    is are was were be been being am has have had having do does did doing done
    this that these those there here it its they them their he she his her him we our
    you your i me my who whom whose which what when where why how than then so such
    not no nor any all each every some more most other another both either neither
    also only just very too can could may might must shall should will would
    because since therefore thus however although though while whereas if unless
    per via about above below after before during between among against over under
    one ones same further again yet still even much many few several
    out total totals number numbers overall altogether
    reviewer reviewers expert imr review reviewed independent medical request requests
    requested requesting letter letters decision decisions determination determined
    decided upheld uphold upholds overturned overturn overturns denied deny denial
    approved approve necessary necessity medically treatment treatments item items
    case cases patient patients worker workers injured says said stated states state
    notes noted note found finds find according based reason reasons why answer
    wrote write writes explained explains concluded concludes reported reports
    stating noting citing cited cites quoted quote quotes
    excerpt excerpts evidence record records documented documentation
    """.split()
)

_NUMBER = re.compile(r"\d")
# Hyphens, dashes and quote marks of all kinds read as one thing each.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_QUOTES = {
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032`"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"'),
}


def stem(word: str) -> str:
    """A crude suffix stripper: enough to meet "documents" with "documented"."""
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ed", "es"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 4:
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words and numbers; "10/325mg" gives "10", "325", "mg"."""
    return _WORD.findall(fold(text).lower())


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if (w[0].isdigit() or len(w) > 2) and w not in _FRAME]


@dataclass
class Support:
    """How well a sentence is backed: the content words its excerpts do not hold."""

    missing: list[str] = field(default_factory=list)
    missing_numbers: list[str] = field(default_factory=list)
    total: int = 0

    @property
    def share(self) -> float:
        return 1.0 if not self.total else 1 - len(self.missing) / self.total

    @property
    def ok(self) -> bool:
        return not self.missing_numbers and self.share >= MIN_SUPPORT


# "No muscle relaxant requests were approved" states a count, 0, as surely as a digit
# does: the real 1.5B model wrote it where the records count 1 (sample question q032).
# "No" counts only when it quantifies requests, decisions or letters, a few words on
# and no preposition between; "no functional improvement" and "no benefit on the
# treatment" are reasons, not counts.
_ZERO = re.compile(
    r"\b(?:no|zero)\s+(?=(?:(?!(?:on|of|the|for|with|from|in|to|by|at|a|an)\b)[a-z/-]+\s+){0,3}"
    r"(?:requests?|decisions?|items?|letters?|cases?|prescriptions?)\b)"
    r"|\bnone\b",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def support(sentence: str, sources: list[str]) -> Support:
    """The sentence's content words checked against ``sources`` (its cited excerpts).

    Citation markers (``[3]``) in the sources are not numbers they state.
    """
    have_words: set[str] = set()
    for s in sources:
        have_words.update(stem(w) for w in words(_MARKER.sub(" ", s)))
    res = Support()
    seen: set[str] = set()
    for w in content_words(_ZERO.sub("0 ", sentence)):
        if w in seen:
            continue
        seen.add(w)
        if _NUMBER.match(w):
            if w not in have_words:
                res.missing_numbers.append(w)
            continue
        res.total += 1
        if stem(w) not in have_words:
            res.missing.append(w)
    return res


def fold(text: str) -> str:
    """Text with dashes, hyphens and quote marks unified and compatibility forms folded."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)


def _loose(text: str) -> str:
    """Only letters and digits, lower case, single spaces: the form quotes are matched in.

    Hyphens, dashes, quote marks and other punctuation become spaces, so "long-term"
    meets "long term" and "4 A's" meets "4 A’s"; words themselves must match.
    """
    return " ".join(re.findall(r"[a-z0-9]+", fold(text).lower()))


_ELLIPSIS = re.compile(r"\s*(?:\.\s*\.\s*\.|\u2026|\[\s*\.\.\.\s*\])\s*")


def quote_in(quote: str, source: str) -> bool:
    """Whether ``quote`` is verbatim in ``source``, up to case, hyphens, dashes, quote
    marks and punctuation; an ellipsis stands for words left out, so each piece must
    appear, in order."""
    hay = _loose(source)
    pos = 0
    pieces = [p for p in (_loose(x) for x in _ELLIPSIS.split(quote)) if p]
    if not pieces:
        return False
    for piece in pieces:
        at = f" {hay} ".find(f" {piece} ", pos)
        if at < 0:
            return False
        pos = at + len(piece)
    return True
