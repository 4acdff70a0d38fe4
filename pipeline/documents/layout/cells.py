"""A found table as an element: its placed cells with empty rows and columns dropped, and how many of its top rows
are its header. Every table finder (ruled grids, rows between rules, tables aligned by whitespace) ends here, so
the header is told the same way whatever drew the table: rows a spanning head cell reaches down over, the row of
sub-column names under a group header, bold rows over a plain body, a row of labels over columns of figures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core.elements import Cell, Element, Kind

#: on/off for the header read from the table's own shape (rows a head cell spans, sub-columns under a group
#: header, a row of labels over figures); off, only what the finder says (bold, a rule under the head) counts
HEAD_FROM_SHAPE = True
#: a header deeper than this is not a header (a table of bold rows)
MOST_HEAD_ROWS = 5
#: a figure: an amount, a count, a share, a signed or bracketed number, a dash or "n/a" in a figure's place
FIGURE = re.compile(
    r"^[-+−–(]?[$€£¥]?\s?\d[\d\s.,' ]*(%|‰|[kKmMbB]n?)?\)?\*?$|^[-–—]$|^n/?a$",
    re.IGNORECASE,
)
#: a year, which names a column as often as it is one of its figures
YEAR = re.compile(r"^(19|20)\d\d[a-z*]?$")


@dataclass
class FoundTable:
    element: Element
    #: the words inside the table, which the reading order then leaves out
    words: set[int]


def table_element(
    cells: list[Cell],
    bbox: tuple[float, float, float, float],
    page: int,
    *,
    header_rows: int = -1,
    bold_rows: Sequence[bool] = (),
) -> Element | None:
    """The table, with empty rows and columns dropped; None when what is left is not a table (one row or column).
    ``header_rows`` is the finder's word when it knows (a rule under the head); -1 leaves it to the table's shape and
    ``bold_rows`` (whether each row's text is all bold, top first)."""
    filled_rows = sorted({c.row for c in cells if c.text})
    filled_cols = sorted({c.col for c in cells if c.text})
    if len(filled_rows) < 2 or len(filled_cols) < 2:
        return None
    row_at = {r: i for i, r in enumerate(filled_rows)}
    col_at = {c: i for i, c in enumerate(filled_cols)}
    kept: list[Cell] = []
    for cell in cells:
        if (cell.row not in row_at or cell.col not in col_at) and not cell.text:
            continue
        rows = [row_at[r] for r in range(cell.row, cell.row + cell.row_span) if r in row_at]
        cols = [col_at[c] for c in range(cell.col, cell.col + cell.col_span) if c in col_at]
        if not rows or not cols:
            continue
        kept.append(Cell(rows[0], cols[0], cell.text, rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))
    if header_rows < 0:
        bold = [bold_rows[r] for r in filled_rows if r < len(bold_rows)]
        header_rows = head_rows(kept, bold)
    kept = [Cell(c.row, c.col, c.text, c.row_span, c.col_span, c.row < header_rows) for c in kept]
    kept.sort(key=lambda c: (c.row, c.col))
    return Element(Kind.TABLE, "", page, bbox, cells=kept, header_rows=header_rows, pages=[page])


def head_rows(cells: Sequence[Cell], bold_rows: Sequence[bool] = ()) -> int:
    """How many top rows are the header: the bold rows at the top over a body that is not bold, or a first row
    that spans columns; then (``HEAD_FROM_SHAPE``) a first row of labels over columns of figures, every row a head
    cell reaches down over, and the row of sub-column names under a group header. At least one body row is left."""
    n_rows = max((c.row + c.row_span for c in cells), default=0)
    n_cols = max((c.col + c.col_span for c in cells), default=0)
    if n_rows < 2:
        return 0
    last = min(MOST_HEAD_ROWS, n_rows - 1)
    bold = 0
    while bold < len(bold_rows) and bold_rows[bold]:
        bold += 1
    head = bold if 0 < bold < len(bold_rows) else 0
    first = [c for c in cells if c.row == 0]
    if any(c.col_span > 1 for c in first):
        head = max(head, 1)
    if not HEAD_FROM_SHAPE:
        return min(head, last)
    grid = [["" for _ in range(n_cols)] for _ in range(n_rows)]
    for cell in cells:
        grid[cell.row][cell.col] = cell.text
    if head == 0 and _labels_over_figures(grid):
        head = 1
    while 0 < head < last:
        reach = max((c.row + c.row_span for c in cells if c.row < head), default=head)
        if reach > head:
            head = min(reach, last)
        elif _names_under_groups(cells, grid, head):
            head += 1
        else:
            break
    return min(head, last)


def is_label(text: str) -> bool:
    """A cell that names rather than counts: words, or a year."""
    return bool(text) and (not FIGURE.match(text) or bool(YEAR.match(text)))


def _labels_over_figures(grid: list[list[str]]) -> bool:
    """The first row holds only labels (or nothing) and names columns that hold figures: a column of the body,
    other than the first, mostly figures that are not years."""
    first = [t for t in grid[0] if t]
    if len(first) < 2 or not all(is_label(t) for t in first):
        return False
    for col in range(1, len(grid[0])):
        values = [row[col] for row in grid[1:] if row[col]]
        figures = [t for t in values if FIGURE.match(t) and not YEAR.match(t)]
        if grid[0][col] and len(values) >= 2 and len(figures) >= 0.6 * len(values):
            return True
    return False


def _names_under_groups(cells: Sequence[Cell], grid: list[list[str]], row: int) -> bool:
    """The row under the header's last row names the columns a group header there spans: every position under
    it is filled, each with a label."""
    n_cols = len(grid[0])
    groups = [c for c in cells if c.row + c.row_span == row and 1 < c.col_span < n_cols]
    if not groups:
        return False
    under = [grid[row][col] for g in groups for col in range(g.col, g.col + g.col_span)]
    return all(is_label(text) for text in under)
