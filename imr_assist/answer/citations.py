"""Citations: quotes that are checked to be verbatim in the cited letter.

A quote is verbatim when its whitespace-normalised form (the same normalisation
the parser uses: line breaks, footers and hyphenated line ends folded) occurs in
the letter's normalised text. Its span is then mapped back to the original text.
Nothing reaches the user as a citation without passing ``verify``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from imr_assist.index.catalog import Catalog
from imr_assist.models import Citation, Letter, Span
from imr_assist.text import NormalizedText, clean, normalize

#: Normalised letter views kept in memory.
VIEWS_CACHED = 256


@dataclass
class Located:
    quote: str
    span: Span


class LetterTexts:
    """Normalised views of letters, built once per letter text.

    Views are keyed by doc id and sha256, like the catalog's parsed records: a letter
    re-ingested with a new text while an ``Assistant`` is open gets a new view, so a
    quote is never checked against the text the letter had before.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Bounded, the most recently used kept: a view is a few hundred KB, and one
        # question over a topic may read every letter of a large index.
        self._views: OrderedDict[str, tuple[str, NormalizedText]] = OrderedDict()

    def letter(self, doc_id: str) -> Letter | None:
        return self.catalog.letter(doc_id)

    def view(self, doc_id: str) -> NormalizedText | None:
        letter = self.catalog.letter(doc_id)
        if letter is None:
            return None
        cached = self._views.get(doc_id)
        if cached is None or cached[0] != letter.sha256:
            cached = self._views[doc_id] = (letter.sha256, normalize(letter.text))
            if len(self._views) > VIEWS_CACHED:
                self._views.popitem(last=False)
        self._views.move_to_end(doc_id)
        return cached[1]

    def locate(self, doc_id: str, quote: str) -> Located | None:
        """Where ``quote`` stands verbatim in the letter, or None."""
        nt = self.view(doc_id)
        q = clean(quote).strip()
        if nt is None or not q:
            return None
        pos = nt.flat.find(q)
        if pos < 0:
            return None
        return Located(quote=q, span=nt.span(pos, pos + len(q)))

    def quote_at(self, doc_id: str, start: int, end: int) -> str | None:
        letter = self.catalog.letter(doc_id)
        if letter is None or not (0 <= start < end <= len(letter.text)):
            return None
        return clean(letter.text[start:end]).strip()


def verify(texts: LetterTexts, c: Citation) -> Citation | None:
    """The citation with its span confirmed or corrected, or None if not verbatim."""
    at = texts.quote_at(c.doc_id, c.start, c.end)
    if at is not None and at == clean(c.quote).strip():
        return c
    found = texts.locate(c.doc_id, c.quote)
    if found is None:
        return None
    return c.model_copy(
        update={"quote": found.quote, "start": found.span.start, "end": found.span.end}
    )
