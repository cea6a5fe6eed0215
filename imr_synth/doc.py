"""Building a letter's text while recording where each gold value lands in it.

A ``Frag`` is a list of text pieces and ``Mark`` events; a mark opens and closes a
named range (``"items.0.rationale"``). ``Doc`` concatenates fragments and turns the
events into character ranges of the finished text, so the gold record can point
at the exact characters a value came from.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    key: str
    opens: bool


Piece = str | Mark
Frag = list[Piece]
Slot = str | Frag

_FORMATTER = string.Formatter()


def mark(key: str, content: Slot) -> Frag:
    """``content`` wrapped in a named range."""
    inner = [content] if isinstance(content, str) else list(content)
    return [Mark(key, True), *inner, Mark(key, False)]


def fill(template: str, slots: Mapping[str, Slot]) -> Frag:
    """``template`` with ``{name}`` fields replaced by text or fragments.

    A missing slot raises ``KeyError``, so a template cannot silently keep a field.
    """
    out: Frag = []
    for literal, field, _spec, _conv in _FORMATTER.parse(template):
        if literal:
            out.append(literal)
        if field is None:
            continue
        value = slots[field]
        if isinstance(value, str):
            out.append(value)
        else:
            out.extend(value)
    return out


def join(parts: Iterable[Slot], sep: str) -> Frag:
    out: Frag = []
    for i, part in enumerate(parts):
        if i:
            out.append(sep)
        if isinstance(part, str):
            out.append(part)
        else:
            out.extend(part)
    return out


def plain(frag: Slot) -> str:
    """The text of a fragment, marks dropped."""
    if isinstance(frag, str):
        return frag
    return "".join(p for p in frag if isinstance(p, str))


def with_offsets(text: str, ranges: Mapping[str, tuple[int, int]], prefix: str = "") -> Frag:
    """``text`` as a fragment with ``ranges`` (offsets into it) as marks named ``prefix+key``."""
    events: list[tuple[int, int, Mark]] = []
    for key, (a, b) in ranges.items():
        # At one offset, closes come before opens so touching ranges stay apart.
        events.append((a, 1, Mark(prefix + key, True)))
        events.append((b, 0, Mark(prefix + key, False)))
    events.sort(key=lambda e: (e[0], e[1]))
    out: Frag = []
    pos = 0
    for at, _order, m in events:
        if at > pos:
            out.append(text[pos:at])
            pos = at
        out.append(m)
    if pos < len(text):
        out.append(text[pos:])
    return out


class Doc:
    """A letter's clean text, built piece by piece, and the ranges of its marks."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._len = 0
        self._open: dict[str, int] = {}
        self.ranges: dict[str, tuple[int, int]] = {}

    def add(self, frag: Slot | Mark) -> None:
        for piece in [frag] if isinstance(frag, str | Mark) else frag:
            if isinstance(piece, str):
                self._parts.append(piece)
                self._len += len(piece)
            elif piece.opens:
                self._open[piece.key] = self._len
            else:
                self.ranges[piece.key] = (self._open.pop(piece.key), self._len)

    def line(self, frag: Slot = "") -> None:
        """``frag`` and a line break."""
        self.add(frag)
        self.add("\n")

    @property
    def text(self) -> str:
        if self._open:
            raise ValueError(f"unclosed marks: {sorted(self._open)}")
        return "".join(self._parts)
