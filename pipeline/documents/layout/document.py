"""A document's pages of elements made into one document: furniture set apart (``furniture``), paragraphs and
tables cut by a page or column border joined, list depths from each list's own indents, and heading levels ranked
over the whole document (``headings``).

Pages without a layout (pages whose layout could not be read, scans read without one) come in as paragraphs; a scan
read with Tesseract's layout (``pipeline.documents.ocr.scanned_layout``) comes in as its paragraphs and headings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pipeline.core.elements import Cell, Element, Kind
from pipeline.core.models import PageText
from pipeline.documents.layout.furniture import mark_furniture
from pipeline.documents.layout.headings import rank_headings
from pipeline.documents.paragraphs import paragraphs

#: what a paragraph cut by a column or page border reads past to the part it goes on in
_ASIDE = (Kind.FURNITURE, Kind.FIGURE)
_SENTENCE_END = re.compile(r"[.!?:;\"”'’)\]。！？]$")


def document_elements(pages: Sequence[PageText]) -> list[Element]:
    """Every page's elements in reading order, as one document (see the module's docstring)."""
    elements: list[Element] = []
    heights: dict[int, float] = {}
    outline: dict[int, list[dict[str, Any]]] = {}
    for page in pages:
        if page.layout is not None:
            heights[page.page] = float(page.layout.get("height", 0.0))
            if page.layout.get("outline"):
                outline[page.page] = list(page.layout["outline"])
            elements += [Element.from_record(record) for record in page.layout.get("elements", [])]
        else:
            for block in paragraphs(page.text):
                elements.append(Element(Kind.PARAGRAPH, block, page.page, (0.0, 0.0, 0.0, 0.0)))
    elements = mark_furniture(elements, heights)
    elements = join_cut(elements)  # (soft hyphens at line ends, kept until here to join words cut by a border)
    elements = [replace(e, text=e.text.replace("\u00ad", "")) if "\u00ad" in e.text else e for e in elements]
    return rank_headings(_list_depths(elements), outline)


def has_layout(pages: Sequence[PageText]) -> bool:
    return any(page.layout is not None for page in pages)


def join_cut(elements: list[Element]) -> list[Element]:
    """A paragraph that stops mid-sentence and one that goes on in lower case (the next column or page) are one;
    so are a table at the end of a page and one with as many columns at the top of the next."""
    out: list[Element] = []
    for element in elements:
        # the last element that is not furniture nor a figure (a paragraph goes on under a figure set in its column),
        # by position: an equal paragraph earlier on must not be the one joined
        index = next((i for i in range(len(out) - 1, -1, -1) if out[i].kind not in _ASIDE), None)
        previous = out[index] if index is not None else None
        if index is not None and previous is not None and _continues(previous, element):
            if element.kind is Kind.TABLE:
                out[index] = _joined_table(previous, element)
            else:
                out[index] = replace(previous, text=_join_text(previous.text, element.text))
            continue
        out.append(element)
    return out


def _continues(previous: Element, element: Element) -> bool:
    if previous.kind is Kind.TABLE and element.kind is Kind.TABLE:
        return element.page == max(previous.pages or [previous.page]) + 1 and previous.n_cols == element.n_cols
    if element.kind is not Kind.PARAGRAPH or previous.kind not in (Kind.PARAGRAPH, Kind.LIST_ITEM):
        return False
    moved = element.page != previous.page or element.bbox[0] > previous.bbox[2] or element.bbox[3] > previous.bbox[1]
    first = element.text.lstrip()[:1]
    return moved and not _SENTENCE_END.search(previous.text.rstrip()) and first.islower()


def _list_depths(elements: list[Element]) -> list[Element]:
    """Each run of list items (across pages, furniture aside) nests by its own indents: the items furthest left
    are at depth 0 wherever the list stands, and each further indent is one level deeper."""
    out = list(elements)
    run: list[int] = []
    for index, element in enumerate([*elements, None]):
        if element is not None and element.kind is Kind.FURNITURE:
            continue
        if element is not None and element.kind is Kind.LIST_ITEM and any(element.bbox):
            run.append(index)
            continue
        if run:
            indents: list[float] = []
            for x in sorted(elements[i].bbox[0] for i in run):
                if not indents or x > indents[-1] + 0.5 * max(elements[run[0]].size, 4.0):
                    indents.append(x)
            for i in run:
                x = elements[i].bbox[0]
                depth = max(n for n, indent in enumerate(indents) if indent <= x + 0.5 * max(elements[i].size, 4.0))
                out[i] = replace(elements[i], depth=min(depth, 5))
            run = []
    return out


def _join_text(first: str, second: str) -> str:
    second = second.lstrip()
    if first.endswith(("-", "\u00ad")) and first[-2:-1].isalpha() and second[:1].islower():
        return (first[:-1] if first.endswith("\u00ad") else first) + second
    return f"{first.rstrip()} {second}"


def _joined_table(first: Element, second: Element) -> Element:
    """One table from a table and its continuation; a header the continuation repeats is dropped."""
    rows = first.n_rows
    head = first.rows()[: first.header_rows]
    repeated = bool(second.header_rows and head) and second.rows()[: second.header_rows] == head
    skip = second.header_rows if repeated else 0
    cells = list(first.cells) + [
        Cell(c.row - skip + rows, c.col, c.text, c.row_span, c.col_span, False) for c in second.cells if c.row >= skip
    ]
    pages = sorted({*(first.pages or [first.page]), *(second.pages or [second.page])})
    return replace(first, cells=cells, pages=pages)
