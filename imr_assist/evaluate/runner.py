"""Run both pipelines over a corpus and score them with the same metrics.

imr-assist: the project's own ingest into an index (a fresh temporary one unless a
folder is given), hybrid search, and the extractive answer writer, as ``Assistant.ask``
runs them. The naive baseline: ``NaivePipeline`` in its own temporary Chroma store.
Both are then reduced to the same observable things (retrieved spans; answer text,
citations and answered flag) before any metric sees them.

Letters, gold records and pipeline outputs are tied together by the sha256 of the
letter text, then by doc_id: a pipeline may name a letter differently (the naive
baseline uses the file name, the parser a case number) and still be scored on it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from imr_assist.answer.citations import LetterTexts, verify
from imr_assist.answer.service import Assistant
from imr_assist.evaluate.corpus import Corpus, EvalQuestion, LetterFile
from imr_assist.evaluate.judge import CitationJudge, Verdict, supported_share
from imr_assist.evaluate.metrics import (
    AnswerObs,
    CitationObs,
    GoldTarget,
    Passage,
    grade,
    match_items,
    score_answers,
    score_citations,
    score_extraction,
    score_latency,
    score_ranking,
    score_retrieval,
)
from imr_assist.evaluate.naive import NaivePipeline
from imr_assist.evaluate.report import METRICS, EvalReport, flatten
from imr_assist.index.catalog import Catalog
from imr_assist.index.index import Index
from imr_assist.index.ingest import ingest
from imr_assist.models import Answer, Item, Letter, Span
from imr_assist.retrieve.hybrid import search
from imr_assist.retrieve.plan import read_question
from imr_assist.settings import Settings

#: Passages retrieved per question for the retrieval metrics (recall@10, MRR@10).
RETRIEVAL_DEPTH = 10

ProgressFn = Callable[[str, int, int], None]  # (stage, done, total)


class _LetterSource:
    """Letter texts by evaluation key, for ``LetterTexts``: the corpus files first, then
    the index catalog (a reused index may hold letters outside the corpus)."""

    def __init__(self, files: dict[str, LetterFile], catalog: Catalog) -> None:
        self.files = files
        self.catalog = catalog
        self._letters: dict[str, Letter] = {}

    def letter(self, key: str) -> Letter | None:
        if key not in self._letters:
            f = self.files.get(key)
            if f is None:
                return self.catalog.letter(key)
            self._letters[key] = Letter(
                doc_id=key, source=f.display, format="text", sha256=f.sha256, text=f.text
            )
        return self._letters[key]


class ItemKeys:
    """One key per corpus letter (its gold doc_id, else its file stem), reached by sha256."""

    def __init__(self, corpus: Corpus, catalog: Catalog) -> None:
        self.by_sha: dict[str, str] = {}
        self.files: dict[str, LetterFile] = {}
        self.gold_file: dict[str, LetterFile] = {}
        by_sha = {f.sha256: f for f in corpus.letters}
        by_stem = {f.stem: f for f in corpus.letters}
        for doc_id, g in corpus.gold.items():
            f = by_sha.get(g.sha256) or by_stem.get(doc_id)
            if f is None and (indexed := catalog.letter(doc_id)) is not None:
                f = by_sha.get(indexed.sha256)
            if f is not None and f.sha256 not in self.by_sha:
                self.by_sha[f.sha256] = doc_id
                self.files[doc_id] = f
                self.gold_file[doc_id] = f
        for f in corpus.letters:
            if f.sha256 not in self.by_sha:
                key = f.stem if f.stem not in self.files else f"{f.stem}~{f.sha256[:8]}"
                self.by_sha[f.sha256] = key
                self.files[key] = f

    def of(self, sha: str | None, fallback: str) -> str:
        return self.by_sha.get(sha or "", fallback)


@dataclass
class _Run:
    """One pipeline's output for one question, with its stage timings (seconds)."""

    answer: Answer
    passages: list[Passage]
    retrieve_s: float
    answer_s: float


@dataclass
class _Tally:
    """What one pipeline did over all questions, ready to score."""

    answers: list[tuple[EvalQuestion, AnswerObs]] = field(default_factory=list)
    rankings: list[tuple[list[Passage], list[GoldTarget]]] = field(default_factory=list)
    retrieve: list[float] = field(default_factory=list)
    answer: list[float] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    def add(self, q: EvalQuestion, obs: AnswerObs, run: _Run, targets: list[GoldTarget]) -> None:
        self.answers.append((q, obs))
        if q.answerable and targets:
            self.rankings.append((run.passages, targets))
        self.retrieve.append(run.retrieve_s)
        self.answer.append(run.answer_s)

    def score(self, flat: dict[str, Any], support: dict[str, int], *, judged: bool) -> None:
        retrieval, n_ranked = score_retrieval(self.rankings)
        flat.update(flatten(retrieval, "retrieval."))
        support.update({f"retrieval.{m}": n_ranked for m in retrieval})
        answers, a_support = score_answers(self.answers)
        flat.update(flatten(answers, "answers."))
        support.update(a_support)
        cites, c_support = score_citations(self.answers)
        flat.update(flatten(cites, "citations."))
        support.update(c_support)
        if judged:
            flat["citations.supported"] = supported_share(self.verdicts)
            support["citations.supported"] = len(self.verdicts)
        latency = score_latency({"retrieve": self.retrieve, "answer": self.answer})
        flat.update(flatten(latency, "latency."))
        support.update({f"latency.{m}": len(self.retrieve) for m in latency})


def _item_spans(item: Item) -> tuple[Span, ...]:
    spans = [item.span, *item.spans.values()]
    return tuple(s for s in spans if s.end > s.start)


def gold_targets(
    corpus: Corpus, keys: ItemKeys, predicted: dict[str, Letter | None]
) -> dict[tuple[str, int], GoldTarget]:
    """Every gold item as a retrieval/citation target, grounded in the letter text."""
    out = {}
    for doc_id, g in corpus.gold.items():
        pred = predicted.get(doc_id)
        f = keys.gold_file.get(doc_id)
        same_text = f is not None and f.sha256 == g.sha256
        for gi, pi in match_items(g, pred):
            spans = _item_spans(gi) if same_text else ()
            if not spans and pi is not None:
                spans = _item_spans(pi)
            out[(doc_id, gi.index)] = GoldTarget(
                doc_id, gi.index, spans, pi.index if pi is not None else None
            )
    return out


def _observe(
    answer: Answer,
    key_of: Callable[[str], str],
    texts: LetterTexts,
    targets_by_doc: dict[str, list[GoldTarget]],
) -> AnswerObs:
    cits = []
    for c in answer.citations:
        key = key_of(c.doc_id)
        checked = verify(texts, c.model_copy(update={"doc_id": key}))
        start, end = (checked.start, checked.end) if checked else (c.start, c.end)
        item = next(
            (t.key for t in targets_by_doc.get(key, []) if t.contains(key, start, end)), None
        )
        cits.append(CitationObs(c.n, key, start, end, c.quote, checked is not None, item))
    return AnswerObs(answer.answer, answer.answered, cits)


def _run_detail(
    q: EvalQuestion, run: _Run, obs: AnswerObs, targets: list[GoldTarget]
) -> dict[str, Any]:
    g = grade(q, obs)
    r = score_ranking(run.passages, targets) if targets else None
    return {
        **g.as_dict(),
        "answered": run.answer.answered,
        "answer": run.answer.answer,
        "citations": len(obs.citations),
        "valid_citations": len(obs.valid_citations),
        "retrieval": None
        if r is None
        else {"recall@5": r.recall_at_5, "recall@10": r.recall_at_10, "first_rank": r.first_rank},
        "retrieved": [[p.doc_id, p.start, p.end, p.item_index] for p in run.passages],
        "retrieve_ms": round(run.retrieve_s * 1000, 3),
        "answer_ms": round(run.answer_s * 1000, 3),
    }


def evaluate(
    corpus: Corpus,
    settings: Settings | None = None,
    *,
    index_dir: Path | None = None,
    pad_to: int | None = None,
    judge: CitationJudge | None = None,
    progress: ProgressFn | None = None,
) -> EvalReport:
    """Score imr-assist and the naive baseline on ``corpus``; see the module docstring.

    ``index_dir`` reuses (and updates) an index folder instead of a temporary one.
    ``settings`` supplies the embedder and the passages per answer (``k``); answers
    are always extractive. ``judge`` adds the LLM citation-support score.
    """
    t0 = time.perf_counter()
    base = settings or Settings.load()
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if index_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="imr-eval-")
        s = base.model_copy(
            update={"index_dir": Path(tmp.name), "chroma_url": None, "llm_enabled": False}
        )
    else:
        s = base.model_copy(update={"index_dir": index_dir, "llm_enabled": False})
    notify = progress or (lambda stage, done, total: None)
    naive: NaivePipeline | None = None
    index: Index | None = None
    try:
        index = Index.open(s, create=True)
        paths = [str(f.path) for f in corpus.letters]
        ing = ingest(paths, s, index=index, progress=lambda d, t, _: notify("ingest", d, t))
        notices = list(corpus.notices)
        notices += [f"not indexed: {e}" for e in ing.failures]
        assistant = Assistant(s, index=index)
        keys = ItemKeys(corpus, index.catalog)
        texts = LetterTexts(cast(Catalog, _LetterSource(keys.files, index.catalog)))

        # Extraction: the records the index holds for the corpus letters.
        predicted: dict[str, Letter | None] = {}
        for doc_id in corpus.gold:
            f = keys.gold_file.get(doc_id)
            owner = index.catalog.sha_owner(f.sha256) if f else None
            predicted[doc_id] = index.catalog.letter(owner or doc_id)
            if f is None:
                notices.append(f"gold record {doc_id} has no letter file in the corpus")
        extraction = score_extraction([(g, predicted[d]) for d, g in corpus.gold.items()])
        targets = gold_targets(corpus, keys, predicted)
        by_doc: dict[str, list[GoldTarget]] = {}
        for t in targets.values():
            by_doc.setdefault(t.doc_id, []).append(t)

        notify("baseline", 0, 1)
        naive = NaivePipeline(pad_to=pad_to)
        naive_ing = naive.ingest(paths)
        notify("baseline", 1, 1)

        def imr_key(doc_id: str) -> str:
            return keys.of(index.catalog.doc_sha(doc_id) if index else None, doc_id)

        def naive_key(doc_id: str) -> str:
            return keys.of(naive.doc_sha(doc_id) if naive else None, doc_id)

        def run_imr(question: str) -> _Run:
            # Assistant.ask in two timed stages (the question read into its plan, then
            # searched, then answered by the plan runner); the search
            # goes RETRIEVAL_DEPTH deep and the writer sees the first k hits, as ask does.
            ta = time.perf_counter()
            plan = read_question(question)
            result = search(
                index, plan.corrected, k=max(RETRIEVAL_DEPTH, s.k), filters=plan.filters
            )
            result.question = question
            tb = time.perf_counter()
            answer = assistant.planner.answer(plan, replace(result, hits=result.hits[: s.k]))
            tc = time.perf_counter()
            passages = [
                Passage(imr_key(h.chunk.doc_id), h.chunk.start, h.chunk.end, h.chunk.item_index)
                for h in result.hits[:RETRIEVAL_DEPTH]
            ]
            return _Run(answer, passages, tb - ta, tc - tb)

        def run_naive(question: str) -> _Run:
            assert naive is not None
            ta = time.perf_counter()
            hits = naive.search(question, RETRIEVAL_DEPTH)
            tb = time.perf_counter()
            answer = naive.compose(question, hits[: naive.top_k])
            tc = time.perf_counter()
            passages = [Passage(naive_key(h.doc_id), h.start, h.end) for h in hits]
            return _Run(answer, passages, tb - ta, tc - tb)

        pipelines = {
            "imr_assist": (run_imr, imr_key),
            "naive": (run_naive, naive_key),
        }
        tallies = {p: _Tally() for p in pipelines}
        details = []
        total = len(corpus.questions)
        for n, q in enumerate(corpus.questions, 1):
            q_targets = [targets[r.key] for r in q.items if r.key in targets]
            row: dict[str, Any] = {
                "id": q.id,
                "question": q.question,
                "kind": q.kind,
                "answerable": q.answerable,
                "gold": {
                    "items": [list(r.key) for r in q.items],
                    "decision": q.decision,
                    "count": q.count,
                    "share": q.share,
                    "reasons": q.reasons,
                },
            }
            for name, (run_fn, key_of) in pipelines.items():
                run = run_fn(q.question)
                obs = _observe(run.answer, key_of, texts, by_doc)
                row[name] = _run_detail(q, run, obs, q_targets)
                tallies[name].add(q, obs, run, q_targets)
                if judge is not None:
                    verdicts = judge.judge(obs)
                    tallies[name].verdicts += verdicts
                    row[name]["judge"] = [v.as_dict() for v in verdicts]
            details.append(row)
            notify("questions", n, total)

        metrics: dict[str, dict[str, float | None]] = {}
        support: dict[str, dict[str, int]] = {}
        for name, tally in tallies.items():
            flat: dict[str, Any] = dict.fromkeys(METRICS)
            sup: dict[str, int] = {}
            if name == "imr_assist":
                flat.update(flatten(extraction.metrics, "extraction."))
                sup.update(extraction.support)
            tally.score(flat, sup, judged=judge is not None)
            metrics[name] = {m: flat.get(m) for m in METRICS}
            support[name] = sup

        return EvalReport(
            corpus={
                **corpus.describe(),
                "indexed": ing.letters_indexed + ing.letters_unchanged,
                "index_failures": [
                    {"source": e.source, "problem": e.problem} for e in ing.failures
                ],
                "naive_chunks": naive_ing.chunks,
                "imr_chunks": index.catalog.chunk_count(),
            },
            settings={
                "index": str(index_dir) if index_dir else "temporary",
                "embedder": index.embedder.name,
                "k": s.k,
                "retrieval_depth": RETRIEVAL_DEPTH,
                "answer_mode": "extractive",
                "naive": naive.settings(),
                "judge": judge.model if judge else None,
            },
            metrics=metrics,
            support=support,
            questions=details,
            letters=extraction.letters,
            seconds=time.perf_counter() - t0,
            notices=notices,
        )
    finally:
        if naive is not None:
            naive.close()
        if index is not None:
            index.close()
        if tmp is not None:
            tmp.cleanup()
