"""The text lines of a table with no vertical rules read into cells: what a table between horizontal rules and a
table aligned by whitespace alone share once their lines are known.

The columns are the bands the body's pieces of text fill (a piece: a row's words up to a gap of ``COLUMN_GAP`` font
sizes). Dot leaders are dropped first, so a label's leaders do not reach over to its amount. A band of lone currency
signs is one column with the amounts right of it ("$" "1,204": "$1,204"), a band of lone percent signs or closing
brackets one with the figures left of it. The lines of one cell (a description over several lines, a list in a
cell, a header cell of several lines) are one row: where a table's rows stand further apart than the lines inside a
cell, a line at the tight pitch goes on the row above it unless a rule lies between them or it brings a figure of
its own. Header lines are those above the rule that ends the head, or the bold lines over a plain body, or those
above the first line with a figure; a header cell over several sub-columns spans those it stands over, centred or
aligned on them, as far as the next header cell of its row; a header cell with nothing under it in the header spans
down to the header's last row (a stub header beside group headers)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from pipeline.core.elements import Cell
from pipeline.documents.layout.cells import FIGURE, YEAR
from pipeline.documents.layout.lines import Segment, Word, segments_of
from pipeline.documents.textclean import clean_text

#: a gap between words this many font sizes wide separates two columns
COLUMN_GAP = 0.9
#: on/off for the lines of one cell read as one row (where rows stand further apart than a cell's lines)
CELL_LINES = True
#: on/off for currency signs, percent signs and closing brackets set in columns of their own joined to their figures
JOIN_SIGNS = True
#: on/off for dot leaders dropped from cells
DROP_LEADERS = True
#: on/off for a header cell spanning the sub-columns it stands over (centred or aligned), not only those it touches
GROUP_HEADERS = True
#: on/off for two figures set further apart than words are read as two columns however narrow the gap
FIGURES_APART = True
#: at most this many lines at the top are the header
MOST_HEAD_LINES = 8

CURRENCY = re.compile(r"^[$€£¥]$")
#: what is set after a figure, in a column of its own: a percent sign, a bracket closing a negative amount
AFTER = re.compile(r"^(%|\)|%\))$")
#: a word of dot leaders (". . . ." set as separate dots, or as one run)
LEADER_WORD = re.compile(r"^[.·…_]+$")


@dataclass
class Piece:
    """A piece of a line: words set together, leaders dropped."""

    words: tuple[Word, ...]
    text: str
    x0: float
    x1: float
    bold: bool
    size: float


@dataclass
class Line:
    pieces: list[Piece]
    baseline: float

    @property
    def size(self) -> float:
        return max(p.size for p in self.pieces)

    @property
    def bold(self) -> bool:
        return all(p.bold for p in self.pieces)

    def figures(self, *, years: bool = True) -> bool:
        """Whether it holds a figure (a year counted as one unless ``years`` is false)."""
        return any(FIGURE.match(p.text) and (years or not YEAR.match(p.text)) for p in self.pieces)


def pieces_of(row: Sequence[Word], gap: float = COLUMN_GAP) -> list[Piece]:
    """A row of words as its pieces (cut at column gaps and after dot leaders), leaders dropped."""
    return pieces_of_segments(column_segments(row, gap))


def pieces_of_segments(segments: Sequence[Segment]) -> list[Piece]:
    """A row's segments (``column_segments``) as its pieces, leaders dropped."""
    pieces = []
    for segment in segments:
        words = list(segment.words)
        # (leaders end a segment where they are: column_segments; a column gap may leave two dots of them)
        if _leaders_end(words, len(words) - 1, least=2):
            while words and LEADER_WORD.match(words[-1].text):
                words.pop()
        if not words:
            continue
        piece = _piece(words)
        if piece.text:
            pieces.append(piece)
    return pieces


def _piece(words: Sequence[Word]) -> Piece:
    text = clean_text(" ".join(w.text for w in words)).text.strip()
    letters = sum(len(w.text) for w in words)
    bold = sum(len(w.text) for w in words if w.bold) >= 0.8 * letters
    return Piece(tuple(words), text, words[0].x0, words[-1].x1, bold, max(w.size for w in words))


def column_segments(row: Sequence[Word], gap: float = COLUMN_GAP) -> list[Segment]:
    """A row cut at column gaps (``gap`` font sizes), after a run of dot leaders (they end a label's cell however
    close they run to the next column: a price list's "Item . . . . . hour"), and between two figures set further
    apart than words are (narrow columns of right-set amounts)."""
    out: list[Segment] = []
    for segment in segments_of(row, gap):
        words = list(segment.words)
        start = 0
        for n in range(len(words) - 1):
            ends_leaders = not LEADER_WORD.match(words[n + 1].text) and LEADER_WORD.match(words[n].text)
            if (ends_leaders and _leaders_end(words, n)) or _figures_apart(words[n], words[n + 1]):
                out.append(Segment(tuple(words[start : n + 1])))
                start = n + 1
        out.append(Segment(tuple(words[start:])) if start else segment)
    return out


def _figures_apart(left: Word, right: Word) -> bool:
    """A figure (or an amount's currency sign after a figure) further from the word before it than words are (half
    a font size): two columns set close (two amounts, a row's name and its first amount), not one cell. (A
    currency sign stays with its amount.)"""
    gap = right.x0 - left.x1
    if not FIGURES_APART or gap <= 0.5 * max(left.size, right.size):
        return False
    if CURRENCY.match(right.text):  # an amount's sign after another amount
        return bool(FIGURE.match(left.text))
    return bool(FIGURE.match(right.text)) and not CURRENCY.match(left.text)


def _leaders_end(words: Sequence[Word], n: int, least: int = 3) -> bool:
    """Word ``n`` ends a run of dot leaders: ``least`` or more words of dots, or one of three dots or more."""
    count = 0
    while n - count >= 0 and LEADER_WORD.match(words[n - count].text):
        if len(words[n - count].text) >= 3:
            return DROP_LEADERS
        count += 1
    return DROP_LEADERS and count >= least


def read_grid(
    lines: Sequence[Line], *, rules: Sequence[float] = (), head_end: float | None = None
) -> tuple[list[Cell], int] | None:
    """The cells of a table from its lines (top first) and the heights of the rules between them, and how many of
    its rows are header rows; ``head_end``: the height of the rule under the head, when one is drawn. None when the
    lines hold fewer than two columns."""
    lines = [line for line in lines if line.pieces]
    if len(lines) < 2:
        return None
    if head_end is not None:
        head = sum(1 for line in lines if line.baseline > head_end)
    else:
        head = head_lines(lines)
    body = lines[head:] or lines
    bands = _bands(body)
    if len(bands) < 2:
        return None
    tight = _tight_pitch(lines, rules)
    head_rows = _rows(lines[:head], tight, rules, head=True)
    body_rows = _rows(lines[head:], tight, rules, head=False)
    if head_rows:  # the columns reach over their names in the header's last row
        for x0, x1 in _stacks(head_rows[-1]).values():
            hit = _overlapped(Piece((), "", x0, x1, False, 0.0), bands)
            if len(hit) == 1:
                band = bands[hit[0]]
                band[0], band[1] = min(band[0], x0), max(band[1], x1)
    cells: list[Cell] = []
    for r, group in enumerate(head_rows):
        cells += _row_cells(group, bands, r, group_row=r < len(head_rows) - 1)
    cells = _stub_spans(cells, len(head_rows))
    for r, group in enumerate(body_rows, start=len(head_rows)):
        cells += _row_cells(group, bands, r, group_row=False, head=False)
    return cells, len(head_rows)


def head_lines(lines: Sequence[Line]) -> int:
    """How many lines at the top are the header when no rule says: bold lines over a body that is not bold; else
    those above the first line with a figure other than a year beside its first piece."""
    bold = 0
    while bold < len(lines) and lines[bold].bold:
        bold += 1
    if 0 < bold < len(lines) - 1:
        return min(bold, MOST_HEAD_LINES)
    first = next(
        (
            n
            for n, line in enumerate(lines)
            if any(FIGURE.match(p.text) and not YEAR.match(p.text) for p in line.pieces[1:])
        ),
        0,
    )
    return min(first, MOST_HEAD_LINES, len(lines) - 1)


def _bands(body: Sequence[Line]) -> list[list[float]]:
    """Column bands: the pieces of the lines with the usual number of pieces or more, merged where they overlap;
    then the other lines' pieces that touch no band add one; then sign columns joined to their figures'."""
    counts = sorted(len(line.pieces) for line in body)
    usual = counts[len(counts) // 2]
    spans = sorted([p.x0, p.x1] for line in body if len(line.pieces) >= usual for p in line.pieces)
    bands: list[list[float]] = []
    for x0, x1 in spans:
        if bands and x0 <= bands[-1][1] + 1.0:
            bands[-1][1] = max(bands[-1][1], x1)
        else:
            bands.append([x0, x1])
    for line in body:
        for piece in line.pieces:
            if not _overlapped(piece, bands):
                bands.append([piece.x0, piece.x1])
    bands.sort()
    if not JOIN_SIGNS:
        return bands
    texts: list[list[str]] = [[] for _ in bands]
    for line in body:
        for piece in line.pieces:
            hit = _overlapped(piece, bands)
            if len(hit) == 1:
                texts[hit[0]].append(piece.text)
    joined: list[list[float]] = []
    skip = False
    for i, band in enumerate(bands):
        if skip:
            skip = False
            continue
        signs = texts[i] and all(CURRENCY.match(t) for t in texts[i])
        after = texts[i] and all(AFTER.match(t) for t in texts[i])
        if signs and i + 1 < len(bands):
            joined.append([band[0], bands[i + 1][1]])
            skip = True
        elif after and joined:
            joined[-1][1] = band[1]
        else:
            joined.append(list(band))
    return joined


def _overlapped(piece: Piece, bands: Sequence[list[float]]) -> list[int]:
    return [i for i, (x0, x1) in enumerate(bands) if piece.x0 < x1 and piece.x1 > x0]


def _nearest(piece: Piece, bands: Sequence[list[float]]) -> int:
    """The column of a piece that stands in the gap between two: the one to its right (a name set left over
    figures set right starts right of the column before, whose figures end its column), or the last."""
    return next((i for i, (x0, _) in enumerate(bands) if x0 >= piece.x1), len(bands) - 1)


def _tight_pitch(lines: Sequence[Line], rules: Sequence[float]) -> float | None:
    """The pitch below which a line is a cell's next line, where the table's rows stand further apart than the
    lines inside a cell: the line gaps fall in two groups apart by the largest jump between them (at least a point
    and a half, or a tenth of a line), the wider group of two gaps or more. None where no such jump is: every line
    is as far from the next, and no line can be told a cell's next line by its place."""
    gaps = sorted(
        g
        for a, b in itertools.pairwise(lines)
        if not _ruled(a, b, rules) and _under(b, [a]) and (g := a.baseline - b.baseline) > 0
    )  # (a line that stands under nothing of the line above, a cell centred beside others, tells no pitch)
    if len(gaps) < 3:
        return None
    jump, at = max((b - a, n) for n, (a, b) in enumerate(itertools.pairwise(gaps)))
    if jump < max(1.5, 0.1 * gaps[0]) or len(gaps) - at - 1 < 2:
        return None
    return (gaps[at] + gaps[at + 1]) / 2


def _ruled(above: Line, below: Line, rules: Sequence[float]) -> bool:
    return any(below.baseline < y < above.baseline for y in rules)


def _rows(lines: Sequence[Line], tight: float | None, rules: Sequence[float], *, head: bool) -> list[list[Line]]:
    """Lines grouped into the table's rows: a line goes on the row above it (a cell's next line) where it stands at
    a cell's tight line pitch and brings no figure of its own (header lines: no year either is needed), with no
    rule between; where no pitch tells, a close line with fewer pieces, each under text of the line above, no
    figure, and (in the body) nothing under the row's first piece."""
    rows: list[list[Line]] = []
    for line in lines:
        if rows and CELL_LINES and not _ruled(rows[-1][-1], line, rules) and _goes_on(rows[-1], line, tight, head):
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _goes_on(row: list[Line], line: Line, tight: float | None, head: bool) -> bool:
    above = row[-1]
    gap = above.baseline - line.baseline
    if head and gap < 0.8 * max(line.size, above.size) and not _under(line, row):
        return True  # set midway between two header lines (a cell centred over two rows): the row above's
    if tight is not None:
        return gap <= tight and (head or not line.figures())
    if gap > 1.6 * max(line.size, above.size) or line.figures():
        return False
    if head:  # a header cell's next lines: each piece under one piece of the row, no piece of it over two
        return _stacked_one_to_one(line, row)
    if len(line.pieces) >= len(above.pieces):
        return False
    if not head and line.pieces[0].x0 <= row[0].pieces[0].x1:
        return False  # under the row's first piece: a section's name, a row of its own, not a cell's next line
    return all(any(p.x0 < q.x1 and p.x1 > q.x0 for q in above.pieces) for p in line.pieces)


def _stacked_one_to_one(line: Line, row: list[Line]) -> bool:
    """Every piece of the line stands under exactly one piece of the row's lines, and none of those over two of
    them: the next lines of the row's cells, not the names of the sub-columns a group header stands over."""
    above = [q for other in row for q in other.pieces]
    owners = []
    for piece in line.pieces:
        over = [i for i, q in enumerate(above) if piece.x0 < q.x1 and q.x0 < piece.x1]
        if len(over) != 1:
            return False
        owners.append(over[0])
    return len(set(owners)) == len(owners)


def _under(line: Line, row: list[Line]) -> bool:
    """Some piece of the line stands under a piece of the row's lines."""
    return any(p.x0 < q.x1 and q.x0 < p.x1 for p in line.pieces for other in row for q in other.pieces)


def _row_cells(
    lines: list[Line], bands: list[list[float]], row: int, *, group_row: bool, head: bool = True
) -> list[Cell]:
    """One row's cells: each piece in the columns it stands over (a group header's as far as ``_group_span``
    reaches), the lines of a cell joined top to bottom."""
    texts: dict[int, list[str]] = {}
    widths: dict[int, int] = {}
    stacks = _stacks(lines) if not group_row else {}
    for line in lines:
        placed: dict[int, str] = {}
        # a body row of one line of one piece (a section's name, a note across the table) is not cut into columns
        alone = not head and len(lines) == 1 and len(line.pieces) == 1
        pieces = [
            p
            for piece in line.pieces
            for p in (_split_stub(piece, bands) if group_row else [piece] if alone else _split(piece, bands))
        ]
        for n, piece in enumerate(pieces):
            hit = _overlapped(piece, bands) or [_nearest(piece, bands)]
            stack = stacks.get(id(piece))
            if stack is not None and len(whole := _overlapped(Piece((), "", *stack, False, 0.0), bands)) == 1:
                hit = whole  # a cell's lines stand in the column their block stands in
            if group_row and GROUP_HEADERS:
                hit = _group_span(piece, pieces, n, bands, hit)
            elif not group_row and not alone:
                hit = [_owner(piece.words[0], bands)] if len(hit) > 1 else hit
            start = hit[0]
            placed[start] = _join(placed[start], piece.text) if start in placed else piece.text
            widths[start] = max(widths.get(start, 1), hit[-1] - hit[0] + 1)
        for start, text in placed.items():
            texts.setdefault(start, []).append(text)
    out = []
    taken = -1
    for start in sorted(texts):
        if start <= taken:  # a piece overlapped by a wider one to its left: its text joins that cell
            continue
        width = widths[start]
        inside = [s for s in sorted(texts) if start < s < start + width]
        parts = [*texts[start], *(t for s in inside for t in texts[s])]
        out.append(Cell(row, start, _lines_text(parts), 1, width))
        taken = start + width - 1
    return out


def _stacks(lines: list[Line]) -> dict[int, tuple[float, float]]:
    """The pieces of a row's lines stacked over each other (the lines of one cell), each piece's id with the
    extent of its stack: a line set left over a figure set right stands in the figure's column."""
    pieces = [p for line in lines for p in line.pieces]
    parent = list(range(len(pieces)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    line_of = [n for n, line in enumerate(lines) for _ in line.pieces]
    for i, a in enumerate(pieces):  # (over lines between that hold nothing there: a cell centred beside it)
        for j in range(i + 1, len(pieces)):
            b = pieces[j]
            if line_of[i] != line_of[j] and a.x0 < b.x1 and b.x0 < a.x1:
                parent[root(j)] = root(i)
    extent: dict[int, tuple[float, float]] = {}
    for i, piece in enumerate(pieces):
        x0, x1 = extent.get(root(i), (piece.x0, piece.x1))
        extent[root(i)] = (min(x0, piece.x0), max(x1, piece.x1))
    return {id(piece): extent[root(i)] for i, piece in enumerate(pieces)}


def _split(piece: Piece, bands: list[list[float]]) -> list[Piece]:
    """A piece of a row that is not a group header, over several columns, as one piece per column its words stand
    in ("Unit Price" set close over two columns; a left-set name running over the gap before its column): each
    word in the column its middle stands in, else the one it overlaps most."""
    if len(_overlapped(piece, bands)) < 2:
        return [piece]
    parts: list[list[Word]] = []
    last = -1
    for word in piece.words:
        owner = _owner(word, bands)
        if parts and owner == last:
            parts[-1].append(word)
        else:
            parts.append([word])
        last = owner
    return [_piece(part) for part in parts]


def _owner(word: Word, bands: list[list[float]]) -> int:
    middle = (word.x0 + word.x1) / 2
    inside = next((i for i, (x0, x1) in enumerate(bands) if x0 <= middle <= x1), None)
    if inside is not None:
        return inside
    best = max(range(len(bands)), key=lambda i: (min(word.x1, bands[i][1]) - max(word.x0, bands[i][0]), -i))
    if min(word.x1, bands[best][1]) - max(word.x0, bands[best][0]) > 0:
        return best
    return next((i for i, (x0, _) in enumerate(bands) if x0 >= word.x1), len(bands) - 1)


def _split_stub(piece: Piece, bands: list[list[float]]) -> list[Piece]:
    """A group row's piece that runs from the row labels' column on (the stub's header set close to a group's
    name) as the words over that column and the rest."""
    hit = _overlapped(piece, bands)
    if len(hit) < 2 or hit[0] != 0:
        return [piece]
    stub = [w for w in piece.words if (w.x0 + w.x1) / 2 <= bands[0][1]]
    rest = piece.words[len(stub) :]
    if not stub or not rest or any((w.x0 + w.x1) / 2 <= bands[0][1] for w in rest):
        return [piece]
    return [_piece(stub), _piece(rest)]


def _group_span(piece: Piece, pieces: list[Piece], n: int, bands: list[list[float]], hit: list[int]) -> list[int]:
    """The columns a header cell of a group row spans: those whose band's middle lies between it and its
    neighbours in the row (halfway to each), narrowed until the cell stands centred or aligned over them; never
    the first column (the row labels' own) unless it stands over it."""
    if hit == [0]:
        return hit  # the row labels' own header: it spans down (_stub_spans), never across
    left = (pieces[n - 1].x1 + piece.x0) / 2 if n else float("-inf")
    if n and _overlapped(pieces[n - 1], bands) == [0]:
        left = bands[0][1]  # beside the row labels' own header: the group starts where their column ends
    right = (piece.x1 + pieces[n + 1].x0) / 2 if n + 1 < len(pieces) else float("inf")
    lowest = 0 if 0 in hit else 1
    reach = [i for i in range(lowest, len(bands)) if left < (bands[i][0] + bands[i][1]) / 2 < right]
    if not reach:
        return hit
    first, last = min(reach[0], hit[0]), max(reach[-1], hit[-1])
    middle = (piece.x0 + piece.x1) / 2
    while True:
        x0, x1 = bands[first][0], bands[last][1]
        slack = max(piece.size, 0.1 * (x1 - x0))
        # the columns' cells reach halfway into the gaps beside them (figures set right leave room on their left)
        cell0 = (bands[first - 1][1] + x0) / 2 if first else x0
        cell1 = (x1 + bands[last + 1][0]) / 2 if last + 1 < len(bands) else x1
        if (
            abs((x0 + x1) / 2 - middle) <= slack
            or abs((cell0 + cell1) / 2 - middle) <= slack
            or abs(x0 - piece.x0) <= slack
            or abs(x1 - piece.x1) <= slack
        ):
            return list(range(first, last + 1))
        if first >= hit[0] and last <= hit[-1]:
            return hit
        # drop the far side: the end further from the cell's middle, if it is not a column the cell stands over
        if (middle - bands[first][0] > bands[last][1] - middle and first < hit[0]) or last <= hit[-1]:
            first += 1
        else:
            last -= 1


def _stub_spans(cells: list[Cell], head: int) -> list[Cell]:
    """A header cell with nothing under it in the header's later rows spans down to its last row."""
    taken = {(c.row, col) for c in cells for col in range(c.col, c.col + c.col_span)}
    out = []
    for cell in cells:
        cols = range(cell.col, cell.col + cell.col_span)
        below = [r for r in range(cell.row + 1, head) if any((r, col) in taken for col in cols)]
        span = head - cell.row if not below and cell.row < head - 1 else cell.row_span
        out.append(Cell(cell.row, cell.col, cell.text, span, cell.col_span))
    return out


def _join(left: str, right: str) -> str:
    """Two pieces of one cell on one line: a currency sign and its amount, a figure and its percent sign or
    bracket, set tight; anything else with a space."""
    if CURRENCY.match(left) or AFTER.match(right):
        return left + right
    return f"{left} {right}"


def _lines_text(parts: list[str]) -> str:
    """A cell's lines as one text: a word broken at a line's end by a soft hyphen made whole."""
    out = ""
    for part in parts:
        if out.endswith("\u00ad") and part[:1].islower():
            out = out[:-1] + part
        else:
            out = f"{out} {part}" if out else part
    return out


def lines_of(rows: Sequence[Sequence[Word]], gap: float = COLUMN_GAP) -> list[Line]:
    """Rows of words (top first) as lines of pieces."""
    out = []
    for row in rows:
        pieces = pieces_of(row, gap)
        if pieces:
            out.append(Line(pieces, median(w.baseline for w in row)))
    return out


def lines_of_segments(rows: Sequence[tuple[Sequence[Word], Sequence[Segment]]]) -> list[Line]:
    """Rows already cut into ``column_segments`` (each its words and segments, top first) as lines of pieces."""
    out = []
    for words, segments in rows:
        pieces = pieces_of_segments(segments)
        if pieces:
            out.append(Line(pieces, median(w.baseline for w in words)))
    return out
