"""PDF handling: checking a PDF can be read, reading its page texts, rendering pages, cutting page ranges.

pypdfium2 reads text and renders: 4-7x faster than pypdf with the same words on Latin-script text
(``benchmarks/text_engines.py``). It reverses right-to-left scripts, so pages in such scripts are read again
with pypdf, which gets their order right. Glyphs PDFium cannot map (fonts without a Unicode map) come back as
control characters: those pages are *not* re-read, since pypdf does no better there and costs ten times more
(``benchmarks/fidelity.py``); ``textclean`` drops or marks them and counts them instead. PDFium is not
thread-safe: every call into it holds ``PDFIUM_LOCK``.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
from PIL import Image

from ..exceptions import DocumentRejected, EmptyDocument, PasswordProtected, UnreadableDocument
from .textclean import CleanText, clean_text, strip_controls

PDFIUM_LOCK = threading.RLock()
# pypdf logs what it repairs in a damaged file ("EOF marker not found") as warnings; Paperline reports the outcome
# on the job instead, so the CLI and the worker log stay readable.
logging.getLogger("pypdf").setLevel(logging.ERROR)

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


def inspect_pdf(path: Path) -> PdfInfo:
    """Check a PDF opens and has pages; raise a ``DocumentRejected`` error saying why not."""
    with open_pdfium(path) as document, PDFIUM_LOCK:
        pages = len(document)
        try:
            meta = document.get_metadata_dict(skip_empty=True)
        except pdfium.PdfiumError:
            meta = {}
    if pages == 0:
        raise EmptyDocument("This PDF has no pages, so there is nothing to extract.")
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
                page = document[number - 1]
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
                reader = reader or pypdf.PdfReader(str(path))
                text = _pypdf_text(reader, number, fallback=text)
            yield number, clean_text(text)


def _pypdf_text(reader: pypdf.PdfReader, number: int, *, fallback: str) -> str:
    try:
        text = reader.pages[number - 1].extract_text() or ""
    except Exception:  # pypdf failing on one page must not lose PDFium's text for it
        return fallback
    return text.replace("\r\n", "\n") if text.strip() else fallback


def render_page(path: Path, number: int, dpi: int) -> Image.Image:
    """Render one page (1-based) to a Pillow image, e.g. for OCR of a scanned page."""
    with open_pdfium(path) as document, PDFIUM_LOCK:
        page = document[number - 1]
        try:
            bitmap = page.render(scale=dpi / 72)
            try:
                return bitmap.to_pil().copy()
            finally:
                bitmap.close()
        finally:
            page.close()


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
