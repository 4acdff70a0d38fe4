"""PDF handling: checking a PDF can be read, reading its page texts, rendering pages, cutting page ranges.

pypdfium2 reads text and renders: 4-7x faster than pypdf with the same words on Latin-script text
(``benchmarks/text_engines.py``). It reverses right-to-left scripts, so pages in such scripts are read again
with pypdf, which gets their order right. Glyphs PDFium cannot map (fonts without a Unicode map) come back as
control characters: those pages are *not* re-read, since pypdf does no better there and costs ten times more
(``benchmarks/fidelity.py``); ``textclean`` drops or marks them and counts them instead. PDFium is not
thread-safe: every call into it holds ``PDFIUM_LOCK``.

Budgets: a page count is only a number in the file, so ``inspect_pdf`` looks up every page it promises (cheap:
the page tree only), opens a few of them, and refuses more than ``max_pages``; ``render_page`` picks the
resolution from the page's size in points before it renders, so no bitmap has more than ``max_pixels`` pixels
however large the page says it is. pypdf is imported only where it is used, so the intake inspector (a
subprocess per upload) starts quickly.
"""

from __future__ import annotations

import io
import logging
import math
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pypdfium2 as pdfium

from pipeline.core import messages
from pipeline.core.errors import DocumentRejected, EmptyDocument, PasswordProtected, TooManyPages, UnreadableDocument
from pipeline.core.text import strip_controls
from pipeline.documents.textclean import CleanText, clean_text

if TYPE_CHECKING:
    import pypdf
    from PIL import Image

PDFIUM_LOCK = threading.RLock()
# pypdf logs what it repairs in a damaged file ("EOF marker not found") as warnings; Paperline reports the outcome
# on the job instead, so the CLI and the worker log stay readable.
logging.getLogger("pypdf").setLevel(logging.ERROR)
log = logging.getLogger("paperline.pdf")

# How many pages intake opens fully (content parsed), besides looking every page up in the page tree: the last,
# the first and evenly spaced ones between. Content that makes PDFium fail does it there, in the intake subprocess.
PAGES_OPENED_AT_INTAKE = 8

# Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation forms: PDFium returns these in visual order.
_RIGHT_TO_LEFT = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def _join_pdfium_hyphens(text: str) -> str:
    # PDFium marks a hyphen it removed at a line end with \x02 and keeps the line break: join the word.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub("\x02\n?", "", text)


def needs_pypdf(text: str) -> bool:
    """Whether PDFium's order for a page is wrong: right-to-left scripts come back in visual order."""
    return bool(_RIGHT_TO_LEFT.search(text))


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    title: str = ""
    author: str = ""
    producer: str = ""


@contextmanager
def open_pdfium(path: Path) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF with PDFium, turning its errors into messages an analyst understands.

    The lock is held per call into PDFium, not for the document's lifetime, so a thread doing OCR between
    pages does not block other threads' PDFs.
    """
    try:
        with PDFIUM_LOCK:
            document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise _explain_open_failure(path, exc) from exc
    try:
        yield document
    finally:
        with PDFIUM_LOCK:
            document.close()


def _explain_open_failure(path: Path, exc: pdfium.PdfiumError) -> DocumentRejected:
    """Say why PDFium could not open a PDF. PDFium's error code is process-global and can be stale (a
    password error from an earlier document), so pypdf, which parses independently, decides the reason."""
    protected = PasswordProtected(
        "This PDF is password-protected. Remove the password (e.g. print it to a new PDF) and upload it again."
    )
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted:
            return protected
        pages = len(reader.pages)
    except Exception:
        pages = -1
    if pages == 0:
        return EmptyDocument("This PDF has no pages, so there is nothing to extract.")
    detail = str(exc).replace("Failed to load document", "").strip(" ().")  # e.g. "PDFium: Data format error"
    return UnreadableDocument(
        "This file could not be read as a PDF; it may be damaged or truncated. Open it in a PDF viewer and save or "
        f"print it to a new PDF, then upload that.{f' ({detail})' if detail else ''}"
    )


def pages_to_open(pages: int, count: int = PAGES_OPENED_AT_INTAKE) -> list[int]:
    """The 0-based pages intake opens of ``pages``: the last first (where a count that lies fails), the first, and
    evenly spaced ones between; every page when there are at most ``count``."""
    between: Iterable[int]
    if pages <= count:
        between = range(pages)
    else:
        between = (round(i * (pages - 1) / (count - 1)) for i in range(count))
    return sorted(set(between), key=lambda index: (index != pages - 1, index))


def check_pages(document: pdfium.PdfDocument, pages: int, max_pages: int = 0) -> None:
    """Refuse a PDF whose pages are not all there, or are more than ``max_pages`` (0: no limit). Every page is
    looked up in the page tree (its size, without parsing the page: 5,000 pages take ~0.1 s), the last first,
    where a count that lies fails; a few pages (``pages_to_open``) are opened fully. Over the limit, only the last
    page is looked up, so a lie is still called a lie."""
    over = bool(max_pages) and pages > max_pages
    for index in [pages - 1] if over else [pages - 1, *range(pages - 1)]:
        try:
            document.get_page_size(index)
        except pdfium.PdfiumError as exc:
            raise UnreadableDocument(messages.pages_missing(pages, index + 1)) from exc
    if over:
        raise TooManyPages(messages.too_many_pages(max_pages, pages))
    for index in pages_to_open(pages):
        try:
            document[index].close()
        except pdfium.PdfiumError as exc:
            raise UnreadableDocument(messages.pages_missing(pages, index + 1)) from exc


def inspect_pdf(path: Path, max_pages: int = 0) -> PdfInfo:
    """Check a PDF opens, has pages, all of them are there (``check_pages``) and there are at most ``max_pages``
    of them (0: no limit); raise a ``DocumentRejected`` error saying why not."""
    with open_pdfium(path) as document, PDFIUM_LOCK:
        pages = len(document)
        if pages == 0:
            raise EmptyDocument("This PDF has no pages, so there is nothing to extract.")
        try:
            meta = document.get_metadata_dict(skip_empty=True)
        except pdfium.PdfiumError:
            meta = {}
        check_pages(document, pages, max_pages)
    return PdfInfo(
        pages=pages,
        title=strip_controls(str(meta.get("Title", ""))),
        author=strip_controls(str(meta.get("Author", ""))),
        producer=strip_controls(str(meta.get("Producer", ""))),
    )


def page_texts(path: Path, first: int, last: int) -> Iterator[tuple[int, CleanText]]:
    """Yield ``(page, text)`` for pages ``first``..``last`` (1-based) from the PDF's text layer, cleaned (no control
    characters, ligatures spelt out) with the count of glyphs that could not be read."""
    reader: pypdf.PdfReader | None = None
    with open_pdfium(path) as document:
        for number in range(first, last + 1):
            with PDFIUM_LOCK:
                page = _page(document, number)
                try:
                    textpage = page.get_textpage()
                    try:
                        text = textpage.get_text_bounded()
                    finally:
                        textpage.close()
                finally:
                    page.close()
            text = _join_pdfium_hyphens(text)
            if needs_pypdf(text):
                import pypdf

                reader = reader or pypdf.PdfReader(str(path))
                text = _pypdf_text(reader, number, fallback=text)
            yield number, clean_text(text)


#: how deep an outline is read: deeper entries are no headings a Markdown reader can show (it has six levels)
OUTLINE_DEPTH = 6


def outline_entries(document: pdfium.PdfDocument, first: int = 1, last: int = 0) -> dict[int, list[dict[str, Any]]]:
    """The PDF's outline (bookmarks) by the page each entry points to, pages ``first``..``last`` (``last`` 0: all):
    ``{"title", "level"}`` with level 1 at the top. Entries that point nowhere in the document are left out. The
    caller holds ``PDFIUM_LOCK``."""
    found: dict[int, list[dict[str, Any]]] = {}
    try:
        for bookmark in document.get_toc(max_depth=OUTLINE_DEPTH):
            index = _bookmark_page(document, bookmark)
            title = " ".join(strip_controls(bookmark.get_title()).split())
            if index is None or not title or index + 1 < first or (last and index + 1 > last):
                continue
            found.setdefault(index + 1, []).append({"title": title, "level": bookmark.level + 1})
    except pdfium.PdfiumError:  # a damaged outline costs the document its outline, nothing else
        log.warning("the outline could not be read", exc_info=True)
    return found


def _bookmark_page(document: pdfium.PdfDocument, bookmark: Any) -> int | None:
    """The 0-based page a bookmark goes to: by its destination, or by the destination of its go-to action."""
    dest = bookmark.get_dest()
    if dest is not None:
        return dest.get_index()
    action = pdfium.raw.FPDFBookmark_GetAction(bookmark)
    if not action or pdfium.raw.FPDFAction_GetType(action) != pdfium.raw.PDFACTION_GOTO:
        return None
    raw_dest = pdfium.raw.FPDFAction_GetDest(document, action)
    index = pdfium.raw.FPDFDest_GetDestPageIndex(document, raw_dest) if raw_dest else -1
    return index if index >= 0 else None


def page_layouts(path: Path, first: int, last: int) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Yield ``(page, layout)`` for pages ``first``..``last``: the page's size, its elements in reading order
    (``pipeline.documents.layout``) and the outline entries that point to it (``outline_entries``, where it has
    any: they confirm headings at render), or None where its layout cannot be read (the page is then given as
    paragraphs, never failed)."""
    from pipeline.documents.layout.reading import page_elements

    with open_pdfium(path) as document:
        with PDFIUM_LOCK:
            outline = outline_entries(document, first, last)
        for number in range(first, last + 1):
            with PDFIUM_LOCK:
                page = _page(document, number)
                try:
                    elements, width, height = page_elements(page, number)
                    layout: dict[str, Any] | None = {
                        "width": round(width, 1),
                        "height": round(height, 1),
                        "elements": [element.to_record() for element in elements],
                    } | ({"outline": outline[number]} if number in outline else {})
                except Exception:  # an unusual drawing must cost the page its structure, not the job its text
                    log.exception("reading the layout of page %d of %s failed", number, path.name)
                    layout = None
                finally:
                    page.close()
            yield number, layout


def _pypdf_text(reader: pypdf.PdfReader, number: int, *, fallback: str) -> str:
    try:
        text = reader.pages[number - 1].extract_text() or ""
    except Exception:  # pypdf failing on one page must not lose PDFium's text for it
        return fallback
    return text.replace("\r\n", "\n") if text.strip() else fallback


def _page(document: pdfium.PdfDocument, number: int) -> pdfium.PdfPage:
    """Page ``number`` (1-based); one that does not open is the document's fault, said plainly (not retried)."""
    try:
        return document[number - 1]
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(messages.page_cannot_open(number)) from exc


def image_cover(path: Path, number: int) -> float:
    """The share of page ``number``'s area its largest image covers (0 to 1): near 1 for a scan."""
    with open_pdfium(path) as document, PDFIUM_LOCK:
        page = _page(document, number)
        try:
            width, height = page.get_size()
            largest = 0.0
            for obj in page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
                x0, y0, x1, y1 = obj.get_bounds()
                largest = max(
                    largest, max(0.0, min(x1, width) - max(x0, 0.0)) * max(0.0, min(y1, height) - max(y0, 0.0))
                )
        finally:
            page.close()
    return min(1.0, largest / max(width * height, 1.0))


@dataclass(frozen=True)
class Rendered:
    """A rendered page, and the resolution it got: below the one asked for when the page is too large."""

    image: Image.Image
    dpi: float
    lowered: bool


def render_scale(width_pt: float, height_pt: float, dpi: float, max_pixels: int) -> float:
    """Pixels per point for a page of this size: ``dpi``, or less so that the bitmap has at most ``max_pixels``
    pixels (``max_pixels`` 0: no budget). The sides are rounded up when rendering, so the budget is checked on
    whole pixels."""
    width_pt, height_pt = max(width_pt, 1.0), max(height_pt, 1.0)
    scale = dpi / 72
    if max_pixels <= 0:
        return scale
    while math.ceil(width_pt * scale) * math.ceil(height_pt * scale) > max_pixels and scale > 1e-6:
        scale = min(scale * 0.999, math.sqrt(max_pixels / (width_pt * height_pt)) * 0.999)
    return scale


def render_page(path: Path, number: int, dpi: int, max_pixels: int = 0) -> Rendered:
    """Render one page (1-based) to a Pillow image, e.g. for OCR of a scanned page, within ``max_pixels``."""
    with open_pdfium(path) as document, PDFIUM_LOCK:
        page = _page(document, number)
        try:
            width_pt, height_pt = page.get_size()
            scale = render_scale(width_pt, height_pt, dpi, max_pixels)
            bitmap = page.render(scale=scale)
            try:
                image = bitmap.to_pil()
                # Pillow shares the bitmap's memory only when no conversion was needed (BGR becomes an RGB copy).
                image = image.copy() if image.mode == bitmap.mode else image
            finally:
                bitmap.close()
        finally:
            page.close()
    return Rendered(image, scale * 72, lowered=scale * 72 < dpi - 0.5)


def write_page_range(path: Path, first: int, last: int) -> bytes:
    """The pages ``first``..``last`` (1-based) as a standalone PDF, e.g. one chunk for an API that reads PDFs.

    PDFium imports the pages with the resources they use; it is an order of magnitude faster than rebuilding
    them with pypdf, which sat on the critical path of every Claude chunk."""
    with open_pdfium(path) as source, PDFIUM_LOCK:
        part = pdfium.PdfDocument.new()
        try:
            part.import_pages(source, pages=list(range(first - 1, last)))
            buffer = io.BytesIO()
            part.save(buffer)
        finally:
            part.close()
    return buffer.getvalue()
