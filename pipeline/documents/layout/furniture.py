"""Page furniture across a document: running headers and footers (the same text, digits aside, at a page's edge on
most pages; or a line of the body's size or smaller at the same place on most pages) and page numbers (a page's
first or last line saying its number). Kept in the JSON tree, never in the text."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout.reading import PAGE_NUMBER

#: a text within this share of the page height from its top or bottom edge, repeated on this share of the pages (at
#: least 2), is running furniture
RUNNING_SHARE = 0.5
EDGE = 0.09
#: lines at the page's edge this close (points) to each other stand at one place
PLACE_POINTS = 2.0


def mark_furniture(elements: list[Element], heights: dict[int, float]) -> list[Element]:
    """``elements`` with running headers, footers and page numbers as ``Kind.FURNITURE`` (``heights``: each laid
    out page's height in points)."""
    return _page_numbers(_running_furniture(elements, heights), heights)


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
