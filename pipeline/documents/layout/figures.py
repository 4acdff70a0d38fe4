"""A page's figures: charts, diagrams and pictures, found where the page draws shapes or images with short labels
scattered over and around them, so that a plot's tick labels never become a table or paragraphs of numbers and a
diagram's labels never a list.

The page's path and image objects (read from PDFium, outside the rules) are gathered into clusters of shapes that
touch or nearly touch; a cluster of some size, with shapes drawn inside it and not only along its edges (a frame, a
table's grid), is a figure when the text over it is labels (short pieces of lines, not prose, and not set out as a
grid of cells, which is a table), together with the labels just outside it (tick
labels under and beside the axes, the axes' titles), taken line by line outwards until a line that is not a
label or is a caption. A picture of some size is a figure with or without labels. A figure is one element,
``Kind.FIGURE``: its box, and its labels as its text (kept in the JSON, out of the Markdown and the passages); its
caption stays a caption beside it."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout.cells import FoundTable
from pipeline.documents.layout.lines import Segment, Word, rows_of, segments_of
from pipeline.documents.layout.page import page_objects

#: a caption's opening: what names a table or a figure
CAPTION = re.compile(r"^(table|figure|fig\.|chart|listing|exhibit)\s*[\dIVX]+[.:]?", re.IGNORECASE)
#: shapes this many font sizes apart or nearer are one cluster
JOIN = 0.6
#: a figure is at least this many font sizes wide and high
LEAST = 4.0
#: labels this many font sizes outside a figure's shapes belong to it (tick labels, an axis's title)
REACH = 3.5
#: a label is a piece of a line of at most this many words
LABEL_WORDS = 6
#: the share of a figure's area its words may cover (a box drawn around a paragraph is covered more)
DENSITY = 0.3
#: a shape covering this share of the page or more is a page's background or frame
BACKGROUND = 0.5
#: at most this many shapes are grouped (a map or a drawing of tens of thousands)
MOST_SHAPES = 3000
#: on/off for figures (off: their labels are read as text)
FIGURES = True
#: on/off for shapes that tile their cluster (a table's shaded cells) never making a figure
SHADED_CELLS = True

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class FoundFigure:
    element: Element
    #: indexes of the words it takes, in the page's list of words
    words: set[int]


def shapes(page: pdfium.PdfPage) -> tuple[list[Rect], list[Rect]]:
    """The boxes of the page's paths and of its images (in forms too)."""
    found = page_objects(page, raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_IMAGE)
    paths = [box for kind, _handle, box in found if kind == raw.FPDF_PAGEOBJ_PATH]
    images = [box for kind, _handle, box in found if kind == raw.FPDF_PAGEOBJ_IMAGE]
    return paths, images


def find_figures(
    paths: Sequence[Rect],
    images: Sequence[Rect],
    words: Sequence[Word],
    tables: Sequence[FoundTable],
    size: tuple[float, float],
    page: int,
) -> tuple[list[FoundFigure], list[FoundTable]]:
    """The figures among the page's shapes and the words no table took, and the tables that are parts of them: a
    ruled finder sees a grid in a diagram's boxes and the lines joining them, so a table mostly empty inside a
    drawing much larger than it is the drawing's (``_parts``). The rules and fills of any other table are its own."""
    if not FIGURES or not (paths or images):
        return [], []
    width, height = size
    page_area = max(1.0, width * height)
    body = _body(words)

    def usable(rect: Rect) -> bool:
        x0, y0, x1, y1 = rect
        return (x1 - x0) * (y1 - y0) < BACKGROUND * page_area and (x1 - x0 >= 0.5 or y1 - y0 >= 0.5)

    shapes = [r for r in paths if usable(r)]
    pictures = [r for r in images if usable(r)]
    parts = _parts(_clusters(shapes + pictures, JOIN * body), tables, body)
    kept = [t for t in tables if not any(t is part for part in parts)]
    claimed = [t.element.bbox for t in kept]
    taken = set().union(*(t.words for t in kept))
    clusters = _clusters(
        [r for r in shapes + pictures if not any(_inside(r, table, 2.0) for table in claimed)], JOIN * body
    )
    free = [(i, w) for i, w in enumerate(words) if i not in taken]
    index_of = {id(w): i for i, w in free}
    lines = [s for row in rows_of([w for _, w in free]) for s in segments_of(row, 1.5)]
    found: list[FoundFigure] = []
    used: set[int] = set()
    for rect, members in clusters:
        x0, y0, x1, y1 = rect
        if x1 - x0 < LEAST * body or y1 - y0 < LEAST * body or (x1 - x0) * (y1 - y0) >= BACKGROUND * page_area:
            continue
        inside = [s for s in lines if _inside(_box(s), rect, 0.5 * body) and not _taken(s, index_of, used)]
        if any(p in pictures for p in members):
            # a picture's labels are in its pixels: text over one is a cover's or a banner's, and stays text
            if not inside:
                found.append(FoundFigure(Element(Kind.FIGURE, "", page, rect, size=body), set()))
            continue
        if _drawn(members, rect) < 3 or not _labels_only(inside, rect, body) or _tiled(members, rect):
            continue
        labels = inside + _around(lines, rect, body, inside, index_of, used)
        if not labels:
            continue
        ids = {index_of[id(w)] for s in labels for w in s.words}
        used |= ids
        box = _union([rect, *(_box(s) for s in labels)])
        text = "\n".join(" ".join(s.text for s in row) for row in _rows_of_lines(labels))
        found.append(FoundFigure(Element(Kind.FIGURE, text, page, box, size=body), ids))
    # a table given to a drawing that then made no figure stays a table
    figured = [f.element.bbox for f in found]
    given = [t for t in parts if any(_inside(t.element.bbox, box, 2.0) for box in figured)]
    return found, given


def absorb(elements: list[Element]) -> list[Element]:
    """A page's elements with the labels a figure's words left out (text read apart and placed back afterwards,
    such as an axis's title set up the side) taken into the figure they stand in: a short element wholly inside a
    figure's box that holds labels."""
    figures = [e for e in elements if e.kind is Kind.FIGURE and e.text]
    if not figures:
        return elements
    out: list[Element] = []
    for element in elements:
        home = next(
            (
                f
                for f in figures
                if element.kind in (Kind.PARAGRAPH, Kind.HEADING, Kind.LIST_ITEM)
                and len(element.text.split()) <= LABEL_WORDS
                and (_inside(element.bbox, f.bbox, 2.0) or _axis_title(element, f))
            ),
            None,
        )
        if home is None:
            out.append(element)
        else:
            home.text = f"{home.text}\n{element.text}"
    return out


def _axis_title(element: Element, figure: Element) -> bool:
    """A label set sideways (taller than wide, one line across) beside a figure's box, within its height and a line or
    two from its side: an axis's title up the side of a plot, which stands outside the plot's own box."""
    x0, y0, x1, y1 = element.bbox
    fx0, fy0, fx1, fy1 = figure.bbox
    line = max(element.size, 4.0)
    if not (y1 - y0 > 2 * (x1 - x0) and x1 - x0 < 2 * line and y0 >= fy0 - 2.0 and y1 <= fy1 + 2.0):
        return False
    gap = fx0 - x1 if x1 <= fx0 else x0 - fx1
    return gap <= 2.5 * line


def _parts(clusters: list[tuple[Rect, list[Rect]]], tables: Sequence[FoundTable], body: float) -> list[FoundTable]:
    """The tables that are parts of a drawing: inside a cluster of shapes at least twice their area, and mostly
    empty (a diagram's boxes make cells between them that hold nothing)."""
    out = []
    for rect, _members in clusters:
        inside = [t for t in tables if _inside(t.element.bbox, rect, 2.0)]
        area = sum((t.element.bbox[2] - t.element.bbox[0]) * (t.element.bbox[3] - t.element.bbox[1]) for t in inside)
        if not inside or (rect[2] - rect[0]) * (rect[3] - rect[1]) < 2 * area:
            continue
        for table in inside:
            places = [text for row in table.element.rows() for text in row]
            if places and sum(1 for text in places if not text.strip()) >= 0.5 * len(places):
                out.append(table)
    return out


def _drawn(members: list[Rect], rect: Rect) -> int:
    """How many of a cluster's shapes are drawn inside it rather than along its edges (a frame or a table's grid
    is all edges and rules across; a chart's ticks, bars and lines and a diagram's boxes are not)."""
    x0, y0, x1, y1 = rect
    width, height = max(1.0, x1 - x0), max(1.0, y1 - y0)
    return sum(1 for a0, b0, a1, b1 in members if (a1 - a0) < 0.9 * width and (b1 - b0) < 0.9 * height)


def _tiled(members: list[Rect], rect: Rect) -> bool:
    """The shapes inside the cluster (its frame or background aside) cover it: the shaded cells of a table's head
    or rows, set edge to edge, not a chart's bars or a diagram's boxes, which leave room between them."""
    if not SHADED_CELLS:
        return False
    x0, y0, x1, y1 = rect
    width, height = max(1.0, x1 - x0), max(1.0, y1 - y0)
    inner = list(
        {
            (round(a0 * 2) / 2, round(b0 * 2) / 2, round(a1 * 2) / 2, round(b1 * 2) / 2)
            for a0, b0, a1, b1 in members
            if (a1 - a0) < 0.9 * width or (b1 - b0) < 0.9 * height
        }
    )
    if not inner or len(inner) > 300:
        return False
    union = _covered(inner)
    # edge to edge: they cover the cluster, and little of it twice (a line drawn across a diagram has a box as
    # large as the drawing, over the boxes it joins)
    return union >= 0.75 * width * height and sum((r[2] - r[0]) * (r[3] - r[1]) for r in inner) <= 1.15 * union


def _covered(rects: list[Rect]) -> float:
    """The area the rectangles cover together (each point once), slab by slab across x."""
    edges = sorted({x for r in rects for x in (r[0], r[2])})
    area = 0.0
    for left, right in itertools.pairwise(edges):
        spans = sorted((r[1], r[3]) for r in rects if r[0] <= left and r[2] >= right)
        covered = 0.0
        top = float("-inf")
        for y0, y1 in spans:
            if y1 > top:
                covered += y1 - max(y0, top)
                top = y1
        area += covered * (right - left)
    return area


def _labels_only(lines: list[Segment], rect: Rect, body: float) -> bool:
    """Whether the text over a cluster of shapes can be a figure's labels: every piece is short and no larger than
    the text (a banner's headline is not a label), it covers little of the cluster, it is not set out as a grid of
    cells (three rows of three pieces or more), and no three lines of several words stand one under the other at
    one left edge (the lines of a paragraph in a box)."""
    if not lines:
        return True
    if any(len(s.words) > LABEL_WORDS or s.size > 1.15 * body for s in lines):
        return False
    x0, y0, x1, y1 = rect
    covered = sum((s.x1 - s.x0) * (s.y1 - s.y0) for s in lines)
    if covered > DENSITY * max(1.0, (x1 - x0) * (y1 - y0)):
        return False
    rows = _rows_of_lines(lines)
    if sum(1 for row in rows if len(row) >= 3) >= 3:
        return False
    wordy = sorted((s for s in lines if len(s.words) >= 3), key=lambda s: -s.y1)
    for a, b, c in zip(wordy, wordy[1:], wordy[2:], strict=False):
        if abs(a.x0 - b.x0) < 1 and abs(b.x0 - c.x0) < 1 and a.y0 - c.y1 < 2.5 * (a.y1 - a.y0):
            return False
    return True


def _around(
    lines: list[Segment], rect: Rect, body: float, inside: list[Segment], index_of: dict[int, int], used: set[int]
) -> list[Segment]:
    """The labels just outside a figure's shapes, under them (tick labels, an axis's title, a legend: row after row
    within ``REACH`` font sizes, until a row that is not a label, a caption, a gap of more than a line, or a short
    row that is the first line of a paragraph going on under it) and beside them (tick labels, an axis's title set
    up the side). What stands over a figure (its title, the text before it) stays text."""
    x0, y0, x1, y1 = rect
    reach = REACH * body
    near = [
        s
        for s in lines
        if s not in inside
        and not _taken(s, index_of, used)
        and _inside(_box(s), (x0 - reach, y0 - reach, x1 + reach, y1 + 0.6 * body), 0.0)
    ]

    def label(row: list[Segment]) -> bool:
        return all(len(s.words) <= LABEL_WORDS and s.size <= 1.15 * body and not CAPTION.match(s.text) for s in row)

    out: list[Segment] = []
    under = _rows_of_lines([s for s in near if s.y1 <= y0 + 1])
    beyond = _rows_of_lines([s for s in lines if s.y1 <= y0 + 1 and s.x1 > x0 and s.x0 < x1])
    edge = y0
    for row in under:
        if edge - max(s.y1 for s in row) > 1.5 * body or not label(row):
            break
        following = next((r for r in beyond if r[0].y1 < min(s.y0 for s in row) - 0.1), None)
        if following is not None and not label(following) and min(s.y0 for s in row) - following[0].y1 < 0.5 * body:
            break  # the row opens a paragraph
        out += row
        edge = min(s.y0 for s in row)
    out += [s for s in near if s not in out and s.y0 < y1 and s.y1 > y0 and label([s])]
    return out


def _taken(line: Segment, index_of: dict[int, int], used: set[int]) -> bool:
    return any(index_of[id(w)] in used for w in line.words)


def _rows_of_lines(lines: list[Segment]) -> list[list[Segment]]:
    """Pieces of lines on one baseline, top first, each row left to right."""
    rows: list[list[Segment]] = []
    for line in sorted(lines, key=lambda s: (-s.words[0].baseline, s.x0)):
        if rows and abs(rows[-1][0].words[0].baseline - line.words[0].baseline) < 0.4 * max(line.size, 1.0):
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _clusters(rects: list[Rect], join: float) -> list[tuple[Rect, list[Rect]]]:
    """The shapes in groups that touch or stand within ``join`` of each other, with each group's box (of a drawing
    of very many shapes, the largest ``MOST_SHAPES``: the small ones lie among them)."""
    if len(rects) > MOST_SHAPES:
        rects = sorted(rects, key=lambda r: (r[2] - r[0]) * (r[3] - r[1]), reverse=True)[:MOST_SHAPES]
    parent = list(range(len(rects)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(rects)), key=lambda i: rects[i][0])
    active: list[int] = []
    for i in order:
        x0, y0, _, y1 = rects[i]
        active = [j for j in active if rects[j][2] + join >= x0]
        for j in active:
            a = rects[j]
            if a[1] - join <= y1 and y0 - join <= a[3]:
                parent[root(i)] = root(j)
        active.append(i)
    groups: dict[int, list[Rect]] = {}
    for i, rect in enumerate(rects):
        groups.setdefault(root(i), []).append(rect)
    return [(_union(members), members) for members in groups.values()]


def _union(rects: Sequence[Rect]) -> Rect:
    return (min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects))


def _box(line: Segment) -> Rect:
    return (line.x0, line.y0, line.x1, line.y1)


def _inside(inner: Rect, outer: Rect, slack: float) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def _body(words: Iterable[Word]) -> float:
    """The size most of the words' letters have."""
    sizes: Counter[float] = Counter()
    for word in words:
        sizes[round(word.size, 1)] += len(word.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0
