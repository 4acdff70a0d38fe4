"""A job's JSON result read for the document view: its elements page by page, as blocks to show (headings,
paragraphs, lists, tables with every header row, page text where the result has no elements) and as boxes to draw
on the page image.

Pure functions over the result's JSON (no Panel), so what the view shows is tested without a browser. The boxes'
coordinates are the result's (PDF points, origin at the page's bottom left; an image's pixels), turned into
percentages of the page image, which is all the browser needs to place them at any size.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .safe_html import NUMBER, render

#: text shown in the document view at once; a longer document shows a window of pages around the one on screen
MAX_SHOWN_CHARS = 200_000
WORD = re.compile(r"\w+", re.UNICODE)
#: a passage's element is marked when this many of its words in a row are in the passage (or all, if fewer)
MARK_RUN = 4


@dataclass(frozen=True)
class Cell:
    text: str
    row_span: int = 1
    col_span: int = 1
    number: bool = False


@dataclass(frozen=True)
class Block:
    """One element as the document view shows it. ``el`` is its id in the view: its place in the result's
    elements plus one; a page's text (a result without elements) is ``-page``."""

    el: int
    kind: str
    text: str
    page: int
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    level: int = 0
    depth: int = 0
    #: OCR's mean word confidence (0-100) where the result has it
    confidence: float | None = None
    head: tuple[tuple[Cell, ...], ...] = ()
    body: tuple[tuple[Cell, ...], ...] = ()

    @property
    def has_box(self) -> bool:
        return self.bbox[2] > self.bbox[0] and self.bbox[3] > self.bbox[1]

    def low(self, floor: float) -> bool:
        return self.confidence is not None and self.confidence < floor

    @property
    def label(self) -> str:
        """What a box's tooltip says of it: its kind and its first words."""
        first = " ".join(self.text.split()[:8])
        kind = {"list_item": "list item", "furniture": "running header or footer"}.get(self.kind, self.kind)
        return f"{kind}: {first}" if first else kind


@dataclass(frozen=True)
class PageInfo:
    number: int
    #: how the page was read: "text-layer", "ocr", "claude", "empty"
    method: str = "text-layer"
    blocks: tuple[Block, ...] = ()

    @property
    def chars(self) -> int:
        return sum(len(block.text) for block in self.blocks) + sum(
            len(cell.text) for block in self.blocks for row in (*block.head, *block.body) for cell in row
        )


@dataclass(frozen=True)
class DocumentLayout:
    """Every page of a result with its blocks, in reading order."""

    pages: tuple[PageInfo, ...] = ()
    #: whether the result has elements (with boxes where the layout was read from the page)
    structured: bool = False
    by_el: dict[int, Block] = field(default_factory=dict)

    def page(self, number: int) -> PageInfo | None:
        return next((page for page in self.pages if page.number == number), None)

    def block(self, el: int) -> Block | None:
        return self.by_el.get(el)


def read_layout(result_json: str) -> DocumentLayout:
    """The result's pages and elements (``elements`` where the profile wrote them; else each page's text)."""
    data = json.loads(result_json)
    pages_data = [p for p in data.get("pages", []) if isinstance(p, dict) and isinstance(p.get("page"), int)]
    elements = data.get("elements")
    structured = isinstance(elements, list)
    blocks: dict[int, list[Block]] = {p["page"]: [] for p in pages_data}
    if structured:
        for index, element in enumerate(elements):
            block = _block(index + 1, element)
            blocks.setdefault(block.page, []).append(block)
    else:
        for page in pages_data:
            text = str(page.get("text") or "")
            if text.strip():
                blocks[page["page"]].append(Block(-page["page"], "page_text", text, page["page"]))
    methods = {p["page"]: str(p.get("method", "text-layer")) for p in pages_data}
    pages = tuple(
        PageInfo(number, methods.get(number, "text-layer"), tuple(found)) for number, found in sorted(blocks.items())
    )
    by_el = {block.el: block for page in pages for block in page.blocks}
    return DocumentLayout(pages, structured, by_el)


def _block(el: int, element: dict[str, Any]) -> Block:
    bbox = element.get("bbox") or [0, 0, 0, 0]
    head: list[tuple[Cell, ...]] = []
    body: list[tuple[Cell, ...]] = []
    if element.get("type") == "table":
        head, body = _table_rows(element)
    confidence = element.get("confidence")
    return Block(
        el=el,
        kind=str(element.get("type", "paragraph")),
        text=str(element.get("text") or ""),
        page=int(element.get("page") or 1),
        bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])),
        level=max(1, min(6, int(element.get("level") or 1))),
        depth=max(0, min(6, int(element.get("depth") or 0))),
        confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
        head=tuple(head),
        body=tuple(body),
    )


def _table_rows(element: dict[str, Any]) -> tuple[list[tuple[Cell, ...]], list[tuple[Cell, ...]]]:
    """A table's header rows and body rows from its cells (spans kept); from its ``rows`` grid if it has none.
    Every header row is a header row (a row is one when the table says so or all its cells are headers)."""
    header_rows = int(element.get("header_rows") or 0)
    cells = element.get("cells") or []
    grid: dict[int, list[dict[str, Any]]] = {}
    if cells:
        for cell in cells:
            grid.setdefault(int(cell.get("row", 0)), []).append(cell)
    else:
        for r, row in enumerate(element.get("rows") or []):
            grid[r] = [{"row": r, "col": c, "text": text} for c, text in enumerate(row)]
    head: list[tuple[Cell, ...]] = []
    body: list[tuple[Cell, ...]] = []
    for r in range(max(grid, default=-1) + 1):
        row = sorted(grid.get(r, []), key=lambda cell: int(cell.get("col", 0)))
        shown = tuple(
            Cell(
                str(cell.get("text") or ""),
                max(1, int(cell.get("row_span") or 1)),
                max(1, int(cell.get("col_span") or 1)),
                number=bool(NUMBER.match(str(cell.get("text") or "").strip())),
            )
            for cell in row
        )
        is_header = r < header_rows or (bool(row) and all(cell.get("header") for cell in row) and not body)
        (head if is_header else body).append(shown)
    return head, body


def boxes(page: PageInfo, page_width: float, page_height: float, *, floor: float) -> list[dict[str, Any]]:
    """The page's elements as boxes in percent of the page (left, top, width, height), for the browser to place
    on the image at any size; ``low`` where OCR's confidence is under ``floor``."""
    if page_width <= 0 or page_height <= 0:
        return []
    found = []
    for block in page.blocks:
        if not block.has_box:
            continue
        x0, y0, x1, y1 = block.bbox
        left, right = _percent(x0, page_width), _percent(x1, page_width)
        top, bottom = _percent(page_height - y1, page_height), _percent(page_height - y0, page_height)
        found.append(
            {
                "el": block.el,
                "kind": block.kind,
                "left": left,
                "top": top,
                "width": round(right - left, 3),
                "height": round(bottom - top, 3),
                "low": block.low(floor),
                "label": block.label,
            }
        )
    return found


def _percent(value: float, whole: float) -> float:
    return round(max(0.0, min(100.0, 100.0 * value / whole)), 3)


def marked_elements(page: PageInfo, mark: str) -> list[int]:
    """The page's elements a passage (a search hit, a cited text) covers: those with ``MARK_RUN`` of their words
    in a row in it (all of them when they have fewer), tables with two of their cells in it."""
    words = _words(mark)
    if not words:
        return []
    runs = {tuple(words[i : i + MARK_RUN]) for i in range(max(1, len(words) - MARK_RUN + 1))}
    joined = " ".join(words)
    found = []
    for block in page.blocks:
        if block.kind == "table":
            texts = [" ".join(_words(cell.text)) for row in block.body for cell in row]
            if sum(1 for text in texts if len(text) >= 3 and f" {text} " in f" {joined} ") >= 2:
                found.append(block.el)
            continue
        own = _words(block.text)
        if not own:
            continue
        if len(own) < MARK_RUN:
            if f" {' '.join(own)} " in f" {joined} " and len(" ".join(own)) >= 6:
                found.append(block.el)
        elif any(tuple(own[i : i + MARK_RUN]) in runs for i in range(len(own) - MARK_RUN + 1)):
            found.append(block.el)
    return found


def split_mark(text: str, mark: str) -> tuple[str, str, str]:
    """``text`` around the first place ``mark`` is in it, spaces and line breaks counted alike (a passage may run
    across the page's lines differently); of a passage that runs across a page border, the longest run of its
    words this page has (its start or its end); (text, "", "") when it is not there. The template escapes each
    part."""
    words = mark.split()
    for count in range(len(words), min(3, len(words)) - 1, -1):
        for run in {tuple(words[:count]), tuple(words[len(words) - count :])}:
            found = re.search(r"\s+".join(re.escape(word) for word in run), text) if run else None
            if found is not None:
                return text[: found.start()], found.group(0), text[found.end() :]
    return text, "", ""


def _words(text: str) -> list[str]:
    return [word.casefold() for word in WORD.findall(text)]


def window(layout: DocumentLayout, around: int, budget: int = MAX_SHOWN_CHARS) -> tuple[PageInfo, ...]:
    """The pages to show at once: all of them within ``budget`` characters, else a run of pages holding page
    ``around`` that fits (at least that page)."""
    pages = layout.pages
    if sum(page.chars for page in pages) <= budget:
        return pages
    at = next((i for i, page in enumerate(pages) if page.number >= around), 0)
    first = last = at
    used = pages[at].chars
    while True:
        grown = False
        if last + 1 < len(pages) and used + pages[last + 1].chars <= budget:
            last += 1
            used += pages[last].chars
            grown = True
        if first > 0 and used + pages[first - 1].chars <= budget:
            first -= 1
            used += pages[first].chars
            grown = True
        if not grown:
            return pages[first : last + 1]


def document_html(
    pages: tuple[PageInfo, ...], *, floor: float, total_pages: int, mark_page: int = 0, mark: str = ""
) -> str:
    """The pages' blocks as the document view's HTML (every text escaped by the template); a page's text (no
    elements) with ``mark`` marked on page ``mark_page``."""
    marks = {}
    if mark and mark_page:
        page = next((p for p in pages if p.number == mark_page), None)
        text_block = next((b for b in page.blocks if b.kind == "page_text"), None) if page else None
        if text_block is not None:
            marks[text_block.el] = split_mark(text_block.text, mark)
    shown = f"{pages[0].number}-{pages[-1].number}" if pages else ""
    cut = bool(pages) and len(pages) < total_pages
    return render("document.html", pages=pages, floor=floor, marks=marks, cut=cut, shown=shown, total=total_pages)
