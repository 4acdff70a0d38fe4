"""What PDFium tells of a page's drawing: every character with its box and font, and the straight rules (table
borders, booktabs lines). Read through PDFium's C API, a few calls per character: about 8 ms for a full page."""

from __future__ import annotations

import ctypes
import itertools
import math
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as raw

#: a drawn line this thin (points) or thinner is a rule; one this long or longer counts
RULE_THICKNESS = 2.5
RULE_MIN_LENGTH = 8.0
BOLD_WEIGHT = 600
_FIXED_PITCH = 1  # the PDF font descriptor's flag for monospaced fonts


@dataclass(frozen=True)
class Char:
    """A character: its box, the baseline it sits on (a comma's box hangs below it), its font's size and style."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    baseline: float
    size: float
    bold: bool
    mono: bool


@dataclass(frozen=True)
class Rule:
    """A horizontal or vertical line drawn on the page."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return (self.x1 - self.x0) >= (self.y1 - self.y0)


@dataclass(frozen=True)
class PageDrawing:
    width: float
    height: float
    chars: list[Char]
    rules: list[Rule]


def read_page(page: pdfium.PdfPage) -> PageDrawing:
    """The characters (in the content stream's order) and rules of one page."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        chars = _chars(textpage)
    finally:
        textpage.close()
    return PageDrawing(width, height, chars, _rules(page))


def _chars(textpage: pdfium.PdfTextPage) -> list[Char]:
    handle = textpage.raw
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    loose = raw.FS_RECTF()
    matrix = raw.FS_MATRIX()
    flags = ctypes.c_int()
    name = ctypes.create_string_buffer(128)
    found: list[Char] = []
    last_font: tuple[int, bool, bool] | None = None
    for index in range(raw.FPDFText_CountChars(handle)):
        code = raw.FPDFText_GetUnicode(handle, index)
        if code in (0, 0xFFFE, 0xFFFF):
            continue
        text = "\u00ad" if code == 2 else chr(code)  # PDFium's mark for a hyphen that breaks a word at a line end
        if text in "\r\n":
            continue
        if raw.FPDFText_IsGenerated(handle, index):  # a space PDFium saw between two words: keep it as one
            if text == " " and found and found[-1].text != " ":
                last = found[-1]
                found.append(
                    Char(" ", last.x1, last.y0, last.x1, last.y1, last.baseline, last.size, last.bold, last.mono)
                )
            continue
        if not raw.FPDFText_GetCharBox(handle, index, left, right, bottom, top):
            continue
        if raw.FPDFText_GetLooseCharBox(handle, index, loose):  # the advance, not the ink: a "1" is as wide as a "0"
            left.value, right.value = loose.left, loose.right
        # The size the text is drawn at: the font size times the text matrix's vertical scale (a PDF may set the
        # font at 1 pt and scale it up with the matrix).
        size = raw.FPDFText_GetFontSize(handle, index)
        if raw.FPDFText_GetMatrix(handle, index, matrix):
            size *= math.hypot(matrix.c, matrix.d) or 1.0
        baseline = origin_y.value if raw.FPDFText_GetCharOrigin(handle, index, origin_x, origin_y) else bottom.value
        weight = raw.FPDFText_GetFontWeight(handle, index)
        length = raw.FPDFText_GetFontInfo(handle, index, name, len(name), flags)
        font = name.value[: max(0, length - 1)].decode("latin-1", "replace").lower() if length else ""
        key = (hash(font) ^ flags.value, weight >= BOLD_WEIGHT, False)
        if key != last_font:
            bold = weight >= BOLD_WEIGHT or "bold" in font or "black" in font or "heavy" in font
            mono = bool(flags.value & _FIXED_PITCH) or any(m in font for m in ("mono", "courier", "consol", "tt"))
            last_font = key
            style = (bold, mono)
        if text.isspace():
            found.append(Char(" ", left.value, bottom.value, right.value, top.value, baseline, size, *style))
            continue
        found.append(Char(text, left.value, bottom.value, right.value, top.value, baseline, size, *style))
    return found


def _rules(page: pdfium.PdfPage) -> list[Rule]:
    rules: list[Rule] = []
    for obj in page.get_objects(filter=(raw.FPDF_PAGEOBJ_PATH,), max_depth=3):
        x0, y0, x1, y1 = obj.get_bounds()
        w, h = x1 - x0, y1 - y0
        if (h <= RULE_THICKNESS and w >= RULE_MIN_LENGTH) or (w <= RULE_THICKNESS and h >= RULE_MIN_LENGTH):
            rules.append(Rule(x0, y0, x1, y1))
            continue
        rules.extend(_path_rules(obj))
    return rules


def _path_rules(obj: pdfium.PdfObject) -> list[Rule]:
    """The axis-aligned straight segments of a larger path (a box drawn around a cell, a grid drawn as one path)."""
    handle = obj.raw
    count = raw.FPDFPath_CountSegments(handle)
    if count <= 1 or count > 2000:
        return []
    a, b, c, d, e, f = obj.get_matrix().get()
    x, y = ctypes.c_float(), ctypes.c_float()
    points: list[tuple[float, float, int]] = []
    for index in range(count):
        segment = raw.FPDFPath_GetPathSegment(handle, index)
        if not raw.FPDFPathSegment_GetPoint(segment, x, y):
            return []
        kind = raw.FPDFPathSegment_GetType(segment)
        if kind == raw.FPDF_SEGMENT_BEZIERTO:
            return []  # curves: a drawing, not a table
        px, py = a * x.value + c * y.value + e, b * x.value + d * y.value + f
        points.append((px, py, kind))
        if raw.FPDFPathSegment_GetClose(segment) and points:
            start = next((p for p in reversed(points[:-1]) if p[2] == raw.FPDF_SEGMENT_MOVETO), points[0])
            points.append((start[0], start[1], raw.FPDF_SEGMENT_LINETO))
    rules = []
    for (ax, ay, _), (bx, by, kind) in itertools.pairwise(points):
        if kind != raw.FPDF_SEGMENT_LINETO:
            continue
        if (abs(ay - by) <= RULE_THICKNESS and abs(ax - bx) >= RULE_MIN_LENGTH) or (
            abs(ax - bx) <= RULE_THICKNESS and abs(ay - by) >= RULE_MIN_LENGTH
        ):
            rules.append(Rule(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
    return rules
