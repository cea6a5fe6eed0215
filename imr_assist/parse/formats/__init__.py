"""The letter layouts the parser knows, one module each, and the order it tries them in.

To add a layout: a module here with a class that has the ``LetterFormat`` shape
(``name``, ``detect``, ``read``; see ``base.py``), and its instance in ``FORMATS``
before any layout that would also detect its letters. Its ``name`` goes into the
records' ``format`` field.
"""

from __future__ import annotations

from imr_assist.parse.formats.base import LetterFormat
from imr_assist.parse.formats.notice_2013 import Notice2013Format
from imr_assist.parse.formats.professional import ProfessionalReviewFormat
from imr_assist.parse.formats.standard import StandardFormat
from imr_assist.parse.formats.standard_cover import StandardCoverFormat

__all__ = ["FORMATS", "LetterFormat"]

#: Tried in order; the first that detects a letter reads it. A professional review may
#: quote the other layouts' headings, and a 2013 notice may carry a decisions heading,
#: so those come first; the standard layout with a cover block before the bare one.
FORMATS: list[LetterFormat] = [
    ProfessionalReviewFormat(),
    Notice2013Format(),
    StandardCoverFormat(),
    StandardFormat(),
]
