"""Carry out a ``QueryPlan``: the rows it selects, its topic passages, and the answer.

The plan's item filters select catalog rows (``hybrid.matching_items``); its letter-level
restrictions (body region, partial certification, sex, age range, licensure, decision
month or date range, UR denial month, items per letter) and its topic narrow them here,
once. Letter facts, group-bys, topics, absent
fields and answers about letters are written here; the other aggregates go to the
extractive writer with the narrowed rows, so no writer filters again.

A topic is searched in sentences: a sentence of an item's rationale (or, for letters,
of the case summary) discusses the topic when it holds a form of every topic word
(two thirds of them for three or more words), close together. Words that stand for
each other ("weaning or tapering", the groups of data/topic_words.toml) count as one; a
topic word no matching letter holds is named as not used, and when half the topic is
such words nothing is matched; a topic the requests' own names hold selects those
requests; a topic asked as absent ("no red flags") needs a sentence that says so. That
is strict on purpose: it is better to say "no passage discusses X" than to show a
confident list about something else.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from imr_assist.answer.citations import LetterTexts
from imr_assist.answer.extractive import (
    EXAMPLES_PER_REASON,
    MAX_LISTED,
    CitationLedger,
    Evidence,
    ExtractiveWriter,
    Found,
    decision_line,
    scope,
    subject,
)
from imr_assist.constants import (
    CANNOT_ANSWER,
    OVERTURNED,
    UPHELD,
    reason_label_in_text,
)
from imr_assist.index.catalog import Catalog, ItemRow, NameFilter
from imr_assist.index.index import Index
from imr_assist.models import Answer, Item, Letter, Span
from imr_assist.parse.lexicon import get_lexicon
from imr_assist.parse.reasons import sentences
from imr_assist.retrieve.hybrid import RankedHits, SearchResult, item_matches, matching_items
from imr_assist.retrieve.plan import REGIONS, WEAK_TOPIC, QueryPlan, treatment_of
from imr_assist.retrieve.query import QueryFilters, specialty_key
from imr_assist.text import NormalizedText

#: Sentences quoted per letter in a topic answer.
TOPIC_QUOTES_PER_LETTER = 2
#: Sentences every rationale ends with, close in meaning to any question about a request.
_BOILERPLATE = re.compile(
    r"^\s*(?:as\s+such|therefore|thus|based\s+on\s+the\s+above|given\s+the\s+above|"
    r"consequently)?,?\s*(?:the\s+)?(?:request(?:ed)?|treatment|service)\b[^.]{0,40}\b(?:is|was)\s+"
    r"(?:not\s+)?medically\s+necessary|^\s*the\s+request\s+is\s+not\s+supported",
    re.IGNORECASE,
)

#: Plan fields the catalog answers in SQL (``Catalog.letters_where``), without reading
#: each letter's record.
_LETTER_SQL = (
    "age_min",
    "age_max",
    "sex",
    "licensed_in",
    "licensed_only",
    "licensed_not",
    "licensed_except",
    "licensed_also",
    "licensed_states_min",
    "decided_from",
    "decided_to",
    "decided_in",
    "decided_not_in",
    "ur_denied_in",
)

_FACT_LABELS = {
    "credentials": "reviewer",
    "mechanism": "mechanism of injury:",
    "items_decided": "requests decided:",
    "ur_to_decision_days": "days from UR denial to IMR decision:",
}
_LETTER_FIELDS = {
    "decision_date": "decision date",
    "date_of_injury": "date of injury",
    "ur_denial_date": "UR denial date",
    "date_assigned": "date assigned",
    "application_received": "application received",
    "case_number": "case number",
    "priority": "priority",
}


# Sentences that describe the case rather than argue the decision: for a topic
# ("letters involving a fracture"), the words that tell a diagnosis or an injury; for a
# region, the diagnosis nouns too ("left knee sprain").
# "Diagnostic testing" in a list of treatments given is not a diagnosis.
_CASE_WORDS = re.compile(
    r"\b(?:diagnos(?:is|es|ed|ing)|injur\w*|sustain\w*|fell|fall|accident|trauma|history\s+of|"
    r"impression|(?:being\s+)?treated\s+for|undergoing\s+treatment\s+for|suffer\w*|"
    r"status\s+post|underw(?:ent|ent\s+an?)|(?:patient|worker|claimant|he|she)\s+"
    r"(?:subsequently\s+|also\s+|later\s+)?(?:had|has\s+had)\s+an?)\b",
    re.IGNORECASE,
)
# Abbreviations the letters use for what a question may spell out, and the reverse: a
# topic that is one of these is searched as either ("low back pain post MVA").
_ABBREVIATIONS = {
    "mva": "motor vehicle accident",
    "uds": "urine drug screen",
    "hep": "home exercise program",
    "fce": "functional capacity evaluation",
    "adl": "activities of daily living",
    "adls": "activities of daily living",
    "rom": "range of motion",
    "frp": "functional restoration program",
    "rtw": "return to work",
    "crps": "complex regional pain syndrome",
    "cts": "carpal tunnel syndrome",
    "ddd": "degenerative disc disease",
    "hnp": "herniated nucleus pulposus",
    "mmi": "maximum medical improvement",
    "ttd": "temporary total disability",
    "ptp": "primary treating physician",
    "qme": "qualified medical evaluator",
    "ame": "agreed medical evaluator",
    "nsaid": "nonsteroidal anti-inflammatory drug",
    "nsaids": "nonsteroidal anti-inflammatory drugs",
    "ppi": "proton pump inhibitor",
    "slr": "straight leg raise",
    "mme": "morphine milligram equivalents",
    "cures": "controlled substance utilization review and evaluation system",
}


# Dosage forms: "lidocaine cream" picks the requests so named, but a form no request's
# name says ("Butrans patch", a "transdermal film") is no kind of its own.
_FORM_WORDS = frozenset(
    "patch patches tablet tablets tab tabs capsule capsules cream creams gel gels ointment "
    "film films solution suspension injection injections spray lotion".split()
)
# Words a treatment's name may add without naming a kind of it ("MRI scan").
_GENERIC_NAME_WORDS = frozenset(
    "scan scans study studies test tests imaging request requests".split()
)


def _spelled(full: str) -> str:
    return " ".join(w for w in full.split() if w not in ("of", "to"))


def _other_names(topic: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]] | None:
    """When the topic is one of ``_ABBREVIATIONS`` or what one stands for, word for
    word (plurals alike; "of" and "to" left out, as a topic leaves them out): the names
    to search, the topic as asked first, and the others as the letters write them."""
    asked = " ".join(topic).lower()
    if len(topic) == 1 and asked in _ABBREVIATIONS:
        full = _ABBREVIATIONS[asked]
        return (asked, _spelled(full)), [full]
    stems = [_stem(w) for w in topic]
    abbrs = [
        a
        for a, full in _ABBREVIATIONS.items()
        if [_stem(w) for w in _spelled(full).split()] == stems
    ]
    if not abbrs:
        return None
    return (asked, *abbrs), [_said(a) for a in abbrs]


def _said(abbr: str) -> str:
    """An abbreviation as the letters write it: "MVA", a plural "ADLs"."""
    if abbr.endswith("s") and abbr[:-1] in _ABBREVIATIONS:
        return abbr[:-1].upper() + "s"
    return abbr.upper()


# Findings of the case's own tests: "The X-rays revealed ... fracture of the distal radius".
# A sentence about the worker's own case, not a guideline's: "when she fell", "the
# claimant sustained"
_OF_THE_WORKER = re.compile(
    r"\b(?:claimant|(?:injured|this|the)\s+worker|employee|applicant|he|she)\b(?:\s+\w+){0,3}?\s+"
    r"(?:sustained|fell|slipped|tripped|was|were|has|had|is|reports|reported|underwent)\b",
    re.IGNORECASE,
)
_FINDING = re.compile(
    r"\b(?:revealed|revealing|showed|demonstrated|confirmed|noted\s+an?|reported|reports|"
    r"complain\w*|findings|positive|negative|examination|tenderness)\b",
    re.IGNORECASE,
)
_CASE_REGION_WORDS = re.compile(
    _CASE_WORDS.pattern[:-3] + r"|fractur\w*|sprain\w*|strain\w*|tear|contusion|derangement)\b",
    re.IGNORECASE,
)


# How an injury happened, as case summaries tell it.
_MECHANISM = re.compile(
    r"\bmechanism\s+of\s+(?:the\s+)?injury\b|\b(?:injured|hurt)\s+(?:his|her|their|the)\b[^.]{0,60}"
    r"\b(?:while|when|after)\b|\bwhile\s+(?:lifting|carrying|working|pushing|pulling|moving|"
    r"walking|climbing|loading|unloading|driving|bending|reaching)\b|\b(?:fell|fall(?:ing)?\s+(?:off|from|"
    r"down|on))\b|\bslipped\b|\btripped\b|\bwas\s+struck\b|\bmotor\s+vehicle\s+accident\b|"
    r"\bcumulative\s+trauma\b|\brepetitive\s+(?:motion|work|duties|use)\b",
    re.IGNORECASE,
)


# A sentence that says something is absent ("There is no evidence of any red flag").
_NEGATION = re.compile(
    r"\b(?:no|not|without|lack\w*|absen\w*|neither|nor|none|never|failed|fails|n't|"
    r"unremarkable|negative)\b|n't\b",
    re.IGNORECASE,
)


def _spans(spans: dict[str, Span], keys: list[str]) -> list[Span]:
    return [spans[k] for k in keys if k in spans]


def _case_sentences(lt: Letter) -> list[str]:
    """The diagnoses, the requested treatments and the summary's case-describing sentences."""
    # Not the requested treatments: a "knee scooter" for a foot injury is no knee case.
    out = list(lt.diagnoses)
    if lt.summary:
        out += [s for s in re.split(r"(?<=[.!?])\s+", lt.summary) if _CASE_REGION_WORDS.search(s)]
    return out


def _close_together(groups: list[list[str]], seq: list[str], need: int) -> bool:
    """The topic's words stand as a phrase: ``need`` of its word groups within a window
    of the topic's length plus three ("failed low back pain syndrome", "exercise program
    at home"), not scattered over a long sentence."""
    at = [
        (i, n)
        for i, w in enumerate(seq)
        for n, g in enumerate(groups)
        if any(_term_in(s, {w}, w) for s in g)
    ]
    window = len(groups) + 3
    return any(len({n for j, n in at if i <= j < i + window}) >= need for i, _ in at)


def _name_sentence(lt: Letter, index: int) -> tuple[Evidence, list[str], set[str], str] | None:
    """An item's treatment name as the one sentence ``PlanRunner._sentences`` makes of
    it, from the parsed record alone: the name is the normalised text of its span. None
    when the name would split into sentences (then the letter's view decides)."""
    it = lt.items[index]
    span = it.spans.get("treatment")
    name = it.treatment
    if span is None or not name or name != name.strip() or "\n" in name:
        return None
    alone = NormalizedText(original=name, norm=name, offsets=list(range(len(name))))
    if list(sentences(alone, 0, len(name))) != [(0, len(name))]:
        return None
    seq = [_stem(w) for w in re.findall(r"[A-Za-z]+", name)]
    return Evidence(lt.doc_id, index, span.start, span.end, name), seq, set(seq), name.lower()


def _names_any(treatment: str, words: tuple[str, ...]) -> bool:
    """Whether a request's name holds one of ``words`` (by stem: "films" / "film")."""
    held = {_stem(w) for w in re.findall(r"[A-Za-z][A-Za-z-]*[A-Za-z]", treatment)}
    return any(_stem(w) in held for w in words)


def _spelled_out(names: list[str]) -> set[str]:
    """Stems of the aliases that spell out a name's letters ("magnetic resonance
    imaging" for MRI, not "magnetic resonance angiography"): the same request, named
    in full."""
    lexicon = get_lexicon()
    out: set[str] = set()
    for name in names:
        entry = lexicon.by_canonical(name)
        letters = "".join(re.findall(r"\b[A-Z]{2,}\b", name)).lower()  # "TENS" of "TENS unit"
        for alias in entry.aliases if entry is not None and letters else ():
            words = re.findall(r"[A-Za-z]+", alias)
            if len(words) > 1 and "".join(w[0] for w in words).lower() == letters:
                out |= {_stem(w) for w in words}
    return out


def _holds_phrase(name: str, said: list[str]) -> bool:
    """Whether a treatment name holds the stems ``said`` in a row."""
    seq = [_stem(w) for w in re.findall(r"[A-Za-z]+", name)]
    return any(
        all(_same_stem(a, b) for a, b in zip(seq[i : i + len(said)], said, strict=False))
        for i in range(len(seq) - len(said) + 1)
    )


_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "twelve": "12",
}


def _said_word(word: str) -> str:
    """A word of a description as a letter may write it: its stem, a number in figures."""
    if word in _NUMBER_WORDS:
        return rf"(?:{word}|{_NUMBER_WORDS[word]})"
    return re.escape(_stem(word))


def _unused_runs(plan: QueryPlan) -> list[list[str]]:
    """The plan's unused words as they stand together in the question, run by run."""
    unused = set(plan.terms)
    runs: list[list[str]] = [[]]
    for w in re.findall(r"[a-z][a-z-]*", plan.corrected.lower()):
        if w in unused:
            runs[-1].append(w)
        elif runs[-1]:
            runs.append([])
    return runs


def _names_the_requests(word: str, question: str) -> bool:
    """Whether the question puts ``word`` right before the requests it asks about, as a
    word of their names: "Which retrospective requests did IMR uphold?"."""
    if len(word) < 5 or word.lower() in _GENERIC_MODIFIERS:
        return False
    # "the therapy requests (PT, OT, ...)": a generic word, the requests glossed after
    return bool(
        re.search(
            rf"\b{re.escape(word)}\s+(?:requests?|items?|decisions?|treatments?|orders?|"
            r"prescriptions?|ones)\b",
            question,
            re.IGNORECASE,
        )
    )


def _follows_a_mention(word: str, plan: QueryPlan) -> bool:
    """Whether ``word`` comes right after a treatment or class the question names, as
    the kind of request it is: "Which equipment purchases did UR convert?"."""
    if len(word) < 5 or word.lower() in _GENERIC_MODIFIERS:
        return False
    return any(
        re.search(rf"\b{re.escape(m)}\s+{re.escape(word)}\b", plan.corrected, re.IGNORECASE)
        for m in plan.filters.mentions
    )


_GENERIC_MODIFIERS = frozenset(
    "therapy therapies treatment medical other these those similar related specific "
    "various different certain remaining additional".split()
)


def _a_name(word: str, question: str) -> bool:
    """Whether the question writes ``word`` as a name (capitalised, not its first word:
    "the Bankart shoulder case"), so that alone it may pick the requests named by it."""
    if len(word) < 4 or get_lexicon().find(word) is not None:
        return False  # "NCS": the lexicon's name of a treatment
    return any(
        m.start() > 0 and m.group(0).istitle()
        for m in re.finditer(rf"\b{re.escape(word)}\b", question, re.IGNORECASE)
    )


def _name_phrases(mention: str, canonical: str) -> list[list[str]]:
    """The stems a request's name may hold for it to be the kind ``mention`` names: the
    mention as a phrase, and each acronym or eponym in it that the canonical name lacks
    alone, an acronym also as any lexicon alias spells it out ("SLAP": "superior labral
    anterior posterior"). The canonical's own letters ("PT") are no such word."""
    out = [[_stem(w) for w in re.findall(r"[A-Za-z]+", mention)]]
    for mark in _kind_marks(mention, canonical):
        out.append([_stem(mark)])
        if mark.isupper():
            out += [[_stem(w) for w in run] for run in _spelled_out_runs(mark)]
    return out


def _asked_phrases(f: QueryFilters) -> tuple[str, ...]:
    """The names a question's treatments are searched by as a topic: each as asked
    ("UDS") and as the lexicon names it ("urine drug screen"), a class by its name
    ("sleep aid" for "sleep medications"); a kind named by an eponym
    or acronym ("Bankart repair", "SLAP repair") only as asked, an acronym also spelled
    out, never by the name of every kind ("labral repair")."""
    lexicon = get_lexicon()
    out: list[str] = []
    canonicals = list(f.canonicals)
    for mention in f.mentions:
        out.append(mention.lower())
        m = lexicon.find(mention)
        marks = _kind_marks(mention, m.entry.canonical) if m is not None else []
        if m is None or not marks:
            continue
        if m.entry.canonical in canonicals:
            canonicals.remove(m.entry.canonical)
        for mark in marks:
            if mark.isupper():
                out += [
                    re.sub(rf"\b{re.escape(mark)}\b", " ".join(run), mention).lower()
                    for run in _spelled_out_runs(mark)
                ]
    out += [c.lower() for c in canonicals]
    if not f.canonicals:  # "sleep medications": as the class is named ("sleep aid")
        out += [c.lower() for c in f.classes]
    return tuple(dict.fromkeys(out))


def _kind_marks(mention: str, canonical: str) -> list[str]:
    """Capitalised words of a mention (eponyms, acronyms) that its canonical name lacks,
    other than the canonical's own letters ("PT" for Physical therapy)."""
    own = {_stem(w) for w in re.findall(r"[A-Za-z]+", canonical)}
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", canonical)).lower()
    return [
        w
        for w in re.findall(r"[A-Za-z]+", mention)
        if w[0].isupper() and _stem(w) not in own and not (w.isupper() and w.lower() == initials)
    ]


@lru_cache(maxsize=256)
def _spelled_out_runs(acronym: str) -> tuple[tuple[str, ...], ...]:
    """Runs of words in the lexicon's aliases whose initials spell ``acronym``."""
    n, want = len(acronym), acronym.lower()
    out: list[tuple[str, ...]] = []
    for entry in get_lexicon().entries:
        for alias in entry.aliases:
            words = re.findall(r"[A-Za-z]+", alias)
            for i in range(len(words) - n + 1):
                run = tuple(w.lower() for w in words[i : i + n])
                if "".join(w[0] for w in run) == want and run not in out:
                    out.append(run)
    return tuple(out)


def _words_beyond(mention: str, names: list[str]) -> list[str]:
    """The stems of a treatment as asked that its lexicon names lack, other than generic
    words ("scan") and body regions (the plan reads those as the request's region):
    "open" in "open MRI", "slap" in "SLAP repair" for Labral repair."""
    own = {_stem(w) for name in names for w in re.findall(r"[A-Za-z]+", name)}
    own |= _spelled_out(names)
    generic = {_stem(w) for w in _GENERIC_NAME_WORDS}
    return [
        w
        for w in (_stem(x) for x in re.findall(r"[A-Za-z]+", mention))
        if w not in own and w not in generic and not any(rx.search(w) for rx in REGIONS.values())
    ]


def _tally(
    cat: Catalog,
    f: QueryFilters,
    decision: str | None,
    decided: tuple[int, int | None] | None = None,
) -> tuple[dict[str, int], int]:
    """``Catalog.item_tally`` of the filters' treatment and letters."""
    return cat.item_tally(
        generics=f.generics,
        classes=f.classes,
        canonicals=f.names_without_generic,
        decision=decision,
        doc_ids=f.doc_ids,
        decided=decided,
    )


def _letters_by_request(plan: QueryPlan, f: QueryFilters) -> bool:
    """A letter fact asked of the letters a request picks ("the UR denial date on the
    L4/L5 ESI case"), not of a letter named by its case number."""
    if f.case_number or f.doc_ids:
        return False
    # "which letters have a reviewer licensed in more than one state?": the letters
    # picked, each with the fact
    picked = plan.fact_decisions or plan.unit == "letters"
    return picked and bool(plan.letter_restricted or f.restricted or plan.topic)


def _topic_names(plan: QueryPlan) -> set[str]:
    """Stems of the topic words the question writes as names ("Paris": capitalised,
    not at a sentence's start; "CURES": in capitals), matched as written, never one
    letter off ("CURES" is not "care")."""
    capitalised = {
        m.group(0).lower()
        for m in re.finditer(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]*[A-Z]?[a-z]+\b", plan.question)
    }
    return {
        _stem(w)
        for w in plan.topic
        if w.lower() in capitalised  # "Paris", "McMurray's"
        or (len(w) >= 3 and re.search(rf"\b{re.escape(w.upper())}\b", plan.question))
        or w.lower() in _ABBREVIATIONS
    }


def _term_in(stem: str, words: set[str], low: str, fuzzy: bool = True) -> bool:
    """A topic word is in a sentence: the same stem, a word it starts (5+ letters), or
    (``fuzzy``) a spelling one letter off in a word of 4+ letters ("disc" / "disk")."""
    if stem in words or (
        len(stem) >= 5 and stem in low and re.search(rf"\b{re.escape(stem)}", low)
    ):
        return True
    if len(stem) < 4 or not fuzzy:
        return False
    return any(
        len(w) == len(stem)
        and w[0] == stem[0]
        and sum(a != b for a, b in zip(w, stem, strict=True)) == 1
        for w in words
    )


def _near_word(stem: str, vocab: dict[str, int]) -> str | None:
    """The one most frequent word of ``vocab`` within one edit of ``stem`` (two for
    long words), starting with the same letter; None if none, or for short words."""
    if len(stem) < 5:
        return None
    limit = 2 if len(stem) >= 8 else 1
    best: list[tuple[int, int, str]] = []
    for word, count in vocab.items():
        if word[0] != stem[0] or abs(len(word) - len(stem)) > limit or len(word) < 4:
            continue
        d = _edits(stem, word, limit)
        if d <= limit:
            best.append((d, -count, word))
    if not best:
        return None
    best.sort()
    if len(best) > 1 and best[1][:2] == best[0][:2]:
        return None  # two words as near and as common: no way to tell which was meant
    return best[0][2]


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it is over ``limit``."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _raw_words(cands: list[Any]) -> Iterator[str]:
    for *_, low in cands:
        yield from re.findall(r"[a-z]+", low)


def _stem(word: str) -> str:
    w = word.lower()
    for suf in ("ments", "ment", "ings", "ing", "ies", "ied", "es", "ed", "s"):
        if len(w) - len(suf) >= 4 and w.endswith(suf):
            return w[: -len(suf)]
    return w


_NEGATORS = frozenset(
    "no not nor neither never none without lack lacks lacking lacked absence absent "
    "fail fails failed failure unable missing".split()
)


# A letter saying the worker had none of a treatment before: "There is no previous
# physical therapy sessions noted", "it does not appear the patient has undergone
# physical therapy previously", "has not had any prior chiropractic care"
_NONE_BEFORE = re.compile(
    r"\b(?:no|not\s+any|never\s+had\s+(?:any\s+)?)\s*(?:prior|previous)\s+(?:course\s+of\s+)?[\w/-]+|"
    r"\bno\s+(?:documentation|record|evidence)\s+of\s+(?:any\s+)?attendance\s+(?:of|at)\s+|"
    r"\b(?:not|n't)\s+(?:document|show|reveal|indicate|note|mention|list)\w*\s+(?:any\s+)?"
    r"(?:prior|previous)\s+[\w/-]+|"
    r"\b(?:not|never|n't)\s+(?:\w+\s+){0,4}?(?:undergone|had|received|attended|tried)\s+"
    r"(?:any\s+)?(?:prior\s+|previous\s+)?[\w/-]+(?:\s+[\w/-]+){0,3}?\s+(?:previously|before|in\s+the\s+past)\b|"
    r"\b(?:not|never|n't)\s+(?:\w+\s+){0,2}?(?:undergone|had|received|attended|tried)\s+(?:any\s+)?"
    r"(?:prior|previous)\b",
    re.IGNORECASE,
)


# The MAXIMUS guideline line of a decision that says what it rested on
_REVIEWER_BASIS = {
    "outside_mtus": re.compile(r"\boutside\s+of\s+the\s+MTUS", re.IGNORECASE),
    "no_evidence": re.compile(r"\bdid\s+not\s+cite\s+any\s+medical\s+evidence", re.IGNORECASE),
}


# A rationale sentence that states what a guideline says rather than what the case shows:
# "According to the MTUS ...", "ODG states ...", "TENS is not recommended as a primary
# treatment modality, but ... may be considered ...", "Guidelines recommend ..."
_GUIDELINE_STATEMENT = re.compile(
    r"^\W*(?:according\s+to|per|as\s+per|based\s+on)\s+(?:the\s+)?(?:\w+\s+){0,4}?"
    r"(?:MTUS|ODG|ACOEM|guidelines?|Official\s+Disability)|"
    r"\b(?:MTUS|ODG|ACOEM|guidelines?|Official\s+Disability\s+Guidelines)(?:\s+\w+){0,4}?\s+"
    r"(?:states?|recommends?|notes?|indicates?|supports?|specif(?:y|ies)|say|says|allows?|"
    r"does\s+not\s+recommend|do\s+not\s+recommend|discuss(?:es)?|describes?)\b|"
    r"\b(?:is|are)\s+(?:not\s+)?recommended\s+(?:as|for|if|when|in|only)\b|"
    r"^\W*\"",
    re.IGNORECASE,
)
_GUIDELINE_WORDS_ASKED = re.compile(
    r"\bguidelines?\b|\bMTUS\b|\bODG\b|\bACOEM\b|\bquot\w*|\bcriteri\w*", re.IGNORECASE
)


# A summary sentence about what is planned or asked for, not what the worker had
_PLANNED = re.compile(
    r"\b(?:treatment\s+plan|plan\s+(?:included|was|consisted|is)|request\w*|recommend\w*|"
    r"will\s+(?:be|start|begin|undergo)|to\s+(?:start|begin)|referr\w*|authoriz\w*)\b",
    re.IGNORECASE,
)


def _partial_kind(lt: Letter, it: Item) -> str:
    """ "modified" when the letter says UR's certification left the whole original
    request to IMR ("authorized a bedside commode for 1 month, leaving the original
    request IMR eligible"), "remaining" when IMR decided what was left ("The remaining
    IMR eligible portion of the original request")."""
    flat = " ".join(lt.text.split())
    said = " ".join((it.authorized_portion or "").split())
    at = flat.find(said) if said else -1
    while at >= 0:
        if re.match(
            r"[^.]{0,40}?,?\s*leaving\s+the\s+original\s+request", flat[at + len(said) :], re.I
        ):
            return "modified"
        at = flat.find(said, at + 1)
    return "remaining"


def _negated_near(low: str, groups: list[list[str]], window: int = 10) -> bool:
    """Whether a word of the topic (a stem of ``groups``) has a negation among the
    ``window`` words before it, in its clause: "failed to provide quantity", "there is no
    documentation of tissue insult, nerve impairment, or other red flags"; not "the
    quantity ... and lack of ...", nor "the amount is not in excess", nor "no X, but
    red flags"."""
    words = re.findall(r"[a-z']+", low)
    stems = [st for g in groups for st in g]
    for i, w in enumerate(words):
        if not any(w.startswith(st) for st in stems):
            continue
        for x in reversed(words[max(0, i - window) : i]):
            if x in _CLAUSE_BREAK:
                break
            if x in _NEGATORS or x.endswith("n't"):
                return True
    return False


# A case summary's account of the UR decision: its reasons are not the IMR reviewer's.
_UR_REASONS = re.compile(
    r"\b(?:previously|originally)\s+(?:been\s+)?(?:non-?certified|denied|modified|not\s+certified)\b|"
    r"\b(?:utilization\s+review|UR)\s+(?:\w+\s+){0,3}?(?:non-?certified|denied|modified|"
    r"determined|found)\b",
    re.IGNORECASE,
)
# "Did any of them get approved?", "Were any PT requests overturned?"
_ANY_WENT = re.compile(
    r"\b(?:did|were|was|has|have|had)\s+(?:any|anything|anyone)\b[^?]*\b(?:approv\w*|overturn\w*|"
    r"upheld|denied|granted|certified|reversed)\b",
    re.IGNORECASE,
)
_ENDORSE_STEMS = frozenset(("recommend", "support"))
_ENDORSE_QUALIFIED = re.compile(
    r"\b(?:routine|routinely|primary|beyond|unless|except|exceed\w*|without|prior|until|"
    r"absence|if|when|during|acute|initial)\b"
)


_NOT_ENDORSED = re.compile(
    r"\b(?:not|n't|never)\s+(?:\w+\s+){0,2}?\W?(?P<verb>recommend|support)(?:ed|s|ing)?\b\W*"
    r"(?P<after>(?:[\w-]+[^\w,;.]+){0,10})"
)
_GUIDELINE_WORD = re.compile(r"\b(?:guidelines?|mtus|odg|acoem)\b")
_BY_THE_RECORDS = re.compile(
    r"(?:by|in|from)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:records?|documents?|documentation|"
    r"notes?|information|reports?|evidence|findings|exam\w*)\b"
)


def _denies_endorsement(low: str, unqualified: bool) -> bool:
    """Whether a sentence says a guideline does not recommend or support something ("do
    not recommend ultrasound therapy", "is deemed 'not recommended'", "the guidelines do
    not support ..."; "the request is not supported" is the reviewer's conclusion, and
    "not supported by the records" no guideline's word); with ``unqualified``, not for
    some use or case only ("the routine usage of shoulder MRI ...", "not recommended for
    routine acute or chronic hip pain", "as a primary treatment modality")."""
    for m in _NOT_ENDORSED.finditer(low):
        if m["verb"] == "support" and not _GUIDELINE_WORD.search(low):
            continue
        if _BY_THE_RECORDS.match(low, m.start("after")):
            continue
        if not unqualified:
            return True
        if not _ENDORSE_QUALIFIED.search(m[0]) and not re.search(
            r"\broutine(?:ly)?\b", low[: m.start()]
        ):
            return True
    return False


def _only_negated(low: str, groups: list[list[str]]) -> bool:
    """Whether every mention of the topic in a sentence is negated just before it ("no
    evidence of disc herniation", "negative for fracture"), so the sentence says the case
    lacks it; "not too much displaced fracture" still has one."""
    words = re.findall(r"[a-z']+|[;,.:()]", low)  # a negation stops at punctuation
    stems = [st for g in groups for st in g]
    held = [any(w.startswith(st) for st in stems) for w in words]
    # a run of topic words ("disc herniation") is one mention, negated before its start
    said = [i for i, h in enumerate(held) if h and not (i and held[i - 1])]

    def negated(i: int) -> bool:
        before = words[max(0, i - 3) : i]
        while before and any(p in before for p in ";,.:()"):
            before = before[next(k for k, x in enumerate(before) if x in ";,.:()") + 1 :]
        return any(
            x in _NEGATORS or x.endswith("n't") or x in ("negative", "denies") for x in before
        )

    return bool(said) and all(negated(i) for i in said)


#: A side or a body part: words that say where a request is, not who the worker is.
_BODY_WORD = re.compile(
    r"^(?:right|left|bilateral|both|upper|lower|arms?|legs?|body|side)$|"
    + "|".join(f"(?:{rx.pattern})" for rx in REGIONS.values()),
    re.I,
)

_CLAUSE_BREAK = frozenset("but however although though whereas while yet unless if".split())


def _same_stem(a: str, b: str) -> bool:
    """Two stems of one word ("servic" of services, "service")."""
    return a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


@dataclass(frozen=True)
class TopicHits:
    """A topic's passages: per (doc_id, item_index), item None for case summaries."""

    found: dict[tuple[str, int | None], list[Evidence]]
    unused: tuple[str, ...]  # topic words that no matching letter holds
    named: bool  # the topic is in the requests' own names
    read_as: tuple[tuple[str, str], ...] = ()  # misspelt topic words, as the letters spell them
    topic: tuple[str, ...] = ()  # the topic words searched, with ``read_as`` applied


class PlanRunner:
    """Answers a plan over one index, with the extractive writer for item aggregates."""

    def __init__(self, index: Index, texts: LetterTexts, extractive: ExtractiveWriter) -> None:
        self.index = index
        self.texts = texts
        self.extractive = extractive
        self.last_plan: QueryPlan | None = None  # the plan last answered, as carried out
        # what a chat follow-up edits, where it differs from ``last_plan``
        self.follow_plan: QueryPlan | None = None

    # --- selection -------------------------------------------------------------------
    def rows(self, plan: QueryPlan, result: SearchResult) -> list[ItemRow]:
        f = result.filters
        rows = result.items if f.restricted else matching_items(self.index, f)
        return self._narrow(plan, rows)

    def _narrow(self, plan: QueryPlan, rows: list[ItemRow]) -> list[ItemRow]:
        if not plan.letter_restricted:
            return rows
        # What the item row answers (its reasons, its treatment's region) is checked
        # first; a letter's record, about 0.7 ms to read, is read only for the rows left,
        # and only if the plan asks about the letter (at 40,000 letters reading every
        # matching one was 11.5 of 16 s for "neck MRIs").
        names: dict[str, bool] = {}
        rows = [r for r in rows if self._row_ok(plan, r, names)]
        if any(getattr(plan, k) not in (None, False) for k in _LETTER_SQL):
            # the letters' own facts (ages, sex, licensure, dates), in one SQL query
            kept = self.index.catalog.letters_where(**{k: getattr(plan, k) for k in _LETTER_SQL})
            rows = [r for r in rows if r.doc_id in kept]
        if plan.min_items is not None or plan.max_items is not None:
            decided = self.index.catalog.item_counts()  # items per letter, in SQL
            lo, hi = plan.min_items or 0, plan.max_items
            rows = [
                r
                for r in rows
                if decided.get(r.doc_id, 0) >= lo and (hi is None or decided[r.doc_id] <= hi)
            ]
        if not self._needs_letter(plan):
            return rows
        out = []
        for r in rows:
            lt = self.texts.letter(r.doc_id)
            if lt is not None and self._letter_ok(plan, lt) and self._item_ok(plan, lt, r):
                out.append(r)
        return out

    def _base(
        self,
        plan: QueryPlan,
        result: SearchResult,
        topic_keys: set[tuple[str, int | None]] | None,
    ) -> list[ItemRow]:
        """The plan's rows whatever their decision: the denominator of a share."""
        f = replace(result.filters, decision=None)
        rows = self._narrow(plan, matching_items(self.index, f))
        if topic_keys is not None:
            rows = [r for r in rows if (r.doc_id, r.item_index) in topic_keys]
        return rows

    def _letters_of_request(
        self, plan: QueryPlan, result: SearchResult, lead: list[str]
    ) -> tuple[QueryPlan, SearchResult, str]:
        """The letters a request names, with their requests as the plan's (the one that
        named them left out for "what else"), and how the answer says which letters."""
        f0 = result.filters
        picked = self.rows(
            replace(plan, letter_of_request=False),
            replace(
                result,
                filters=replace(f0, decision=None),
                items=matching_items(self.index, replace(f0, decision=None)),
            ),
        )
        named_kind = self._qualified_name(f0, picked) if picked else None
        if named_kind is not None and named_kind[1]:
            picked = named_kind[1]  # "the SLAP arthroscopy letter": that kind's letters
        if not picked and f0.mentions:
            # "the Bankart repair letter": a request filed under another name ("Left shoulder
            # arthroscopy with Bankart repair"), found by the name as asked
            lex = get_lexicon()
            phrases: list[list[str]] = []
            classes: set[str] = set()
            for m in f0.mentions:
                hit = lex.find(m)
                phrases += _name_phrases(m, hit.entry.canonical if hit is not None else m)
                if hit is not None and hit.entry.drug_class:
                    classes.add(hit.entry.drug_class)
            # within the mention's class when it has one; each distinct name tested once,
            # in SQL, so rows of other names are never built
            picked = self.index.catalog.items(
                classes=sorted(classes),
                names=NameFilter(
                    "holds:" + "|".join(" ".join(p) for p in phrases),
                    lambda name: any(_holds_phrase(name, p) for p in phrases),
                ),
            )
        docs = sorted({r.doc_id for r in picked})
        if not docs:
            return plan, result, ""
        f = replace(treatment_of(f0, QueryFilters()), doc_ids=docs)
        cases = []
        for d in docs:
            lt = self.texts.letter(d)
            cases.append((lt.case_number if lt else None) or d)
        what = " / ".join(dict.fromkeys(f0.mentions or f0.canonicals))
        # "what else", "the other requests": not the one that names the letter
        other = re.search(
            r"\b(?:else|other|others|besides|itself|add-?ons?)\b", plan.question, re.IGNORECASE
        )
        excluded = treatment_of(QueryFilters(), f0) if other else plan.excluded
        named = (
            f"The letter{'s' if len(docs) != 1 else ''} with the {what} request: {', '.join(cases)}"
        )
        lead.append(
            f"{named}; {'the other' if other else 'every'} request"
            f"{'s' if other else ''} decided there:"
        )
        plan = replace(plan, filters=f, regions=(), letter_of_request=False, excluded=excluded)
        return plan, replace(result, filters=f, items=matching_items(self.index, f)), named

    @staticmethod
    def _row_ok(plan: QueryPlan, row: ItemRow, names: dict[str, bool] | None = None) -> bool:
        """The checks of ``_item_ok`` that the catalog's item row answers alone;
        ``names`` keeps the verdict on each treatment name (thousands of rows share a
        few names)."""
        if plan.reasons and not set(plan.reasons) & set(row.reasons):
            return False
        if plan.excluded is not None and item_matches(row, plan.excluded):
            return False
        if plan.specialty_groups:
            held = frozenset(specialty_key(s) for s in row.specialties)
            if plan.specialty_any:  # "including dual-certified reviewers"
                if not any(want <= held for want in plan.specialty_groups):
                    return False
            elif held not in plan.specialty_groups:
                return False
        if names is None:
            return PlanRunner._name_ok(plan, row.treatment)
        ok = names.get(row.treatment)
        if ok is None:
            ok = names[row.treatment] = PlanRunner._name_ok(plan, row.treatment)
        return ok

    @staticmethod
    def name_filter(plan: QueryPlan) -> NameFilter | None:
        """The plan's test of a request's name (the region it must name, the regions and
        words it must not), for the search to apply in SQL; None when the plan has none,
        or groups by region (every region is then a group)."""
        regions = plan.regions if plan.unit == "decisions" else ()
        if plan.group_by or not (regions or plan.regions_excluded or plan.excluded_words):
            return None
        key = repr((regions, plan.regions_excluded, plan.excluded_words))
        return NameFilter(key, lambda name: PlanRunner._name_ok(plan, name))

    @staticmethod
    def _name_ok(plan: QueryPlan, treatment: str) -> bool:
        if any(REGIONS[rg].search(treatment) for rg in plan.regions_excluded):
            return False  # "MRIs not for the spine": the request names a region left out
        if plan.excluded_words and _names_any(treatment, plan.excluded_words):
            return False  # "not counting the pre-op chest film"
        if plan.regions and plan.unit == "decisions":
            return any(REGIONS[rg].search(treatment) for rg in plan.regions)
        return True

    @staticmethod
    def _needs_letter(plan: QueryPlan) -> bool:
        """Whether the plan restricts by more than ``_row_ok`` and the item counts check."""
        regions = () if plan.unit == "decisions" else plan.regions
        answered = replace(
            plan,
            reasons=(),
            specialty_groups=(),
            regions=regions,
            regions_excluded=(),
            excluded_words=(),
            min_items=None,
            max_items=None,
            excluded=None,
            age_min=None,
            age_max=None,
            sex=None,
            licensed_in=None,
            licensed_only=False,
            licensed_not=False,
            licensed_except=None,
            licensed_also=(),
            licensed_states_min=None,
            decided_from=None,
            decided_to=None,
            decided_in=None,
            decided_not_in=None,
            ur_denied_in=None,
        )
        return answered.letter_restricted

    def _letter_ok(self, plan: QueryPlan, lt: Letter) -> bool:
        p = lt.patient
        if plan.sex and p.sex != plan.sex:
            return False
        if plan.age_min is not None and (p.age is None or p.age < plan.age_min):
            return False
        if plan.age_max is not None and (p.age is None or p.age > plan.age_max):
            return False
        states = {s.lower() for s in lt.reviewer.licensure}
        if plan.licensed_in and (plan.licensed_in.lower() in states) == plan.licensed_not:
            return False
        if plan.licensed_except and plan.licensed_except.lower() in states:
            return False
        if any(s.lower() not in states for s in plan.licensed_also):
            return False
        if plan.licensed_only and len(states) != 1:
            return False
        if plan.licensed_states_min and len(states) < plan.licensed_states_min:
            return False
        if plan.decided_in and not (lt.decision_date or "").startswith(plan.decided_in):
            return False
        if plan.decided_not_in and (lt.decision_date or "").startswith(plan.decided_not_in):
            return False
        if plan.ur_denied_in and not (lt.ur_denial_date or "").startswith(plan.ur_denied_in):
            return False
        if plan.decided_from and not (lt.decision_date or "") >= plan.decided_from:
            return False
        if plan.decided_to and not (lt.decision_date and lt.decision_date <= plan.decided_to):
            return False
        if plan.min_items is not None and len(lt.items) < plan.min_items:
            return False
        if plan.max_items is not None and len(lt.items) > plan.max_items:
            return False
        if plan.all_decided == "mixed":
            if len({it.decision for it in lt.items}) < 2:
                return False
        elif plan.all_decided and any(it.decision != plan.all_decided for it in lt.items):
            return False
        if plan.letter_regions:
            case = " ".join(_case_sentences(lt))
            if not any(REGIONS[rg].search(case) for rg in plan.letter_regions):
                return False
        return True

    def _item_ok(self, plan: QueryPlan, lt: Letter, row: ItemRow) -> bool:
        it = lt.items[row.item_index] if row.item_index < len(lt.items) else None
        if it is None:
            return False
        if plan.partial and not it.partial:
            return False
        if plan.partial_kind and _partial_kind(lt, it) != plan.partial_kind:
            return False
        if plan.reviewer_basis and not _REVIEWER_BASIS[plan.reviewer_basis].search(
            it.reviewer_guideline or ""
        ):
            return False
        if plan.none_before and not (
            _NONE_BEFORE.search(" ".join((it.rationale or "").split()))
            or _NONE_BEFORE.search(" ".join((lt.summary or "").split()))
        ):
            return False
        if plan.reasons and not set(plan.reasons) & set(row.reasons):
            return False
        if plan.regions:
            where = it.treatment if plan.unit == "decisions" else (lt.summary or "")
            if plan.unit == "decisions" and not any(
                REGIONS[rg].search(where) for rg in plan.regions
            ):
                return False
            if plan.unit == "letters" and not any(
                REGIONS[rg].search(where) or REGIONS[rg].search(it.treatment) for rg in plan.regions
            ):
                return False
        return True

    def topic_hits(self, plan: QueryPlan, rows: list[ItemRow]) -> TopicHits:
        """Sentences about the topic: per (doc_id, item_index), item None for summaries.

        A topic word that no sentence of the matching letters holds cannot be searched
        for; it is named in the answer, and when half the topic is such words nothing is
        matched (the rest alone would answer a broader question). When some requests'
        own names hold the topic ("Which requests were retrospective?"), it is a
        property of those requests: the names decide, not rationales that mention it.
        """
        if plan.phrases:
            # any one of the names, each matched whole ("UDS / urine drug testing")
            parts = [
                self.topic_hits(
                    replace(plan, topic=tuple(p.lower().split()), phrases=(), topic_phrase=True),
                    rows,
                )
                for p in plan.phrases
            ]
            found: dict[tuple[str, int | None], list[Evidence]] = {}
            for part in parts:
                for key, evs in part.found.items():
                    found.setdefault(key, []).extend(e for e in evs if e not in found[key])
            unused = tuple(w for w in plan.topic if all(w in p.unused for p in parts))
            return TopicHits(found, unused, any(p.named for p in parts))
        stems = [_stem(w) for w in plan.topic]
        # The names first, from the item rows alone: when some name the topic, no
        # letter's text needs scanning (a row whose letter lacks the word has no such name).
        named_rows = self._named_rows(plan, stems, rows)
        if named_rows is not None:
            # only their names: rationales and case summaries are not quoted then
            hits = self._match_topic(plan, list(stems), named_rows, names_only=True)
            if hits.named:
                return hits
        rows = self._holding_a_topic_word(stems, rows)
        return self._match_topic(plan, stems, rows)

    @staticmethod
    def _named_rows(plan: QueryPlan, stems: list[str], rows: list[ItemRow]) -> list[ItemRow] | None:
        """The rows whose treatment names hold every word of a short topic, if some but
        not all do and each word is there as written in one of them: those requests are
        what the topic names, so only their letters need reading. The match then run
        on them gives what it gives on every row, as the names decide (a row this
        leaves out has no name that matches); when it names nothing, every row is read.
        """
        if (
            plan.unit != "decisions"
            or plan.about_case
            or plan.topic_negated
            or plan.topic_or
            or not 1 <= len(stems) <= 2
        ):
            return None
        names = _topic_names(plan)
        # What a matching name must hold as written: the stem, or for a spelling one
        # letter off (``_term_in``'s fuzzy match) one of its halves whole.
        probes = [
            (st,) if st in names or len(st) < 4 else (st[: len(st) // 2], st[len(st) // 2 :])
            for st in stems
        ]
        kept: list[ItemRow] = []
        exact: set[str] = set()
        for r in rows:
            low = r.treatment.lower()
            if not all(any(p in low for p in probe) for probe in probes):
                continue  # cheap: most rows' names hold no part of the topic
            words = {_stem(w) for w in re.findall(r"[A-Za-z]+", r.treatment)}
            if all(_term_in(st, words, low, st not in names) for st in stems):
                kept.append(r)
                exact.update(st for st in stems if _term_in(st, words, low, False))
        if not kept or len(kept) == len(rows) or exact != set(stems):
            return None
        return kept

    def _match_topic(
        self, plan: QueryPlan, stems: list[str], rows: list[ItemRow], *, names_only: bool = False
    ) -> TopicHits:
        cands: list[tuple[tuple[str, int | None], str, Evidence, list[str], set[str], str]] = []
        seen_docs: set[str] = set()
        for r in rows:
            lt = self.texts.letter(r.doc_id)
            if names_only and lt is not None and r.item_index < len(lt.items):
                whole = _name_sentence(lt, r.item_index)
                if whole is not None:  # no normalised view of the letter needed
                    cands.append(((r.doc_id, r.item_index), "treatment", *whole))
                    continue
            nt = self.texts.view(r.doc_id)
            if lt is None or nt is None or r.item_index >= len(lt.items):
                continue
            if r.doc_id not in seen_docs and not names_only:
                seen_docs.add(r.doc_id)
                span = None if plan.in_rationale else lt.spans.get("summary")
                if span is not None:
                    for c in self._sentences(nt, lt, span.start, span.end):
                        if (
                            plan.about_case
                            and not plan.history_only
                            and not (_CASE_WORDS.search(c[0].quote) or _FINDING.search(c[0].quote))
                        ):
                            continue
                        if plan.history_only and _PLANNED.search(c[0].quote):
                            # "the treatment plan included chiropractic": not had before
                            continue
                        cands.append(((r.doc_id, None), "summary", *c))
            it = lt.items[r.item_index]
            for name in (
                ()
                if plan.history_only
                else ("treatment",)
                if plan.about_case or names_only
                else ("treatment", "rationale")
            ):
                span = it.spans.get(name)
                if span is None:
                    continue
                for ev, seq, words, low in self._sentences(nt, lt, span.start, span.end):
                    ev = replace(ev, item_index=r.item_index)
                    cands.append(((r.doc_id, r.item_index), name, ev, seq, words, low))
            span = it.spans.get("rationale")
            if plan.about_case and not names_only and span is not None:
                # what the rationale says of the case ("when she fell while closing a
                # truck door"), used for a letter whose summary does not say it
                for ev, seq, words, low in self._sentences(nt, lt, span.start, span.end):
                    if _OF_THE_WORKER.search(ev.quote) and (
                        _CASE_WORDS.search(ev.quote) or _FINDING.search(ev.quote)
                    ):
                        ev = replace(ev, item_index=r.item_index)
                        cands.append(((r.doc_id, r.item_index), "case", ev, seq, words, low))
        # A topic word no matching sentence holds may be misspelt ("tapring"): read it as
        # the letters' word one or two letters off, if there is exactly one best.
        read_as: list[tuple[str, str]] = []
        held = {x for *_, words, _low in cands for x in words}
        raw: dict[str, int] | None = None
        topic = list(plan.topic)
        for n, (w, st) in enumerate(zip(plan.topic, stems, strict=True)):
            if st in held or any(st in x for x in held if len(x) > len(st)):
                continue
            if raw is None:
                raw = {}
                for word in _raw_words(cands):
                    raw[word] = raw.get(word, 0) + 1
            if st in _topic_names(plan):
                continue  # a name ("Paris", "CURES") is no misspelling
            # the reader's own correction may be the wrong word ("tapring" as taping)
            asked = next((a.lower() for a, b in plan.corrections if b.lower() == w), None)
            near = (_near_word(asked, raw) if asked else None) or _near_word(w, raw)
            if near is None:  # "sceens" is one letter from "screen" once both are stemmed
                by_stem: dict[str, int] = {}
                for word, count in raw.items():
                    by_stem[_stem(word)] = by_stem.get(_stem(word), 0) + count
                root = _near_word(st, by_stem)
                near = min(  # as the question wrote it: "screens", not "screening"
                    (x for x in raw if _stem(x) == root),
                    key=lambda x: (_edits(w, x, 3), -raw[x], x),
                    default=None,
                )
            if near is not None:
                read_as.append((asked or w, near))
                stems[n], topic[n] = _stem(near), near
        if read_as:
            plan = replace(
                plan,
                topic=tuple(topic),
                topic_or=tuple(
                    tuple(topic[plan.topic.index(x)] if x in plan.topic else x for x in g)
                    for g in plan.topic_or
                ),
            )
        # a name ("Paris") is matched as written, never one letter off ("parts"); so is
        # a word the letters hold as written ("fall" is no misspelling of "full")
        names = _topic_names(plan)
        asked_names = set(names)  # "McMurray's test": what the topic is named for
        # each topic word is one group, except words that stand for each other
        # ("weaning or tapering"): a sentence with either holds that group
        groups: list[list[str]] = []
        for w, st in zip(plan.topic, stems, strict=True):
            alts = [_stem(x) for g in plan.topic_or if w in g for x in g if x != w]
            home = next((g for g in groups if st in g or any(a in g for a in alts)), None)
            if home is None:
                groups.append(list(dict.fromkeys([st, *alts])))
            else:
                home.extend(x for x in [st, *alts] if x not in home)
        all_stems = {x for g in groups for x in g}
        names |= all_stems & held
        found_stems = {
            st
            for st in all_stems
            if any(_term_in(st, words, low, st not in names) for *_, words, low in cands)
        }
        present = [g for g in groups if found_stems & set(g)]
        unused = tuple(
            w for w, st in zip(plan.topic, stems, strict=True) if not any(st in g for g in present)
        )
        # a read misspelling may not be what makes half the topic usable; a generic head
        # noun the letters hold ("the CURES database") counts as a word of the topic
        # here, though it only ranks passages
        weak = sum(
            1
            for w in dict.fromkeys(plan.terms)
            if w in WEAK_TOPIC and any(_term_in(_stem(w), ws, low) for *_, ws, low in cands)
        )
        have, want = len(present) + weak, len(groups) + weak
        too_few = 2 * have <= want if read_as else 2 * have < want
        # a name no letter holds ("Hoffmann's sign") is what the topic is about: the
        # rest ("sign") alone would answer a broader question
        name_unused = any(_stem(w) in asked_names for w in unused)
        if not present or too_few or name_unused or (plan.topic_phrase and unused):
            return TopicHits({}, unused, False, tuple(read_as), plan.topic)
        # "the guidelines don't recommend it": the recommending, negated, is the topic
        endorse = {st for g in present for st in g if st in _ENDORSE_STEMS}
        if not plan.topic_negated:
            endorse = set()
        need = len(present) if len(present) < 3 else -(-2 * len(present) // 3)
        if plan.topic_phrase:
            need = len(present)
        elif endorse:
            # who does not recommend it ("the guidelines") is who the rationale quotes;
            # the sentence saying it is not recommended is the match
            need = 1
        matched = [
            (key, name, ev)
            for key, name, ev, seq, words, low in cands
            if sum(1 for g in present if any(_term_in(st, words, low, st not in names) for st in g))
            >= need
            and all(
                any(_term_in(st, words, low, False) for st in g)
                for g in present
                if asked_names & set(g)
            )
            and (need < 2 or _close_together(present, seq, need))
            and (
                not plan.topic_negated
                or (
                    _denies_endorsement(low, plan.topic_unqualified)
                    if endorse
                    else _negated_near(low, present)
                )
            )
            # what a guideline does not recommend is said in the IMR rationale, not in
            # the history of the UR decision; so is why IMR decided as it did
            and not (endorse and name in ("summary", "case"))
            and not (name == "summary" and plan.filters.decision and _UR_REASONS.search(ev.quote))
            # what the case involves is not what its letter says it lacks ("no
            # evidence of disc herniation")
            and (plan.topic_negated or not plan.about_case or not _only_negated(low, present))
        ]
        about_guidelines = _GUIDELINE_WORDS_ASKED.search(plan.corrected) or any(
            w.lower().startswith(("guid", "mtus", "odg", "acoem", "recommend", "endors", "support"))
            for w in plan.topic
        )
        if not plan.about_case and not about_guidelines:
            # "which decisions say the patient should move to a home exercise program":
            # a rationale that only quotes the guideline's words did not say it of the
            # case; when some rationale applies it, those quoting alone are left out
            applied = {
                key
                for key, name, ev in matched
                if name != "rationale" or not _GUIDELINE_STATEMENT.search(ev.quote)
            }
            if applied:
                matched = [x for x in matched if x[0] in applied]
        named = plan.unit == "decisions" and any(name == "treatment" for _, name, _ in matched)
        summarised = {key[0] for key, name, _ in matched if name == "summary"}
        matched = [
            (key, "rationale" if name == "case" else name, ev)
            for key, name, ev in matched
            if name != "case" or key[0] not in summarised
        ]
        found: dict[tuple[str, int | None], list[Evidence]] = {}
        for key, name, ev in matched:
            if named and name != "treatment":
                continue
            found.setdefault(key, [])
            if not (name == "rationale" and found[key]):  # the treatment's own words first
                found[key].append(ev)
        if not named:
            # The case the decision was made in is what the topic describes ("for the
            # 47-year-old man with the L4-L5 disc protrusion").
            with_summary = {d for d, i in found if i is None}
            for r in rows:
                if r.doc_id in with_summary:
                    found.setdefault((r.doc_id, r.item_index), [])
        return TopicHits(found, unused, named, tuple(read_as), plan.topic)

    @staticmethod
    def _qualified_name(f: QueryFilters, rows: list[ItemRow]) -> tuple[str, list[ItemRow]] | None:
        """A treatment named with a word the lexicon's name lacks ("open MRI", "upright
        MRI", "MRI arthrogram" for MRI), or by the eponym or acronym of one kind of it
        ("Bankart repair", "SLAP repair" for Labral repair): the name as asked and the
        rows whose treatment names hold it, as a phrase (an acronym also spelled out), or
        all of them (None). Rows of another treatment the question names are kept. None
        for a name that is the lexicon's own, another spelling of it ("magnetic resonance
        imaging", "labrum repair"), or one that only adds a generic word ("MRI scan")."""
        if len(f.mentions) == 1 and len(f.canonicals) == 1:
            mention, canonical = f.mentions[0], f.canonicals[0]
            said = [_stem(w) for w in re.findall(r"[A-Za-z]+", mention)]
            own = {_stem(w) for w in re.findall(r"[A-Za-z]+", canonical)}
            extra = _words_beyond(mention, [canonical])
            if not own or not own < set(said) or not extra:
                return PlanRunner._kind_named(f, rows)
            phrases = _name_phrases(mention, canonical)
            holding = {
                n for n in {r.treatment for r in rows} if any(_holds_phrase(n, p) for p in phrases)
            }
            kept = [r for r in rows if r.treatment in holding]
            if len(kept) == len(rows):
                return None
            forms = {_stem(w) for w in _FORM_WORDS}
            if not kept and set(extra) <= forms:
                return None  # "Butrans patch": a form the name may leave unsaid ("film")
            return mention, kept
        return PlanRunner._kind_named(f, rows)

    @staticmethod
    def _kind_named(f: QueryFilters, rows: list[ItemRow]) -> tuple[str, list[ItemRow]] | None:
        """ "the Bankart repair shoulder surgery case": one kind of a lexicon treatment,
        named by an eponym or acronym its name lacks (written capitalised), that some of
        its requests' names hold: those requests, and every row of the other treatments
        named."""
        lexicon = get_lexicon()
        found = None
        for mention in f.mentions:
            m = lexicon.find(mention)
            if m is None or m.entry.canonical not in f.canonicals:
                continue
            canonical = m.entry.canonical
            if not _kind_marks(mention, canonical):
                continue
            if any(
                other != mention and (o := lexicon.find(other)) and o.entry.canonical == canonical
                for other in f.mentions
            ):
                continue  # "NCV/NCS": another name of it beside, so a synonym, not a kind
            if found is not None:
                return None  # two such names: not one kind
            found = (mention, canonical, m.entry.drug_class)
        if found is None:
            return None
        mention, canonical, kind = found
        phrases = _name_phrases(mention, canonical)
        # its requests: those the lexicon files under it, or in its class ("Left shoulder
        # arthroscopy with Bankart repair" is filed under Arthroscopy, a surgery)
        of_it = [r for r in rows if r.canonical == canonical or (kind and r.drug_class == kind)]
        holding = {
            name
            for name in {r.treatment for r in of_it}  # each name read once
            if any(_holds_phrase(name, p) for p in phrases)
        }
        kept = [r for r in of_it if r.treatment in holding]
        if not kept or len(kept) == len(of_it):
            return None
        dropped = {id(r) for r in of_it} - {id(r) for r in kept}
        return mention, [r for r in rows if id(r) not in dropped]

    @staticmethod
    def _named_by_terms(plan: QueryPlan, rows: list[ItemRow]) -> tuple[str, list[ItemRow]] | None:
        """Two or more of the plan's unused words, next to each other in the question,
        that some (not all) of the rows' treatment names hold as a phrase: the phrase and
        those rows. One word alone ("sessions") is too common to pick requests by, unless
        the question writes it as a name ("the Bankart shoulder case")."""
        runs = [
            r
            for r in _unused_runs(plan)
            if len(r) >= 2
            or (
                r
                and (
                    _a_name(r[0], plan.question)
                    or _names_the_requests(r[0], plan.corrected)
                    or _follows_a_mention(r[0], plan)
                )
            )
        ]
        names = {r.treatment for r in rows}  # many rows share a name: each read once
        for run in sorted(runs, key=len, reverse=True):
            stems = [_stem(w) for w in run]
            holding = set()
            for name in names:
                seq = [_stem(w) for w in re.findall(r"[A-Za-z]+", name)]
                if any(
                    all(
                        _same_stem(a, b)
                        for a, b in zip(seq[i : i + len(stems)], stems, strict=False)
                    )
                    for i in range(len(seq) - len(stems) + 1)
                ):
                    holding.add(name)
            kept = [r for r in rows if r.treatment in holding]
            if kept and len(kept) < len(rows):
                return " ".join(run), kept
        return None

    def _described_by_terms(
        self, plan: QueryPlan, rows: list[ItemRow]
    ) -> tuple[str, list[ItemRow]] | None:
        """Two or more of the plan's unused words, next to each other in the question,
        that some (not all) of the rows' letters hold as a phrase ("truck driver", told in
        the summary or the reviewer's history): the phrase and the rows of those letters.
        A side or a body part ("right arm") is no description of the worker; one word
        alone ("fell off a ladder") is when few of the letters say it."""
        docs = sorted({r.doc_id for r in rows})
        if len(docs) < 2 or len(docs) > 200:
            return None
        runs = _unused_runs(plan)
        texts: dict[str, str] = {}
        for d in docs:
            lt = self.texts.letter(d)
            texts[d] = " ".join(lt.text.split()).lower() if lt is not None else ""
        runs = [
            r
            for r in runs
            if (len(r) >= 2 or (r and len(r[0]) >= 3)) and not any(_BODY_WORD.search(w) for w in r)
        ]
        for run in sorted(runs, key=len, reverse=True):
            # "pinned between two trucks": the letter's "pinned between 2 trucks"
            rx = re.compile(
                r"\b" + r"\w*\W+(?:\w+\W+){0,2}?".join(re.escape(_stem(w)) for w in run) + r"\w*\b"
            )
            holding = {d for d, text in texts.items() if rx.search(text)}
            # one word alone ("ladder") describes a worker only if few letters say it
            few = len(run) >= 2 or len(holding) <= max(3, len(docs) // 10)
            if holding and len(holding) < len(docs) and few:
                # "pinned between two trucks": the other words of the description, where
                # some of those letters say them too, narrow it further
                said = [" ".join(run)]
                for other in runs:
                    if other is run:
                        continue
                    orx = re.compile(
                        r"\b"
                        + r"\w*\W+(?:\w+\W+){0,2}?".join(_said_word(w) for w in other)
                        + r"\w*\b"
                    )
                    narrower = {d for d in holding if orx.search(texts[d])}
                    if narrower and len(narrower) < len(holding):
                        holding, said = narrower, [*said, " ".join(other)]
                return " ".join(said), [r for r in rows if r.doc_id in holding]
        return None

    def _closest_in_meaning(
        self, plan: QueryPlan, result: SearchResult, rows: list[ItemRow]
    ) -> dict[tuple[str, int | None], list[Evidence]]:
        """Sentences of the best-ranked passages (within the plan's rows) whose meaning
        is close to the question's: the question and each sentence embedded, kept at a
        cosine similarity of ``answer.min_sentence_relevance`` or more. Every quote is
        located verbatim in its letter; none that cannot be is kept."""
        import numpy as np

        keys = {(r.doc_id, r.item_index) for r in rows}
        docs = {r.doc_id for r in rows}
        sents: list[tuple[tuple[str, int | None], str]] = []
        for hit in list(result.hits)[: self.index.settings.k]:
            c = hit.chunk
            key = (c.doc_id, c.item_index if c.section == "item" else None)
            if (key[1] is None and c.doc_id not in docs) or (
                key[1] is not None and key not in keys
            ):
                continue
            if plan.in_rationale and key[1] is None:
                continue
            for sentence in re.split(r"(?<=[.;!?])\s+", c.text):
                if len(sentence) >= 25 and not _BOILERPLATE.search(sentence):
                    sents.append((key, sentence))
        if not sents:
            return {}
        vectors = self.index.embedder.embed([x for _, x in dict.fromkeys(sents)])
        query = self.index.query_vector(plan.corrected)
        sims = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query) + 1e-12)
        floor = self.index.settings.answer.min_sentence_relevance
        found: dict[tuple[str, int | None], list[Evidence]] = {}
        ranked = sorted(zip(sims.tolist(), dict.fromkeys(sents), strict=True), key=lambda x: -x[0])
        for sim, (key, sentence) in ranked:
            if sim < floor:
                break
            located = self.texts.locate(key[0], sentence)
            if located is None:
                continue
            ev = Evidence(key[0], key[1], located.span.start, located.span.end, located.quote)
            found.setdefault(key, []).append(ev)
        return found

    #: Letters a topic is looked for in one by one before the lexical index narrows them.
    TOPIC_SCAN = 300

    def _holding_a_topic_word(self, stems: list[str], rows: list[ItemRow]) -> list[ItemRow]:
        """The rows whose letters' chunk texts could hold a word one of the topic's
        ``stems`` matches, found in one SQL scan instead of normalising every letter.

        ``_term_in`` matches a stem inside a word, or a word of its length, with its
        first letter, one letter off. Every letter that could match is kept (a wider
        set; the sentences then decide): a word one letter off the stem holds one of
        its halves whole, so a long stem (eight letters or more) is looked for as its
        two halves, two ``LIKE`` patterns where the stem with each later letter a
        wildcard would be one per letter; a shorter stem, whose halves would match
        almost every letter, as those wildcard patterns. All rows when there are few
        letters.
        """
        docs = {r.doc_id for r in rows}
        if len(docs) <= self.TOPIC_SCAN or not stems:
            return rows
        if any(not re.fullmatch(r"[a-z]+", st) for st in stems):
            return rows  # a wildcard or an odd character in a stem: no safe pattern
        patterns = []
        for st in stems:
            if len(st) >= 8:
                half = len(st) // 2
                patterns += [f"%{st[:half]}%", f"%{st[half:]}%"]
                continue
            patterns.append(f"%{st}%")
            if len(st) >= 4:
                patterns += [f"%{st[:i]}_{st[i + 1 :]}%" for i in range(1, len(st))]
        holding = self.index.catalog.letters_with_text(list(dict.fromkeys(patterns)))
        return [r for r in rows if r.doc_id in holding]

    @staticmethod
    def _sentences(
        nt: NormalizedText, lt: Letter, start: int, end: int
    ) -> list[tuple[Evidence, list[str], set[str], str]]:
        a = bisect.bisect_left(nt.offsets, start)
        b = bisect.bisect_left(nt.offsets, end)
        out = []
        for sa, sb in sentences(nt, a, b):
            seq = [_stem(w) for w in re.findall(r"[A-Za-z]+", nt.flat[sa:sb])]
            value, span = nt.field(sa, sb)
            ev = Evidence(lt.doc_id, None, span.start, span.end, value)
            out.append((ev, seq, set(seq), nt.flat[sa:sb].lower()))
        return out

    # --- answers ---------------------------------------------------------------------
    @staticmethod
    def counted_in_sql(plan: QueryPlan, f: QueryFilters | None = None) -> bool:
        """Whether the plan is a count or list that SQL over the catalog gives whole:
        decisions or letters, in the index or in named letters, by decision, with no
        treatment, topic or restriction that needs every row. (At 100,000 letters,
        building a row per decision takes seconds; the SQL count, milliseconds.)"""
        f = f or plan.filters
        return (
            (
                (plan.unit == "decisions" and plan.kind in ("count", "share", "list"))
                or (plan.unit == "letters" and plan.kind in ("count", "list"))
            )
            and not (plan.topic or plan.terms or plan.absent)
            # letters by how many items they decided: in SQL too
            and not (
                replace(plan, min_items=None, max_items=None).letter_restricted
                if plan.unit == "letters"
                else plan.letter_restricted
            )
            and not (plan.fact or plan.group_by or plan.extreme or plan.letter_of_request)
            # a treatment selects in SQL exactly as ``item_matches`` does, unless its
            # name as asked adds a word that picks some of its requests ("open MRI")
            and not (f.has_treatment and PlanRunner._may_name_some(f))
            and not (f.guideline or f.specialty or f.narrowed)
            and not f.letter_refs_unmatched
        )

    def _any_selected(self, f: QueryFilters) -> bool:
        return sum(_tally(self.index.catalog, f, f.decision)[0].values()) > 0

    @staticmethod
    def _may_name_some(f: QueryFilters) -> bool:
        """Whether a treatment asked with words its lexicon name lacks ("open MRI",
        "SLAP repair" for Labral repair) may pick only some of its requests."""
        names = [*f.canonicals, *f.generics, *f.classes]
        return any(_words_beyond(mention, names) for mention in f.mentions)

    def _from_tally(self, plan: QueryPlan, result: SearchResult, notices: list[str]) -> Answer:
        """``counted_in_sql`` plans: counts in SQL, and only the rows shown are built."""
        f, cat, ex = result.filters, self.index.catalog, self.extractive
        decided = None
        if plan.min_items is not None or plan.max_items is not None:
            decided = (plan.min_items or 0, plan.max_items)

        g, c, k = f.generics, f.classes, f.names_without_generic  # the treatment, as in SQL

        def found(decision: str | None, n: int) -> list[Found]:
            rows = cat.items(
                generics=g, classes=c, canonicals=k, decision=decision, doc_ids=f.doc_ids, limit=n
            )
            return [Found(r, self.texts) for r in rows]

        def write(p: QueryPlan, _rows: list[ItemRow], led: CitationLedger) -> list[str]:
            by, letters = _tally(cat, f, f.decision, decided)
            n = by.get(f.decision, 0) if f.decision else sum(by.values())
            if p.unit == "letters":
                first = cat.first_letters(
                    MAX_LISTED,
                    generics=g,
                    classes=c,
                    canonicals=k,
                    decision=f.decision,
                    doc_ids=f.doc_ids,
                    decided=decided,
                )
                rows = (
                    cat.items(
                        generics=g, classes=c, canonicals=k, decision=f.decision, doc_ids=first
                    )
                    if first
                    else []
                )
                return self._letters(p, rows, led, totals=(letters, n)) if n else []
            if p.kind == "list":
                return ex.list_lines(f, n, found(f.decision, MAX_LISTED), led) if n else []
            if f.decision:
                total = sum(_tally(cat, f, None, decided)[0].values())
                listed = found(f.decision, MAX_LISTED)
                examples = listed or found(None, EXAMPLES_PER_REASON)
                return ex.decided_lines(f, n, total, examples, listed, led) if total else []
            groups = {
                d: (by.get(d, 0), found(d, EXAMPLES_PER_REASON)) for d in (UPHELD, OVERTURNED)
            }
            return ex.tally_lines(f, n, groups, led)

        lead = [" ".join(f"Read '{a}' as {b}." for a, b in plan.corrections)]
        return self._finish(result, plan, lead if plan.corrections else [], write, [], notices)

    def answer(self, plan: QueryPlan, result: SearchResult) -> Answer:
        self.last_plan = plan
        self.follow_plan = None
        ans = self._answer(plan, result)
        ans.plan = (self.last_plan or plan).as_dict()
        return ans

    def _answer(self, plan: QueryPlan, result: SearchResult) -> Answer:
        notices = [f"read '{a}' as {b}" for a, b in plan.corrections]
        if plan.terms:
            notices.append(
                f"not used as a restriction: {', '.join(plan.terms)} (they only rank passages)"
            )
        if plan.absent:
            return self._refuse(
                result,
                notices
                + [
                    f"the letters do not contain {plan.absent}: "
                    + (
                        "an IMR letter decides medical necessity and states no prices or costs"
                        if plan.absent == "costs"
                        else "names of the worker, the physicians and the employer are "
                        "redacted, and IMR reviewers are anonymous"
                    )
                ],
            )
        if result.filters.letter_refs_unmatched:
            f = result.filters
            unmatched = (
                f"no indexed letter was reviewed by a reviewer certified as '{f.specialty}'"
                if f.specialty and not (f.case_number or f.patient_ages or f.injury_date)
                else "no indexed letter matches the one named"
            )
            # no other letter's passages as evidence: the question asked about that one
            return self._refuse(replace(result, hits=[]), [*notices, unmatched])
        f0 = result.filters
        if self.counted_in_sql(plan, f0) and (
            not f0.has_treatment or self._any_selected(f0)
        ):  # none of a treatment decided, or none that way: the answer says so, below
            return self._from_tally(plan, result, notices)
        if plan.kind == "fact" and plan.extreme and plan.fact:
            rows = self.rows(plan, result)
            return self._finish(result, plan, [], self._extreme, rows, notices)
        by_request = plan.kind == "fact" and _letters_by_request(plan, f0)
        if plan.kind == "fact" and not (
            f0.case_number or f0.doc_ids or f0.names_letter or by_request
        ):
            described = (
                self._described_by_terms(plan, self.rows(plan, result)) if plan.terms else None
            )
            docs = sorted({r.doc_id for r in described[1]}) if described else []
            if described and len(docs) <= 3:
                # "for the guy who fell 8 feet off a ladder, when did UR deny it?": the
                # letters that tell of him
                phrase = described[0]
                f = replace(f0, doc_ids=docs)
                ans = self._answer(
                    replace(
                        plan,
                        filters=f,
                        terms=tuple(w for w in plan.terms if w not in phrase.split()),
                    ),
                    replace(result, filters=f, items=matching_items(self.index, f)),
                )
                lead_line = f"Read '{phrase}' as the worker the letter describes."
                return ans.model_copy(update={"answer": f"{lead_line}\n{ans.answer}"})
            return self._refuse(
                result,
                notices
                + [f"name the letter (its case number) to ask for its {plan.fact or 'facts'}"],
            )
        lead: list[str] = []
        plan_letters = plan.letter_of_request
        named = ""
        if plan.letter_of_request:
            # "what all was requested in the Celebrex letter?": the letters with such a
            # request, every request they decided
            plan, result, named = self._letters_of_request(plan, result, lead)
        rows = self.rows(plan, result)
        if plan_letters and not rows:
            notices.append(f"{named}: no other request decided there matches")
        if plan.excluded_words:
            # every row the filters pick, the words aside (the search may have applied
            # them already)
            unnamed = replace(result, items=matching_items(self.index, result.filters))
            every = self.rows(replace(plan, excluded_words=()), unnamed)
            if len(every) == len(rows):
                notices.append(
                    f"could not use '{plan.excluded_said}': no matching request is named so"
                )
        undecided_said: tuple[str, str] | None = None  # what is said when none was decided
        if not rows and result.filters.has_treatment and self._never_decided(plan, result):
            # "What do reviewers say about urine drug screens?", "Were there any
            # psychiatric treatment requests?": no such request was decided, so the
            # treatment words become the topic, searched in every rationale and summary.
            said = tuple(w.lower() for m in result.filters.mentions for w in m.split())
            named = " / ".join(dict.fromkeys(result.filters.canonicals or result.filters.mentions))
            if plan.discusses and self._decided_at_all(plan, result):
                # "what do reviewers say about X": every rationale that discusses X
                where = f"the {f0.decision} decisions" if f0.decision else "every decision"
                notices.append(f"'{named}' is searched as a topic in {where}")
            else:
                undecided_said = (
                    f"No {named} request was decided in the indexed letters.",
                    f"no {named} request was decided; its words are searched as a topic",
                )
                lead.append(undecided_said[0])
                notices.append(undecided_said[1])
            f = replace(
                result.filters, canonicals=[], generics=[], classes=[], names_without_generic=[]
            )
            plan = replace(
                plan,
                # "were there any X requests?": X in what the case was about, not in a
                # guideline quoted by a rationale; "what do reviewers say about X": anywhere
                about_case=plan.about_case or not (plan.discusses or plan.in_rationale),
                # "what do reviewers say about X": the passages, as X's own reasons are none
                kind="topic" if plan.kind == "why" and plan.discusses else plan.kind,
                topic=tuple(dict.fromkeys(said)),
                terms=plan.terms + plan.topic,
                filters=f,
                topic_phrase=True,
                # as asked ("UDS") and as the lexicon names it ("urine drug screen")
                phrases=_asked_phrases(result.filters),
            )
            # the rest of the filters still hold ("in the overturned decisions")
            result = replace(result, filters=f, items=matching_items(self.index, f))
            rows = self.rows(plan, result)
        if (
            not rows
            and plan.kind in ("count", "share")
            and result.filters.has_treatment
            and not self._decided_at_all(plan, result)
        ):  # "How many Soma requests were overturned?" when none was decided at all
            named = " / ".join(dict.fromkeys(result.filters.canonicals or result.filters.mentions))
            notices.append(f"no {named} request was decided in the indexed letters")
        qualified = self._qualified_name(result.filters, rows) if rows else None
        if qualified is not None:
            # "open MRI": the lexicon reads it as MRI; the word it adds picks requests
            mention, so_named = qualified
            if so_named:
                lead.append(f"Read '{mention}' as the requests so named.")
                rows = so_named
                plan = replace(plan, named_by=mention.lower())
            else:
                canonical = result.filters.canonicals[0]
                lead.append(f"No request is named '{mention}'; every {canonical} request is shown.")
                notices.append(f"not used: '{mention}' names no request; read as {canonical}")
        if plan.terms and rows and plan.unit == "decisions":
            # "Why were the associated surgical services in CM17-0014449 upheld?": words
            # that name some of the requests, as those requests' names say them
            named_rows = self._named_by_terms(plan, rows)
            if named_rows is not None:
                phrase, rows = named_rows
                notices = [n for n in notices if not n.startswith("not used as a restriction")]
                left = tuple(w for w in plan.terms if w not in phrase.split())
                if left:
                    notices.append(
                        f"not used as a restriction: {', '.join(left)} (they only rank passages)"
                    )
                lead.append(f"Read '{phrase}' as the requests so named.")
                plan = replace(plan, terms=left, named_by=phrase)
            elif plan.kind == "fact" and (described := self._described_by_terms(plan, rows)):
                # "the truck driver who broke her wrist, EMG of the right arm: when did UR
                # deny it?": words that describe the worker, as the case summary does
                phrase, rows = described
                notices = [n for n in notices if not n.startswith("not used as a restriction")]
                left = tuple(w for w in plan.terms if w not in phrase.split())
                if left:
                    notices.append(
                        f"not used as a restriction: {', '.join(left)} (they only rank passages)"
                    )
                lead.append(f"Read '{phrase}' as the worker the letter describes.")
                plan = replace(plan, terms=left)
        self.last_plan = plan
        decision = result.filters.decision
        if not rows and decision and not plan.topic and result.filters.restricted:
            # "were any approved?": none was; the decisions that went the other way say so
            others = self._narrow(
                plan, matching_items(self.index, replace(result.filters, decision=None))
            )
            if others:
                # a follow-up is about those decisions ("the partial one", "why not?")
                self.follow_plan = replace(plan, filters=replace(plan.filters, decision=None))
            if others and (
                plan.kind in ("list", "general", "decision", "filter")
                or (plan.kind == "count" and plan.unit == "letters")
            ):
                # (a count of decisions says "0 of N" itself) rather than that the letters
                # do not say
                lead += [" ".join(f"Read '{a}' as {b}." for a, b in plan.corrections)] * bool(
                    plan.corrections
                )
                return self._finish(
                    result,
                    plan,
                    lead,
                    lambda p, rw, led: self._none_went(p, rw, led, decision or ""),
                    others,
                    notices,
                )
        if rows and decision and not plan.topic and _ANY_WENT.search(plan.question):
            # "Did any of them get approved?": yes, so many of so many
            f_any = replace(result.filters, decision=None)
            every = self.rows(
                replace(plan, filters=replace(plan.filters, decision=None)),
                replace(result, filters=f_any, items=matching_items(self.index, f_any)),
            )
            if plan.named_by:
                every = [r for r in every if _holds_phrase(r.treatment, plan.named_by.split())]
            among = {(r.doc_id, r.item_index) for r in every}
            if len(every) >= len(rows) and all((r.doc_id, r.item_index) in among for r in rows):
                asked = " / ".join(dict.fromkeys(plan.filters.canonicals or plan.filters.mentions))
                of_what = f"{plan.named_by or asked} decisions".strip()
                lead.append(
                    f"Yes: {len(rows)} of {len(every)} {of_what} "
                    f"{'was' if len(rows) == 1 else 'were'} {decision}."
                )
        if plan.corrections:
            lead.append(" ".join(f"Read '{a}' as {b}." for a, b in plan.corrections))
        topic = None
        undecided = self._undecided_mentions(plan, result, rows)
        if undecided:
            # "urine drug screens or CURES checks for opioid requests": no urine drug
            # screen was decided, the opioids were; it is one more way to say the topic
            plan = replace(plan, phrases=(*undecided, " ".join(plan.topic)))
            notices.append(
                f"no {' / '.join(undecided)} request was decided; searched as part of the topic"
            )
        if plan.topic and (plan.kind != "fact" or by_request):
            fact_topic = plan.kind == "fact" and not plan.topic_phrase
            # "why were the muscle relaxant requests upheld, and what did reviewers say
            # about how long they may be used?": the reasons, with the rest named as unused
            why_topic = (
                (plan.kind == "why" or bool(plan.reasons))
                and not plan.topic_phrase  # a treatment never decided, searched by its name
                and (result.filters.has_treatment or bool(plan.reasons))
            )
            other = None if plan.phrases else _other_names(plan.topic)
            hits = self.topic_hits(replace(plan, phrases=other[0]) if other else plan, rows)
            if other is not None and any(  # "motor vehicle accident" or "MVA", if used
                re.search(rf"\b{re.escape(x)}\b", ev.quote, re.IGNORECASE)
                for evs in hits.found.values()
                for ev in evs
                for x in other[1]
            ):
                also = " / ".join(f"'{x}'" for x in other[1])
                asked = other[0][0]
                asked = _said(asked) if asked in _ABBREVIATIONS else asked
                lead.append(f"Read '{asked}' also as {also}.")
                notices.append(f"read '{asked}' also as {also}")
            topic = hits.found
            if hits.read_as:  # the letters' spelling replaces the reader's correction
                redone = {a for a, _ in hits.read_as}
                stale = {f"read '{a}' as {b}" for a, b in plan.corrections if a.lower() in redone}
                notices = [n for n in notices if n not in stale]
                kept = [(a, b) for a, b in plan.corrections if a.lower() not in redone]
                lead = [x for x in lead if not x.startswith("Read '")]
                if kept:
                    lead.append(" ".join(f"Read '{a}' as {b}." for a, b in kept))
                lead.append(" ".join(f"Read '{a}' as '{b}'." for a, b in hits.read_as))
                notices.extend(f"read '{a}' as '{b}'" for a, b in hits.read_as)
            used_words = [w for w in (hits.topic or plan.topic) if w not in hits.unused]
            for g in plan.topic_or:  # "weaning or tapering", as asked
                both = [x for x in g if x in used_words]
                if len(both) >= 2:
                    # one word per stem: "fall or slips or trips", not "... or falls"
                    shown = [x for n, x in enumerate(both) if _stem(x) not in map(_stem, both[:n])]
                    used_words[used_words.index(both[0])] = " or ".join(shown)
                    for x in both[1:]:
                        used_words.remove(x)
            topic_words = " ".join(used_words)
            if undecided:  # "'urine drug screens' or 'cures checks'"
                topic_words = "' or '".join(plan.phrases)
            if hits.unused:
                notices.append(
                    f"could not use '{' '.join(hits.unused)}': no matching letter uses "
                    f"{'that word' if len(hits.unused) == 1 else 'those words'}"
                )
            if not topic and (fact_topic or why_topic):
                # "who reviewed the overturned partial hospitalization request - I'd like to
                # know the specialty": words no passage of those requests says; the facts
                # of the letters that decided them, with those words named as not used
                notices = [n for n in notices if not n.startswith("could not use")]
                unusable = (
                    f"not used: '{' '.join(plan.topic)}' (no passage of the matching decisions "
                    "says it)"
                )
                notices.append(unusable)
                lead.append(unusable[0].upper() + unusable[1:] + ".")
                topic = None
                plan = replace(plan, topic=(), topic_negated=False)
            elif not topic:
                named_topic = " ".join(plan.topic)
                missing = (
                    f"no passage in the {len(rows)} matching decisions uses the words "
                    f"'{named_topic}'"
                )
                near = (
                    self._closest_in_meaning(plan, result, rows)
                    if plan.kind in ("topic", "list", "general") and not plan.topic_phrase
                    else {}
                )
                if near:
                    # "when the request doesn't state a quantity": the letters say "failed
                    # to provide quantity"; the passages nearest in meaning, said as such
                    lead.append(
                        f"No passage uses the words '{named_topic}'; the {sum(map(len, near.values()))} "
                        f"passages closest in meaning among the best-ranked ones, in "
                        f"{len({d for d, _ in near})} letters (similarity at least "
                        f"{self.index.settings.answer.min_sentence_relevance:.2f}):"
                    )
                    notices.append(missing + "; passages close in meaning are shown instead")
                    return self._finish(
                        result,
                        plan,
                        lead,
                        lambda p, rw, led: self._topic(p, rw, led, near),
                        rows,
                        notices,
                    )
                return self._refuse(
                    result, notices + [missing.replace("uses the words", "discusses")]
                )
            if topic is not None:
                keep = {(d, i) for d, i in topic if i is not None}
                keep_docs = {d for d, _ in topic}
                before = len(rows)
                rows = [
                    r
                    for r in rows
                    if (r.doc_id, r.item_index) in keep
                    or (plan.unit == "letters" and r.doc_id in keep_docs)
                ]
                unused = (
                    f" (not used: '{' '.join(hits.unused)}', which no letter says)"
                    if hits.unused
                    else ""
                )
                if hits.named:
                    # the requests' own names hold it ("SLAP repair" in "Operative arthroscopy,
                    # superior labral anterior posterior repair"): it was decided after all
                    if undecided_said is not None:
                        lead = [x for x in lead if x != undecided_said[0]]
                        notices = [n for n in notices if n != undecided_said[1]]
                    topic_line = (
                        f"Read '{topic_words}' as part of the request{unused}: {len(rows)} of "
                        f"{before} matching requests, in {len({r.doc_id for r in rows})} letters, "
                        "name it."
                    )
                else:
                    topic_line = (
                        f"Read '{topic_words}' as a topic{unused}: {len({r.doc_id for r in rows})} "
                        f"letters ({len(rows)} of {before} matching decisions) discuss it."
                    )
                lead.append(topic_line)
        kind = plan.kind
        if kind == "general":
            kind = "list" if (result.filters.restricted or plan.letter_restricted) else "general"
        if plan.guidelines_asked and kind in ("list", "general", "decision", "topic"):
            return self._finish(result, plan, lead, self._guideline_lines, rows, notices)
        if kind == "fact":
            if by_request and rows:
                # "the date of injury in the sit/stand workstation letter": the letters
                # with such requests, each with the fact
                n = len({r.doc_id for r in rows})
                what = _FACT_LABELS.get(plan.fact or "") or _LETTER_FIELDS.get(plan.fact or "")
                picked = (
                    f"decided {'this request' if len(rows) == 1 else 'these requests'}"
                    if result.filters.has_treatment
                    else ("matches" if n == 1 else "match")
                )
                lead.append(
                    f"{n} letter{'s' if n != 1 else ''} {picked}"
                    + (f"; the {what} of each:" if n > 1 and what else ":")
                )
            return self._finish(result, plan, lead, self._fact, rows, notices)
        if kind == "group":
            return self._finish(result, plan, lead, self._group, rows, notices)
        if topic is not None and (kind in ("topic", "general", "list") or plan.unit == "letters"):
            return self._finish(
                result, plan, lead, lambda p, rw, led: self._topic(p, rw, led, topic), rows, notices
            )
        if plan.unit == "letters" and kind == "share":
            base = self._letter_base(plan, result)
            return self._finish(
                result,
                plan,
                lead,
                lambda p, rw, led: self._letter_share(p, rw, base, led),
                rows,
                notices,
            )
        if plan.unit == "letters" and kind in ("list", "count", "topic"):
            return self._finish(result, plan, lead, self._letters, rows, notices)
        decision = result.filters.decision
        if (
            kind in ("count", "share")
            and decision
            and (plan.letter_restricted or topic is not None)
        ):
            keys = None
            if topic is not None:
                # the topic's own matches, found again over every decision
                keys = set(self.topic_hits(plan, self._base(plan, result, None)).found)
            base = self._base(plan, result, keys)
            return self._finish(
                result,
                plan,
                lead,
                lambda p, rw, led: self._share(p, rw, base, led, decision),
                rows,
                notices,
            )
        narrowed = replace(result, items=rows)
        if rows and len(rows) < len(result.items) and isinstance(result.hits, RankedHits):
            narrowed.hits = result.hits.within(rows)  # passages of the asked requests
        if plan.letter_restricted or topic is not None:
            # The writer's head line says the plan's restrictions with its own scope.
            narrowed.filters = replace(
                result.filters, narrowed=_extra_scope(plan), cite_reasons=plan.reasons
            )
            if topic is not None:
                lead.remove(topic_line)
                notices.append(topic_line)
        # A count or a list ranks its examples only by words the filters did not use.
        rank = bool(plan.terms) or kind not in ("count", "share", "list")
        ans = self.extractive.write(narrowed, kind, rank=rank)
        if lead and ans.answered:
            ans.answer = "\n".join(lead) + "\n" + ans.answer
        ans.notices = notices + ans.notices
        ans.filters = plan.as_dict()["filters"] | {
            k: v for k, v in plan.as_dict().items() if k not in ("filters",)
        }
        return ans

    def _never_decided(self, plan: QueryPlan, result: SearchResult) -> bool:
        """No request of the plan's treatment was decided in the letters it asks about."""
        if plan.discusses:
            return True
        by_request = plan.kind == "fact" and plan.fact_decisions
        if not by_request and plan.kind not in (
            "list",
            "general",
            "why",
            "topic",
            "decision",
            "filter",
            "fact",  # "26 year old woman, the SLAP repair letter: date of injury?"
        ):
            return False  # "how many X requests": none is the answer
        f = replace(result.filters, decision=None)
        return not self._narrow(
            replace(plan, all_decided=None, none_before=False), matching_items(self.index, f)
        )

    @staticmethod
    def _undecided_mentions(
        plan: QueryPlan, result: SearchResult, rows: list[ItemRow]
    ) -> tuple[str, ...]:
        """Treatments a topic question names beside others ("urine drug screens or CURES
        checks for opioid requests") that no row is a request for, while the others'
        rows are: their names as asked, lower-cased."""
        if not (plan.topic and rows and not plan.phrases) or plan.kind not in (
            "topic",
            "list",
            "general",
        ):
            return ()
        from imr_assist.parse.lexicon import get_lexicon

        names = {r.canonical for r in rows} | {r.generic for r in rows}
        out = []
        for mention in result.filters.mentions:
            found = get_lexicon().find_all(mention)
            if found and all(
                m.entry.canonical not in names and (m.entry.generic or "") not in names
                for m in found
            ):
                out.append(mention.lower())
        return tuple(dict.fromkeys(out)) if len(out) < len(result.filters.mentions) else ()

    def _decided_at_all(self, plan: QueryPlan, result: SearchResult) -> bool:
        """Some request of the plan's treatment was decided, on either side."""
        f = replace(result.filters, decision=None)
        return bool(
            self._narrow(
                replace(plan, all_decided=None, none_before=False), matching_items(self.index, f)
            )
        )

    def _refuse(self, result: SearchResult, notices: list[str]) -> Answer:
        ans = self.extractive.write(replace(result, items=[]), "general")
        return Answer(
            question=result.question,
            answer=CANNOT_ANSWER,
            answered=False,
            mode="extractive",
            filters=result.filters.as_dict(),
            evidence=ans.evidence,
            notices=notices,
        )

    def _finish(
        self,
        result: SearchResult,
        plan: QueryPlan,
        lead: list[str],
        writer: Callable[[QueryPlan, list[ItemRow], CitationLedger], list[str]],
        rows: list[ItemRow],
        notices: list[str],
    ) -> Answer:
        led = CitationLedger(self.texts)
        lines = writer(plan, rows, led)
        if not lines or not led.citations:
            return self._refuse(result, notices)
        d = plan.as_dict()
        return Answer(
            question=result.question,
            answer="\n".join(lead + lines),
            answered=True,
            mode="extractive",
            filters=d["filters"] | {k: v for k, v in d.items() if k != "filters"},
            citations=led.citations,
            notices=notices,
        )

    def _partial(self, plan: QueryPlan, row: ItemRow, led: CitationLedger) -> str:
        """For a question about partial certifications: what was asked and authorized."""
        if not plan.partial:
            return ""
        return ExtractiveWriter._partial_note(Found(row, self.texts), led)

    def _none_went(
        self, plan: QueryPlan, rows: list[ItemRow], led: CitationLedger, decision: str
    ) -> list[str]:
        """No matching decision went ``decision``'s way: how each of them went."""
        scope = _extra_scope(plan)
        named = " / ".join(dict.fromkeys(plan.filters.canonicals or plan.filters.mentions))
        what = f"{named} decisions" if named else "matching decisions"
        ways = Counter(r.decision for r in rows)
        went = ", ".join(f"{n} {d}" for d, n in sorted(ways.items()))
        lines = [
            f"None: 0 of {len(rows)} {what}{' (' + scope + ')' if scope else ''} were "
            f"{decision} ({went}):"
        ]
        for r in rows[:MAX_LISTED]:
            lt = self.texts.letter(r.doc_id)
            name = (lt.case_number if lt else None) or r.doc_id
            lines.append(
                f"- {r.treatment} ({name}): {r.decision} {self._cite_line(r, led)}".rstrip()
            )
        if len(rows) > MAX_LISTED:
            lines.append(f"- and {len(rows) - MAX_LISTED} more")
        return lines

    def _guideline_lines(
        self, plan: QueryPlan, rows: list[ItemRow], led: CitationLedger
    ) -> list[str]:
        """Each decision with the guideline its reviewer based it on, quoted."""
        lines = [
            f"The guideline each of {len(rows)} decision{'s' if len(rows) != 1 else ''} rested on:"
        ]
        for r in rows[:MAX_LISTED]:
            lt = self.texts.letter(r.doc_id)
            if lt is None or r.item_index >= len(lt.items):
                continue
            it = lt.items[r.item_index]
            name = lt.case_number or lt.doc_id
            line = f"- {r.treatment} ({name}): {r.decision} {self._cite_line(r, led)}".rstrip()
            span = it.spans.get("reviewer_guideline")
            if span is not None:
                quote = " ".join(lt.text[span.start : span.end].split())
                mark = led.cite(Evidence(lt.doc_id, r.item_index, span.start, span.end, quote))
                line += f'; "{quote}" {mark}'
            else:
                line += "; the letter names no guideline for it"
            lines.append(line)
        if len(rows) > MAX_LISTED:
            lines.append(f"- and {len(rows) - MAX_LISTED} more")
        return lines

    def _cite_line(self, row: ItemRow, led: CitationLedger) -> str:
        lt = self.texts.letter(row.doc_id)
        if lt is None or row.item_index >= len(lt.items):
            return ""
        return led.cite(decision_line(lt, lt.items[row.item_index]))

    def _fact(self, plan: QueryPlan, rows: list[ItemRow], led: CitationLedger) -> list[str]:
        doc_ids = list(dict.fromkeys(r.doc_id for r in rows))
        lines = []
        for doc_id in doc_ids[:MAX_LISTED]:
            lt = self.texts.letter(doc_id)
            if lt is None:
                continue
            name = lt.case_number or lt.doc_id
            value, keys = self._fact_value(lt, plan.fact or "")
            if value is None:
                lines.append(f"{name}: the letter does not state its {plan.fact}.")
                continue
            marks = ""
            for span in keys:
                quote = " ".join(lt.text[span.start : span.end].split())
                marks += led.cite(Evidence(lt.doc_id, None, span.start, span.end, quote))
            label = (
                ""
                if "+" in (plan.fact or "")
                else _LETTER_FIELDS.get(plan.fact or "")
                or _FACT_LABELS.get(plan.fact or "", (plan.fact or "").replace("_", " "))
            )
            lines.append(f"{name}: {label} {value} {marks}".replace(":  ", ": ").rstrip())
            if plan.fact_decisions:  # "... and what got decided?"
                for r in (r for r in rows if r.doc_id == doc_id):
                    lines.append(
                        f"- {r.treatment}: {r.decision} {self._cite_line(r, led)}".rstrip()
                    )
        if len(doc_ids) > MAX_LISTED:
            lines.append(f"and {len(doc_ids) - MAX_LISTED} more letters")
        return lines

    def _extreme(self, plan: QueryPlan, rows: list[ItemRow], led: CitationLedger) -> list[str]:
        """The youngest or oldest worker, the earliest or latest decision: the letters
        with the least or greatest value of the fact, each cited where it states it."""
        fact = plan.fact or ""
        stated: list[tuple[Any, Letter, list[Span]]] = []
        unstated = 0
        for doc_id in dict.fromkeys(r.doc_id for r in rows):
            lt = self.texts.letter(doc_id)
            if lt is None:
                continue
            value, spans = self._fact_value(lt, fact)
            if value is None or not spans:
                unstated += 1
            else:
                stated.append((value, lt, spans))
        if not stated:
            return []
        if plan.extreme == "mean":
            return self._mean_age(plan, stated, unstated, led)
        if plan.extreme == "range":  # "the earliest and latest": each, one after the other
            first = self._extreme(replace(plan, extreme="min"), rows, led)
            return [
                *(line for line in first if not line.endswith("do not state it.")),
                *self._extreme(replace(plan, extreme="max"), rows, led),
            ]
        best = (min if plan.extreme == "min" else max)(v for v, _, _ in stated)
        top = [(lt, spans) for v, lt, spans in stated if v == best]
        label = _FACT_LABELS.get(fact) or _LETTER_FIELDS.get(fact) or fact.replace("_", " ")
        word = {
            ("age", "min"): "youngest",
            ("age", "max"): "oldest",
            ("decision_date", "min"): "earliest",
            ("decision_date", "max"): "latest",
        }.get((fact, plan.extreme or ""), plan.extreme or "")
        scope = _extra_scope(plan)
        among = f"{len(stated)} letters" + (f" ({scope})" if scope else "")
        if fact == "age":
            head = f"The {word} worker, of the {among} that state an age, is {best} years old"
        elif fact == "items_decided":
            most = "most" if plan.extreme == "max" else "fewest"
            head = f"The {most} requests decided in one letter, of the {among}, is {best}"
        elif fact == "ur_to_decision_days":
            most = "longest" if plan.extreme == "max" else "shortest"
            head = (
                f"The {most} time from the UR denial to the IMR decision, of the {among} that "
                f"state both dates, is {best} days"
            )
        else:
            head = f"The {word} {label}, of the {among} that state one, is {best}"
        lines = [head + (f", in {len(top)} letters:" if len(top) > 1 else ":")]
        for lt, spans in top[:MAX_LISTED]:
            marks = ""
            for span in spans:
                quote = " ".join(lt.text[span.start : span.end].split())
                marks += led.cite(Evidence(lt.doc_id, None, span.start, span.end, quote))
            lines.append(f"- {lt.case_number or lt.doc_id}: {label} {best} {marks}".rstrip())
        if unstated:
            lines.append(f"{unstated} matching letters do not state it.")
        return lines

    def _mean_age(
        self,
        plan: QueryPlan,
        stated: list[tuple[Any, Letter, list[Span]]],
        unstated: int,
        led: CitationLedger,
    ) -> list[str]:
        """The average worker's age over the letters that state one, each age cited."""
        ages = sorted(int(v) for v, _, _ in stated)
        mid = len(ages) // 2
        median = ages[mid] if len(ages) % 2 else (ages[mid - 1] + ages[mid]) / 2
        scope = _extra_scope(plan)
        among = f"{len(ages)} letters" + (f" ({scope})" if scope else "")
        lines = [
            f"The average age of the workers, over the {among} that state one, is "
            f"{sum(ages) / len(ages):.1f} (median {median:g}; youngest {ages[0]}, oldest "
            f"{ages[-1]}). Each age:"
        ]
        by_age: dict[int, list[str]] = defaultdict(list)
        for value, lt, spans in sorted(stated, key=lambda x: (int(x[0]), x[1].case_number or "")):
            marks = ""
            for span in spans:
                quote = " ".join(lt.text[span.start : span.end].split())
                marks += led.cite(Evidence(lt.doc_id, None, span.start, span.end, quote))
            by_age[int(value)].append(f"{lt.case_number or lt.doc_id} {marks}".rstrip())
        for age in sorted(by_age):
            lines.append(f"- {age}: {', '.join(by_age[age])}")
        if unstated:
            lines.append(f"{unstated} matching letters do not state it.")
        return lines

    def _fact_value(self, lt: Letter, fact: str) -> tuple[object | None, list[Span]]:
        """A letter fact and the spans that state it; "age+sex" asks for both."""
        if "+" in fact:
            said: list[str] = []
            spans: list[Span] = []
            for one in fact.split("+"):
                value, stated = self._fact_value(lt, one)
                if value is not None:
                    label = _LETTER_FIELDS.get(one) or _FACT_LABELS.get(one, one.replace("_", " "))
                    said.append(f"{label} {value}")
                    spans += stated
            return ("; ".join(said) or None), spans
        if fact in _LETTER_FIELDS:
            return getattr(lt, fact, None), _spans(lt.spans, [fact])
        if fact in ("specialty", "licensure"):
            values = lt.reviewer.specialties if fact == "specialty" else lt.reviewer.licensure
            name = "specialties" if fact == "specialty" else "licensure"
            keys = [f"{name}.{i}" for i in range(len(values))]
            return (", ".join(values) or None), _spans(lt.reviewer.spans, keys)
        if fact in ("age", "sex"):
            return getattr(lt.patient, fact), _spans(lt.patient.spans, [fact])
        if fact == "body_region":
            return self._injured_region(lt)
        if fact == "ur_to_decision_days":  # from the UR denial to the IMR decision
            import datetime as dt

            try:
                days = (
                    dt.date.fromisoformat(lt.decision_date or "")
                    - dt.date.fromisoformat(lt.ur_denial_date or "")
                ).days
            except ValueError:
                return None, []
            return days, _spans(lt.spans, ["ur_denial_date", "decision_date"])
        if fact == "items_decided":  # each decision line, cited
            spans = []
            for it in lt.items:
                ev = decision_line(lt, it)
                spans.append(Span(start=ev.start, end=ev.end))
            return len(lt.items), spans
        if fact == "credentials":
            spec, a = self._fact_value(lt, "specialty")
            lic, b = self._fact_value(lt, "licensure")
            if spec is None and lic is None:
                return None, []
            parts = [f"specialty {spec}" if spec else "", f"licensed in {lic}" if lic else ""]
            return "; ".join(x for x in parts if x), a + b
        if fact == "mechanism":
            for sentence in re.split(r"(?<=[.!?])\s+", lt.summary or ""):
                if (
                    _MECHANISM.search(sentence)
                    and (located := self.texts.locate(lt.doc_id, sentence)) is not None
                ):
                    return f'"{located.quote}"', [located.span]
            return None, []
        return None, []

    def _share(
        self,
        plan: QueryPlan,
        rows: list[ItemRow],
        base: list[ItemRow],
        led: CitationLedger,
        decision: str,
    ) -> list[str]:
        n, total = len(rows), len(base)
        if not total:
            return []
        shown = rows or base
        marks = "".join(self._cite_line(r, led) for r in shown[:3])
        f = plan.filters
        extra = _extra_scope(plan)
        where = scope(f)
        if extra:
            where = f"{where[:-1]}; {extra})" if where else f" ({extra})"
        lines = [
            f"{n} of {total} {subject(f)}decision{'s' if total != 1 else ''} in the index"
            f"{where} {'was' if n == 1 else 'were'} {decision} ({100 * n / total:.0f}%). "
            f"{marks}".rstrip()
        ]
        for r in rows[:MAX_LISTED]:
            lines.append(f"- {r.treatment} ({r.doc_id}): {r.decision} {self._cite_line(r, led)}")
        if n > MAX_LISTED:
            lines.append(f"- and {n - MAX_LISTED} more")
        return lines

    def _injured_region(self, lt: Letter) -> tuple[str | None, list[Span]]:
        """The region of the injury: the diagnoses, else the summary's first case sentence."""
        for i, d in enumerate(lt.diagnoses):
            found = [rg for rg, rx in REGIONS.items() if rx.search(d)]
            if found:
                return _as_written(found, d), _spans(lt.spans, [f"diagnoses.{i}"])
        for sentence in _case_sentences(lt)[len(lt.diagnoses) :]:
            found = [rg for rg, rx in REGIONS.items() if rx.search(sentence)]
            if found and (located := self.texts.locate(lt.doc_id, sentence)) is not None:
                return _as_written(found, sentence), [located.span]
        return None, []

    def _group(self, plan: QueryPlan, rows: list[ItemRow], led: CitationLedger) -> list[str]:
        groups: dict[str, list[ItemRow]] = defaultdict(list)
        said_as: dict[frozenset[str], str] = {}
        if plan.group_regions and not re.search(
            r"\b(?:else|other|others|rest|remaining)\b", plan.question, re.IGNORECASE
        ):  # "cervical vs lumbar": those regions only
            rows = [r for r in rows if self._group_key("region", r, plan) != "other regions"]
        for r in rows:
            if plan.group_by == "state":  # every state the reviewer is licensed in
                lt = self.texts.letter(r.doc_id)
                for st in (lt.reviewer.licensure if lt else []) or ["no state stated"]:
                    groups[st].append(r)
                continue
            if plan.specialty_groups and plan.specialty_any:
                # each specialty named, with every reviewer who holds it (a dual-certified
                # reviewer counts in each of theirs)
                held = frozenset(specialty_key(s) for s in r.specialties)
                for want in plan.specialty_groups:
                    if want <= held:
                        # named as the letters write it ("Orthopedic Surgery")
                        said = [s for s in r.specialties if specialty_key(s) in want]
                        label = said_as.setdefault(want, " / ".join(said))
                        groups[label].append(r)
                continue
            groups[self._group_key(plan.group_by or "", r, plan)].append(r)
        unit = plan.unit
        n_docs = len({r.doc_id for r in rows})
        lines = [
            f"{len(rows)} decision{'s' if len(rows) != 1 else ''} in {n_docs} "
            f"letter{'s' if n_docs != 1 else ''}, by {plan.group_by}:"
        ]
        if plan.group_by == "state":
            lines[0] = lines[0][:-1] + (
                " of the reviewer's licensure (a reviewer licensed in several states counts in each):"
            )
        if plan.specialty_groups and plan.specialty_any:
            lines[0] = lines[0][:-1] + (
                " (every reviewer holding the specialty counts in it, also one certified in "
                "another):"
            )
        elif plan.specialty_groups:
            # each group is the reviewers certified in exactly what it names
            lines[0] = lines[0][:-1] + (
                " (reviewers certified in exactly the specialties named; a reviewer who "
                "also holds another certification is not counted):"
            )
            found = {frozenset(specialty_key(s) for s in v[0].specialties) for v in groups.values()}
            for want in plan.specialty_groups:
                if want not in found:
                    name = " / ".join(sorted(x.title() for x in want))
                    groups[name + " (no decisions)"] = []

        def size(k: str) -> int:  # "denied most often": by the decisions measured
            g = groups[k]
            return sum(1 for r in g if r.decision == plan.measure) if plan.measure else len(g)

        for key in sorted(groups, key=lambda k: (-size(k), -len(groups[k]), k)):
            g = groups[key]
            if not g:
                lines.append(f"- {key}")
                continue
            up = sum(1 for r in g if r.decision == UPHELD)
            over = len(g) - up
            mark = self._cite_line(g[0], led)
            if unit == "letters":
                docs = {r.doc_id for r in g}
                over_docs = {r.doc_id for r in g if r.decision == OVERTURNED}
                lines.append(
                    f"- {key}: {len(docs)} letters, {len(over_docs)} with an overturned "
                    f"decision ({len(g)} decisions: {up} upheld, {over} overturned) {mark}"
                )
            else:
                rate = 100 * over / len(g)
                lines.append(
                    f"- {key}: {len(g)} decision{'s' if len(g) != 1 else ''}, {up} upheld, "
                    f"{over} overturned ({rate:.0f}% overturned) {mark}"
                )
            if plan.specialty_groups and plan.specialty_any:
                # each certification as the letters list it, within the group
                written: dict[str, list[ItemRow]] = defaultdict(list)
                for r in g:
                    written[", ".join(r.specialties)].append(r)
                for name in sorted(written, key=lambda n: (-len(written[n]), n)):
                    w = written[name]
                    w_over = sum(1 for r in w if r.decision == OVERTURNED)
                    lines.append(
                        f"  - {name}: {len(w)} decision{'s' if len(w) != 1 else ''}, "
                        f"{len(w) - w_over} upheld, {w_over} "
                        f"overturned {self._cite_line(w[0], led)}".rstrip()
                    )
        return lines

    def _group_key(self, by: str, r: ItemRow, plan: QueryPlan | None = None) -> str:
        lt = self.texts.letter(r.doc_id)
        if by == "specialty":
            return ", ".join(r.specialties) or "specialty not stated"
        if by == "decision":
            return r.decision
        if by == "class":
            return r.drug_class or "other"
        if by == "treatment":
            return r.canonical or r.treatment
        if by == "guideline":  # the guidelines the reviewer based the decision on
            return " + ".join(sorted(r.guidelines)) or "no guideline named"
        if by == "region":  # the request's own body region, as its name says it
            if plan is not None and plan.group_regions:  # the regions the question names
                hit = [rg for rg in plan.group_regions if REGIONS[rg].search(r.treatment)]
                return hit[0] if hit else "other regions"
            named = [rg for rg, rx in REGIONS.items() if rx.search(r.treatment)]
            return " and ".join(named) if named else "no region named"
        if lt is None:
            return "unknown"
        if by == "month":
            return (lt.decision_date or "no decision date")[:7]
        if by == "year":
            return (lt.decision_date or "no decision date")[:4]
        if by == "sex":
            return lt.patient.sex or "sex not stated"
        if by == "age":
            age = lt.patient.age
            if age is None:
                return "age not stated"
            if plan is not None and plan.age_bands:  # the bands the question names
                cuts = plan.age_bands
                if age < cuts[0]:
                    return f"under {cuts[0]}"
                if age >= cuts[-1]:
                    return f"{cuts[-1]} and over"
                lo = max(c for c in cuts if c <= age)
                return f"{lo}-{min(c for c in cuts if c > lo) - 1}"
            if age < 30:
                return "under 30"
            if age >= 60:
                return "60 and over"
            return f"{age // 10 * 10}-{age // 10 * 10 + 9}"
        if by == "items":
            n = len(lt.items)
            return f"{n} item{'s' if n != 1 else ''}"
        if by == "licensure":  # the state the question names: California by default
            state = (plan.group_state if plan else None) or "California"
            return (
                f"licensed in {state}"
                if state.lower() in (s.lower() for s in lt.reviewer.licensure)
                else f"not licensed in {state}"
            )
        if by == "partial":
            it = lt.items[r.item_index]
            return (
                "partial/modified certification"
                if it.partial
                else "no partial certification (the whole request denied by UR)"
            )
        return "all"

    def _letter_base(self, plan: QueryPlan, result: SearchResult) -> list[ItemRow]:
        """The letters a share of letters is out of: the plan without the property the
        share measures (every decision upheld, a decision overturned), else every letter."""
        if plan.all_decided:
            unplanned = replace(plan, all_decided=None)
            return self._narrow(unplanned, matching_items(self.index, result.filters))
        if result.filters.decision:
            return self._base(plan, result, None)
        return matching_items(self.index, QueryFilters())

    def _letter_share(
        self, plan: QueryPlan, rows: list[ItemRow], base: list[ItemRow], led: CitationLedger
    ) -> list[str]:
        docs = list(dict.fromkeys(r.doc_id for r in rows))
        total = len({r.doc_id for r in base})
        if not total:
            return []
        parts = [_extra_scope(plan), scope(replace(plan.filters, decision=None)).strip(" ()")]
        if plan.filters.decision:
            parts.insert(0, f"with at least one {plan.filters.decision} decision")
        what = "; ".join(p for p in parts if p)
        lines = [
            f"{len(docs)} of {total} letters ({100 * len(docs) / total:.0f}%)"
            + (f": {what}" if what else "")
            + "."
        ]
        return lines + self._letters(plan, rows, led)[1:]

    def _letters(
        self,
        plan: QueryPlan,
        rows: list[ItemRow],
        led: CitationLedger,
        totals: tuple[int, int] | None = None,
    ) -> list[str]:
        """The letters of ``rows`` with their decisions; ``totals`` (letters, decisions)
        when ``rows`` holds only the first letters' rows."""
        by_doc: dict[str, list[ItemRow]] = defaultdict(list)
        for r in rows:
            by_doc[r.doc_id].append(r)
        n_letters, n_rows = totals or (len(by_doc), len(rows))
        f = plan.filters
        said = [
            " / ".join(dict.fromkeys(f.canonicals or f.mentions)),
            f"{f.decision} decisions" if f.decision else "",
            f"reviewer specialty {f.specialty}" if f.specialty else "",
            f"citing {f.guideline}" if f.guideline else "",
            _extra_scope(plan),
        ]
        scope = "; ".join(x for x in said if x)
        lines = [
            f"{n_letters} letter{'s' if n_letters != 1 else ''} ({n_rows} "
            f"decision{'s' if n_rows != 1 else ''}{'; ' + scope if scope else ''}):"
        ]
        for doc_id, g in list(by_doc.items())[:MAX_LISTED]:
            lt = self.texts.letter(doc_id)
            name = (lt.case_number if lt else None) or doc_id
            items = "; ".join(
                f"{r.treatment}: {r.decision} {self._cite_line(r, led)}" for r in g[:3]
            )
            more = f"; and {len(g) - 3} more" if len(g) > 3 else ""
            lines.append(f"- {name}: {items}{more}")
        if n_letters > MAX_LISTED:
            lines.append(f"- and {n_letters - MAX_LISTED} more letters")
        return lines

    def _topic(
        self,
        plan: QueryPlan,
        rows: list[ItemRow],
        led: CitationLedger,
        topic: dict[tuple[str, int | None], list[Evidence]],
    ) -> list[str]:
        by_doc: dict[str, list[tuple[int | None, Evidence]]] = defaultdict(list)
        for (doc_id, idx), evs in topic.items():
            for ev in evs:
                by_doc[doc_id].append((idx, ev))
        rowmap = {(r.doc_id, r.item_index): r for r in rows}
        lines = []
        for doc_id, quoted in list(by_doc.items())[:MAX_LISTED]:
            lt = self.texts.letter(doc_id)
            name = (lt.case_number if lt else None) or doc_id
            parts = []
            shown = quoted[:TOPIC_QUOTES_PER_LETTER]
            for idx, ev in shown:
                row = rowmap.get((doc_id, idx)) if idx is not None else None
                where = f"{row.treatment} ({row.decision})" if row else "case summary"
                note = self._partial(plan, row, led) if row else ""
                parts.append(f'{where}: "{ev.quote}" {led.cite(ev)}{note}')
            if plan.unit == "decisions":
                # every decision that discusses it is named, beyond the quotes shown
                done = {idx for idx, _ in shown}
                rest = dict.fromkeys(i for i, _ in quoted if i is not None and i not in done)
                # and the decisions of a case whose summary discusses it
                rest.update(
                    dict.fromkeys(
                        i for d, i in topic if d == doc_id and i is not None and i not in done
                    )
                )
                also = [
                    f"{rowmap[(doc_id, i)].treatment} ({rowmap[(doc_id, i)].decision}) "
                    f"{self._cite_line(rowmap[(doc_id, i)], led)}".rstrip()
                    + self._partial(plan, rowmap[(doc_id, i)], led)
                    for i in rest
                    if (doc_id, i) in rowmap
                ]
                if also:
                    parts.append("also " + "; ".join(also))
            lines.append(f"- {name}: " + "; ".join(parts))
        if len(by_doc) > MAX_LISTED:
            lines.append(f"- and {len(by_doc) - MAX_LISTED} more letters")
        return lines


def _as_written(regions: list[str], text: str) -> str:
    """Regions with the letter's own words for them: "ankle and foot ('left foot')"."""
    said = []
    for rg in regions:
        m = REGIONS[rg].search(text)
        if m is None:
            continue
        side = re.search(
            r"\b(?:left|right|bilateral)\s+(?:\w+\s+)?$",
            text[max(0, m.start() - 20) : m.start()],
            re.I,
        )
        said.append(((side.group(0) if side else "") + m.group(0)).strip())
    words = ", ".join(f"'{w}'" for w in dict.fromkeys(said) if w.lower() not in regions)
    return ", ".join(regions) + (f" ({words})" if words else "")


def _extra_scope(plan: QueryPlan) -> str:
    """The plan's restrictions beyond the item filters, as the answer says them."""
    parts = []
    if plan.regions:
        parts.append("about the " + " or ".join(plan.regions))
    if plan.excluded is not None:
        parts.append("not " + " or ".join(plan.excluded.mentions or plan.excluded.canonicals))
    if plan.regions_excluded:
        parts.append("not naming the " + " or ".join(plan.regions_excluded))
    if plan.excluded_words and plan.excluded_said:
        parts.append(plan.excluded_said)  # "not counting the pre-op chest x-ray", as asked
    elif plan.excluded_words:
        parts.append("not naming " + " or ".join(f"'{w}'" for w in plan.excluded_words))
    if plan.letter_regions:
        parts.append("cases involving the " + " or ".join(plan.letter_regions))
    if plan.partial and plan.partial_kind == "modified":
        parts.append("partial certifications that left the whole original request to IMR")
    elif plan.partial and plan.partial_kind == "remaining":
        parts.append("partial certifications where IMR decided the remaining portion")
    elif plan.partial:
        parts.append("partial certifications")
    if plan.none_before:
        parts.append("where the letter says the worker had none of it before")
    if plan.reviewer_basis == "outside_mtus":
        parts.append("the reviewer based the decision on recommendations outside the MTUS")
    elif plan.reviewer_basis == "no_evidence":
        parts.append("the reviewer cited no medical evidence")
    if plan.sex and not plan.filters.patient_sex:
        parts.append(f"{plan.sex} workers")
    if plan.age_min is not None or plan.age_max is not None:
        lo, hi = plan.age_min, plan.age_max
        if lo is not None and hi is not None:
            parts.append(f"aged {lo}" if lo == hi else f"aged {lo}-{hi}")
        else:
            parts.append(f"aged {lo} or older" if lo is not None else f"aged {hi} or younger")
    if plan.licensed_states_min:
        parts.append(f"reviewer licensed in {plan.licensed_states_min} or more states")
    if plan.licensed_in and plan.licensed_not:
        parts.append(f"reviewer not licensed in {plan.licensed_in}")
    elif plan.licensed_in and plan.licensed_also:
        parts.append(f"reviewer licensed in {', '.join((plan.licensed_in, *plan.licensed_also))}")
    elif plan.licensed_in and plan.licensed_except:
        parts.append(f"reviewer licensed in {plan.licensed_in}, not in {plan.licensed_except}")
    elif plan.licensed_in:
        parts.append(
            f"reviewer licensed {'only ' if plan.licensed_only else ''}in {plan.licensed_in}"
        )
    if plan.decided_in:
        parts.append(f"decided in {plan.decided_in}")
    if plan.decided_not_in:
        parts.append(f"not decided in {plan.decided_not_in}")
    if plan.ur_denied_in:
        parts.append(f"UR denial in {plan.ur_denied_in}")
    if plan.decided_from and plan.decided_to:
        parts.append(f"decided {plan.decided_from} to {plan.decided_to}")
    elif plan.decided_from:
        parts.append(f"decided on or after {plan.decided_from}")
    elif plan.decided_to:
        parts.append(f"decided on or before {plan.decided_to}")
    if plan.min_items is not None or plan.max_items is not None:
        least, most = plan.min_items, plan.max_items
        parts.append(
            f"letters that decided {least} item{'s' if least != 1 else ''}"
            if least == most
            else f"letters that decided at least {least} items"
            if most is None
            else f"letters that decided at most {most} items"
        )
    if plan.reasons:
        parts.append("reason: " + ", ".join(reason_label_in_text(r) for r in plan.reasons))
    if plan.all_decided == "mixed":
        parts.append("letters with decisions both upheld and overturned")
    elif plan.all_decided:
        parts.append(f"letters with every decision {plan.all_decided}")
    if plan.topic:
        parts.append(f"discussing '{' '.join(plan.topic)}'")
    return "; ".join(parts)
