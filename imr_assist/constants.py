"""Fixed phrases and labels shared by the code, the prompts and the tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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


# Reason categories (see DOMAIN.md): name -> the label users read, per decision, in the
# order of ``imr_assist/data/reasons.toml``, where each category and its rules live. The
# file is read on first use, not at import.
class _ReasonLabels(Mapping[str, str]):
    def __init__(self, *decisions: str) -> None:
        self._decisions = decisions

    @property
    def _labels(self) -> Mapping[str, str]:
        from imr_assist.parse.reasons import categories

        return categories(*self._decisions)

    def __getitem__(self, key: str) -> str:
        return self._labels[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def __repr__(self) -> str:
        return repr(self._labels)


UPHELD_REASONS: Final[Mapping[str, str]] = _ReasonLabels(UPHELD)
OVERTURNED_REASONS: Final[Mapping[str, str]] = _ReasonLabels(OVERTURNED)
REASON_LABELS: Final[Mapping[str, str]] = _ReasonLabels(UPHELD, OVERTURNED)

# Letter formats the parser knows.
FORMAT_STANDARD: Final = "standard"  # sample letters' sections
FORMAT_COVER: Final = "standard_cover"  # the same with a case cover block
FORMAT_2013: Final = "notice_2013"  # numbered "has determined the request for" sentences
FORMAT_PROFESSIONAL: Final = "professional_review"  # ISSUE AT DISPUTE layout

COLLECTION_NAME: Final = "imr_chunks"


def reason_label_in_text(category: str) -> str:
    """A reason's label inside a sentence: its first letter lower case, its acronyms kept
    ("no aberrant-behaviour monitoring (UDS, CURES, agreement)")."""
    label = REASON_LABELS[category]
    return label[:1].lower() + label[1:]
