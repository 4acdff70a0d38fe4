"""A document's structure as elements in reading order: what the layout reader finds on each page and what the
structured outputs (Markdown, the JSON tree, tables, CSV) are written from.

Coordinates are PDF points with the origin at the page's bottom left: ``bbox = (x0, y0, x1, y1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any


class Kind(str, Enum):
    TITLE = "title"
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE = "table"
    CAPTION = "caption"
    FOOTNOTE = "footnote"
    CODE = "code"
    #: running headers, footers and page numbers: kept in the JSON, never in the text
    FURNITURE = "furniture"
    #: a chart, diagram or picture: its box, and its labels (tick labels, axis titles) as its text; kept in the
    #: JSON, never in the text (its caption is a caption)
    FIGURE = "figure"


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    text: str
    row_span: int = 1
    col_span: int = 1
    header: bool = False


@dataclass
class Element:
    kind: Kind
    text: str
    page: int
    bbox: tuple[float, float, float, float]
    #: the font size of its text (points) and whether it is bold: what heading levels are ranked by
    size: float = 0.0
    bold: bool = False
    #: heading level (1 = top) for titles and headings
    level: int = 0
    #: list nesting (0 = top level) for list items
    depth: int = 0
    #: tables: every cell, and how many rows at the top are headers
    cells: list[Cell] = field(default_factory=list)
    header_rows: int = 0
    #: tables: the pages it spans (a table continued on the next page is one table)
    pages: list[int] = field(default_factory=list)
    #: read from a scan: OCR's mean word confidence (0-100), so a reader can check the unsure parts; None otherwise
    confidence: float | None = None

    @property
    def n_rows(self) -> int:
        return max((c.row + c.row_span for c in self.cells), default=0)

    @property
    def n_cols(self) -> int:
        return max((c.col + c.col_span for c in self.cells), default=0)

    def rows(self) -> list[list[str]]:
        """The table's text as a grid: a spanned cell's text in its top-left position, the rest empty."""
        grid = [["" for _ in range(self.n_cols)] for _ in range(self.n_rows)]
        for cell in self.cells:
            grid[cell.row][cell.col] = cell.text
        return grid

    @property
    def spans(self) -> bool:
        return any(c.row_span > 1 or c.col_span > 1 for c in self.cells)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.kind.value,
            "text": self.text,
            "page": self.page,
            "bbox": [round(v, 1) for v in self.bbox],
        }
        if self.kind in (Kind.TITLE, Kind.HEADING):
            data["level"] = self.level
        if self.kind is Kind.LIST_ITEM:
            data["depth"] = self.depth
        if self.kind is Kind.FURNITURE:
            data["furniture"] = True
        if self.confidence is not None:
            data["confidence"] = round(self.confidence, 1)
        if self.kind is Kind.TABLE:
            data.update(
                pages=self.pages or [self.page],
                header_rows=self.header_rows,
                rows=self.rows(),
                cells=[dict(vars(c)) for c in self.cells],
            )
        return data

    def to_record(self) -> dict[str, Any]:
        """Everything, for a chunk's stored result (read back by ``from_record``)."""
        # (field by field: ``asdict`` deep-copies every value, and a long document has thousands of cells)
        record = {name: getattr(self, name) for name in _FIELDS}
        record.update(kind=self.kind.value, cells=[dict(vars(c)) for c in self.cells], pages=list(self.pages))
        return record

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Element:
        values = dict(data)
        values["kind"] = Kind(values["kind"])
        values["bbox"] = tuple(values["bbox"])
        values["cells"] = [Cell(**c) for c in values.get("cells", [])]
        return cls(**values)


_FIELDS = tuple(f.name for f in fields(Element))
