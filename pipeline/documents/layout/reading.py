"""A page's elements in reading order: tables first found and set apart (ruled ones, then those aligned by
whitespace alone), then the page cut into columns and the runs of lines across them (``order``: a recursive XY-cut),
then each column's lines read top to bottom and grouped into paragraphs, headings, list items, captions, footnotes
and code by their fonts, spacing and markers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

import pypdfium2 as pdfium

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout.aligned import find_aligned_tables
from pipeline.documents.layout.figures import CAPTION, Rect, absorb, find_figures, shapes
from pipeline.documents.layout.lines import Segment, Word, body_size, rows_of, segments_of, words_of
from pipeline.documents.layout.order import Box, columns
from pipeline.documents.layout.orientation import place_turned
from pipeline.documents.layout.page import PageDrawing, read_page
from pipeline.documents.layout.tables import find_tables
from pipeline.documents.textclean import clean_text

#: whether a number a sentence wrapped onto a line's start stays in its sentence (``_wrapped_onto``)
WRAPPED_NUMBERS = True
ITEM_NUMBER = re.compile(r"^\(?(\d{1,3})[.)](\s|$)")
BULLET = re.compile(r"^([-–•●▪◦∙·*‣⁃]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])(\s|$)")
#: a page a table of contents refers to, and the dots that lead to it
PAGE_REFERENCE = re.compile(r"^([\divxlc]{1,5}|[A-Z]-\d{1,4})$", re.IGNORECASE)
SECTION_NUMBER = re.compile(r"^(\d{1,3}(\.\d{1,3})*\.?|[A-Z]\.?)$")
LEADERS = re.compile(r"(?:\.\s?){4,}\s*([\divxlc]{1,5}|[A-Z]-\d{1,4})$", re.IGNORECASE)  # (match: only them)
PAGE_NUMBER = re.compile(r"^(page\s+)?[\divxlc]+(\s*(/|of)\s*\d+)?$|^[-–—]\s*\d+\s*[-–—]$", re.IGNORECASE)
NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[A-Z]\.|(chapter|section|part|appendix)\s+\w+)\s+\S", re.IGNORECASE)
#: a subsection's number and title ("2.1 Sampling", "1.1.1 Customer Comment"): a heading whatever its font
SUBSECTION = re.compile(r"^\d{1,2}(\.\d{1,2})+\.?\s+[A-Z][^.!?]*$")
#: the top and bottom of a page where running headers, footers and page numbers sit (a share of its height)
EDGE = 0.12
#: words further apart than this many font sizes on a column's row may stand in separate cells of it
WIDE_GAP = 3.0
#: a word that is a number, an amount or a page reference
NUMBER_LIKE = re.compile(r"^[(\[]?[-+–$€£¥%]?[\d.,]*\d[\d.,]*[%)\]]?$|^[ivxlc]{1,5}$", re.IGNORECASE)
#: on/off for the cues that keep a table's head and labels from being headings (a piece of a row set apart by wide
#: gaps, a line with no word, a unit line in brackets, bold set smaller than the text)
HEADING_CUES = True
#: blank lines a code example may hold and stay one block
CODE_BLANK_LINES = 2


def page_elements(page: pdfium.PdfPage, number: int) -> tuple[list[Element], float, float]:
    """The page's elements in reading order, with the page's width and height (points): those of its text set at
    a turn against the rest (a sideways table) read in their own frame and placed where they sit."""
    drawing = read_page(page)
    paths, images = shapes(page)
    if not drawing.frame.identity:  # the page's drawings in the frame its text reads upright in
        paths, images = [drawing.frame.rect(*r) for r in paths], [drawing.frame.rect(*r) for r in images]
    elements = drawing_elements(drawing, number, (paths, images))
    for part in drawing.turned:
        elements = place_turned(elements, drawing_elements(part, number), part.frame, drawing.frame)
    # after the turned text is placed back: a chart's axis title set sideways joins its figure
    return absorb(elements), drawing.width, drawing.height


def drawing_elements(
    drawing: PageDrawing, number: int, drawn: tuple[Sequence[Rect], Sequence[Rect]] = ((), ())
) -> list[Element]:
    """The elements of one frame of a page's drawing, in reading order; ``drawn``: the boxes of the frame's paths
    and images, where its figures are looked for (a turned part of the page has none of its own)."""
    words = words_of(drawing.chars)
    tables = find_tables(drawing.rules, words, number)
    # figures before the tables aligned by whitespace alone: a chart's tick labels line up as a table's cells do
    paths, images = drawn
    figures, parts = find_figures(paths, images, words, tables, (drawing.width, drawing.height), number)
    tables = [t for t in tables if not any(t is part for part in parts)]
    taken = set().union(*(t.words for t in tables), *(f.words for f in figures))
    aligned = find_aligned_tables(words, taken, number)  # borderless tables, among the words no rule bounds
    tables += aligned
    taken = taken.union(*(t.words for t in aligned))
    free = [w for i, w in enumerate(words) if i not in taken]
    body = body_size([s for row in rows_of(free) for s in segments_of(row)]) if free else 10.0
    boxes = [Box(w.x0, w.y0, w.x1, w.y1, w.baseline, w.size, word=w) for w in free]
    placed = [t.element for t in tables] + [f.element for f in figures]
    boxes += [Box(*e.bbox, baseline=e.bbox[3], size=body, table=e) for e in placed]
    return _elements(columns(boxes, body), body, number, drawing.height)


# -- elements ----------------------------------------------------------------------------------------------------
def _elements(columns: list[list[Box]], body: float, page: int, height: float) -> list[Element]:
    elements: list[Element] = []
    for column in columns:
        words = [b.word for b in column if b.word is not None]
        tables = sorted((b.table for b in column if b.table is not None), key=lambda t: -t.bbox[3])
        lines = [s for row in rows_of(words) for s in _contents_entry(_row_segments(row))]
        found: list[Element] = []
        for table in tables:  # the lines above each table, then the table
            above = [s for s in lines if s.y0 >= table.bbox[3] - 1]
            lines = [s for s in lines if s not in above]
            found += _paragraphs(above, body, page, height)
            found.append(table)
        found += _paragraphs(lines, body, page, height)
        if found and elements and _same_heading(elements[-1], found[0]):
            previous, first = elements[-1], found.pop(0)
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = previous.bbox, first.bbox
            box = (min(ax0, bx0), min(ay0, by0), max(ax1, bx1), max(ay1, by1))
            elements[-1] = replace(previous, text=f"{previous.text} {first.text}", bbox=box)
        elements += found
    return elements


def _same_heading(previous: Element, element: Element) -> bool:
    """A heading whose lines the column cut read apart (a title's long first line over the columns, its short
    last one over the middle column): set alike, one right under the other."""
    if previous.kind is not Kind.HEADING or element.kind is not Kind.HEADING:
        return False
    gap = previous.bbox[1] - element.bbox[3]
    return (
        abs(previous.size - element.size) < 0.5
        and previous.bold == element.bold
        and -0.2 * element.size <= gap < 0.6 * element.size
        and element.bbox[0] < previous.bbox[2]
        and element.bbox[2] > previous.bbox[0]
    )


def _row_segments(row: list[Word]) -> list[Segment]:
    """A column's row cut where words stand wide apart (more than ``WIDE_GAP`` font sizes): a table's cells, a title
    and its page. A justified line of few words spreads them as wide, so a gap cuts only if it is much wider than the
    row's other gaps, or, the row's one gap, if a number stands on one side of it. A line of code is never cut."""
    segments = segments_of(row, WIDE_GAP)
    if len(segments) == 1 or all(w.mono for w in row):
        return [Segment(tuple(row))] if len(segments) > 1 else segments  # (code keeps its columns: _code_text)
    gaps = [b.x0 - a.x1 for a, b in itertools.pairwise(row)]
    cut = [n for n, gap in enumerate(gaps) if gap > WIDE_GAP * max(row[n].size, row[n + 1].size, 1.0)]
    kept = []
    for n in cut:
        others = sorted(gap for m, gap in enumerate(gaps) if m not in cut)
        if others:
            keep = gaps[n] > 2 * others[len(others) // 2]
        else:
            keep = bool(NUMBER_LIKE.match(row[n].text) or NUMBER_LIKE.match(row[n + 1].text))
        if keep:
            kept.append(n)
    pieces = [row[a + 1 : b + 1] for a, b in itertools.pairwise([-1, *kept, len(row) - 1])]
    beside = len(pieces) > 1
    return [Segment(tuple(piece), beside=beside) for piece in pieces]


def _contents_entry(segments: list[Segment]) -> list[Segment]:
    """A row that ends in a page reference set apart from its title (a wide gap, or dot leaders) is one line of a
    table of contents: one segment, marked so it is never taken for a heading (a contents page lists its sections
    in their headings' bold)."""
    if not segments:
        return segments
    last = segments[-1].text
    if LEADERS.search(last) and (len(segments) == 1 or not LEADERS.match(last)):
        first = len(segments) - 1  # title and leaders in one piece
    elif len(segments) >= 2 and (LEADERS.match(last) or PAGE_REFERENCE.match(last)):
        first = len(segments) - 2  # the title, then the leaders or the page apart
        if PAGE_REFERENCE.match(segments[first].text):
            return segments
    else:
        return segments
    if first and SECTION_NUMBER.match(segments[first - 1].text):  # its number set in a column of its own
        first -= 1
    words = tuple(word for segment in segments[first:] for word in segment.words)
    return [*segments[:first], Segment(words, contents_entry=True)]


def _starts_block(block: list[Segment], line: Segment, body: float, left: float, right: float) -> bool:
    previous = block[-1]
    if previous.contents_entry or line.contents_entry or previous.beside or line.beside:
        return True
    gap = previous.y0 - line.y1
    height = max(previous.y1 - previous.y0, line.y1 - line.y0, 1.0)
    if previous.mono and line.mono and -0.5 * height <= gap <= CODE_BLANK_LINES * height:
        return False  # a code example keeps its blank lines
    if gap > 0.6 * height or gap < -0.5 * height:
        return True
    if abs(previous.size - line.size) > 0.6 or previous.mono != line.mono:
        return True
    if previous.bold != line.bold:
        # a bold run-in that fills its line goes on in the text's weight on the next ("Income between Device.
        # Company silver ...", justified): only a bold line that stops short is a line of its own
        return not (previous.bold and not line.bold and previous.x1 >= right - body and abs(line.x0 - left) < body)
    if (BULLET.match(line.text) and not _wrapped_onto(block, line, body, right)) or line.x0 > previous.x1:
        return True  # (a line that starts right of where the last one ended, a date set under a banner, is apart)
    ended = previous.text.rstrip().endswith((".", "!", "?", ":", ";"))
    return ended and line.x0 > left + 0.8 * body  # a first-line indent after a finished sentence


def _wrapped_onto(block: list[Segment], line: Segment, body: float, right: float) -> bool:
    """A line opening with a number or letter and a stop ("100. Values over it", "a) or b)") that a sentence wrapped
    onto: the line before ran to the column's right edge mid-sentence, so the number is the sentence's, not a list
    item's. A bullet glyph always opens an item, and so does the number after the item the block opened with
    ("2." after "1. ...", however its last line ended)."""
    if not WRAPPED_NUMBERS or not line.text[:1].isalnum():
        return False
    opened, number = ITEM_NUMBER.match(block[0].text), ITEM_NUMBER.match(line.text)
    if opened and number and int(number.group(1)) == int(opened.group(1)) + 1:
        return False
    before = block[-1].text.rstrip()
    return block[-1].x1 >= right - body and not before.endswith((".", "!", "?", ":", ";")) and before[-1:].isalnum()


def _paragraphs(lines: list[Segment], body: float, page: int, height: float) -> list[Element]:
    if not lines:
        return []
    left, right = min(s.x0 for s in lines), max(s.x1 for s in lines)
    blocks: list[list[Segment]] = [[lines[0]]]
    for line in lines[1:]:
        if _starts_block(blocks[-1], line, body, left, right):
            blocks.append([line])
        else:
            blocks[-1].append(line)
    elements: list[Element] = []
    for n, block in enumerate(blocks):
        if _standalone_heading(blocks, n, body):
            first = block[0]
            box = (first.x0, first.y0, first.x1, first.y1)
            elements.append(Element(Kind.HEADING, first.text, page, box, size=first.size, bold=first.bold))
            continue
        lead = _run_in_heading(block)
        if lead is not None:
            elements.append(
                Element(Kind.HEADING, lead.text, page, (lead.x0, lead.y0, lead.x1, lead.y1), size=lead.size, bold=True)
            )
            block = [Segment(block[0].words[len(lead.words) :]), *block[1:]]
        elif _heading_line(block, body):
            first = block[0]
            box = (first.x0, first.y0, first.x1, first.y1)
            elements.append(Element(Kind.HEADING, first.text, page, box, size=first.size, bold=first.bold))
            block = block[1:]
        elements.append(_element(block, body, page, height, left))
    return elements


def _standalone_heading(blocks: list[list[Segment]], n: int, body: float) -> bool:
    """A heading set in the text's own font and size (an italic "Leader Parish"), told by its place: a line of its
    own between paragraphs, short, up to five words all capitalised, no sentence mark, nearer the paragraph of
    prose under it than the text over it (a heading's white is above it: more white over it than under it)."""
    block = blocks[n]
    if len(block) != 1 or n + 1 >= len(blocks) or block[0].mono or block[0].beside or block[0].contents_entry:
        return False
    line, after = block[0], blocks[n + 1]
    text = line.text.strip()
    words = text.split()
    if not 1 <= len(words) <= 5 or text.endswith((".", ",", ";", ":", "!", "?")) or abs(line.size - body) > 0.6:
        return False
    if not (words[0][:1].isupper() and all(w[:1].isupper() or w.lower() in _MINOR_WORDS for w in words)):
        return False
    if len(after) < 2 or not after[0].text[:1].isupper() or after[0].mono or after[0].beside:
        return False
    width = max(s.x1 for s in after) - min(s.x0 for s in after)
    if line.x1 - line.x0 > 0.6 * width or after[0].x1 - after[0].x0 < 0.8 * width:
        return False
    under = line.y0 - after[0].y1
    over = blocks[n - 1][-1].y0 - line.y1 if n else under
    return under + 1 < over


#: small words a title leaves in lower case
_MINOR_WORDS = frozenset("a an and as at by for from in of on or the to with".split())


def _heading_line(block: list[Segment], body: float) -> bool:
    """A heading set in the text's own font and size (an italic "2.1 Sampling"), told by its line alone: the
    block's first line, short, a section number or up to five words all capitalised, no sentence mark at its end,
    and under it a sentence that fills the block's width (an address's short lines do not)."""
    if len(block) < 2 or block[0].mono or block[0].beside or block[0].contents_entry:
        return False
    first, second = block[0], block[1]
    right = max(s.x1 for s in block[1:])
    width = right - min(s.x0 for s in block)
    if first.x1 > right - 0.3 * width or second.x1 < right - 0.15 * width or second.x0 < first.x0 - body:
        return False
    text = first.text.strip()
    words = text.split()
    if not 1 <= len(words) <= 10 or text.endswith((".", ",", ";", ":", "!", "?")) or abs(first.size - body) > 1.5:
        return False
    if not second.text[:1].isupper():
        return False  # (what goes on under a heading starts a sentence; a reference's address does not)
    if re.match(r"^\d+(\.\d+)+\.?\s+[^\W\d_]", text):
        return True
    capitalised = all(w[:1].isupper() or w.lower() in _MINOR_WORDS for w in words) and words[0][:1].isupper()
    return capitalised and len(words) <= 5


def _run_in_heading(block: list[Segment]) -> Segment | None:
    """A heading run into its paragraph ("Elastic Stop Nut The elastic stop nut is ..."): two to twelve bold words
    that open the block's first line, start with a capital and end with no sentence mark, and plain text after them
    (the rest of the block plain too: a bold sentence is emphasis, not a heading)."""
    words = block[0].words
    count = next((n for n, word in enumerate(words) if not word.bold), len(words))
    if not 2 <= count <= 12 or count == len(words) or any(w.bold for w in words[count:]):
        return None
    if any(s.bold or any(w.bold for w in s.words) for s in block[1:]) or block[0].mono or block[0].beside:
        return None
    text = " ".join(w.text for w in words[:count])
    if not (words[count].text[:1].isupper() or words[count].text[:1].isdigit()):
        return None  # "Jim Bainbridge is a senior consultant": a bold name in its sentence, which goes on
    if not text[:1].isupper() or text.endswith((".", ",", ";", ":")) or len(text) > 80:
        return None
    return Segment(words[:count])


def join_lines(texts: Sequence[str]) -> str:
    """Lines of one block as running text: a word PDFium marks as broken at a line's end (a soft hyphen) is made
    whole; a hyphen the text itself has ("well-" / "known") stays, with no space after it."""
    out = ""
    for text in texts:
        text = text.strip()
        if not out:
            out = text
        elif out.endswith(("-", "\u00ad")) and text[:1].islower() and out[-2:-1].isalpha():
            out = (out[:-1] if out.endswith("\u00ad") else out) + text
        else:
            out = f"{out} {text}"
    return out


def _element(block: list[Segment], body: float, page: int, height: float, left: float) -> Element:
    text = clean_text(join_lines([s.text for s in block])).text
    bbox = (min(s.x0 for s in block), min(s.y0 for s in block), max(s.x1 for s in block), max(s.y1 for s in block))
    size = block[0].size
    bold = all(s.bold for s in block)
    at_edge = bbox[1] > height * (1 - EDGE) or bbox[3] < height * EDGE
    kind = Kind.PARAGRAPH
    depth = 0
    if at_edge and PAGE_NUMBER.match(text.strip()):
        kind = Kind.FURNITURE
    elif any(s.contents_entry for s in block):
        kind = Kind.PARAGRAPH
    elif CAPTION.match(text):
        kind = Kind.CAPTION
    elif all(s.mono for s in block):
        kind = Kind.CODE
        text = _code_text(block)
    elif BULLET.match(text) and not _numbered_heading(text, size, bold, body, len(block)):
        kind = Kind.LIST_ITEM
        depth = max(0, min(5, round((bbox[0] - left) / max(1.5 * body, 1.0))))
    elif _looks_like_heading(text, size, bold, body, len(block)) and not (
        HEADING_CUES and any(s.beside for s in block)
    ):
        kind = Kind.HEADING
    elif size < 0.88 * body and bbox[3] < height * 0.3 and re.match(r"^(\d{1,3}|[*†‡§¶])\s*\S", text):
        kind = Kind.FOOTNOTE
    return Element(kind, text, page, bbox, size=size, bold=bold, depth=depth)


def _code_text(block: list[Segment]) -> str:
    """A code block's lines as drawn: each word at its column (fixed-width letters give the column from the
    position), and a blank line where the lines leave the room of one."""
    words = [w for s in block for w in s.words if w.text]
    letter = _letter_pitch(block)
    left = min(w.x0 for w in words)
    pitches = [a.words[0].baseline - b.words[0].baseline for a, b in itertools.pairwise(block)]
    pitch = min((p for p in pitches if p > 0), default=1.0)
    lines: list[str] = []
    for n, segment in enumerate(block):
        if n:
            lines += [""] * max(0, min(CODE_BLANK_LINES, round(pitches[n - 1] / pitch) - 1))
        line = ""
        for word in segment.words:
            column = round((word.x0 - left) / letter)
            line = line.ljust(column) if column >= len(line) else line + " "  # (a word drawn in pieces is one)
            line += word.text
        lines.append(line.rstrip())
    return clean_text("\n".join(lines)).text


def _letter_pitch(block: list[Segment]) -> float:
    """How far apart a fixed-width font sets its letters, from where its words start: every start is a whole
    number of letters from the block's left, so the pitch is the one (between 0.45 and 0.7 of the size, where fixed
    width fonts set it: Computer Modern Typewriter 0.525, Courier 0.6) that puts them nearest to whole letters.
    (The words' boxes cannot tell: they are the glyphs' ink or font box, not their advance.)"""
    words = [w for s in block for w in s.words]
    sizes = sorted(w.size for w in words)
    size = sizes[len(sizes) // 2] if sizes and sizes[len(sizes) // 2] > 0 else 10.0
    left = min(w.x0 for w in words)
    offsets = [w.x0 - left for w in words if w.x0 - left > 0.1]
    if not offsets:
        return 0.6 * size

    def misfit(pitch: float) -> float:
        return sum(abs(x / pitch - round(x / pitch)) * pitch for x in offsets)

    candidates = [size * (0.45 + 0.0025 * n) for n in range(101)]
    return min(candidates, key=lambda pitch: (round(misfit(pitch), 3), -pitch))


def _numbered_heading(text: str, size: float, bold: bool, body: float, lines: int) -> bool:
    """A numbered line that is a heading, not a list item: set larger than the text ("1. Summary"), or one bold
    line with a number and a title ("2. Data Collection"; a bold list item is rarely one short line)."""
    if not _looks_like_heading(text, size, bold, body, lines):
        return False
    return size >= 1.1 * body or (bold and lines == 1 and bool(re.match(r"\(?\d", text)))


def _looks_like_heading(text: str, size: float, bold: bool, body: float, lines: int) -> bool:
    """Short, not a sentence, and set larger than the text or in bold at its size: never a line with no word in it
    ("2022", "$ 1,204"), nor a unit line in brackets ("(In millions)"), nor bold set smaller than the text (a
    table's head, a figure's label)."""
    words = len(text.split())
    if words == 0 or words > 20 or lines > 3 or (text.endswith((".", ",", ";")) and not NUMBERED_HEADING.match(text)):
        return False
    if HEADING_CUES and (not re.search(r"[^\W\d_]", text) or (text.startswith("(") and text.endswith(")"))):
        return False
    if size >= 1.15 * body:
        return True
    if lines == 1 and words <= 12 and SUBSECTION.match(text) and size >= 0.9 * body:
        return True  # "1.1.1 Customer Comment at Stage" in the text's own font: its number says it is a heading
    smallest = 0.9 * body if HEADING_CUES else 0.0
    return bold and size >= smallest and (words <= 12 or bool(NUMBERED_HEADING.match(text)))
