"""Build small PDFs for tests with fpdf2.

``make_pdf`` writes text as a real text layer, laid out like a printed IMR
letter (fixed lines per page, a "Page N of M" footer), so PDF extraction can be
tested end to end without shipping binary fixtures. ``make_image_only_pdf``
writes a PDF that looks like a scan: pictures, no text.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

__all__ = ["make_pdf", "make_image_only_pdf", "to_core_font"]

# Helvetica, a core PDF font, only covers Latin-1 in fpdf2; Word-style
# punctuation common in letters is mapped to the nearest plain character.
_CORE_FONT_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u2022": "*",
        "\u00a0": " ",
        "\t": "    ",
        "\f": "",
        "\r": "",
    }
)

_LINE_HEIGHT = 5.0  # mm; 45 lines fit a Letter page with the margins below
_FONT_SIZE = 10


def to_core_font(text: str) -> str:
    """Return ``text`` with every character Helvetica (Latin-1) can show."""
    mapped = text.translate(_CORE_FONT_MAP)
    return mapped.encode("latin-1", errors="replace").decode("latin-1")


class _LetterPdf(FPDF):
    """FPDF with an optional "Page N of M" footer."""

    def __init__(self, *, footer: bool) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self._with_footer = footer

    def footer(self) -> None:  # called by fpdf2 at the end of each page
        if not self._with_footer:
            return
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        # "{nb}" is replaced by the total page count when the file is written.
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def make_pdf(
    path: Path,
    text: str,
    *,
    encrypt_password: str | None = None,
    lines_per_page: int = 45,
    footer: bool = True,
) -> Path:
    """Write ``text`` to a PDF at ``path`` with a text layer; return ``path``.

    Each input line becomes one PDF line (a long line wraps to the page width
    and counts once); a new page starts every ``lines_per_page`` input lines,
    or earlier if wrapping fills the page. ``encrypt_password`` sets a user
    password (RC4, which pypdf opens without extra packages); an empty string
    encrypts with only an owner password, so anyone can open it.
    """
    pdf = _LetterPdf(footer=footer)
    pdf.set_margins(left=20, top=15, right=20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.alias_nb_pages()
    if encrypt_password is not None:
        pdf.set_encryption(owner_password="owner-secret", user_password=encrypt_password)

    pdf.add_page()
    pdf.set_font("Helvetica", size=_FONT_SIZE)
    lines = to_core_font(text).split("\n")
    for index, line in enumerate(lines):
        if index and index % lines_per_page == 0:
            pdf.add_page()
        if line.strip():
            pdf.multi_cell(
                0,
                _LINE_HEIGHT,
                line.rstrip(),
                align="L",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
        else:
            pdf.ln(_LINE_HEIGHT)
    pdf.output(str(path))
    return path


def make_image_only_pdf(path: Path, *, pages: int = 1) -> Path:
    """Write a PDF with drawn shapes and an embedded image but no text at all."""
    from PIL import Image, ImageDraw  # fpdf2 depends on Pillow

    image = Image.new("L", (300, 400), color=255)
    draw = ImageDraw.Draw(image)
    for y in range(40, 380, 16):  # grey bars that look like lines of print
        draw.rectangle((30, y, 270, y + 6), fill=90)

    pdf = FPDF(format="Letter")
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(15, 15, 185, 250)
        pdf.image(image, x=30, y=30, w=150)
    pdf.output(str(path))
    return path
