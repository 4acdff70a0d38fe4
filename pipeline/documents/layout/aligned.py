"""Tables laid out by whitespace alone, with no rules (the text-alignment method of Nurminen's thesis, as tabula's
and camelot's "stream" modes use it): consecutive rows whose pieces of text share column bands that no row
crosses. Because prose in two columns, numbered lists, tables of contents and code also line up, a run of rows is
only a table when its cells look like cells: short, with a column of numbers or a "Table N" caption beside it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from pipeline.core.elements import Cell, Element
from pipeline.documents.layout.cells import FoundTable, table_element
from pipeline.documents.layout.lines import Segment, Word, rows_of, segments_of
from pipeline.documents.layout.tables import COLUMN_GAP
from pipeline.documents.textclean import clean_text

NUMBER = re.compile(r"^[-+−–(]?[$€£¥]?\s?\d[\d\s.,' ]*(%|‰|[kKmMbB]n?)?\)?\*?$|^[-–—.]$|^n/?a$", re.IGNORECASE)
MARKER = re.compile(r"^([-–•●▪◦∙·*‣⁃]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])$")
TABLE_CAPTION = re.compile(r"^(table|tab\.)\s*[\dIVX]+", re.IGNORECASE)
LEADER = re.compile(r"(\.\s?){4,}|…{2,}")
#: rows further apart than this many line heights (baseline to baseline) are not one table
ROW_PITCH = 2.6
#: a column of cells with at most this many words (median) reads as table cells, not running text
SHORT_CELL = 4


@dataclass
class _Row:
    segments: list[Segment]
    baseline: float
    height: float


@dataclass
class _Block:
    rows: list[_Row] = field(default_factory=list)
    bands: list[list[float]] = field(default_factory=list)

    def overlaps(self, segment: Segment) -> list[int]:
        return [i for i, (x0, x1) in enumerate(self.bands) if segment.x0 < x1 and segment.x1 > x0]

    def fits(self, row: _Row) -> bool:
        """The row crosses no gap between the block's columns, and no two of its pieces fall in one column."""
        seen: set[int] = set()
        for segment in row.segments:
            hit = self.overlaps(segment)
            if len(hit) > 1 or (hit and hit[0] in seen):
                return False
            seen.update(hit)
        return True

    def add(self, row: _Row) -> None:
        self.rows.append(row)
        for segment in row.segments:
            hit = self.overlaps(segment)
            if hit:
                band = self.bands[hit[0]]
                band[0], band[1] = min(band[0], segment.x0), max(band[1], segment.x1)
            else:
                self.bands.append([segment.x0, segment.x1])
        self.bands.sort()


def find_aligned_tables(words: Sequence[Word], taken: set[int], page: int) -> list[FoundTable]:
    """The borderless tables among the words not already in a ruled table (``taken`` holds their indices)."""
    index = {id(w): i for i, w in enumerate(words)}
    free = [w for i, w in enumerate(words) if i not in taken]
    if len(free) < 6:
        return []
    rows = [_Row(segments_of(row, COLUMN_GAP), row[0].baseline, max(w.y1 - w.y0 for w in row)) for row in rows_of(free)]
    found: list[FoundTable] = []
    for start, block in _blocks(rows):
        caption = _caption_beside(rows, start, len(block.rows))
        element = _table_of(block, page, caption=caption)
        if element is not None:
            members = {index[id(w)] for row in block.rows for s in row.segments for w in s.words}
            found.append(FoundTable(element, members))
    return found


def _blocks(rows: list[_Row]) -> list[tuple[int, _Block]]:
    """Runs of consecutive, closely spaced rows that keep to common columns, with where each run starts."""
    out: list[tuple[int, _Block]] = []
    block, start = _Block(), 0
    for i, row in enumerate(rows):
        close = bool(block.rows) and block.rows[-1].baseline - row.baseline <= ROW_PITCH * max(row.height, 1.0)
        candidate = not TABLE_CAPTION.match(row.segments[0].text)
        # A row of one piece (a cell's second line) may sit inside a run, never start one.
        if close and candidate and block.fits(row) and (len(row.segments) > 1 or len(block.bands) > 1):
            block.add(row)
            continue
        if block.rows:
            out.append((start, block))
        block, start = _Block(), i
        if candidate and len(row.segments) > 1:
            block.add(row)
    if block.rows:
        out.append((start, block))
    return [(s, _trimmed(b)) for s, b in out if sum(len(r.segments) > 1 for r in b.rows) >= 2]


def _trimmed(block: _Block) -> _Block:
    """The block without the one-piece rows at its end (what follows a table is not its last cell's line)."""
    while block.rows and len(block.rows[-1].segments) == 1:
        block.rows.pop()
    return block


def _caption_beside(rows: list[_Row], start: int, count: int) -> bool:
    """A "Table N" caption within two rows above or below the block."""
    near = rows[max(0, start - 2) : start] + rows[start + count : start + count + 2]
    return any(TABLE_CAPTION.match(r.segments[0].text) for r in near)


def _words(text: str) -> int:
    return len(text.split())


def _table_of(block: _Block, page: int, *, caption: bool) -> Element | None:
    bands = block.bands
    grid: list[list[str]] = []
    for row in block.rows:
        texts = [""] * len(bands)
        for segment in row.segments:
            col = block.overlaps(segment)[0]
            texts[col] = f"{texts[col]} {segment.text}".strip()
        grid.append(texts)
    if not _looks_like_a_table(grid, block, caption=caption):
        return None
    grid, header_rows = _join_lines(grid, block)
    cells = [
        Cell(r, c, clean_text(text).text, header=r < header_rows)
        for r, row in enumerate(grid)
        for c, text in enumerate(row)
    ]
    words = [w for row in block.rows for s in row.segments for w in s.words]
    bbox = (min(w.x0 for w in words), min(w.y0 for w in words), max(w.x1 for w in words), max(w.y1 for w in words))
    return table_element(cells, bbox, page, header_rows=header_rows)


def _looks_like_a_table(grid: list[list[str]], block: _Block, *, caption: bool) -> bool:
    """Prose in columns has long cells; a list has a column of markers; a table of contents ends in rising page
    numbers or dot leaders; code is monospaced; a chart's labels leave most of the grid empty and its axis counts
    in even steps. A table is mostly filled, has short cells and, unless a caption names it, a column of data."""
    columns = len(grid[0])
    multi = sum(sum(1 for c in row if c) >= 2 for row in grid)
    if columns < 2 or multi < 3 or multi * 2 < len(grid):
        return False
    words = [w for row in block.rows for s in row.segments for w in s.words]
    if sum(w.mono for w in words) * 2 >= len(words):
        return False
    if sum(bool(LEADER.search(c)) for row in grid for c in row) * 4 >= len(grid):
        return False
    filled = sum(1 for row in grid for c in row if c)
    if filled < 0.6 * len(grid) * columns or _contents(grid):
        return False
    data = 0
    numeric = 0
    short = 0
    for col in range(columns):
        texts = [row[col] for row in grid if row[col]]
        if sum(bool(MARKER.match(t)) for t in texts) >= 0.8 * len(texts):
            continue  # bullets or list numbers: a list's markers, not a column of data
        data += 1
        short += median(_words(t) for t in texts) <= SHORT_CELL
        values = _numbers(texts)
        numeric += len(values) >= max(2, 0.6 * len(texts)) and not _even_steps(values)
    if data < 2 or short < 2:
        return False  # a list, or running text in columns
    return numeric >= 1 or caption


def _numbers(texts: list[str]) -> list[float]:
    values = []
    for text in texts:
        if NUMBER.match(text):
            digits = re.sub(r"[^\d.]", "", text.replace(",", "") if text.count(",") != 1 else text.replace(",", "."))
            try:
                values.append(float(digits))
            except ValueError:
                continue
    return values


def _even_steps(values: list[float]) -> bool:
    """1, 2, 3 (a list's or footnotes' numbers) or 0, 50, 100 (a chart's axis): a sequence, not data."""
    steps = {round(b - a, 6) for a, b in itertools.pairwise(values)}
    return len(values) >= 2 and len(steps) == 1 and steps != {0.0}


def _contents(grid: list[list[str]]) -> bool:
    """A table of contents: titles (perhaps after section numbers), then a page number in every row, never falling."""
    last = [row[-1] for row in grid]
    if not all(t.isdigit() and len(t) <= 4 for t in last):
        return False
    values = [int(t) for t in last]
    titles = [row[-2] for row in grid if row[-2]]
    return all(b >= a for a, b in itertools.pairwise(values)) and not any(NUMBER.match(t) for t in titles)


def _join_lines(grid: list[list[str]], block: _Block) -> tuple[list[list[str]], int]:
    """Header rows (those above the first row with numbers, or bold ones at the top) set as one header row when
    they are the lines of one header; a body row that has text in fewer columns, none of it numbers, and sits
    closer than rows usually do, continues the row above it (a cell's text over two lines)."""
    pitches = [a.baseline - b.baseline for a, b in itertools.pairwise(block.rows)]
    usual = median(pitches) if pitches else 0.0
    bold = 0
    while bold < len(grid) - 1 and all(s.bold for s in block.rows[bold].segments):
        bold += 1
    first_numeric = next((r for r, row in enumerate(grid) if any(NUMBER.match(c) for c in row[1:] if c)), 0)
    if 0 < bold < len(grid) - 1:
        header = bold  # bold lines over a body that is not
    elif not grid[0][0] and all(row[0] for row in grid[1:]):
        header = 1  # a first row with nothing over the stub column: the columns' names (years, say)
    else:
        header = first_numeric
    header = min(header, 3)
    out: list[list[str]] = []
    starts: list[int] = []  # the grid row each output row begins at
    for r, row in enumerate(grid):
        if r == 0 or r == header:
            out.append(list(row))
            starts.append(r)
            continue
        gap = block.rows[r - 1].baseline - block.rows[r].baseline
        tight = gap < 0.85 * usual or (gap <= 1.5 * block.rows[r].height and r < header)
        previous = out[-1]
        numbers = any(NUMBER.match(c) for c in row if c)
        fewer = sum(1 for c in row if c) < sum(1 for c in previous if c) or r < header
        if tight and fewer and (r < header or not numbers):
            out[-1] = [f"{p} {c}".strip() for p, c in zip(previous, row, strict=True)]
            continue
        out.append(list(row))
        starts.append(r)
    return out, sum(start < header for start in starts)
