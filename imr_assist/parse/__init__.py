"""Stage 1: letters in, typed and grounded records out.

``parse_text`` parses one letter's text; ``parse_file`` reads a .txt or .pdf first;
``parse_paths`` walks files, folders and globs and reports each bad file without
stopping the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from imr_assist.errors import LetterError
from imr_assist.models import Letter
from imr_assist.parse.letter import parse_text
from imr_assist.parse.loaders import SourceFile, expand_paths, read_letter_text

__all__ = ["parse_text", "parse_file", "parse_paths", "LetterError"]


def parse_file(path: str | Path, display: str | None = None) -> Letter:
    """Read and parse one letter file; raises ``LetterError`` naming the file."""
    p = Path(path)
    shown = display or str(path)
    text = read_letter_text(p, shown)
    return parse_text(text, source=shown, doc_id=p.stem)


def parse_paths(
    inputs: Sequence[str | Path], on_error: Callable[[LetterError], None]
) -> Iterator[Letter]:
    """Parse every letter under ``inputs``; each failure goes to ``on_error``."""
    for src in expand_paths(inputs, on_error=on_error):
        try:
            yield parse_file(src.path, src.display)
        except LetterError as err:
            on_error(err)


def iter_sources(
    inputs: Sequence[str | Path], on_error: Callable[[LetterError], None]
) -> list[SourceFile]:
    return expand_paths(inputs, on_error=on_error)
