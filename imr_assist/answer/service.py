"""``ask``: search, then write the answer (extractive, or LLM with verification)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from imr_assist.answer.citations import LetterTexts
from imr_assist.answer.extractive import ExtractiveWriter
from imr_assist.answer.planned import PlanRunner
from imr_assist.gcpause import paused_gc
from imr_assist.index.index import Index
from imr_assist.models import Answer
from imr_assist.retrieve.hybrid import SearchResult, search
from imr_assist.retrieve.plan import QueryPlan, read_question
from imr_assist.retrieve.query import QueryFilters, parse_question, question_kind
from imr_assist.settings import Settings

if TYPE_CHECKING:  # the LLM writer and its openai client load only when an LLM answers
    from imr_assist.answer.llm import LLMWriter


class Assistant:
    """Answers questions over one index; holds the expensive parts between questions."""

    def __init__(self, settings: Settings, index: Index | None = None) -> None:
        self.settings = settings
        self.index = index or Index.open(settings)
        self.texts = LetterTexts(self.index.catalog)
        self.extractive = ExtractiveWriter(self.texts)
        self.planner = PlanRunner(self.index, self.texts, self.extractive)
        self._llm: LLMWriter | None = None
        self._loaded_state: tuple[int, str | None] | None = None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read of the index for one answer, current as of its start.

        Between questions (an ``Assistant`` or ``chat`` kept open while ``ingest``
        runs elsewhere) the catalog's generation and the lexical index are checked;
        if either changed, the loaded vector client and lexical index are dropped so
        new and changed letters are found. Inside, every catalog read shares one
        SQLite read transaction; search keeps only chunks that transaction holds, so
        counts, listed items, decisions and quotes all come from the same state.
        Nested calls share the outer snapshot.
        """
        catalog = self.index.catalog
        if catalog.db.in_transaction:
            yield
            return
        with catalog.snapshot():
            state = self.index.reader_state()
            if state != self._loaded_state:
                self.index.forget_loaded()
                self._loaded_state = state
            yield

    def llm_writer(self) -> LLMWriter:
        if self._llm is None:
            from imr_assist.answer.llm import LLMWriter
            from imr_assist.answer.llm_client import client_from_settings

            client = client_from_settings(self.settings)
            self._llm = LLMWriter(
                client,
                self.texts,
                evidence_tokens=self.settings.llm_evidence_tokens,
                max_tokens=self.settings.llm_max_tokens,
            )
        return self._llm

    def search(self, question: str, filters: QueryFilters | None = None) -> SearchResult:
        with self.snapshot():
            return search(self.index, question, k=self.settings.k, filters=filters)

    def ask(
        self,
        question: str,
        filters: QueryFilters | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> tuple[Answer, SearchResult]:
        with self.snapshot(), paused_gc():
            return self._ask(question, filters, on_delta)

    def _ask(
        self,
        question: str,
        filters: QueryFilters | None,
        on_delta: Callable[[str], None] | None,
    ) -> tuple[Answer, SearchResult]:
        if filters is not None:  # a caller's own filters (chat): no plan to read
            result = search(self.index, question, k=self.settings.k, filters=filters, lazy=True)
            return self.answer(result, on_delta=on_delta), result
        plan, notice = self.read(question)
        answer, result = self.ask_plan(plan, on_delta)
        if notice:
            answer.notices = [notice, *answer.notices]
        return answer, result

    def read(self, question: str) -> tuple[QueryPlan, str | None]:
        """The question's plan: the rule reader's, or with ``llm.read_plans`` the model's
        when it passes every check (``retrieve.llm_plan``), and a notice saying which."""
        if not (self.settings.use_llm and self.settings.llm_read_plans):
            return read_question(question), None
        from imr_assist.retrieve.llm_plan import read_with_llm

        return read_with_llm(question, self.llm_writer().client)

    def ask_plan(
        self, plan: QueryPlan, on_delta: Callable[[str], None] | None = None
    ) -> tuple[Answer, SearchResult]:
        """Answer a plan (``read_question``'s, or one chat edited from the last)."""
        with self.snapshot(), paused_gc():
            # Hits are ranked only if the answer reads them: a count, a list or a
            # letter's facts come from the catalog alone, with no model or vector store.
            k = self.settings.k
            result = search(
                self.index,
                plan.corrected,
                k=k,
                filters=replace(plan.filters),
                lazy=True,
                items=not self.planner.counted_in_sql(plan),
                names=self.planner.name_filter(plan),
            )
            result.question = plan.question
            answer = self.planner.answer(plan, result)
            if self.settings.use_llm and answer.answered:
                kind = (
                    plan.kind
                    if plan.kind in ("why", "count", "share", "list", "decision")
                    else "general"
                )
                answer = self.llm_writer().write(result, answer, on_delta=on_delta, kind=kind)
        return answer, result

    def plan(self, question: str) -> QueryPlan:
        """How ``ask`` reads ``question`` (``ask --json`` shows it as ``plan``)."""
        return self.read(question)[0]

    def answer(
        self,
        result: SearchResult,
        kind: str | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> Answer:
        """Write the answer for a search result: extractive, then the LLM if configured."""
        kind = kind or question_kind(result.question)
        with self.snapshot():
            answer = self.extractive.write(result, kind)
            if self.settings.use_llm:
                answer = self.llm_writer().write(result, answer, on_delta=on_delta, kind=kind)
        return answer


def ask(question: str, settings: Settings | None = None) -> Answer:
    """One-shot question over the index named by ``settings``."""
    assistant = Assistant(settings or Settings.load())
    return assistant.ask(question)[0]


__all__ = ["Assistant", "ask", "parse_question"]
