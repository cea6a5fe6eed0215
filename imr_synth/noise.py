"""PDF-style noise that the parser's normaliser undoes.

Text extracted from the real letters' PDFs has lines broken mid-sentence and
mid-heading, blank lines between lines, words split at a real hyphen ("non-" /
"MTUS"), CRLF endings, "Page 2 of 5" headers and footers, and runs of spaces. Each
of these is removed by ``imr_assist.text.normalize``, so a noisy letter has the same
gold record as its clean text. Noise never splits a word that has no hyphen and
never fuses two words, because that would change the letter's content.

``add_noise`` also returns where every character of the clean text went, so the
gold spans can be moved onto the noisy text.
"""

from __future__ import annotations

import random
import re

# The lines the normaliser drops as page headers and footers; a wrapped line that
# happened to look like one ("page 80") would lose its words, so it is never made.
_FOOTER_LIKE = re.compile(r"^(?:page\s*\d+(?:\s*(?:of|/)\s*\d+)?|-\s*\d+\s*-)$", re.IGNORECASE)


class _Out:
    """The noisy text under construction and the clean-to-noisy offset map."""

    def __init__(self, size: int) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.pos = [0] * (size + 1)

    def put(self, text: str, clean_index: int | None = None) -> None:
        if clean_index is not None:
            self.pos[clean_index] = self.length
        self.parts.append(text)
        self.length += len(text)


def add_noise(text: str, rng: random.Random) -> tuple[str, list[int]]:
    """Noisy text and ``pos``: clean offset ``i`` is at noisy offset ``pos[i]``.

    ``pos`` has ``len(text) + 1`` entries; the last is the noisy text's length.
    """
    nl = "\r\n" if rng.random() < 0.5 else "\n"
    width = rng.randint(40, 95)
    p_blank = rng.choice((0.0, 0.3, 0.6, 0.9))
    p_trailing = rng.choice((0.0, 0.5, 0.9))
    p_double = rng.choice((0.0, 0.02, 0.06))
    p_hyphen = rng.choice((0.3, 0.7))
    lines_per_page = rng.randint(25, 45)
    lines = text.split("\n")
    pages = max(1, len(lines) // lines_per_page + 1)

    out = _Out(len(text))
    if rng.random() < 0.3:
        out.put(f"Page 1 of {pages}{nl}")
    page = 1
    start = 0
    for n, line in enumerate(lines):
        pieces = _wrap(line, start, width, p_double, p_hyphen, nl, rng)
        for piece, index in pieces:
            out.put(piece, index)
        end = start + len(line)
        if n == len(lines) - 1:
            out.pos[end] = out.length
            break
        if line and rng.random() < p_trailing:
            out.put(" ")
        out.put(nl, end)
        if line and rng.random() < p_blank:
            out.put((" " if rng.random() < 0.5 else "") + nl)
        if (n + 1) % lines_per_page == 0 and page < pages:
            page += 1
            footer = f"Page {page} of {pages}" if rng.random() < 0.8 else f"- {page} -"
            out.put(f"{footer}{nl}")
            if rng.random() < 0.3:
                out.put("\f" + nl)
        start = end + 1
    noisy = "".join(out.parts)
    out.pos[len(text)] = len(noisy)
    return noisy, out.pos


def _wrap(
    line: str,
    start: int,
    width: int,
    p_double: float,
    p_hyphen: float,
    nl: str,
    rng: random.Random,
) -> list[tuple[str, int | None]]:
    """One clean line as noisy pieces ``(text, clean offset of its first char or None)``."""
    pieces: list[tuple[str, int | None]] = []
    col = 0
    for k, ch in enumerate(line):
        index = start + k
        nxt = line[k + 1] if k + 1 < len(line) else ""
        if ch == " " and col >= width and nxt not in ("", " ") and not _keep_together(line, k):
            # The space becomes a line break, with or without a trailing space.
            pieces.append(((" " if rng.random() < 0.3 else "") + nl, index))
            col = 0
            continue
        if (
            ch == "-"
            and col >= width * 0.6
            and k > 0
            and line[k - 1].isalpha()
            and nxt.isalnum()
            and rng.random() < p_hyphen
        ):
            pieces.append(("-" + nl, index))
            col = 0
            continue
        if ch == " " and rng.random() < p_double:
            pieces.append(("  ", index))
            col += 2
            continue
        pieces.append((ch, index))
        col += 1
    text = "".join(p for p, _ in pieces)
    if any(_FOOTER_LIKE.match(part.strip()) for part in text.split(nl)):
        return [(ch, start + k) for k, ch in enumerate(line)]
    return pieces


def _keep_together(line: str, k: int) -> bool:
    """Breaks the parser cannot see through: after "Qty:" a number would start a line
    that reads as a decision line of its own ("30:  Upheld")."""
    return line[max(0, k - 4) : k].lower() == "qty:"
