"""A question read once into a typed plan: filters, unit, aggregate, topic, and what was not used.

``read_question`` is the one reader. It runs the filter reader (``query.parse_question``:
treatments through the lexicon, decision words, case numbers, specialties, guidelines,
patient references) on the question with its misspelt treatment names corrected, then
adds what a plan needs beyond filters:

- the **unit**: decisions (items) or letters ("how many letters", "which cases");
- the **aggregate**: list, count, share, why, group-by, a letter fact, a decision lookup,
  a summary, a comparison, or a topic;
- letter-level restrictions the item filters do not hold: body region, partial
  certification, sex, age range, state of licensure, decision month, year or date range,
  UR denial month, letters by how many items they decided;
- the **topic**: every content word no filter used. A topic is answered from passages
  (sentences of rationales and case summaries that discuss it) within the filters; it is
  never dropped, so a question is never answered as a broader one;
- ``absent``: a field the letters never hold (names are redacted, reviewers anonymous);
- ``corrections``: misspelt names read as a lexicon entry ("norko" as Norco).

Every content word of the question is accounted for: used by a filter, or in the topic.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.errors import ConfigError
from imr_assist.parse.lexicon import get_lexicon
from imr_assist.retrieve import query
from imr_assist.retrieve.query import (
    NO_EVIDENCE_CITED,
    OUTSIDE_MTUS,
    QueryFilters,
    decision_asked,
    fact_asked,
    parse_question,
    question_kind,
)

_I = re.IGNORECASE

# Body regions a question can restrict to; matched in the item's treatment and, for
# letters, in the case summary. Each region lists the words letters use for it.
REGIONS: dict[str, re.Pattern[str]] = {
    name: re.compile(rx, _I)
    for name, rx in {
        "lumbar spine": r"\blumbar\w*|\blumbosacral\b|\blow(?:er)?[\s-]+back\b|\bL[1-5](?:-[L]?[1-5S]\d?)?\b",
        "cervical spine": r"\bcervical\b|\bneck\b|\bc-?spine\b",
        "thoracic spine": r"\bthoracic\b|\bmid[\s-]+back\b|\bupper[\s-]+back\b",
        "shoulder": r"\bshoulders?\b|\brotator\s+cuff\b",
        # a knee scooter or knee walker carries a foot or ankle, not a knee
        "knee": r"\bknees?\b(?![\s-]+(?:scooter|walker)s?\b)|\bmenisc\w*|\bpatell\w*",
        "hip": r"\bhips?\b",
        "wrist and hand": r"\bwrists?\b|\bhands?\b|\bfingers?\b|\bcarpal\b|\bthumbs?\b|\bdistal\s+radi\w*",
        "elbow": r"\belbows?\b|\bepicondyl\w*",
        "ankle and foot": r"\bankles?\b|\bfoot\b|\bfeet\b|\bheel\b|\bplantar\b|\btoes?\b",
        "head": r"\bhead\b|\bconcussion\b|\bhead\s+injur\w*",
    }.items()
}
# Region words that only mean a region (not part of a treatment name, not a phrase like
# "hands-on"): the question side. "back" alone is lumbar in everyday use.
_REGION_Q = re.compile(
    r"\b(?:mid[\s-]+back|upper[\s-]+back|lumbar|lumber|lumbosacral|low(?:er)?\s+back|back|l-?spine|cervical|neck|c-?spine|"
    r"thoracic|shoulders?|knees?|hips?|wrists?|hands?|elbows?|ankles?|foot|feet|head|spine|spinal)\b",
    _I,
)
_REGION_OF_WORD = {
    "mid back": "thoracic spine",
    "mid-back": "thoracic spine",
    "upper back": "thoracic spine",
    "upper-back": "thoracic spine",
    "back": "lumbar spine",
    "l-spine": "lumbar spine",
    "lspine": "lumbar spine",
    "lumbar": "lumbar spine",
    "lumber": "lumbar spine",
    "lumbosacral": "lumbar spine",
}

_SPINE = ("cervical spine", "thoracic spine", "lumbar spine")
_REGION_WORD = (
    r"(?:mid[\s-]+back|upper[\s-]+back|low(?:er)?[\s-]+back|back|spine|spinal|l-?spine|c-?spine|"
    r"lumbar|lumbosacral|cervical|neck|thoracic|shoulders?|knees?|hips?|wrists?|hands?|"
    r"elbows?|ankles?|foot|feet|head)"
)
# A region the question leaves out: "MRIs not for the spine", "other than the knee or
# shoulder", "non-spine imaging", "excluding the lumbar spine".
_NOT_REGION = re.compile(
    r"\b(?:not\s+(?:(?:for|of|on|to|at|involving|covering|targeting)\s+)?|other\s+than\s+"
    r"(?:(?:for|of|on)\s+)?|except\s+(?:for\s+)?|excluding\s+|besides\s+|apart\s+from\s+|"
    r"aside\s+from\s+|outside\s+(?:of\s+)?|non-?)(?:the\s+|a\s+|any\s+)?"
    rf"(?P<r>{_REGION_WORD}(?:\s*(?:,|\bor\b|\band\b|\bnor\b|/)\s*(?:the\s+)?{_REGION_WORD})*)"
    r"(?:[\s-]+(?:spine|region|area))?\b",
    _I,
)


def _region_of(word: str) -> tuple[str, ...]:
    """The regions a region word names ("spine": all three of its parts)."""
    w = re.sub(r"[\s-]+", " ", word.lower())
    if w in ("spine", "spinal"):
        return _SPINE
    named = _REGION_OF_WORD.get(w) or _REGION_OF_WORD.get(w.replace(" ", "-"))
    if named:
        return (named,)
    return tuple(r for r, rx in REGIONS.items() if rx.search(w))[:1]


# The end of a list of examples: "slips, trips and the like", "rashes, hives, etc."
_ENUM_END = re.compile(
    r",?\s*(?:\b(?:and|or)\s+(?:the\s+like|similar(?:\s+[a-z]+)?|so\s+on|others|such)\b|"
    r"\betc\b\.?|\bamong\s+others\b)",
    _I,
)
# What opens it: "a fall — slips, ...", "injuries such as", "e.g.", "including", "(".
_ENUM_START = re.compile(
    r"\s(?:—|–|--|:)|\(|,?\s+(?:such\s+as|like|e\.g\.?,?|i\.e\.?,?|including|for\s+example)\s", _I
)


def _enumerated(q: str, topic: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Examples listed as alternatives, ending "and the like" or "etc.": (the words any
    one of which will do, the topic words that only qualify one of them: "height" in
    "falls from a height"). The word before the list ("a fall — slips, trips") is one
    more alternative."""
    end = _ENUM_END.search(q)
    if end is None:
        # "such as a quantity, dosage, body part, or the procedures to be performed?",
        # "(qty, dose, body part, location)": a list of three or more closes it too
        listing = re.search(
            r"(?:\b(?:such\s+as|e\.g\.?,?|including|for\s+example)\s+(?P<a>[^?.;()]+,[^?.;()]+,[^?.;()]+)"
            r"|\((?P<b>[^)]+,[^)]+,[^)]+)\))\s*[?.;]?",
            q,
            _I,
        )
        if listing is None:
            return None
        listed, head = listing["a"] or listing["b"], q[: listing.start()]
        return _alternatives(listed, head, topic)
    before = q[: end.start()]
    starts = list(_ENUM_START.finditer(before))
    if starts:
        listed, head = before[starts[-1].end() :], before[: starts[-1].start()]
    else:
        run = re.search(
            r"[A-Za-z]+(?:\s+[A-Za-z]+){0,3}(?:\s*,\s*[A-Za-z]+(?:\s+[A-Za-z]+){0,3})+$", before
        )
        if run is None:
            return None
        listed, head = run.group(0), ""
    return _alternatives(listed, head, topic)


def _alternatives(
    listed: str, head: str, topic: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The words of a listed enumeration any one of which will do, and the topic words
    that only qualify one of them (see ``_enumerated``)."""
    group: list[str] = []
    qualifiers: list[str] = []
    head_words = re.findall(r"[A-Za-z]+", head)
    if head_words and head_words[-1].lower() in topic and head_words[-1].lower() not in WEAK_TOPIC:
        group.append(head_words[-1].lower())
    for element in re.split(r"\s*,\s*|\s+(?:and|or)\s+", listed):
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", element) if w.lower() in topic]
        if words:
            group.extend(w for w in words[:1] if w not in group)
            qualifiers.extend(w for w in words[1:] if w not in group and w not in qualifiers)
    if len(group) < 2:
        return None
    return tuple(group), tuple(qualifiers)


def _excluded_regions(q: str) -> tuple[tuple[str, ...], str]:
    """(the body regions the question leaves out, the question with them blanked)."""
    out = q
    regions: list[str] = []
    for m in _NOT_REGION.finditer(q):
        for word in re.findall(_REGION_WORD, m["r"], _I):
            regions.extend(r for r in _region_of(word) if r not in regions)
        out = out[: m.start()] + " " * (m.end() - m.start()) + out[m.end() :]
    return tuple(regions), out


# "Other than the one that got overturned": the decisions left out, by their decision.
_NOT_DECIDED = re.compile(
    r"\b(?:other\s+than|apart\s+from|aside\s+from|except(?:\s+for)?|excluding|besides|"
    r"not\s+counting|leaving\s+out|setting\s+aside|not)\s+(?:the\s+|any\s+)?(?:one\s+|two\s+|few\s+)?"
    r"(?:[A-Za-z/-]+\s+)?(?:one|ones|those|items?|requests?|decisions?|(?<=\s)[A-Z][A-Za-z/-]+)\s+"
    r"(?:that\s+|which\s+)?(?:got\s+|were\s+|was\s+|(?:had\s+)?been\s+)?"
    r"(?P<d>overturned|upheld|approved|denied|reversed|certified|granted)\b",
    _I,
)
# "not counting the pre-op chest film": a request left out by words of its name
_NOT_NAMED = re.compile(
    r"\b(?:not\s+counting|other\s+than|apart\s+from|aside\s+from|except(?:\s+for)?|excluding|"
    r"leaving\s+out|setting\s+aside|if\s+you\s+set\s+aside|set\s+aside)\s+"
    r"(?P<w>(?:(?:the|a|an|any)\s+)?[^,;:?.—–()]{3,90}?)"
    r"(?=\s*(?:[,;:?.—–()]|\s-\s|$))",
    _I,
)
# Words that name a surgery's add-ons, each standing for the others: "post-operative
# therapy", "the pre-op chest x-ray requested as an associated surgical service"
_ADD_ON_WORDS = frozenset(
    "post-op postop post-operative postoperative pre-op preop pre-operative preoperative "
    "associated ancillary add-on add-ons".split()
)
_SIDE_WORDS = frozenset("right left bilateral one ones request requests item items".split())
_BODY_RX = re.compile(
    r"(?:shoulders?|knees?|necks?|backs?|lumbar|cervical|thoracic|spine|wrists?|hands?|elbows?|"
    r"hips?|ankles?|feet|foot|legs?|arms?)",
    _I,
)


# Which guideline a decision rested on, asked for
_GUIDELINES_ASKED = re.compile(
    r"\b(?:what|which)\s+(?:\w+\s+){0,2}?guidelines?\b|\b(?:guidelines?|sections?)\s+(?:\w+\s+)?(?:cited|used|"
    r"relied\s+on|applied|quoted|referenced)\b|\b(?:under|by)\s+(?:what|which)\s+(?:\w+\s+)?"
    r"(?:guidelines?|criteria)\b|\brel(?:y|ied|ies)\s+on\b[^?]{0,60}\b(?:MTUS|ODG|ACOEM|guidelines?)\b|"
    # "Which MTUS Opioid Treatment section did the reviewer rely on for ..."
    r"\b(?:what|which)\s+(?:[\w&-]+\s+){0,4}?(?:sections?|chapters?|guidelines?)\b[^?]{0,40}?"
    r"\b(?:rel(?:y|ied|ies)\s+on|cite[sd]?|use[sd]?|appl(?:y|ied))\b",
    _I,
)
# A letter named by one of its requests: "in the Celebrex letter", "from the ESI case"
_IN_THE_LETTER_OF = re.compile(
    r"\b(?:in|on|from|of|for)\s+(?:the|that|this)\s+[^?.,;]{2,60}?\s+(?:letter|case|file|"
    r"determination|claim)\b|"
    # "What did the Celebrex letter ask for", "How many items did the SLAP repair letter
    # decide?", "bankart repair letter - list every item"
    r"\b(?:the|that|this)\s+[^?.,;]{2,60}?\s+(?:letter|case|file)\b(?=\s+(?:ask|asked|request|"
    r"requested|decide|decided|have|had|include|included|list|cover|covered)\b)|"
    r"^\s*(?:the\s+)?[^?.,;]{2,40}?\s+(?:letter|case)\b(?=\s*[-\u2013\u2014:])",
    _I,
)
# ... asking for every request it decided
_EVERY_REQUEST = re.compile(
    r"\bwhat\s+(?:all|else)\b|\b(?:list|all|every)\s+(?:of\s+)?(?:the\s+)?(?:items|requests|"
    r"decisions|treatments)\b|\beverything\b|\bother\s+(?:items|requests|decisions|treatments)\b|"
    r"\bwhat\s+(?:was|were)\s+(?:requested|decided|disputed|asked\s+for)\b|"
    r"\b(?:each|every|evry)\s+(?:single\s+)?(?:item|request|decision)\b|"
    r"\bwhat\s+did\s+(?:the|that|this)\b[^?]*\b(?:letter|case)\s+ask\s+for\b|"
    r"\bhow\s+many\s+(?:items|requests|decisions)\s+did\b",
    _I,
)


def _names_only_the_letter(q: str) -> bool:
    """Whether every treatment the question names is inside "in the ... letter": the
    request names the letter, the question asks about something else."""
    m = _IN_THE_LETTER_OF.search(q)
    if m is None:
        return False
    spans = [(t.start, t.end) for t in get_lexicon().find_all(q)]
    return bool(spans) and all(m.start() <= a and b <= m.end() for a, b in spans)


def _said_as_a_filter(q: str, fact: str) -> bool:
    """Whether every place the question names ``fact`` is inside a filter's words:
    "licensed" in "reviewers licensed in Texas", "decision date" in "a decision date in
    January 2017"."""
    rules = [rx for name, rx in [*FACTS, *query.FACT_RULES] if name == fact]
    said = [(m.start(), m.end()) for rx in rules for m in rx.finditer(q)]
    if not said:
        return False
    spans = [(m.start(), m.end()) for m in _LICENSED.finditer(q)]  # filters' own words
    for rx in (_DECIDED_IN, _DATE_RANGE, _DATE_BOUND):
        for m in rx.finditer(q):
            # the date words just before a date filter: "a decision date in January"
            spans.append((max(0, m.start() - 25), m.end()))
    # "missing quantity, body part or procedure": what a request lacked, not a fact asked
    lacked = re.compile(
        r"\b(?:missing|no|without|lack(?:ing|ed|s)?(?:\s+of)?|fail\w*\s+to\s+(?:specify|name|state|"
        r"identify)|not\s+(?:naming|specifying|stating|identifying))\b[^?.;]{0,25}$",
        _I,
    )
    return all(
        any(a <= s and e <= b for a, b in spans) or lacked.search(q[max(0, s - 40) : s])
        for s, e in said
    )


def _one_worker(q: str) -> bool:
    """One worker's age or sex asked for, not outcomes by age or sex."""
    m = _OF_ONE_WORKER.search(q)
    return m is not None and not re.search(
        r"\b(?:by|per)\s+(?:(?:age|sex|gender)\s+(?:and|&|/)\s+)?$", q[: m.start()], _I
    )


# A treatment the case had before, named as its history: "after wrist surgery"
_AFTER_TREATMENT = re.compile(
    r"\b(?:after|following|post|since|status\s+post)\s+(?:(?:the|a|an|his|her|their)\s+)?"
    r"(?:[\w-]+\s+){0,2}?(?:surgery|surgeries|operation|procedure|repair|fusion|arthroscopy)\b",
    _I,
)


def _excluded_decision(q: str) -> tuple[str | None, str]:
    """(the decision the question keeps, having left the other out; the question with
    the words blanked)."""
    m = _NOT_DECIDED.search(q)
    if m is None:
        return None, q
    left_out = m["d"].lower()
    kept = (
        UPHELD
        if left_out in ("overturned", "approved", "reversed", "certified", "granted")
        else OVERTURNED
    )
    return kept, q[: m.start()] + " " * (m.end() - m.start()) + q[m.end() :]


def _excluded_words(q: str) -> tuple[tuple[str, ...], str, str]:
    """(words naming the requests left out that no lexicon name covers, as asked; the
    question with them blanked): "not counting the pre-op chest film" leaves out the
    requests whose names hold 'chest', 'film' or 'pre-op'."""
    m = _NOT_NAMED.search(q)
    if m is None:
        return (), "", q
    if re.search(r"\b20\d{2}\b", m["w"]):
        return (), "", q  # "apart from the February 2017 letters": a month, read below
    if re.search(
        r"\b(?:who|whose|certified|certification|reviewers?|specialt\w*|board|licen[cs]ed|"
        r"letters?|cases?|workers?|patients?|claimants?|decided|months?)\b",
        m["w"],
        _I,
    ):
        return (), "", q  # "excluding the ones who are also sports medicine certified"
    lex = get_lexicon()
    inside = lex.find_all(m["w"])
    said = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]*[A-Za-z]", m["w"])]
    add_on = any(w in _ADD_ON_WORDS for w in said)
    shared: set[str] = set()
    if inside:
        # "other than the post-operative therapy tied to the approved shoulder surgery":
        # some requests of a treatment asked about, picked by the words that qualify it;
        # a treatment named only inside is what they go with, not a request asked about
        outside = {t.entry.canonical for t in lex.find_all(q[: m.start()] + q[m.end() :])}
        if not add_on and not all(t.entry.canonical in outside for t in inside):
            return (), "", q
        shared = {
            w.lower()
            for t in inside
            if t.entry.canonical in outside
            for w in re.findall(r"[A-Za-z][A-Za-z-]*[A-Za-z]", m["w"][t.start : t.end])
        }
        if add_on:
            said = [w for w in said if w in _ADD_ON_WORDS or w in ("chest",)] + [
                "associated",
                "post-op",
                "postop",
                "pre-op",
                "preop",
            ]
    words = tuple(
        dict.fromkeys(
            w
            for w in said
            if w not in _STOP
            and w not in _SIDE_WORDS
            and w not in shared
            and not _BODY_RX.fullmatch(w)
            and len(w) >= 3
        )
    )
    if not words:
        return (), "", q
    return words, m.group(0).strip(), q[: m.start()] + " " * (m.end() - m.start()) + q[m.end() :]


# "what do the reviewers say about them": the requests named before, not a topic
_ABOUT_THEM = re.compile(
    r"\b(?:say|says|said|write|wrote|think|conclude)\s+(?:about|regarding|of|on)\s+"
    r"(?:them|it|those|these|this|that)\b",
    _I,
)


def _said_of_the_request(q: str) -> bool:
    """ "what did the reviewer say about the knee scooter?": a treatment right after "say
    about", with nothing else asked of it; what its decisions' rationales give."""
    m = re.search(
        r"\b(?:say|says|said|saying|write|wrote|writing|think|thought|conclude\w*)\s+"
        r"(?:about|regarding|on)\s+(?:the\s+|these\s+|those\s+)?",
        q,
        _I,
    )
    if m is None:
        return False
    lex = get_lexicon()
    # "what do reviewers say about topical analgesics": a class, as a treatment
    return any(t.start == m.end() for t in lex.find_all(q)) or any(
        a == m.end() for _, a, _ in lex.classes_for_group_word(q)
    )


# What reviewers look for in a request: the reasons their decisions give
_CRITERIA = re.compile(
    r"\bwhat\s+(?:do|does|did)\s+(?:the\s+)?(?:reviewers?|IMR|experts?|physicians?)\s+"
    r"(?:require|want|look\s+for|expect|need)\b|"
    # "what do the reviewers in these letters say the worker must have tried first?"
    r"\bwhat\s+(?:do|does|did)\s+(?:the\s+)?(?:reviewers?|IMR|experts?|letters?)\s+(?:[\w-]+\s+){0,4}?"
    r"(?:say|said|says)\s+(?:that\s+)?(?:the\s+)?(?:worker|patient|claimant|he|she|they|one)\s+"
    r"(?:must|should|needs?\s+to|has\s+to|have\s+to|ought\s+to)\b",
    _I,
)
_DISCUSS = re.compile(
    r"\b(?:say|says|said|discuss\w*|mention\w*|talk\w*\s+about|comment\w*|write|wrote|"
    r"address\w*|refer\w*\s+to|cite[sd]?)\b",
    _I,
)
# "letters where every item was upheld", "all requests denied"
_EVERY = re.compile(
    # "letters that upheld every item"
    r"\b(?P<v>upheld|denied|overturned|approved)\s+(?:every|all|each)\s+(?:single\s+)?(?:one\s+of\s+)?"
    r"(?:(?:the|their|its)\s+)?(?:items?|decisions?|requests?|treatments?|ones?)\b|"
    r"(?<!of )(?<!of the )\b(?:every|all|each)\s+(?:single\s+)?(?:of\s+(?:the|their|its)\s+)?(?:items?|decisions?|requests?|"
    r"treatments?)\s+(?:was|were|got|being)?\s*(?P<d>upheld|denied|overturned|approved)\b|"
    r"\b(?P<e>upheld|denied|overturned|approved)\s+(?:entirely|in\s+full|completely|fully|"
    r"in\s+(?:their|its)\s+entirety|across\s+the\s+board)\b|"
    r"\b(?:entirely|fully|completely|wholly)\s+(?P<f>upheld|denied|overturned|approved)\b|"
    r"\b(?:everything|all\s+of\s+it|nothing\s+but)\s+(?:was\s+|got\s+|being\s+)?"
    r"(?P<g>upheld|denied|overturned|approved)\b|"
    # "not a single item overturned", "none of the items were overturned": all the other way
    r"\b(?:not\s+(?:a\s+single|one|any)|none\s+of\s+(?:the|their|its))\s+(?:single\s+)?(?:items?|"
    r"decisions?|requests?|treatments?)\s+(?:was\s+|were\s+|got\s+|being\s+)?(?P<h>upheld|denied|"
    r"overturned|approved)\b|"
    r"\b(?:nothing|no\s+(?:item|decision|request)s?)\s+(?:was\s+|were\s+|got\s+)?(?P<i>overturned|"
    r"approved)\b",
    _I,
)
# Letters whose decisions went both ways: "mixed results", "split decisions"
_MIXED = re.compile(
    # "letters where some items were overturned and others upheld"
    r"\bsome\s+(?:items?\s+|requests?\s+|decisions?\s+)?(?:were\s+|got\s+)?(?:upheld|denied|approved|"
    r"overturned)\s+and\s+(?:the\s+)?others?\s+(?:were\s+|got\s+)?(?:upheld|denied|approved|overturned)\b|"
    r"\b(?:mixed|split)\s+(?:results?|outcomes?|decisions?|bag)\b|\bsome\s+(?:items?\s+|requests?\s+)?"
    r"(?:upheld|denied|approved|overturned)\s+and\s+(?:some\s+)?(?:others?\s+)?(?:upheld|denied|"
    r"approved|overturned)\b|\bboth\s+(?:upheld|denied|approved|overturned)\s+and\s+"
    r"(?:upheld|denied|approved|overturned)\s+(?:items|requests|decisions)\b",
    _I,
)
_ELLIPSIS = re.compile(
    r"\b(physical|occupational|aquatic|speech|massage)\s+(or|and|/)\s+"
    r"(physical|occupational|aquatic|speech|massage)\s+(therapy|therapies)\b",
    _I,
)


# Reason categories a question can ask for, after a cue ("denied for lack of documented
# functional improvement", "because no urine drug screen was done"): each category's
# ``asked`` patterns in data/reasons.toml, compiled on first use.
@lru_cache(maxsize=1)
def _reason_phrases() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(category, the decision it explains, one of its question patterns)."""
    from imr_assist.parse.reasons import reason_data

    out = []
    for name, cat in reason_data().categories.items():
        for n, pattern in enumerate(cat.asked):
            try:
                out.append((name, cat.decision, re.compile(pattern, _I)))
            except re.error as err:
                raise ConfigError(f"reasons.toml: {name}.asked[{n}]: {err}") from None
    return tuple(out)


# What a denial found lacking, asked for as such: the reasons of the denials
_WHAT_MISSING = re.compile(
    # "what monitoring or documentation did reviewers say was missing"
    r"\bwhat\s+(?:[\w-]+\s+(?:or\s+[\w-]+\s+)?)?(?:did|does)\s+(?:the\s+)?(?:IMR\s+|expert\s+)?"
    r"(?:reviewers?|IMR|physicians?|doctors?)\s+(?:say|find|think|note)\s+(?:was|is|were|are)\s+"
    r"(?:missing|lacking|absent|not\s+(?:documented|there|provided))\b|"
    r"\bwhat\s+(?:exactly\s+|specifically\s+)?(?:(?:did|does)\s+(?:the\s+)?(?:IMR\s+|expert\s+)?"
    r"(?:reviewers?|IMR|physician|doctor)\s+(?:say|find|think|note)\s+)?(?:was|is|were|are)\s+"
    r"(?:missing|lacking|absent|not\s+(?:documented|there|provided))\b(?:\s+(?:from|in)\s+(?:the\s+)?"
    r"(?:file|records?|chart|request|documentation)s?)?",
    _I,
)
# What a reason phrase's finding is said to be: "... was documented", "... were shown"
_REASON_TAIL = re.compile(
    r"\s+(?:was|were|is|are|had\s+been|has\s+been|being)\s+(?:not\s+)?(?:documented|noted|"
    r"shown|demonstrated|provided|established|given|found|reported|recorded)\b",
    _I,
)
# "denied since the guidelines do not recommend it", "upheld as there was no ...":
# "since" and "as" give the reason after a decision word ("since 2016" is a date)
_SINCE_CUE = (
    r"\b(?:denied|upheld|rejected|refused|overturned|approved|certified|down)\s+"
    # "turned down at least partly as ...", "denied, mainly, since ..."
    r"(?:,?\s*(?:at\s+least\s+(?:partly|partially|in\s+part)|partly|mainly|mostly|largely|chiefly|"
    r"primarily|purely|solely|only|simply|just),?\s+)?"
    r"(?:since|as|given\s+that|in\s+that|on\s+the\s+basis\s+(?:that|of))\s+"
    r"(?!(?:of|well|an?|\d+|early|late|recently|far|medically|not|necessary|unnecessary|such|part|"
    r"requested|written|submitted|originally|appropriate|inappropriate)\b)"
)
# Other words that give the reason or open what a reviewer said: "did the reviewer say
# the patient should already be on a home program", "rested on", "owing to", "in light of"
# (not "UR said ...": what the asker knows)
_CONNECTIVES = (
    r"(?<!UR\s)(?<!ur\s)(?<!\bI\s)(?<!we\s)(?<!administrator\s)(?<!carrier\s)(?<!adjuster\s)"
    r"\b(?:say|says|said|state|states|stated|note|notes|noted|conclude[sd]?|argue[sd]?|"
    r"suggest(?:s|ed)?)\s+(?:that\s+)?(?=(?:the|a|an|there|it|this|no|these|those|he|she)\s)|"
    r"\b(?:rest(?:s|ed)?|hinge[sd]?|based|turned)\s+(?:at\s+least\s+)?(?:(?:in\s+)?part(?:ly)?\s+)?on\b|"
    r"\b(?:owing\s+to|on\s+account\s+of|in\s+(?:view|light)\s+of|as\s+a\s+result\s+of|thanks\s+to|"
    r"seeing\s+(?:as|that))\b"
)
# A rationale's advice to the physician: "decisions that warn the doctor not to ...",
# "caution against", "advise the provider to" (what follows is what the rationale says)
_WARNS = re.compile(
    r"\b(?:warn|caution|advise|urge|remind)(?:s|ed|ing)?\s+"
    r"(?:(?:the|a|an|treating|requesting|prescribing|primary)\s+){0,2}"
    r"(?:(?:doctors?|physicians?|providers?|prescribers?|clinicians?|PTPs?|workers?|patients?)\s+)?"
    r"(?:(?:against|that|about|of)\s+)?",
    _I,
)
_NONE_BEFORE_ASKED = re.compile(
    r"\b(?:never|not|hadn't|hasn't|haven't|didn't)\s+(?:(?:had|have|has|received|undergone|"
    r"tried|attended|done|gotten|been\s+to|ever)\s+){1,2}(?:any\s+)?(?:[\w/-]+\s+){0,3}?"
    r"(?:before|previously|in\s+the\s+past|prior)\b|"
    r"\b(?:no|without(?:\s+any)?)\s+(?:prior|previous|earlier|past)\s+(?:course\s+of\s+)?[\w/-]+|"
    r"\b(?:first|1st)[-\s]+(?:ever\s+)?(?:time|course)\b",
    _I,
)
# A worker taking a drug, said as the case a question sets: "for someone on an NSAID",
# "in patients taking opioids", "for workers already using a TENS unit"
_ON_A_DRUG = re.compile(
    r"\b(?:for|in|with)\s+(?:someone|somebody|anyone|(?:the\s+|a\s+)?(?:patients?|workers?|"
    r"claimants?|people|persons?|those|employees?))\s+(?:who\s+(?:is|are|was|were)\s+)?"
    r"(?:already\s+)?(?:on|taking|using|prescribed)\s+(?:an?\s+|the\s+|chronic\s+|long-term\s+)?"
    r"[\w/-]+(?:\s+[\w/-]+)?",
    _I,
)
# Two kinds of partial certification: UR certified something else (a rental, an
# evaluation only) and the whole original request went to IMR; or UR certified part and
# IMR decided the rest
_MODIFIED_WHOLE = re.compile(
    r"\b(?:something\s+(?:different|else)|a\s+modified\s+version|modified\s+(?:version|request)|"
    r"(?:whole|entire|full|complete)\s+(?:original\s+)?request|original\s+request\s+(?:as\s+a\s+whole|"
    r"in\s+full|went))\b",
    _I,
)
# (only as the letters name it: "the remaining part" alone is said of every partial one)
_REMAINING_PART = re.compile(r"\bremaining\s+IMR[\s-]+eligible\s+portion\b", _I)
_ANY_CERTIFIED = re.compile(
    r"\b(?:includ\w*|count\w*|with)\s+(?:the\s+)?(?:reviewers?\s+with\s+(?:an?\s+)?(?:second|another|"
    r"other|additional|dual|more\s+than\s+one)|dual[\s-]*(?:certified|certifications?|boarded)|"
    r"(?:those|ones|reviewers?)\s+(?:who\s+are\s+)?(?:also|dual)[\s-]|(?:a\s+)?second\s+certification|"
    r"combined\s+(?:specialt\w+|certifications?))|\balone\s+or\s+with\s+(?:others?|another)\b|"
    r"\bdual[\s-]*certified\s+ones?\b",
    _I,
)
_FINDINGS_OF = re.compile(
    r"\b(?:imaging|MRI|CT|x-?rays?|radiographs?|EMG|NCV|electrodiagnostic|scan|studies|study)\s+"
    r"(?:findings|results?|reports?|showed|shows|revealed|reveals|demonstrated|confirmed)\b",
    _I,
)
_SHOWN_WITH = re.compile(
    r"\b(?:with|and|including|showing|giving)\s+(?:the|its|their|each(?:\s+one'?s)?)\s+"
    r"(?:body\s+(?:region|part|area)|region|outcome|decision|result|date|reviewer)s?\b",
    _I,
)
_HAD_RECEIVED = re.compile(
    r"\b(?:had|have|has)\s+(?:already\s+|previously\s+|ever\s+)?(?:received|had|undergone|tried|done|"
    r"gotten|attended|completed|been\s+(?:given|treated\s+with))\s+(?:any\s+|prior\s+|previous\s+|"
    r"some\s+|earlier\s+)?",
    _I,
)
_CONCEDED = re.compile(
    r"\b(?:when|if|since|given\s+that|even\s+though|although|though|while)\s+(?:the\s+|its\s+)?"
    r"(?:[\w-]+\s+){0,3}?(?:itself\s+)?(?:was|is|had\s+been|has\s+been|got)\s+"
    r"(?:approved|certified|overturned|authori[sz]ed)\b",
    _I,
)
_DECISION_BEFORE = re.compile(
    r"\b(?:upheld|denied|rejected|refused|turned\s+down|non-?certified)\b", _I
)
_CREDENTIAL_WORDS = frozenset(
    "specialty specialties licensed licenced licensure license licence certified "
    "certification certifications board credentials qualified qualifications".split()
)
_REASON_CUE = re.compile(
    _SINCE_CUE + r"|" + _CONNECTIVES + r"|"
    # "what do reviewers say when a test had already been done before?", "denials where
    # a similar study had already been done"
    r"\b(?:say|says|said|do|does|did|decide|rule|conclude)\s+when\s+|"
    r"\b(?:denials?|upheld\s+(?:decisions|requests)|rejections?)\s+(?:where|in\s+which|when)\s+|"
    # "what do reviewers say about whether the patient is a surgical candidate"
    r"\b(?:say|says|said|write|wrote)\s+about\s+whether\s+|"
    # "which decisions faulted the RFA for leaving something unspecified"
    r"\b(?:fault\w*|ding\w*|criticiz\w*|penaliz\w*)\s+(?:\w+\s+){0,3}?for\s+|"
    # "which requests did the reviewer say would push the number of sessions past ..."
    r"\b(?:say|says|said)\s+(?=(?:would|will|had|has|was|were|did|could)\b)|"
    # "opioid denials - CURES or UDS not done"
    r"\b(?:denials?|denied|upheld)\s*[-\u2013\u2014:]\s*|"
    # "what happens to the services when the surgery itself is denied"
    r"\bwhen\s+(?=(?:the\s+)?(?:[\w-]+\s+){0,2}(?:(?:is|was|were|gets?|got)\s+(?:denied|upheld|"
    r"not\s+approved|non-?certified)|(?:isn't|wasn't|weren't)\s+(?:approved|certified|authori[sz]ed))\b)|"
    # "denied for exceeding guideline limits", "upheld for being experimental"
    r"\b(?:denied|upheld|rejected|refused|non-?certified|overturned|approved|down)\s+for\s+"
    r"(?=\w+ing\b)|"
    r"\b(?:because|due\s+to|for\s+(?:lack|want|absence)\s+of|for\s+(?:no|not|failing)|"
    r"lack\s+of|absence\s+of|cit(?:e|es|ed|ing)|missing|"
    r"without|lacking|reasons?|grounds|citing|said|stated|found|saying|stating|finding)\b",
    _I,
)
# Where the words that restrict the answer begin (see ``_topic``).
_CUE = re.compile(
    _SINCE_CUE + r"|" + _CONNECTIVES + r"|"
    r"\b(?:because|due\s+to|for\s+(?:lack|want|absence)\s+of|for\s+(?:not|no|failing|failure)|"
    r"on\s+the\s+(?:grounds?|basis)\s+(?:of|that)|citing|cited|about|regarding|concerning|"
    r"mention\w*|discuss\w*|involv\w*|noting|noted|with(?:out)?|where|whose|that\s+"
    r"(?:had|have|has|were|was|mention|discuss|cite|lack)\w*|lacking|faulted|diagnosed|missing|"
    r"lack\s+of)\b",
    _I,
)
# "how many sessions / visits / tablets": a quantity inside a request, not a count of them.
_QUANTITY = re.compile(
    r"\bhow\s+many\s+(?:\w+\s+)?(?:sessions|visits|tablets|tabs|pills|caps|capsules|refills|units|weeks|"
    r"months|days|hours|patches|injections|treatments\s+per)\b",
    _I,
)
_ALSO_DECIDED = re.compile(
    r"\bwhat\s+(?:was|were|got)\s+(?:requested|decided|asked\s+for)\b|\boutcomes?\b|"
    r"\bwhat\s+did\s+(?:IMR|it|they|the\s+(?:reviewer|letter|expert))\s+decide\b|\bwhat\s+happened\b|"
    r"\bhow\s+(?:was|were)\s+(?:it|they)\s+decided\b|\bwhat\s+(?:was|were)\s+the\s+decisions?\b",
    _I,
)
_AND_DID_ANY = re.compile(
    r",?\s+and\s+(?:did|were|was|have|has|are|is)\s+(?:any|all|none|they|it|some)\b[^?]*"
    r"\b(?:approved|overturned|upheld|denied|reversed)\b",
    _I,
)
_WHAT_THE = re.compile(r"^\s*what\s+(?:is|was|were|are)\s+the\b", _I)
_CASE_Q = re.compile(r"\bCM\d{2}-\d{7}\b", _I)
# One worker's age or sex, not a breakdown: "age and sex of the injured worker in the
# partial hospitalization case"
_OF_ONE_WORKER = re.compile(
    r"\b(?:age|sex|gender)\s+(?:(?:and|&|/)\s+(?:age|sex|gender)\s+)?of\s+(?:the|this|that)\s+"
    r"(?:injured\s+)?(?:worker|patient|claimant|employee|applicant)\b(?!s)",
    _I,
)
_IN_RATIONALE = re.compile(
    r"\b(?:reviewers?|IMR|physicians?|experts?)\s+(?:\w+\s+){0,2}?(?:say|said|says|write|wrote|writes|"
    r"argue\w*|think|thinks|reason\w*|conclude\w*|hold|holds|not(?:e|es|ed|ing)|"
    r"point\w*\s+out|mention\w*|cit(?:e|es|ed|ing))\b|\brationales?\b|"
    r"\b(?:in|into)\s+the\s+(?:decisions|determinations)\b",
    _I,
)
# A question about the worker's own case: "letters involving a fracture", "cases with
# carpal tunnel syndrome in the history", "letters where the worker has depression".
_ABOUT_CASE = re.compile(
    r"\b(?:involv\w*|diagnos\w*|injur\w*|sustain\w*|history)\b|\b(?:worker|patient|"
    r"claimant|employee|applicant)s?\s+(?:has|had|have|with|suffer\w*)\b",
    _I,
)
# Topic words that say a thing is absent, and verbs of the record that a negation
# before them turns into the same ("doesn't state", "not naming", "failed to specify").
_ABSENCE_WORDS = frozenset("missing lack lacking absent absence failure".split())
_REPORT_VERBS = frozenset(
    "state stated states stating say says saying specify specified specifies specifying "
    "provide provided provides "
    "providing name names named naming list listed lists listing give gives given giving "
    "include included includes including mention mentioned mentions mentioning document "
    "describe described describes describing "
    "documented documents documenting indicate indicated indicates indicating".split()
)
_NEG_BEFORE = r"(?:\b(?:no|not|never|without|fail(?:s|ed|ing)?\s+to)\s+|n't\s+)"
# What a guideline or a reviewer says of a treatment, negated in a question ("the
# guidelines don't recommend it") to ask for the passages that say so.
_ENDORSE_VERBS = frozenset(
    "recommend recommended recommends recommending support supports supported supporting".split()
)
# Generic head nouns of a topic: "stress symptoms", "knee problems", "the post-op stuff".
WEAK_TOPIC = frozenset(
    "symptom symptoms issue issues problem problems complaint complaints condition "
    "conditions history histories concern concerns stuff thing things matter matters aspect "
    "aspects database databases diagnoses diagnosis findings finding records".split()
)
_SEX_Q = re.compile(r"\b(?:female|male|women|men|woman|man)\b(?!\s+or\b)", _I)
_PARTIAL = re.compile(
    r"(?<!at least )(?<!at least, )(?<!at least in )(?<!at least )"
    r"\b(?:partial(?:ly)?|partly|in\s+part)\b(?!,?\s+(?:because|due|for|on\s+the\s+grounds|as|since|"
    r"owing|in\s+light|given|on\s+account|legible|illegible|readable|unreadable|visible|blurry|"
    r"cut\s+off|redacted|missing|copied|\w+ible\b|\w+able\b))|"
    # "when UR only approved part of a request", "the remainder"
    r"\b(?:approved|authori[sz]ed|certified|allowed|okayed)\s+(?:only\s+)?(?:a\s+)?part\s+of\b|"
    # "requests that had part of them already approved by the claims administrator"
    r"\bpart\s+of\s+(?:it|them|the\s+requests?)\s+(?:was\s+|were\s+)?(?:already\s+)?(?:approved|"
    r"authori[sz]ed|certified|allowed)\b|"
    # "how many did UR allow", "what did UR let him have"
    r"\b(?:UR|utilization\s+review|the\s+claims\s+administrator)\s+(?:\w+\s+)?(?:allow(?:ed)?|let|permit(?:ted)?)\b|"
    r"\bthe\s+remainder\b|"
    r"\boriginally\b|\bleft\s+for\s+IMR\b|\b(?:do|did|done|happened|decided?)\s+(?:\w+\s+){0,2}?"
    r"(?:with|to|on|about)\s+the\s+rest\b|\bthe\s+rest\s+of\s+(?:the|it|that|this)\b|\bmodif(?:ied|y|ication)\w*|\boriginal\s+request\b|"
    r"\bpart\s+of\s+the\s+request\b|\bpartially\s+certified\b|\bpartialy\b|"
    r"\b(?:convert\w*|reduc\w*|cut)\s+(?:it\s+|them\s+)?(?:to|down|back)\b|"
    r"\b(?:had\s+|did\s+)?(?:UR|utilization\s+review|the\s+claims\s+administrator)\s+"
    r"(?:had\s+|already\s+)*(?:authori[sz]e|approve|certif[iy])\w*|\balready\s+authori[sz]ed\b|"
    r"\brequested,?\s+(?:and\s+|what\s+(?:was\s+)?)?authori[sz]ed\b",
    _I,
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
_AGE_N = r"(?P<n>\d{2}|(?:twenty|thirty|forty|fifty|sixty|seventy)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?)"
_AGE_OVER = re.compile(
    r"\b(?:over|older\s+th[ae]n|above|more\s+th[ae]n)\s+(?:the\s+age\s+of\s+)?"
    + _AGE_N
    + r"\b(?!\s*(?:items?|requests?|decisions?|%|percent))",
    _I,
)
_AGE_UNDER = re.compile(
    r"\b(?:under|younger\s+th[ae]n|below|less\s+th[ae]n)\s+(?:the\s+age\s+of\s+)?"
    + _AGE_N
    + r"\b(?!\s*(?:items?|requests?|decisions?|%|percent))",
    _I,
)
_ONES = "one two three four five six seven eight nine".split()


def _age_number(said: str) -> int:
    if said.isdigit():
        return int(said)
    head, *rest = re.split(r"[\s-]", said.lower())
    return _TENS[head] + (_ONES.index(rest[0]) + 1 if rest else 0)


_AGE_AT_LEAST = re.compile(
    r"\b(?:aged\s+)?" + _AGE_N + r"(?:\s*\+|\s+(?:or|and)\s+(?:older|over|above|up))", _I
)
_AGE_AT_MOST = re.compile(
    r"\b(?:aged\s+)?" + _AGE_N + r"\s+(?:or|and)\s+(?:younger|under|below)\b", _I
)
_AGE_DECADE = re.compile(
    r"\bin\s+(?:their|his|her)\s+(?P<d>[2-7]0s|twenties|thirties|forties|fifties|sixties|seventies)\b",
    _I,
)
_AGE_RANGE = re.compile(r"\b(?:aged?|ages)\s+(?P<a>\d{2})\s*(?:-|to|and)\s*(?P<b>\d{2})\b", _I)
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
# A month by name or by its first three letters ("Feb", "Sept").
_MONTH_WORD = "|".join(_MONTH_NAMES) + "|" + "|".join(m[:3] for m in _MONTH_NAMES) + "|sept"
_DECIDED_IN = re.compile(
    r"\b(?:(?:decided|determined|issued|dated)\s+(?:in\s+|during\s+)?|"
    r"(?:decisions?\s+(?:made\s+)?|letters?\s+)?\s*(?:in|during|dated)\s+)"
    r"(?:(?P<month>" + _MONTH_WORD + r")\.?\s+)?(?P<year>20\d{2})\b"
    # "the February 2017 letters", "Jan 2017 decisions"
    r"|\b(?P<month2>"
    + _MONTH_WORD
    + r")\.?\s+(?P<year2>20\d{2})\s+(?:letters?|decisions?|cases?|determinations?|reviews?)\b"
    # "issued in Jan. '17"
    r"|\b(?:in|during|dated)\s+(?P<month3>" + _MONTH_WORD + r")\.?\s*[’']\s?(?P<yy>\d{2})\b",
    _I,
)
# "apart from the February 2017 letters": the month left out
_NOT_MONTH = re.compile(
    r"\b(?:apart\s+from|aside\s+from|except(?:\s+for)?|excluding|other\s+than|not\s+counting|"
    r"besides|outside(?:\s+of)?|leaving\s+out|but\s+not)\s+(?:the\s+|those\s+)?(?:letters?\s+|decisions?\s+)?$",
    _I,
)


def _month_number(said: str) -> int:
    return [m[:3] for m in _MONTH_NAMES].index(said.lower()[:3]) + 1


_STATES = (
    "alabama alaska arizona arkansas california colorado connecticut delaware florida georgia "
    "hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts "
    "michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon "
    "pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming"
).split() + [
    "new york",
    "new jersey",
    "new mexico",
    "new hampshire",
    "north carolina",
    "south carolina",
    "north dakota",
    "south dakota",
    "rhode island",
    "west virginia",
]
_LICENSED = re.compile(
    # "the reviewer's states of licensure include California"
    r"\b(?:states?\s+of\s+)?licensure\s+(?:states?\s+)?(?:includes?|including|lists?|listing|"
    r"names?|shows?|covers?)\s+(?P<state0>" + "|".join(_STATES) + r")\b|"
    r"\blicen[cs]ed\s+(?P<only>only\s+|solely\s+|just\s+)?(?:to\s+practice\s+)?(?:only\s+)?in\s+"
    r"(?:both\s+)?(?:the\s+state\s+of\s+)?(?P<state>"
    + "|".join(_STATES)
    + r")\b(?P<only2>\s+(?:only|alone)|,?\s+and\s+(?:nowhere|no\s*where)\s+else|,?\s+and\s+no\s+other\s+states?)?"
    # "a Texas license", "a Texas medical license", "Texas-licensed"
    r"|\b(?P<state2>"
    + "|".join(_STATES)
    + r")(?:\s+(?:medical\s+)?licen[cs]e\b|[\s-]licen[cs]ed\b)",
    _I,
)

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "a": 1, "multiple": 2, "several": 2}
# after "licensed in Texas": "but not in California"; ", Montana and California"
_LICENSED_BUT_NOT = re.compile(
    r"\s*,?\s*(?:but|and)\s+not\s+(?:(?:also\s+)?(?:licen[cs]ed\s+)?in\s+)?(?P<state>"
    + "|".join(_STATES)
    + r")\b",
    _I,
)
_LICENSED_AND = re.compile(
    r"(?:\s*,\s*(?:"
    + "|".join(_STATES)
    + r"))*\s*,?\s+(?:and|&)\s+(?:also\s+)?(?:in\s+)?(?:"
    + "|".join(_STATES)
    + r")\b",
    _I,
)
_A_STATE = re.compile(r"\b(?:" + "|".join(_STATES) + r")\b", _I)
_LICENSED_STATES = re.compile(
    r"\blicen[cs](?:ed|es?)\s+(?:to\s+practice\s+)?in\s+(?:(?P<more>more\s+than)\s+(?P<n>one|two|"
    r"three|a|\d)|(?P<n2>two|three|four|\d)\s+or\s+more|(?P<n3>multiple|several))\s+states?\b",
    _I,
)
_LICENSED_OUTSIDE = re.compile(
    r"\b(?:(?:not|n't|never)\s+(?:been\s+)?licen[cs]ed\s+(?:to\s+practice\s+)?in|"
    r"licen[cs]ed\s+(?:only\s+)?(?:outside(?:\s+of)?|elsewhere\s+than|in\s+states?\s+other\s+than)|"
    r"without\s+an?\s+(?=\w+\s+licen[cs]e))\s+(?:the\s+state\s+of\s+)?"
    r"(?P<state>" + "|".join(_STATES) + r")\b(?:\s+licen[cs]e\b)?",
    _I,
)
# A rate asked of the sides compared: "overturn rates", "how often", "more likely".
_RATE_ASKED = re.compile(
    r"\b(?:rates?|percent\w*|%|proportions?|shares?|fractions?|how\s+often|(?:more|less)\s+"
    r"(?:likely|often)|odds|chances?|success)\b",
    _I,
)
# Decisions counted per reason: the answer of a "why" question.
_BY_REASON = re.compile(
    r"\b(?:by|per|for\s+each|broken\s+down\s+by|grouped\s+by|split\s+by)\s+(?:the\s+)?"
    r"(?:(?:denial|decision|stated|given)\s+)?(?:reasons?|rationales?|grounds)\b",
    _I,
)
# Group-by: "by reviewer specialty", "differ by specialty", "per month", "for each drug".
_GROUP_BY: list[tuple[str, re.Pattern[str]]] = [
    (
        "age",
        re.compile(
            r"\b(?:by|per|across|for\s+each)\s+(?:the\s+)?(?:(?:patient|worker|injured\s+worker|"
            r"claimant)'?s?\s+)?age(?:\s+(?:group|band|bracket|range)s?)?\b|\bage\s+(?:groups?|bands?|"
            r"brackets?)\b|\bby\s+decade\b",
            _I,
        ),
    ),
    (
        "items",
        re.compile(
            r"\b(?:by|per)\s+(?:the\s+)?number\s+of\s+(?:items|requests|decisions)\b|\b(?:items|"
            r"requests|decisions)\s+per\s+letter\b|\b1\s+item,\s+2\s+items\b|\bone\s+item,\s+two\s+items\b",
            _I,
        ),
    ),
    (
        "specialty",
        re.compile(
            r"\b(?:by|per|for\s+each|across|differ\w*\s+(?:by|across|between))\s+(?:the\s+)?(?:reviewer'?s?\s+)?(?:specialt\w*|board\s+certification|reviewer\s+type)\b",
            _I,
        ),
    ),
    (
        "region",
        re.compile(
            r"\b(?:by|per|for\s+each|across|differ\w*\s+(?:by|across|between))\s+(?:the\s+)?"
            r"(?:body\s+(?:part|region|area)|region|anatomic\w*\s+(?:site|region|area)|part\s+of\s+"
            r"the\s+body|site)s?\b|\bfor\s+each\s+body\s+part\b|"
            # "cervical vs lumbar MRI overturn rates": the regions compared are the groups
            r"\b(?:cervical|lumbar|thoracic|neck|low\s+back|shoulder|knee|hip|wrist|elbow|ankle|"
            r"foot|hand)\b(?:\s+\w+){0,2}?\s+(?:vs\.?|versus|compared\s+(?:to|with)|against)\s+"
            r"(?:the\s+)?(?:cervical|lumbar|thoracic|neck|low\s+back|shoulder|knee|hip|wrist|elbow|"
            r"ankle|foot|hand)\b",
            _I,
        ),
    ),
    (
        "month",
        re.compile(
            r"\b(?:by|per|each|for\s+each)\s+(?:the\s+)?(?:decision\s+)?month\b|\bmonthly\b|\bmonth\s+of\s+(?:the\s+)?decision|\bmonth\s+by\s+month\b",
            _I,
        ),
    ),
    (
        "year",
        re.compile(
            r"\b(?:by|per|each|for\s+each)\s+(?:the\s+)?year\b|\bletters\s+per\s+year\b|\byearly\b",
            _I,
        ),
    ),
    (
        "sex",
        re.compile(
            r"\b(?:by|per|across)\s+(?:the\s+)?(?:patient'?s?\s+|worker'?s?\s+|injured\s+worker'?s?\s+)?(?:sex|gender)\b|\bsex\s+of\s+the\b|\b(?:men|males?)\s+(?:vs\.?|versus|and|or)\s+(?:women|females?)\b|\b(?:women|females?)\s+(?:vs\.?|versus|and|or)\s+(?:men|males?)\b",
            _I,
        ),
    ),
    (
        "class",
        re.compile(
            r"\b(?:by|per|for\s+each|across)\s+(?:the\s+)?(?:drug\s+class|class|category|type\s+of\s+(?:treatment|service|request)|treatment\s+type|service\s+type)\b|\bbreak\s*down\b.*\b(?:type|category|class)\b",
            _I,
        ),
    ),
    (
        "treatment",
        re.compile(
            r"\b(?:by|per|for\s+each|across)\s+(?:the\s+)?(?:treatment|drug|medication|service|request|modality|modalitie|procedure|test|study|type\s+of\s+(?:imaging|test|study|scan))s?\b|"
            # "which treatment was denied most often", "the most commonly overturned requests"
            r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+)?(?:treatments?|drugs?|medications?|"
            r"requests?|services?|procedures?|tests?|therap(?:y|ies))\s+(?:\w+\s+){0,3}?(?:the\s+)?most"
            r"(?:\s+(?:often|frequently|commonly))?\b|\bmost\s+(?:often|frequently|commonly)\s+"
            r"(?:denied|upheld|overturned|approved|requested|disputed)\s+(?:treatments?|drugs?|"
            r"medications?|requests?|services?|procedures?)\b",
            _I,
        ),
    ),
    (
        "decision",
        re.compile(
            r"\b(?:by|per)\s+(?:the\s+)?(?:decision|outcome)\b|\bbreak\s*down\b(?![^?]*\bby\s+\w)",
            _I,
        ),
    ),
    (
        # "break down decisions by reviewer state", "overturn rate by state of licensure"
        "state",
        re.compile(
            r"\b(?:by|per|for\s+each|across)\s+(?:the\s+)?(?:reviewer'?s?\s+)?(?:states?|"
            r"state\s+of\s+licen[cs]ure|licen[cs](?:ing|ure)\s+states?)\b",
            _I,
        ),
    ),
    (
        "licensure",
        re.compile(
            r"\blicen[cs](?:ed|e)\b.*\b(?:vs\.?|versus|differ\w*|not\s+licen[cs]ed|(?:with|to|from)\s+"
            r"(?:the\s+)?(?:rest|others|ones?\s+(?:that|who|where)|(?:letters|those|reviewers)\s+"
            r"(?:where|who|that|whose|not|without)))\b|\bby\s+(?:state\s+of\s+)?licen[cs]ure\b|"
            # "split the letters by whether the reviewer holds a California license"
            r"\b(?:split|group|break\s+down|divide|separate|sort)\w*\b.*\bby\s+whether\b.*\blicen[cs]",
            _I,
        ),
    ),
    (
        "partial",
        re.compile(r"\bpartial\w*\b.*\b(?:vs\.?|versus)\b.*\b(?:full|whole|denials?)\b", _I),
    ),
    (
        # "do ODG-based decisions get overturned more than MTUS-based ones?", "by guideline"
        "guideline",
        re.compile(
            r"\b(?:by|per)\s+(?:the\s+)?guidelines?\b|\b(?:MTUS|ODG|ACOEM)\b.*\b(?:vs\.?|versus|"
            r"more\s+than|less\s+than|compared?\s+(?:to|with)|differ\w*|than)\b.*\b(?:MTUS|ODG|ACOEM)\b",
            _I,
        ),
    ),
]
# Letters by how many items they decided: "more than one item", "a single request".
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_MORE_ITEMS = re.compile(
    r"\b(?:more\s+than\s+(?P<n>one|two|three|four|five|\d+)|(?P<m>multiple|several)|at\s+least\s+"
    r"(?P<k>two|three|four|five|\d+)|(?P<j>two|three|four|five|\d+)\s+or\s+more)\s+"
    r"(?:(?:disputed|separate|individual|distinct|different)\s+)?"
    r"(?:items?|requests?|decisions?|treatments?|issues?)\b",
    _I,
)
_ONE_ITEM = re.compile(
    r"(?<!every )(?<!not )(?<!none of )\b(?:only\s+one|just\s+one|a\s+single|one\s+single|exactly\s+one)\s+(?:items?|requests?|"
    r"decisions?|treatments?|disputed\s+item)\b|(?<!every )(?<!not a )(?<!not one )\bsingle[\s-]"
    r"(?:item|request|decision)\b",
    _I,
)
# Decision dates as a range: "between February 1 and February 10, 2017", "from 1/1/2017 to 1/15/2017".
_DATE = (
    r"(?:(?:" + "|".join(_MONTH_NAMES) + r"|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?)"
    r"\s+\d{1,2}(?!\d)(?:st|nd|rd|th)?(?:,?\s+20\d{2})?|"
    r"\d{1,2}/\d{1,2}/(?:20)?\d{2}|20\d{2}-\d{2}-\d{2})"
)
# "the first week of February 2017": its days
_WEEK_OF = re.compile(
    r"\b(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th|last|final)\s+week\s+of\s+(?P<month>"
    + _MONTH_WORD
    + r")\.?,?\s+(?P<year>20\d{2})\b",
    _I,
)
_DATE_RANGE = re.compile(
    r"\b(?:between|from)\s+(?P<a>"
    + _DATE
    + r")\s+(?:and|to|through|until|-)\s+(?P<b>"
    + _DATE
    + r")",
    _I,
)
_BOUND_OP = (
    r"(?P<op>before|after|since|until|through|by|prior\s+to|earlier\s+than|later\s+than|"
    r"on\s+or\s+(?:before|after)|no\s+later\s+than)"
)
_DATE_BOUND = re.compile(r"\b" + _BOUND_OP + r"\s+(?P<a>" + _DATE + r")", _I)
#: "before February 2017", "since Jan 2017", "after 2016": a month or a year as a bound.
_PERIOD_BOUND = re.compile(
    r"\b"
    + _BOUND_OP
    + r"\s+(?:(?:the\s+)?(?:start|beginning)\s+of\s+|(?:the\s+)?end\s+of\s+)?"
    + r"(?:(?P<month>"
    + "|".join(_MONTH_NAMES)
    + r"|"
    + "|".join(m[:3] for m in _MONTH_NAMES)
    + r"|sept)\.?,?\s+)?(?P<year>20\d{2})\b",
    _I,
)
#: Bound words that leave the named day (or month) out: "before", "after".
_STRICT_BOUND = re.compile(r"^(?:before|after|prior\s+to|earlier\s+than|later\s+than)$", _I)
_UPPER_BOUND = re.compile(
    r"^(?:before|until|through|by|prior\s+to|earlier\s+than|on\s+or\s+before|no\s+later\s+than)$",
    _I,
)

# Fields no letter holds: the names of the worker, the physicians, the employer and the
# insurer are redacted; IMR reviewers are anonymous.
_ABSENT: list[tuple[str, re.Pattern[str]]] = [
    (
        "the injured worker's name",
        re.compile(
            r"\b(?:name\s+of\s+(?:the\s+)?(?:injured\s+worker|patient|claimant|applicant|employee|worker)|(?:injured\s+worker|patient|claimant|applicant|employee|worker)'?s?\s+name|who\s+is\s+the\s+(?:patient|claimant|applicant|injured\s+worker))\b",
            _I,
        ),
    ),
    (
        "the employer",
        re.compile(
            r"\b(?:(?:worker|patient|claimant|applicant|employee|driver|client)'?s?\s+)?employer'?s?\b(?:\s+name)?|"
            r"\bwho\s+(?:did|does)\s+(?:the\s+)?(?:worker|patient|claimant|applicant|he|she)\s+work\s+for\b",
            _I,
        ),
    ),
    (
        "the physician's name",
        re.compile(
            r"\b(?:name\s+of\s+(?:the\s+)?(?:treating\s+|requesting\s+|primary\s+)?(?:physician|doctor|provider|surgeon)|(?:treating|requesting)\s+(?:physician|doctor|provider)'?s?\s+name|who\s+(?:is|was)\s+the\s+(?:treating|requesting|primary)\s+(?:physician|doctor|provider|surgeon))\b",
            _I,
        ),
    ),
    (
        "the reviewer's name",
        re.compile(
            r"\b(?:name\s+of\s+(?:the\s+)?(?:expert\s+|IMR\s+|independent\s+|medical\s+)*reviewer|reviewer'?s?\s+names?|who\s+(?:is|was)\s+the\s+(?:expert\s+|IMR\s+|medical\s+)*reviewer)\b|"
            # "the name of the orthopedic surgeon who reviewed the Bankart case"
            r"\bname\s+of\s+(?:the\s+)?(?:[\w&-]+\s+){0,3}?(?:surgeon|physician|doctor|specialist|expert|"
            r"md|internist)\s+(?:who|that)\s+(?:reviewed|decided|wrote|signed|handled)\b",
            _I,
        ),
    ),
    (
        "costs",
        re.compile(
            r"\bhow\s+much\s+(?:did|does|do|was|is|were|would)\b[^?]*\b(?:cost|costs|charge[sd]?|price[sd]?|"
            r"paid|pay|bill(?:ed)?)\b|\b(?:cost|price|dollar\s+amount|charges?)\s+of\s+(?:the\s+)?\w+",
            _I,
        ),
    ),
    (
        "the employer",
        re.compile(
            r"\b(?:which|what|who\s+(?:is|was))\s+(?:the\s+|was\s+the\s+|is\s+the\s+)?employer\b|\bemployer'?s?\s+name\b|\bname\s+of\s+the\s+employer\b|\bwho\s+(?:did|does)\s+(?:the\s+)?(?:worker|patient|claimant)\s+work\s+for\b",
            _I,
        ),
    ),
    (
        "the insurer or claims administrator's name",
        re.compile(
            r"\b(?:which|what)\s+(?:insurance\s+(?:company|carrier)|insurer|carrier)\b|\bname\s+of\s+the\s+(?:insurer|carrier|claims\s+administrator)\b",
            _I,
        ),
    ),
    (
        "the worker's address or contact details",
        re.compile(
            r"\b(?:address|phone\s+number|social\s+security|date\s+of\s+birth|birth\s*date|birthday)\b",
            _I,
        ),
    ),
]

# Letter facts beyond query.FACT_RULES, each the Letter attribute it reads.
FACTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "date_of_injury",
        re.compile(
            r"\bDOI\b|\bdate\s+of\s+(?:the\s+)?injury\b|\binjury\s+date\b|(?i:\bwhen\s+(?:was|were|"
            r"did)\s+(?:he|she|they|the\s+(?:injured\s+)?(?:worker|patient|claimant|employee))\s+"
            r"(?:get\s+|first\s+)?(?:injured|hurt)\b)",
            re.ASCII,
        ),
    ),
    (
        "decision_date",
        re.compile(
            r"\bwhen\s+(?:was|were)\s+(?:it|this|that|the\s+(?:case|letter|decision|review))\s+"
            r"(?:decided|issued|determined)\b|\bdate\s+of\s+(?:the\s+)?decision\b|"
            # "When did IMR decide CM17-0009282?", "when was CM17-0009282 decided"
            r"\bwhen\s+did\s+(?:IMR|MAXIMUS|the\s+(?:reviewer|expert|IMR))\s+(?:decide|rule|issue)\b|"
            r"\bwhen\s+(?:was|were)\s+(?:case\s+)?CM\d{2}-?\d{4,7}\s+(?:decided|issued|determined)\b|"
            # "who decided the Trezix case and when?"
            r"\b(?:decided|reviewed|ruled)\b[^?]{0,60}\band\s+when\s*\??\s*$",
            _I,
        ),
    ),
    (
        "credentials",
        re.compile(r"\b(?:credentials?|qualifications?|qualified)\b", _I),
    ),
    (
        "mechanism",
        re.compile(
            r"\bmechanism\s+of\s+(?:the\s+)?injury\b|\bhow\s+(?:did|was|were|does|do|is)\b[^?]{0,40}\b"
            r"(?:get\s+hurt|got\s+hurt|hurt|injur\w*)\b|\bwhat\s+caused\s+(?:the|his|her)\s+injur",
            _I,
        ),
    ),
    (
        "ur_denial_date",
        re.compile(
            r"\bUR\s+(?:denial|decision)\s+date\b|\b(?:when|what\s+date)\b[^?]{0,40}\b(?:UR|utilization\s+review)\b[^?]{0,20}\b(?:den\w+|decid\w+|decision)\b|\bdate\s+of\s+(?:the\s+)?UR\b",
            _I,
        ),
    ),
    (
        "date_assigned",
        re.compile(
            r"\b(?:date\s+assigned|assigned\s+(?:to\s+(?:the|a)\s+reviewer|on|date)|(?:when|what\s+date)\b[^?]{0,40}\bassigned)\b",
            _I,
        ),
    ),
    (
        "application_received",
        re.compile(
            r"\bapplication\s+(?:was\s+)?received\b|\b(?:when|what\s+date)\b[^?]{0,40}\bapplication\b|\bIMR\s+application\b",
            _I,
        ),
    ),
    (
        "specialty",
        re.compile(
            # "who reviewed it?": the reviewer is named by credentials only
            r"\bwho\s+(?:reviewed|was\s+the\s+reviewer|decided)\b"
            r"(?!\s+(?:the\s+)?(?:most|fewest|more|least)\b)|"
            r"\b(?:specialt\w*|board\s+certif\w*|(?<!modified\s)(?<!partial\s)certification)\b|\bwas\s+the\s+reviewer\b[^?,]{0,30}?\ban?\s+[\w-]+\s+(?:doctor|physician|specialist|surgeon|doc)\b|\bwhat\s+(?:kind|type)\s+of\s+(?:doctor|physician|reviewer)\b",
            _I,
        ),
    ),
    (
        "licensure",
        re.compile(
            r"\blicen[cs]\w*\b|\b(?:which|what)\s+states?\b|\bwhere\s+is\s+the\s+reviewer\b|"
            # "who reviewed it?": the reviewer is known by credentials, licensure with them
            r"\bwho\s+(?:reviewed|was\s+the\s+reviewer)\b(?!\s+(?:the\s+)?(?:most|fewest|more|least)\b)|"
            r"\b(?:specialty|specialties|credentials?)\s+(?:and|&|/)\s+(?:the\s+)?states?\b|"
            r"\bstates?\s+(?:and|&|/)\s+(?:the\s+)?specialt",
            _I,
        ),
    ),
    (
        "age",
        re.compile(
            r"\bhow\s+old\b|\bage\s+of\s+the\b|\b(?:patient|worker|claimant)'?s?\s+age\b|^\s*age\b|"
            r"\b(?:sex|gender)\s+and\s+age\b|\bage\s+and\s+(?:sex|gender)\b|\b(?:patient|worker)\s+(?:sex|gender)\s+and\s+age\b",
            _I,
        ),
    ),
    (
        "sex",
        re.compile(
            r"\bmale\s+or\s+female\b|\bfemale\s+or\s+male\b|\b(?:sex|gender)\s+of\b|\bman\s+or\s+(?:a\s+)?woman\b|\bwhat\s+(?:sex|gender)\b|"
            r"\b(?:sex|gender)\s+and\s+age\b|\bage\s+and\s+(?:sex|gender)\b|\b(?:patient|worker)'?s?\s+(?:sex|gender)\b",
            _I,
        ),
    ),
    (
        "body_region",
        re.compile(
            r"\bwhat\s+(?:body\s+part|part\s+of\s+the\s+body)\b|"
            # not a request's own words: "not naming the body part to be treated"
            r"\bbody\s+parts?\b(?!\s+(?:to\s+be\s+treated|for\s+treatment|being\s+treated))|"
            r"\bwhat\s+was\s+injured\b|\bwhere\s+was\s+(?:the\s+)?(?:worker|patient)\s+injured\b",
            _I,
        ),
    ),
]

# Words that carry no content of their own in a question about these letters.
_STOP = frozenset(
    """etc else everything file date dates hold holds whole while carrier carriers tabs a an the of for to in on at by with from and or but not no nor is are was were be been
    being do does did done have has had having what which who whom whose why how when where
    whether if than then that this these those there their them they it its i me my we our you
    your he she his her any all each every some much many more most other such only own same so
    too very can could should would will shall may might must about as into over under again
    further once here also just both either neither per vs versus among between across within
    give given show tell list find get please owing account let s t re ve ll d m name names named
    imr request requests requested requesting decision decisions decided decide deciding letter
    letters case cases item items treatment treatments reviewer reviewers review reviewed
    reviewing expert determination determinations ruling rulings rule ruled ruling outcome
    outcomes result results upheld uphold upholding upholds overturned overturn overturning
    overturns denied deny denies denying denial denials approved approve approves approval
    approvals certified certify noncertified non certification certifications medically
    necessary necessity rate rates percentage percent share proportion number count counts
    total totals often say says said discuss discussed discusses discussing mention mentioned
    mentions mentioning involve involved involves involving regarding concerning concern
    concerned about related relate reason reasons grounds basis based because due why
    patient patients worker workers injured claimant claimants applicant employee ones one
    never ever always mainly mostly primarily chiefly largely solely right want light
    doctor doctors physician physicians need needs disputed dispute disputes asked asking nobody thanks seeing way favor favour issued rather instead opposed rested hinged
    full him her hers true complete loss ended caused fact similar point pointed
    submitted addressed single-item together appeal appeals ask asks hurt claims
    administrator wouldn't won't didn't doesn't don't isn't wasn't weren't couldn't guy guys
    alone along listed states fault faulted faulting ding dinged criticize criticized
    group groups grouped split splits i'd i'm i've know wondering wonder curious
    now none someone somebody anyone anybody saying specialty specialties listing listings describe
    describes described describing coding coded summary summaries summarise summarize
    summarised summarized summarising summarizing
    there kind type types sort did happen happened what's whats were_ anything something
    mtus odg acoem before after during since until went go going sent made make ever still
    injury injuries injured spine spinal collection corpus dataset altogether overall
    part portion remainder remaining authorized authorize authorization rest utilization
    noting note noted notes least one any prior previous earlier found deemed considered judged
    specifically particular particularly exactly actually really came come comes turned
    turn out where's up partly different differ differs difference most mostly citing
    cite cites cited reasoning rationale rationales explanation justification
    reviewer's happens doesn't don't didn't isn't wasn't got gotten pull
    bring look see show individual separate separately include includes
    included including contain contains containing off on onto away down like such
    these those""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
# The words a specialty comes with when a question names the reviewer by it.
_SPECIALTY_COMPANY = frozenset(
    "surgeon surgeons surgery specialist specialists physician physicians doctor doctors "
    "board medicine practitioner practitioners".split()
)


# What the filter reader (query.parse_question) consumes besides treatments: ages,
# injury dates, decision words, case numbers, guidelines, specialties, sex words.
_USED_ELSEWHERE: tuple[re.Pattern[str], ...] = (
    query._AGE,
    query._INJURED,
    query._INJURED_NUMERIC,
    query._DECISION_WORD,
    query._DENIAL_NOUN,
    query._CASE,
    *query._GUIDELINES.values(),
    *query.SPECIALTY_PATTERNS.values(),
    query._PERSON_SPECIALTY,
    # the words that name the answer's kind ("summarise", "how many", "why", "versus")
    *(
        rx
        for kind, rx in query._KIND_RULES
        if kind in ("compare", "share", "count", "why", "summary")
    ),
    re.compile(r"\b(?:woman|women|female|lady|man|men|male|gentleman)\b", _I),
    re.compile(r"\b\d+[- ]?(?:year|yr)s?[- ]?old\b", _I),
    re.compile(r"\bbreak\s*(?:it\s+|them\s+)?down\b|\bbreakdown\b", _I),
)


@dataclass(frozen=True)
class QueryPlan:
    """What a question asks, read once. ``filters`` select items; the rest shapes the answer."""

    question: str
    corrected: str
    filters: QueryFilters
    kind: str
    unit: str = "decisions"
    group_by: str | None = None
    fact: str | None = None
    regions: tuple[str, ...] = ()  # the item's own region (in its treatment)
    excluded: QueryFilters | None = None  # treatments left out ("other than PT")
    # regions the requests must not name ("MRIs not for the spine")
    regions_excluded: tuple[str, ...] = ()
    # words naming requests left out ("not counting the pre-op chest film"), as asked
    excluded_words: tuple[str, ...] = ()
    excluded_said: str = ""
    extreme: str | None = None  # "min" or "max" of ``fact`` over the letters ("youngest")
    letter_regions: tuple[str, ...] = ()  # the case's region (diagnoses, injury)
    # letters whose every decision went this way ("mixed": both ways)
    all_decided: str | None = None
    reasons: tuple[str, ...] = ()  # reason categories the decisions must carry
    # the reviewer specialties compared: each a set of certifications a reviewer holds
    specialty_groups: tuple[frozenset[str], ...] = ()
    about_case: bool = False  # "letters involving a fracture": the case, not the rationale
    partial: bool = False
    # which partial certifications: "remaining" (IMR decided what was left after UR
    # certified part) or "modified" (UR certified something else; the whole original
    # request went to IMR); "" either
    partial_kind: str = ""
    age_min: int | None = None
    age_max: int | None = None
    licensed_in: str | None = None
    licensed_only: bool = False  # licensed in ``licensed_in`` and no other state
    licensed_not: bool = False  # "licensed outside California": not in ``licensed_in``
    licensed_except: str | None = None  # "in Texas but not in California": nor this one
    licensed_also: tuple[str, ...] = ()  # "in both Texas and Ohio": these too
    licensed_states_min: int | None = None  # "licensed in more than one state": 2
    decided_not_in: str | None = None  # "apart from the February 2017 letters": 2017-02
    # group by age in the bands the question names ("under 40, 40-49, 50-59, 60 and
    # over"): the ages where a band starts (40, 50, 60)
    age_bands: tuple[int, ...] = ()
    group_state: str | None = None  # by licensure: licensed in this state or not
    group_regions: tuple[str, ...] = ()  # by region: these regions, the rest as "other"
    sex: str | None = None
    # "PT requests where the patient had never had PT before": the letter says the worker
    # had none of it before (the item's rationale or the case summary)
    none_before: bool = False
    # the MAXIMUS guideline line: "outside_mtus" (recommendations outside the MTUS),
    # "no_evidence" (the reviewer cited no medical evidence); "" any
    reviewer_basis: str = ""
    # "workers who had already received chiropractic treatment": the topic is told in the
    # case's history (its summary), not in the names of the requests decided
    history_only: bool = False
    # specialties compared counting every reviewer who holds one, also with another
    # certification ("including dual-certified ones"); else exactly those named
    specialty_any: bool = False
    measure: str | None = None  # group-by: the decision whose rate is asked
    decided_in: str | None = None  # "YYYY" or "YYYY-MM"
    ur_denied_in: str | None = None  # the UR denial's date, "YYYY" or "YYYY-MM"
    decided_from: str | None = None  # ISO dates, inclusive
    decided_to: str | None = None
    min_items: int | None = None  # letters that decided at least / at most this many items
    max_items: int | None = None
    topic: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # other unused words: they rank passages, restrict nothing
    absent: str | None = None
    corrections: tuple[tuple[str, str], ...] = ()
    # "What do reviewers say about X", "which letters discuss X": X may be a passage
    # topic even where it is also a treatment name.
    discusses: bool = False
    # A fact question that also asks what was decided: the decisions beside the facts.
    fact_decisions: bool = False
    # "what all was requested in the Celebrex letter?": the treatment names the letter;
    # the question is about every request it decided
    letter_of_request: bool = False
    # The topic is a name ("urine drug screens"): every word of it must be in a passage.
    topic_phrase: bool = False
    phrases: tuple[str, ...] = ()  # with topic_phrase: any one of these names, whole
    # Topic words that stand for each other: "weaning or tapering".
    topic_or: tuple[tuple[str, ...], ...] = ()
    # "noting there were no red flags": the passage must say the topic is absent.
    topic_negated: bool = False
    # "... don't recommend that modality at all": a passage that says it is not
    # recommended for some use ("for routine use", "as a primary treatment") does not do
    topic_unqualified: bool = False
    # words of the question that name some of the requests ("associated surgical services")
    named_by: str | None = None
    # "What do reviewers say about X": the rationales, not the case histories.
    in_rationale: bool = False
    # "what guidelines were cited for the TENS unit?": each decision with its guideline
    guidelines_asked: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def letter_restricted(self) -> bool:
        return bool(
            self.regions
            or self.regions_excluded
            or self.excluded_words
            or self.specialty_groups
            or self.excluded is not None
            or self.letter_regions
            or self.all_decided
            or self.reasons
            or self.partial
            or self.age_min is not None
            or self.age_max is not None
            or self.licensed_in
            or self.licensed_states_min
            or self.decided_in
            or self.decided_not_in
            or self.ur_denied_in
            or self.decided_from
            or self.decided_to
            or self.min_items is not None
            or self.max_items is not None
            or self.sex
            or self.none_before
            or self.reviewer_basis
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "unit": self.unit}
        out["filters"] = self.filters.as_dict()
        for key in (
            "group_by",
            "measure",
            "fact",
            "licensed_in",
            "licensed_only",
            "licensed_not",
            "licensed_except",
            "licensed_also",
            "licensed_states_min",
            "age_bands",
            "group_state",
            "sex",
            "decided_in",
            "decided_not_in",
            "ur_denied_in",
            "decided_from",
            "decided_to",
            "min_items",
            "max_items",
            "absent",
            "named_by",
            "extreme",
            "letter_of_request",
            "guidelines_asked",
            "none_before",
            "reviewer_basis",
            "specialty_any",
            "history_only",
        ):
            if value := getattr(self, key):
                out[key] = list(value) if isinstance(value, tuple) else value
        if self.regions:
            out["regions"] = list(self.regions)
        if self.regions_excluded:
            out["regions_excluded"] = list(self.regions_excluded)
        if self.group_regions:
            out["group_regions"] = list(self.group_regions)
        if self.excluded_words:
            out["excluded_words"] = list(self.excluded_words)
        if self.excluded is not None:
            out["excluded"] = self.excluded.as_dict()
        if self.letter_regions:
            out["letter_regions"] = list(self.letter_regions)
        if self.all_decided:
            out["all_decided"] = self.all_decided
        if self.reasons:
            out["reasons"] = list(self.reasons)
        if self.specialty_groups:
            out["specialty_groups"] = [sorted(g) for g in self.specialty_groups]
        if self.partial:
            out["partial"] = True
        if self.partial_kind:
            out["partial_kind"] = self.partial_kind
        if self.age_min is not None:
            out["age_min"] = self.age_min
        if self.age_max is not None:
            out["age_max"] = self.age_max
        if self.topic:
            out["topic"] = list(self.topic)
            if self.topic_phrase:
                out["topic_phrase"] = True
            if self.topic_negated:
                out["topic_negated"] = True
            if self.topic_unqualified:
                out["topic_unqualified"] = True
        if self.terms:
            out["terms"] = list(self.terms)
        if self.corrections:
            out["corrections"] = [{"asked": a, "read_as": b} for a, b in self.corrections]
        return out


# Misspelt question words, too short for the edit-distance readers below.
_QUESTION_TYPOS = {
    "whn": "when",
    "wehn": "when",
    "wen": "when",
    "wht": "what",
    "waht": "what",
    "wat": "what",
    "hw": "how",
    "hwo": "how",
    "wich": "which",
    "whcih": "which",
    "wihch": "which",
    "whihc": "which",
    "wy": "why",
    "dat": "date",
    "whay": "why",
    "unti": "unit",
    "untis": "units",
    "uint": "unit",
    "reqs": "requests",
    "drivr": "driver",
    "qty": "quantity",
    "alow": "allow",
    "certs": "certifications",
    "womens": "women",
    "ilegible": "illegible",
    "illegable": "illegible",
    "ilegable": "illegible",
    "illegibile": "illegible",
    "handwritting": "handwriting",
    "handwritng": "handwriting",
    "handwritin": "handwriting",
    "femal": "female",
    "fmale": "female",
}


def correct_names(question: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Misspelt treatment names read as the lexicon entry they are one edit from."""
    typos: list[tuple[str, str]] = []

    def typo(m: re.Match[str]) -> str:
        fixed = _QUESTION_TYPOS.get(m.group(0).lower())
        if fixed is None:
            return m.group(0)
        typos.append((m.group(0), fixed))
        return fixed

    for rx, meant in _SHORTHAND:

        def read(m: re.Match[str], meant: str = meant) -> str:
            said = _STATE_CODES[m.group(0)] if meant == "STATE" else m.expand(meant)
            if m.group(0).strip().lower() not in _PLAIN_SHORTHAND:
                typos.append((m.group(0).strip(), said.strip()))
            return said

        question = rx.sub(read, question)
    question = _WORD.sub(typo, question)
    question = _WORD.sub(lambda m: _american(m.group(0), typos), question)

    def quantity(m: re.Match[str]) -> str:
        typos.append((m.group(0), f"{m['verb']} the quantity"))
        return f"{m['verb']} the quantity"

    # "for not saying how many or how much was asked for": the quantity, unstated
    question = _HOW_MANY_SAID.sub(quantity, question)
    out, fixes = _correct_names(question)
    return out, tuple(typos) + fixes


# Shorthand of notes and search boxes, read as meant: "pts 60+", "youngest pt w/ an
# overturned item", "denied just bc surgery was denied", "car crash claims", "M vs F".
# "PT" in capitals is physical therapy; "pt" in lower case beside what a patient has
# (an age, a sex, "w/") is the patient.
_PATIENT_NEAR = (
    r"(?:age|aged|ages|w/|with|who|whose|y/?o|yrs?|years?|\d+\+?|over|under|older|younger|sex|"
    r"gender|name|dob|doi|male|female|m|f|'s)"
)
_SHORTHAND: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bb/c\b|\bbc\b|\bb/cause\b|\bcuz\b|\bbcuz\b|\bcoz\b", _I), "because"),
    (re.compile(r"\bw/o\b", _I), "without"),
    (re.compile(r"(?<![\w/])w/\s*(?=\w)", _I), "with "),
    # "therapy requests (physical, occupational, chiropractic)": the head noun for each
    (
        re.compile(r"(?<=therapy requests \()physical,\s*occupational(?=,|\s+and|\s+or|\))", _I),
        "physical therapy, occupational therapy",
    ),
    (
        re.compile(r"(?<=therapy \()physical,\s*occupational(?=,|\s+and|\s+or|\))", _I),
        "physical therapy, occupational therapy",
    ),
    (
        re.compile(
            r"(?<!motor )\b(?:car|auto|automobile|traffic|vehicle)\s+(?:crash|accident|wreck|collision)e?s?\b",
            _I,
        ),
        "motor vehicle accident",
    ),
    (re.compile(r"\bM\s*(?:vs\.?|/|versus|v\.?)\s*F\b"), "men vs women"),
    (re.compile(r"\b(\d{2})\s*\+(?=\s|$|\?)"), r"\1 or older"),
    (re.compile(r"\bpts\b"), "patients"),
    (
        re.compile(
            r"(?<=licensed in )(?:CA|TX|NY|FL|IL|PA|OH|GA|NJ|MA|AZ|CO|WA|OR|MI|NC|VA|MD|TN|NV)\b"
        ),
        "STATE",
    ),
    (
        re.compile(
            rf"\bpt\b(?=\s+{_PATIENT_NEAR}\b)|(?<=youngest )pt\b|(?<=oldest )pt\b|\bpt'?s\b(?=\s+age)"
        ),
        "patient",
    ),
    (re.compile(r"(?<=\d)\s*(?:yo|y/o|y\.o\.)\b", _I), " year old"),
)
# Shorthand read without a word in the answer: it can mean nothing else
_PLAIN_SHORTHAND = frozenset(
    ["w/", "w/o", "bc", "b/c", "cuz", "coz", "bcuz", "b/cause", "yo", "y/o"]
)
_STATE_CODES = {
    "CA": "California",
    "TX": "Texas",
    "NY": "New York",
    "FL": "Florida",
    "IL": "Illinois",
    "PA": "Pennsylvania",
    "OH": "Ohio",
    "GA": "Georgia",
    "NJ": "New Jersey",
    "MA": "Massachusetts",
    "AZ": "Arizona",
    "CO": "Colorado",
    "WA": "Washington",
    "OR": "Oregon",
    "MI": "Michigan",
    "NC": "North Carolina",
    "VA": "Virginia",
    "MD": "Maryland",
    "TN": "Tennessee",
    "NV": "Nevada",
}
_HOW_MANY_SAID = re.compile(
    r"\b(?P<verb>saying|stating|state|say|specify|specifying|indicate|indicating|list|listing)\s+"
    r"how\s+(?:many|much)(?:\s+or\s+how\s+(?:many|much))?(?:\s+(?:was|were)\s+(?:being\s+)?"
    r"(?:asked\s+for|requested|wanted))?",
    _I,
)


# British spellings, read as the letters (American) spell them: "hospitalisation",
# "orthopaedic", "oedema", "anaesthesia", "haematoma", "programme", "behaviour"
_BRITISH = (
    (re.compile(r"isation"), "ization"),
    (re.compile(r"is(e|ed|es|ing)$"), r"iz\1"),
    (re.compile(r"paed"), "ped"),
    (re.compile(r"^oe"), "e"),
    (re.compile(r"(?<=[a-z])oe(?=[a-z])"), "e"),
    (re.compile(r"(?<=[a-z])ae(?=[a-z])"), "e"),
    (re.compile(r"^programme(s?)$"), r"program\1"),
    (re.compile(r"our$"), "or"),
    (re.compile(r"tre(s?)$"), r"ter\1"),
)


def _american(word: str, typos: list[tuple[str, str]]) -> str:
    """The American spelling of a British-spelt word the domain knows, else the word."""
    low = word.lower()
    if len(low) < 5 or low in _vocabulary() or low in _STOP:
        return word
    for rx, repl in _BRITISH:
        us = rx.sub(repl, low)
        if us != low and us in _vocabulary():
            typos.append((word, us))
            return us
    return word


def _correct_names(question: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    lex = get_lexicon()
    found = lex.find_all(question)
    covered = [(m.start, m.end) for m in found]
    covered += [(a, b) for _, a, b in lex.classes_for_group_word(question)]
    out, fixes = question, []
    for m in _WORD.finditer(question):
        word = m.group(0)
        low = word.lower()
        if len(low) < 5 or low in _STOP or _is_english(low):
            continue
        if any(a <= m.start() < b for a, b in covered):
            continue
        hit = lex.find(word)
        if hit is None or not hit.fuzzy:
            continue
        canonical = hit.entry.canonical
        if canonical.lower() == low:
            continue
        fixes.append((word, canonical))
        out = out.replace(word, canonical, 1)
    # Misspelt words of multi-word names and of the question's own vocabulary
    # ("phyiscal therapy", "overturnd", "decisons"): the closest word of the lexicon's
    # aliases or of the domain words, when it is very close and starts alike.
    vocab = _vocabulary()
    # "stomache-protecting": each part of a hyphenated word on its own
    for m in list(re.finditer(r"\b([A-Za-z]{5,})-(?=[A-Za-z])", out)):
        part = m[1].lower()
        if part in vocab or part in _STOP or _is_english(part):
            continue
        close = difflib.get_close_matches(part, vocab, n=1, cutoff=0.86)
        if close and close[0][0] == part[0] and not _inflection(part, close[0]):
            fixes.append((m[1], close[0]))
            out = out[: m.start(1)] + close[0] + out[m.end(1) :]
    for m in list(_WORD.finditer(out)):
        word = m.group(0)
        low = word.lower()
        if len(low) < 4 or low in vocab or low in _STOP or _is_english(low):
            continue
        if low.endswith("'s") and (low[:-2] in vocab or low[:-2] in _STOP or _is_english(low[:-2])):
            continue  # "the worker's age": a possessive, no misspelling
        close = (
            difflib.get_close_matches(low, vocab, n=1, cutoff=0.86) if len(low) >= 5 else []
        ) or _transposed(low, vocab)
        # An inflection of a known word is no misspelling ("reversed", "screens").
        # A misspelling is a letter or two off, not another word ("depression" is no
        # misspelt "decompression").
        if (
            close
            and close[0][0] == low[0]
            and abs(len(close[0]) - len(low)) <= 2
            and not _inflection(low, close[0])
            and not _inflection(close[0], low)  # "raise" is no misspelt "raised"
        ):
            fixes.append((word, close[0]))
            out = out.replace(word, close[0], 1)
    # A state misspelt after "licensed in" ("pensylvania"): the state one or two letters off
    for m in list(
        re.finditer(r"\blicen[cs]ed\s+(?:only\s+)?in\s+([A-Za-z]+(?:\s+[A-Za-z]+)?)", out, _I)
    ):
        said = m[1]
        if any(said.lower().startswith(st.lower()) for st in _STATES):
            continue
        close = difflib.get_close_matches(
            said.lower(), [st.lower() for st in _STATES], n=1, cutoff=0.8
        )
        if not close:
            first = said.split()[0]
            close = difflib.get_close_matches(
                first.lower(), [st.lower() for st in _STATES], n=1, cutoff=0.8
            )
            said = first if close else said
        if close:
            right = next(st for st in _STATES if st.lower() == close[0])
            fixes.append((said, right))
            out = out[: m.start(1)] + right + out[m.start(1) + len(said) :]
    # A region misspelt as another English word ("lumber spine"), before a word that
    # says it is the region
    for m in list(
        re.finditer(
            r"\b(lumber|cervicle|thorasic)(?=\s+(?:spine|mri|x-?rays?|ct|region|area|strain|sprain|"
            r"radiculopathy|esi|epidural|support|surgery|fusion|pain|imaging|scan)\b)",
            out,
            _I,
        )
    ):
        right = {"lumber": "lumbar", "cervicle": "cervical", "thorasic": "thoracic"}[m[1].lower()]
        fixes.append((m[1], right))
        out = out[: m.start(1)] + right + out[m.end(1) :]
    # A body region or a bound word missing one letter ("kne injury", "sholder", "ovr
    # 55"): only such a word that the typed word is one insertion away from.
    for m in list(_WORD.finditer(out)):
        low = m.group(0).lower()
        if len(low) < 3 or low in vocab or low in _STOP or _is_english(low):
            continue
        for region in _REGION_WORDS + _BOUND_WORDS:
            if len(region) == len(low) + 1 and _one_insertion(low, region):
                fixes.append((m.group(0), region))
                out = out.replace(m.group(0), region, 1)
                break
    return out, tuple(fixes)


_REGION_WORDS = (
    "knee",
    "knees",
    "neck",
    "shoulder",
    "elbow",
    "wrist",
    "ankle",
    "lumbar",
    "cervical",
    "thoracic",
    "spine",
    "hand",
    "foot",
)


#: A superlative over the letters: the worker's age, or the decision date.
_EXTREME = re.compile(
    r"\b(?P<w>youngest|oldest)\s+(?:\w+\s+){0,2}?(?:workers?|patients?|claimants?|"
    r"applicants?|employees?|persons?|people|individuals?)\b|\b(?:who\s+is|who\s+was|which\s+"
    r"(?:worker|patient|letter|case)\s+(?:is|was|has))\s+(?:the\s+)?(?P<w2>youngest|oldest)\b|"
    r"\b(?P<w3>earliest|latest|most\s+recent)\s+(?:\w+\s+)?(?:decisions?|letters?|"
    r"determinations?|cases?)\b(?:\s+(?:was|were)\s+)?(?!\s+(?:of|in|for)\s+CM)|"
    # "the longest gap between the UR denial date and the IMR decision date"
    r"\b(?P<w5>longest|shortest|biggest|smallest|largest|greatest|least|most)\s+(?:gap|time|wait|"
    r"delay|interval|turnaround|lag)\b(?=[^?]{0,60}\b(?:UR|utilization\s+review)\b[^?]{0,60}\b"
    r"(?:IMR|decision|decided|determination))|"
    # "which single letter decided the most requests"
    r"\b(?:letters?|cases?|determinations?)\s+(?:\w+\s+){0,2}?(?:decided|had|has|covered|"
    r"included|contained|with)\s+the\s+(?P<w4>most|fewest|largest\s+number\s+of|greatest\s+"
    r"number\s+of)\s+(?:disputed\s+|separate\s+|individual\s+)?(?:requests|items|decisions|"
    r"treatments|issues)\b",
    _I,
)

_AVERAGE_AGE = re.compile(r"\b(?:average|mean|median|typical)\s+(?:\w+\s+)?ages?\b", _I)

#: Words that bound an age, a count or a date, as the question reader knows them.
_BOUND_WORDS = ("over", "under", "older", "younger", "than", "before", "after", "since")

_SUFFIXES = ("s", "es", "ed", "d", "ing", "er", "ers", "ly", "al", "ation", "ations")


def _inflection(word: str, known: str) -> bool:
    """``word`` is ``known`` with a suffix ("screens", "reversed", "therapies")."""
    if word.startswith(known) and word[len(known) :] in _SUFFIXES:
        return True
    stem, last = known[:-1], known[-1:]
    rest = word[len(stem) :] if word.startswith(stem) else None
    if last == "y" and rest in ("ies", "ied"):
        return True
    return last == "e" and rest in ("ed", "es", "ing", "er", "ers", "ion")


def _transposed(word: str, vocab: frozenset[str]) -> list[str]:
    """The known word ``word`` is with two neighbouring letters swapped ("denail")."""
    for i in range(1, len(word) - 1):  # the first letter stays, as a reader expects
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if swapped != word and swapped in vocab:
            return [swapped]
    return []


def _one_insertion(short: str, long: str) -> bool:
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


_DOMAIN_WORDS = """overturned upheld decisions decision requests request denied approved
appeal appeals retrospective diagnosis diagnoses driver female male
letters letter reviewer reviewers specialty treatment treatments medication medications
physical therapy sessions injection injections surgery imaging lumbar cervical thoracic
shoulder knee elbow wrist ankle partially certified certification modified functional
improvement documentation workers injured injury injuries reasons because discuss
involve which overturn percentage application received assigned licensed licensure
practice family orthopedic orthopaedic neurology neurologist psychiatry internal medicine
rehabilitation anesthesiology chiropractic emergency occupational preventive management
specialist reviewed decided denial denials determination determinations
january february march april june july august september october november december""".split()


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    words = set(_DOMAIN_WORDS) | set(_STOP)
    lex = get_lexicon()
    for entry in lex.entries:
        for alias in (entry.canonical, *entry.aliases):
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", alias))
    for group in lex.groups:  # "stomach protection", "muscle relaxers"
        words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", group))
    return frozenset(words)


# Everyday words that are one edit from a treatment name ("some" / "Soma", "norm").
_ENGLISH = frozenset(
    """some same sore norm more core none nose note rose hose pose lose dose doses
    done tone bone cone zone lone gone home come came name game fame dame lame tame
    tram team term from form farm firm film fill mill pill pills kill hill till will well
    wall tall call fall hall ball mall cast last past fast vast mast rest test best west
    nest pest jest lift left gift soft loft oft often patch match catch watch batch latch
    hatch pain gain main rain vain train brain chain drain plain stain grain strain
    split splits spit slit spilt sprint print stint state states start stare share spare
    sprain back pack rack sack hack lack tack track crack stack black knee free tree
    three hips lips tips dips rips ship chip whip trip grip drip slip hand band land sand
    wand brand grand stand strand scan scans plan plans span clan than then when what
    employer employers employed employment insurer insurers carrier carriers""".split()
)


def _is_english(word: str) -> bool:
    return word in _ENGLISH


#: Words between a treatment and a region that make the region the request's own:
#: "the physical therapy requests that covered the knee", "MRIs that were for the back".
_ITEM_REGION_GAP = re.compile(
    r"(?:\W*\b(?:requests?|requested|that|which|were|was|are|is|covered|covering|covers?|"
    r"cover|for|of|on|to|at|the|his|her|their|both|involving|involved|targeting|"
    r"targeted|treating|aimed|directed|addressing|sessions?|visits?|treatments?|"
    r"imaging|scans?|studies|study|orders?|ordered|prescribed|asked|submitted)\b)*\W*",
    _I,
)


#: An injury told of the worker, just before a body region: the case's region, not the
#: request's ("who broke her wrist", "hurt his right shoulder", "injured the low").
_HURT_BEFORE = re.compile(
    r"\b(?:broke|broken|hurt|hurts|injured|injuring|fractured|sprained|strained|twisted|"
    r"dislocated|crushed|jammed|tore|torn)\s+(?:his|her|their|the|a|both)?\s*"
    r"(?:(?:left|right|lower|upper|low|bilateral)\s+){0,2}$",
    _I,
)


#: "Besides the SLAP arthroscopy itself, ...": one request set apart, the rest asked about
_BESIDES_ITSELF = re.compile(
    # "In the SLAP repair case, excluding the arthroscopy itself, why ...": the case first
    r"^\s*(?:in\s+the\s+(?P<case>[^,;?()]+?)\s+(?:case|letter)\s*,\s*)?"
    r"(?:besides|other\s+than|apart\s+from|aside\s+from|except(?:\s+for)?|excluding|not\s+counting)\s+"
    r"(?:the\s+)?(?P<x>[^,;?()]+?)\s+itself\s*,?\s*(?P<rest>.+)$",
    _I,
)
#: ... "the add-ons (sling, Vascutherm, labs)", "the rest", "everything else"
_ADD_ONS = re.compile(
    r"\b(?:all\s+|every\s+|each\s+)?(?:of\s+)?(?:the\s+)?(?:add-?ons?|rest|others|other\s+(?:items|"
    r"requests|services|things)|everything\s+else)\b(?:\s+(?:requests?|items?|services?))?"
    r"(?:\s+(?:that|which)\s+came\s+with\s+(?:the\s+|it\b)\w*)?(?:\s*\([^)]*\))?",
    _I,
)


_SOURCE = r"(?:diagnos\w+|imaging|records?|summar\w+|histor\w+|exam\w*|findings|notes)"
_PER_SOURCE = re.compile(
    r"\b(?:per|according\s+to|as\s+(?:shown|seen|described|documented)\s+(?:in|on|by))\s+(?:the\s+)?"
    + _SOURCE
    + r"(?:\s*(?:,|or|and|/)\s*(?:the\s+)?"
    + _SOURCE
    + r")*(?:\s+(?:described|documented|reported))?\b",
    _I,
)


def read_question(question: str) -> QueryPlan:
    """Read a question into its plan (see module docstring)."""
    m: re.Match[str] | None
    corrected, fixes = correct_names(question)
    # "physical or occupational therapy": each named in full, as the lexicon knows them.
    corrected = _ELLIPSIS.sub(lambda m: f"{m[1]} {m[4]} {m[2]} {m[3]} {m[4]}", corrected)
    # shorthand: "# of letters", "what % of"
    corrected = re.sub(r"(?<![\w#])#\s*of\b", "number of", corrected)
    corrected = re.sub(r"\bwhat\s*%(?=\s)", "what percent", corrected, flags=_I)
    corrected = re.sub(r"(?<![\w.])%\s*of\b", "percent of", corrected, flags=_I)
    # "Orthopedic Surgery, alone or together with another specialty": every reviewer
    # who holds it, as a specialty is matched
    corrected = re.sub(
        r",?\s*(?:either\s+)?(?:alone|by\s+itself|only)\s+or\s+(?:together|along|combined|jointly)\s+"
        r"with\s+(?:an(?:y)?\s*)?other\s+(?:specialt\w+|certifications?|board\s+certifications?)\b",
        "",
        corrected,
        flags=_I,
    )
    # "faulted the RFA for leaving something unspecified": the request for
    # authorization, not a radiofrequency ablation
    corrected = re.sub(
        r"\b(the|an?|each|every|this|that)\s+RFA\b(?!\s+(?:procedures?|requests?|decisions?|at|to|"
        r"of\s+the|injections?))",
        r"\1 request",
        corrected,
    )
    # "PT overturn %", "MRI approval %?": the rate
    corrected = re.sub(r"(?<=[A-Za-z])\s*%\s*(?=[?.!]*\s*$)", " rate", corrected)
    # "pt denials", "ot requests": the therapy, typed in lower case ("the pt" is the patient)
    corrected = re.sub(
        r"(?<![\w'])(?<!\bthe\s)(?<!\ba\s)(?<!\bthis\s)(?<!\bthat\s)(?<!\beach\s)(pt|ot)\b(?!')",
        lambda m: m.group(1).upper(),
        corrected,
    )
    # "Besides the SLAP arthroscopy itself, why were all the add-ons (sling, labs, ...)
    # denied?": the other requests of the letter that decided it; the list glosses them
    besides = _BESIDES_ITSELF.match(corrected)
    add_ons = _ADD_ONS.search(besides["rest"]) if besides else None
    if besides and add_ons:
        rest = besides["rest"]
        named = f"{besides['case']} {besides['x']}" if besides["case"] else besides["x"]
        corrected = (
            f"{rest[: add_ons.start()]}the other requests in the {named} letter"
            f"{rest[add_ons.end() :]}"
        )
    # "I'm a PM&R doc and our clinic dispenses a lot of compounded oral suspensions. In
    # the letter that ...": who asks and why restricts nothing
    told = _asker_context(corrected)
    rest = corrected[told:]
    if told and (treatment_filters(rest).has_treatment or query._CASE.search(rest)):
        q = " " * told + rest
    else:  # "I've got a client whose L4 and L5 TFESIs were upheld. What was missing?"
        q = corrected
    # "a fracture, per the diagnoses or imaging described": where the letter says it,
    # no request asked about
    q = _PER_SOURCE.sub(lambda m: " " * len(m.group(0)), q)
    # "overturned decisions that were not physical therapy": the negated treatment is
    # left out of the answer, and blanked so it does not also select.
    if (conceded := _CONCEDED.search(q)) and _DECISION_BEFORE.search(q[: conceded.start()]):
        # "why was the post-op Percocet upheld when the surgery itself was approved?": what
        # the asker knows of another request; it selects nothing
        q = q[: conceded.start()] + " " * (conceded.end() - conceded.start()) + q[conceded.end() :]
    excluded, q = _excluded(q)
    regions_excluded, q = _excluded_regions(q)
    kept_decision, q = _excluded_decision(q)
    excluded_words, excluded_said, q = _excluded_words(q)
    filters = treatment_filters(q)
    findings: list[tuple[int, int]] = []
    if filters.has_treatment and (found := list(_FINDINGS_OF.finditer(q))):
        # "a fracture in the worker's diagnoses or imaging findings": what a study found
        # is the case, not a request asked about
        blanked = q
        for fm in found:
            blanked = blanked[: fm.start()] + " " * (fm.end() - fm.start()) + blanked[fm.end() :]
        rest = treatment_filters(blanked)
        filters = treatment_of(filters, rest)
        findings = [(fm.start(), fm.end()) for fm in found]
    history: tuple[int, int] | None = None  # "after wrist surgery": the case's history
    if (after := _AFTER_TREATMENT.search(q)) and len(filters.mentions) > 1:
        # "hydrocodone #60 cut to #25 after wrist surgery": the surgery is the case's
        # history, the hydrocodone is what is asked about
        rest = treatment_filters(
            q[: after.start()] + " " * (after.end() - after.start()) + q[after.end() :]
        )
        if rest.has_treatment:
            history = (after.start(), after.end())
            filters = treatment_of(filters, rest)
    had_before: tuple[str, ...] = ()
    if filters.has_treatment and (hb := _HAD_RECEIVED.search(q)):
        # "which workers had already received chiropractic treatment before the disputed
        # requests": the case's history, told in its summary, not a request asked about
        named = [t for t in get_lexicon().find_all(q) if t.start == hb.end()]
        if named:
            t = named[0]
            rest = treatment_filters(q[: t.start] + " " * (t.end - t.start) + q[t.end :])
            filters = treatment_of(filters, rest)
            history = (hb.start(), t.end)
            had_before = tuple(dict.fromkeys([q[t.start : t.end], t.entry.canonical]))
    if filters.specialty and filters.has_treatment:
        # "which cases did a chiropractor review?": the reviewer, not chiropractic requests
        at = q.lower().find(filters.specialty.lower())
        if at >= 0:
            cut = len(filters.specialty)
            rest = treatment_filters(q[:at] + " " * cut + q[at + cut :])
            if rest.mentions != filters.mentions:
                filters = treatment_of(filters, rest)
    if kept_decision:  # "other than the one that got overturned, why were ... denied"
        filters = replace(filters, decision=kept_decision)
    kind = question_kind(q)
    if filters.decision and _AND_DID_ANY.search(q):
        # "which drugs did PM&R reviewers review, and did any get approved?": all of them
        filters = replace(filters, decision=None)
    used: list[tuple[int, int]] = []  # spans of the question some part of the plan used
    used.extend(findings)

    def use(m: re.Match[str] | None) -> re.Match[str] | None:
        if m is not None:
            used.append((m.start(), m.end()))
        return m

    absent = None
    for what, rx in _ABSENT:
        if use(rx.search(q)):
            absent = what
            break
    group_by = None
    for name, rx in _GROUP_BY:
        if use(rx.search(q)):
            group_by = name
            break
    if (
        group_by == "sex"
        and re.search(
            r"\b(?:males?|man|men)\s+or\s+(?:females?|woman|women)\b|\b(?:females?|woman)\s+or\s+(?:males?|man)\b",
            q,
            _I,
        )
        and re.search(r"\bhow\s+old\b|\bage\b|\b(?:is|was)\s+(?:the|this|that|he|she|it)\b", q, _I)
    ):
        # "how old is the truck driver, and male or female?": one worker's facts
        group_by = None
    if group_by == "guideline":
        filters = replace(filters, guideline=None)  # each guideline is a group
    if group_by in ("month", "year"):
        # "by the month of the IMR decision date, with counts for each month": every
        # word of the grouping is the grouping's
        for g in re.finditer(
            rf"\b(?:each|every|per|the|a)\s+{group_by}s?\b|\b{group_by}s?\s+of\s+(?:the\s+)?"
            r"(?:IMR\s+)?(?:decision|determination)(?:\s+dates?)?\b|"
            rf"\b(?:decision|determination)\s+{group_by}s?\b|\b{group_by}s?\b",
            q,
            _I,
        ):
            use(g)
    # "Compare Family Practice, PM&R and Internal Medicine reviewers": by specialty,
    # each group the reviewers certified in exactly what it names
    compared = tuple(query.specialty_groups(q)) if group_by in (None, "specialty") else ()
    if compared and re.search(
        r"\b(?:who|that)\s+also\s+(?:hold|holds|have|has|carry|carries|are)\b|"
        r"\balso\s+(?:hold|holds)\s+an?\b",
        q,
        _I,
    ):
        # "internal medicine reviewers, counting those who also hold a hospice and
        # palliative medicine certification": the first specialty, however certified else
        compared = ()
    if compared and re.search(
        r"\b(?:and\s+so\s+on|and\s+so\s+forth|etc\.?|and\s+(?:the\s+)?(?:others|rest)|"
        r"and\s+every\s+other|or\s+whatever)\b",
        q,
        _I,
    ):
        # "by reviewer specialty (Family Practice vs occ med vs PM&R and so on)": every
        # specialty, those named being examples
        group_by, filters, compared = "specialty", replace(filters, specialty=None), ()
    elif compared:
        group_by, filters = "specialty", replace(filters, specialty=None)
        for g in _ANY_CERTIFIED.finditer(q):
            use(g)
    if group_by == "class" and re.search(
        r"\b(?:and|or)\s+(?:the\s+)?(?:other|others|rest|everything\s+else|all\s+(?:the\s+)?others?)\b",
        q,
        _I,
    ):
        # "by drug class — opioids, muscle relaxants, ..., and other": every medication,
        # the classes named being some of the groups
        filters = treatment_of(filters, treatment_filters("medications"))
    if (
        group_by == "decision"
        and len(filters.canonicals) >= 2
        and re.search(r"\b(?:vs\.?|versus|compared\s+(?:to|with))\b", q, _I)
    ):
        # "break down approved vs denied for PT vs chiro vs acupuncture": each treatment,
        # with its decisions
        group_by, kind = None, "compare"
    fact = None
    fact_without_letter = False
    asked_fact = None
    # "(qty, dose, body part, location)": a gloss asks for no fact
    unglossed = re.sub(r"\([^)]*\)", lambda m: " " * len(m.group(0)), q)
    # "A researcher coding mechanism of injury: which letters describe the injury as a
    # fall?": who asks and why is not what is asked
    told = _asker_context(unglossed)
    unglossed = " " * told + unglossed[told:]
    unglossed = re.sub(
        r"\b(?:such\s+as|e\.g\.|for\s+example)\b[^?.;]*",
        lambda m: " " * len(m.group(0)),
        unglossed,
        flags=_I,
    )
    letter_fact = fact_asked(unglossed)
    if group_by is None and letter_fact and letter_fact != "reviewer_name":
        fact = letter_fact
    if group_by in ("sex", "age") and (_CASE_Q.search(q) or _one_worker(q)):
        group_by = None  # "age and sex of the worker in CM17-0021656": that letter's facts
    if group_by is None:
        # every fact asked: "Age and sex of the injured worker in ...", "what specialty,
        # and licensed where?"
        names = [fact] if fact else []
        names += [
            name
            for name, rx in FACTS
            if (m := rx.search(unglossed))
            # "denials that mention that no body part was specified": what a request
            # lacked, not a fact asked for
            and not re.search(
                r"\b(?:no|not|without|missing|lack\s+of)\s+(?:\w+\s+)?$", q[: m.start()], _I
            )
            # "denials where the request didn't specify the quantity or body part"
            and not re.search(
                r"(?:\b(?:not|never|failed\s+to|fail\w*\s+to)|n't)\s+(?:\w+\s+){0,2}?(?:specify|"
                r"specifying|state|stating|name|naming|say|saying|list|listing)\b[^?.;]{0,40}$",
                q[: m.start()],
                _I,
            )
            and use(m)
            and name not in names
        ]
        if filters.specialty and not filters.case_number:
            names = [n for n in names if n != "specialty"]  # "reviewers with a ... certification"
        if names and "sex" not in names and filters.case_number:
            if sx := re.search(r"\b(?:sex|gender)\b", q, _I):  # "age, sex and DOI of ..."
                names.append("sex")
                used.append((sx.start(), sx.end()))
        if {"specialty", "licensure"} <= set(names):
            names = [n for n in names if n not in ("specialty", "licensure")] + ["credentials"]
        fact = "+".join(names) or None
    unit = "decisions"
    if re.search(
        r"\b(?:how\s+many|which|what|list|count|number\s+of)\s+(?:\w+\s+){0,3}?(?:letters?|cases?|leters?|claims?|determinations?)\b(?!\s+administrator)|\bletters\s+(?:per|by)\b|\bcases?\s+(?:per|by)\b|"
        r"\b(?:of|among)\s+(?:the\s+|all\s+)?(?:letters|cases)\b(?!\s+(?:dated|decided|from|in)\b)|^\s*compare\s+(?:the\s+)?(?:letters|cases)\b|"
        r"\bhow\s+many\s+(?:\w+\s+){0,2}?(?:reviewers|experts|physicians|doctors|workers|patients|"
        r"claimants|employees|applicants|people|individuals)\b|"
        r"\b(?:for|among)\s+(?:the\s+)?(?:letters|cases)\s+(?:where|with|whose|that|in\s+which)\b|"
        # "family practice letters with an overturn", "letters with something overturned"
        r"\b(?:letters|cases)\s+with\s+(?:an?|any|some|something|one|at\s+least\s+one)\s+"
        r"(?:\w+\s+)?(?:overturn\w*|upheld|uphold|denial|denied|approv\w*|reversal)\b|\bat\s+least\s+one\s+(?:item|decision|request)|^\s*(?:the\s+)?(?:letters|cases)\b",
        q,
        _I,
    ) and not re.search(
        # "which MRI requests were upheld, and in which letters?": the requests, each
        # with its letter
        r"\b(?:which|what|list)\s+(?:[\w/-]+\s+){0,4}?(?:requests?|items?|decisions?)\b[^?]*?"
        r"\b(?:and\s+)?in\s+(?:which|what)\s+(?:letters?|cases?)\b",
        q,
        _I,
    ):
        unit = "letters"
    if had_before and re.search(
        r"\b(?:which|what)\s+(?:\w+\s+)?(?:workers|patients|claimants|employees|applicants)\b|^\s*who\b",
        q[_asker_context(q) :],
        _I,
    ):
        unit = "letters"  # "which workers had ...": the letters that tell of them
    regions: list[str] = []
    letter_regions: list[str] = []
    treatment_at = [(m.start, m.end) for m in get_lexicon().find_all(q)]
    examples = [
        (ex.start(), ex.end())
        for ex in re.finditer(r"\b(?:for\s+example|for\s+instance|e\.g\.,?)\s[^?.;()]*", q, _I)
    ]
    for m in _REGION_Q.finditer(q):
        word = m.group(0).lower()
        if history and history[0] <= m.start() < history[1]:
            continue  # "after wrist surgery": not the request's region
        if any(a <= m.start() < b for a, b in examples):
            continue  # "for example a ... cervical vertebra fracture": one example of many
        if word in ("spine", "spinal"):
            if any(a <= m.start() < b for a, b in treatment_at):
                continue  # "spinal cord stimulator", "spinal manipulation": a name
            if re.match(r"[\s-]+(?:cord|fusion|stenosis|surgery)\b", q[m.end() :], _I):
                continue  # not a request's region
        if word == "back" and (
            re.search(
                r"\b(?:cut|cutting|came|come|comes|go|goes|went|get|gets|got|sent|send|call\w*|"
                r"bring\w*|brought|scale[sd]?|scaling|push\w*|pull\w*|hold|held|look\w*|"
                r"write|wrote|turn\w*|pay|paid|step|stepped|set|sets)\s+$",
                q[max(0, m.start() - 12) : m.start()],
                _I,
            )
            or re.match(r"\s+to\s+(?:work|duty|modified|full|regular)\b", q[m.end() :], _I)
        ):
            continue  # "UR cut it back", "back to work": no body region
        if word in ("foot", "feet") and re.search(
            r"(?:\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|few|several))[\s-]*$",
            q[max(0, m.start() - 12) : m.start()],
            _I,
        ):
            continue  # "fell 8 feet off a ladder", "a 6-foot fall": a length
        region = _REGION_OF_WORD.get(word) or next(
            (r for r, rx in REGIONS.items() if rx.search(word)), None
        )
        if word in ("spine", "spinal") and not any(
            # "the lumbar spine", "cervical spine": the word before says which part
            re.search(rf"{rx.pattern}\W*$", q[max(0, m.start() - 20) : m.start()], _I)
            for rx in (REGIONS[r] for r in _SPINE)
        ):
            region = "spine"
        if not region:
            continue
        if region in REGIONS and any(
            a <= m.start() < b and not REGIONS[region].search(q[a:b]) for a, b in treatment_at
        ):
            continue  # "the knee scooter letter": a device named after the knee
        used.append((m.start(), m.end()))
        # Beside a treatment name ("MRI of the lumbar spine", "knee PT") the region is
        # the item's; elsewhere, with a treatment named ("Relafen for the man with the
        # L4-L5 disc protrusion"), it describes the case.
        near = any(
            abs(m.start() - b) <= 25
            or abs(a - m.end()) <= 25
            or (b <= m.start() and _ITEM_REGION_GAP.fullmatch(q[b : m.start()]))
            for a, b in treatment_at
        )
        hurt = _HURT_BEFORE.search(q[max(0, m.start() - 40) : m.start()])
        # "the Norco request in the lumbar disc extrusion case": the region names the case
        names_case = re.match(
            r"(?:[\s-]+[A-Za-z][\w-]*){0,3}?\s+(?:case|letter|claim|injury|worker|patient)\b",
            q[m.end() :],
            _I,
        )
        target = (
            letter_regions
            # "the truck driver who broke her wrist, EMG of the right arm": her injury
            if hurt or names_case or (treatment_at and not near) or (unit == "letters" and not near)
            else regions
        )
        for rg in _SPINE if region == "spine" else (region,):  # "spine MRIs": any part of it
            if rg not in target:
                target.append(rg)
    all_decided = None
    if m := use(_MIXED.search(q)):
        all_decided = "mixed"  # letters whose decisions went both ways
        filters = replace(filters, decision=None)
        unit = "letters"
    elif m := use(_EVERY.search(q)):
        said = (m["d"] or m["e"] or m["f"] or m["g"] or m["h"] or m["i"] or m["v"]).lower()
        all_decided = "overturned" if said.startswith(("overt", "appro")) else "upheld"
        if m["h"] or m["i"]:  # none overturned: every decision upheld
            all_decided = "upheld" if all_decided == "overturned" else "overturned"
        filters = replace(filters, decision=None)
        unit = "letters"
    partial_m = next(
        (
            pm
            for pm in _PARTIAL.finditer(q)
            if not any(a <= pm.start() < b for a, b in treatment_at)  # "partial hospitalization"
        ),
        None,
    )
    use(partial_m)
    partial = partial_m is not None
    if partial:  # every cue of it is used: "..., where UR had already authorized part of it"
        for pm in _PARTIAL.finditer(q):
            if not any(a <= pm.start() < b for a, b in treatment_at):
                use(pm)
    if partial_m is not None:
        # "partially certified", "modified by UR": not a decision word.
        blanked = q[: partial_m.start()] + " " * (partial_m.end() - partial_m.start())
        blanked += q[partial_m.end() :]
        blanked = re.sub(
            r"\bcertified\b|\bapprov\w*", lambda m: " " * len(m.group(0)), blanked, flags=_I
        )
        filters = replace(filters, decision=decision_asked(blanked))
    reviewer_basis = ""
    if m := use(OUTSIDE_MTUS.search(q)):
        reviewer_basis = "outside_mtus"
        used.extend((o.start(), o.end()) for o in OUTSIDE_MTUS.finditer(q))
        if group_by == "guideline" and not re.search(
            r"\b(?:by|per|for\s+each)\s+(?:the\s+)?guidelines?\b", q, _I
        ):
            # "outside the MTUS (rather than on the MTUS itself), what share ...": the
            # guidelines named say what the decisions rested on, they are no grouping
            group_by = None
            kind = (
                "share"
                if re.search(
                    r"\bwhat\s+(?:share|percent\w*|proportion|fraction)|\bhow\s+often|\brates?\b",
                    q,
                    _I,
                )
                else "count"
                if re.search(r"\bhow\s+many\b", q, _I)
                else "list"
            )
        used.extend(
            (g.start(), g.end())
            for g in re.finditer(
                r"\b(?:guidelines?|based|relied|rely|sources?|recommendations?|entirely|only)\b",
                q,
                _I,
            )
        )
    elif m := use(NO_EVIDENCE_CITED.search(q)):
        reviewer_basis = "no_evidence"
    partial_kind = ""
    if partial and (pk := _MODIFIED_WHOLE.search(q)):
        partial_kind = "modified"
        use(pk)
    elif partial and (pk := _REMAINING_PART.search(q)):
        partial_kind = "remaining"
        use(pk)
    sex = None
    either_sex = re.search(
        r"\b(?:males?|man|men)\s+or\s+(?:females?|woman|women)\b|\b(?:females?|woman)\s+or\s+(?:males?|man)\b",
        q,
        _I,
    )
    if either_sex:
        use(either_sex)  # "male or female?": the sex asked for, not one of them
    if fact != "sex" and group_by != "sex" and not either_sex and (m := use(_SEX_Q.search(q))):
        sex = "female" if m.group(0).lower().startswith(("f", "w")) else "male"
    age_min = age_max = None
    if group_by == "age":
        pass  # "by age group (under 30, 30s, 40s ...)": the ages name the groups
    elif m := use(_AGE_OVER.search(q)):
        age_min = _age_number(m["n"]) + 1
    if group_by != "age" and (m := use(_AGE_UNDER.search(q))):
        age_max = _age_number(m["n"]) - 1
    if group_by != "age" and (m := use(_AGE_RANGE.search(q))):
        age_min, age_max = int(m["a"]), int(m["b"])
    if group_by != "age" and (m := use(_AGE_AT_LEAST.search(q))):
        age_min = _age_number(m["n"])
    if group_by != "age" and (m := use(_AGE_AT_MOST.search(q))):
        age_max = _age_number(m["n"])
    if group_by != "age" and (m := use(_AGE_DECADE.search(q))):
        said = m["d"].lower()
        lo = int(said[:2]) if said[0].isdigit() else _TENS[said[:-3].replace("ie", "y")]
        age_min, age_max = lo, lo + 9
    licensed = None
    licensed_except = None
    licensed_also: tuple[str, ...] = ()
    licensed_only = licensed_not = False
    licensed_states_min = None
    group_state = None
    if group_by == "licensure" and (m := use(_LICENSED.search(q))):
        group_state = (
            m["state"] or m["state2"] or m["state0"]
        ).title()  # "licensed in Texas vs not"
    elif m := use(_LICENSED_STATES.search(q)):
        # "a reviewer licensed in more than one state", "in two or more states"
        said = m["n"] or m["n2"] or m["n3"]
        n = int(said) if said.isdigit() else _NUMBER_WORDS.get(said.lower(), 2)
        licensed_states_min = n + 1 if m["more"] else n
    elif (m := _LICENSED.search(q)) and (but := _LICENSED_BUT_NOT.match(q, m.end())):
        # "licensed in Texas but not in California"
        use(m)
        use(but)
        licensed = (m["state"] or m["state2"] or m["state0"]).title()
        licensed_except = but["state"].title()
    elif m and (more := _LICENSED_AND.match(q, m.end())):
        # "licensed in both Texas and Ohio", "licensed in Iowa, Montana and California"
        use(m)
        use(more)
        licensed = (m["state"] or m["state2"] or m["state0"]).title()
        licensed_also = tuple(x.title() for x in _A_STATE.findall(more.group(0)))
    elif m := use(_LICENSED_OUTSIDE.search(q)):
        # "reviewers licensed outside California", "not licensed in California"
        licensed, licensed_not = m["state"].title(), True
    elif m := use(_LICENSED.search(q)):
        licensed = (m["state"] or m["state2"] or m["state0"]).title()
        licensed_only = bool(m["only"] or m["only2"] or re.search(r"\bonly\s+in\b", m.group(0), _I))
    decided_in = decided_not_in = None
    ur_denied_in = None
    if m := _DECIDED_IN.search(q):
        before = q[max(0, m.start() - 40) : m.start()]
        if not re.search(r"\binjur", before[-30:], _I):
            used.append((m.start(), m.end()))
            said_month = m["month"] or m["month2"] or m["month3"]
            year = m["year"] or m["year2"] or f"20{m['yy']}"
            month = year + (f"-{_month_number(said_month):02d}" if said_month else "")
            # "a decision date in February 2017": the date words are the month's
            used.extend((d.start(), d.end()) for d in re.finditer(r"\bdat(?:e|es|ed)\b", q, _I))
            if re.search(r"\b(?:UR|utilization\s+review)\b", before, _I):
                ur_denied_in = month  # "where the UR denial was issued in Jan 2017"
            elif nm := _NOT_MONTH.search(before):
                decided_not_in = month
                used.append((m.start() - len(before) + nm.start(), m.end()))
            else:
                decided_in = month
    decided_from = decided_to = None
    if m := use(_WEEK_OF.search(q)):
        month_n = _month_number(m["month"])
        days = calendar.monthrange(int(m["year"]), month_n)[1]
        start = {"fi": 1, "1s": 1, "se": 8, "2n": 8, "th": 15, "3r": 15, "fo": 22, "4t": 22}.get(
            m["nth"].lower()[:2], days - 6
        )
        decided_from = f"{m['year']}-{month_n:02d}-{start:02d}"
        decided_to = f"{m['year']}-{month_n:02d}-{min(start + 6, days):02d}"
        decided_in = None
    elif m := use(_DATE_RANGE.search(q)):
        year = re.search(r"20\d{2}", m.group(0))
        decided_from = _iso_day(m["a"], year.group(0) if year else None)
        decided_to = _iso_day(m["b"], year.group(0) if year else None)
        decided_in = None
    elif (m := _DATE_BOUND.search(q)) and not _about_injury(q, m.start()):
        use(m)
        day = _iso_day(m["a"], None)
        decided_from, decided_to = _bounded(m["op"], day, day)
    elif (m := _PERIOD_BOUND.search(q)) and not _about_injury(q, m.start()):
        use(m)
        if m["month"]:
            month = _month_number(m["month"])
            first = f"{m['year']}-{month:02d}-01"
            last = f"{m['year']}-{month:02d}-{calendar.monthrange(int(m['year']), month)[1]:02d}"
        else:
            first, last = f"{m['year']}-01-01", f"{m['year']}-12-31"
        decided_from, decided_to = _bounded(m["op"], first, last)
        decided_in = None
    min_items = max_items = None
    if m := use(_MORE_ITEMS.search(q)):
        said = m["n"] or m["k"] or m["j"]
        n = 2 if m["m"] else (int(said) if said.isdigit() else _NUMBER_WORDS[said.lower()])
        min_items = n + 1 if m["n"] else n
        unit = "letters"
    elif m := use(_ONE_ITEM.search(q)):
        min_items = max_items = 1
        unit = "letters"
    extreme = None
    if not (filters.case_number or filters.names_letter) and (m := use(_EXTREME.search(q))):
        # "who is the youngest worker", "the most recent decision": a fact over letters
        word = re.sub(r"\s+", " ", (m["w"] or m["w2"] or m["w3"] or m["w4"] or m["w5"]).lower())
        fact = "age" if word in ("youngest", "oldest") else "decision_date"
        extreme = "min" if word in ("youngest", "earliest", "fewest") else "max"
        if m["w4"]:
            fact = "items_decided"
            kind = "fact"
        if m["w5"]:
            fact = "ur_to_decision_days"
            kind = "fact"
            extreme = "min" if word in ("shortest", "smallest", "least") else "max"
        # "the earliest and latest decision dates", "youngest and oldest workers": both
        pair = ("youngest", "oldest") if fact == "age" else ("earliest", "latest")
        if all(re.search(rf"\b{w}\b", q, _I) for w in pair):
            extreme = "range"
            used.extend(
                (x.start(), x.end()) for x in re.finditer(rf"\b(?:{'|'.join(pair)})\b", q, _I)
            )
    elif not (filters.case_number or filters.names_letter) and (m := use(_AVERAGE_AGE.search(q))):
        fact, extreme = "age", "mean"  # "the average age of the workers"
    elif fact and not (filters.case_number or filters.names_letter):
        fact_without_letter = True
        asked_fact, fact = fact, None  # a letter fact needs a letter
    discusses = _DISCUSS.search(q) is not None
    measure = None
    fact_decisions = False
    if fact:
        kind = "fact"
        # "when was the UR denial": a date, not a restriction to upheld decisions; "the
        # average age of women whose PT was denied" keeps it
        blanked = q
        for _name, rx in [*FACTS, *query.FACT_RULES]:
            blanked = rx.sub(lambda m: " " * len(m.group(0)), blanked)
        filters = replace(filters, decision=decision_asked(blanked) if extreme else None)
        # "how old is the patient and what got decided": the decisions beside the facts
        fact_decisions = bool(_ALSO_DECIDED.search(q))
    if group_by:
        kind = "group"
        # "How do overturn rates differ by specialty": the decision word names the rate.
        measure, filters = filters.decision, replace(filters, decision=None)
        if group_by == "partial":
            partial = False  # "partial certifications vs full denials" compares both
    if kind == "compare" and filters.decision and _RATE_ASKED.search(q):
        # "compare overturn rates of MRI vs physical therapy": each side's decisions,
        # with the share that went that way, not only those
        measure, filters = filters.decision, replace(filters, decision=None)
    if not group_by and kind in ("count", "share", "list", "general") and _BY_REASON.search(q):
        kind = "why"  # "how many upheld decisions by reason": the counts per reason
    if absent:
        kind = "absent"
    reasons: list[str] = []
    said_in_reason: list[tuple[int, int]] = []
    # "... instead of more supervised visits": what the reason is set against is none
    set_against = re.sub(
        r"\b(?:rather\s+than|instead\s+of|as\s+opposed\s+to)\b[^?.;]*",
        lambda m: " " * len(m.group(0)),
        q,
        flags=_I,
    )
    if cue := _REASON_CUE.search(q):
        side = filters.decision
        wanted = "overturned" if side == "overturned" else "upheld"
        for category, explains, rx in _reason_phrases():
            if (
                explains == wanted
                and category not in reasons
                and (m := rx.search(set_against, cue.start()))
            ):
                reasons.append(category)
                # the words of the reason phrase and its usual company ("no functional
                # improvement was documented")
                end = m.end()
                if tail := _REASON_TAIL.match(q, end):
                    end = tail.end()
                # "no surgical plan, or the worker not described as a surgical candidate":
                # each way the question says the one reason
                for again in rx.finditer(set_against, m.end()):
                    end = max(end, again.end())
                used.append((cue.start(), end))
                said_in_reason.append((cue.start(), end))
        for category, explains, rx in _reason_phrases():
            if category in reasons and explains == wanted:
                for again in rx.finditer(set_against, cue.start()):
                    used.append((again.start(), again.end()))
    if reasons:
        # "where did reviewers deny a test partly because the same test had been done":
        # "test" is whatever was requested; the reason says the rest
        used.extend(
            (m.start(), m.end())
            for m in re.finditer(r"\b(?:tests?|study|studies|requests?|items?)\b", q, _I)
        )
    if (
        reasons
        and filters.has_treatment
        and re.search(
            r"\b(?:items?|services?|requests?|things|stuff|add-?ons?)\s+(?:like|such\s+as|e\.g\.,?|"
            r"including)\s",
            q,
            _I,
        )
    ):
        # "the add-on items like post-op PT, labs and slings when the surgery wasn't
        # approved": examples of the requests the reason picks, not a restriction
        filters = treatment_of(filters, QueryFilters())
    on_it = _ON_A_DRUG.search(q) if filters.has_treatment else None
    if on_it is not None:
        # "stomach-protection meds for someone on an NSAID": the drug the worker takes is
        # the case the question sets, not a request asked about
        blanked = q[: on_it.start()] + " " * (on_it.end() - on_it.start()) + q[on_it.end() :]
        kept = treatment_filters(blanked)
        if kept.has_treatment:
            filters = treatment_of(filters, kept)
            used.append((on_it.start(), on_it.end()))
    if said_in_reason and filters.has_treatment:
        # "denied only because the surgery they went with was denied": a treatment
        # named inside the reason is the reason's, not the requests asked about
        blanked = q
        for a, b in said_in_reason:
            blanked = blanked[:a] + " " * (b - a) + blanked[b:]
        filters = treatment_of(filters, treatment_filters(blanked))
    if (
        (wm := _WHAT_MISSING.search(q))
        and filters.has_treatment
        and not reasons
        and kind not in ("count", "share", "group", "compare")
    ):
        # "what did the reviewer say was missing from the file?": why it was denied
        kind = "why"
        used.append((wm.start(), wm.end()))
        if filters.decision is None:
            filters = replace(filters, decision=UPHELD)
    for rx in _USED_ELSEWHERE:
        used.extend((m.start(), m.end()) for m in rx.finditer(q))
    # "with the body region and whether each was upheld": what each line shows
    used.extend((m.start(), m.end()) for m in _SHOWN_WITH.finditer(q))
    if filters.canonicals == ["medication"]:
        used.extend((m.start(), m.end()) for m in _MEDS.finditer(q))
    topic, terms, gloss = _topic(
        q, used, filters, max((b for _, b in said_in_reason), default=None)
    )
    if (
        filters.has_treatment
        and not topic
        and not group_by
        and not reasons
        and kind in ("general", "list", "topic", "decision")
        and (_ABOUT_THEM.search(q) or _CRITERIA.search(q) or _said_of_the_request(q))
    ):
        # "tens unit denials - what do the reviewers say about them", "what do reviewers
        # require before approving EMG?": the reasons the decisions give
        kind = "why"
        terms = tuple(t for t in terms if t not in ("require", "requires", "want", "expect"))
    elif (
        filters.has_treatment
        and not group_by
        and not reasons
        and kind in ("general", "list", "topic", "decision")
        and (crit := _CRITERIA.search(q))
        and all(q.lower().find(w, crit.start()) >= crit.start() for w in topic)
    ):
        # "what do the reviewers say the worker must have tried first?": what is asked
        # of the requests is their reasons; the words after say which, and rank them
        kind, terms, topic = "why", terms + topic, ()
    topic_negated = bool(
        topic
        and re.search(
            r"\b(?:no|not|without|lack\s+of|lacking|absence\s+of|want\s+of|never|missing|none|nobody|no\s+one)\s+"
            r"(?:\w+\s+){0,2}?" + re.escape(topic[0]),
            q,
            _I,
        )
        # "because the guidelines don't recommend that modality": the passage must say
        # the guideline does not recommend it
        or any(
            re.search(rf"{_NEG_BEFORE}(?:[\w-]+\s+){{0,1}}?{re.escape(w)}\b", q, _I)
            for w in topic
            if w in _ENDORSE_VERBS
        )
    )
    # "weaning or tapering", "depression, anxiety or stress", "UDS / urine drug testing"
    topic_or: tuple[tuple[str, ...], ...] = tuple(
        said
        for m in re.finditer(
            r"\b([A-Za-z][\w-]+(?:\s*,\s*[A-Za-z][\w-]+)*)\s*(?:,?\s+or|/)\s+([A-Za-z][\w-]+)\b", q
        )
        if len(said := tuple(w.strip().lower() for w in [*m[1].split(","), m[2]])) >= 2
        and all(w in topic + terms for w in said)
    )
    restricts = bool(
        filters.restricted
        or regions
        or regions_excluded
        or excluded_words
        or letter_regions
        or partial
        or sex
        or all_decided
        or reasons
        or age_min is not None
        or age_max is not None
        or licensed
        or decided_in
        or ur_denied_in
        or decided_from
        or decided_to
        or min_items is not None
    )
    if fact_without_letter and asked_fact:
        # "reviewers licensed in Texas", "a decision date in January 2017": the fact's
        # words are a filter's, not a fact asked for
        asked_fact = (
            "+".join(name for name in asked_fact.split("+") if not _said_as_a_filter(q, name))
            or None
        )
        fact_without_letter = asked_fact is not None
        if not fact_without_letter and kind == "fact":
            if re.search(r"\bhow\s+many\b|\bnumber\s+of\b", q, _I):
                kind = "count"
            else:
                kind = "list" if restricts else "general"
    if fact_without_letter and kind in ("fact", "general", "list", "decision"):
        # "what specialty was the reviewer?": which letter? "Is it true the partial
        # hospitalization was overturned? What specialty was the reviewer?": its letter's,
        # with its decision
        kind, fact = "fact", asked_fact
        # "how many letters have a decision date in February 2017?" counts letters;
        # "what is the case number?" names no letter, and stays a fact no letter answers.
        if re.search(r"\bhow\s+many\b|\bnumber\s+of\b", q, _I):
            kind = "count"
        elif restricts and fact == "case_number":
            kind = "list"  # "the case numbers where IMR reversed a denial": those letters
        elif restricts:
            # "the date of injury in the sit/stand workstation letter", "UR denial date
            # on the L4/L5 ESI case": the letters the requests name, each with the fact
            # and the decisions that picked it
            fact_decisions = True
            if fact and ("ur_denial_date" in fact or "decision_date" in fact):  # "denial": a date
                blanked = q
                for _name, rx in [*FACTS, *query.FACT_RULES]:
                    blanked = rx.sub(lambda m: " " * len(m.group(0)), blanked)
                filters = replace(filters, decision=decision_asked(blanked))
        if kind != "fact":
            fact = None
        elif not fact_decisions and topic:
            # "how old was the worker with the crush injury and colon resection?": the
            # letters whose case is that, each with the fact
            fact_decisions = True
    if (
        kind == "count"
        and (qm := _QUANTITY.search(q))
        # "how many spinal injections were denied": each injection is a decision counted
        and not (filters.decision and qm.group(0).lower().endswith("injections"))
    ):
        kind = "list"  # "how many sessions were requested": the requests say, not a count
        topic = tuple(w for w in topic if w not in qm.group(0).lower().split())
    if terms and kind in ("general", "decision") and _WHAT_THE.search(q):
        # "What was the morphine equivalent dose on the Norco in ...": the thing asked
        # for is what the answer must be about, not a word that ranks passages.
        topic, terms = terms + topic, ()
    if not restricts and terms and kind not in ("fact", "absent", "group"):
        # Nothing else narrows the question ("Which requests were retrospective?"): its
        # remaining words are what it is about.
        topic, terms = terms + topic, ()
    if unit == "letters" and terms and kind in ("list", "count", "general"):
        # "Which letters include the warning that ...": a letter list is about its words.
        topic, terms = terms + topic, ()
    if kind == "general" and not filters.restricted and (topic or terms):
        # A question that names nothing to filter on is about its words.
        topic, terms, kind = topic + terms, (), "topic"
    elif kind == "general" and topic:
        kind = "topic"
    same = {gloss[0], *topic_alternates(gloss[0])} if gloss else set()
    if len(gloss) >= 2 and topic and all(w in same for w in gloss):
        # "hard to read (handwritten, blurry or illegible)": words in parentheses that
        # stand for each other spell out what the topic means, and are the topic
        topic, terms = gloss, terms + topic
    else:
        terms += gloss  # words in parentheses only rank passages
    # "denials for missing quantity", "when the request doesn't state a quantity": the
    # passage must say the quantity is absent; "missing" and "state" are not the topic
    said_absent = tuple(
        w
        for w in topic
        if w in _ABSENCE_WORDS
        or (
            w in _REPORT_VERBS
            and re.search(rf"{_NEG_BEFORE}(?:[\w-]+\s+){{0,2}}?{re.escape(w)}\b", q, _I)
        )
    )
    if said_absent and len(said_absent) < len(topic):
        topic = tuple(w for w in topic if w not in said_absent)
    elif said_absent and kind == "why":
        # "What documentation was missing that caused IMR to uphold ...?": the reasons
        # are what was missing; no topic besides
        topic, said_absent = (), ()
    else:
        said_absent = ()
    # "depression, anxiety or stress symptoms": "symptoms" only ranks passages
    weak = tuple(w for w in topic if w in WEAK_TOPIC)
    if weak and len(weak) < len(topic):
        topic, terms = tuple(w for w in topic if w not in weak), terms + weak
    topic_negated = topic_negated or bool(said_absent)
    if enumerated := _enumerated(q, topic):
        # "a fall — slips, trips, falls from a height and the like": any one of them
        group, qualifiers = enumerated
        topic_or += (group,)
        topic, terms = tuple(w for w in topic if w not in qualifiers), terms + qualifiers
    topic_or += tuple((w, *alts) for w in topic if (alts := topic_alternates(w)))
    # "MRIs by body region: cervical, lumbar, shoulder, everything else": the regions
    # named are the groups, not a restriction
    group_regions = (
        tuple(dict.fromkeys([*regions, *letter_regions])) if group_by == "region" else ()
    )
    asked_g = _GUIDELINES_ASKED.search(q)
    guidelines_asked = (
        bool(asked_g and kind not in ("count", "share", "group", "compare"))
        and not group_by
        # "went beyond what the guidelines allow": the words of a reason, not a question
        and not (asked_g and any(a <= asked_g.start() < b for a, b in said_in_reason))
    )
    if guidelines_asked:  # the word names what is shown, it restricts nothing
        terms = tuple(
            t for t in terms if t not in ("guideline", "guidelines", "rely", "relied", "sections")
        )
    # "where the patient had never had PT before", "no prior PT": none of the requested
    # treatment before, as the letter says; the words are that, not a topic
    nb = _NONE_BEFORE_ASKED.search(q) if filters.has_treatment else None
    none_before = nb is not None
    if nb is not None:
        said = {w.lower() for w in re.findall(r"[\w'-]+", nb.group(0))}
        topic, terms = (tuple(w for w in ws if w not in said) for ws in (topic, terms))
        if kind == "general":
            kind = "list"
    if fact and "credentials" in fact:
        # "who reviewed it - what specialty, and licensed in which states?": the fact's
        # own words
        topic, terms = (tuple(w for w in ws if w not in _CREDENTIAL_WORDS) for ws in (topic, terms))
    return QueryPlan(
        question=question,
        corrected=corrected,
        filters=filters,
        kind=kind,
        unit=unit,
        group_by=group_by,
        specialty_groups=compared,
        fact=fact,
        regions=() if group_regions else tuple(r for r in regions if r not in regions_excluded),
        group_regions=group_regions,
        regions_excluded=regions_excluded,
        excluded_words=excluded_words,
        excluded_said=excluded_said,
        excluded=excluded,
        extreme=extreme,
        letter_regions=() if group_regions else tuple(letter_regions),
        all_decided=all_decided,
        reasons=tuple(reasons),
        about_case=bool(_ABOUT_CASE.search(q)) or bool(had_before),
        partial=partial,
        partial_kind=partial_kind,
        age_min=age_min,
        age_max=age_max,
        licensed_in=licensed,
        licensed_not=licensed_not,
        licensed_except=licensed_except,
        licensed_also=licensed_also,
        licensed_states_min=licensed_states_min,
        group_state=group_state,
        licensed_only=licensed_only,
        sex=sex,
        none_before=none_before,
        reviewer_basis=reviewer_basis,
        specialty_any=bool(compared) and bool(_ANY_CERTIFIED.search(q)),
        measure=measure,
        decided_in=decided_in,
        decided_not_in=decided_not_in,
        age_bands=_age_bands(q) if group_by == "age" else (),
        ur_denied_in=ur_denied_in,
        decided_from=decided_from,
        decided_to=decided_to,
        min_items=min_items,
        max_items=max_items,
        topic=(had_before[0].split()[0].lower(),) if had_before else topic,
        history_only=bool(had_before),
        terms=terms + topic if had_before else terms,
        topic_phrase=False,
        absent=absent,
        corrections=fixes,
        discusses=discusses,
        topic_or=topic_or,
        topic_negated=topic_negated,
        phrases=_alternative_clauses(q, topic),
        topic_unqualified=bool(
            topic_negated and re.search(r"\bat\s+all\b|\bin\s+any\s+(?:form|case)\b", q, _I)
        ),
        fact_decisions=fact_decisions,
        guidelines_asked=guidelines_asked,
        letter_of_request=bool(
            filters.has_treatment
            and not (filters.case_number or filters.doc_ids)
            and _names_only_the_letter(q)
            and _EVERY_REQUEST.search(q)
        ),
        in_rationale=bool(_IN_RATIONALE.search(q)),
    )


def _about_injury(q: str, at: int) -> bool:
    """Whether the date words at ``at`` bound the injury ("injured before 2015"), not
    the decision."""
    return re.search(r"\binjur\w*\W+(?:\w+\W+){0,2}$", q[max(0, at - 40) : at], _I) is not None


def _bounded(op: str, first: str | None, last: str | None) -> tuple[str | None, str | None]:
    """(decided_from, decided_to), inclusive ISO days, for "``op`` the period from
    ``first`` to ``last``" (one day, a month or a year): "before" and "after" leave the
    period out, "until", "by", "since" keep it."""
    op = re.sub(r"\s+", " ", op.lower())
    strict = _STRICT_BOUND.match(op) is not None
    if _UPPER_BOUND.match(op):
        if first is None:
            return None, None
        return None, (_shift_day(first, -1) if strict else last)
    if last is None:
        return None, None
    return (_shift_day(last, 1) if strict else first), None


def _shift_day(iso: str, days: int) -> str:
    return (dt.date.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()


def _iso_day(said: str, year: str | None) -> str | None:
    """A date as a question writes it, as ISO: "February 10, 2017", "2/10/17"."""
    from imr_assist.parse.fields import iso_date

    said = re.sub(r"(?<=\d)(?:st|nd|rd|th)\b", "", said.strip())
    m = re.match(r"(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2})(?:,?\s+(?P<year>20\d{2}))?$", said)
    if m:
        y = m["year"] or year
        if y is None:
            return None
        return f"{y}-{_month_number(m['month']):02d}-{int(m['day']):02d}"
    return iso_date(said)


_DRUG_LIKE = re.compile(
    r"\b(?:drugs?|meds|medications?|things|pills)\s+(?:like|such\s+as)\s+(?P<b>[A-Za-z][\w-]*)|"
    r"\b(?P<a>[A-Za-z][\w-]*?)[\s-](?:type|like|class|family|group)\b",
    _I,
)


_MEDS = re.compile(
    r"\b(?:(?:pain\s+)?(?:medications?|meds|drugs?)|prescriptions?|pharmaceuticals?|"
    # "topical pain products", "topical agents"
    r"(?:pain\s+)?(?:products?|agents?|preparations?|formulations?|relievers?))\b",
    _I,
)


def treatment_filters(q: str) -> QueryFilters:
    """The filters a question names, with drug words, classes and combined services
    read as the lexicon means them."""
    f = _restated_class(q, _glossed_class(q, parse_question(q)))
    out = _with_class_generics(_with_combined_services(_as_class(q, _medications(q, f))))
    if out.classes and (named := _class_with_examples(q)) is not None:
        # "topical analgesics - lidoderm/lidocaine, voltaren type diclofenac, compound
        # creams": the class; its examples, which it holds in the forms it means (a
        # topical diclofenac, not oral Voltaren), add nothing
        own = treatment_filters(q[named[0] : named[1]])
        if own.classes:
            return treatment_of(out, own)
    return out


def treatment_of(f: QueryFilters, other: QueryFilters) -> QueryFilters:
    """``f`` with the treatment ``other`` names (its other filters kept)."""
    return replace(
        f,
        canonicals=other.canonicals,
        generics=other.generics,
        classes=other.classes,
        names_without_generic=other.names_without_generic,
        mentions=other.mentions,
    )


# What opens examples of a class: "topical pain products, like lidocaine patches ...",
# "topical analgesics - lidoderm/lidocaine, voltaren type diclofenac, compound creams"
_EXAMPLES_OPEN = re.compile(
    r"\s*(?:,\s*)?(?:(?:such\s+as|like|e\.g\.?,?|including|for\s+example)\s|[-\u2014\u2013:]\s)", _I
)


def _restated_class(q: str, f: QueryFilters) -> QueryFilters:
    """A class named in a later sentence than a treatment of it ("why were the lumbar MRI
    requests upheld? ... before they'll approve low back imaging"): the same requests
    said again, not every request of the class. "MRIs and other imaging" keeps it."""
    if not f.classes or not f.canonicals:
        return f
    lex = get_lexicon()
    said = lex.classes_for_group_word(q)
    members = {
        t.start: t
        for t in lex.find_all(q)
        if t.entry.drug_class in f.classes
        # "surgical procedures ... the operations": the class said twice, no member
        and not any(a <= t.start < b or t.start <= a < t.end for _, a, b in said)
    }
    drop = set()
    for cls, a, _b in said:
        first = min((st for st, t in members.items() if t.entry.drug_class == cls), default=None)
        if first is None or first > a:
            continue
        between = q[first:a]
        if any(
            t.entry.drug_class == cls and re.fullmatch(r"[\s-]*", q[t.end : a])
            for t in members.values()
        ):
            drop.add(cls)  # "MRI imaging of the low back": the head noun of the member
            continue
        if re.search(r"[?;.!]\s", between) and not re.search(
            r"\b(?:other|all|every|any)\s+(?:\w+\s+)?$", q[:a], _I
        ):
            drop.add(cls)
    if not drop:
        return f
    return replace(f, classes=[c for c in f.classes if c not in drop])


def _class_with_examples(q: str) -> tuple[int, int] | None:
    """Where a class named with examples after it is named ("topical pain products" in
    "topical pain products, like lidocaine patches or ointment"), if one is."""
    lex = get_lexicon()
    for _cls, a, b in lex.classes_for_group_word(q):
        head = _MEDS.match(q, b + 1) if q[b : b + 1] == " " else None
        end = head.end() if head else b
        m = _EXAMPLES_OPEN.match(q, end)
        if m is None:
            continue
        stop = _CLAUSE_END.search(q, m.end())
        upto = stop.start() if stop else len(q)
        # examples are treatments ("- lidoderm/lidocaine, ..."), not a question ("muscle
        # relaxants - what do the decisions say about ...")
        if not _WH_START.match(q, m.end()) and any(
            m.end() <= t.start < upto for t in lex.find_all(q)
        ):
            return a, end
    return None


_CLAUSE_END = re.compile(r"[?;]|[.!]\s|[.!]$")
_WH_START = re.compile(
    r"\s*(?:what|which|why|how|who|when|where|whether|do|does|did|is|are|was|were)\b", _I
)


def examples_span(q: str) -> tuple[int, int] | None:
    """The examples after a named class, to the end of their clause: they gloss the
    class, they are no topic."""
    named = _class_with_examples(q)
    if named is None:
        return None
    m = _EXAMPLES_OPEN.match(q, named[1])
    assert m is not None
    stop = _CLAUSE_END.search(q, m.end())
    return m.end(), stop.start() if stop else len(q)


def _glossed_class(q: str, f: QueryFilters) -> QueryFilters:
    """A class glossed by the treatments in parentheses after it ("advanced imaging (MRI
    + CT)"): those treatments, not the whole class."""
    if not f.classes or not f.canonicals:
        return f
    lex = get_lexicon()
    for _cls, _a, b in lex.classes_for_group_word(q):
        m = re.match(r"\s*\(([^)]*)\)", q[b:])
        if m is None:
            continue
        if re.search(
            r"\b(?:etc|e\.g|and\s+so\s+on|and\s+the\s+like|for\s+example|such\s+as)\b", m[1], _I
        ):
            continue  # "(the liquid gabapentin etc)": examples of the class, not its members
        inside = [t for t in lex.find_all(q) if b + m.start(1) <= t.start and t.end <= b + m.end(1)]
        if inside:
            return replace(f, classes=[])
    return f


#: Words before a treatment that leave it out: "not physical therapy", "other than PT".
_NEGATION_CUE = re.compile(
    r"(?:\b(?:not\s+counting|leaving\s+out|setting\s+aside|not|other\s+than|apart\s+from|"
    r"aside\s+from|except(?:\s+for)?|excluding|"
    r"besides|but\s+not|without|neither|weren'?t|wasn'?t|aren'?t|isn'?t)|\bnon)"
    r"(?:\s+|-)(?:(?:the|any|for|about|of|an?|including)\s+)?"
    # "not counting therapy requests (PT or OT)": a generic name, the treatments glossed;
    # "not the associated services, pre-op clearance or post-op meds": a list begun
    r"(?:(?:(?:therapy|therapies|treatments?|requests?|items?|services?|associated|surgical|"
    r"ancillary)\s+){1,3}\(\s*|(?<=the\s)(?:[\w-]+\s+){0,2}[\w-]+,\s+)?$",
    _I,
)


#: A decision of one treatment set against another's: "approve the Bankart repair but not
#: the SLAP repair" (the other was decided the other way; both are asked about)
_DECIDED_BUT_NOT = re.compile(
    r"\b(?:approv\w*|overturn\w*|uph[eo]ld\w*|den(?:y|ied|ying)|certif\w*|revers\w*|grant\w*)\s+"
    r"(?:the\s+|a\s+|an\s+)?[^?.;]{1,80}?\s+but\s+not(?:\s+the)?\s*$",
    _I,
)


#: What joins one treatment left out to the next: ", ", " and ", " or ", " nor the ".
_LIST_ON = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or|nor)\s+)(?:the\s+|any\s+)?", _I)


def _excluded(q: str) -> tuple[QueryFilters | None, str]:
    """(the treatments the question leaves out, the question with them blanked)."""
    spans = [(m.start, m.end) for m in get_lexicon().find_all(q)]
    spans += [(m.start(), m.end()) for m in _MEDS.finditer(q)]
    spans += [(s, e) for _, s, e in get_lexicon().classes_for_group_word(q)]
    out = q
    said: list[str] = []
    last = -1  # where the last treatment left out ends
    for a, b in sorted(set(spans)):
        if any(a2 <= a and b <= b2 and (a2, b2) != (a, b) for a2, b2 in spans):
            continue
        cue = _NEGATION_CUE.search(q[max(0, a - 45) : a])
        if cue is not None and _DECIDED_BUT_NOT.search(q[: max(0, a - 45) + cue.end()]):
            # "approve the Bankart repair but not the SLAP repair": both were asked about
            cue = None
        if cue is not None:
            start = max(0, a - 45) + cue.start()
        elif last >= 0 and _LIST_ON.fullmatch(q[last:a]):
            start = last  # "other than physical therapy and acupuncture", "neither X nor Y"
        else:
            continue
        if q[a:b].lower() not in (x.lower() for x in said):
            said.append(q[a:b])
        out = out[:start] + " " * (b - start) + out[b:]
        last = b
    if not said:
        return None, q
    # each as named ("PT; OT", not "PT and OT", which names the combined requests)
    excluded = _with_combined_services(treatment_filters("; ".join(said)))
    # a class word the lexicon finds twice ("muscle relaxants") is said once
    excluded = replace(excluded, mentions=list(dict.fromkeys(excluded.mentions)))
    return (excluded if excluded.has_treatment else None), out


def _medications(q: str, f: QueryFilters) -> QueryFilters:
    """ "the medication decisions": every drug, when the question names no drug or class."""
    like = _DRUG_LIKE.search(q)
    if like and (like["a"] or "").lower() in ("drug", "medication", "by"):
        like = None  # "by drug class": the grouping, not a drug's class
    if f.has_treatment or not _MEDS.search(q) or like:
        return f
    classes = sorted(
        {e.drug_class for e in get_lexicon().entries if e.kind == "drug" and e.drug_class}
    )
    return replace(
        f, classes=classes, canonicals=["medication"], mentions=[*f.mentions, "medications"]
    )


def _as_class(q: str, f: QueryFilters) -> QueryFilters:
    """ "Prilosec-type meds", "drugs like Flexeril": the drug's class, not the drug."""
    lex = get_lexicon()
    hits = [lex.find(m["b"] or m["a"]) for m in _DRUG_LIKE.finditer(q)]
    hit = next((h for h in hits if h is not None and h.entry.generic and h.entry.drug_class), None)
    if hit is None or not hit.entry.drug_class or not hit.entry.generic:
        return f
    cls = hit.entry.drug_class
    generic = hit.entry.generic
    return replace(
        f,
        generics=[g for g in f.generics if g != generic],
        canonicals=[c for c in f.canonicals if c != hit.entry.canonical] + [cls],
        classes=list(dict.fromkeys([*f.classes, cls])),
    )


@lru_cache(maxsize=1)
def _topic_words() -> dict[str, tuple[str, ...]]:
    """Word -> the words that stand for it in a topic (``data/topic_words.toml``)."""
    from imr_assist.parse.rules import load_toml

    out: dict[str, tuple[str, ...]] = {}
    for n, group in enumerate(load_toml("topic_words.toml").get("group", []), 1):
        words = [w.lower() for w in group.get("words", [])]
        if len(words) < 2 or any(not re.fullmatch(r"[a-z][a-z-]*", w) for w in words):
            raise ConfigError(f"topic_words.toml: group {n} needs two or more single words")
        for w in words:
            out[w] = tuple(dict.fromkeys([*out.get(w, ()), *(x for x in words if x != w)]))
    return out


def topic_alternates(word: str) -> tuple[str, ...]:
    """The words that stand for ``word`` in a topic ("quantity": amount...)."""
    return _topic_words().get(word.lower(), ())


def _with_class_generics(f: QueryFilters) -> QueryFilters:
    """A drug class also finds its drugs in other forms: "muscle relaxants" finds Tabradol,
    cyclobenzaprine in a compounded suspension, by its generic.

    A class of forms is not its drugs: "the compounds" (compounded oral suspensions:
    Tabradol, Dicopanol) does not find every cyclobenzaprine or diphenhydramine tablet.
    So a generic is added only if the drug of that name is in the class, or the lexicon
    has no entry of that name to say.
    """
    if not f.classes:
        return f
    lexicon = get_lexicon()
    home: dict[str, set[str | None]] = {}
    for entry in lexicon.entries:
        home.setdefault(entry.canonical.lower(), set()).add(entry.drug_class)
    generics = list(f.generics)
    for entry in lexicon.entries:
        g = entry.generic
        if not g or entry.drug_class not in f.classes or g in generics:
            continue
        own = home.get(g.lower())
        if own is None or own & set(f.classes):
            generics.append(g)
    return replace(f, generics=generics) if generics != f.generics else f


def _with_combined_services(f: QueryFilters) -> QueryFilters:
    """A question about one part of a combined service finds the combined requests too:
    "physical therapy" also finds "Physical and occupational therapy" (PT/OT) requests."""
    if not f.names_without_generic:
        return f
    names = list(f.names_without_generic)
    for entry in get_lexicon().entries:
        words = set(re.split(r"[\s/]+", entry.canonical.lower()))
        combined = "and" in entry.canonical.lower().split() or "/" in entry.canonical
        if entry.generic or not combined or entry.canonical in names:
            continue
        if any(set(n.lower().split()) <= words for n in f.names_without_generic):
            names.append(entry.canonical)
    for n in list(names):  # "EMG/NCV requests" finds "EMG of the right upper extremity"
        parts = [p for p in re.split(r"\s*/\s*", n) if p != n]
        for entry in get_lexicon().entries:
            if not entry.generic and entry.canonical in parts and entry.canonical not in names:
                names.append(entry.canonical)
    return replace(f, names_without_generic=names) if names != f.names_without_generic else f


_ASKER = re.compile(
    r"\b(?:I'?m|I\s+am|I\s+work|I\s+represent|I\s+handle|we(?:'re|\s+are)|my\s+(?:client|firm|"
    r"office|company|clinic)|our\s+(?:file|client|clinic|office|firm|company|UR|claims?))\b|"
    r"\bhere\s*[,.:]|\bhere\s*$|\bquestion\s*:?\s*$|"
    r"^\s*(?:an?\s+|the\s+)?(?:applicant'?s?\s+|defense\s+)?(?:attorney|adjuster|nurse|researcher|journalist|reporter|"
    r"doctor|physician|lawyer|paralegal|examiner)\b",
    _I,
)


def _alternative_clauses(q: str, topic: tuple[str, ...]) -> tuple[str, ...]:
    """Two or more clauses of the topic joined by "or", each of two words or more ("no
    surgical plan, or the worker not being described as a surgical candidate"): the
    topic words of each, as alternatives a passage may hold one of; () otherwise."""
    if len(topic) < 3:
        return ()
    parts = re.split(r",?\s+or\s+(?:on\s+|that\s+|if\s+|where\s+)?", q)
    if len(parts) < 2:
        return ()
    said = []
    for part in parts:
        words = {w.lower().strip("'") for w in _WORD.findall(part)}
        said.append([w for w in topic if w in words])
    said = [w for w in said if w]
    if len(said) < 2 or any(len(w) < 2 for w in said):
        return ()
    return tuple(" ".join(w) for w in said)


def _age_bands(q: str) -> tuple[int, ...]:
    """The ages where the bands a question names start: "under 40, 40-49, 50-59, 60 and
    over" gives (40, 50, 60); () when it names fewer than two."""
    cuts: set[int] = set()
    for m in re.finditer(
        r"\b(?:under|below|younger\s+than|less\s+than)\s+(?P<u>\d{2})\b|"
        r"\b(?P<a>\d{2})\s*(?:-|–|to)\s*(?P<b>\d{2})\b|"
        r"\b(?P<o>\d{2})\s*(?:\+|and\s+(?:over|older|up|above)|or\s+(?:over|older|more))|"
        r"\b(?P<d>[1-9])0'?s\b",  # "30s, 40s, 50s"
        q,
        _I,
    ):
        if m["d"]:
            cuts.update((int(m["d"]) * 10, int(m["d"]) * 10 + 10))
        elif m["u"]:
            cuts.add(int(m["u"]))
        elif m["a"]:
            cuts.update((int(m["a"]), int(m["b"]) + 1))
        else:
            cuts.add(int(m["o"]))
    return tuple(sorted(cuts)) if len(cuts) >= 2 else ()


@lru_cache(maxsize=256)
def _asker_context(q: str) -> int:
    """Where the question proper begins, after leading sentences in which the asker
    says who they are or why they ask ("I'm a researcher looking at ...", "Adjuster
    here, trying to ..."): 0 if it starts at once. The last sentence is never context."""
    end = 0
    if m := _ROLE_ASKS.match(q):
        # "A defense adjuster asks why the lumbar MRI requests were upheld."
        return m.end()
    if m := _PURPOSE.match(q):
        # "For a workload study, how many ...", "Writing a UR training memo: why ...",
        # "For an audit of shoulder imaging, which ...": what it is for ("of shoulder
        # imaging" is kept: it names what is asked about)
        end = m.end("purpose") if m["about"] else m.end()
    for m in re.finditer(r"[^.!?:]+[.!:]\s+", q[end:]):
        m_start, m_end = m.start() + end, m.end() + end
        if m_start != end or not _ASKER.search(m.group(0)) or m_end >= len(q.rstrip()):
            break
        end = m_end
    return end


_ROLE_ASKS = re.compile(
    r"^\s*(?:an?|the|my|our)\s+(?:[\w'-]+\s+){0,2}?(?:attorney|lawyer|adjuster|nurse|researcher|"
    r"physician|doctor|examiner|paralegal|client|analyst|manager|director)s?\s+"
    r"(?:asks|asked|wants\s+to\s+know|is\s+asking|wonders|would\s+like\s+to\s+know)\s*:?\s*",
    _I,
)
_PURPOSE = re.compile(
    r"^\s*(?:(?:for|writing|preparing|drafting|doing|building|as\s+part\s+of)\s+)?"
    r"(?:a|an|the|my|our|this)?\s*(?:[\w&/-]+\s+){0,3}?(?P<purpose>study|report|memo|audit|"
    r"presentation|appeal|brief|article|analysis|project|training|deck|newsletter|seminar|lecture|"
    r"survey|review\s+of\s+our\s+files)\b(?P<about>\s+(?:of|on|about)\s+[^,:?]{1,50})?\s*[,:]\s+",
    _I,
)


def _topic(
    q: str, used: list[tuple[int, int]], f: QueryFilters, reason_end: int | None = None
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Content words that no filter used, in question order: (topic, terms, gloss).

    Words after a relational cue ("because", "for lack of", "about", "discuss",
    "involve", "with", "noting") restrict the answer: they are the topic. Words before
    any cue ("On what grounds were opioid *prescriptions* *found* ...") only describe
    what is asked; they are kept as terms that rank the passages quoted.
    """
    lex = get_lexicon()
    spent = list(used)
    for lm in lex.find_all(q):
        spent.append((lm.start, lm.end))
    mentions = [w.lower() for w in f.mentions]
    for _cls, a, b in lex.classes_for_group_word(q):
        spent.append((a, b))
    if f.has_treatment:  # "stomach-protection drugs like PPIs": the head noun of a class
        spent.extend((m.start(), m.end()) for m in _MEDS.finditer(q))
    spec = (f.specialty or "").lower().split()
    words: list[tuple[str, int]] = []
    for m in _WORD.finditer(q):
        w = m.group(0).lower().strip("'")
        if w.endswith("'s") and w not in _STOP:  # "McMurray's test": the letters' word
            w = w[:-2]
        if w in _STOP or len(w) < 3 or w.isdigit():
            continue
        if any(a <= m.start() < b for a, b in spent):
            continue
        if any(w in mention.split() for mention in mentions) or w in spec:
            continue
        if spec and w in _SPECIALTY_COMPANY:  # "an orthopedic surgeon", "a pain specialist"
            continue
        if f.case_number and w in f.case_number.lower():
            continue
        # part of an identifier ("letter 001_da630829cdb6960e", "CM16-0234202"): a
        # reference to a letter, not a word
        a = q.rfind(" ", 0, m.start()) + 1
        b = q.find(" ", m.end())
        token = q[a : len(q) if b < 0 else b]
        if re.search(r"\d|_", token):
            continue
        if f.guideline and w.upper() == f.guideline:
            continue
        if all(w != x for x, _ in words):
            words.append((w, m.start()))
    # "Adjuster here, trying to reconcile our UR file with the IMR outcomes. Show me
    # ...": who asks and why, said first, is no part of what is asked
    told = _asker_context(q.lstrip(" ")) + len(q) - len(q.lstrip(" "))
    words = [(w, pos) for w, pos in words if pos >= told]
    cue = _CUE.search(q, told)
    at = cue.start() if cue else len(q)
    warned = _WARNS.search(q, told)
    if warned and warned.start() <= at:
        # "Which decisions warn the doctor not to stop opioids abruptly?": what they warn
        # of is the topic; the verb and whom it addresses are not
        words = [(w, pos) for w, pos in words if not warned.start() <= pos < warned.end()]
        at = warned.start()
    # words in parentheses gloss the rest ("retrospective (already provided / dates of
    # service)"): they rank passages, they restrict nothing
    glossed = [(m.start(), m.end()) for m in re.finditer(r"\([^)]*\)", q)]
    inside = {w for w, pos in words if any(a <= pos < b for a, b in glossed)}
    # "a purchase rather than a rental or trial": what it is set against ranks passages
    rather = re.search(r"\b(?:rather\s+than|instead\s+of|as\s+opposed\s+to)\b[^?.;]*", q, _I)
    if rather:
        glossed.append((rather.start(), rather.end()))
    # "rejected because the request was incomplete — no quantity, no body part ...": what
    # follows a dash after the reason spells it out
    if reason_end is not None:
        dash = re.search(r"\s[\u2014\u2013]\s|\s--\s|\s-\s|:\s", q[reason_end:])
        if dash:
            glossed.append((reason_end + dash.start(), len(q)))
    # "a fracture ..., for example a distal radius, femur or cervical vertebra fracture":
    # examples rank passages, they are not all required
    for ex in re.finditer(r",?\s*\b(?:for\s+example|for\s+instance|e\.g\.,?)\s[^?.;()]*", q, _I):
        glossed.append((ex.start(), ex.end()))
    if f.classes and (examples := examples_span(q)) is not None:
        glossed.append(examples)  # "topical pain products, like ... patches or ointment"
    inside = {w for w, pos in words if any(a <= pos < b for a, b in glossed)}
    topic = tuple(dict.fromkeys(w for w, pos in words if pos >= at and w not in inside))
    terms = tuple(dict.fromkeys(w for w, pos in words if pos < at and w not in inside))
    gloss = tuple(dict.fromkeys(w for w, _ in words if w in inside))
    return topic, terms, gloss
