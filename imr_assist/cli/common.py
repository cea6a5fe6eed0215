"""Shared CLI bits: consoles, settings from flags, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

# Imported where used: ``--help`` and ``extract`` load only what they need (the
# settings and records bring pydantic, the progress bar most of rich).
if TYPE_CHECKING:
    from rich.progress import Progress

    from imr_assist.models import Letter
    from imr_assist.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

IndexOpt = typer.Option(
    None, "--index", help="Index folder (env IMR_ASSIST_INDEX; default ./index)"
)
ChromaOpt = typer.Option(
    None,
    "--chroma-url",
    help="Chroma server URL instead of the embedded store (env IMR_ASSIST_CHROMA_URL)",
)


def llm_flags(llm: str | None) -> dict[str, Any]:
    """Settings for ``--llm``: 'none' forces extractive answers, a model name forces the LLM."""
    if llm is None:
        return {}
    if llm.lower() == "none":
        return {"llm_enabled": False}
    return {"llm_model": llm, "llm_enabled": True}


def progress_bar(label: str, *, disable: bool = False) -> Progress:
    """The progress bar long commands show on stderr (hidden when it is not a terminal)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
        disable=disable or not err.is_terminal,
    )


def settings_from(
    index: Path | None = None, chroma_url: str | None = None, **more: Any
) -> Settings:
    from imr_assist.settings import Settings

    return Settings.load(index_dir=index, chroma_url=chroma_url, **more)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_letter_warnings(letter: Letter) -> None:
    """One stderr line per part of a letter that could not be read (the record is kept)."""
    from rich.text import Text

    for w in letter.warnings:
        where = f" (item {w.item_index + 1})" if w.item_index is not None else ""
        err.print(
            Text.assemble(("warning:", "yellow"), f" {letter.source}{where}: {w.message}"),
            highlight=False,
        )
