"""What a generated document holds, as the generator made it: its tables (cell grids with header rows and spans),
headings with levels, reading-order text blocks, page furniture, and olmOCR-bench-style unit tests that any
tool's Markdown, HTML or plain text can be checked against (benchmarks/page_tests.py runs them).

A unit test is a dict with a ``type`` and a ``category`` (what the benchmark reports it under):
- ``present`` {text}: the text is in the output; ``absent`` {text}: it is not (page furniture);
- ``order`` {before, after}: both are present, ``before`` first;
- ``table`` {cell, up?, down?, left?, right?, top_heading?}: some table of the output has a cell with this text,
  whose neighbours (spans expanded) and header cell above are these;
- ``heading`` {text, under?}: the text is a heading (deeper than the heading ``under`` when given);
  ``not_heading`` {text}: no heading starts with it (a run-in bold opening, a date);
- ``no_table`` {text} / ``no_list`` {text}: the text is in no table cell / no list item (figure labels).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass, field
from typing import Any

Span = tuple[int, int, int, int]  # (row, col, row_span, col_span) of a cell that spans more than one position
CellSpec = str | tuple[str, int, int]  # text, or (text, row_span, col_span)


@dataclass
class TableTruth:
    """A table as a grid: each cell's text in its top-left position, covered positions empty; its header rows and
    spanning cells; how it was drawn (``style``)."""

    rows: list[list[str]]
    header_rows: int
    style: str
    spans: list[Span] = field(default_factory=list)
    caption: str = ""

    @classmethod
    def from_rows(cls, spec: list[list[CellSpec]], header_rows: int, style: str, caption: str = "") -> TableTruth:
        """Rows as written in HTML: each row lists its cells left to right, skipping positions that a row span
        from above covers; a cell is text or (text, row_span, col_span)."""
        taken: set[tuple[int, int]] = set()
        placed: dict[tuple[int, int], str] = {}
        spans: list[Span] = []
        for r, row in enumerate(spec):
            c = 0
            for cell in row:
                while (r, c) in taken:
                    c += 1
                text, rs, cs = (cell, 1, 1) if isinstance(cell, str) else cell
                placed[r, c] = text
                if rs > 1 or cs > 1:
                    spans.append((r, c, rs, cs))
                for dr in range(rs):
                    for dc in range(cs):
                        taken.add((r + dr, c + dc))
                c += cs
        n_rows = max(r for r, _ in taken) + 1
        n_cols = max(c for _, c in taken) + 1
        rows = [[placed.get((r, c), "") for c in range(n_cols)] for r in range(n_rows)]
        return cls(rows, header_rows, style, spans, caption)

    def filled(self) -> list[list[str]]:
        """The grid with a spanning cell's text in every position it covers."""
        grid = [list(row) for row in self.rows]
        for r, c, rs, cs in self.spans:
            for dr in range(rs):
                for dc in range(cs):
                    grid[r + dr][c + dc] = self.rows[r][c]
        return grid


@dataclass
class DocTruth:
    """One generated document and everything known about it."""

    id: str
    kind: str
    engine: str
    file: str  # relative to the corpus folder
    pages: int
    tables: list[TableTruth] = field(default_factory=list)
    headings: list[tuple[str, int]] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)  # reading order: paragraphs, captions, headings
    furniture: list[str] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)
    rotation: int = 0  # the /Rotate of its pages, or 90 for a table set sideways
    scan: dict[str, Any] | None = None  # how it was rasterised: dpi, skew, blur, noise, format; and its source
    notes: dict[str, Any] = field(default_factory=dict)  # what was varied: fonts, sizes, columns

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocTruth:
        values = dict(data)
        values["tables"] = [TableTruth(**{**t, "spans": [tuple(s) for s in t["spans"]]}) for t in data["tables"]]
        values["headings"] = [tuple(h) for h in data["headings"]]
        return cls(**values)

    @property
    def table_styles(self) -> list[str]:
        return [t.style for t in self.tables]


# --- unit tests -------------------------------------------------------------------------------------------------


def present(text: str, category: str = "text") -> dict[str, Any]:
    return {"type": "present", "category": category, "text": text}


def absent(text: str, category: str = "furniture") -> dict[str, Any]:
    return {"type": "absent", "category": category, "text": text}


def order(before: str, after: str, category: str = "order") -> dict[str, Any]:
    return {"type": "order", "category": category, "before": before, "after": after}


def heading(text: str, under: str | None = None) -> dict[str, Any]:
    test = {"type": "heading", "category": "headings", "text": text}
    return test | ({"under": under} if under else {})


def not_heading(text: str) -> dict[str, Any]:
    return {"type": "not_heading", "category": "headings", "text": text}


def no_table(text: str) -> dict[str, Any]:
    return {"type": "no_table", "category": "figures", "text": text}


def no_list(text: str) -> dict[str, Any]:
    return {"type": "no_list", "category": "figures", "text": text}


def snippet(text: str, count: int = 6, *, end: bool = False) -> str:
    """The first (or last) ``count`` words of a block: what order and presence tests quote."""
    parts = text.split()
    return " ".join(parts[-count:] if end else parts[:count])


def block_tests(blocks: list[str], rng: random.Random, *, presence: int = 3) -> list[dict[str, Any]]:
    """Order tests between consecutive blocks (their openings) and presence tests for a few whole sentences."""
    tests = [order(snippet(a), snippet(b)) for a, b in itertools.pairwise(blocks) if a and b]
    long_blocks = [b for b in blocks if len(b.split()) > 12]
    for block in rng.sample(long_blocks, min(presence, len(long_blocks))):
        sentences = [s.strip() + "." for s in block.split(".") if len(s.split()) >= 6]
        if sentences:
            tests.append(present(rng.choice(sentences)))
    return tests


def table_tests(table: TableTruth, rng: random.Random, count: int = 4) -> list[dict[str, Any]]:
    """Cell tests on body cells whose text is unique in the table: their non-empty neighbours and header."""
    grid = table.filled()
    texts = [t for row in grid for t in row]
    candidates = [
        (r, c)
        for r in range(table.header_rows, len(grid))
        for c in range(len(grid[r]))
        if grid[r][c].strip() and texts.count(grid[r][c]) == 1 and len(grid[r][c]) < 60
    ]
    tests = []
    for r, c in rng.sample(candidates, min(count, len(candidates))):
        test: dict[str, Any] = {"type": "table", "category": "tables", "cell": grid[r][c]}
        for name, (rr, cc) in {"up": (r - 1, c), "down": (r + 1, c), "left": (r, c - 1), "right": (r, c + 1)}.items():
            if 0 <= rr < len(grid) and 0 <= cc < len(grid[rr]) and grid[rr][cc].strip() and rr >= table.header_rows:
                test[name] = grid[rr][cc]
        if table.header_rows and grid[table.header_rows - 1][c].strip():
            test["top_heading"] = grid[table.header_rows - 1][c]
        if len(test) > 3:
            tests.append(test)
    return tests


def caption_tests(table: TableTruth) -> list[dict[str, Any]]:
    """A caption is text, not a table row."""
    if not table.caption:
        return []
    return [present(table.caption), {"type": "no_table", "category": "tables", "text": table.caption}]
