"""Clean text for every output: no control characters, ligatures spelt out, unreadable glyphs counted.

Real PDFs carry fonts without a Unicode map (TeX math fonts, subset fonts): PDFium then returns the raw glyph
codes, which land in C0/C1 control characters (NUL among them). Such bytes make ``grep`` call a result binary,
break CSV and JSON consumers and are refused by PostgreSQL text columns, so no output keeps them. A glyph code
between two letters stands for a letter that is certainly missing and becomes U+FFFD (so "De?nition" does not read
as "Denition"); elsewhere (a math symbol, a bullet) it is dropped. Either way the page counts them, for a note.

Compatibility ligatures (U+FB00-U+FB06) are spelt out so that searching "Definition" finds "Deﬁnition"; nothing
else is normalized (NFKC would also rewrite superscripts, fractions and math letters that the PDF means).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.core.text import CONTROLS

LIGATURES = {chr(code): unicodedata.normalize("NFKC", chr(code)) for code in range(0xFB00, 0xFB07)}
_LIGATURE = re.compile("[\ufb00-\ufb06]")
# A run with the spaces around it: a symbol dropped from between two words leaves one space, not two.
_GLYPH_RUN = re.compile(f"(?P<lead> ?)(?P<run>{CONTROLS})(?P<trail> ?)")
MISSING = "\ufffd"


@dataclass(frozen=True)
class CleanText:
    """Text with controls removed, and how many unreadable glyphs were dropped or marked with U+FFFD."""

    text: str
    dropped: int = 0
    marked: int = 0

    @property
    def unreadable(self) -> int:
        return self.dropped + self.marked


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> CleanText:
    """Line ends as ``\\n``, ligatures spelt out, unreadable glyphs dropped or marked (see the module)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _SURROGATE.search(text):  # UTF-16 halves read one by one (a letter beyond U+FFFF): made whole, or unreadable
        text = _SURROGATE.sub("\ufffe", text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass"))
    text = _LIGATURE.sub(lambda match: LIGATURES[match.group(0)], text)
    counts = {"dropped": 0, "marked": 0}

    def replace(match: re.Match[str]) -> str:
        start, end = match.span("run")
        run = end - start
        lead, trail = match.group("lead"), match.group("trail")
        inside_word = not lead and not trail and start > 0 and end < len(text)
        if inside_word and text[start - 1].isalpha() and text[end].isalpha():
            counts["marked"] += run
            return MISSING * run
        counts["dropped"] += run
        return " " if lead and trail else lead or trail

    cleaned = _GLYPH_RUN.sub(replace, text)
    return CleanText(cleaned, counts["dropped"], counts["marked"])
