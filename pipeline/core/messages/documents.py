"""What reading a document says: notes on how its pages were read, and the budgets every document is held to."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.messages.jobs import could_not_prepare
from pipeline.core.messages.words import format_pages, plural


# -- notes ----------------------------------------------------------------------------------------------------------
def unreadable_glyphs(count: int, pages: Sequence[int]) -> str:
    return (
        f"{plural(count, 'character')} on {'page' if len(pages) == 1 else 'pages'} {format_pages(pages)} could not "
        "be read from the PDF's fonts (they have no text mapping): dropped, or shown as \ufffd where a letter of a "
        "word is missing."
    )


NO_TEXT_IN_IMAGE = "No text found: OCR read no text in this image."
NO_TEXT_IN_DOCUMENT = "No text found: the document has no text layer and OCR read no text in it."


def no_text_on(pages: Sequence[int]) -> str:
    return f"No text found on pages {format_pages(pages)} (no text layer, and OCR read nothing)."


def read_by_ocr(pages: Sequence[int]) -> str:
    return f"Text on pages {format_pages(pages)} was read by OCR."


def no_structure_on(pages: Sequence[int]) -> str:
    return (
        f"The layout of pages {format_pages(pages)} could not be read (a scan, or a page drawn as one image): "
        "their text is given as paragraphs, without headings or tables."
    )


def read_by_better_ocr(pages: Sequence[int], floor: float) -> str:
    return (
        f"Pages {format_pages(pages)} were read by RapidOCR (PP-OCRv6): Tesseract was unsure of them (mean word "
        f"confidence below {floor:g}), as on handwriting or a hard scan."
    )


def ocr_unsure(pages: Sequence[int], floor: float, *, installed: bool) -> str:
    how = (
        "PAPERLINE_BETTER_OCR=auto reads such pages again with RapidOCR"
        if installed
        else "installing the 'ocr' extra (pip install 'paperline[ocr]') reads such pages again with RapidOCR"
    )
    return (
        f"Tesseract was unsure of pages {format_pages(pages)} (mean word confidence below {floor:g}): check their "
        f"text; {how}."
    )


def read_under_text_layer(pages: Sequence[int]) -> str:
    return (
        f"Pages {format_pages(pages)} are images with more text than their small text layer (a stamp or a note "
        "over a scan): their image was read by OCR instead of the text layer."
    )


def read_from_scans(pages: Sequence[int]) -> str:
    return (
        f"Pages {format_pages(pages)} are scans: their headings, paragraphs and tables are read from OCR (tables by "
        "the rules found on the image, or by how their words align)."
    )


def files_purged(reason: str) -> str:
    return f"Files purged to stay within {reason} (least recently used); submit it again to redo it."


def too_large(name: str, size: int, limit_mb: int) -> str:
    shown = f"{size / 2**20:.1f} MB"
    if float(shown.split()[0]) <= limit_mb:
        shown = f"{size:,} bytes"  # just over the limit: "1.0 MB, over the 1 MB limit" would puzzle
    return f"{name} is {shown}, over the {limit_mb} MB upload limit."


# -- budgets for every document ---------------------------------------------------------------------------------
PDF_ADVICE = "Open it in a PDF viewer and save or print it to a new PDF, then upload that."
IMAGE_ADVICE = "Open it in an image editor and save it again, then upload that."


def page_span(first: int, last: int) -> str:
    """ "page 4", "pages 4-9"."""
    return f"page {first}" if first == last else f"pages {first}-{last}"


def too_many_pages(limit: int, pages: int | None = None) -> str:
    """A document over ``PAPERLINE_MAX_PAGES`` (``pages`` None: counting stopped past the limit)."""
    counted = f"{pages:,} pages" if pages is not None else f"more than {limit:,} pages"
    return (
        f"This document has {counted}, over the limit of {limit:,} pages per document (PAPERLINE_MAX_PAGES). "
        "Split it into smaller files and upload those."
    )


def pages_missing(claimed: int, page: int) -> str:
    """A PDF whose page count promises pages that do not open (a page tree that lies, or is damaged)."""
    says = f"{claimed:,} page{'s' if claimed != 1 else ''}"
    return (
        f"This PDF says it has {says}, but page {page:,} cannot be opened: its list of pages is damaged or crafted. "
        f"{PDF_ADVICE}"
    )


def page_cannot_open(page: int) -> str:
    return f"Page {page} of this PDF cannot be opened; the file may be damaged. {PDF_ADVICE}"


def reader_failed(pdf: bool, why: str) -> str:
    """The intake subprocess that opened an upload crashed or hit its limits (``why``: "it crashed", ...)."""
    reader, advice = ("PDF reader", PDF_ADVICE) if pdf else ("image reader", IMAGE_ADVICE)
    return f"This file made the {reader} fail ({why}); it may be damaged or crafted. {advice}"


def page_not_drawn(number: int, why: str) -> str:
    """The subprocess that draws a page for the page view crashed or hit its limits (``why``, as above)."""
    return f"Page {number} could not be drawn ({why}); its extracted text is unaffected."


def no_such_page(number: int, pages: int) -> str:
    return f"The document has {pages} page{'s' if pages != 1 else ''}: there is no page {number}."


def reader_took_too_long(limit_s: float) -> str:
    return f"it took longer than {limit_s:g} s"


def reader_out_of_memory(limit_mb: int) -> str:
    return f"it needed more than {limit_mb} MB of memory"


def reader_crashed(signal_name: str) -> str:
    return f"it crashed with {signal_name}"


def rendered_lower(pages: Sequence[int], lowest_dpi: float, dpi: int, max_pixels: int) -> str:
    """Pages rendered for OCR below ``PAPERLINE_OCR_DPI`` to stay within the pixel budget."""
    which = f"{'Page' if len(pages) == 1 else 'Pages'} {format_pages(pages)}"
    return (
        f"{which} {'was' if len(pages) == 1 else 'were'} rendered for OCR at a lower resolution ({lowest_dpi:.0f} "
        f"dpi instead of {dpi} dpi) to stay within the {max_pixels / 1e6:g}-megapixel image budget "
        "(PAPERLINE_MAX_IMAGE_PIXELS): the page is very large, and small text may be missed."
    )


def preview_lowered(pages: int, side: int, max_side: int, max_pixels: int) -> str:
    """A multi-page image whose compressed preview was made smaller than ``PAPERLINE_IMAGE_MAX_SIDE``."""
    return (
        f"The compressed preview shows each of the {pages:,} pages at most {side} px across (instead of "
        f"{max_side} px) to stay within the {max_pixels / 1e6:g}-megapixel image budget (PAPERLINE_MAX_IMAGE_PIXELS)."
    )


def out_of_memory(first: int, last: int, limit_mb: int) -> str:
    """A chunk that raised MemoryError: the worker process lives on, the chunk fails."""
    ceiling = f" (each worker process may use {limit_mb} MB: PAPERLINE_WORKER_MEMORY_MB)" if limit_mb else ""
    return f"ran out of memory while reading {page_span(first, last)}{ceiling}"


def out_of_memory_preparing(limit_mb: int) -> str:
    ceiling = f" (each worker process may use {limit_mb} MB: PAPERLINE_WORKER_MEMORY_MB)" if limit_mb else ""
    return could_not_prepare(f"it ran out of memory{ceiling}")
