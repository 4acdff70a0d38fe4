"""A table ruled with horizontal rules only (booktabs' top, middle and bottom rules; a rule between every row; an
amount's underline and a total's overline in a statement): the rules say where it is, the text where it ends.

Rules rarely bound the whole table: a statement underlines only its amounts, not the labels left of them; a table
ruled between its rows has no rule over its head nor under its last row. So the rows that keep to the same columns
as the rows between the rules (``aligned.blocks``), above, below and beside them, are the table's too, with the
header lines over them; the rule under the head (the last rule above the first row of figures, or the first rule
with text over it) ends the header, and no cell's lines run across a rule."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from pipeline.documents.layout.aligned import TABLE_CAPTION, Block, TextRow, blocks, heads_above, table_of, text_rows
from pipeline.documents.layout.cells import YEAR, FoundTable
from pipeline.documents.layout.lines import Word
from pipeline.documents.layout.page import Rule
from pipeline.documents.layout.textgrid import FIGURE, column_segments, lines_of_segments

TOLERANCE = 2.0
#: on/off for the rows beyond the rules (above, below, beside) that keep to the ruled rows' columns
GROW = True
#: how far (line heights) above and below the rules the table's rows are looked for
REACH = 4.0
#: a cell of more words than this (median over the table) is a paragraph: the rules box running text, not a table
PROSE_CELL = 15
#: a column beside the rules is the table's when its pieces are this many words or fewer (median): labels, not prose
BESIDE_WORDS = 7
#: on/off for rules of one extent cut into several tables where a caption or a line of running text lies between
SPLIT_STACKED = True


def stacked(hs: Sequence[Rule], words: Sequence[Word]) -> list[list[Rule]]:
    """Horizontal rules of about one extent, cut where what lies between two of them is not a table's: nothing (one
    table's bottom rule over the next one's top rule), a caption ("Table 2: ..."), or a line reaching past the rules'
    ends (running text); each part of two rules or more."""
    ordered = sorted(hs, key=lambda h: -(h.y0 + h.y1) / 2)
    if not SPLIT_STACKED or len(ordered) < 4:
        return [ordered]
    left, right = min(h.x0 for h in hs), max(h.x1 for h in hs)
    parts: list[list[Rule]] = [[ordered[0]]]
    for above, below in itertools.pairwise(ordered):
        top, bottom = (above.y0 + above.y1) / 2, (below.y0 + below.y1) / 2
        between = [w for w in words if bottom < (w.y0 + w.y1) / 2 < top and w.x1 > left and w.x0 < right]
        rows = text_rows(between)
        size = max((w.size for w in between), default=0.0)
        if not rows or any(
            TABLE_CAPTION.match(row.segments[0].text)
            or row.segments[0].x0 < left - 2 * size
            or row.words[-1].x1 > right + 2 * size
            for row in rows
        ):
            parts.append([below])
        else:
            parts[-1].append(below)
    return [part for part in parts if len(part) >= 2]


def ruled_rows(hs: Sequence[Rule], words: Sequence[Word], page: int) -> FoundTable | None:
    """The table the horizontal rules ``hs`` rule, among ``words`` (a page's, or a frame's)."""
    top, bottom = max((h.y0 + h.y1) / 2 for h in hs), min((h.y0 + h.y1) / 2 for h in hs)
    left, right = min(h.x0 for h in hs) - TOLERANCE, max(h.x1 for h in hs) + TOLERANCE
    inside = {i for i, w in enumerate(words) if _within(w, left, bottom, right, top)}
    if not inside:
        return None
    ys = sorted({round((h.y0 + h.y1) / 2, 1) for h in hs}, reverse=True)
    rows = text_rows([words[i] for i in sorted(inside)])
    counts = sorted(len(lines.pieces) for lines in lines_of_segments([(row.words, row.segments) for row in rows]))
    if len(counts) < 2 or counts[len(counts) // 2] < 2:
        return None  # the rules hold no columns: a chart's grid lines, rules between paragraphs
    if GROW:
        rows = _grown(rows, words, inside, (left, bottom, right, top))
    element = table_of(rows, page, rules=ys, head_end=_head_end(rows, ys))
    if element is None or _running_text(element.rows()):
        return None
    index = {id(w): i for i, w in enumerate(words)}
    return FoundTable(element, {index[id(w)] for row in rows for w in row.words})


def _running_text(rows: list[list[str]]) -> bool:
    """Cells that are paragraphs (most of them longer than ``PROSE_CELL`` words): text set in columns between
    rules (a back cover, a boxed note in two columns), not a table."""
    lengths = sorted(len(cell.split()) for row in rows for cell in row if cell)
    return bool(lengths) and lengths[len(lengths) // 2] > PROSE_CELL


def _within(word: Word, x0: float, y0: float, x1: float, y1: float) -> bool:
    cx, cy = (word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2
    return x0 <= cx <= x1 and y0 <= cy <= y1


def _grown(
    rows: list[TextRow], words: Sequence[Word], inside: set[int], box: tuple[float, float, float, float]
) -> list[TextRow]:
    """The ruled rows with the page's rows around them that keep to their columns (the run of aligned rows that
    holds most of the ruled words), beside them the pieces of their own rows in those columns, and the header
    lines over it all; the ruled rows alone where no run holds most of them."""
    left, bottom, right, top = box
    height = max(r.height for r in rows)
    near = [w for w in words if bottom - REACH * height <= w.baseline <= top + REACH * height]
    around = text_rows(near)
    ruled = {id(words[i]) for i in inside}
    best: tuple[int, int, Block] | None = None
    for start, block in blocks(around):
        held = sum(1 for row in block.rows for w in row.words if id(w) in ruled)
        if best is None or held > best[0]:
            best = (held, start, block)
    if best is None or best[0] < 0.6 * len(ruled):
        return rows
    _, start, block = best
    x0, x1 = _reach(block, left, right)
    members = {id(row) for row in block.rows}
    kept: list[TextRow] = []
    first = None
    for n, row in enumerate(around):
        if id(row) in members or any(id(w) in ruled for w in row.words):
            own = [w for w in row.words if x0 - TOLERANCE <= (w.x0 + w.x1) / 2 <= x1 + TOLERANCE]
            if own:
                kept.append(TextRow(own, column_segments(own), row.baseline, row.height))
                first = n if first is None else first
    if not kept or first is None:
        return rows
    bands = [list(band) for band in block.bands]
    bands[0][0], bands[-1][1] = min(x0, bands[0][0]), max(x1, bands[-1][1])
    spread = Block(rows=[kept[0]], bands=bands)
    return [*heads_above(around, first, spread), *kept]


def _reach(block: Block, left: float, right: float) -> tuple[float, float]:
    """How far left and right of its rules the table runs: over the run's columns beside the rules that hold
    labels (a statement's row names), up to the first that holds running text (the page's other column)."""
    texts: list[list[int]] = [[] for _ in block.bands]
    for row in block.rows:
        for segment in row.segments:
            hit = block.overlaps(segment)
            if hit:
                texts[hit[0]].append(len(segment.words))
    inside = [i for i, (a, b) in enumerate(block.bands) if a < right and b > left]
    if not inside:
        return left, right

    def labels(i: int) -> bool:
        counts = sorted(texts[i])
        return bool(counts) and counts[len(counts) // 2] <= BESIDE_WORDS and counts[-1] <= 2 * BESIDE_WORDS

    first, last = inside[0], inside[-1]
    while first > 0 and labels(first - 1):
        first -= 1
    while last + 1 < len(block.bands) and labels(last + 1):
        last += 1
    return min(left, block.bands[first][0]), max(right, block.bands[last][1])


def _head_end(rows: Sequence[TextRow], ys: Sequence[float]) -> float | None:
    """The height of the rule under the head: the last rule above the first line with a figure (other than a
    year) beside its first piece, or, in a table of words, the first rule with lines above it; None when no rule
    lies between the table's lines."""
    lines = lines_of_segments([(row.words, row.segments) for row in rows])
    if len(lines) < 2:
        return None
    between = [y for y in ys if lines[-1].baseline < y < lines[0].baseline]
    figure = next(
        (line for line in lines if any(FIGURE.match(p.text) and not YEAR.match(p.text) for p in line.pieces[1:])),
        None,
    )
    if figure is not None:
        above = [y for y in between if y > figure.baseline]
        return min(above) if above else None
    return max(between) if between else None
