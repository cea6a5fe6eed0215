"""``imr-assist synth``: a synthetic corpus of letters with gold records and questions."""

from __future__ import annotations

from pathlib import Path

import typer

from imr_assist.cli import app
from imr_assist.cli.common import out, print_json, progress_bar
from imr_assist.errors import ConfigError


@app.command()
def synth(
    n: int = typer.Option(..., "--n", help="How many letters (1 to 99,999)"),
    seed: int = typer.Option(
        ..., "--seed", help="Random seed; the same seed gives the same corpus"
    ),
    out_dir: Path = typer.Option(..., "--out", help="Corpus folder to write"),
    formats: str | None = typer.Option(
        None,
        "--formats",
        help="Comma-separated formats [default: standard,standard_cover,notice_2013,professional_review]",
    ),
    noise: float = typer.Option(
        0.3, "--noise", help="Share of letters with PDF-style noise (0 to 1)"
    ),
    questions: int = typer.Option(100, "--questions", help="How many gold questions to write"),
    force: bool = typer.Option(False, "--force", help="Replace a corpus already in the folder"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Write letters/, gold/, questions.jsonl and manifest.json for evaluation and benchmarks."""
    try:
        from imr_synth import generate
    except ModuleNotFoundError as err:
        if err.name != "imr_synth":
            raise
        # The generator (imr_synth/, beside imr_assist/ in the checkout) is not in the wheel.
        raise ConfigError(
            "synth is a development tool and is not installed with imr-assist; run it from "
            "a source checkout (pip install -e '.[dev]')"
        ) from None

    chosen = [f for f in formats.split(",") if f.strip()] if formats is not None else None
    with progress_bar("synth", disable=as_json) as bar:
        task = bar.add_task("", total=n)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = generate(
            n,
            seed,
            out_dir,
            formats=chosen,
            noise=noise,
            questions=questions,
            overwrite=force,
            progress=progress,
        )
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    c = report.counts
    share = 100 * c.upheld / c.items if c.items else 0.0
    out.print(
        f"{c.letters} letter(s), {c.items} item(s) ({share:.1f}% upheld), "
        f"{c.noisy_letters} with noise, {c.questions} question(s) -> {report.out}",
        highlight=False,
    )
    formats_line = ", ".join(f"{k} {v}" for k, v in c.by_format.items())
    out.print(f"formats: {formats_line}", highlight=False)
