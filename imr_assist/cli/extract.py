"""``imr-assist extract``: letters to JSON, JSONL or CSV records."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from imr_assist.cli import app
from imr_assist.cli.common import err, print_letter_warnings

if TYPE_CHECKING:  # the parser loads when a command runs, not for --help
    from imr_assist.errors import LetterError
    from imr_assist.models import Letter


class Format(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


CSV_FIELDS = [
    "doc_id",
    "source",
    "format",
    "case_number",
    "date_of_injury",
    "decision_date",
    "ur_denial_date",
    "licensure",
    "specialties",
    "age",
    "sex",
    "item_index",
    "treatment",
    "name",
    "generic",
    "drug_class",
    "strength",
    "quantity",
    "refills",
    "decision",
    "original_request",
    "authorized_portion",
    "guidelines",
    "pages",
    "reasons",
]


def csv_rows(letter: Letter) -> list[dict[str, object]]:
    """One CSV row per item, with the letter's fields repeated."""
    rows: list[dict[str, object]] = []
    for it in letter.items:
        rows.append(
            {
                "doc_id": letter.doc_id,
                "source": letter.source,
                "format": letter.format,
                "case_number": letter.case_number,
                "date_of_injury": letter.date_of_injury,
                "decision_date": letter.decision_date,
                "ur_denial_date": letter.ur_denial_date,
                "licensure": "; ".join(letter.reviewer.licensure),
                "specialties": "; ".join(letter.reviewer.specialties),
                "age": letter.patient.age,
                "sex": letter.patient.sex,
                "item_index": it.index,
                "treatment": it.treatment,
                "name": it.name,
                "generic": it.generic,
                "drug_class": it.drug_class,
                "strength": it.strength,
                "quantity": it.quantity,
                "refills": it.refills,
                "decision": it.decision,
                "original_request": it.original_request,
                "authorized_portion": it.authorized_portion,
                "guidelines": "; ".join(it.guidelines),
                "pages": it.pages,
                "reasons": "; ".join(it.reason_categories),
            }
        )
    return rows


@app.command()
def extract(
    paths: list[str] = typer.Argument(..., help="Letter files (.txt, .pdf), folders or globs"),
    fmt: Format = typer.Option(Format.json, "--format", "-f", help="Output format"),
    as_json: bool = typer.Option(False, "--json", help="The same as --format json"),
    out_file: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of stdout"),
    report: bool = typer.Option(
        False,
        "--report",
        help="Instead of the records, list the treatments that matched no lexicon entry, "
        "with counts, and the share that matched (--format json: one JSON object)",
    ),
) -> None:
    """Parse letters into grounded records (one per letter; CSV: one row per item).

    What a letter has that could not be read is a warning on stderr and in the
    record's ``warnings``; the letter is still extracted.
    """
    from rich.text import Text

    from imr_assist.parse import parse_paths
    from imr_assist.parse.coverage import coverage

    if as_json:
        fmt = Format.json
    failures: list[LetterError] = []

    def on_error(e: LetterError) -> None:
        failures.append(e)
        err.print(Text.assemble(("error:", "red"), f" {e}"), highlight=False)

    letters = list(parse_paths(paths, on_error))
    for lt in letters:
        print_letter_warnings(lt)
    buf = io.StringIO()
    if report:
        rep = coverage(letters)
        if fmt is Format.json:
            json.dump(rep.as_dict(), buf, indent=2, ensure_ascii=False)
            buf.write("\n")
        else:
            buf.write("\n".join(rep.lines()) + "\n")
    elif fmt is Format.json:
        json.dump([lt.public_dict() for lt in letters], buf, indent=2, ensure_ascii=False)
        buf.write("\n")
    elif fmt is Format.jsonl:
        for lt in letters:
            buf.write(json.dumps(lt.public_dict(), ensure_ascii=False) + "\n")
    else:
        w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
        w.writeheader()
        for lt in letters:
            w.writerows(csv_rows(lt))
    if out_file:
        out_file.write_text(buf.getvalue(), encoding="utf-8")
        err.print(f"wrote {len(letters)} letter(s) to {out_file}", highlight=False)
    else:
        typer.echo(buf.getvalue(), nl=False)
    if failures:
        err.print(
            f"{len(failures)} of {len(letters) + len(failures)} file(s) failed", highlight=False
        )
        raise typer.Exit(1)
