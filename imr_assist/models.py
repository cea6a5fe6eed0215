"""Typed records that cross stage boundaries: letters, items, chunks, citations, answers.

Grounding convention: every string a record takes from a letter has an entry in the
record's ``spans`` map, ``field -> Span`` (list fields use ``field.0``, ``field.1``...).
``imr_assist.text.clean(letter_text[span.start:span.end])`` equals the field's value
(dates: the span covers the date as written; the value is its ISO form).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from imr_assist.constants import Decision


class Span(BaseModel):
    """Half-open character range ``[start, end)`` in the original letter text."""

    model_config = ConfigDict(frozen=True)

    start: int
    end: int


class Reason(BaseModel):
    """One reason category, backed by the rationale sentence that signals it."""

    category: str = Field(description="Reason category name from constants.REASON_LABELS")
    quote: str = Field(description="The supporting sentence, whitespace-normalised")
    start: int
    end: int


class ParseWarning(BaseModel):
    """Something in a letter that could not be read; the rest of the letter still was.

    ``item_index`` names the item it concerns (None: the letter as a whole);
    ``span`` is where in the original text the unread part lies.
    """

    code: str = Field(description="Stable short name, e.g. 'item_without_decision'")
    message: str = Field(description="One line for the user")
    item_index: int | None = None
    span: Span | None = None


class Reviewer(BaseModel):
    licensure: list[str] = Field(default_factory=list, description="States of licensure")
    specialties: list[str] = Field(default_factory=list, description="Certifications/specialties")
    spans: dict[str, Span] = Field(default_factory=dict)


class Patient(BaseModel):
    age: int | None = None
    sex: str | None = Field(default=None, description="'female' or 'male'")
    spans: dict[str, Span] = Field(default_factory=dict)


class Item(BaseModel):
    """One disputed treatment and the reviewer's decision on it."""

    index: int = Field(description="0-based position in the letter")
    treatment: str = Field(description="As written in the decision line")
    name: str | None = Field(default=None, description="Drug or service name as written")
    canonical: str | None = Field(default=None, description="Lexicon's display name")
    generic: str | None = None
    drug_class: str | None = Field(default=None, description="Drug class or service category")
    kind: str | None = Field(default=None, description="'drug' or 'service'")
    strength: str | None = None
    quantity: int | None = None
    refills: int | None = None
    decision: Decision
    original_request: str | None = Field(
        default=None,
        description="Partial or modified certification: the request as first made",
    )
    authorized_portion: str | None = Field(
        default=None,
        description="Partial or modified certification: what the claims administrator "
        "authorized before IMR; the item (treatment) is the part IMR decided",
    )
    claims_administrator_guideline: str | None = None
    reviewer_guideline: str | None = None
    guidelines: list[str] = Field(
        default_factory=list, description="Guideline families the reviewer cited: MTUS, ACOEM, ODG"
    )
    pages: str | None = Field(default=None, description="Pages as cited, e.g. '74-95, 124'")
    rationale: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    span: Span = Field(description="The item's whole block")
    spans: dict[str, Span] = Field(default_factory=dict)

    @property
    def reason_categories(self) -> list[str]:
        return [r.category for r in self.reasons]

    @property
    def partial(self) -> bool:
        """Whether UR certified part of the request before IMR (or modified it)."""
        return self.original_request is not None


class Letter(BaseModel):
    """A parsed IMR determination letter."""

    doc_id: str
    source: str
    format: str
    sha256: str = Field(description="Hash of the letter text; the index keys on it")
    case_number: str | None = None
    date_assigned: str | None = None
    date_of_injury: str | None = None
    decision_date: str | None = None
    ur_denial_date: str | None = None
    priority: str | None = None
    application_received: str | None = None
    reviewer: Reviewer = Field(default_factory=Reviewer)
    patient: Patient = Field(default_factory=Patient)
    diagnoses: list[str] = Field(default_factory=list)
    summary: str | None = Field(default=None, description="The clinical case summary")
    items: list[Item] = Field(default_factory=list)
    warnings: list[ParseWarning] = Field(
        default_factory=list, description="What could not be read; the record is still whole"
    )
    spans: dict[str, Span] = Field(default_factory=dict)
    text: str = Field(default="", exclude=True, repr=False, description="Original text")

    def public_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Chunk(BaseModel):
    """A piece of a letter that is embedded and searched."""

    id: str
    doc_id: str
    text: str
    section: str = Field(description="'summary', 'item' or 'letter'")
    item_index: int | None = None
    start: int
    end: int
    metadata: dict[str, Any] = Field(default_factory=dict)


class Citation(BaseModel):
    """A verified verbatim quote from a letter."""

    n: int
    doc_id: str
    source: str
    treatment: str | None = None
    decision: str | None = None
    quote: str
    start: int
    end: int


class Answer(BaseModel):
    question: str
    answer: str
    answered: bool
    mode: str = Field(description="'extractive' or 'llm'")
    filters: dict[str, Any] = Field(default_factory=dict)
    plan: dict[str, Any] | None = Field(
        default=None, description="How the question was read (QueryPlan.as_dict())"
    )
    citations: list[Citation] = Field(default_factory=list)
    evidence: list[Citation] = Field(
        default_factory=list, description="Closest passages when the question is not answered"
    )
    notices: list[str] = Field(default_factory=list)
    usage: dict[str, int] | None = None
