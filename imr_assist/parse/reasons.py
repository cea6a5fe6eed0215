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

The first rules of each category come from the sample letters (each comment names
the letter); the rest from MTUS and ODG practice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from imr_assist.constants import OVERTURNED, OVERTURNED_REASONS, UPHELD_REASONS
from imr_assist.models import Reason
from imr_assist.text import NormalizedText

_I = re.IGNORECASE
_NEG = r"(?:no|not|nor|without|lack\s+of|absence\s+of|failed\s+to)"


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("".join(parts), _I)


# --- building blocks ----------------------------------------------------------------

# Words that open a new clause: a negation before them does not reach past them.
_BREAK = r"\b(?:but|however|although|though|whereas|while|yet|except|unless|if)\b"


def _gap(n: int) -> str:
    """Up to ``n`` characters inside one clause (no period, semicolon or contrast)."""
    return rf"(?:(?!{_BREAK})[^.;:]){{0,{n}}}?"


def _words(n: int) -> str:
    """Up to ``n`` whole words."""
    return rf"(?:[\w'/-]+,?\s+){{0,{n}}}?"


_ADV = r"(?:(?:clearly|adequately|specifically|objectively|consistently|reliably|further|yet)\s+)?"
# The record negated, before what it lacks: "there is no documentation of", "no
# objective evidence that", "the submitted notes do not establish", "make no mention
# of", "fail to show", "without any measure of".
_NO_RECORD = (
    r"(?:\b(?:no|without|not\s+any|nor)\s+(?:any\s+)?|\b(?:lack|absence)\s+of\s+(?:any\s+)?)"
    r"(?:(?:clear|objective|recent|current|specific|further|adequate|sufficient|"
    r"documented|measurable|clinical|reliable)\s+){0,2}"
    r"(?:documentation|evidence|indication|records?|mention|reports?|description|"
    r"measures?|notation|data|discussion)\b"
)
_RECORD_VERBS = (
    r"(?:document|show|establish|demonstrate|record|describe|indicate|reflect|include|"
    r"contain|mention|note|report|identify|confirm|reveal|detail|substantiate|evidence)\w*"
)
_NOT_VERB = (
    rf"\b(?:(?:do|does|did|can|could)\s*(?:not|n't)|(?:has|have|had)\s*(?:not|n't))\s+{_ADV}"
    rf"{_RECORD_VERBS}"
)
_NEG_RECORD = (
    rf"(?:{_NO_RECORD}|{_NOT_VERB}|\bmake?s?\s+no\s+(?:mention|reference|note)"
    rf"|\bfail(?:s|ed)?\s+to\s+{_RECORD_VERBS}|\bthere\s+is\s+nothing"
    r"|\b(?:is|are|was|were)\s+silent\s+(?:as\s+to|on|about|regarding|concerning))"
)
# A bare negation right before the concept: "no objective functional improvement".
_NEG_BARE = r"\b(?:no|not|nor|neither|without|never)\s+"
# The record negated after the concept: "... is not documented", "neither is shown".
_NOT_SHOWN = (
    r"(?:\b(?:is|are|was|were|has|have|had)\s+(?:not|never)\s+(?:been\s+)?"
    r"|\b(?:is|are|was|were)\s+(?:un|in)|\bnot\s+|\bun)"
    r"(?:documented|shown|established|demonstrated|recorded|described|noted|reported|"
    r"evident|mentioned|substantiated|given|provided|stated|specified|found|performed|"
    r"addressed|discussed|assessed|measured|reviewed|checked|obtained|conducted)\b"
    r"|\b(?:neither|none)\s+(?:\w+\s+){0,2}(?:is|was|are|were|has\s+been|have\s+been)\s+"
    r"(?:documented|shown|demonstrated|reported|described|recorded)"
    r"|\b(?:is|are|was|were)\s+(?:absent|lacking|missing)\b"
)
# Negations and conditions that void a positive statement before it in its clause.
_NEG_BEFORE = re.compile(
    r"\b(?:no|not|nor|neither|never|without|lack|lacks|lacking|absence|absent|fail\w*|"
    r"unless|if|whether|discontinu\w*|insufficient|cannot|requires?|required|must|should|"
    r"needs?)\b|n't\b",
    _I,
)
# Where the clause of a positive statement starts; "if" and "unless" stay in it.
_CLAUSE_START = re.compile(r"[;:,]\s|\b(?:but|however|although|though|whereas|while|yet)\b", _I)


# A condition before a match makes the sentence a rule, not a finding: "opioids are
# discontinued if there is no documentation of improved function".
_CONDITION = re.compile(r"\b(?:if|unless|until|when|whenever)\b", _I)


@dataclass(frozen=True)
class Rule:
    """A sentence signals a category when ``pattern`` matches in it, each of ``also``
    matches anywhere in it and ``unless`` does not. A condition earlier in the clause
    of the match rejects it; with ``positive``, so does a negation."""

    pattern: re.Pattern[str]
    also: tuple[re.Pattern[str], ...] = ()
    unless: re.Pattern[str] | None = None
    positive: bool = False

    def matches(self, text: str, a: int, b: int) -> bool:
        if self.unless is not None and self.unless.search(text, a, b):
            return False
        if not all(rx.search(text, a, b) for rx in self.also):
            return False
        for m in self.pattern.finditer(text, a, b):
            if not _voided(text, a, m.start(), _NEG_BEFORE if self.positive else _CONDITION):
                return True
        return False


def _voided(text: str, a: int, at: int, words: re.Pattern[str]) -> bool:
    """Whether ``words`` occur in the clause of ``text[a:at]`` that ends at ``at``.

    Only the last 300 characters are read: a clause is shorter, and a long run of
    PDF text without punctuation must not make every match rescan it.
    """
    clause = text[max(a, at - 300) : at]
    starts = [m.end() for m in _CLAUSE_START.finditer(clause)]
    return bool(words.search(clause, starts[-1] if starts else 0))


def _r(*parts: str, also: tuple[str, ...] = (), unless: str | None = None) -> Rule:
    return Rule(
        _rx(*parts),
        also=tuple(_rx(p) for p in also),
        unless=_rx(unless) if unless else None,
    )


def _pos(*parts: str, also: tuple[str, ...] = (), unless: str | None = None) -> Rule:
    return Rule(
        _rx(*parts),
        also=tuple(_rx(p) for p in also),
        unless=_rx(unless) if unless else None,
        positive=True,
    )


def _missing(
    concept: str,
    *,
    before: int = 120,
    bare: int = 3,
    after: int | None = 80,
    unless: str | None = None,
    gap_unless: str | None = None,
) -> list[Rule]:
    """Rules for "the records do not show ``concept``", in its three word orders.

    ``gap_unless`` matches words that may not stand between the negation and the concept
    ("no evidence of aberrant behaviour on the urine drug screens" reports a screen).
    """
    gap_before, words = _gap(before), _words(bare)
    if gap_unless:
        gap_before = rf"(?:(?!{_BREAK}|{gap_unless})[^.;:]){{0,{before}}}?"
        words = rf"(?:(?!{gap_unless})[\w'/-]+,?\s+){{0,{bare}}}?"
    concept = rf"\b(?:{concept})(?!\w)"
    rules = [
        _r(_NEG_RECORD, gap_before, concept, unless=unless),
        _r(_NEG_BARE, words, concept, unless=unless),
    ]
    if after is not None:
        # "..., which is not documented" refers to the clause before, not the concept.
        # (unless it follows the concept at once: "the 4 A's, which were not addressed").
        gap_after = rf"(?:,?\s+which\s+|(?:(?!{_BREAK}|\bwhich\b)[^.;:]){{0,{after}}}?)"
        # "Medical necessity of the requested urine drug screen has not been
        # established" is the conclusion about the request, not a missing record.
        conclusion = r"\bmedical(?:ly)?\s+necess"
        rules.append(
            _r(
                concept,
                gap_after,
                rf"(?:{_NOT_SHOWN})",
                unless=f"{unless}|{conclusion}" if unless else conclusion,
            )
        )
    return rules


# --- concepts -----------------------------------------------------------------------

_POSS = r"(?:(?:her|his|the|their|its|overall|physical|daily|injured\s+worker's|patient's)\s+)"
_FUNCTION = (
    r"functional\s+(?:improvement|gains?|benefit|progress|restoration|response|change)s?"
    rf"|(?:improve(?:d|ment|ments|s)?|increase[sd]?|gains?|progress)\s+(?:in\s+|of\s+)?{_POSS}*"
    r"(?:function\w*|activit(?:y|ies)|ADLs?|capacity|abilit(?:y|ies))"
    rf"|(?:improve(?:d|ment)?|relief)\s+(?:in\s+|of\s+)?{_POSS}*pain\s+and\s+function"
    r"|function\w*\s+(?:has\s+|had\s+|have\s+)?(?:improve[ds]?|improvement|increased)"
    rf"|(?:chang|improv|affect|help|restor)(?:ed|ing)\s+{_POSS}*(?:\w+\s+)?function\w*"
    rf"|(?:changed|improved|affected|helped)\s+{_POSS}*(?:\w+\s+)?abilit(?:y|ies)\s+to"
    r"|return(?:ed|ing|s)?\s+to\s+(?:modified\s+|full\s+|regular\s+|light\s+|gainful\s+)?"
    r"(?:work|duty|employment)"
    r"|(?:reduc|decreas|lessen|lower)\w*\s+(?:in\s+)?(?:\w+\s+){0,2}work\s+restrictions"
    r"|(?:reduc|decreas|less|lower)\w*\s+(?:\w+\s+){0,3}(?:need|dependen\w*|reliance)\s+"
    r"(?:for|on|upon)\s+(?:\w+\s+){0,2}(?:medical|treatment|care|medications?)"
    r"|activities\s+of\s+daily\s+living|\bADLs?\b|\b(?:4|four)\s*A'?s\b"
    r"|(?:pain\s+relief|(?:reduc|decreas)\w*\s+in\s+(?:\w+\s+)?medication\s+(?:use|intake))"
)
_MONITORING = (
    r"urine\s+(?:drug\s+|toxicology\s+)?(?:screen|test|testing|toxicology|tox)\w*"
    r"|\b(?:UDS|UDT)\b|\bCURES\b|\bPDMPs?\b|prescription\s+(?:drug\s+)?(?:monitoring|database)"
    r"|(?:opi(?:oid|ate)|narcotic|pain|medication|treatment)\s+(?:agreement|contract)"
    r"|(?:compliance|adherence|aberrant[\w\s-]{0,20}?)\s+monitoring"
    r"|(?:monitoring|screening|assessment|discussion|evaluation)\s+(?:for|of|regarding|about)\s+"
    r"(?:possible\s+|potential\s+)?aberrant"
    r"|(?:risk|addiction)\s+(?:assessment|screening|stratification)|pill\s+counts?"
)
_CLINICAL = (
    r"spasms?|exacerbation|flare(?:[\s-]*ups?)?|(?:new|acute|re-?)\s*injur(?:y|ies)"
    r"|radicul\w+|neuropath\w+|neurolog\w+|deficits?|red\s+flags?"
    r"|(?:clinical|objective|physical|examination|exam|imaging|diagnostic|positive)\s+findings"
    r"|findings|signs?|symptoms?|diagnos[ie]s|lesions?|patholog\w+|instability|tears?"
    r"|stenosis|impingement|entrapment|compression|complaints?|dyspepsia|gastro\w+|\bGI\b"
    r"|nausea|vomiting|insomnia|sleep\s+(?:disturbance|disorder|problems?|difficult\w*)"
    r"|depress\w+|anxiety|psycholog\w+|psychiatric|risk\s+factors?|history\s+of"
    r"|homebound|(?:medical\s+)?need\s+for|indications?\b(?!\s+that)|disorder|disease|infection"
    r"|swelling|effusion|weakness|numbness|atrophy|edema|inflammat\w+|arthritis|fracture"
    r"|constipation|deficiency|requirement|question\s+that|(?:thorough|baseline)\s+evaluation"
    r"|evaluation\s+of\s+the|response\s+to\s+(?:a\s+|the\s+)?(?:diagnostic|prior|previous)"
    r"|poor\s+pain\s+control|unable\s+to|trigger\s+points?|myofascial|tender\w*|contracture"
    r"|(?:limited|decreased|reduced|loss\s+of)\s+(?:range\s+of\s+motion|motion|mobility)"
    # Diagnoses by their form: "tendinitis", "metatarsalgia", "occipital neuralgia",
    # "complex regional pain syndrome", "migraine headaches", "cervical dystonia".
    r"|\w+(?:itis|algia|pathy|osis|dynia|plegia|paresis|ectasis)|syndromes?|headaches?"
    r"|migraines?|dystonia|dysfunction|spasticity|disturbances?|fall\s+risk|gait"
    r"|inability|cannot|conditions?|change\s+in\s+(?:\w+\s+)?condition\s+that"
    r"|functional\s+(?:deficits?|limitations?|loss)|loss\s+of\s+(?:the\s+)?(?:ability|function)"
    r"|(?:planned|scheduled|recent|upcoming)\s+(?:\w+\s+)?(?:surgery|procedure|operation"
    r"|\w+plasty|\w+ectomy|\w+otomy|fusion|repair|replacement)"
    r"|surgery\s+(?:is\s+)?(?:planned|scheduled)|(?:sleep|medical|psychiatric)\s+history"
    r"|would\s+(?:change|alter|affect|guide)\s+(?:the\s+)?(?:\w+\s+)?(?:treatment|plan|management)"
)
# What a record, rather than the patient, lacks: these are insufficient_documentation.
_RECORD_ITEM = r"\b(?:current|present)\s+(?:condition|status)\b"
_IMPROVEMENT = (
    rf"improve(?:d|ment|s)?\s+(?:in\s+|of\s+)?{_POSS}*(?:function\w*|activit\w+|abilit\w+|capacity"
    r"|walking|sleep|mobility|range\s+of\s+motion|strength|tolerance|pain)"
    r"|function(?:al)?\s+(?:has\s+)?(?:improve\w*|gains?|benefit|progress)"
    r"|(?:objective|measurable|significant|documented|specific|substantial|clinically\s+"
    r"significant|meaningful)\s+(?:\w+\s+)?(?:improvement|gains?|benefit)"
    r"|gains?\s+in\s+(?:range\s+of\s+motion|strength|function\w*|mobility)"
    r"|return(?:ed|ing|s)?\s+to\s+(?:modified\s+|full\s+|regular\s+|light\s+)?(?:work|duty)"
    r"|(?:continues|able|resumed?)\s+to\s+work|work(?:s|ing)?\s+(?:full|modified|regular)\s+duty"
    r"|\b(?:is|was|were|are|remains?)\s+(?:now\s+)?able\s+to\s+\w+"
    r"|(?:lasting|significant|substantial|meaningful|sustained|good|\d+\s*%)\s+(?:pain\s+)?relief"
    r"|(?:pain|VAS|pain\s+scores?)\s+(?:\w+\s+){0,2}(?:reduced|decreased|improved|dropped|fell|"
    r"went)\s+from\s+\d+"
    r"|(?:reduction|decrease)\s+in\s+(?:(?:her|his|the)\s+)?(?:pain|medication\s+use)"
    r"|shown\s+to\s+(?:improve|reduce|help)|(?:improves?|improving)\s+(?:\w+'?s?\s+){0,3}"
    r"(?:function|pain)"
)

_NOT_ABOVE = (
    r"\b(?:not|n't|never)\s+(?:\w+\s+)?(?:exceed|above|greater)|\b(?:below|within)\b"
    r"|\bunder\s+the\b"
)

RULES: dict[str, list[Rule]] = {
    "no_functional_improvement": [
        # 001: "no objective documentation of pain and functional improvement"
        _r(
            _NEG + r"\b[^.]{0,120}?\b(?:functional\s+(?:improvement|status|gains?|benefit)"
            r"|improvement\s+(?:in|of)\s+(?:function|pain)|return\s+to\s+work"
            r"|4\s*A'?s)"
        ),
        _r(r"no\s+(?:overall\s+)?improvement\s+in\s+function"),
        *_missing(_FUNCTION),
        # "function and medication use were unchanged"
        _r(
            r"\bfunction\w*\b" + _gap(60) + r"\b(?:(?:was|were|is|are|remain(?:ed|s)?)\s+"
            r"unchanged|(?:did|does|has|have|had)\s+not\s+(?:\w+\s+)?(?:improved?|changed?))"
        ),
        _r(r"\bno\s+(?:\w+\s+){0,2}(?:change|improvement|gains?)\s+in\s+(?:\w+\s+){0,3}function"),
        # "The injured worker remains off work" (no return to work).
        _r(
            r"\b(?:remains?|remained|is\s+still|continues\s+to\s+be|has\s+been)\s+"
            r"(?:totally\s+|temporarily\s+)?(?:off\s+work|unable\s+to\s+work|not\s+working)"
        ),
    ],
    "no_aberrant_behavior_monitoring": [
        # 003: "efforts to rule out aberrant behavior (e.g. CURES report, UDS, opiate
        # agreement) are necessary to assure safe usage"
        _r(r"(?:rule\s+out|monitor(?:ing)?\s+for|screen(?:ing)?\s+for)\s+aberrant"),
        *_missing(_MONITORING, gap_unless=r"\b(?:aberrant|abuse|misuse|diversion|explain)"),
    ],
    "exceeds_med_ceiling": [
        # 004: "the addition of Norco exceeds the recommended ceiling of morphine equivalent"
        _r(r"exceed\w*\s+(?:the\s+)?(?:recommended\s+)?(?:ceiling|MED\b|MME\b)"),
        _r(
            r"(?:morphine\s+equivalent|\bMED\b|\bMME\b)[^.]{0,80}\b(?:exceed|above|greater\s+than)",
            unless=_NOT_ABOVE,
        ),
        # "not exceed 120 mg of oral morphine equivalents, and this regimen reaches 360 mg"
        _r(
            r"(?<!not\s)(?<!n't\s)\b(?:exceed\w*|above|greater\s+than|more\s+than|beyond|"
            r"surpass\w*|reach\w*|amounts?\s+to|higher\s+than|in\s+excess\s+of|over\s+"
            r"(?:the\s+)?(?:\d+|ceiling|limit|maximum|threshold))",
            also=(r"morphine[\s-]+(?:milligram[\s-]+)?equivalen|\bMED\b|\bMME\b|\bMEDD\b",),
            unless=r"\b(?:below|under|within|less\s+than)\b",
        ),
    ],
    "long_term_use_not_recommended": [
        # 002: "Not recommended for long-term use"; 004: "do not support the long-term use"
        _r(r"not\s+(?:be\s+)?(?:recommended|supported|indicated)\s+for\s+long[\s-]*term"),
        _r(r"do(?:es)?\s+not\s+support\s+the\s+long[\s-]*term"),
        # 003: "has been in use long-term"; 001: "prescribed Soma a long time"
        _r(r"(?:in\s+use|been\s+(?:used|prescribed|taking))\s+long[\s-]*term"),
        _r(r"prescribed\s+\w+\s+(?:for\s+)?a\s+long\s+time|used\s+for\s+long\s*time"),
        _r(r"recommended\s+for\s+short[\s-]*term\s+use"),
        _r(r"limit\s+use\s+to\s+\d+\s+weeks"),
        _r(r"\blimit\w*\s+(?:its\s+|their\s+|the\s+)?use\s+to\s+(?:[\w-]+\s+){0,4}?weeks"),
        _r(r"long[\s-]*term\s+use[^.]{0,40}\bnot\s+(?:recommended|supported)"),
        # "long-term opioid therapy ... is not recommended", "prolonged NSAID therapy is
        # not recommended", "the guidelines do not recommend NSAIDs for long-term use"
        _r(
            r"(?:long[\s-]*term|prolonged|chronic|extended|continued|continuous|ongoing|"
            r"indefinite|nightly)\s+(?:[\w/-]+\s+){0,3}?(?:use|therapy|treatment|"
            r"administration|dosing)\b" + _gap(80) + r"\bnot\s+(?:\w+\s+)?(?:recommended|"
            r"supported|advised|indicated|appropriate)"
        ),
        _r(
            r"(?:do|does)\s+not\s+(?:recommend|support)\s+(?:\w+\s+){0,4}?(?:for\s+)?"
            r"(?:long[\s-]*term|prolonged|chronic|extended)"
        ),
        # "recommended only for short-term use", "meant for short courses",
        # "the guidelines support only brief courses"
        _r(
            r"(?:intended|recommended|approved|indicated|meant|supported|limited|suitable|"
            r"reserved|used)\s+(?:only\s+)?(?:for\s+)?(?:the\s+)?(?:a\s+)?(?:short[\s-]*term|"
            r"short|brief|limited)\s+(?:\([^)]{0,30}\)\s*)?(?:courses?|use|treatment|periods?|"
            r"duration|trials?|therapy)",
            unless=r"\b(?:supply|quantity|tablets|doses|pills)\b",
        ),
        _r(r"(?:support|recommend|allow)s?\s+only\s+(?:short|brief)"),
        _r(
            r"not\s+(?:\w+\s+)?(?:recommended|supported|indicated)\s+(?:for\s+)?(?:use\s+)?"
            r"(?:for\s+)?(?:longer|more)\s+than\s+(?:a|one|two|three|four|six|\d+)"
        ),
        _r(r"\bprolonged\s+use\b"),
        _r(
            r"(?:efficacy|effectiveness|benefit)\s+(?:\w+\s+){0,4}(?:diminish|decrease|decline|"
            r"wane|fade)s?\s+(?:\w+\s+)?(?:over\s+time|with\s+(?:time|continued|prolonged))"
        ),
        _r(
            r"risk\s+of\s+(?:\w+\s+){0,3}(?:dependence|tolerance|habituation|hyperalgesia|"
            r"addiction)" + _gap(60) + r"(?:length|duration|longer|prolonged|continued)"
        ),
        # "their use beyond a few weeks is not supported", "PPI therapy continued
        # beyond a year is associated with ... hip fracture", "far longer than the 4
        # week limit"; a supply that would last too long is exceeds_guideline_quantity.
        _r(
            r"\b(?:on|use[ds]?|continued|taken|therapy|treatment)\s+(?:\w+\s+){0,3}?(?:beyond|"
            r"longer\s+than|past|for\s+more\s+than|for\s+over)\s+(?:a|one|two|three|four|six|"
            r"several|a\s+few|\d+)\s+(?:\w+\s+)?(?:weeks?|months?|years?)",
            also=(
                r"not\s+(?:\w+\s+)?(?:recommended|supported)|\brisk\b|\bshort\b|\bbrief\b|\blimit",
            ),
            unless=r"\b(?:supply|quantity|tablets|doses|pills|requested)\b",
        ),
        _r(
            r"longer\s+than\s+(?:the\s+)?(?:\d+|two|three|four|six)[\s-]+(?:weeks?|months?)\s+"
            r"(?:limit|maximum|period|course)",
            unless=r"\b(?:supply|quantity|tablets|doses|pills|requested)\b",
        ),
    ],
    "not_first_line": [
        # 001: "not recommended as a first line oral analgesic"
        _r(r"not\s+(?:recommended\s+)?(?:as\s+)?(?:a\s+)?first[\s-]*line"),
        _r(r"second[\s-]*line"),
        # "recommended for neuropathic pain only after trials of antidepressants and
        # anticonvulsants have failed"; "reserved for pain that has not responded to
        # conservative treatment"; "considered only after less invasive treatment has
        # failed"
        _r(
            r"\b(?:only|reserved|considered|recommended|indicated)\s+(?:[\w-]+\s+){0,4}?"
            r"(?:after|when|once|for\s+(?:pain|patients|cases|those)\s+(?:that|who|which))\b"
            r"[^.;]{0,100}?\b(?:fail\w*|not\s+(?:\w+\s+)?(?:responded|tolerated|improved|helped|"
            r"controlled|relieved|worked)"
            r"|exhausted|unsuccessful|ineffective|inadequate|contraindicated)"
        ),
        # "there is no evidence that first-line oral medications were tried and failed";
        # "a course of conservative care was completed before ... was requested"
        _r(
            r"\b(?:first[\s-]*line|conservative|non-?operative|non-?surgical|less\s+invasive|"
            r"non-?invasive|oral)\s+(?:[\w-]+\s+){0,2}?(?:care|treatments?|therap(?:y|ies)|"
            r"medications?|options?|measures|management|agents?|drugs?)",
            also=(
                r"\b(?:tri(?:ed|als?)|fail\w*|exhaust\w*|complet\w*|attempt\w*|before|prior\s+to)\b",
            ),
            unless=r"\bfunction",
        ),
        *_missing(
            r"(?:\b(?:trial|course|failure|attempt)s?\s+of|\b(?:tried|failed|attempted|exhausted"
            r"|completed))\b" + _gap(80) + r"\bbefore\b",
            after=None,
        ),
        _r(r"\bnot\s+(?:the\s+|a\s+)?(?:preferred|first|initial)\s+(?:choice|option|treatment)"),
        _r(
            r"preferred\s+(?:\w+\s+){0,2}(?:treatment|option|choice|agent|therapy|drug)"
            + _gap(40)
            + r"\brather\s+than"
        ),
        _r(
            r"first[\s-]*line\s+(?:\w+\s+)?(?:choice|option|agent|treatment|therapy|drug|"
            r"medication)s?[^.]{0,100}\b(?:only\s+(?:when|after|if)|ha(?:ve|s)\s+failed|"
            r"not\s+tolerated)"
        ),
    ],
    "lowest_dose_shortest_period": [
        # 001: "no clear evidence that the lowest NSAID was used"
        _r(r"no\s+(?:clear\s+)?evidence\s+that\s+the\s+lowest"),
        _r(r"does\s+not\s+comply[^.]{0,80}short"),
        _r(r"lowest\s+dose\s+for\s+the\s+shortest"),
        _r(r"lowest\s+(?:effective\s+|possible\s+)?(?:\w+\s+)?dose[^.]{0,60}\bshortest"),
    ],
    "worsening_or_no_efficacy": [
        # 000: "she has recently experienced an increase in pain while using Norco"
        _r(
            r"increase\s+in\s+(?:her\s+|his\s+|the\s+)?pain",
            unless=r"\b(?:no|without|not)\s+(?:\w+\s+){0,2}increase\s+in",
        ),
        _r(
            r"pain\s+(?:has\s+|had\s+)?(?:increased|worsened)|worsening\s+(?:of\s+)?pain",
            unless=r"\bnot\s+(?:\w+\s+)?(?:increased|worsened)",
        ),
        _r(r"(?:not\s+(?:been\s+)?effective|no\s+(?:significant\s+)?(?:benefit|relief))"),
        # "no lasting relief", "with no measurable benefit"; "no measurable improvement
        # in function" is no_functional_improvement.
        _r(
            r"\bno\s+(?:(?:significant|lasting|meaningful|sustained|measurable|appreciable|"
            r"clear|real|further|durable|noticeable|clinically\s+\w+)\s+)*"
            r"(?:benefit|relief|response|improvement(?!\s+in\s+(?:\w+\s+){0,3}"
            r"(?:function|capacity|activit)))"
        ),
        _r(
            r"\b(?:did|does|do|has|have|had)\s+not\s+(?:\w+\s+)?(?:reduce|relieve|improve|help|"
            r"decrease|lessen|change)d?\s+(?:(?:the|her|his|their)\s+)?(?:pain|symptoms)"
        ),
        _r(r"\bfailed\s+to\s+(?:relieve|reduce|improve|help|provide\s+(?:\w+\s+)?relief)"),
        _r(
            r"\bno\s+change\s+in\s+(?:(?:her|his|the|their)\s+)?(?:\w+\s+)?(?:symptoms|pain)",
            unless=r"since\s+(?:the\s+)?(?:last|prior|previous)\s+(?:imaging|study|scan|MRI)",
        ),
        _r(
            r"\bpain\s+(?:has\s+|had\s+)?returned|returned\s+to\s+(?:its\s+|the\s+)?(?:previous|"
            r"prior|baseline|original|former)\s+(?:level|intensity|severity)"
        ),
        _r(r"(?:persist|remain|continu)\w*" + _gap(60) + r"\bdespite\b"),
        _r(r"despite\s+(?:an?\s+)?(?:adequate|appropriate|prolonged|full|reasonable)\s+"),
        _r(r"\bineffective\b|\black\s+of\s+(?:efficacy|benefit|response|effect)"),
        _r(r"\bnot\s+(?:been\s+)?(?:helping|working|helpful|beneficial)\b"),
        _r(
            r"\bpain(?:\s+(?:scores?|levels?|ratings?|intensity))?\s+(?:has\s+|have\s+|had\s+)?"
            r"(?:increased|worsened|risen|gone\s+up|escalated)",
            unless=r"\bnot\s+(?:\w+\s+)?(?:increased|worsened|risen|gone\s+up|escalated)",
        ),
        _r(
            r"\b(?:minimal|little|limited|short[\s-]*lived|temporary|transient|brief)\s+"
            r"(?:(?:and|or)\s+[\w-]+\s+)?(?:pain\s+)?(?:relief|benefit|improvement)"
        ),
        # The anticonvulsant response measure: "no documentation of a 30% reduction in pain".
        *_missing(r"\b\d+\s*%\s+(?:reduction|decrease|improvement)\s+in\s+(?:\w+\s+)?pain"),
    ],
    "no_documented_indication": [
        # 001: "without clear evidence of spasm or excacerbation"
        _r(
            r"(?:without|no)\s+(?:clear\s+|recent\s+|objective\s+)?(?:evidence|documentation)\s+"
            r"(?:of\s+(?:spasm|acute|exacerbation|neuropathic|radicul)"
            r"|that\s+the\s+patient\s+(?:was|is|has)\s+(?:complaining|having|experiencing))"
        ),
        # "no indication for ..."; "no indication that ..." only negates the record.
        _r(r"no\s+(?:documented\s+|clear\s+)?indication(?!\s+that)"),
        *_missing(
            _CLINICAL,
            unless=_RECORD_ITEM,
            # What stands between the negation and a finding must not make the
            # sentence about improvement or a prior trial: "do not show that the
            # completed therapy reduced ... the need for care", "no change in the
            # neuropathic symptoms on Lyrica".
            gap_unless=r"\b(?:reduc\w*|improv\w*|change[sd]?|relie\w+|benefit\w*|trials?|tried"
            r"|before|function\w*)\b",
        ),
        _r(r"(?:does|do|did)\s+not\s+have\s+(?:\w+\s+){0,3}?(?:" + _CLINICAL + ")"),
        # "electrodiagnostic testing would not change the treatment"
        _r(
            r"would\s+not\s+(?:\w+\s+)?(?:change|alter|affect|influence|guide)\s+(?:the\s+)?"
            r"(?:\w+\s+)?(?:treatment|management|plan|care|course)"
        ),
        # "not supported by any change in symptoms or examination findings"
        _r(r"not\s+supported\s+by\s+(?:any\s+)?(?:\w+\s+){0,2}(?:change|findings|symptoms)"),
        _r(
            r"\bno\s+(?:(?:significant|new|interval)\s+)?change\s+in\s+(?:\w+\s+){0,3}"
            r"(?:symptoms|findings|condition)" + _gap(60) + r"\bsince\b"
        ),
        _r(r"not\s+(?:at\s+)?(?:an?\s+)?(?:increased|elevated|high|intermediate)\s+risk"),
    ],
    "exceeds_guideline_quantity": [
        _r(
            r"exceed\w*\s+(?:the\s+)?(?:guideline|recommended|MTUS|ODG)[^.]{0,40}"
            r"(?:number|sessions|visits|quantity|days|units|duration)"
        ),
        _r(
            r"(?:number|quantity)\s+of\s+(?:sessions|visits)[^.]{0,30}exceed",
            unless=r"(?:not|n't)\s+exceed",
        ),
        _r(r"in\s+excess\s+of\s+(?:the\s+)?(?:guideline|recommended)"),
        # "the 12 sessions requested exceed that trial", "the request goes beyond it",
        # "a supply of 60 tablets would extend use well past the 4 weeks"
        _r(
            r"(?<!not\s)(?<!n't\s)\b(?:exceed\w*|in\s+excess\s+of|go(?:es)?\s+(?:well\s+|far\s+)?"
            r"(?:beyond|past)|extend\w*\s+(?:\w+\s+){0,2}(?:past|beyond)|cover\w*\s+(?:far\s+)?"
            r"more\s+than|(?:far\s+)?more\s+than\s+(?:the|what)|longer\s+than\s+(?:the|what)"
            r"|surpass\w*|beyond\s+(?:the|what))",
            also=(
                r"\b(?:guideline|recommend|allow|support|limit|maximum|trial|course|frequency|"
                r"duration|MTUS|ODG|suggest)",
                r"\b(?:number|quantity|amount|supply|sessions?|visits?|injections?|treatments?|"
                r"tablets?|pills?|doses?|units?|days?|hours?|request(?:ed)?|duration|frequency|"
                r"rental|care|refills?|tests?|testing)\b",
            ),
            unless=r"morphine|\bMED\b|\bMME\b|ceiling",
        ),
    ],
    "not_a_weaning_request": [
        # 000: "This request however is not for a weaning treatment"
        _r(r"not\s+for\s+(?:a\s+)?(?:weaning|taper)"),
        # 002: "there is no provision to modify the current request to allow tapering"
        _r(r"no\s+provision\s+to\s+modify"),
        _r(r"(?:cannot|can\s+not)\s+(?:be\s+)?modif(?:y|ied)"),
        # "continue treatment rather than taper it", "does not represent a weaning schedule"
        _r(
            r"\b(?:rather\s+than|instead\s+of|not|no|without)\s+(?:[\w-]+\s+){0,4}?"
            r"(?:wean|taper)\w*",
            also=(r"\b(?:continu\w*|request\w*|same|current|maintain\w*|refill\w*)\b",),
        ),
    ],
    "insufficient_documentation": [
        # 002: "there is no rationale provided for long-term use"
        _r(r"no\s+rationale\s+(?:was\s+)?provided"),
        _r(r"insufficient\s+(?:documentation|information|records)"),
        _r(
            r"(?:documentation|records?)\s+(?:submitted|available|provided)\s+(?:for\s+review\s+)?"
            r"(?:do(?:es)?|did)\s+not\s+(?:state|indicate|include|document|show)",
            unless=r"\b(?:" + _CLINICAL + ")",
        ),
        # "do not contain enough clinical information to evaluate this request"
        _r(
            r"\b(?:not|no|in)\s*(?:\w+\s+){0,2}?(?:enough|sufficient|adequate)\s+"
            r"(?:clinical\s+|medical\s+)?(?:information|documentation|detail|data|records)"
        ),
        _r(
            r"\b(?:insufficient|inadequate|incomplete)\s+(?:clinical\s+|medical\s+)?"
            r"(?:information|documentation|detail|data|records?)"
        ),
        # "No progress notes from the requesting physician were included"
        _r(
            r"\bno\s+(?:recent\s+|current\s+|updated\s+)?(?:progress|office|clinic(?:al)?|treatment|"
            r"medical|physician'?s?|therapy)?\s*(?:notes?|reports?|records?|evaluations?)\b"
            + _gap(80)
            + r"\b(?:were|was|have\s+been|has\s+been|are|is)\s+(?:\w+\s+)?(?:included|provided|"
            r"submitted|available|attached|received|enclosed)"
        ),
        # "The file does not contain the report in which this request was made"
        _r(
            r"(?:file|records?|documentation|packet|submission)\s+(?:\w+\s+){0,3}(?:does|do|did)"
            r"\s+not\s+(?:contain|include)\s+(?:the|a|any)\s+(?:\w+\s+){0,2}(?:report|note|"
            r"request|RFA|form|evaluation|records?)\b"
        ),
        _r(r"\b(?:illegible|unreadable|indecipherable)\b"),
        # "The medical records do not include any prior physical therapy notes."
        _r(
            r"(?:do|does|did)\s+not\s+(?:include|contain)\s+(?:any\s+|the\s+|a\s+)?"
            r"(?:[\w-]+\s+){0,3}?(?:notes?|reports?|records|documentation|RFA|evaluations?)\b"
        ),
        # "It is unclear how many sessions the patient has already received."
        _r(r"\b(?:unclear|unknown|not\s+clear)\s+(?:how|what|whether|when|why|if)\b"),
        # A report too old to show the current condition.
        _r(
            r"(?:does|do|did)\s+not\s+(?:\w+\s+)?(?:describe|reflect|address|document)\s+"
            r"(?:the\s+)?(?:current|present|recent)\s+(?:condition|status|clinical|symptoms)"
        ),
        # "The request does not state the body part, frequency or goals", "the records do
        # not state how long ... or at what dose"
        _r(
            r"(?:does|do|did)\s+not\s+(?:\w+\s+)?(?:state|specify|indicate|identify|list|"
            r"include|document|record|mention)\s+(?:\w+\s+){0,3}?(?:the\s+)?(?:body\s+part|"
            r"frequency|duration|goals?|number\s+of|quantity|dose|dosage|strength|how\s+"
            r"(?:long|many|often|much)|what\s+dose|at\s+what|location|laterality|length)"
        ),
        # "There is no rationale in the records for continuing Prilosec"
        _r(
            r"\bno\s+(?:clear\s+|documented\s+|stated\s+|specific\s+)?(?:rationale|reason|"
            r"explanation|justification)\b"
        ),
        _r(
            r"(?:rationale|reason|explanation|justification)\s+(?:for\s+[^.;]{0,60})?"
            r"(?:is|was|has\s+been)\s+not\s+(?:\w+\s+)?(?:given|provided|documented|stated|"
            r"explained)"
        ),
        _r(r"(?:does|do|did)\s+not\s+(?:\w+\s+)?explain\s+(?:why|the\s+(?:reason|need|rationale))"),
        # "The number of sessions already completed, and their results, are not documented"
        _r(
            r"\bnumber\s+of\s+(?:[\w-]+\s+){0,4}(?:sessions|visits|treatments|injections)\b"
            + _gap(80)
            + r"(?:not\s+(?:been\s+)?(?:documented|stated|provided|specified|reported)"
            r"|unknown|unclear)"
        ),
        _r(
            r"\bnot\s+(?:been\s+)?(?:available|provided|submitted|included)\s+for\s+"
            r"(?:my\s+|this\s+)?review"
        ),
        _r(
            r"\b(?:records?|documentation|file|notes)\b"
            + _gap(40)
            + r"\b(?:is|are|was|were)\s+(?:incomplete|missing|sparse)"
        ),
        # "The request for authorization was not included in the records."
        _r(
            r"\b(?:report|request|note|RFA|form|records?|notes)\b"
            + _gap(40)
            + r"\b(?:was|were|has|"
            r"have)\s+not\s+(?:been\s+)?(?:included|provided|submitted|attached|enclosed|made\s+"
            r"available)"
        ),
        # "The frequency and duration of the requested therapy were not specified."
        _r(
            r"\b(?:frequency|duration|dose|dosage|number|quantity|body\s+part|goals?)\b"
            + _gap(60)
            + r"\b(?:were|was|is|are)\s+not\s+(?:\w+\s+)?(?:specified|stated|provided|"
            r"indicated|given)"
        ),
        _r(r"\b(?:unable|not\s+possible)\s+to\s+(?:evaluate|assess|determine|verify)"),
    ],
    "documented_improvement": [
        # 004: "Efficacy is noted with the current medication regimen"
        _r(r"efficacy\s+is\s+(?:noted|documented)"),
        # 004: "notes significant improvement with the utilization of Butrans"
        _r(r"(?:notes?|noted|documents?|documented|reports?)\s+significant\s+improvement"),
        # 002: "there is indication that the medication is improving the patient's function"
        _r(r"indication\s+that\s+the\s+(?:medication|treatment)\s+is\s+improving"),
        _pos(r"(?:documented|documentation\s+of)\s+(?:\w+\s+){0,3}improvement"),
        _pos(_IMPROVEMENT),
        _pos(
            r"(?:documented|demonstrated|established|noted|clear|ongoing)\s+(?:\w+\s+)?"
            r"(?:efficacy|effectiveness|benefit)"
        ),
        # "The medication allows her to continue working and perform household chores."
        _pos(
            r"\b(?:allows?|allowing|enables?|enabling|permits?)\s+(?:\w+\s+){0,2}to\s+"
            r"(?:continue\s+)?(?:work|working|perform|function|walk|sleep|do|care|drive|exercise)"
        ),
    ],
    "guideline_criteria_met": [
        # 004: "recommended as a first line option for neuropathic pain"
        _r(r"first[\s-]*line\s+(?:option|agent|treatment)"),
        _pos(r"(?:criteria|guidelines?)\s+(?:are|have\s+been|were)\s+met"),
        _r(r"(?:this|the)\s+request(?:\s+for\s+[^.]{1,60}?)?\s+is\s+supported"),
        _pos(
            r"\bcriteria\b" + _gap(80) + r"\b(?:are|have\s+been|were|is|has\s+been)\s+"
            r"(?:\w+\s+)?(?:met|satisfied|fulfilled)"
        ),
        _pos(
            r"\b(?:meets?|satisf(?:y|ies)|fulfill?s?)\s+(?:all\s+|each\s+of\s+)?(?:the\s+)?"
            r"(?:[\w-]+\s+){0,3}?criteria"
        ),
        _pos(r"(?:supports?|documents?)\s+(?:all|each)\s+(?:of\s+)?(?:the\s+)?criteria"),
        _pos(
            r"(?:consistent|in\s+(?:accordance|keeping|line)|compliant|concordant)\s+with\s+"
            r"(?:the\s+)?(?:\w+\s+){0,2}(?:guidelines?|recommendations?|MTUS|ODG|ACOEM)"
        ),
        _pos(
            r"\b(?:which|what)\s+(?:is\s+what\s+)?(?:the\s+)?(?:MTUS|ODG|ACOEM|guidelines?)\s+"
            r"(?:\w+\s+)?(?:recommends?|supports?|endorses?|allows?)"
        ),
        _pos(
            r"\b(?:is|are)\s+(?:therefore\s+|thus\s+|also\s+)?(?:supported|recommended|indicated|"
            r"warranted|appropriate)\s+(?:by|under|per|in)\s+(?:the\s+)?(?:guidelines?|MTUS|ODG|"
            r"ACOEM)"
        ),
        _pos(
            r"\b(?:so|therefore|thus|hence)\s+(?:[\w-]+\s+){0,6}?(?:is|are)\s+(?:\w+\s+)?"
            r"(?:supported|indicated|warranted|recommended|appropriate)"
        ),
        _pos(
            r"\b(?:MTUS|ODG|ACOEM|guidelines?)\s+(?:\w+\s+)?(?:supports?|recommends?|endorses?)\s+"
            r"(?:the\s+use|this|its\s+use|the\s+request|use\s+of)"
        ),
        _pos(r"\bwhich\s+supports\b|\b(?:is|are)\s+an?\s+indication\s+for\s+(?:this|the|a)\b"),
        _pos(
            r"recommended\s+for\s+(?:such\s+patients|(?:\w+\s+){0,4}patients"
            + _gap(80)
            + r"\b(?:is\s+such\s+a|meets|fits|qualifies))"
        ),
        _pos(
            r"(?:findings|examination|symptoms)\s+(?:\w+\s+){0,2}(?:match|correlate\s+with|are\s+"
            r"consistent\s+with|corroborate)\s+(?:the\s+)?(?:imaging|MRI|stud(?:y|ies))"
        ),
        _pos(
            r"(?:completed|failed|exhausted)\s+(?:more\s+than\s+)?(?:[\w-]+\s+){0,4}(?:of\s+)?"
            r"conservative\s+(?:care|treatment|therapy)"
        ),
        # The MTUS criteria for a functional restoration program: "previous methods of
        # treating chronic pain have been unsuccessful".
        _r(r"(?:previous|prior)\s+methods\s+of\s+treat\w*" + _gap(40) + r"\bunsuccessful"),
    ],
    "neuropathic_indication": [
        # 004: "Baclofen has been noted to have benefits for treating ... neuropathic pain"
        _pos(r"(?:benefits?\s+for\s+treating|indicated\s+for|setting\s+of)[^.]{0,40}neuropath"),
        _pos(r"(?<!non-)(?<!non\s)neuropathic\s+pain"),
    ],
}

assert set(RULES) == set(UPHELD_REASONS) | set(OVERTURNED_REASONS)

_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|Dr|vs|No|approx|etc|Inc|p|pp)\.)$", _I)


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
    cats = OVERTURNED_REASONS if decision == OVERTURNED else UPHELD_REASONS
    sents = list(sentences(nt, start, end))
    found: list[Reason] = []
    for cat in cats:
        hit = _first_hit(nt.flat, sents, RULES[cat])
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
