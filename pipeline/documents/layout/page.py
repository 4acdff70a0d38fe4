"""What PDFium tells of a page's drawing: every character with its box and font, and the straight rules (table
borders, booktabs lines). Read through PDFium's C API, four calls per character (its code, box, origin and text
object; the font once per text object): about 5-10 ms of CPU for a full page of 1,700 characters."""

from __future__ import annotations

import ctypes
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as raw

#: a drawn line this thin (points) or thinner is a rule; one this long or longer counts
RULE_THICKNESS = 2.5
RULE_MIN_LENGTH = 8.0
_FIXED_PITCH = 1  # the PDF font descriptor's flag for monospaced fonts
#: codes of characters not drawn: none, PDFium's marks for unknown glyphs, and the line breaks it adds
_NOT_DRAWN = frozenset({0, 0xFFFE, 0xFFFF, 0x0D, 0x0A})
# FPDFText_GetTextObject answering the object's address (pypdfium2's binding makes a new pointer object per call,
# which cannot be compared): characters of one text object share its font, size and matrix.
_text_object = ctypes.CFUNCTYPE(ctypes.c_void_p, raw.FPDF_TEXTPAGE, ctypes.c_int)(
    ctypes.cast(raw.FPDFText_GetTextObject, ctypes.c_void_p).value or 0
)


class Char(NamedTuple):
    """A character: its advance box (as wide as the glyph advances, as high as the font), the baseline it sits on,
    its font's size and style. A tuple: a page has thousands of them."""

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
    # Each call into PDFium through ctypes costs about half a microsecond, and a page has thousands of characters:
    # per character only what differs per character is read (its code, its box and the text object it belongs
    # to); the size, font and baseline, which one text object shares (one text showing operator, set along one
    # line), are read once per run of characters of one object. (FPDFText_GetText would give every code in one
    # call, but it leaves out some, such as the mark of a hyphen at a line's end: its indexes do not match.)
    # Spaces are the only characters PDFium generates (besides line breaks), so only they are asked whether they
    # were; a space PDFium puts in a wide gap inside a text object has a matrix of its own, so a space's matrix is
    # compared too.
    handle = textpage.raw
    unicode_of, generated, loose_box, origin_of, matrix_of = (
        raw.FPDFText_GetUnicode,
        raw.FPDFText_IsGenerated,
        raw.FPDFText_GetLooseCharBox,
        raw.FPDFText_GetCharOrigin,
        raw.FPDFText_GetMatrix,
    )
    box = raw.FS_RECTF()
    matrix = raw.FS_MATRIX()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    found: list[Char] = []
    append, make = found.append, Char._make  # (_make skips NamedTuple's keyword-taking __new__)
    last_object: int | None = None
    font = _Font(0.0, False, False, None, True)
    line: tuple[float, float] | None = None  # the object's baseline, and the bottom of its first character's box
    for index in range(raw.FPDFText_CountChars(handle)):
        code = unicode_of(handle, index)
        if code in _NOT_DRAWN:
            continue
        text = "\u00ad" if code == 2 else chr(code)  # PDFium's mark for a hyphen that breaks a word at a line end
        obj = _text_object(handle, index)
        style = font
        if text.isspace():
            if generated(handle, index):  # a space PDFium saw between two words: keep it as one
                if text == " " and found and found[-1].text != " ":
                    append(found[-1]._replace(text=" ", x0=found[-1].x1))
                continue
            text = " "
            scale = (matrix.c, matrix.d) if matrix_of(handle, index, matrix) else None
            if obj is None or obj != last_object or scale != font.scale:
                style = _font(handle, index)
        elif obj is None or obj != last_object:
            style = font = _font(handle, index)
            last_object = obj
            line = None
        # the advance, not the ink: a "1" is as wide as a "0", and a comma's box does not hang below the line
        if not loose_box(handle, index, box):
            continue
        if line is not None and style is font and abs(box.bottom - line[1]) < 0.01:
            baseline = line[0]  # the object's own line (a rotated object or a vertical run reads each origin)
        else:
            baseline = origin_y.value if origin_of(handle, index, origin_x, origin_y) else box.bottom
            if style is font and font.upright and obj is not None:
                line = (baseline, box.bottom)
        append(make((text, box.left, box.bottom, box.right, box.top, baseline, style.size, style.bold, style.mono)))
    return found


#: a bold face by its name where the font does not say its weight: "Bold", "Black", "Heavy", "Semibold", "Demi",
#: Type 1 "Medi(um)" faces (NimbusRomNo9L-Medi, TeX's Times), and TeX's own bold extended fonts (CMBX10, SFBX1000,
#: LMRoman10-Bold's older cousins ecbx/tcbx) and CMB10
_BOLD_NAME = re.compile(r"bold|black|heavy|demi|-medi|^(cm|sf|ec|tc)bx|^cmb\d")
#: a face its name calls by a style other than bold, whatever weight PDFium gives it (PDFium takes a weight from the
#: font's stem width where the PDF gives none, and Chromium's PDFs give none: Caladea-Regular comes out at 704,
#: FreeSerif at 625, DejaVuSans-Bold at 455; in the fonts of the corpus and the structure sets the weight never
#: told a bold face its name did not)
_REGULAR_NAME = re.compile(r"regular|roman|book|light|thin|medium|italic|oblique|condensed|narrow|-it$")
#: a face whose name says nothing of its style is bold from this weight (700 is bold proper; 600 semibold)
NAMELESS_BOLD_WEIGHT = 700


class _Font(NamedTuple):
    size: float
    bold: bool
    mono: bool
    scale: tuple[float, float] | None  # the text matrix's (c, d), which scale the font vertically
    upright: bool  # set along a horizontal line: all its characters share the baseline


def _font(handle: raw.FPDF_TEXTPAGE, index: int) -> _Font:
    """The size a character is drawn at, and whether its font is bold and monospaced (the same for every
    character of one text object)."""
    # the font size times the text matrix's vertical scale (a PDF may set the font at 1 pt and scale it up)
    size = raw.FPDFText_GetFontSize(handle, index)
    matrix = raw.FS_MATRIX()
    scale = None
    upright = False
    if raw.FPDFText_GetMatrix(handle, index, matrix):
        scale = (matrix.c, matrix.d)
        size *= math.hypot(matrix.c, matrix.d) or 1.0
        upright = abs(matrix.b) < 1e-6 and abs(matrix.c) < 1e-6 and matrix.a > 0 and matrix.d > 0
    weight = raw.FPDFText_GetFontWeight(handle, index)
    flags = ctypes.c_int()
    name = ctypes.create_string_buffer(128)
    length = raw.FPDFText_GetFontInfo(handle, index, name, len(name), flags)
    font = name.value[: max(0, length - 1)].decode("latin-1", "replace").lower() if length else ""
    bold = is_bold(font, weight)
    mono = bool(flags.value & _FIXED_PITCH) or any(m in font for m in ("mono", "courier", "consol", "tt", "nimbusmon"))
    return _Font(size, bold, mono, scale, upright)


def is_bold(font: str, weight: int) -> bool:
    """Whether a face is bold, by its name (lower case, a subset prefix allowed) where it says, else its weight."""
    face = font.rsplit("+", 1)[-1]
    return bool(_BOLD_NAME.search(face)) or (weight >= NAMELESS_BOLD_WEIGHT and not _REGULAR_NAME.search(face))


def _rules(page: pdfium.PdfPage) -> list[Rule]:
    rules: list[Rule] = []
    for _kind, handle, (x0, y0, x1, y1) in page_objects(page, raw.FPDF_PAGEOBJ_PATH):
        w, h = x1 - x0, y1 - y0
        if (h <= RULE_THICKNESS and w >= RULE_MIN_LENGTH) or (w <= RULE_THICKNESS and h >= RULE_MIN_LENGTH):
            rules.append(Rule(x0, y0, x1, y1))
            continue
        rules.extend(_path_rules(handle))
    return rules


def page_objects(page: pdfium.PdfPage, *kinds: int) -> list[tuple[int, Any, tuple[float, float, float, float]]]:
    """The page's objects of these kinds (``raw.FPDF_PAGEOBJ_*``), in forms too (two deep), each with its kind and
    box, read straight from PDFium: pypdfium2's ``get_objects`` makes a Python object of every object on the way,
    and a page printed by Chromium has thousands of text objects (its rules took 18 ms a page that way, 3 now)."""
    found: list[tuple[int, Any, tuple[float, float, float, float]]] = []
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    get_type, get_bounds, form = raw.FPDFPageObj_GetType, raw.FPDFPageObj_GetBounds, raw.FPDF_PAGEOBJ_FORM
    pending = [(raw.FPDFPage_CountObjects, raw.FPDFPage_GetObject, page.raw, 0)]
    while pending:
        count, get, parent, depth = pending.pop()
        for index in range(count(parent)):
            obj = get(parent, index)
            kind = get_type(obj)
            if kind in kinds and get_bounds(obj, left, bottom, right, top):
                found.append((kind, obj, (left.value, bottom.value, right.value, top.value)))
            elif kind == form and depth < 2:
                pending.append((raw.FPDFFormObj_CountObjects, raw.FPDFFormObj_GetObject, obj, depth + 1))
    return found


def _path_rules(handle: Any) -> list[Rule]:
    """The axis-aligned straight segments of a larger path (a box drawn around a cell, a grid drawn as one path)."""
    count = raw.FPDFPath_CountSegments(handle)
    if count <= 1 or count > 2000:
        return []
    matrix = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(handle, matrix):
        return []
    a, b, c, d, e, f = matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f
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
