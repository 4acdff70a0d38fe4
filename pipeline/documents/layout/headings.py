"""Heading levels that mean the same on every page of a document: from section numbers, from the styles headings
are set in, and, where the PDF has one, from its outline (bookmarks)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pipeline.core.elements import Element, Kind

#: whether the lines of a title block set like headings are text (``_title_block_as_text``); a cover page holds at
#: most this many words under its title; a line is on a centred title's axis within this share of the text's width
TITLE_BLOCK = True
COVER_WORDS = 60
AXIS_SLACK = 0.02

_SECTION_NUMBER = re.compile(r"^(?:(?:chapter|part)\s+)?(\d+(?:\.\d+)*)\.?\s+\S", re.IGNORECASE)


def _style(element: Element) -> tuple[float, bool]:
    return round(element.size * 2) / 2, element.bold


def rank_headings(elements: list[Element], outline: dict[int, list[dict[str, Any]]] | None = None) -> list[Element]:
    """Heading levels that mean the same on every page: from a heading's section number where it has one
    ("2.1.3" is three deep), else from the size it is set in (largest first; bold at the same size first); the first
    page's one largest heading, above all others, is the title. Where the PDF has an outline, it has the last word
    (``_confirm_by_outline``)."""
    ranked = _rank_by_style(_title_block_as_text(elements) if TITLE_BLOCK else elements)
    return _confirm_by_outline(ranked, outline) if outline else ranked


def _title_of(elements: list[Element]) -> Element | None:
    """The first page's one heading set larger than every other heading (None where there is no such one)."""
    headings = [e for e in elements if e.kind is Kind.HEADING]
    styles = sorted({_style(e) for e in headings}, key=lambda s: (-s[0], not s[1]))
    if len(styles) < 2:
        return None
    top = [e for e in headings if _style(e) == styles[0]]
    first_page = min(e.page for e in elements)
    return top[0] if len(top) == 1 and top[0].page == first_page else None


def _title_block_as_text(elements: list[Element]) -> list[Element]:
    """The lines under a document's title that are set like headings but head no text of their own (its authors,
    their affiliations and addresses, an organisation) are text: those centred on the title's axis in the run
    right under a centred title, and, on a cover page (the title's page holds only a few short lines, and pages
    follow), every one.
    A numbered heading always stays one."""
    title = _title_of(elements)
    if title is None:
        return elements
    page = [i for i, e in enumerate(elements) if e.page == title.page and e.kind not in (Kind.FURNITURE, Kind.FIGURE)]
    after = [i for i in page if i > elements.index(title)]
    words = sum(len(elements[i].text.split()) for i in after)
    more = any(e.page > title.page for e in elements)  # (a one-page notice of a few lines is no cover)
    cover = more and words <= COVER_WORDS and all(elements[i].kind in (Kind.HEADING, Kind.PARAGRAPH) for i in after)
    left = min(elements[i].bbox[0] for i in page)
    axis = (title.bbox[0] + title.bbox[2]) / 2
    width = max(elements[i].bbox[2] for i in page) - left
    centred = title.bbox[0] > left + 2 * title.size  # (a title flush with the text is no axis to line up on)
    block: set[int] = set()
    for i in after:
        element = elements[i]
        on_axis = centred and abs((element.bbox[0] + element.bbox[2]) / 2 - axis) <= AXIS_SLACK * width
        if _numbered_depth(element) or not (cover or on_axis):
            break
        if element.kind is Kind.HEADING:
            block.add(i)
    return [replace(e, kind=Kind.PARAGRAPH, level=0) if i in block else e for i, e in enumerate(elements)]


def _rank_by_style(elements: list[Element]) -> list[Element]:
    headings = [e for e in elements if e.kind is Kind.HEADING]
    if not headings:
        return elements
    styles = sorted({_style(e) for e in headings}, key=lambda s: (-s[0], not s[1]))
    title = _title_of(elements)
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
