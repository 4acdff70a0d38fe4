"""What PDFium tells of a page's drawing: every character with its box and font, and the straight rules (table
borders, booktabs lines). Read through PDFium's C API, four calls per character (its code, box, origin and text
object; the font once per text object): about 5-10 ms of CPU for a full page of 1,700 characters.

Text set at a quarter turn (a page whose content is drawn sideways and turned upright by its ``/Rotate``, a table
set sideways, a label up a chart's axis) is read where it stands upright: the direction of each text object's
matrix says how far it is turned, the characters of each turn are moved into a ``Frame`` where they read left to
right (the page's coordinates turned by that many quarter turns). The page's own frame is the one its text stands
upright in as the page is shown (its ``/Rotate`` counted) where a good share of the text does, else the turn most
of its characters share (a landscape page drawn sideways into a portrait box). Text of the other turns is given
apart (``PageDrawing.turned``), each in its own frame with the rules drawn around it, to be read there and placed
back (``pipeline.documents.layout.orientation``)."""

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
#: on/off for the edges of filled areas (a shaded row's box, a table's tinted head) not read as rules: only filled
#: bars thin enough to be lines are
SHADING_IS_NO_RULE = True
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


class Frame(NamedTuple):
    """The page's coordinates turned clockwise by ``turn`` quarter turns and moved so that the page's box (in the
    PDF's own coordinates) starts at 0, 0: text whose direction is ``turn`` quarter turns counter-clockwise reads
    left to right in it, its lines' baselines rising up the frame."""

    turn: int
    box: tuple[float, float, float, float]

    @property
    def size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x1 - x0, y1 - y0) if self.turn % 2 == 0 else (y1 - y0, x1 - x0)

    @property
    def identity(self) -> bool:
        return self.turn == 0 and self.box[0] == 0 and self.box[1] == 0

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A point of the page in this frame."""
        x0, y0, x1, y1 = self.box
        turn = self.turn
        if turn == 0:
            return x - x0, y - y0
        if turn == 1:
            return y - y0, x1 - x
        if turn == 2:
            return x1 - x, y1 - y
        return y1 - y, x - x0

    def page_point(self, x: float, y: float) -> tuple[float, float]:
        """A point of this frame on the page (``point`` undone)."""
        x0, y0, x1, y1 = self.box
        turn = self.turn
        if turn == 0:
            return x + x0, y + y0
        if turn == 1:
            return x1 - y, x + y0
        if turn == 2:
            return x1 - x, y1 - y
        return y + x0, y1 - x

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        """A box of the page in this frame."""
        ax, ay = self.point(x0, y0)
        bx, by = self.point(x1, y1)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)

    def page_rect(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        """A box of this frame on the page."""
        ax, ay = self.page_point(x0, y0)
        bx, by = self.page_point(x1, y1)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


@dataclass(frozen=True)
class PageDrawing:
    """A page's characters and rules in the frame where most of its text stands upright (``frame``), and its size
    there; text turned against that frame is in ``turned``, each in its own."""

    width: float
    height: float
    chars: list[Char]
    rules: list[Rule]
    frame: Frame
    turned: tuple[PageDrawing, ...] = ()


def read_page(page: pdfium.PdfPage) -> PageDrawing:
    """The characters (in the content stream's order) and rules of one page, each turn of text in its own frame."""
    textpage = page.get_textpage()
    try:
        chars, turned = _chars(textpage)
    finally:
        textpage.close()
    rules = _rules(page)
    box = page.get_bbox()  # the crop box, in the page's own coordinates (before its /Rotate)
    if not turned:
        frame = Frame(0, box)
        if not frame.identity:
            chars = [_moved(c, frame) for c in chars]
            rules = [_moved_rule(r, frame) for r in rules]
        return PageDrawing(*frame.size, chars, rules, frame)
    return _turned_drawing(chars, turned, rules, box, page.get_rotation() // 90 % 4)


#: a character of text set at a turn: the turn, the character as PDFium boxes it on the page (its baseline not yet
#: known), and its origin; or a space PDFium put after the turn's last character (the character None)
_TurnedChar = tuple[int, "Char | None", float, float]


def _chars(textpage: pdfium.PdfTextPage) -> tuple[list[Char], list[_TurnedChar]]:
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
    turned: list[_TurnedChar] = []  # text set at a quarter turn (rare: read apart, after the loop)
    last_turn = 0  # the turn of the last character kept
    append, make = found.append, Char._make  # (_make skips NamedTuple's keyword-taking __new__)
    last_object: int | None = None
    font = _Font(0.0, False, False, None, True, 0)
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
                if last_turn:
                    turned.append((last_turn, None, 0.0, 0.0))
                elif text == " " and found and found[-1].text != " ":
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
        last_turn = style.turn
        if last_turn:
            if not origin_of(handle, index, origin_x, origin_y):
                origin_x.value, origin_y.value = box.left, box.bottom
            char = make((text, box.left, box.bottom, box.right, box.top, 0.0, style.size, style.bold, style.mono))
            turned.append((last_turn, char, origin_x.value, origin_y.value))
            continue
        if line is not None and style is font and abs(box.bottom - line[1]) < 0.01:
            baseline = line[0]  # the object's own line (a rotated object or a vertical run reads each origin)
        else:
            baseline = origin_y.value if origin_of(handle, index, origin_x, origin_y) else box.bottom
            if style is font and font.upright and obj is not None:
                line = (baseline, box.bottom)
        append(make((text, box.left, box.bottom, box.right, box.top, baseline, style.size, style.bold, style.mono)))
    return found, turned


def _moved(char: Char, frame: Frame) -> Char:
    x0, y0, x1, y1 = frame.rect(char.x0, char.y0, char.x1, char.y1)
    return char._replace(x0=x0, y0=y0, x1=x1, y1=y1, baseline=char.baseline - frame.box[1])


def _moved_rule(rule: Rule, frame: Frame) -> Rule:
    return Rule(*frame.rect(rule.x0, rule.y0, rule.x1, rule.y1))


#: the share of a page's characters that makes the turn they stand upright in as the page is shown its own frame
SHOWN_SHARE = 0.3


def _turned_drawing(
    upright: list[Char],
    turned: list[_TurnedChar],
    rules: list[Rule],
    box: tuple[float, float, float, float],
    shown: int,
) -> PageDrawing:
    """The page's drawing when some of its text is set at a quarter turn: each turn's characters in the frame where
    they stand upright; the page's own frame is the ``shown`` turn (the one upright as the page is shown) if it has
    ``SHOWN_SHARE`` of the characters, else the turn with the most; the others apart, each with the rules drawn
    within its reach (a sideways table's grid)."""
    by_turn: dict[int, list[Char]] = {}
    if upright:
        frame = Frame(0, box)
        by_turn[0] = upright if frame.identity else [_moved(c, frame) for c in upright]
    last_origin: tuple[int, float, float] | None = None
    ligature = 0  # how many characters before the last share its origin: the letters of one ligature glyph
    for turn, char, origin_x, origin_y in turned:
        chars = by_turn.setdefault(turn, [])
        if char is None:  # a space PDFium saw between two words
            if chars and chars[-1].text != " ":
                chars.append(chars[-1]._replace(text=" ", x0=chars[-1].x1))
            last_origin = None
            continue
        frame = Frame(turn, box)
        x0, y0, x1, y1 = frame.rect(char.x0, char.y0, char.x1, char.y1)
        chars.append(char._replace(x0=x0, y0=y0, x1=x1, y1=y1, baseline=frame.point(origin_x, origin_y)[1]))
        origin = (turn, round(origin_x, 2), round(origin_y, 2))
        ligature = ligature + 1 if origin == last_origin else 0
        last_origin = origin
        if ligature:
            # PDFium cuts a ligature's box into its letters along the page's x, which is no reading order on a
            # turned line: the letters share the whole glyph's box instead (words_of keeps them in one word)
            glyph = chars[-1 - ligature :]
            whole = (
                min(c.x0 for c in glyph),
                min(c.y0 for c in glyph),
                max(c.x1 for c in glyph),
                max(c.y1 for c in glyph),
            )
            chars[-1 - ligature :] = [c._replace(x0=whole[0], y0=whole[1], x1=whole[2], y1=whole[3]) for c in glyph]
    counts = {turn: sum(1 for c in chars if c.text != " ") for turn, chars in by_turn.items()}
    if counts.get(shown, 0) >= SHOWN_SHARE * sum(counts.values()):
        main = shown
    else:
        main = max(counts, key=lambda turn: (counts[turn], turn == shown))
    page_frame = Frame(main, box)
    main_chars = by_turn[main]
    parts: list[PageDrawing] = []
    for turn, chars in sorted(by_turn.items()):
        if turn == main or not counts[turn]:
            continue
        frame = Frame(turn, box)
        framed = [_moved_rule(r, frame) for r in rules]
        taken: set[int] = set()
        for block, drawn in _blocks(chars, framed):
            if drawn and _ruled_among(block, [rules[i] for i in drawn], main_chars, page_frame):
                main_chars = [*main_chars, *_as_lines(block, frame, page_frame)]
                continue
            parts.append(PageDrawing(*frame.size, block, [framed[i] for i in drawn], frame))
            taken.update(drawn)
        rules = [r for i, r in enumerate(rules) if i not in taken]
    if not page_frame.identity:
        rules = [_moved_rule(r, page_frame) for r in rules]
    return PageDrawing(*page_frame.size, main_chars, rules, page_frame, tuple(parts))


def _ruled_among(block: list[Char], rules: list[Rule], page_chars: list[Char], page_frame: Frame) -> bool:
    """Whether the rules a turned block touches rule more of the page's own text than the block's: a table whose
    header cells are set turned (narrow columns under tall headers), whose grid is the page's."""
    x0, y0, x1, y1 = page_frame.rect(
        min(r.x0 for r in rules), min(r.y0 for r in rules), max(r.x1 for r in rules), max(r.y1 for r in rules)
    )
    own = sum(1 for c in block if c.text != " ")
    inside = 0
    for c in page_chars:
        if c.text != " " and x0 <= (c.x0 + c.x1) / 2 <= x1 and y0 <= c.baseline <= y1:
            inside += 1
            if inside > own:
                return True
    return False


def _as_lines(block: list[Char], frame: Frame, page_frame: Frame) -> list[Char]:
    """A turned block's lines as the page frame's characters, one a line, each spanning the line's box (a turned
    header cell's text is then one word of its cell)."""
    lines: list[list[Char]] = []
    for char in block:
        last = lines[-1][-1] if lines else None
        reach = max(char.size, 1.0)
        if last is not None and abs(char.baseline - last.baseline) < 0.3 * reach and char.x0 - last.x1 < 1.2 * reach:
            lines[-1].append(char)
        else:
            lines.append([char])
    out: list[Char] = []
    for line in lines:
        text = "".join(c.text for c in line).strip()
        if not text:
            continue
        size = sorted(c.size for c in line)[len(line) // 2]
        x0, y0, x1, y1 = page_frame.rect(
            *frame.page_rect(
                min(c.x0 for c in line), min(c.y0 for c in line), max(c.x1 for c in line), max(c.y1 for c in line)
            )
        )
        bold = 2 * sum(c.bold for c in line) >= len(line)
        # the baseline that centres a word of this size on the line's box (a word's box is 0.22 of its size below
        # its baseline and 0.78 above)
        out.append(Char(text, x0, y0, x1, y1, (y0 + y1) / 2 - 0.28 * size, size, bold, all(c.mono for c in line)))
    return out


#: how far apart (in font sizes) characters of one turned block may be: along their lines (a borderless table's
#: column gap) and across them (the space between lines)
BLOCK_ALONG, BLOCK_ACROSS = 8.0, 1.5


def _blocks(chars: list[Char], rules: list[Rule]) -> list[tuple[list[Char], list[int]]]:
    """Characters of one turn (in its frame) as blocks that lie apart (a sideways table, a label up a chart's
    axis, an identifier up the margin), each with the rules (their indexes) that touch it: a grid joins the cells
    it rules, however far apart. Consecutive characters close together are taken as one run first, so the runs and
    rules compared pairwise are few. Rules that touch no turned text (by way of other rules) are left out."""
    boxes: list[list[float]] = []  # each run's reach, then each rule's
    runs: list[list[Char]] = []
    for char in chars:
        along, across = BLOCK_ALONG * char.size, BLOCK_ACROSS * char.size
        x0, y0, x1, y1 = char.x0 - along, char.y0 - across, char.x1 + along, char.y1 + across
        last = boxes[-1] if boxes else None
        if last is not None and x0 <= last[2] and x1 >= last[0] and y0 <= last[3] and y1 >= last[1]:
            last[:] = min(last[0], x0), min(last[1], y0), max(last[2], x1), max(last[3], y1)
            runs[-1].append(char)
        else:
            boxes.append([x0, y0, x1, y1])
            runs.append([char])
    count = len(boxes)
    boxes += [[r.x0 - 2, r.y0 - 2, r.x1 + 2, r.y1 + 2] for r in rules]
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            if a[0] <= b[2] and a[2] >= b[0] and a[1] <= b[3] and a[3] >= b[1]:
                parent[root(j)] = root(i)
    blocks: dict[int, tuple[list[Char], list[int]]] = {}
    for i, run in enumerate(runs):
        blocks.setdefault(root(i), ([], []))[0].extend(run)
    for i in range(count, len(boxes)):
        if root(i) in blocks:
            blocks[root(i)][1].append(i - count)
    return list(blocks.values())


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
    turn: int  # quarter turns counter-clockwise of its direction (0: left to right)


def _font(handle: raw.FPDF_TEXTPAGE, index: int) -> _Font:
    """The size a character is drawn at, and whether its font is bold and monospaced (the same for every
    character of one text object)."""
    # the font size times the text matrix's vertical scale (a PDF may set the font at 1 pt and scale it up)
    size = raw.FPDFText_GetFontSize(handle, index)
    matrix = raw.FS_MATRIX()
    scale = None
    upright = False
    turn = 0
    if raw.FPDFText_GetMatrix(handle, index, matrix):
        scale = (matrix.c, matrix.d)
        size *= math.hypot(matrix.c, matrix.d) or 1.0
        upright = abs(matrix.b) < 1e-6 and abs(matrix.c) < 1e-6 and matrix.a > 0 and matrix.d > 0
        if not upright:  # the nearest quarter turn of its direction (a slant of a few degrees reads as level)
            turn = round(math.degrees(math.atan2(matrix.b, matrix.a)) / 90) % 4
    weight = raw.FPDFText_GetFontWeight(handle, index)
    flags = ctypes.c_int()
    name = ctypes.create_string_buffer(128)
    length = raw.FPDFText_GetFontInfo(handle, index, name, len(name), flags)
    font = name.value[: max(0, length - 1)].decode("latin-1", "replace").lower() if length else ""
    bold = is_bold(font, weight)
    mono = bool(flags.value & _FIXED_PITCH) or any(m in font for m in ("mono", "courier", "consol", "tt", "nimbusmon"))
    return _Font(size, bold, mono, scale, upright, turn)


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


def _filled_only(handle: Any) -> bool:
    """The path is filled and not stroked: its outline is the edge of an area (a shaded row), not a drawn line."""
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    if not raw.FPDFPath_GetDrawMode(handle, fill, stroke):
        return False
    return bool(fill.value) and not stroke.value


def _path_rules(handle: Any) -> list[Rule]:
    """The axis-aligned straight segments of a larger path (a box drawn around a cell, a grid drawn as one path);
    of a path that is only filled (``SHADING_IS_NO_RULE``), only its thin parts (rules drawn as filled bars), not the
    edges of its areas (a shaded row's box, whose edges no one drew)."""
    count = raw.FPDFPath_CountSegments(handle)
    if count <= 1 or count > 2000:
        return []
    points = _path_points(handle, count)
    if SHADING_IS_NO_RULE and _filled_only(handle):
        return _bars(points)
    rules = []
    for (ax, ay, _), (bx, by, kind) in itertools.pairwise(points):
        if kind != raw.FPDF_SEGMENT_LINETO:
            continue
        if (abs(ay - by) <= RULE_THICKNESS and abs(ax - bx) >= RULE_MIN_LENGTH) or (
            abs(ax - bx) <= RULE_THICKNESS and abs(ay - by) >= RULE_MIN_LENGTH
        ):
            rules.append(Rule(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
    return rules


def _bars(points: list[tuple[float, float, int]]) -> list[Rule]:
    """The thin subpaths of a filled path (rules drawn as filled bars), each as one rule."""
    shapes: list[list[tuple[float, float, int]]] = []
    for point in points:
        if point[2] == raw.FPDF_SEGMENT_MOVETO or not shapes:
            shapes.append([])
        shapes[-1].append(point)
    rules = []
    for shape in shapes:
        x0, x1 = min(p[0] for p in shape), max(p[0] for p in shape)
        y0, y1 = min(p[1] for p in shape), max(p[1] for p in shape)
        w, h = x1 - x0, y1 - y0
        if (h <= RULE_THICKNESS and w >= RULE_MIN_LENGTH) or (w <= RULE_THICKNESS and h >= RULE_MIN_LENGTH):
            rules.append(Rule(x0, y0, x1, y1))
    return rules


def _path_points(handle: Any, count: int) -> list[tuple[float, float, int]]:
    """The path's points on the page, each with its segment's kind (a closed subpath ends back at its start);
    none for a path with curves (a drawing, not a table)."""
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
    return points
