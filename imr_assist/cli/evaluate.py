"""``imr-assist eval``: score imr-assist and a naive baseline against gold, and gate on it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from imr_assist.cli import app
from imr_assist.cli.common import err, out, progress_bar, settings_from

if TYPE_CHECKING:
    from imr_assist.evaluate import EvalReport
    from imr_assist.settings import Settings

STAGE_LABELS = {
    "ingest": "indexing letters",
    "baseline": "naive baseline",
    "questions": "questions",
}


@app.command("eval")
def eval_command(
    corpus: Path | None = typer.Option(
        None,
        "--corpus",
        help="Folder with letters/, gold/ and questions.jsonl (default: the sample letters "
        "with the gold and questions in evals/), or a folder of posted letters with their "
        "gold.json (the real-letter evaluation, questions from evals/real/)",
    ),
    questions: Path | None = typer.Option(
        None, "--questions", help="Questions JSONL to use instead of the corpus's own"
    ),
    index: Path | None = typer.Option(
        None,
        "--index",
        help="Reuse this index folder (the letters are ingested into it) instead of a "
        "fresh temporary one",
    ),
    json_out: str | None = typer.Option(
        None, "--json", metavar="FILE", help="Write the full report as JSON ('-': stdout)"
    ),
    markdown: Path | None = typer.Option(
        None, "--markdown", metavar="FILE", help="Write the metrics table as Markdown"
    ),
    compare_to: Path | None = typer.Option(
        None, "--compare", metavar="FILE", help="Show the change against an earlier JSON report"
    ),
    fail_under: list[str] = typer.Option(
        [],
        "--fail-under",
        metavar="METRIC=VALUE",
        help="Exit 1 if METRIC (a name from the JSON report, e.g. answers.correct; "
        "naive.METRIC for the baseline) is below VALUE. Repeatable.",
    ),
    fail_over: list[str] = typer.Option(
        [],
        "--fail-over",
        metavar="METRIC=VALUE",
        help="Exit 1 if METRIC is above VALUE (real-letter corpus: e.g. "
        "answers.all.broadened=0.05). Repeatable.",
    ),
    judge: str | None = typer.Option(
        None,
        "--judge",
        metavar="MODEL",
        help="Also ask MODEL whether each cited passage supports its sentence "
        "(OpenAI-compatible endpoint: OPENAI_BASE_URL, OPENAI_API_KEY)",
    ),
    k: int | None = typer.Option(
        None, "--k", "-k", min=1, max=200, help="Passages per answer [IMR_ASSIST_K]"
    ),
    pad_to: int | None = typer.Option(
        None,
        "--naive-pad-to",
        min=1,
        max=256,
        help="Pad the baseline's inputs to this many tokens, as Chroma's default embedder does",
    ),
    llm: str | None = typer.Option(
        None,
        "--llm",
        metavar="MODEL",
        help="Instead: answer every question with MODEL's verified LLM answers and with the "
        "extractive writer, side by side (OpenAI-compatible endpoint: OPENAI_BASE_URL, "
        "OPENAI_API_KEY); --json and --markdown write that report",
    ),
) -> None:
    """Score extraction, retrieval, answers and citations against gold, beside a naive baseline."""
    from imr_assist.evaluate import evaluate, load_corpus, parse_gate, sample_corpus
    from imr_assist.evaluate.real import is_real_corpus
    from imr_assist.evaluate.report import check_gates, load_report_metrics

    if corpus is not None and is_real_corpus(corpus):
        _eval_real(
            corpus,
            questions,
            settings_from(index, None, k=k),
            json_out,
            markdown,
            fail_under,
            fail_over,
        )
        return
    if fail_over:
        raise typer.BadParameter("--fail-over applies to a real-letter corpus (gold.json)")
    gates = [parse_gate(spec) for spec in fail_under]  # a bad name fails before any work
    earlier = load_report_metrics(compare_to) if compare_to else None
    settings = settings_from(index, None, k=k)
    loaded = (
        load_corpus(corpus, questions=questions) if corpus else sample_corpus(questions=questions)
    )
    if llm:
        _eval_llm(loaded, settings, llm, json_out, markdown)
        return
    citation_judge = None
    if judge:
        from imr_assist.answer.llm_client import client_from_settings
        from imr_assist.evaluate.judge import CitationJudge

        judge_settings = settings.model_copy(update={"llm_model": judge, "llm_enabled": True})
        citation_judge = CitationJudge(client_from_settings(judge_settings))

    quiet = json_out == "-"
    with progress_bar("eval", disable=quiet) as bar:
        task = bar.add_task("", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=STAGE_LABELS[stage])

        report = evaluate(
            loaded,
            settings,
            index_dir=index,
            pad_to=pad_to,
            judge=citation_judge,
            progress=progress,
        )

    for notice in report.notices:
        err.print(f"[yellow]note:[/] {_esc(notice)}", highlight=False)
    if quiet:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        _print_table(report)
        if json_out:
            report.write_json(Path(json_out))
    if markdown:
        from imr_assist.evaluate.report import to_markdown

        markdown.write_text(to_markdown(report), encoding="utf-8")
    if earlier is not None:
        _print_changes(report, earlier, str(compare_to), to_stderr=quiet)
    failed = check_gates(report, gates)
    for line in failed:
        err.print(f"[red]fail:[/] {_esc(line)}", highlight=False)
    if failed:
        raise typer.Exit(1)


def _eval_llm(
    loaded: object, settings: object, model: str, json_out: str | None, markdown: Path | None
) -> None:
    from imr_assist.evaluate.llm_eval import ROWS, evaluate_llm, to_markdown

    quiet = json_out == "-"
    with progress_bar("eval --llm", disable=quiet) as bar:
        task = bar.add_task("", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=STAGE_LABELS[stage])

        rows = Path(json_out).with_suffix(".rows.jsonl") if json_out and json_out != "-" else None
        report = evaluate_llm(loaded, settings, model, progress=progress, rows_out=rows)  # type: ignore[arg-type]
    data = json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
    if quiet:
        sys.stdout.write(data)
    else:
        table = Table(title=f"{model} against extractive, {len(report.questions)} questions")
        for col in ("metric", "LLM", "extractive"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for key, label in ROWS:
            a, b = report.metrics["llm"].get(key), report.metrics["extractive"].get(key)
            table.add_row(label, "-" if a is None else str(a), "-" if b is None else str(b))
        out.print(table)
        for reason, count in report.fallback_reasons.items():
            out.print(f"fell back: {_esc(reason)}: {count}", highlight=False)
        if json_out:
            Path(json_out).write_text(data, encoding="utf-8")
    if markdown:
        markdown.write_text(to_markdown(report), encoding="utf-8")


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _print_table(report: EvalReport) -> None:
    from imr_assist.evaluate.report import METRICS, fmt

    c = report.corpus
    out.print(
        f"corpus {c['name']}: {c['letters']} letters, {c['gold_items']} gold items, "
        f"{c['questions']} questions [{report.seconds:.1f}s]",
        highlight=False,
    )
    table = Table()
    table.add_column("metric")
    table.add_column("imr-assist", justify="right")
    table.add_column("naive", justify="right")
    table.add_column("delta", justify="right")
    deltas = report.deltas()
    for m in METRICS:
        a, b = report.value(m), report.value(m, "naive")
        if a is None and b is None:
            continue
        table.add_row(m, fmt(m, a), fmt(m, b), _colour(m, deltas[m]))
    out.print(table)


def _colour(metric: str, d: float | None) -> str:
    from imr_assist.evaluate.report import fmt, lower_is_better

    text = fmt(metric, d, signed=True)
    if d is None or abs(d) < 1e-9:
        return text
    better = d < 0 if lower_is_better(metric) else d > 0
    return f"[green]{text}[/]" if better else f"[red]{text}[/]"


def _print_changes(
    report: EvalReport,
    earlier: dict[str, dict[str, float | None]],
    source: str,
    *,
    to_stderr: bool,
) -> None:
    from imr_assist.evaluate.report import PIPELINE_LABELS, compare, fmt

    console = err if to_stderr else out
    table = Table(title=f"change against {source}")
    for col in ("pipeline", "metric", "before", "now", "change"):
        table.add_column(col, justify="left" if col in ("pipeline", "metric") else "right")
    for ch in compare(report, earlier):
        change = fmt(ch.metric, ch.delta, signed=True)
        if ch.worse:
            change = f"[red]{change}[/]"
        table.add_row(
            PIPELINE_LABELS[ch.pipeline],
            ch.metric,
            fmt(ch.metric, ch.before),
            fmt(ch.metric, ch.now),
            change,
        )
    console.print(table)


def _eval_real(
    folder: Path,
    questions: Path | None,
    settings: Settings,
    json_out: str | None,
    markdown: Path | None,
    fail_under: list[str],
    fail_over: list[str],
) -> None:
    """``eval --corpus`` on a folder of posted letters with gold.json."""
    from imr_assist.evaluate.real import evaluate_real, load_real_corpus
    from imr_assist.evaluate.real import to_markdown as real_markdown

    gates = []
    for spec, sign in [(g, "under") for g in fail_under] + [(g, "over") for g in fail_over]:
        name, _, wanted = spec.partition("=")
        try:
            gates.append((name.strip(), float(wanted), sign))
        except ValueError:
            raise typer.BadParameter(f"{spec!r}: expected METRIC=VALUE") from None
    corpus = load_real_corpus(folder, questions)
    quiet = json_out == "-"
    with progress_bar("eval", disable=quiet) as bar:
        task = bar.add_task("", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=STAGE_LABELS[stage])

        report = evaluate_real(corpus, settings, progress=progress)
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    if quiet:
        sys.stdout.write(text)
    else:
        mine = report["metrics"]["imr_assist"]
        theirs = report["metrics"].get("naive", {})
        table = Table(
            title=f"real letters: {report['corpus']['letters']} letters, "
            f"{report['corpus']['gold_items']} items, "
            f"{report['corpus']['questions']} questions"
        )
        for col in ("metric", "imr-assist", "naive"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for key, value in mine.items():
            other = theirs.get(key)
            table.add_row(key, _num(value), _num(other) if key in theirs else "-")
        out.print(table)
        if json_out:
            Path(json_out).write_text(text, encoding="utf-8")
    if markdown:
        markdown.write_text(real_markdown(report), encoding="utf-8")
    failed = []
    for name, value, sign in gates:
        got = report["metrics"]["imr_assist"].get(name)
        if got is None:
            failed.append(f"{name}: no such metric in the real-letter report")
        elif (sign == "under" and got < value) or (sign == "over" and got > value):
            failed.append(f"{name} = {got:.3f}, {'below' if sign == 'under' else 'above'} {value}")
    for line in failed:
        err.print(f"[red]fail:[/] {_esc(line)}", highlight=False)
    if failed:
        raise typer.Exit(1)


def _num(v: float | None) -> str:
    return "-" if v is None else (f"{v:.0f}" if v >= 2 else f"{v:.3f}")
