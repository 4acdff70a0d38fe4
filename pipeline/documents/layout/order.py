"""A page's reading order: a recursive XY-cut over its words and tables, with the layout cues XY-Cut++ adds to the
plain cut (Liu, Li and Wei 2025, arXiv:2504.10258; opendataloader-pdf's ``XYCutPlusPlusSorter``).

A region is cut down a gutter, a band of white from its top to its bottom with text on both sides at the same
heights; the lines that cross the band (a title over two columns, a figure or table set across them, footnotes
across the page's foot) are set apart first (XY-Cut++'s pre-mask), and each run of them is read whole where it
stands, between the bands of columns it cuts. A region no gutter cuts is cut across at its widest white (a section
set in two columns above one set in three), and a region neither cuts is one column, read top to bottom. So two
columns are never read line by line across, whatever their lines' fonts: every line of a column is read before the
next column starts.

Cues that keep the cut from splitting what is not columns: the gutter must have text of some width on both sides
(a bullet's column or a list's numbers beside their items is not a column), the two sides must stand side by side
(over at least a few lines), and the lines crossing the gutter must be few and in few runs (white that wanders
down a justified column, a river, is crossed by many lines here and there)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

from pipeline.core.elements import Element
from pipeline.documents.layout.lines import Word, rows_of

#: a gutter is at least this many font sizes wide (a narrow one: 4 mm between columns of 11 pt text), wider than
#: the space between two words of a line (words closer than ``SPACE`` font sizes are one piece of a line)
GUTTER = 0.7
SPACE = 0.6
#: at most this share of a region's lines may cross its gutter (spanning titles, figures, notes)
CROSSING_SHARE = 0.4
#: each side of a gutter holds at least this share of the text's area (a column of bullets or numbers does not)
SIDE_SHARE = 0.1
#: most words on either side of a gutter stand on lines at least this many font sizes wide there (a column's do)
NARROWEST = 8.0
#: a white band across a region at least this many font sizes high may cut it in two when no gutter does
ACROSS = 1.2
#: a gutter's gap on a line is wider than this many times the line's usual gap between words (a river's is not)
RIVER = 1.3
#: lines over columns on one side of their gutter, this many font sizes of white above the columns, head them
HEAD = 1.0
#: notes at a region's foot are set smaller than this share of the text's size
FOOT = 0.9
#: what opens a footnote
NOTE_MARK = re.compile(r"^(\d{1,3}|[*†‡§¶¹²³⁴⁵⁶⁷⁸⁹])")
#: on/off for the cut into columns (off: every page is read as one column, line by line across)
XY_CUT = True


@dataclass(frozen=True)
class Box:
    """A word, or a table or figure already found (``table``: its element), placed on the page whole."""

    x0: float
    y0: float
    x1: float
    y1: float
    baseline: float
    size: float
    word: Word | None = None
    table: Element | None = None

    @cached_property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)


class _Row(list[Box]):
    """Boxes on one baseline, left to right, with the row's top and bottom and its pieces: the runs of boxes no
    wider apart than a word space, which cover the page across as a line of text does (a title's words with the
    spaces between them; two columns' lines on one baseline are two pieces)."""

    @cached_property
    def top(self) -> float:
        return max(b.y1 for b in self)

    @cached_property
    def bottom(self) -> float:
        return min(b.y0 for b in self)

    @cached_property
    def pieces(self) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for box in self:
            if out and box.x0 - out[-1][1] < SPACE * box.size:
                out[-1] = (out[-1][0], max(out[-1][1], box.x1))
            else:
                out.append((box.x0, box.x1))
        return out

    def crosses(self, start: float, end: float) -> bool:
        """Whether one of its pieces runs across the middle of the white from ``start`` to ``end`` and out of it
        (a page number standing in a gutter, or a line that runs a little into it, does not)."""
        middle = (start + end) / 2
        return any(x0 < middle < x1 and (x0 < start or x1 > end) for x0, x1 in self.pieces)


def columns(boxes: list[Box], body: float) -> list[list[Box]]:
    """The boxes in reading order, as runs read top to bottom: each inner list is one column (or one run of lines
    across columns), and the runs come in the order they are read."""
    if len(boxes) <= 1 or not XY_CUT:
        return [boxes] if boxes else []
    rows = _rows(boxes)
    foot = _foot(rows, body)
    if foot:
        above = columns([b for row in rows[:-foot] for b in row], body)
        if len(above) > 1:  # notes under columns are read after all of them
            return above + columns([b for row in rows[-foot:] for b in row], body)
    found = _gutter(rows, body)
    if found is None:
        cut = _across(rows, body)
        parts = [columns(part, body) for part in cut] if len(cut) > 1 else []
        if any(len(part) > 1 for part in parts):
            return [column for part in parts for column in part]
        return [boxes]  # (one column however the white cuts it: its paragraphs and code blocks are read whole)
    start, end = found
    middle = (start + end) / 2
    out: list[list[Box]] = []
    for crossing, group in itertools.groupby(rows, key=lambda row: row.crosses(start, end)):
        run = list(group)
        if crossing:
            out += columns([b for row in run for b in row], body)
        else:
            out += _sides(run, middle, body)
    return [column for column in out if column]


def _sides(band: list[_Row], middle: float, body: float) -> list[list[Box]]:
    """A band of lines between lines that cross the gutter: its left side read before its right. Lines at its top
    on one side only (a title's short last line, the authors, over the columns) are read first: with white across
    the whole band under them, or standing above the other side's text, set in from their own side's edge."""
    head = 0
    low = band[0].top
    for n, row in enumerate(band[:-1]):
        sides = {(b.x0 + b.x1) / 2 < middle for b in row}
        if len(sides) > 1:
            break
        side = sides.pop()
        low = min(low, row.bottom)
        if low - band[n + 1].top >= HEAD * body:
            head = n + 1
            continue
        below = [b for r in band[n + 1 :] for b in r]
        other = [b.y1 for b in below if ((b.x0 + b.x1) / 2 < middle) != side]
        own = [b.x0 for b in below if ((b.x0 + b.x1) / 2 < middle) == side]
        if other and own and low >= max(other) - 1 and min(b.x0 for b in row) > min(own) + 0.5 * body:
            head = n + 1
    out = columns([b for row in band[:head] for b in row], body) if head else []
    rest = [b for row in band[head:] for b in row]
    left = [b for b in rest if (b.x0 + b.x1) / 2 < middle]
    right = [b for b in rest if (b.x0 + b.x1) / 2 >= middle]
    return out + columns(left, body) + columns(right, body)


def _rows(boxes: list[Box]) -> list[_Row]:
    """Boxes on one baseline, top of the page first, each row left to right; a table or figure a row of its own."""
    return [_Row(row) for row in rows_of(boxes, alone=lambda box: box.table is not None)]


def _gutter(rows: list[_Row], body: float) -> tuple[float, float] | None:
    """The gutter that cuts the region best: white from top to bottom but for a few lines across it, with text
    of some width on both sides standing side by side. The one fewest lines cross, then the widest."""
    if len(rows) < 3:
        return None
    pieces = [piece for row in rows for piece in row.pieces]
    x_min, x_max = min(x0 for x0, _ in pieces), max(x1 for _, x1 in pieces)
    width = int(x_max - x_min) + 1
    if width < 8 * body:
        return None
    # how many pieces of lines cover each point across: +1 where one starts, -1 where it ends, summed left to right
    steps = [0] * (width + 2)
    for x0, x1 in pieces:
        first, past = max(0, int(x0 - x_min) + 1), min(width + 1, int(x1 - x_min))
        if first < past:
            steps[first] += 1
            steps[past] -= 1
    cover = list(itertools.accumulate(steps))
    limit = int(CROSSING_SHARE * len(rows))
    least = max(GUTTER * body, 3.0)
    best: tuple[tuple[int, float], tuple[float, float]] | None = None
    x = 0
    while x <= width:
        if cover[x] > limit:
            x += 1
            continue
        run = x
        while run <= width and cover[run] <= limit:
            run += 1
        # the white itself: the longest stretch where about the fewest pieces cross (white that wanders down a
        # justified column is crossed by fewer lines here and more there)
        low = min(cover[x:run])
        most = low + max(1, low // 4)
        stretch = max(
            (list(group) for fits, group in itertools.groupby(range(x, run), key=lambda i: cover[i] <= most) if fits),
            key=len,
        )
        start, end = x_min + stretch[0], x_min + stretch[-1] + 1
        x = run
        if end - start < least or start < x_min + 2 * body or end > x_max - 2 * body:
            continue
        crossing = _crossing_runs(rows, start, end, body)
        if crossing is None:
            continue
        key = (crossing, -(end - start))
        if best is None or key < best[0]:
            best = (key, (start, end))
    return best[1] if best else None


def _crossing_runs(rows: list[_Row], start: float, end: float, body: float) -> int | None:
    """How many runs of lines cross the white from ``start`` to ``end``, or None if it is no gutter: too many lines
    cross it, or in too many places, or one side holds too little text, or the sides never stand side by side."""
    middle = (start + end) / 2
    crossing = [row.crosses(start, end) for row in rows]
    count = sum(crossing)
    if count > CROSSING_SHARE * len(rows):
        return None
    runs = sum(1 for flag, _ in itertools.groupby(crossing) if flag)
    if runs > 3 and runs > 0.1 * len(rows):
        return None
    left = right = 0.0
    side_by_side = False
    wide = [0, 0]  # words on either side on lines at least NARROWEST wide there, and all words on either side
    words_on = [0, 0]
    mono = words = 0
    for flag, group in itertools.groupby(zip(crossing, rows, strict=True), key=lambda pair: pair[0]):
        if flag:
            continue
        band = [row for _, row in group]
        lefts = [b for row in band for b in row if (b.x0 + b.x1) / 2 < middle]
        rights = [b for row in band for b in row if (b.x0 + b.x1) / 2 >= middle]
        left += sum(b.area for b in lefts)
        right += sum(b.area for b in rights)
        if lefts and rights:
            if not side_by_side:
                overlap = min(max(b.y1 for b in lefts), max(b.y1 for b in rights)) - max(
                    min(b.y0 for b in lefts), min(b.y0 for b in rights)
                )
                side_by_side = overlap >= 2 * body
            for row in band:
                for side, boxes in enumerate(_split(row, middle)):
                    words_on[side] += len(boxes)
                    if boxes and boxes[-1].x1 - boxes[0].x0 >= NARROWEST * body:
                        wide[side] += len(boxes)
            mono += sum(1 for b in lefts + rights if b.word is not None and b.word.mono)
            words += len(lefts) + len(rights)
    total = left + right
    if not side_by_side or total <= 0 or min(left, right) < SIDE_SHARE * total or _river(rows, middle):
        return None
    # a column's lines are lines of text: a list of names, options or keys beside what they name is no column,
    # nor is code (whose white runs down between its tokens)
    if any(many < 0.5 * count for many, count in zip(wide, words_on, strict=True)):
        return None
    if mono > 0.5 * words:
        return None
    return runs


def _split(row: _Row, middle: float) -> tuple[list[Box], list[Box]]:
    return [b for b in row if (b.x0 + b.x1) / 2 < middle], [b for b in row if (b.x0 + b.x1) / 2 >= middle]


def _river(rows: list[_Row], middle: float) -> bool:
    """Whether white down the middle of a column is a river of justified text, not a gutter: on most lines with
    words on both sides of it, the gap across it is no wider than the line's other gaps between words."""
    lines = wide = 0
    for row in rows:
        split = next((n for n, b in enumerate(row) if (b.x0 + b.x1) / 2 >= middle), len(row))
        if split == 0 or split == len(row):
            continue
        gap = row[split].x0 - row[split - 1].x1
        others = sorted(b.x0 - a.x1 for n, (a, b) in enumerate(itertools.pairwise(row)) if n != split - 1)
        lines += 1
        wide += not others or gap > RIVER * others[len(others) // 2]
    return lines > 0 and wide < 0.5 * lines


def _foot(rows: list[_Row], body: float) -> int:
    """How many rows at the region's foot are notes: set smaller than the text, under white across the whole
    region, the first opening with a note's mark (a number, an asterisk, a dagger), and no more than a third of its
    rows (footnotes under a page's columns; a caption under a figure at a column's foot is none)."""
    lowest = list(itertools.accumulate((row.bottom for row in rows), min))  # the lowest bottom down to each row
    for n in range(1, len(rows) // 3 + 1):
        row = rows[-n]
        if any(b.size >= FOOT * body for b in row):
            return 0
        above = rows[-n - 1]
        white = lowest[-n - 1] - max(r.top for r in rows[-n:])  # (a figure over the notes reaches down beside them)
        if white >= 0.5 * body and all(b.size >= FOOT * body for b in above):
            first = row[0].word
            return n if first is not None and NOTE_MARK.match(first.text) else 0
    return 0


def _across(rows: list[_Row], body: float) -> list[list[Box]]:
    """The region cut across at each band of white at least ``ACROSS`` font sizes high (parts set in different
    columns, one above the other); one part if there is none."""
    parts: list[list[Box]] = [[]]
    low: float | None = None
    for row in rows:
        if low is not None and low - row.top >= ACROSS * body and parts[-1]:
            parts.append([])
        parts[-1] += row
        low = row.bottom if low is None else min(low, row.bottom)
    return parts
