"""``imr-assist digest`` and ``imr-assist stats``."""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from imr_assist.cli import app
from imr_assist.cli.common import (
    IndexOpt,
    err,
    llm_flags,
    out,
    print_json,
    progress_bar,
    settings_from,
)
from imr_assist.errors import IndexStateError, LetterError

if TYPE_CHECKING:
    from imr_assist.models import Answer, Letter
    from imr_assist.settings import Settings


class DigestFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


class StatsBy(StrEnum):
    treatment = "treatment"
    drug = "drug"
    generic = "generic"
    drug_class = "class"
    decision = "decision"
    reason = "reason"
    specialty = "specialty"
    guideline = "guideline"
    letter = "letter"


class StatsFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _settings(index: Path | None, llm: str | None) -> Settings:
    """Settings from the flags; ``--llm none`` turns the summary off, a model name on."""
    from imr_assist.settings import Settings

    return Settings.load(index_dir=index, **llm_flags(llm))


def _missing(key: str, settings: Settings) -> IndexStateError:
    return IndexStateError(
        f"no letter {key!r} in the index at {settings.index_dir} (nor a file by that name); "
        "list the indexed letters with `imr-assist stats --by letter`"
    )


@app.command()
def digest(
    case: Annotated[
        str | None,
        typer.Argument(
            metavar="CASE_ID|FILE",
            help="Doc id, case number or file stem of an indexed letter, or a letter file",
        ),
    ] = None,
    all_letters: Annotated[
        bool,
        typer.Option("--all", help="Digest every indexed letter into the folder given by --out"),
    ] = False,
    fmt: Annotated[
        DigestFormat, typer.Option("--format", "-f", help="Output format")
    ] = DigestFormat.md,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json")] = False,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (a folder: <doc_id>.<format> in it)"),
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option(
            "--llm", help="Model for a plain-language summary, or 'none' [IMR_ASSIST_MODEL]"
        ),
    ] = None,
    index: Path | None = IndexOpt,
) -> None:
    """One letter as a readable digest: facts, decisions and the reviewer's quoted reasons."""
    from imr_assist.digest import digest as render_digest
    from imr_assist.digest import summarize
    from imr_assist.digest.render import llm_client

    settings = _settings(index, llm)
    ext = DigestFormat.json.value if as_json else fmt.value
    client = llm_client(settings) if settings.use_llm else None

    def one(letter: Letter) -> str:
        summary: Answer | None = None
        if client is not None:
            summary = summarize(letter, settings, client=client)
        return render_digest(letter, ext, summary=summary)

    try:
        if all_letters:
            if case is not None:
                raise typer.BadParameter("give either CASE_ID|FILE or --all, not both")
            if out_path is None:
                raise typer.BadParameter("--all needs --out DIR", param_hint="--out")
            _digest_all(settings, out_path, ext, one)
            return
        if case is None:
            raise typer.BadParameter("give a CASE_ID or FILE, or --all --out DIR")
        letter = _load(case, settings)
        text = one(letter)
    finally:
        if client is not None:
            client.close()
    if out_path is None:
        _show(text, ext)
        return
    target = out_path / f"{letter.doc_id}.{ext}" if out_path.is_dir() else out_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    err.print(f"wrote {target}", highlight=False)


def _show(text: str, ext: str) -> None:
    """Markdown rendered on a terminal; anything else, or a pipe, gets the text as is."""
    if ext == "md" and out.is_terminal:
        from rich.markdown import Markdown

        out.print(Markdown(text))
    else:
        sys.stdout.write(text)


def _load(case: str, settings: Settings) -> Letter:
    """The letter file at ``case`` if there is one, else the indexed letter it names."""
    from imr_assist.index.index import Index
    from imr_assist.parse import parse_file

    path = Path(case)
    if path.is_file():
        return parse_file(path)
    if _names_a_file(case):
        # A case id or file stem never has a folder or a letter suffix: this was a file.
        problem = "is a folder, not a letter file" if path.is_dir() else "file not found"
        raise LetterError(case, problem)
    idx = Index.open(settings)
    try:
        letter = idx.catalog.find_letter(case)
    finally:
        idx.close()
    if letter is None:
        raise _missing(case, settings)
    return letter


def _names_a_file(case: str) -> bool:
    """Whether ``digest``'s argument is a path rather than a doc id or case number."""
    return "/" in case or os.sep in case or Path(case).suffix.lower() in (".txt", ".pdf")


def _digest_all(settings: Settings, folder: Path, ext: str, write: Callable[[Letter], str]) -> None:
    """One ``<doc_id>.<ext>`` file per indexed letter, with a progress bar on stderr."""
    from imr_assist.index.index import Index

    idx = Index.open(settings)
    try:
        doc_ids = idx.catalog.doc_ids()
        folder.mkdir(parents=True, exist_ok=True)
        with progress_bar("digest") as bar:
            task = bar.add_task("", total=len(doc_ids))
            for doc_id in doc_ids:
                bar.update(task, description=doc_id)
                letter = idx.catalog.letter(doc_id)
                if letter is not None:
                    (folder / f"{doc_id}.{ext}").write_text(write(letter), encoding="utf-8")
                bar.advance(task)
    finally:
        idx.close()
    err.print(f"wrote {len(doc_ids)} digest(s) to {folder}", highlight=False)


class StatsDecision(StrEnum):
    upheld = "upheld"
    overturned = "overturned"


_DATE = ["%Y-%m-%d"]


@app.command()
def stats(
    by: Annotated[
        StatsBy,
        typer.Option("--by", help="What to group decisions by (drug: the same as treatment)"),
    ] = StatsBy.treatment,
    fmt: Annotated[
        StatsFormat, typer.Option("--format", "-f", help="Output format")
    ] = StatsFormat.table,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json")] = False,
    treatment: Annotated[
        str | None, typer.Option("--treatment", help="Only this treatment (name or generic)")
    ] = None,
    drug_class: Annotated[
        str | None, typer.Option("--class", help="Only this drug class or service category")
    ] = None,
    decision: Annotated[
        StatsDecision | None, typer.Option("--decision", help="Only upheld or overturned")
    ] = None,
    specialty: Annotated[
        str | None, typer.Option("--specialty", help="Only reviewers of this specialty")
    ] = None,
    date_from: Annotated[
        datetime | None,
        typer.Option("--from", formats=_DATE, help="Decision date on or after (YYYY-MM-DD)"),
    ] = None,
    date_to: Annotated[
        datetime | None,
        typer.Option("--to", formats=_DATE, help="Decision date on or before (YYYY-MM-DD)"),
    ] = None,
    index: Path | None = IndexOpt,
) -> None:
    """Upheld and overturned counts over every indexed decision, grouped by one field."""
    from imr_assist.index.index import Index
    from imr_assist.stats import StatsFilters
    from imr_assist.stats import report as stats_report

    filters = StatsFilters(
        treatment=treatment,
        drug_class=drug_class,
        decision=decision.value if decision else None,
        specialty=specialty,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )
    idx = Index.open(settings_from(index))
    try:
        rep = stats_report(idx, by.value, filters)
    finally:
        idx.close()
    if as_json or fmt is StatsFormat.json:
        print_json(rep)
        return
    rows, total = rep["rows"], rep["total"]
    if fmt is StatsFormat.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(STATS_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buf.getvalue())
        return
    shown = (
        ""
        if not rep["filters"]
        else " (" + ", ".join(f"{k} {v}" for k, v in rep["filters"].items()) + ")"
    )
    table = Table(title=f"Decisions by {rep['by']}{shown}")
    table.add_column(rep["by"], overflow="fold")
    partial = total["partial"] > 0
    for col in ("letters", "decisions", "upheld", "overturned", "overturn rate"):
        table.add_column(col, justify="right")
    if partial:
        table.add_column("partial", justify="right")
    for r in [*rows, total]:
        label = r["key"] if r is not total else "total (each decision once)"
        cells: list[Text | str] = [
            Text(label),
            str(r["letters"]),
            str(r["decisions"]),
            str(r["upheld"]),
            str(r["overturned"]),
            f"{100 * r['overturn_rate']:.1f}%",
        ]
        if partial:
            cells.append(str(r["partial"]))
        table.add_row(
            *cells,
            end_section=r is rows[-1] if rows else False,
            style="bold" if r is total else None,
        )
    out.print(table)
    for note in rep["notes"]:
        out.print(Text(f"note: {note}", style="dim"))


#: The columns of ``stats --format csv``, in order.
STATS_COLUMNS = ("key", "letters", "decisions", "upheld", "overturned", "overturn_rate", "partial")
