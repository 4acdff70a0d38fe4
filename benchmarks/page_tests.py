"""olmOCR-bench-style unit tests run on any tool's output: Markdown (with GFM pipe tables and HTML ``<table>``
blocks, as Paperline, docling, edgeparse and opendataloader write) or plain text (pdftotext).

The output is read once into what the tests look at (``Reading``): its text, normalised; its tables as grids with
spans expanded and header rows known; its headings with levels; its list items. A test (tests/corpus/truth.py lists
the types) passes or fails on that. Text is compared after ``normalize``: Unicode NFKC, lower case, dashes and
quotes unified, bullets dropped, a currency sign joined to its figure, runs of whitespace collapsed; on scans a
few character differences are allowed (``fuzz``: edit distance as a share of the quoted text's length).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from fuzzysearch import find_near_matches
from markdown_it import MarkdownIt
from markdown_it.token import Token

from benchmarks.structure_score import Grid

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")
_DASHES = str.maketrans({"–": "-", "—": "-", "−": "-", "‐": "-", "‒": "-", "‘": "'", "’": "'", "“": '"', "”": '"'})
_BULLETS = re.compile(r"[•◦▪‣●○■□☐]")
_CURRENCY = re.compile(r"([$€£¥])\s+(?=[\d(])")
_PERCENT = re.compile(r"(?<=\d)\s+%")


def normalize(text: str) -> str:
    """Text as the page tests and the corpus's table scores compare it (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).lower()
    text = _BULLETS.sub(" ", text)
    text = _PERCENT.sub("%", _CURRENCY.sub(r"\1", text))
    return " ".join(text.split())


# --- reading an output --------------------------------------------------------------------------------------------


@dataclass
class Reading:
    """What the tests look at in one output."""

    text: str  # normalised, markup removed
    tables: list[Grid] = field(default_factory=list)
    headings: list[tuple[str, int]] = field(default_factory=list)  # normalised text, level
    list_items: list[str] = field(default_factory=list)


class _TableParser(HTMLParser):
    """The cells of HTML tables: rows of (text, row_span, col_span, is_header) per table."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, int, int, bool]]]] = []
        self._depth = 0
        self._cell: list[str] | None = None
        self._attrs: tuple[int, int, bool] = (1, 1, False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif self._depth != 1:
            return
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            values = dict(attrs)
            self._cell = []
            self._attrs = (_span(values.get("rowspan")), _span(values.get("colspan")), tag == "th")
        elif (tag == "br" and self._cell is not None) or (tag == "li" and self._cell is not None):
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth -= 1
        elif self._depth == 1 and tag in ("td", "th") and self._cell is not None:
            if not self.tables[-1]:
                self.tables[-1].append([])
            self.tables[-1][-1].append(("".join(self._cell), *self._attrs))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100))
    except ValueError:
        return 1


def html_tables(text: str) -> list[Grid]:
    """The ``<table>`` blocks of a text as grids: each cell at its position, spans kept, leading rows of header
    cells as header rows."""
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    grids = []
    for rows in parser.tables:
        taken: dict[tuple[int, int], bool] = {}
        placed: dict[tuple[int, int], str] = {}
        spans = []
        header_rows = 0
        for r, row in enumerate(rows):
            c = 0
            for cell_text, rs, cs, _header in row:
                while (r, c) in taken:
                    c += 1
                placed[r, c] = " ".join(cell_text.split())
                if rs > 1 or cs > 1:
                    spans.append((r, c, rs, cs))
                for dr in range(rs):
                    for dc in range(cs):
                        taken[r + dr, c + dc] = True
                c += cs
            if header_rows == r and row and all(cell[3] for cell in row):
                header_rows = r + 1
        if not taken:
            continue
        n_rows = max(r for r, _ in taken) + 1
        n_cols = max(c for _, c in taken) + 1
        grid = [[placed.get((r, c), "") for c in range(n_cols)] for r in range(n_rows)]
        grids.append(Grid(grid, header_rows, tuple(spans)))
    return grids


def _inline_text(token: Token) -> str:
    parts = [
        child.content if child.type in ("text", "code_inline") else " "
        for child in token.children or []
        if child.type in ("text", "code_inline", "softbreak", "hardbreak", "html_inline")
    ]
    return re.sub(r"<br\s*/?>", " ", "".join(parts), flags=re.IGNORECASE)


def markdown_tables(markdown: str) -> list[Grid]:
    """GFM pipe tables (the first row a header row, unless it is empty) and HTML tables, in order of appearance
    within each kind."""
    tables: list[Grid] = []
    rows: list[list[str]] = []
    tokens = _MARKDOWN.parse(markdown)
    for previous, token in zip([None, *tokens], tokens, strict=False):
        if token.type == "table_open":
            rows = []
        elif token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and previous is not None and previous.type in ("th_open", "td_open"):
            rows[-1].append(" ".join(_inline_text(token).split()))
        elif token.type == "table_close":
            if rows and not any(cell.strip() for cell in rows[0]):  # an empty head: a table without header rows
                tables.append(Grid(rows[1:], 0))
            else:
                tables.append(Grid(rows, 1))
    return tables + html_tables(markdown)


def read_markdown(markdown: str) -> Reading:
    tokens = _MARKDOWN.parse(markdown)
    headings: list[tuple[str, int]] = []
    items: list[str] = []
    pieces: list[str] = []
    level = 0
    item_depth = 0
    for token in tokens:
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "list_item_open":
            item_depth += 1
        elif token.type == "list_item_close":
            item_depth -= 1
        elif token.type == "inline":
            text = _inline_text(token)
            pieces.append(text)
            if level:
                headings.append((normalize(text), level))
                level = 0
            elif item_depth:
                items.append(normalize(text))
        elif token.type in ("html_block", "code_block", "fence"):
            pieces.append(html.unescape(re.sub(r"<[^>]+>", " ", token.content)))
    return Reading(normalize(" ".join(pieces)), markdown_tables(markdown), headings, items)


def read_text(text: str) -> Reading:
    """Plain text (pdftotext): no tables, headings or lists."""
    return Reading(normalize(text))


# --- the tests ----------------------------------------------------------------------------------------------------


def _find(needle: str, haystack: str, fuzz: float) -> int:
    """Where the normalised ``needle`` starts in ``haystack`` (-1: nowhere), within ``fuzz`` of its length."""
    found = haystack.find(needle)
    if found >= 0 or not fuzz or not needle:
        return found
    distance = int(len(needle) * fuzz)
    if not distance:
        return -1
    matches = find_near_matches(needle, haystack, max_l_dist=distance)
    return min((m.start for m in matches), default=-1)


def _same(a: str, b: str, fuzz: float) -> bool:
    if a == b:
        return True
    if not fuzz or not a or not b:
        return False
    distance = int(max(len(a), len(b)) * fuzz)
    return distance > 0 and abs(len(a) - len(b)) <= distance and bool(find_near_matches(a, b, max_l_dist=distance))


def _neighbour(grid: list[list[str]], r: int, c: int, dr: int, dc: int) -> str | None:
    """The text next to (r, c) in a direction, past positions of the same spanning cell."""
    here = grid[r][c]
    rr, cc = r + dr, c + dc
    while 0 <= rr < len(grid) and 0 <= cc < len(grid[rr]) and grid[rr][cc] == here:
        rr, cc = rr + dr, cc + dc
    if 0 <= rr < len(grid) and 0 <= cc < len(grid[rr]):
        return grid[rr][cc]
    return None


_DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def _table_test(test: dict[str, Any], reading: Reading, fuzz: float) -> bool:
    cell = normalize(test["cell"])
    for table in reading.tables:
        grid = [[normalize(text) for text in row] for row in table.filled()]
        header_rows = table.header_rows or 1
        for r, row in enumerate(grid):
            for c, text in enumerate(row):
                if not _same(text, cell, fuzz):
                    continue
                ok = all(
                    (found := _neighbour(grid, r, c, *_DIRECTIONS[name])) is not None
                    and _same(found, normalize(test[name]), fuzz)
                    for name in _DIRECTIONS
                    if name in test
                )
                if ok and "top_heading" in test:
                    heads = {grid[h][c] for h in range(min(header_rows, len(grid))) if h != r}
                    ok = any(_same(h, normalize(test["top_heading"]), fuzz) for h in heads)
                if ok:
                    return True
    return False


def _heading_level(text: str, reading: Reading, fuzz: float) -> int | None:
    wanted = normalize(text)
    return next((level for found, level in reading.headings if _same(found, wanted, fuzz)), None)


def run_test(test: dict[str, Any], reading: Reading, fuzz: float = 0.0) -> bool:
    """Whether ``reading`` passes one unit test."""
    kind = test["type"]
    if kind == "present":
        return _find(normalize(test["text"]), reading.text, fuzz) >= 0
    if kind == "absent":
        return _find(normalize(test["text"]), reading.text, fuzz) < 0
    if kind == "order":
        before = _find(normalize(test["before"]), reading.text, fuzz)
        after = _find(normalize(test["after"]), reading.text, fuzz)
        return 0 <= before < after
    if kind == "table":
        return _table_test(test, reading, fuzz)
    if kind == "heading":
        level = _heading_level(test["text"], reading, fuzz)
        if level is None or "under" not in test:
            return level is not None
        parent = _heading_level(test["under"], reading, fuzz)
        return parent is not None and parent < level
    if kind == "not_heading":
        wanted = normalize(test["text"])
        return not any(found.startswith(wanted) for found, _ in reading.headings)
    if kind == "no_table":
        wanted = normalize(test["text"])
        return not any(wanted in normalize(cell) for table in reading.tables for row in table.rows for cell in row)
    if kind == "no_list":
        wanted = normalize(test["text"])
        return not any(wanted in item for item in reading.list_items)
    raise ValueError(f"unknown test type {kind!r}")
