"""Stage 4b: one letter as a digest (Markdown, HTML or JSON) with verified quotes.

``digest(letter, fmt)`` renders; ``digest_json(letter)`` gives the record;
``summarize(letter, settings)`` asks an LLM for a plain-language summary that is
kept only when every sentence cites the digest's own numbered quotes.
"""

from __future__ import annotations

from imr_assist.digest.render import (
    FORMATS,
    SUMMARY_UNVERIFIED_NOTE,
    digest,
    digest_json,
    letter_quotes,
    summarize,
)

__all__ = [
    "FORMATS",
    "SUMMARY_UNVERIFIED_NOTE",
    "digest",
    "digest_json",
    "letter_quotes",
    "summarize",
]
