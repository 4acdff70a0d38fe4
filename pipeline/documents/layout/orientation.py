"""Text read in a frame of its own (a table set sideways, a label up a chart's axis, an identifier up the page's
margin: ``PageDrawing.turned``) placed back among the page's elements: each element's box is brought into the
page's frame, and it is read where it sits, before the first element of the page that starts below its top and
shares its width. A single line turned along a side margin (near the page's edge, beside all of its text: an
archive's identifier and date, a journal's side banner) is page furniture."""

from __future__ import annotations

from dataclasses import replace

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout.page import Frame

#: the kinds of element that a line up the page's side margin can be (a table there is still a table)
_MARGIN_KINDS = frozenset({Kind.PARAGRAPH, Kind.HEADING, Kind.CAPTION, Kind.FOOTNOTE})
#: a side margin: this share of the page's width at its left or right edge
MARGIN = 0.15


def place_turned(elements: list[Element], turned: list[Element], own: Frame, page: Frame) -> list[Element]:
    """``elements`` (the page's, in reading order, in ``page``'s frame) with ``turned`` (read in the frame ``own``,
    in their own order) placed among them by where they sit on the page."""
    if not turned:
        return elements
    body = [e for e in elements if e.kind is not Kind.FURNITURE and any(e.bbox)]
    left = min((e.bbox[0] for e in body), default=None)
    right = max((e.bbox[2] for e in body), default=None)
    placed: dict[int, list[Element]] = {}
    for element in turned:
        bbox = page.rect(*own.page_rect(*element.bbox))
        moved = replace(element, bbox=tuple(round(v, 2) for v in bbox))  # type: ignore[arg-type]
        width = page.size[0]
        beside = left is not None and right is not None and (bbox[2] <= left or bbox[0] >= right)
        beside = beside and (bbox[2] <= MARGIN * width or bbox[0] >= (1 - MARGIN) * width)
        if beside and element.kind in _MARGIN_KINDS and bbox[2] - bbox[0] < 3 * max(element.size, 1.0):
            moved.kind = Kind.FURNITURE
        anchor = next(
            (
                i
                for i, e in enumerate(elements)
                if e.bbox[3] < bbox[3] and e.bbox[0] < bbox[2] and e.bbox[2] > bbox[0] and any(e.bbox)
            ),
            len(elements),
        )
        placed.setdefault(anchor, []).append(moved)
    out: list[Element] = []
    for i, element in enumerate(elements):
        out += placed.get(i, [])
        out.append(element)
    return out + placed.get(len(elements), [])
