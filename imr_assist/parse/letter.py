"""Parse one letter's text into a ``Letter`` record.

The layouts (DOMAIN.md) are in ``imr_assist/parse/formats/``, one module each: the
sample letters' sections (``standard``), the same under a cover block of case fields
(``standard_cover``), the 2013 notice with numbered decision sentences
(``notice_2013``) and the "MEDICAL PROFESSIONAL REVIEW" layout
(``professional_review``). ``parse_text`` reads a letter with the first layout of
``formats.FORMATS`` that recognises it, then the reviewer, which every layout states
the same way.
"""

from __future__ import annotations

import hashlib
import re

from imr_assist.errors import LetterError
from imr_assist.models import Letter
from imr_assist.parse import formats
from imr_assist.parse.formats.base import LetterContext, read_reviewer
from imr_assist.text import normalize

_I = re.IGNORECASE


def parse_text(text: str, source: str = "<text>", doc_id: str | None = None) -> Letter:
    """Parse a letter. Raises ``LetterError`` if it is not an IMR determination."""
    if "\x00" in text:
        raise LetterError(source, "file contains NUL bytes; not a text letter")
    nt = normalize(text)
    if not nt.norm.strip():
        raise LetterError(source, "file has no text")
    ctx = LetterContext(nt, source)
    flat = nt.flat
    for fmt in formats.FORMATS:
        if (found := fmt.detect(flat)) is not None:
            break
    else:
        if re.search(r"Independent\s+Medical\s+Review|MAXIMUS|\bIMR\b", flat, _I):
            raise LetterError(source, "no decisions section found (truncated letter?)")
        raise LetterError(source, "not an IMR determination letter (no IMR sections found)")

    letter = Letter(
        doc_id=doc_id or "",
        source=source,
        format=fmt.name,
        sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        text=text,
    )
    letter.items = fmt.read(ctx, letter, found)
    letter.reviewer = read_reviewer(ctx)
    letter.warnings = ctx.warnings
    if not letter.doc_id:
        letter.doc_id = letter.case_number or letter.sha256[:16]
    elif letter.case_number:
        letter.doc_id = letter.case_number
    return letter
