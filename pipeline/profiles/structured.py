"""A document's pages of elements made into one document: running headers, footers and page numbers recognised
across pages and set apart, heading levels ranked over the whole document, paragraphs and tables cut by a page
or column border joined; then written as Markdown, the JSON tree, the tables as JSON and as CSV.

Pages without a layout (pages whose layout could not be read, scans read without one) come in as paragraphs; a scan
read with Tesseract's layout (``pipeline.documents.ocr.scanned_layout``) comes in as its paragraphs and headings."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pipeline.core.elements import Cell, Element, Kind
from pipeline.core.models import PageText
from pipeline.core.spreadsheet import defuse
from pipeline.documents.layout.reading import PAGE_NUMBER
from pipeline.profiles.text import escape_markdown_text, paragraphs

#: a text within this share of the page height from its top or bottom edge, repeated on this share of the pages (at
#: least 2), is running furniture
RUNNING_SHARE = 0.5
EDGE = 0.09
#: lines at the page's edge this close (points) to each other stand at one place
PLACE_POINTS = 2.0
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
    elements = _page_numbers(_running_furniture(elements, heights), heights)
    elements = _join_cut(elements)  # (soft hyphens at line ends, kept until here to join words cut by a border)
    elements = [replace(e, text=e.text.replace("\u00ad", "")) if "\u00ad" in e.text else e for e in elements]
    return _rank_headings(_list_depths(elements), outline)


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
    return _join_cut(elements)


def has_layout(pages: Sequence[PageText]) -> bool:
    return any(page.layout is not None for page in pages)


# -- across pages ------------------------------------------------------------------------------------------------
def _edge_key(element: Element, heights: dict[int, float]) -> str | None:
    height = heights.get(element.page)
    if not height or element.kind is Kind.TABLE:
        return None
    if element.bbox[1] < height * (1 - EDGE) and element.bbox[3] > height * EDGE:
        return None
    return re.sub(r"\d+", "#", " ".join(element.text.lower().split()))


def _place_key(element: Element, heights: dict[int, float], body: float) -> tuple[str, int] | None:
    """Where a line at the page's edge stands, whatever it says: a running header that names the current chapter
    ("Chapter 4: Function reference") changes its text but not its place nor its size, which stays the text's or
    smaller (a slide's title at the top of every page is larger)."""
    height = heights.get(element.page)
    if not height or element.kind is Kind.TABLE or element.size > 1.05 * body:
        return None
    if element.bbox[3] - element.bbox[1] > 2.5 * max(element.size, 1.0):  # one line, at most two
        return None
    if element.bbox[1] >= height * (1 - EDGE):
        return ("top", round(element.bbox[1] / PLACE_POINTS))
    if element.bbox[3] <= height * EDGE:
        return ("bottom", round(element.bbox[3] / PLACE_POINTS))
    return None


def _running_furniture(elements: list[Element], heights: dict[int, float]) -> list[Element]:
    """Lines at the page's edges repeated across pages: the same text (digits aside), or text of the body's size or
    smaller at the same place on most pages."""
    body = _body_size(elements)
    keys = [_edge_key(e, heights) for e in elements]
    places = [_place_key(e, heights, body) for e in elements]
    need = max(2.0, RUNNING_SHARE * len(heights))
    by_text: Counter[str] = Counter(k for k, _page in {(k, e.page) for k, e in zip(keys, elements, strict=True) if k})
    by_place: Counter[tuple[str, int]] = Counter(
        k for k, _page in {(k, e.page) for k, e in zip(places, elements, strict=True) if k}
    )
    running = {k for k, n in by_text.items() if n >= need}
    placed = {k for k, n in by_place.items() if n >= max(3.0, need)}
    return [
        replace(e, kind=Kind.FURNITURE) if k in running or p in placed else e
        for k, p, e in zip(keys, places, elements, strict=True)
    ]


def _page_numbers(elements: list[Element], heights: dict[int, float]) -> list[Element]:
    """A page number is the last (or first) line of its page, whatever its distance from the edge (a LaTeX page
    sets it well above the bottom): one that says its page's own number, or one of the kind that ends (or starts)
    most of the document's pages."""
    ends: dict[int, list[int]] = {}
    for index, element in enumerate(elements):
        if element.page in heights and element.kind is not Kind.FURNITURE and any(element.bbox):
            ends.setdefault(element.page, []).append(index)
    found: dict[int, bool] = {}  # element index: whether it names its own page
    for page, indexes in ends.items():
        for index in (min(indexes, key=lambda i: elements[i].bbox[1]), max(indexes, key=lambda i: elements[i].bbox[3])):
            text = elements[index].text.strip()
            if elements[index].kind in (Kind.PARAGRAPH, Kind.HEADING) and len(text) <= 12 and PAGE_NUMBER.match(text):
                found[index] = re.sub(r"\D", " ", text).split()[:1] == [str(page)]
    common = len({elements[i].page for i in found}) >= max(2.0, RUNNING_SHARE * len(heights))
    return [
        replace(e, kind=Kind.FURNITURE) if i in found and (common or found[i]) else e for i, e in enumerate(elements)
    ]


def _body_size(elements: list[Element]) -> float:
    """The size most of the paragraphs' text has."""
    sizes: Counter[float] = Counter()
    for element in elements:
        if element.kind is Kind.PARAGRAPH and element.size:
            sizes[round(element.size, 1)] += len(element.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _join_cut(elements: list[Element]) -> list[Element]:
    """A paragraph that stops mid-sentence and one that goes on in lower case (the next column or page) are one;
    so are a table at the end of a page and one with as many columns at the top of the next."""
    out: list[Element] = []
    for element in elements:
        # the last element that is not furniture, by position: an equal paragraph earlier on must not be the one joined
        index = next((i for i in range(len(out) - 1, -1, -1) if out[i].kind is not Kind.FURNITURE), None)
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


_SECTION_NUMBER = re.compile(r"^(?:(?:chapter|part)\s+)?(\d+(?:\.\d+)*)\.?\s+\S", re.IGNORECASE)


def _style(element: Element) -> tuple[float, bool]:
    return round(element.size * 2) / 2, element.bold


def _rank_headings(elements: list[Element], outline: dict[int, list[dict[str, Any]]] | None = None) -> list[Element]:
    """Heading levels that mean the same on every page: from a heading's section number where it has one
    ("2.1.3" is three deep), else from the size it is set in (largest first; bold at the same size first); the first
    page's one largest heading, above all others, is the title. Where the PDF has an outline, it has the last word
    (``_confirm_by_outline``)."""
    ranked = _rank_by_style(elements)
    return _confirm_by_outline(ranked, outline) if outline else ranked


def _rank_by_style(elements: list[Element]) -> list[Element]:
    headings = [e for e in elements if e.kind is Kind.HEADING]
    if not headings:
        return elements
    styles = sorted({_style(e) for e in headings}, key=lambda s: (-s[0], not s[1]))
    top = [e for e in headings if _style(e) == styles[0]]
    first_page = min(e.page for e in elements)
    title = top[0] if len(top) == 1 and top[0].page == first_page and len(styles) > 1 else None
    offset = 1 if title is not None else 0
    rest = [s for s in styles if title is None or s != styles[0]]
    # Numbered headings say their depth; a style's level is the depth its numbered headings have most often.
    depth_of_style: dict[tuple[float, bool], int] = {}
    for style in rest:
        depths = [_numbered_depth(e) for e in headings if _style(e) == style and _numbered_depth(e)]
        if depths:
            depth_of_style[style] = max(set(depths), key=depths.count)
    out = []
    for element in elements:
        if element is title:
            out.append(replace(element, kind=Kind.TITLE, level=1))
        elif element.kind is Kind.HEADING:
            style = _style(element)
            depth = (
                _numbered_depth(element) or depth_of_style.get(style) or _unnumbered_level(style, rest, depth_of_style)
            )
            out.append(replace(element, level=min(6, depth + offset)))
        else:
            out.append(element)
    return out


_NUMBERING = re.compile(r"^(?:(?:chapter|part|section|appendix)\s+)?(?:\d+|[a-z]|[ivxlc]+)(?:\.\d+)*[.:)]?\s+")


def _outline_key(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").casefold().split())


def _names(text: str, title: str) -> bool:
    """Whether a heading's text is an outline entry's title: equal once spaces and case are set aside, a numbering
    ("2.1", "Chapter 3", "A.") on either side allowed."""
    text, title = _outline_key(text), _outline_key(title)
    return text == title or _NUMBERING.sub("", text, count=1) == title or text == _NUMBERING.sub("", title, count=1)


def _confirm_by_outline(elements: list[Element], outline: dict[int, list[dict[str, Any]]]) -> list[Element]:
    """The outline (bookmarks) the PDF's author made says which texts are headings and how deep: a heading that an
    entry on its page names takes the entry's level; a paragraph that is exactly an entry's title becomes a heading
    at that level. Each entry confirms one element; entries that name no text are passed over (nothing is made up).
    A heading no entry names takes the level the outline gives its style, else keeps its own. A title the outline
    does not name stays above it: the outline's levels then start at 2."""
    unused = {page: list(entries) for page, entries in outline.items()}
    levels: dict[int, int] = {}  # element index -> outline level
    promoted: set[int] = set()
    passes = ((Kind.TITLE, Kind.HEADING), (Kind.PARAGRAPH,))
    for kinds in passes:
        for index, element in enumerate(elements):
            entries = unused.get(element.page)
            if element.kind not in kinds or not entries:
                continue
            if element.kind is Kind.PARAGRAPH:
                entry = next((e for e in entries if _outline_key(e["title"]) == _outline_key(element.text)), None)
            else:
                entry = next((e for e in entries if _names(element.text, e["title"])), None)
            if entry is not None:
                entries.remove(entry)
                levels[index] = int(entry["level"])
                if element.kind is Kind.PARAGRAPH:
                    promoted.add(index)
    if not levels:
        return elements
    title = next((i for i, e in enumerate(elements) if e.kind is Kind.TITLE), None)
    shift = 1 if title is not None and title not in levels else 0
    by_style: dict[tuple[float, bool], list[int]] = {}
    for index, level in levels.items():
        if elements[index].kind is Kind.HEADING and index not in promoted:
            by_style.setdefault(_style(elements[index]), []).append(level)
    out = []
    for index, element in enumerate(elements):
        if index in levels:
            level = min(6, levels[index] + shift)
            kind = Kind.TITLE if element.kind is Kind.TITLE and level == 1 else Kind.HEADING
            out.append(replace(element, kind=kind, level=level))
        elif element.kind is Kind.HEADING and not _numbered_depth(element) and _style(element) in by_style:
            found = by_style[_style(element)]
            common = min(set(found), key=lambda level: (-found.count(level), level))  # a tie: the higher level
            out.append(replace(element, level=min(6, common + shift)))
        else:
            out.append(element)
    return out


def _numbered_depth(element: Element) -> int:
    match = _SECTION_NUMBER.match(element.text)
    return len(match.group(1).split(".")) if match else 0


def _unnumbered_level(style: tuple[float, bool], styles: list[tuple[float, bool]], known: dict) -> int:
    """An unnumbered heading's level: under the numbered levels set in a larger style, else by its style's rank."""
    larger = [depth for other, depth in known.items() if (other[0], other[1]) > style or other[0] > style[0]]
    return (max(larger) + 1) if larger else styles.index(style) + 1


# -- writing -----------------------------------------------------------------------------------------------------
def to_markdown(elements: Sequence[Element]) -> str:
    parts: list[str] = []
    page = 0
    for element in elements:
        if element.kind is Kind.FURNITURE:
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
        return table_html(element) if element.spans else table_markdown(element)
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
    """A table whose cells span rows or columns, as HTML (GFM tables cannot span); the text escaped."""
    import html

    rows: dict[int, list[Cell]] = {}
    for cell in element.cells:
        rows.setdefault(cell.row, []).append(cell)
    out = ["<table>"]
    for r in range(element.n_rows):
        cells = []
        for cell in sorted(rows.get(r, []), key=lambda c: c.col):
            tag = "th" if cell.header else "td"
            span = (f' rowspan="{cell.row_span}"' if cell.row_span > 1 else "") + (
                f' colspan="{cell.col_span}"' if cell.col_span > 1 else ""
            )
            cells.append(f"<{tag}{span}>{html.escape(cell.text)}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def tree(elements: Sequence[Element]) -> list[dict[str, Any]]:
    """The JSON tree's elements: each with its type, text, page and box; furniture marked."""
    return [element.to_dict() for element in elements]


def tables(elements: Sequence[Element]) -> list[dict[str, Any]]:
    found = [e for e in elements if e.kind is Kind.TABLE]
    return [
        {
            "index": index,
            "pages": table.pages or [table.page],
            "bbox": [round(v, 1) for v in table.bbox],
            "header_rows": table.header_rows,
            "rows": table.rows(),
            "cells": table.to_dict()["cells"],
        }
        for index, table in enumerate(found, start=1)
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


def passage_pages(pages: Sequence[PageText]) -> list[tuple[int, str]]:
    """Each page's text as retrieval cuts it into passages: with its layout, headings as Markdown headings (so a
    passage starts at one and carries the real heading path), paragraphs and list items as blocks, and each table
    row as one line that names its columns ("Region: North; Revenue: 1,234.50"), so no passage cuts a row and every
    row carries its header; furniture left out. A page without a layout keeps its text as it was read."""
    if not has_layout(pages):
        return [(page.page, page.text.strip("\n")) for page in pages]
    blocks: dict[int, list[str]] = {page.page: [] for page in pages}
    for element in document_elements(pages):
        page = element.pages[0] if element.pages else element.page
        if element.kind is Kind.FURNITURE:
            continue
        if element.kind in (Kind.TITLE, Kind.HEADING):
            blocks.setdefault(page, []).append("#" * max(1, element.level) + " " + element.text)
        elif element.kind is Kind.TABLE:
            blocks.setdefault(page, []).append(_table_lines(element))
        else:
            blocks.setdefault(page, []).append(element.text)
    return [(page, "\n\n".join(texts)) for page, texts in sorted(blocks.items())]


def _table_lines(table: Element) -> str:
    rows = table.rows()
    header = [" ".join(cells) for cells in zip(*rows[: table.header_rows], strict=True)] if table.header_rows else []
    lines = []
    for row in rows[table.header_rows :]:
        if header:
            lines.append(
                "; ".join(
                    f"{name}: {value}" if name else value for name, value in zip(header, row, strict=True) if value
                )
            )
        else:
            lines.append("; ".join(value for value in row if value))
    return "\n".join(line for line in lines if line)
