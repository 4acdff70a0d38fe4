"""A document's elements written out: Markdown (GFM tables, HTML where cells span), the JSON tree, the tables as JSON
and as CSV, and each page's text as retrieval cuts it into passages. The elements come from
``pipeline.documents.layout.document``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from pipeline.core.elements import Element, Kind
from pipeline.core.models import PageText
from pipeline.core.spreadsheet import defuse
from pipeline.profiles.text import escape_markdown_text


def to_markdown(elements: Sequence[Element]) -> str:
    parts: list[str] = []
    page = 0
    for element in elements:
        if element.kind in (Kind.FURNITURE, Kind.FIGURE):
            continue
        first_page = element.pages[0] if element.pages else element.page
        if first_page > page:
            parts.append(f"<!-- page {first_page} -->")
        page = max(page, *(element.pages or [element.page]))
        parts.append(_markdown(element))
    return "\n\n".join(p for p in parts if p) + "\n"


def _markdown(element: Element) -> str:
    text = escape_markdown_text(element.text)
    if element.kind in (Kind.TITLE, Kind.HEADING):
        return "#" * max(1, element.level) + " " + text
    if element.kind is Kind.LIST_ITEM:
        marker = re.match(r"^\(?(\d{1,3}|[a-z]|[ivx]{1,4})[.)]\s*", element.text)
        body = escape_markdown_text(element.text[marker.end() :] if marker else re.sub(r"^\S+\s*", "", element.text))
        return "  " * element.depth + (f"{marker.group(1)}. " if marker and marker.group(1).isdigit() else "- ") + body
    if element.kind is Kind.TABLE:
        return table_html(element) if element.spans or element.header_rows > 1 else table_markdown(element)
    if element.kind is Kind.CODE:
        fence = "~~~~" if "```" in element.text else "```"
        return f"{fence}\n{element.text}\n{fence}"
    if element.kind is Kind.CAPTION:
        return f"*{text}*"
    return re.sub(r"^([#>|=+]|-{3,}|\d+[.)] )", r"\\\1", text)


def _cell(text: str) -> str:
    return escape_markdown_text(" ".join(text.split())).replace("|", "\\|")


def table_markdown(element: Element) -> str:
    rows = element.rows()
    header = rows[0] if element.header_rows else [""] * element.n_cols
    body = rows[element.header_rows or 0 :] if element.header_rows else rows
    lines = ["| " + " | ".join(_cell(c) for c in header) + " |", "|" + "---|" * element.n_cols]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def table_html(element: Element) -> str:
    """A table GFM cannot hold (cells that span rows or columns, more than one header row) as HTML: its header rows
    in ``<thead>``, every position of the grid placed (an empty cell as an empty ``<td>``, so each cell stands over
    the right column), the text escaped."""
    import html

    origins = {(cell.row, cell.col): cell for cell in element.cells}
    covered = {
        (cell.row + dr, cell.col + dc)
        for cell in element.cells
        for dr in range(cell.row_span)
        for dc in range(cell.col_span)
        if dr or dc
    }
    out = ["<table>"]
    for r in range(element.n_rows):
        if r == 0 and element.header_rows:
            out.append("<thead>")
        if r == element.header_rows:
            out.append("<tbody>")
        head = r < element.header_rows
        cells = []
        for c in range(element.n_cols):
            cell = origins.get((r, c))
            if cell is None and (r, c) in covered:
                continue
            tag = "th" if (cell.header if cell is not None else head) else "td"
            span = ""
            if cell is not None:
                span = (f' rowspan="{cell.row_span}"' if cell.row_span > 1 else "") + (
                    f' colspan="{cell.col_span}"' if cell.col_span > 1 else ""
                )
            cells.append(f"<{tag}{span}>{html.escape(cell.text) if cell is not None else ''}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
        if r == element.header_rows - 1:
            out.append("</thead>")
    out.append("</tbody></table>" if element.header_rows < element.n_rows else "</table>")
    return "\n".join(out)


def tree(elements: Sequence[Element]) -> list[dict[str, Any]]:
    """The JSON tree's elements: each with its type, text, page and box; furniture marked."""
    return [element.to_dict() for element in elements]


def tables(elements: Sequence[Element]) -> list[dict[str, Any]]:
    """Each table as data: its pages, box, header rows, rows, cells and the caption that names it ("" for none)."""
    from pipeline.tables.captions import table_captions

    found = [e for e in elements if e.kind is Kind.TABLE]
    captions = table_captions(
        [{"type": e.kind.value, "text": e.text, "page": e.page, "pages": e.pages} for e in elements]
    )
    return [
        {
            "index": index,
            "caption": caption,
            "pages": table.pages or [table.page],
            "bbox": [round(v, 1) for v in table.bbox],
            "header_rows": table.header_rows,
            "rows": table.rows(),
            "cells": table.to_dict()["cells"],
        }
        for (index, table), caption in zip(enumerate(found, start=1), captions, strict=True)
    ]


def tables_csv(elements: Sequence[Element]) -> str:
    """Every table's rows, each with its table's number first; cells that would start a formula are defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    found = [e for e in elements if e.kind is Kind.TABLE]
    width = max((t.n_cols for t in found), default=0)
    writer.writerow(["table", *[f"column {i}" for i in range(1, width + 1)]])
    for index, table in enumerate(found, start=1):
        for row in table.rows():
            writer.writerow([index, *[defuse(cell) for cell in row]])
    return buffer.getvalue()


def table_csv(rows: Sequence[Sequence[str]]) -> str:
    """One table's rows as CSV (a table's own download); cells that would start a formula are defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([defuse(cell) for cell in row])
    return buffer.getvalue()


def passage_pages(pages: Sequence[PageText], elements: Sequence[Element] | None = None) -> list[tuple[int, str]]:
    """Each page's text as retrieval cuts it into passages: with its layout, headings as Markdown headings (so a
    passage starts at one and carries the real heading path), paragraphs and list items as blocks, and each table
    row as one line that names its columns ("Region: North; Revenue: 1,234.50"), so no passage cuts a row and every
    row carries its header; furniture left out. A page without a layout keeps its text as it was read. The
    pages' ``elements`` are read from their layout unless the caller has them already."""
    from pipeline.documents.layout.document import document_elements, has_layout  # only when writing

    if not has_layout(pages):
        return [(page.page, page.text.strip("\n")) for page in pages]
    blocks: dict[int, list[str]] = {page.page: [] for page in pages}
    for element in document_elements(pages) if elements is None else elements:
        page = element.pages[0] if element.pages else element.page
        if element.kind in (Kind.FURNITURE, Kind.FIGURE):
            continue
        if element.kind in (Kind.TITLE, Kind.HEADING):
            blocks.setdefault(page, []).append("#" * max(1, element.level) + " " + element.text)
        elif element.kind is Kind.TABLE:
            blocks.setdefault(page, []).append(_table_lines(element))
        else:
            blocks.setdefault(page, []).append(element.text)
    return [(page, "\n\n".join(texts)) for page, texts in sorted(blocks.items())]


def _table_lines(table: Element) -> str:
    """Each body row as one line naming its columns by their header path through every header row ("Total PK-12 /
    Women: 54,862"), a spanning header counted over every column it spans."""
    rows = table.rows()
    names = column_names(table)
    lines = []
    for row in rows[table.header_rows :]:
        lines.append(
            "; ".join(f"{name}: {value}" if name else value for name, value in zip(names, row, strict=True) if value)
        )
    return "\n".join(line for line in lines if line)


def column_names(table: Element) -> list[str]:
    """Each column's header path: the texts of the header rows over it, top first, a spanning cell over every
    column it covers, a text repeated down the path once, joined by " / "; empty where no header names it."""
    heads = [["" for _ in range(table.n_cols)] for _ in range(table.header_rows)]
    for cell in table.cells:
        for r in range(cell.row, min(cell.row + cell.row_span, table.header_rows)):
            for c in range(cell.col, cell.col + cell.col_span):
                heads[r][c] = cell.text
    names = []
    for c in range(table.n_cols):
        path: list[str] = []
        for head in heads:
            if head[c] and (not path or path[-1] != head[c]):
                path.append(head[c])
        names.append(" / ".join(path))
    return names
