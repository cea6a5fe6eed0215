"""imr-assist: parse, index and question California IMR determination letters.

Library entry points, one per pipeline stage::

    from imr_assist import parse_file, ingest, ask, Settings
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["parse_text", "parse_file", "parse_paths", "ingest", "ask", "Settings", "__version__"]

if TYPE_CHECKING:
    from imr_assist.answer.service import ask
    from imr_assist.index.ingest import ingest
    from imr_assist.parse import parse_file, parse_paths, parse_text
    from imr_assist.settings import Settings

_LAZY = {
    "parse_text": "imr_assist.parse",
    "parse_file": "imr_assist.parse",
    "parse_paths": "imr_assist.parse",
    "ingest": "imr_assist.index.ingest",
    "ask": "imr_assist.answer.service",
    "Settings": "imr_assist.settings",
}


def __getattr__(name: str) -> Any:
    # Imports on first use: the CLI should not pay for chromadb to print --help.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
