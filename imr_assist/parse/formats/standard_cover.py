"""The standard layout under a cover block of case fields (``IMR Case Number: CM16-...``,
``Date Assigned:``, ``Date of Injury:``...): read as the standard layout, recorded as
``standard_cover``. A letter is this layout when its cover block holds a case number."""

from __future__ import annotations

import re

from imr_assist.constants import FORMAT_COVER
from imr_assist.parse.formats.base import COVER_FIELDS, cover_end
from imr_assist.parse.formats.standard import StandardFormat

_CASE_NUMBER = re.compile(COVER_FIELDS["case_number"], re.IGNORECASE)


class StandardCoverFormat(StandardFormat):
    name = FORMAT_COVER

    def detect(self, flat: str) -> re.Match[str] | None:
        found = super().detect(flat)
        if found is None or _CASE_NUMBER.search(flat, 0, cover_end(flat)) is None:
            return None
        return found
