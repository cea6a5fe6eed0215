"""Prompt templates: Jinja2 files in ``prompts/``, rendered with StrictUndefined."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from imr_assist.errors import ConfigError


def prompts_dir() -> Path:
    """``prompts/`` beside the package in a checkout; inside the package when installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "prompts", here / "prompts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("prompt templates not found; reinstall imr-assist")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # Prompts are plain text, not HTML: no autoescaping, but undefined names fail loudly.
    return jinja2.Environment(  # noqa: S701
        loader=jinja2.FileSystemLoader(str(prompts_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(name: str, **values: Any) -> str:
    try:
        return _env().get_template(name).render(**values)
    except jinja2.UndefinedError as err:
        raise ConfigError(f"prompt {name}: {err.message}") from None


def template_names() -> list[str]:
    return sorted(p.name for p in prompts_dir().glob("*.j2"))
