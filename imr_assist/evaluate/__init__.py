"""Stage 5: evaluation. Score extraction, retrieval, answers and citations against gold.

::

    from imr_assist.evaluate import evaluate, sample_corpus

    report = evaluate(sample_corpus())
    report.value("answers.correct"), report.value("answers.correct", "naive")

``evaluate`` runs imr-assist and a naive baseline (``NaivePipeline``) over the same
letters and questions and returns an ``EvalReport`` with the same metrics for both.
"""

from __future__ import annotations

from imr_assist.evaluate.corpus import (
    Corpus,
    CorpusError,
    EvalQuestion,
    ItemRef,
    load_corpus,
    sample_corpus,
)
from imr_assist.evaluate.naive import NaivePipeline
from imr_assist.evaluate.report import METRICS, EvalReport, check_gates, parse_gate
from imr_assist.evaluate.runner import evaluate

__all__ = [
    "METRICS",
    "Corpus",
    "CorpusError",
    "EvalQuestion",
    "EvalReport",
    "ItemRef",
    "NaivePipeline",
    "check_gates",
    "evaluate",
    "load_corpus",
    "parse_gate",
    "sample_corpus",
]
