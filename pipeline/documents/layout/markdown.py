"""Markdown a model wrote (Claude's pages) read as the layout's elements, so every engine answers ``json``,
``tables`` and ``csv`` alike."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.elements import Cell, Element, Kind
from pipeline.core.models import PageText
from pipeline.documents.layout.document import join_cut


def markdown_elements(pages: Sequence[PageText]) -> list[Element]:
    """Markdown a model wrote (Claude's pages) as the same elements, so every engine answers ``json``, ``tables``
    and ``csv`` alike: headings with their levels, paragraphs, list items with their depth, GFM tables (the head's
    rows are header rows), code. It has no boxes: ``bbox`` is zero."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    elements: list[Element] = []
    box = (0.0, 0.0, 0.0, 0.0)
    for page in pages:
        tokens = parser.parse(page.text)
        lists = 0
        heading = 0
        in_item = False
        table: list[list[str]] | None = None
        header_rows = 0
        for token in tokens:
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                lists += 1
            elif kind in ("bullet_list_close", "ordered_list_close"):
                lists -= 1
            elif kind == "list_item_open":
                in_item = True
            elif kind == "heading_open":
                heading = int(token.tag[1:])
            elif kind == "table_open":
                table, header_rows = [], 0
            elif kind == "tr_open" and table is not None:
                table.append([])
            elif kind == "thead_close" and table is not None:
                header_rows = len(table)
            elif kind == "table_close" and table is not None:
                cells = [
                    Cell(r, c, text, header=r < header_rows)
                    for r, row in enumerate(table)
                    for c, text in enumerate(row)
                ]
                elements.append(
                    Element(Kind.TABLE, "", page.page, box, cells=cells, header_rows=header_rows, pages=[page.page])
                )
                table = None
            elif kind in ("fence", "code_block"):
                elements.append(Element(Kind.CODE, token.content.rstrip("\n"), page.page, box))
            elif kind == "inline":
                text = " ".join(token.content.split())
                if table is not None:
                    table[-1].append(text)
                elif heading:
                    elements.append(Element(Kind.HEADING, text, page.page, box, level=heading))
                    heading = 0
                elif in_item:
                    elements.append(Element(Kind.LIST_ITEM, text, page.page, box, depth=max(0, lists - 1)))
                    in_item = False
                elif text:
                    elements.append(Element(Kind.PARAGRAPH, text, page.page, box))
    return join_cut(elements)
