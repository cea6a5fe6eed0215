"""Fixed phrases and labels shared by the code, the prompts and the tests."""

from __future__ import annotations

from typing import Final, Literal

UPHELD: Final = "upheld"
OVERTURNED: Final = "overturned"
Decision = Literal["upheld", "overturned"]
DECISIONS: Final[tuple[str, ...]] = (UPHELD, OVERTURNED)

#: The one sentence shown when the indexed letters do not answer a question.
CANNOT_ANSWER: Final = "The indexed letters do not answer this question."

#: Shown under an LLM answer that failed verification and was replaced.
LLM_FALLBACK_NOTICE: Final = (
    "The language model's answer could not be verified against the letters; "
    "showing the extractive answer instead."
)

# Reason categories (see DOMAIN.md). The label is what users read.
UPHELD_REASONS: Final[dict[str, str]] = {
    "no_functional_improvement": "No documented functional improvement or pain relief",
    "no_aberrant_behavior_monitoring": "No aberrant-behaviour monitoring (UDS, CURES, agreement)",
    "exceeds_med_ceiling": "Morphine equivalent dose above the 120 MED ceiling",
    "long_term_use_not_recommended": "Long-term use not recommended",
    "not_first_line": "Not a first-line treatment",
    "lowest_dose_shortest_period": "Not the lowest dose for the shortest period",
    "worsening_or_no_efficacy": "Pain worse or no benefit on the treatment",
    "no_documented_indication": "No documented indication",
    "exceeds_guideline_quantity": "Quantity exceeds what the guideline allows",
    "not_a_weaning_request": "Not a weaning request; IMR cannot modify it to a taper",
    "insufficient_documentation": "Records missing or silent",
}
OVERTURNED_REASONS: Final[dict[str, str]] = {
    "documented_improvement": "Documented improvement in pain and function",
    "guideline_criteria_met": "Guideline criteria met",
    "neuropathic_indication": "Indicated for neuropathic pain",
}
REASON_LABELS: Final[dict[str, str]] = {**UPHELD_REASONS, **OVERTURNED_REASONS}

# Letter formats the parser knows.
FORMAT_STANDARD: Final = "standard"  # sample letters' sections
FORMAT_COVER: Final = "standard_cover"  # the same with a case cover block
FORMAT_2013: Final = "notice_2013"  # numbered "has determined the request for" sentences
FORMAT_PROFESSIONAL: Final = "professional_review"  # ISSUE AT DISPUTE layout

COLLECTION_NAME: Final = "imr_chunks"
