"""Chat: follow-up questions inherit the previous question's filters.

"and Soma?" keeps the decision and question kind of the last question and swaps
the treatment; "which of those were overturned?" keeps the treatment and adds a
decision. A question that names its own treatment and decision starts afresh.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from imr_assist.answer.service import Assistant
from imr_assist.models import Answer
from imr_assist.retrieve.hybrid import resolve_doc_refs
from imr_assist.retrieve.query import QueryFilters, parse_question, question_kind
from imr_assist.settings import Settings

_FOLLOW_UP = re.compile(
    r"^\s*(?:and|what\s+about|how\s+about|same\s+for|and\s+for)\b|\b(?:those|them|these|that\s+one)\b",
    re.IGNORECASE,
)


class ChatSession:
    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.assistant = assistant or Assistant(settings)
        self.filters: QueryFilters | None = None
        self.last_question: str | None = None
        self.last_kind: str | None = None

    def reset(self) -> None:
        self.filters = None
        self.last_question = None
        self.last_kind = None

    def filters_dict(self) -> dict[str, object]:
        return self.filters.as_dict() if self.filters else {}

    def resolve(self, question: str) -> tuple[str, QueryFilters]:
        """The question to run (with the inherited kind) and its merged filters."""
        new = parse_question(question)
        prev = self.filters
        if prev is None or not _FOLLOW_UP.search(question):
            return question, new
        if new.has_treatment and new.decision:
            return question, new  # names its own treatment and decision: a fresh question
        resolve_doc_refs(self.assistant.index, question, new)  # "what about letter 004?"
        merged = replace(prev)
        if new.has_treatment:
            merged = replace(
                merged,
                canonicals=new.canonicals,
                generics=new.generics,
                classes=new.classes,
                names_without_generic=new.names_without_generic,
            )
        if new.decision:
            merged = replace(merged, decision=new.decision)
        if new.doc_ids or new.case_number or new.names_letter or new.letter_refs_unmatched:
            # A follow-up that names letters replaces the letters of the last question.
            merged = replace(
                merged,
                doc_ids=new.doc_ids,
                case_number=new.case_number,
                specialty=new.specialty,
                patient_ages=new.patient_ages,
                patient_sex=new.patient_sex,
                injury_date=new.injury_date,
                letter_refs_unmatched=new.letter_refs_unmatched,
            )
        if new.guideline:
            merged = replace(merged, guideline=new.guideline)
        kind = question_kind(question)
        effective = question
        if kind == "general" and self.last_question:
            # "and Soma?" asks the last question again about Soma.
            effective = f"{self.last_question} ({question})"
        return effective, merged

    def ask(self, question: str, on_delta: Callable[[str], None] | None = None) -> Answer:
        # One snapshot for reading the question (its letter references) and answering
        # it; letters ingested or changed since the last question are seen here.
        with self.assistant.snapshot():
            effective, filters = self.resolve(question)
            answer, _ = self.assistant.ask(effective, filters=filters, on_delta=on_delta)
        answer = answer.model_copy(update={"question": question})
        self.filters = filters
        if effective == question:
            # Keep the question that "and Soma?" repeats, so follow-ups do not pile up.
            self.last_question = question
        return answer
