"""Tables drawn with rules: a grid of horizontal and vertical rules (every cell boxed; a missing border inside the
grid is a spanning cell; a grid with no verticals at its sides ends where its horizontal rules end; body rows with no
rules between them are told apart by the text lines all their columns share), and the groups of horizontal rules
that rule a table with no verticals (read by ``booktabs``)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core.elements import Cell
from pipeline.documents.layout.booktabs import ruled_rows, stacked
from pipeline.documents.layout.cells import FoundTable, is_label, table_element
from pipeline.documents.layout.lines import Word, rows_of
from pipeline.documents.layout.page import Rule
from pipeline.documents.textclean import clean_text

TOLERANCE = 2.0
#: a grid's horizontal rules reaching this far past its outermost vertical: the grid's side is open, not ended there
OPEN_SIDE = 3 * TOLERANCE
#: on/off for a grid's open top and bottom (column rules reaching past its first and last horizontal rules)
OPEN_ENDS = True
#: on/off for a grid cell spanning the columns whose border is drawn only under it (a group header)
GROUP_SPANS = True
#: on/off for a phrase running across a missing border (two words a word space apart) joining the cells it spans
PHRASE_SPANS = True
#: the widest gap (font sizes) between two words of one phrase
WORD_SPACE = 0.4


def find_tables(rules: Sequence[Rule], words: Sequence[Word], page: int) -> list[FoundTable]:
    horizontal = _merge([r for r in rules if r.horizontal], horizontal=True)
    vertical = _merge([r for r in rules if not r.horizontal], horizontal=False)
    found: list[FoundTable] = []
    taken: set[int] = set()
    for hs, vs in _groups(horizontal, vertical):
        made = (
            [_lattice(hs, vs, words, page)]
            if len(vs) >= 2
            else [ruled_rows(p, words, page) for p in stacked(hs, words)]
        )
        for table in made:
            if table is not None and not (table.words & taken):
                found.append(table)
                taken |= table.words
    return sorted(found, key=lambda t: -t.element.bbox[3])


def _merge(rules: list[Rule], *, horizontal: bool) -> list[Rule]:
    """Collinear rules that touch, as one (a border drawn cell by cell, a double rule)."""
    key = (lambda r: (round((r.y0 + r.y1) / 2), r.x0)) if horizontal else (lambda r: (round((r.x0 + r.x1) / 2), r.y0))
    merged: list[Rule] = []
    for rule in sorted(rules, key=key):
        if merged:
            last = merged[-1]
            same_y = abs((last.y0 + last.y1) / 2 - (rule.y0 + rule.y1) / 2) <= TOLERANCE
            same_x = abs((last.x0 + last.x1) / 2 - (rule.x0 + rule.x1) / 2) <= TOLERANCE
            # (collinear and touching: two lines a point apart sort by their rounded middles, not always in order)
            if horizontal and same_y and rule.x0 <= last.x1 + TOLERANCE and rule.x1 >= last.x0 - TOLERANCE:
                merged[-1] = Rule(
                    min(last.x0, rule.x0), min(last.y0, rule.y0), max(last.x1, rule.x1), max(last.y1, rule.y1)
                )
                continue
            if not horizontal and same_x and rule.y0 <= last.y1 + TOLERANCE and rule.y1 >= last.y0 - TOLERANCE:
                merged[-1] = Rule(
                    min(last.x0, rule.x0), min(last.y0, rule.y0), max(last.x1, rule.x1), max(last.y1, rule.y1)
                )
                continue
        merged.append(rule)
    return merged


def _touches(h: Rule, v: Rule) -> bool:
    x, y = (v.x0 + v.x1) / 2, (h.y0 + h.y1) / 2
    return h.x0 - TOLERANCE <= x <= h.x1 + TOLERANCE and v.y0 - TOLERANCE <= y <= v.y1 + TOLERANCE


def _groups(horizontal: list[Rule], vertical: list[Rule]) -> list[tuple[list[Rule], list[Rule]]]:
    """Rules that form one table: horizontals and verticals that cross (a grid), or horizontals of about the same
    extent stacked over each other with no vertical (booktabs)."""
    parent = list(range(len(horizontal) + len(vertical)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(horizontal):
        for j, v in enumerate(vertical):
            if _touches(h, v):
                parent[find(i)] = find(len(horizontal) + j)
    crossed = {
        find(i) for i in range(len(horizontal)) if find(i) != i or any(_touches(horizontal[i], v) for v in vertical)
    }
    # Horizontals that cross no vertical: stack those of about the same extent (booktabs' top, mid and bottom rules).
    free = [
        i
        for i in range(len(horizontal))
        if find(i) not in crossed and not any(_touches(horizontal[i], v) for v in vertical)
    ]
    for a in free:
        for b in free:
            if a < b and _same_extent(horizontal[a], horizontal[b]):
                parent[find(a)] = find(b)
    groups: dict[int, tuple[list[Rule], list[Rule]]] = {}
    for i, h in enumerate(horizontal):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vertical):
        groups.setdefault(find(len(horizontal) + j), ([], []))[1].append(v)
    return [(hs, vs) for hs, vs in groups.values() if len(hs) >= 2]


def _same_extent(a: Rule, b: Rule) -> bool:
    overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    return overlap >= 0.85 * max(a.x1 - a.x0, b.x1 - b.x0)


def _clusters(values: list[float]) -> list[float]:
    out: list[float] = []
    for value in sorted(values):
        if not out or value - out[-1] > TOLERANCE * 1.5:
            out.append(value)
    return out


def _inside(word: Word, x0: float, y0: float, x1: float, y1: float) -> bool:
    cx, cy = (word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2
    return x0 <= cx <= x1 and y0 <= cy <= y1


def _text(words: list[Word]) -> str:
    return clean_text(" ".join(" ".join(w.text for w in row) for row in rows_of(words)).strip()).text


def _lattice(hs: list[Rule], vs: list[Rule], words: Sequence[Word], page: int) -> FoundTable | None:
    xs = _open_sides(_clusters([(v.x0 + v.x1) / 2 for v in vs]), hs)
    ruled = sorted(_clusters([(h.y0 + h.y1) / 2 for h in hs]), reverse=True)  # top first
    ys = _open_ends(ruled, vs)
    if len(xs) < 2 or len(ys) < 2:
        return None
    inside_grid = [w for w in words if _inside(w, xs[0], ys[-1], xs[-1], ys[0])]
    ys, between_lines = _text_rows(xs, ys, inside_grid, open_top=ys[0] != ruled[0])

    def v_border(x: float, top: float, bottom: float) -> bool:
        middle = (top + bottom) / 2
        return any(
            abs((v.x0 + v.x1) / 2 - x) <= TOLERANCE * 1.5 and v.y0 - TOLERANCE <= middle <= v.y1 + TOLERANCE for v in vs
        )

    def h_border(y: float, left: float, right: float, *, drawn: bool = False) -> bool:
        if y in between_lines:
            return not drawn
        middle = (left + right) / 2
        return any(
            abs((h.y0 + h.y1) / 2 - y) <= TOLERANCE * 1.5 and h.x0 - TOLERANCE <= middle <= h.x1 + TOLERANCE for h in hs
        )

    rows, cols = len(ys) - 1, len(xs) - 1
    owner = {(r, c): (r, c) for r in range(rows) for c in range(cols)}

    def root(key: tuple[int, int]) -> tuple[int, int]:
        while owner[key] != key:
            key = owner[key]
        return key

    inside = [i for i, w in enumerate(words) if _inside(w, xs[0], ys[-1], xs[-1], ys[0])]

    words_in_grid = [words[i] for i in inside]

    def words_in(r: int, c: int) -> list[Word]:
        return [words[i] for i in inside if _inside(words[i], xs[c], ys[r + 1], xs[c + 1], ys[r])]

    def crossed_x(x: float, r: int) -> bool:
        """A word, or in a row of labels a phrase (two words a word space apart on one line), runs across x."""
        row = [w for w in words_in_grid if ys[r + 1] <= (w.y0 + w.y1) / 2 <= ys[r]]
        if any(w.x0 < x - 1 and w.x1 > x + 1 for w in row):
            return True
        if not PHRASE_SPANS or not all(is_label(w.text) for w in row):
            return False  # (a phrase of a header's words; figures a space apart are cells of their own)
        before = [w for w in row if (w.x0 + w.x1) / 2 < x and w.x1 <= x + 1]
        after = [w for w in row if (w.x0 + w.x1) / 2 > x and w.x0 >= x - 1]
        return any(
            0 <= b.x0 - a.x1 <= WORD_SPACE * max(a.size, b.size) and abs(a.baseline - b.baseline) < 0.3 * a.size
            for a in before
            for b in after
        )

    def apart(r: int, c: int) -> bool:
        """Columns c and c+1 hold text of their own in row r."""
        return bool(words_in(r, c)) and bool(words_in(r, c + 1)) and not crossed_x(xs[c + 1], r)

    def labels(r: int) -> bool:
        """Row r holds words and no figures (years aside): a header's row, not a body's."""
        texts = [w.text for w in words_in_grid if ys[r + 1] <= (w.y0 + w.y1) / 2 <= ys[r]]
        return bool(texts) and all(is_label(text) for text in texts)

    def boxed(r: int, c: int) -> bool:
        """Columns c and c+1 are ruled above and below row r (a row of the grid, not a text line of one)."""
        return all(h_border(y, xs[i], xs[i + 1], drawn=True) for y in (ys[r], ys[r + 1]) for i in (c, c + 1))

    def divided_below(c: int, r: int) -> bool:
        """The border between columns c and c+1, missing in a ruled row of labels where one side is empty, is
        drawn further down, the ruled rows between missing it too: a group header over its sub-columns."""
        for below in range(r, rows - 1):
            if apart(below, c) or not boxed(below, c) or (below == r and not labels(r)):
                return False
            if v_border(xs[c + 1], ys[below + 1], ys[below + 2]):
                return True
        return False

    # Two grid rows with no rule at all between them are one row whose cells run over two lines.
    unruled = [not any(h_border(ys[r + 1], xs[c], xs[c + 1]) for c in range(cols)) for r in range(rows - 1)]
    # A border missing inside the grid joins two cells only where the text or the rules say they are one: a word
    # runs across it, or the border is drawn in the row under it and one side is empty (a group header over its
    # sub-columns, however short its name); between rows, one of the two is empty (a name spanning two header
    # rows). Rows ruled with no borders between their columns keep their columns.
    for r in range(rows):
        for c in range(cols):
            if (
                c + 1 < cols
                and not v_border(xs[c + 1], ys[r], ys[r + 1])
                and (crossed_x(xs[c + 1], r) or (GROUP_SPANS and divided_below(c, r)))
            ):
                owner[root((r, c + 1))] = root((r, c))
            if (
                r + 1 < rows
                and not h_border(ys[r + 1], xs[c], xs[c + 1])
                and (unruled[r] or not words_in(r, c) or not words_in(r + 1, c))
            ):
                owner[root((r + 1, c))] = root((r, c))
    areas: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for key in owner:
        areas.setdefault(root(key), []).append(key)
    if not inside:
        return None
    cells: list[Cell] = []
    row_words: dict[int, list[Word]] = {}
    for members in areas.values():
        r0, c0 = min(m[0] for m in members), min(m[1] for m in members)
        r1, c1 = max(m[0] for m in members), max(m[1] for m in members)
        box = (xs[c0], ys[r1 + 1], xs[c1 + 1], ys[r0])
        mine = [words[i] for i in inside if _inside(words[i], *box)]
        row_words.setdefault(r0, []).extend(mine)
        cells.append(Cell(r0, c0, _text(mine), r1 - r0 + 1, c1 - c0 + 1))
    # the header is judged by each row's own words (a body cell may repeat a header's word in plain type)
    bold = [bool(row_words.get(r)) and all(w.bold for w in row_words[r]) for r in range(rows)]
    table = table_element(cells, (xs[0], ys[-1], xs[-1], ys[0]), page, bold_rows=bold)
    if table is None:
        return None
    return FoundTable(table, set(inside))


def _open_sides(xs: list[float], hs: list[Rule]) -> list[float]:
    """Column edges with the grid's open sides added: reports often rule a table's rows and separate its columns
    but draw no vertical at its left or right, so the first and last columns end where the horizontal rules do (the
    extent two of them reach, so one long rule above a caption does not widen the table)."""
    if len(hs) < 2:
        return xs
    left = sorted(h.x0 for h in hs)[1]
    right = sorted((h.x1 for h in hs), reverse=True)[1]
    return ([left] if left < xs[0] - OPEN_SIDE else []) + xs + ([right] if right > xs[-1] + OPEN_SIDE else [])


def _open_ends(ys: list[float], vs: list[Rule]) -> list[float]:
    """Row edges with the grid's open top and bottom added: a table ruled only inside (no frame) has no rule over
    its first row nor under its last, but its column rules reach up and down through them."""
    if not OPEN_ENDS or len(vs) < 2 or len(ys) < 2:
        return ys
    pitch = sorted(a - b for a, b in itertools.pairwise(ys))[(len(ys) - 1) // 2]
    top, bottom = max(v.y1 for v in vs), min(v.y0 for v in vs)
    # (a row or two: a rule reaching further is another drawing's, not the grid's)
    above = [top] if ys[0] + OPEN_SIDE < top <= ys[0] + 2.5 * pitch else []
    below = [bottom] if ys[-1] - 2.5 * pitch <= bottom < ys[-1] - OPEN_SIDE else []
    return above + ys + below


def _text_rows(
    xs: list[float], ys: list[float], words: list[Word], *, open_top: bool = False
) -> tuple[list[float], set[float]]:
    """Row edges with the borders between text rows that no rule marks (a ruled header and total, the body rows
    only spaced apart), and the set of those added edges."""
    edges = [ys[0]]
    added: set[float] = set()
    for r in range(len(ys) - 1):
        top, bottom = ys[r], ys[r + 1]
        inside = [w for w in words if bottom <= (w.y0 + w.y1) / 2 <= top]
        # the first of several ruled rows is the header, whose every cell may wrap: its lines are not rows (but
        # the rows over a grid's first rule, which no rule closes at the top, may be several)
        splits = _line_splits(xs, inside) if r > 0 or len(ys) == 2 or open_top else []
        edges += splits
        added.update(splits)
        edges.append(bottom)
    return edges, added


@dataclass(frozen=True)
class _Line:
    """A cell's text line: its letters' height band and where it runs."""

    top: float
    bottom: float
    column: int
    x0: float
    x1: float
    first_word: float  # width of its first word, and of a space before it


def _line_splits(xs: list[float], words: list[Word]) -> list[float]:
    """Heights (top first) where one ruled row holds several table rows. The text lines of all columns are grouped
    by height into bands (a line centred beside two lines of a wrapped cell joins both). Where at least two bands
    have a line in every column that has text, the row holds several rows: each such full band starts one, and so
    does a band with fewer lines (a row with empty cells) unless its lines are the next lines of wrapped cells above
    (the first word would not have fitted after the line above it in the cell)."""
    lines: list[_Line] = []
    for c in range(len(xs) - 1):
        for row in rows_of([w for w in words if xs[c] <= (w.x0 + w.x1) / 2 <= xs[c + 1]]):
            size = max(w.size for w in row)
            baseline = sorted(w.baseline for w in row)[len(row) // 2]
            width = row[0].x1 - row[0].x0 + 0.3 * size
            lines.append(_Line(baseline + 0.7 * size, baseline - 0.1 * size, c, row[0].x0, row[-1].x1, width))
    filled = {line.column for line in lines}
    if len(filled) < 2:
        return []
    bands: list[list[_Line]] = []
    for line in sorted(lines, key=lambda line: -line.top):
        if bands and line.top > min(other.bottom for other in bands[-1]):
            bands[-1].append(line)
        else:
            bands.append([line])
    full = [i for i, band in enumerate(bands) if {line.column for line in band} == filled]
    if len(full) < 2:
        return []
    # a line wraps where the cell's text must end: its right rule less the room its text keeps at the left
    room = {c: min(line.x0 for line in lines if line.column == c) - xs[c] for c in filled}
    splits: list[float] = []
    above: dict[int, _Line] = {}  # the current row's last line in each column
    for i, band in enumerate(bands):
        wrapped = all(
            line.column in above
            and above[line.column].x1 + line.first_word > xs[line.column + 1] - max(room[line.column], 1.0)
            for line in band
        )
        if i > full[0] and (i in full or not wrapped):
            splits.append((min(line.bottom for line in bands[i - 1]) + max(line.top for line in band)) / 2)
            above = {}
        above.update({line.column: line for line in band})
    return splits
