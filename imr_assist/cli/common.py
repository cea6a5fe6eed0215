"""Shared CLI bits: consoles, settings from flags, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

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


def settings_from(
    index: Path | None = None, chroma_url: str | None = None, **more: Any
) -> Settings:
    return Settings.load(index_dir=index, chroma_url=chroma_url, **more)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
