"""Data files that ship inside the package: prompt templates and the sample eval gold.

In a wheel they are package data, read with ``importlib.resources``:
``imr_assist/prompts/*.j2``, ``imr_assist/data/eval/gold/*.json`` and
``imr_assist/data/eval/questions.jsonl``. Their sources are the project folders
``prompts/`` and ``evals/gold/`` + ``evals/questions.jsonl``, which
``pyproject.toml`` force-includes at those places when it builds the wheel.

Nothing is looked up on ``sys.path`` or in the working directory: a stray
``prompts/`` folder beside the installed package, or in the folder a command runs
from, is never read. The one other place is the source checkout this very package
was imported from (an editable install, where the files have not been copied into
the package): the project folder that holds this package and its ``pyproject.toml``.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from imr_assist.errors import ConfigError

PACKAGE = "imr_assist"

#: Package path -> the checkout path it is built from (see ``pyproject.toml``).
SOURCES = {
    "prompts": "prompts",
    "data/eval/gold": "evals/gold",
    "data/eval/questions.jsonl": "evals/questions.jsonl",
    "data/eval/real/questions.jsonl": "evals/real/questions.jsonl",
    "data/eval/real/questions-fresh.jsonl": "evals/real/questions-fresh.jsonl",
    "data/eval/real/questions-unseen.jsonl": "evals/real/questions-unseen.jsonl",
    "data/eval/real/questions-final.jsonl": "evals/real/questions-final.jsonl",
    "data/eval/real/questions-outside.jsonl": "evals/real/questions-outside.jsonl",
    "data/eval/real/questions-sealed.jsonl": "evals/real/questions-sealed.jsonl",
    "data/eval/real/questions-novel.jsonl": "evals/real/questions-novel.jsonl",
    "data/eval/real/questions-wild.jsonl": "evals/real/questions-wild.jsonl",
    "data/eval/real/questions-blind.jsonl": "evals/real/questions-blind.jsonl",
    "data/eval/real/questions-probe.jsonl": "evals/real/questions-probe.jsonl",
    "data/eval/real/questions-probe2.jsonl": "evals/real/questions-probe2.jsonl",
    "data/eval/real/questions-probe3.jsonl": "evals/real/questions-probe3.jsonl",
    "data/eval/real/questions-probe4.jsonl": "evals/real/questions-probe4.jsonl",
    "data/eval/real/questions-probe5.jsonl": "evals/real/questions-probe5.jsonl",
    "data/eval/real/questions-probe6.jsonl": "evals/real/questions-probe6.jsonl",
    "data/eval/real/questions-probe7.jsonl": "evals/real/questions-probe7.jsonl",
    "data/eval/real/questions-probe8.jsonl": "evals/real/questions-probe8.jsonl",
    "data/eval/real/questions-probe9.jsonl": "evals/real/questions-probe9.jsonl",
    "data/eval/real/questions-probe10.jsonl": "evals/real/questions-probe10.jsonl",
    "data/eval/real": "evals/real",
}


def resource(name: str) -> Traversable:
    """The packaged file or folder ``name`` (a key of ``SOURCES``)."""
    packaged = files(PACKAGE).joinpath(*name.split("/"))
    if packaged.is_dir() or packaged.is_file():
        return packaged
    root = _checkout_root()
    if root is not None and (root / SOURCES[name]).exists():
        return root / SOURCES[name]
    raise ConfigError(f"{PACKAGE}/{name}: package data missing; reinstall imr-assist")


@lru_cache(maxsize=1)
def _checkout_root() -> Path | None:
    """The project checkout holding this package's source, if that is where it runs from."""
    package = Path(__file__).resolve().parent
    root = package.parent
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if project.get("project", {}).get("name") != "imr-assist":
        return None
    return root
