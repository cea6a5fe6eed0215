"""The extractive case summary: the letter's own sentences, each with its span.

For a reader who wants the case in five lines: how the worker was hurt, the
diagnoses, the treatment to date, what was requested, and for each item the
reviewer's decisive finding. Each line is a sentence of the letter, chosen by the
cue words below from the clinical case summary (or, for findings, the item's
rationale), so nothing is paraphrased and everything can be highlighted.

The cues are data: each was read off the sample letters and the real DWC letters'
case summaries, whose sentences follow a house style ("The injured worker is a
47 year old male who suffered a work related injury on ...", "Treatment to date has
included ...", "The treatment plan included ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imr_assist.answer.evidence import sentence_spans
from imr_assist.models import Item, Letter, Span
from imr_assist.text import normalize

#: (topic, label, cues) in the order the summary shows them: the first summary
#: sentence matching the first cue is the topic's sentence, else the first matching
#: the next cue; no sentence serves twice. The injury's first cue is its mechanism
#: ("She reported injuring her back at work", sample 002), the second the sentence
#: every summary opens with ("... sustained an industrial injury on 06/09/2005").
TOPICS: tuple[tuple[str, str, tuple[re.Pattern[str], ...]], ...] = (
    (
        "injury",
        "Injury",
        (
            re.compile(
                r"\b(?:fell|falling|lift(?:ing|ed)|slipped|struck|twist(?:ed|ing)|while "
                r"(?:working|lifting|carrying|pulling|pushing)|injuring|motor vehicle|"
                r"repetitive|accident)\b",
                re.IGNORECASE,
            ),
            re.compile(r"\b(?:sustained|suffered|injur(?:ed|y|ies))\b", re.IGNORECASE),
        ),
    ),
    (
        "diagnoses",
        "Diagnoses",
        (re.compile(r"\b(?:diagnos[a-z]*|impression|assessment)\b", re.IGNORECASE),),
    ),
    (
        "treatment",
        "Treatment to date",
        (
            re.compile(
                r"\btreatment(?: and diagnostics)? to date\b|\b(?:has|had|have) (?:included|"
                r"consisted|undergone|received|tried)\b|\bunderwent\b|\btreated (?:with|by)\b|"
                r"\bprior treatment|\bphysical therapy\b|\bmedications? (?:include|included|"
                r"including)\b",
                re.IGNORECASE,
            ),
        ),
    ),
    (
        "request",
        "What was requested",
        (
            re.compile(
                r"\btreatment plan\b|\bplan (?:included|includes|was)\b|\brequest(?:ed|s)?\b|"
                r"\bat issue\b|\bprescribed\b",
                re.IGNORECASE,
            ),
        ),
    ),
)

# A rationale sentence about this patient's records, not the guideline: these mark
# the finding a decision turns on ("There is no documentation of functional
# improvement", "the injured worker reported 50% pain relief").
_FINDING = re.compile(
    r"\b(?:injured worker|patient|claimant|records?|documentation|documented|"
    r"provided|submitted|reviewed|there (?:is|was) no|no evidence|noted)\b",
    re.IGNORECASE,
)
# Guideline text and the closing formula, which state the rule or the result.
_RULE = re.compile(
    r"\b(?:guidelines?|MTUS|ODG|ACOEM|CPMTG|recommend(?:s|ed)?|criteria|page \d+|p\d+)\b",
    re.IGNORECASE,
)
_CONCLUSION = re.compile(r"\b(?:is|are|was|were) (?:not )?(?:medically necessary|certified)\b")


@dataclass(frozen=True)
class SummaryLine:
    """One line of the case summary: its topic and the letter's sentence."""

    topic: str
    label: str
    quote: str
    span: Span
    item_index: int | None = None


def case_summary(letter: Letter) -> list[SummaryLine]:
    """The case summary's lines: topics from the clinical summary, then one finding
    per item (see the module docstring). Topics the letter does not state are left out.
    """
    nt = normalize(letter.text)
    out: list[SummaryLine] = []
    span = letter.spans.get("summary")
    sents = sentence_spans(nt, span) if span is not None else []
    used: set[tuple[int, int]] = set()
    for topic, label, cues in TOPICS:
        pick = next(
            (
                (quote, s)
                for cue in cues
                for quote, s in sents
                if (s.start, s.end) not in used and cue.search(quote)
            ),
            None,
        )
        if pick is not None:
            used.add((pick[1].start, pick[1].end))
            out.append(SummaryLine(topic, label, pick[0], pick[1]))
    for item in letter.items:
        found = decisive_sentence(letter, item, nt)
        if found is not None:
            quote, s = found
            out.append(SummaryLine("finding", item.treatment, quote, s, item.index))
    return out


def decisive_sentence(letter: Letter, item: Item, nt=None) -> tuple[str, Span] | None:  # type: ignore[no-untyped-def]
    """The reviewer's sentence the decision on ``item`` turns on.

    Among the labelled reasons, the first about the patient's records, else the first;
    without labelled reasons, the last rationale sentence about the patient's own records rather than
    the guideline, and failing that the last sentence that is not the closing formula.
    """
    if item.reasons:
        # Of the labelled sentences, one about this patient's records before the rule.
        reasons = [(r.quote, Span(start=r.start, end=r.end)) for r in item.reasons]
        own = [x for x in reasons if _FINDING.search(x[0]) and not _RULE.search(x[0])]
        return (own or reasons)[0]
    span = item.spans.get("rationale")
    if span is None:
        return None
    sents = sentence_spans(nt or normalize(letter.text), span)
    if not sents:
        return None
    about_patient = [x for x in sents if _FINDING.search(x[0]) and not _RULE.search(x[0])]
    if about_patient:
        return about_patient[-1]
    not_formula = [x for x in sents if not _CONCLUSION.search(x[0])]
    return (not_formula or sents)[-1]
