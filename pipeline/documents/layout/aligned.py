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

from pipeline.core.elements import Element
from pipeline.documents.layout.cells import YEAR, FoundTable, table_element
from pipeline.documents.layout.lines import Segment, Word, rows_of
from pipeline.documents.layout.textgrid import column_segments, lines_of_segments, read_grid

NUMBER = re.compile(r"^[-+−–(]?[$€£¥]?\s?\d[\d\s.,' ]*(%|‰|[kKmMbB]n?)?\)?\*?$|^[-–—.]$|^n/?a$", re.IGNORECASE)
MARKER = re.compile(r"^([-–•●▪◦∙·*‣⁃]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])$")
TABLE_CAPTION = re.compile(r"^(table|tab\.|exhibit)\s*[\dIVX]+", re.IGNORECASE)
LEADER = re.compile(r"(\.\s?){4,}|…{2,}")
#: rows further apart than this many line heights (baseline to baseline) are not one table
ROW_PITCH = 2.6
#: a column of cells with at most this many words (median) reads as table cells, not running text
SHORT_CELL = 4
#: a page a table of contents refers to
PAGE = re.compile(r"^([\divxlc]{1,5}|[A-Z]-\d{1,4})$", re.IGNORECASE)
#: on/off for rows led by dots to a price or an amount read as a table (off: dot leaders always mean contents)
LEADER_TABLES = True
#: on/off for a run of aligned rows cut where another table's header row opens (repeated, or bold labels)
SPLIT_AT_HEADS = True
#: on/off for a column of running text beside a run of aligned rows (the page's other column) left out of it
PROSE_BESIDE = True
#: a piece of more words than this (median) is running text
PROSE_WORDS = 6
#: on/off for a short piece joining two bands of a run (a figure set right under its column's name set left)
JOIN_BANDS = True
#: on/off for a run of aligned rows judged a table by its rows as read (a cell's lines joined), not its lines
CELL_ROWS_JUDGED = True
#: on/off for header lines above a run of aligned rows (group headers, a statement's dated head) read with it
HEADS_ABOVE = True


@dataclass
class TextRow:
    """A row of the page's words, cut into segments where wide gaps leave room for a column between."""

    words: list[Word]
    segments: list[Segment]
    baseline: float
    height: float


@dataclass
class Block:
    rows: list[TextRow] = field(default_factory=list)
    bands: list[list[float]] = field(default_factory=list)

    def overlaps(self, segment: Segment) -> list[int]:
        return [i for i, (x0, x1) in enumerate(self.bands) if segment.x0 < x1 and segment.x1 > x0]

    def fits(self, row: TextRow) -> bool:
        """The row crosses no gap between the block's columns, and no two of its pieces fall in one column; but a
        short piece of a row of several may join two neighbouring bands no other piece of its row touches (a figure
        set right under a name set left: one column the head and the body drew as two)."""
        seen: set[int] = set()
        for segment in row.segments:
            hit = self.overlaps(segment)
            if len(hit) > 1 and not self._joins(segment, hit, row):
                return False
            if any(h in seen for h in hit):
                return False
            seen.update(hit)
        return True

    def _joins(self, segment: Segment, hit: list[int], row: TextRow) -> bool:
        return (
            JOIN_BANDS
            and len(hit) == 2
            and len(segment.words) <= 3
            and len(row.segments) >= 2
            and not any(set(self.overlaps(other)) & set(hit) for other in row.segments if other is not segment)
        )

    def add(self, row: TextRow) -> None:
        self.rows.append(row)
        for segment in row.segments:
            hit = self.overlaps(segment)
            if hit:
                band = self.bands[hit[0]]
                band[0], band[1] = min(band[0], segment.x0), max(band[1], segment.x1, *(self.bands[h][1] for h in hit))
                for h in reversed(hit[1:]):
                    del self.bands[h]
            else:
                self.bands.append([segment.x0, segment.x1])
        self.bands.sort()


def text_rows(words: Sequence[Word]) -> list[TextRow]:
    """The words as rows, top first, each cut into segments at column gaps."""
    return [
        TextRow(row, column_segments(row), row[0].baseline, max(w.y1 - w.y0 for w in row)) for row in rows_of(words)
    ]


def find_aligned_tables(words: Sequence[Word], taken: set[int], page: int) -> list[FoundTable]:
    """The borderless tables among the words not already in a ruled table (``taken`` holds their indices)."""
    index = {id(w): i for i, w in enumerate(words)}
    free = [w for i, w in enumerate(words) if i not in taken]
    if len(free) < 6:
        return []
    rows = text_rows(free)
    found: list[FoundTable] = []
    used: set[int] = set()  # the rows of the tables found so far (a header line above is never another's row)
    for start, found_block in blocks(rows):
        block = _prose_trimmed(rows, start, found_block)
        if sum(len(r.segments) > 1 for r in block.rows) < 2:
            continue
        caption = _caption_beside(rows, start, len(block.rows))
        # judged by its rows as read (a cell's lines joined: a description over five lines is one cell, not four
        # empty ones beside it)
        alone = table_of(block.rows, page) if CELL_ROWS_JUDGED else None
        grid = alone.rows() if alone is not None else _grid(block)
        if not _looks_like_a_table(grid, block, caption=caption):
            continue
        head = heads_above(rows, start, block, used)
        element = table_of([*head, *block.rows], page) if head or alone is None else alone
        if element is not None:
            members = {index[id(w)] for row in [*head, *block.rows] for w in row.words}
            found.append(FoundTable(element, members))
            used.update(id(row) for row in rows[start - len(head) : start + len(found_block.rows)])
    return found


def table_of(
    rows: Sequence[TextRow], page: int, *, rules: Sequence[float] = (), head_end: float | None = None
) -> Element | None:
    """The table these rows hold, read into cells (``textgrid``), as an element."""
    grid = read_grid(lines_of_segments([(row.words, row.segments) for row in rows]), rules=rules, head_end=head_end)
    if grid is None:
        return None
    cells, header_rows = grid
    words = [w for row in rows for w in row.words]
    bbox = (min(w.x0 for w in words), min(w.y0 for w in words), max(w.x1 for w in words), max(w.y1 for w in words))
    return table_element(cells, bbox, page, header_rows=header_rows)


#: header lines above a run of aligned rows: at most this many, each piece of at most this many words
HEAD_LINES_ABOVE = 4
HEAD_PIECE_WORDS = 6


def heads_above(rows: list[TextRow], start: int, block: Block, used: set[int] | None = None) -> list[TextRow]:
    """The header lines right above a run of rows that do not keep to its columns (group headers over several
    sub-columns, a "Year Ended" over the dates): close above it, within its width, short pieces of words (years
    allowed, no other figure), not a caption, and not one piece over the first column as well (a title) unless a
    header line stands over it in turn (the row labels' header set midway down a header of two rows)."""
    if not HEADS_ABOVE:
        return []
    left, right = block.bands[0][0], block.bands[-1][1]
    middle = (block.bands[0][1] + block.bands[min(1, len(block.bands) - 1)][0]) / 2
    out: list[TextRow] = []
    below = block.rows[0]
    pending: TextRow | None = None  # a lone line over the first column, kept if a header line stands over it
    for i in range(start - 1, max(-1, start - 2 - HEAD_LINES_ABOVE), -1):
        page_row = rows[i]
        if used and id(page_row) in used:
            break
        row = _head_line(page_row, left, right)
        if row is None or row.baseline - below.baseline > ROW_PITCH * max(row.height, 1.0):
            break
        lone = row.segments[0] if len(row.segments) == 1 else None
        if lone is not None and block.overlaps(lone)[:1] == [0]:
            if pending is not None or lone.x1 > middle:
                break  # (reaching past the row labels' column: the table's title)
            pending = row  # the row labels' header: kept if a header line stands over it
        elif lone is not None and (
            (lone.x0 < middle and len(block.overlaps(lone)) > 1) or _centred_on_all(lone, block)
        ):
            break  # one line over the row labels' column as well as the others (reaching, or centred): a title
        else:
            if pending is not None:
                out.append(pending)
                pending = None
            out.append(row)
        below = row
    return out[::-1]


def _centred_on_all(line: Segment, block: Block) -> bool:
    """A line centred on the whole run (its row labels' column too), not on the columns right of it."""
    if len(block.bands) < 2:
        return False
    middle = (line.x0 + line.x1) / 2
    whole = (block.bands[0][0] + block.bands[-1][1]) / 2
    data = (block.bands[1][0] + block.bands[-1][1]) / 2
    slack = max(line.size, 0.03 * (block.bands[-1][1] - block.bands[0][0]))
    return abs(middle - whole) <= slack < abs(middle - data)


def _head_line(page_row: TextRow, left: float, right: float) -> TextRow | None:
    """The row's pieces over the table's width (what stands wholly beside it is another column's) when they can be
    a header's: within the width, short, no figure but years, not a caption; else None."""
    size = max(w.size for w in page_row.words)
    segments = [s for s in page_row.segments if s.x1 > left - size and s.x0 < right + size]
    if not segments or TABLE_CAPTION.match(segments[0].text):
        return None
    if any(s.x0 < left - size or s.x1 > right + size for s in segments):
        return None
    if any(NUMBER.match(s.text) and not YEAR.match(s.text) for s in segments):
        return None
    if any(len(s.text.split()) > HEAD_PIECE_WORDS for s in segments):
        return None
    return TextRow([w for s in segments for w in s.words], segments, page_row.baseline, page_row.height)


def blocks(rows: list[TextRow]) -> list[tuple[int, Block]]:
    """Runs of consecutive, closely spaced rows that keep to common columns, with where each run starts."""
    out: list[tuple[int, Block]] = []
    block, start = Block(), 0
    for i, row in enumerate(rows):
        close = bool(block.rows) and block.rows[-1].baseline - row.baseline <= ROW_PITCH * max(row.height, 1.0)
        candidate = not TABLE_CAPTION.match(row.segments[0].text)
        opens = _next_head(block, row)
        # A row of one piece (a cell's second line) may sit inside a run, never start one.
        if close and candidate and not opens and block.fits(row) and (len(row.segments) > 1 or len(block.bands) > 1):
            block.add(row)
            continue
        if block.rows:
            out.append((start, block))
        block, start = Block(), i
        if candidate and len(row.segments) > 1:
            block.add(row)
    if block.rows:
        out.append((start, block))
    return [(s, _trimmed(b)) for s, b in out if sum(len(r.segments) > 1 for r in b.rows) >= 2]


def _prose_trimmed(rows: list[TextRow], start: int, block: Block) -> Block:
    """The run without a column of running text at its side that goes on above or below it (the page's other
    column, whose lines share the table's baselines): long pieces, and more of them right over or under the run."""
    if not PROSE_BESIDE or len(block.bands) < 3:
        return block
    above = rows[start - 1] if start > 0 else None
    below = rows[start + len(block.rows)] if start + len(block.rows) < len(rows) else None

    def prose(band: list[float]) -> bool:
        pieces = [s for row in block.rows for s in row.segments if s.x0 < band[1] and s.x1 > band[0]]
        counts = sorted(_words(s.text) for s in pieces)
        if not counts or counts[len(counts) // 2] <= PROSE_WORDS:
            return False
        return any(
            s.x0 < band[1] and s.x1 > band[0] and _words(s.text) > PROSE_WORDS
            for row in (above, below)
            if row is not None
            for s in row.segments
        )

    drop = [band for band in (block.bands[0], block.bands[-1]) if prose(band)]
    if not drop:
        return block
    trimmed = Block()
    for row in block.rows:
        kept = [s for s in row.segments if not any(s.x0 < b[1] and s.x1 > b[0] for b in drop)]
        if kept:
            words = [w for s in kept for w in s.words]
            trimmed.add(TextRow(words, kept, row.baseline, row.height))
    return _trimmed(trimmed)


def _next_head(block: Block, row: TextRow) -> bool:
    """The row opens another table stacked under the run: its header again (a repeated header row), or a bold row
    of labels under rows that are not bold (a total row in bold has its figures)."""
    if not SPLIT_AT_HEADS or len(block.rows) < 2 or len(row.segments) < 2:
        return False
    if [s.text for s in row.segments] == [s.text for s in block.rows[0].segments]:
        return True
    bold = all(s.bold for s in row.segments) and not any(s.bold for s in block.rows[-1].segments)
    return bold and not any(NUMBER.match(s.text) and not YEAR.match(s.text) for s in row.segments)


def _trimmed(block: Block) -> Block:
    """The block without the one-piece rows at its end (what follows a table is not its last cell's line), but
    for a line of a column other than the first set no further down than the block's lines usually are (the last
    cell's next line)."""
    pitches = sorted(a.baseline - b.baseline for a, b in itertools.pairwise(block.rows))
    usual = pitches[len(pitches) // 2] if pitches else 0.0
    while block.rows and len(block.rows[-1].segments) == 1:
        last = block.rows[-1]
        first_band = block.overlaps(last.segments[0]) == [0]
        if len(block.rows) > 1 and not first_band and block.rows[-2].baseline - last.baseline <= 1.05 * usual:
            break
        block.rows.pop()
    return block


def _caption_beside(rows: list[TextRow], start: int, count: int) -> bool:
    """A "Table N" caption within two rows above or below the block."""
    near = rows[max(0, start - 2) : start] + rows[start + count : start + count + 2]
    return any(TABLE_CAPTION.match(r.segments[0].text) for r in near)


def _words(text: str) -> int:
    """Its words, dot leaders not counted."""
    return len(LEADER.sub(" ", text).split())


def _grid(block: Block) -> list[list[str]]:
    """The block's rows as text in its bands, for judging whether it is a table."""
    grid: list[list[str]] = []
    for row in block.rows:
        texts = [""] * len(block.bands)
        for segment in row.segments:
            col = block.overlaps(segment)[0]
            texts[col] = f"{texts[col]} {segment.text}".strip()
        grid.append(texts)
    return grid


def _looks_like_a_table(grid: list[list[str]], block: Block, *, caption: bool) -> bool:
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
    drawn = _grid(block)  # (its lines as drawn: the rows as read have their leaders dropped)
    leaders = sum(bool(LEADER.search(c)) for row in drawn for c in row) * 4 >= len(drawn)
    if leaders and (not LEADER_TABLES or all(PAGE.match(row[-1]) for row in drawn if row[-1])):
        return False  # a table of contents: titles led by dots to their pages (a price list leads to prices)
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
