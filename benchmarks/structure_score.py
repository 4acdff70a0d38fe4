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
from collections.abc import Iterable
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


def adjacency_relations(table: Table) -> Counter[Relation]:
    """Each non-empty cell with its next non-empty neighbour to the right and below (ragged rows allowed)."""
    grid = [[normalize(cell or "") for cell in row] for row in table]
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


def document_relations(tables: Iterable[Table]) -> Counter[Relation]:
    """The relations of all a document's tables, pooled."""
    pooled: Counter[Relation] = Counter()
    for table in tables:
        pooled.update(adjacency_relations(table))
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


def score_document(extracted: Iterable[Table], truth: Iterable[Table]) -> Score:
    """Compare a document's extracted tables with its ground truth as multisets of adjacency relations."""
    found, expected = document_relations(extracted), document_relations(truth)
    return Score(found=sum(found.values()), expected=sum(expected.values()), matched=sum((found & expected).values()))
