"""The ICDAR 2013 table competition's adjacency-relation measure, as pure functions.

A table is scored by the pairs of neighbouring cells it holds, not by its geometry, so any extractor that
returns rows of cell strings can be compared with the ground truth: for every non-empty cell, its next
non-empty neighbour to the right in the same row and below in the same column is one relation. A document's
relations are pooled over all its tables and compared as multisets, text normalised first (NFKC, lower case,
whitespace collapsed). benchmarks/structure.py uses this; tests/unit/test_structure_score.py checks it.

Both sides are grids with a spanned cell's text in its top-left position and empty strings elsewhere (what
the extractors return), so the ground truth is laid out the same way before its relations are taken.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

Table = list[list[str]]  # rows of cell strings; a spanned cell's text in its top-left position, others empty
Relation = tuple[str, str, str]  # (cell text, neighbour text, "right" or "below"), texts normalised


def normalize(text: str) -> str:
    """Text as compared: Unicode NFKC, lower case, runs of whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def parse_ground_truth(xml_text: str) -> list[Table]:
    """The tables of an ICDAR 2013 `-str.xml` file, one grid per `<region>` (a table's part on one page)."""
    tables: list[Table] = []
    for region in ET.fromstring(xml_text).iter("region"):
        placed: dict[tuple[int, int], str] = {}
        rows = cols = 0
        for cell in region.iter("cell"):
            row, col = int(cell.attrib["start-row"]), int(cell.attrib["start-col"])
            rows = max(rows, int(cell.attrib.get("end-row", row)) + 1)
            cols = max(cols, int(cell.attrib.get("end-col", col)) + 1)
            text = cell.findtext("content") or ""
            placed[row, col] = f"{placed[row, col]} {text}" if (row, col) in placed else text
        grid = [[""] * cols for _ in range(rows)]
        for (row, col), text in placed.items():
            grid[row][col] = text
        tables.append(grid)
    return tables


def read_ground_truth(path: Path) -> list[Table]:
    return parse_ground_truth(path.read_text(encoding="utf-8"))


def adjacency_relations(table: Table, norm: Callable[[str], str] = normalize) -> Counter[Relation]:
    """Each non-empty cell with its next non-empty neighbour to the right and below (ragged rows allowed)."""
    grid = [[norm(cell or "") for cell in row] for row in table]
    width = max((len(row) for row in grid), default=0)
    grid = [row + [""] * (width - len(row)) for row in grid]
    relations: Counter[Relation] = Counter()
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if not text:
                continue
            right = next((t for t in row[c + 1 :] if t), None)
            if right is not None:
                relations[text, right, "right"] += 1
            below = next((grid[rr][c] for rr in range(r + 1, len(grid)) if grid[rr][c]), None)
            if below is not None:
                relations[text, below, "below"] += 1
    return relations


def document_relations(tables: Iterable[Table], norm: Callable[[str], str] = normalize) -> Counter[Relation]:
    """The relations of all a document's tables, pooled."""
    pooled: Counter[Relation] = Counter()
    for table in tables:
        pooled.update(adjacency_relations(table, norm))
    return pooled


@dataclass(frozen=True)
class Score:
    """One document's pooled comparison: relations found, expected and matched, and what follows from them."""

    found: int
    expected: int
    matched: int

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_document(extracted: Iterable[Table], truth: Iterable[Table], norm: Callable[[str], str] = normalize) -> Score:
    """Compare a document's extracted tables with its ground truth as multisets of adjacency relations."""
    found, expected = document_relations(extracted, norm), document_relations(truth, norm)
    return _compare(found, expected)


def _compare(found: Counter, expected: Counter) -> Score:
    return Score(found=sum(found.values()), expected=sum(expected.values()), matched=sum((found & expected).values()))


# --- header-aware: every body cell under the right column headers -----------------------------------------------

Span = tuple[int, int, int, int]  # (row, col, row_span, col_span)


@dataclass(frozen=True)
class Grid:
    """A table with what a plain grid loses: how many rows at the top are header rows, and which cells span (their
    text in the top-left position of ``rows``). A tool that says nothing of headers gives one header row."""

    rows: Table
    header_rows: int = 1
    spans: tuple[Span, ...] = ()

    def filled(self) -> Table:
        """The grid with a spanning cell's text in every position it covers (ragged rows padded)."""
        width = max((len(row) for row in self.rows), default=0)
        grid = [list(row) + [""] * (width - len(row)) for row in self.rows]
        for r, c, rs, cs in self.spans:
            for dr in range(rs):
                for dc in range(cs):
                    if r + dr < len(grid) and c + dc < width:
                        grid[r + dr][c + dc] = self.rows[r][c]
        return grid


HeaderPair = tuple[str, str]  # (the column's header path, a body cell's text)


def header_pairs(table: Grid, norm: Callable[[str], str] = normalize) -> Counter[HeaderPair]:
    """Each non-empty body cell with its column's header path: the texts of the header rows over its column
    (a spanning header counts over every column it covers), top to bottom, joined by " / ". Header rows lost,
    a group header over the wrong columns, a multi-line header cell cut into rows: each shows as wrong pairs."""
    filled = table.filled()
    heads = filled[: table.header_rows]
    pairs: Counter[HeaderPair] = Counter()
    for row in table.rows[table.header_rows :]:
        for c, text in enumerate(row):
            value = norm(text or "")
            if not value:
                continue
            path: list[str] = []
            for head in heads:
                label = norm(head[c]) if c < len(head) else ""
                if label and (not path or path[-1] != label):
                    path.append(label)
            pairs[" / ".join(path), value] += 1
    return pairs


def score_headers(extracted: Iterable[Grid], truth: Iterable[Grid], norm: Callable[[str], str] = normalize) -> Score:
    """Compare a document's body cells with their header paths as multisets, pooled over its tables."""
    found: Counter[HeaderPair] = Counter()
    expected: Counter[HeaderPair] = Counter()
    for table in extracted:
        found.update(header_pairs(table, norm))
    for table in truth:
        expected.update(header_pairs(table, norm))
    return _compare(found, expected)
