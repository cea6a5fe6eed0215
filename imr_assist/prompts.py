"""Prompt templates: Jinja2 files shipped in the package, rendered with StrictUndefined.

The templates are ``imr_assist/prompts/*.j2`` inside the installed package (built
from the project's ``prompts/`` folder), read through ``importlib.resources``; see
``imr_assist.resources`` for why no other ``prompts/`` folder is ever read.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources.abc import Traversable
from typing import Any

import jinja2

from imr_assist.errors import ConfigError
from imr_assist.resources import resource


def prompts_dir() -> Traversable:
    """The package's prompt folder."""
    return resource("prompts")


def _load(name: str) -> str | None:
    if "/" in name or "\\" in name or name.startswith("."):
        return None  # template names are bare file names
    path = prompts_dir() / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # Prompts are plain text, not HTML: no autoescaping, but undefined names fail loudly.
    return jinja2.Environment(  # noqa: S701
        loader=jinja2.FunctionLoader(_load),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(name: str, **values: Any) -> str:
    try:
        return _env().get_template(name).render(**values)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"prompt {name}: no such template in the package") from None
    except jinja2.UndefinedError as err:
        raise ConfigError(f"prompt {name}: {err.message}") from None


def template_names() -> list[str]:
    return sorted(p.name for p in prompts_dir().iterdir() if p.name.endswith(".j2"))
