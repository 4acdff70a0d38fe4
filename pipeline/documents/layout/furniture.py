"""Page furniture across a document: running headers and footers (the same text, digits aside, at a page's edge on
most pages, or on most pages of one hand where left and right pages alternate; or a line of the body's size or
smaller at the same place on most pages), page numbers (a page's first or last line saying its number, or a
running line at the edge that starts or ends with it), and lines at a page's edge whose form says what they are
whatever the other pages hold (a web address or DOI, a download or print stamp, a date, "Page 3 of 12", a
journal's volume and issue, a revision or document code, a copyright line): a one-page document has nothing to
repeat. Kept in the JSON tree, never in the text."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Any

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout.reading import PAGE_NUMBER

#: a text within this share of the page height from its top or bottom edge, repeated on this share of the pages (at
#: least 2), is running furniture
RUNNING_SHARE = 0.5
EDGE = 0.09
#: lines at the page's edge this close (points) to each other stand at one place
PLACE_POINTS = 2.0


#: what a line at a page's edge says when it is furniture (searched, case aside)
FORMS = re.compile(
    r"""https?://|\bwww\.|\bdoi\b|\b10\.\d{4,9}/|\barxiv\b|\bissn\b|\bisbn\b
    |^(downloaded|retrieved|accessed|printed|generated|reprinted)\b|\b(downloaded|printed)\s+(from|on|by)\b
    |©|\(c\)\s*\d{4}|\bcopyright\b|all\s+rights\s+reserved|\bconfidential\b|\bpreprint\b|\bet\s+al\.
    |\bpage\s+\d+(\s*(of|/)\s*\d+)?\b|\b(vol|volume|no|issue|pp)\.?\s*\d+|\b(19|20)\d\d\s*[,;]\s*\d+\s*[,(:]\s*\d+
    |\b(rev|revision|version|ver|draft)\b\.?\s*[a-z0-9]|\b[a-z]{2,}-\d{3,}\b
    |\b\d{1,2}\.?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b
    |\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}\b
    |\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b
    |\b(journal|proceedings|transactions|annals)\b""",
    re.IGNORECASE | re.VERBOSE,
)
#: a running line that carries the page number at one end ("12 Smith et al.", "Annual Report 2023  7")
NUMBERED_LINE = re.compile(r"^(\d{1,4})\s+\S.*$|^.*\S\s+(\d{1,4})$")
#: on/off for furniture by its form (off: only what repeats across pages, and page numbers)
BY_FORM = True


def mark_furniture(elements: list[Element], heights: dict[int, float]) -> list[Element]:
    """``elements`` with running headers, footers, page numbers and edge lines of furniture's forms as
    ``Kind.FURNITURE`` (``heights``: each laid out page's height in points)."""
    marked = _page_numbers(_running_furniture(elements, heights), heights)
    return _echoes(_by_form(marked, heights) if BY_FORM else marked, heights)


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
    running = _repeated({(k, e.page) for k, e in zip(keys, elements, strict=True) if k}, heights, 2.0)
    placed = _repeated({(k, e.page) for k, e in zip(places, elements, strict=True) if k}, heights, 3.0)
    return [
        replace(e, kind=Kind.FURNITURE) if k in running or p in placed else e
        for k, p, e in zip(keys, places, elements, strict=True)
    ]


def _repeated(seen: set[tuple[Any, int]], heights: dict[int, float], least: float) -> set[Any]:
    """The keys seen on most pages (``RUNNING_SHARE``, at least ``least`` pages), or on most pages of one hand (a
    running head set on left pages only, another on right pages)."""
    pages = sorted(heights)
    need = max(least, RUNNING_SHARE * len(pages))
    hands = {hand: max(least, RUNNING_SHARE * sum(1 for p in pages if p % 2 == hand)) for hand in (0, 1)}
    by_key: dict[Any, list[int]] = {}
    for key, page in seen:
        by_key.setdefault(key, []).append(page)
    out = set()
    for key, on in by_key.items():
        hand = {page % 2 for page in on}
        if len(on) >= need or (len(hand) == 1 and len(on) >= hands[hand.pop()]):
            out.add(key)
    return out


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
    marked = {i for i in found if common or found[i]}
    return [
        replace(e, kind=Kind.FURNITURE) if i in marked else e for i, e in enumerate(_numbered_lines(elements, heights))
    ]


def _numbered_lines(elements: list[Element], heights: dict[int, float]) -> list[Element]:
    """A running line at a page's edge (``_edge_lines``) that starts or ends with the page's number ("12 Smith et
    al." on a left page, "Annual Report 7" on a right one): its number is the page's, or runs with the pages as on
    another page (a journal numbers its pages from where the issue's last article ended)."""
    found: dict[int, int] = {}  # element index: its number's offset from the page's
    for index in _edge_lines(elements, heights):
        element = elements[index]
        match = NUMBERED_LINE.match(element.text.strip())
        if match and len(element.text.split()) <= 12 and not (element.kind is Kind.HEADING and element.bold):
            found[index] = int(match.group(1) or match.group(2)) - element.page
    offsets = Counter(offset for offset, _page in {(offset, elements[i].page) for i, offset in found.items()})
    return [
        replace(e, kind=Kind.FURNITURE) if i in found and (found[i] == 0 or offsets[found[i]] >= 2) else e
        for i, e in enumerate(elements)
    ]


def _by_form(elements: list[Element], heights: dict[int, float]) -> list[Element]:
    """Lines at a page's edge (``_edge_lines``) whose form says they are furniture (``FORMS``), on one page as on
    many."""
    marked = {i for i in _edge_lines(elements, heights) if FORMS.search(elements[i].text)}
    return [replace(e, kind=Kind.FURNITURE) if i in marked else e for i, e in enumerate(elements)]


def _echoes(elements: list[Element], heights: dict[int, float]) -> list[Element]:
    """A line at a page's edge (``_edge_lines``) that says what furniture says, numbers aside (a right page's
    running head \"Annual Report\" where the footers read \"Annual Report 3\"): a short document's running head may
    stand on one page only."""
    said = {_words(e.text) for e in elements if e.kind is Kind.FURNITURE} - {""}
    marked = {i for i in _edge_lines(elements, heights) if _words(elements[i].text) in said}
    return [replace(e, kind=Kind.FURNITURE) if i in marked else e for i, e in enumerate(elements)]


def _words(text: str) -> str:
    return " ".join(re.sub(r"\d+", " ", text.casefold()).split())


def _edge_lines(elements: list[Element], heights: dict[int, float]) -> list[int]:
    """The lines standing at a page's top or bottom edge: from the edge inwards, the run of lines of a line or two,
    of the body's size or smaller, in the page's top or bottom ``EDGE`` (a banner, the date under it), as far as
    the deepest place where a line's white parts them from the rest of the page."""
    body = _body_size(elements)
    pages: dict[int, list[int]] = {}
    for index, element in enumerate(elements):
        if element.kind is not Kind.FURNITURE and any(element.bbox):
            pages.setdefault(element.page, []).append(index)
    out: list[int] = []
    for page, indexes in pages.items():
        height = heights.get(page)
        if not height:
            continue
        for top in (True, False):
            # inwards from the edge: the top's lines by their tops going down, the bottom's by their bottoms up
            ordered = sorted(indexes, key=lambda i: -elements[i].bbox[3] if top else elements[i].bbox[1])
            run: list[int] = []
            for n, i in enumerate(ordered):
                element = elements[i]
                line = element.kind in (Kind.PARAGRAPH, Kind.HEADING) and len(element.text.split()) <= 25
                inside = element.bbox[1] >= height * (1 - EDGE) if top else element.bbox[3] <= height * EDGE
                if not (line and inside and _at_edge(element, height, body)):
                    break
                rest = [elements[j].bbox for j in ordered[n + 1 :]]
                taken = [elements[j].bbox for j in ordered[: n + 1]]
                white = max(1.0, max(elements[j].size for j in ordered[: n + 1]))
                if top:
                    apart = all(box[3] <= min(t[1] for t in taken) - white for box in rest)
                else:
                    apart = all(box[1] >= max(t[3] for t in taken) + white for box in rest)
                if apart:
                    run = ordered[: n + 1]
            out += run
    return out


def _at_edge(element: Element, height: float, body: float) -> bool:
    """Whether an element is a line or two of the body's size or smaller in the top or bottom ``EDGE`` of its page."""
    if element.kind is Kind.TABLE or (body and element.size > 1.05 * body):
        return False
    if element.bbox[3] - element.bbox[1] > 2.5 * max(element.size, 1.0):
        return False
    return element.bbox[1] >= height * (1 - EDGE) or element.bbox[3] <= height * EDGE


def _body_size(elements: list[Element]) -> float:
    """The size most of the paragraphs' text has."""
    sizes: Counter[float] = Counter()
    for element in elements:
        if element.kind is Kind.PARAGRAPH and element.size:
            sizes[round(element.size, 1)] += len(element.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0
