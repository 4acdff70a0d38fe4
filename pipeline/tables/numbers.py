"""A table cell's text read as the number it prints: ``1,234`` is 1234, ``(12)`` is -12, ``$1.5`` is 1.5, ``12.5%``
is 0.125 (a fraction, as a spreadsheet stores a percentage), ``1.234,5`` and ``12,5`` are read the continental way.
A dash or "n/a" alone is a missing value; any other text is not a number.

Financial statements print negatives in parentheses and group thousands with commas; tables read from PDFs keep
that text, so a column of "51,544" is strings until each cell is read here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: cells that mean "nothing here" in a column of numbers
MISSING = frozenset({"", "-", "–", "—", "−", "n/a", "na", "n.a.", "nil", "none", "…", "..."})
CURRENCY = "$€£¥₹₽₩₪฿"
_SPACES = re.compile(r"\s+")
#: the spaces print shops group thousands with (a plain space between digits may be two cells run together)
_THIN_GROUP = re.compile(r"(?<=\d)[\u00a0\u2009\u202f\u2007](?=\d{3}(?!\d))")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_GROUPED_DOT = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,234,567.89
_GROUPED_COMMA = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")  # 1.234.567,89
_DECIMAL_COMMA = re.compile(r"\d+,(?!\d{3}$)\d+")  # 12,5 (three digits after the comma would be a thousands group)


@dataclass(frozen=True)
class Reading:
    """What a cell says: its number (None when it says none), and how it was written (for a spreadsheet's format)."""

    value: float | int | None
    percent: bool = False
    grouped: bool = False
    parentheses: bool = False
    decimals: int = 0


def is_missing(text: str) -> bool:
    """Whether the cell stands for no value (empty, a dash, "n/a")."""
    return _SPACES.sub("", text).lower() in MISSING


def read_number(text: str) -> Reading | None:
    """The number ``text`` prints, or None when it is not a number (a missing marker is not one either)."""
    thin_grouped = bool(_THIN_GROUP.search(text))
    cell = _SPACES.sub(" ", _THIN_GROUP.sub("", text)).strip()
    if not cell or is_missing(cell):
        return None
    negative = False
    parentheses = False
    if cell.startswith("(") and cell.endswith(")"):
        negative = parentheses = True
        cell = cell[1:-1].strip()
    percent = cell.endswith("%")
    cell = cell.rstrip("%").strip()
    cell = cell.strip(CURRENCY).strip()
    for sign in ("-", "−", "–"):
        if cell.startswith(sign):
            negative = not negative
            cell = cell[1:].strip()
            break
    else:
        cell = cell.removeprefix("+").strip()
    cell = cell.strip(CURRENCY).strip()  # -$12 as well as $-12
    if cell.startswith("(") and cell.endswith(")") and not parentheses:  # $(12)
        negative = parentheses = True
        cell = cell[1:-1].strip()
    digits, grouped = _plain_digits(cell)
    grouped = grouped or thin_grouped
    if digits is None:
        return None
    decimals = len(digits.partition(".")[2])
    number: float | int = float(digits) if decimals or percent else int(digits)
    if percent:
        number = round(number / 100, decimals + 2)
    if negative:
        number = -number
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return Reading(number, percent=percent, grouped=grouped, parentheses=parentheses, decimals=decimals)


def _plain_digits(cell: str) -> tuple[str | None, bool]:
    """``cell`` as digits with at most a decimal point, and whether it grouped thousands; None when it is no number."""
    if _NUMBER.fullmatch(cell):
        return cell, False
    if _GROUPED_DOT.fullmatch(cell):
        return cell.replace(",", ""), True
    if _GROUPED_COMMA.fullmatch(cell):
        return cell.replace(".", "").replace(",", "."), True
    if _DECIMAL_COMMA.fullmatch(cell):
        return cell.replace(",", "."), False
    return None, False
