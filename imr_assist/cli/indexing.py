"""``imr-assist ingest`` and ``imr-assist search``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from imr_assist.cli import app
from imr_assist.cli.common import (
    ChromaOpt,
    IndexOpt,
    err,
    out,
    print_json,
    progress_bar,
    settings_from,
)
from imr_assist.urls import redact_url


@app.command()
def ingest(
    paths: list[str] = typer.Argument(
        None,
        help="Letter files, folders or globs [default: the bundled sample letters, said on stderr]",
    ),
    index: Path | None = IndexOpt,
    chroma_url: str | None = ChromaOpt,
    reset: bool = typer.Option(False, "--reset", help="Delete the index and rebuild it"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
) -> None:
    """Parse, chunk, embed and store letters; unchanged letters are skipped."""
    from imr_assist.index.ingest import IngestInterrupted
    from imr_assist.index.ingest import ingest as run_ingest
    from imr_assist.samples import sample_paths, samples_dir

    settings = settings_from(index, chroma_url)
    if paths:
        inputs = paths
    else:
        inputs = [str(samples_dir())]
        err.print(
            f"no path given: ingesting the {len(sample_paths())} bundled sample letters "
            f"({samples_dir()})",
            highlight=False,
            markup=False,
        )
    try:
        with progress_bar("ingest", disable=as_json) as bar:
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, current: str) -> None:
                bar.update(task, completed=done, total=total, description=Path(current).name)

            report = run_ingest(inputs, settings, reset=reset, progress=progress)
    except IngestInterrupted as stopped:
        err.print(str(stopped), highlight=False, markup=False)
        raise typer.Exit(stopped.exit_code) from None
    for e in report.failures:
        # File names are data: "[" in a path must not be read as rich markup.
        err.print(Text.assemble(("error:", "red"), f" {e}"), highlight=False)
    if as_json:
        print_json(report.as_dict())
    else:
        where = redact_url(settings.chroma_url) if settings.chroma_url else settings.index_dir
        skipped = report.letters_unchanged + len(report.duplicates)
        out.print(
            f"{report.letters_indexed} letter(s) indexed ({report.letters_replaced} replaced), "
            f"{report.items} item(s), {report.chunks_embedded} chunk(s) embedded; "
            f"{skipped} skipped as unchanged or duplicate; {report.failed} failed "
            f"[{report.seconds:.1f}s] -> {where}",
            highlight=False,
            markup=False,
        )
        if report.chunks_embedded == 0 and not report.failed:
            out.print("Nothing to embed: the index is up to date.", highlight=False)
        for src, same in report.duplicates:
            out.print(f"  {src}: same text as {same}; indexed once", highlight=False, markup=False)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def search(
    query: str = typer.Argument(..., help="What to look for"),
    k: int = typer.Option(8, "--k", "-k", min=1, max=200, help="How many chunks"),
    index: Path | None = IndexOpt,
    chroma_url: str | None = ChromaOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Rank chunks for a query: hybrid dense + BM25, filtered by what the query names."""
    from imr_assist.index.index import Index
    from imr_assist.retrieve.hybrid import search as run_search

    settings = settings_from(index, chroma_url, k=k)
    result = run_search(Index.open(settings), query, k=k)
    rows = [
        {
            "rank": n,
            "doc_id": h.chunk.doc_id,
            "item_index": h.chunk.item_index,
            "treatment": h.chunk.metadata.get("treatment") or None,
            "decision": h.chunk.metadata.get("decision") or None,
            "section": h.chunk.section,
            "score": round(h.score, 5),
            "dense": None if h.dense is None else round(h.dense, 4),
            "lexical": None if h.lexical is None else round(h.lexical, 4),
            "start": h.chunk.start,
            "end": h.chunk.end,
            "text": h.chunk.text,
        }
        for n, h in enumerate(result.hits, 1)
    ]
    if as_json:
        print_json({"query": query, "filters": result.filters.as_dict(), "results": rows})
        return
    out.print(f"filters: {result.filters.as_dict() or 'none'}", highlight=False, markup=False)
    table = Table(show_lines=True)
    for col in ("#", "letter", "item", "decision", "score", "text"):
        table.add_column(col)
    for r in rows:
        text = str(r["text"])
        # Letter text and names are data, never rich markup.
        table.add_row(
            str(r["rank"]),
            Text(str(r["doc_id"])),
            Text(str(r["treatment"] or r["section"])),
            str(r["decision"] or ""),
            f"{r['score']:.4f}",
            Text(text[:300] + ("..." if len(text) > 300 else "")),
        )
    out.print(table)
