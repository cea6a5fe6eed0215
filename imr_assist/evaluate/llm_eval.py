"""``eval --llm MODEL``: the LLM writer and the extractive writer on the same questions.

Both are ``Assistant.ask`` over the same index, once without the model and once with
it, so what is compared is what a user would see with and without the model. Per writer: answers right (the eval's own ``grade``), and for the LLM: how often
its answer was verified and shown, how often the extractive answer was shown instead
(a fallback, with the notice's reason), how often the model refused and whether a
refusal ever replaced a right extractive answer, latency and tokens.

This runs a real model through any OpenAI-compatible endpoint; it is a benchmark, not
a test (the tests use the local test server). A small model on a shared CPU can take
minutes a question, so the questions are asked round-robin by kind (a run stopped
early has asked some of every kind) and, with ``rows_out``, each question's row is
written as a JSON line the moment it is done.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from imr_assist.answer.citations import LetterTexts
from imr_assist.answer.llm import (
    LLM_COVERAGE_NOTICE,
    LLM_FIGURE_NOTICE,
    LLM_REFUSAL_NOTICE,
    LLMWriter,
)
from imr_assist.answer.service import Assistant
from imr_assist.constants import LLM_FALLBACK_NOTICE
from imr_assist.evaluate.corpus import Corpus
from imr_assist.evaluate.metrics import GoldTarget, grade, percentile
from imr_assist.evaluate.runner import ItemKeys, ProgressFn, _LetterSource, _observe, gold_targets
from imr_assist.index.catalog import Catalog
from imr_assist.index.index import Index
from imr_assist.index.ingest import ingest
from imr_assist.models import Answer, Letter
from imr_assist.settings import Settings


@dataclass
class LLMEvalReport:
    """Side-by-side figures and one row per question."""

    model: str
    endpoint: str
    corpus: dict[str, Any]
    metrics: dict[str, dict[str, float | int | None]]
    fallback_reasons: dict[str, int]
    questions: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "endpoint": self.endpoint,
            "corpus": self.corpus,
            "metrics": self.metrics,
            "fallback_reasons": self.fallback_reasons,
            "seconds": round(self.seconds, 1),
            "questions": self.questions,
        }


#: Rows of the side-by-side table: (metric, label).
ROWS: tuple[tuple[str, str], ...] = (
    ("answers_right", "answers right"),
    ("verified_rate", "LLM answer verified and shown"),
    ("fallback_rate", "fell back to extractive"),
    ("refusals", "model refusals"),
    ("refusals_accepted", "refusals shown (extractive found nothing)"),
    ("right_replaced_by_refusal", "right extractive answers replaced by a refusal"),
    ("latency_p50_s", "answer latency p50 (s)"),
    ("latency_p95_s", "answer latency p95 (s)"),
    ("prompt_tokens_mean", "prompt tokens per question"),
    ("completion_tokens_mean", "completion tokens per question"),
)


def _reason(answer: Answer) -> str | None:
    """Why the extractive answer was shown instead of the model's, from its notice."""
    for notice in answer.notices:
        if notice.startswith(LLM_REFUSAL_NOTICE):
            return "refusal"
        if notice.startswith(LLM_COVERAGE_NOTICE):
            return "covered fewer items or reasons"
        if notice.startswith(LLM_FIGURE_NOTICE):
            return "did not state the figure asked for"
        if notice.startswith(LLM_FALLBACK_NOTICE):
            detail = notice[len(LLM_FALLBACK_NOTICE) :].strip(" ()")
            for key in (
                "timed out",
                "not backed",
                "does not exist",
                "says ",
                "quotes words",
                "no excerpt number",
                "not in English",
                "empty reply",
                "malformed",
            ):
                if key in detail:
                    return key.strip()
            return detail[:60] or "unverified"
    return None


def evaluate_llm(
    corpus: Corpus,
    settings: Settings,
    model: str,
    *,
    progress: ProgressFn | None = None,
    rows_out: Path | None = None,
) -> LLMEvalReport:
    """Ask every corpus question with both writers; see the module docstring.

    The report's rows are in the corpus's order whatever order they were asked in.
    """
    t0 = time.perf_counter()
    notify = progress or (lambda stage, done, total: None)
    with tempfile.TemporaryDirectory(prefix="imr-eval-llm-") as tmp:
        s = settings.model_copy(
            update={
                "index_dir": Path(tmp),
                "chroma_url": None,
                "llm_model": model,
                "llm_enabled": False,
            }
        )
        index = Index.open(s, create=True)
        writer: LLMWriter | None = None
        try:
            paths = [str(f.path) for f in corpus.letters]
            ingest(paths, s, index=index, progress=lambda d, t, _: notify("ingest", d, t))
            plain = Assistant(s, index=index)
            with_llm = Assistant(s.model_copy(update={"llm_enabled": True}), index=index)
            writer = with_llm.llm_writer()
            keys = ItemKeys(corpus, index.catalog)
            texts = LetterTexts(cast(Catalog, _LetterSource(keys.files, index.catalog)))
            predicted: dict[str, Letter | None] = {}
            for doc_id in corpus.gold:
                f = keys.gold_file.get(doc_id)
                owner = index.catalog.sha_owner(f.sha256) if f else None
                predicted[doc_id] = index.catalog.letter(owner or doc_id)
            targets = gold_targets(corpus, keys, predicted)
            by_doc: dict[str, list[GoldTarget]] = {}
            for t in targets.values():
                by_doc.setdefault(t.doc_id, []).append(t)

            def key_of(doc_id: str) -> str:
                return keys.of(index.catalog.doc_sha(doc_id), doc_id)

            rows: list[dict[str, Any]] = []
            total = len(corpus.questions)
            stream = rows_out.open("w", encoding="utf-8") if rows_out is not None else None
            order = {q.id: i for i, q in enumerate(corpus.questions)}
            for n, q in enumerate(round_robin(corpus.questions), 1):
                ta = time.perf_counter()
                ex, _ = plain.ask(q.question)
                tb = time.perf_counter()
                llm, _ = with_llm.ask(q.question)
                tc = time.perf_counter()
                g_ex = grade(q, _observe(ex, key_of, texts, by_doc))
                g_llm = grade(q, _observe(llm, key_of, texts, by_doc))
                asked = llm.usage is not None or any(
                    x.startswith((LLM_FALLBACK_NOTICE, LLM_REFUSAL_NOTICE)) for x in llm.notices
                )
                refused = (llm.mode == "llm" and not llm.answered) or any(
                    x.startswith(LLM_REFUSAL_NOTICE) for x in llm.notices
                )
                rows.append(
                    {
                        "id": q.id,
                        "question": q.question,
                        "kind": q.kind,
                        "extractive": {"correct": g_ex.correct, "answered": ex.answered},
                        "llm": {
                            "correct": g_llm.correct,
                            "asked": asked,
                            "shown": llm.mode == "llm",
                            "answered": llm.answered,
                            "refused": refused,
                            "fallback": _reason(llm),
                            "answer": llm.answer if llm.mode == "llm" else None,
                            "notices": llm.notices,
                            "usage": llm.usage,
                            "seconds": round(tc - tb, 3),
                        },
                        "extractive_seconds": round(tb - ta, 4),
                    }
                )
                if stream is not None:
                    stream.write(json.dumps(rows[-1], ensure_ascii=False) + "\n")
                    stream.flush()
                notify("questions", n, total)
            if stream is not None:
                stream.close()
            rows.sort(key=lambda r: order[r["id"]])
            endpoint = writer.client.endpoint
        finally:
            if writer is not None:
                writer.client.close()
            index.close()
    return report_from_rows(
        rows,
        model=model,
        endpoint=endpoint,
        corpus=corpus.describe(),
        seconds=time.perf_counter() - t0,
    )


def report_from_rows(
    rows: list[dict[str, Any]],
    *,
    model: str,
    endpoint: str,
    corpus: dict[str, Any],
    seconds: float,
) -> LLMEvalReport:
    """The report over these question rows: a whole run's, or the rows a run stopped
    early had written to ``rows_out`` (both writers are then scored on those questions
    only, and ``corpus["questions_asked"]`` says how many of the corpus's they are)."""
    total = corpus.get("questions")
    described = {**corpus}
    if isinstance(total, int) and total != len(rows):
        described["questions_asked"] = len(rows)
    return LLMEvalReport(
        model=model,
        endpoint=endpoint,
        corpus=described,
        metrics=_metrics(rows),
        fallback_reasons=dict(
            Counter(r["llm"]["fallback"] for r in rows if r["llm"]["fallback"]).most_common()
        ),
        questions=rows,
        seconds=seconds,
    )


def round_robin(questions: list[Any]) -> list[Any]:
    """The questions one of each kind at a time, kinds in order of first appearance."""
    by_kind: dict[str, list[Any]] = {}
    for q in questions:
        by_kind.setdefault(q.kind, []).append(q)
    out: list[Any] = []
    while any(by_kind.values()):
        for queue in by_kind.values():
            if queue:
                out.append(queue.pop(0))
    return out


def _metrics(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | int | None]]:
    n = len(rows) or 1
    asked = [r for r in rows if r["llm"]["asked"]]
    n_asked = len(asked) or 1
    lat = [r["llm"]["seconds"] for r in asked]
    usage = [r["llm"]["usage"] or {} for r in asked]

    def mean_tokens(name: str) -> float | None:
        return round(sum(u.get(name, 0) for u in usage) / len(usage), 1) if usage else None

    llm: dict[str, float | int | None] = {
        "questions": len(rows),
        "asked": len(asked),
        "answers_right": round(sum(r["llm"]["correct"] for r in rows) / n, 3),
        "verified_rate": round(sum(r["llm"]["shown"] for r in asked) / n_asked, 3),
        "fallback_rate": round(sum(not r["llm"]["shown"] for r in asked) / n_asked, 3),
        "refusals": sum(r["llm"]["refused"] for r in rows),
        "refusals_accepted": sum(r["llm"]["refused"] and r["llm"]["shown"] for r in rows),
        "right_replaced_by_refusal": sum(
            r["extractive"]["correct"]
            and r["extractive"]["answered"]
            and r["llm"]["shown"]
            and not r["llm"]["answered"]
            for r in rows
        ),
        "latency_p50_s": _round(percentile(lat, 50)),
        "latency_p95_s": _round(percentile(lat, 95)),
        "prompt_tokens_mean": mean_tokens("prompt_tokens"),
        "completion_tokens_mean": mean_tokens("completion_tokens"),
        "prompt_tokens_total": sum(u.get("prompt_tokens", 0) for u in usage),
        "completion_tokens_total": sum(u.get("completion_tokens", 0) for u in usage),
    }
    ex_lat = [r["extractive_seconds"] for r in rows]
    extractive: dict[str, float | int | None] = {
        "questions": len(rows),
        "answers_right": round(sum(r["extractive"]["correct"] for r in rows) / n, 3),
        "latency_p50_s": _round(percentile(ex_lat, 50)),
        "latency_p95_s": _round(percentile(ex_lat, 95)),
    }
    return {"llm": llm, "extractive": extractive}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def to_markdown(report: LLMEvalReport) -> str:
    """The side-by-side table, and why the LLM's answers were not shown."""
    c = report.corpus
    lines = [
        f"# LLM eval: {report.model}",
        "",
        f"Endpoint {report.endpoint}; corpus {c.get('name')}: {c.get('letters')} letters, "
        f"{len(report.questions)} questions"
        + (f" of {c['questions']}" if "questions_asked" in c else "")
        + f"; {report.seconds:.0f} s.",
        "",
        "| metric | LLM | extractive |",
        "|---|---:|---:|",
    ]
    for key, label in ROWS:
        a = report.metrics["llm"].get(key)
        b = report.metrics["extractive"].get(key)
        lines.append(f"| {label} | {_fmt(a)} | {_fmt(b)} |")
    if report.fallback_reasons:
        lines += ["", "Why the extractive answer was shown instead:", ""]
        lines += [f"- {reason}: {count}" for reason, count in report.fallback_reasons.items()]
    return "\n".join(lines) + "\n"


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)
