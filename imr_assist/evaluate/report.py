"""The evaluation report: metric names, JSON and Markdown forms, comparisons and gates.

Metric names are dotted paths into a pipeline's block of the JSON report
(``pipelines.imr_assist.answers.correct`` is ``answers.correct``); the baseline's are
prefixed ``naive.``. Every metric is a share in [0, 1] where higher is better, except
the latencies (milliseconds, lower is better).
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imr_assist.errors import ConfigError
from imr_assist.evaluate.corpus import QUESTION_KINDS, CorpusError

PIPELINES = ("imr_assist", "naive")
PIPELINE_LABELS = {"imr_assist": "imr-assist", "naive": "naive"}
REPORT_VERSION = 1

METRICS: tuple[str, ...] = (
    "extraction.item_precision",
    "extraction.item_recall",
    "extraction.item_f1",
    "extraction.decision_accuracy",
    "extraction.field_accuracy",
    "extraction.fields.age",
    "extraction.fields.sex",
    "extraction.fields.dates",
    "extraction.fields.licensure",
    "extraction.fields.specialties",
    "extraction.fields.guidelines",
    "extraction.fields.pages",
    "extraction.reason_precision",
    "extraction.reason_recall",
    "retrieval.recall@5",
    "retrieval.recall@10",
    "retrieval.mrr@10",
    "answers.correct",
    "answers.decision",
    "answers.count",
    "answers.share",
    "answers.list_precision",
    "answers.list_recall",
    "answers.reason_precision",
    "answers.reason_recall",
    "answers.abstention_accuracy",
    "answers.answered_precision",
    *(f"answers.by_kind.{k}" for k in QUESTION_KINDS),
    "citations.validity",
    "citations.precision",
    "citations.recall",
    "citations.faithfulness",
    "citations.supported",
    "latency.retrieve_p50_ms",
    "latency.retrieve_p95_ms",
    "latency.answer_p50_ms",
    "latency.answer_p95_ms",
)


def lower_is_better(metric: str) -> bool:
    return metric.startswith("latency.")


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in flat.items():
        node = tree
        *parents, leaf = name.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return tree


def delta(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return a - b


@dataclass
class EvalReport:
    """Both pipelines' metrics on one corpus, with the per-question and per-letter detail."""

    corpus: dict[str, Any]
    settings: dict[str, Any]
    metrics: dict[str, dict[str, float | None]]  # pipeline -> metric name -> value
    support: dict[str, dict[str, int]]  # pipeline -> metric name -> how many it rests on
    questions: list[dict[str, Any]] = field(default_factory=list)
    letters: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    notices: list[str] = field(default_factory=list)

    def value(self, metric: str, pipeline: str = "imr_assist") -> float | None:
        return self.metrics.get(pipeline, {}).get(metric)

    def deltas(self) -> dict[str, float | None]:
        """imr-assist minus naive, for every metric."""
        return {m: delta(self.value(m), self.value(m, "naive")) for m in METRICS}

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "imr-assist eval",
            "version": REPORT_VERSION,
            "corpus": self.corpus,
            "settings": self.settings,
            "pipelines": {
                p: nest({m: _round(self.metrics[p].get(m)) for m in METRICS}) for p in PIPELINES
            },
            "delta": {m: _round(v) for m, v in self.deltas().items()},
            "support": {p: self.support.get(p, {}) for p in PIPELINES},
            "questions": self.questions,
            "letters": self.letters,
            "seconds": round(self.seconds, 3),
            "notices": self.notices,
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def metrics_from_json(data: Any, source: str) -> dict[str, dict[str, float | None]]:
    """Pipeline -> flat metrics of a JSON report written by ``EvalReport.to_json``."""
    if not isinstance(data, dict) or not isinstance(data.get("pipelines"), dict):
        raise CorpusError(f"{source}: not an imr-assist eval JSON report (no 'pipelines')")
    out: dict[str, dict[str, float | None]] = {}
    for p in PIPELINES:
        block = data["pipelines"].get(p) or {}
        flat = flatten(block) if isinstance(block, dict) else {}
        out[p] = {k: v for k, v in flat.items() if v is None or isinstance(v, int | float)}
    return out


def load_report_metrics(path: Path) -> dict[str, dict[str, float | None]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CorpusError(
            f"{path}: cannot read the earlier report ({err.strerror or err})"
        ) from None
    except json.JSONDecodeError as err:
        raise CorpusError(f"{path}: not JSON ({err.msg} at line {err.lineno})") from None
    return metrics_from_json(data, str(path))


@dataclass
class Change:
    pipeline: str
    metric: str
    before: float | None
    now: float | None

    @property
    def delta(self) -> float | None:
        return delta(self.now, self.before)

    @property
    def worse(self) -> bool:
        d = self.delta
        if d is None or abs(d) < 1e-9:
            return False
        return d > 0 if lower_is_better(self.metric) else d < 0


def compare(report: EvalReport, earlier: dict[str, dict[str, float | None]]) -> list[Change]:
    """Every metric of both pipelines, now against an earlier report."""
    return [
        Change(p, m, earlier.get(p, {}).get(m), report.value(m, p))
        for p in PIPELINES
        for m in METRICS
        if earlier.get(p, {}).get(m) is not None or report.value(m, p) is not None
    ]


# --- gates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    pipeline: str
    metric: str
    minimum: float

    @property
    def name(self) -> str:
        return self.metric if self.pipeline == "imr_assist" else f"{self.pipeline}.{self.metric}"


def parse_gate(spec: str) -> Gate:
    """``METRIC=VALUE`` (``naive.METRIC=VALUE`` for the baseline); ConfigError if unknown."""
    name, sep, raw = spec.partition("=")
    name = name.strip()
    if not sep or not name or not raw.strip():
        raise ConfigError(
            f"--fail-under {spec!r}: write it as METRIC=VALUE, e.g. answers.correct=0.9"
        )
    try:
        minimum = float(raw)
    except ValueError:
        raise ConfigError(f"--fail-under {spec!r}: {raw.strip()!r} is not a number") from None
    if not math.isfinite(minimum):
        raise ConfigError(f"--fail-under {spec!r}: the value must be a finite number")
    pipeline, metric = "imr_assist", name
    for p in PIPELINES:
        if name.startswith(p + "."):
            pipeline, metric = p, name[len(p) + 1 :]
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, METRICS, n=1)
        hint = (
            f"; did you mean {close[0]}?" if close else "; see the metric names in the JSON report"
        )
        raise ConfigError(f"--fail-under: unknown metric {name!r}{hint}")
    return Gate(pipeline, metric, minimum)


def check_gates(report: EvalReport, gates: list[Gate]) -> list[str]:
    """One line per gate that failed: below its minimum, or with no value on this corpus."""
    failed = []
    for g in gates:
        v = report.value(g.metric, g.pipeline)
        if v is None:
            failed.append(f"{g.name} has no value on this corpus (needs {g.minimum:g})")
        elif v < g.minimum - 1e-12:
            failed.append(f"{g.name} = {v:.4f} is under {g.minimum:g}")
    return failed


# --- rendering --------------------------------------------------------------------------


def fmt(metric: str, v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    if signed and abs(v) < (0.05 if lower_is_better(metric) else 0.0005):
        v = 0.0  # no "-0.000" for a change that rounds away
    if lower_is_better(metric):
        return f"{v:+.1f}" if signed else f"{v:.1f}"
    return f"{v:+.3f}" if signed else f"{v:.3f}"


def to_markdown(report: EvalReport) -> str:
    c = report.corpus
    lines = [
        "# imr-assist evaluation",
        "",
        f"Corpus **{c.get('name')}**: {c.get('letters')} letters, {c.get('gold_items')} gold items, "
        f"{c.get('questions')} questions. Run time {report.seconds:.1f} s.",
        "",
        "| metric | imr-assist | naive | delta |",
        "|---|---:|---:|---:|",
    ]
    deltas = report.deltas()
    for m in METRICS:
        a, b = report.value(m), report.value(m, "naive")
        if a is None and b is None:
            continue
        lines.append(f"| {m} | {fmt(m, a)} | {fmt(m, b)} | {fmt(m, deltas[m], signed=True)} |")
    lines += [
        "",
        "Shares are in [0, 1], higher is better; latencies are milliseconds, lower is better. "
        "Delta is imr-assist minus naive.",
    ]
    wrong = [q for q in report.questions if not q.get("imr_assist", {}).get("correct")]
    if wrong:
        lines += ["", "## Questions imr-assist got wrong", ""]
        for q in wrong:
            lines.append(f"- `{q['id']}` ({q['kind']}): {q['question']}")
    if report.notices:
        lines += ["", "## Notices", ""] + [f"- {n}" for n in report.notices]
    return "\n".join(lines) + "\n"
