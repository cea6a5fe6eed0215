"""Normalising letter text while keeping a map back to the original characters.

PDF text arrives with CRLF endings, blank lines between lines, page footers,
runs of spaces and words hyphenated across lines. The parser works on a
normalised view and every span it reports is mapped back to the original text,
so a field can always be shown where the letter says it.

Normalised view rules:
- line endings (``\\r\\n``, ``\\r``, ``\\f``) become ``\\n``; blank lines and page
  footers ("Page 2 of 5") are dropped;
- runs of spaces, tabs and no-break spaces become one space; lines are stripped;
- a line ending in a hyphen after a letter is joined to the next line with no
  space ("non-" / "MTUS" -> "non-MTUS"), since the hyphen is real in these letters.

Dropped blank lines are remembered: ``paragraph_starts`` holds the normalised offset
of every line that followed a blank line in the original. PDF text marks paragraphs
with lines holding one space; a page break ("\\n\\f\\n" between pages, with the
empty lines around it) alone is not a paragraph break, since a page may end in the
middle of a sentence or of an item heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from imr_assist.models import Span

_LINE = re.compile(r"[^\r\n\f]*(?:\r\n|[\r\n\f]|$)")
_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
# Page headers and footers seen in PDF text: "Page 2 of 5", "- 3 -", "Page 4".
_FOOTER = re.compile(r"^(?:page\s*\d+(?:\s*(?:of|/)\s*\d+)?|-\s*\d+\s*-)$", re.IGNORECASE)


@dataclass
class NormalizedText:
    """The normalised view of ``original`` and, per character, where it came from."""

    original: str
    norm: str
    offsets: list[int]
    paragraph_starts: frozenset[int] = frozenset()

    def value(self, start: int, end: int) -> str:
        """Normalised text of ``norm[start:end]`` as a one-line field value."""
        return self.norm[start:end].replace("\n", " ")

    def span(self, start: int, end: int) -> Span:
        """Map the normalised range ``[start, end)`` to the original text."""
        if end <= start:
            pos = self.offsets[start] if start < len(self.offsets) else len(self.original)
            return Span(start=pos, end=pos)
        return Span(start=self.offsets[start], end=self.offsets[end - 1] + 1)

    def field(self, start: int, end: int) -> tuple[str, Span]:
        """Trimmed value and original span of a normalised range."""
        while start < end and self.norm[start] in " \n":
            start += 1
        while end > start and self.norm[end - 1] in " \n":
            end -= 1
        return self.value(start, end), self.span(start, end)

    @cached_property
    def flat(self) -> str:
        """``norm`` with line breaks as spaces; same length and offsets as ``norm``."""
        return self.norm.replace("\n", " ")


def normalize(text: str) -> NormalizedText:
    """Build the normalised view of a letter's text (see module docstring)."""
    out: list[str] = []
    offsets: list[int] = []
    paragraphs: set[int] = set()
    pending_break: int | None = None  # original index of the line break to emit
    # The run of dropped lines since the last kept line: whether one of them was a
    # blank line (whitespace, or empty away from a page break) and whether a page
    # break was among them.
    blank_run = page_run = False
    for m in _LINE.finditer(text):
        raw = m.group(0)
        if not raw:
            break
        line_start = m.start()
        content = raw.rstrip("\r\n\f")
        stripped = content.strip(" \t\u00a0")
        if not stripped or _FOOTER.match(_SPACE.sub(" ", stripped)):
            if stripped:
                pass  # a page footer: neither a paragraph nor a page break
            elif "\f" in raw:
                page_run = True
            elif content:
                blank_run = True  # a line of spaces: PDF text's paragraph mark
            elif not page_run and not text.startswith("\f", m.end()):
                blank_run = True  # an empty line that is not part of a page break
            continue
        lead = len(content) - len(content.lstrip(" \t\u00a0"))
        pos = line_start + lead
        if out and pending_break is not None:
            joined_hyphen = out[-1] == "-" and len(out) > 1 and out[-2].isalpha()
            if not (joined_hyphen and stripped[0].isalnum()):
                out.append("\n")
                offsets.append(pending_break)
                if blank_run:
                    paragraphs.add(len(out))
        blank_run = page_run = False
        end = pos + len(stripped)
        # each run of spaces is one space at the run's start; the rest is copied
        i = pos
        for run in _SPACE.finditer(text, pos, end):
            out.extend(text[i : run.start()])
            offsets.extend(range(i, run.start()))
            out.append(" ")
            offsets.append(run.start())
            i = run.end()
        out.extend(text[i:end])
        offsets.extend(range(i, end))
        pending_break = end
    return NormalizedText(
        original=text, norm="".join(out), offsets=offsets, paragraph_starts=frozenset(paragraphs)
    )


def clean(text: str) -> str:
    """Normalised one-line form of any piece of letter text."""
    return normalize(text).flat


def collapse_ws(text: str) -> str:
    """Plain whitespace folding, for comparing quotes."""
    return " ".join(text.split())
