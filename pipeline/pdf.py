"""PDF handling: checking a PDF can be read, reading its page texts, rendering pages, cutting page ranges.

pypdfium2 reads text and renders (3-8x faster than pypdf at text, see ``benchmarks/text_engines.py``); PDFium is
not thread-safe, so every call into it holds ``PDFIUM_LOCK``. pypdf writes page ranges as standalone PDFs and
reads document metadata.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
from PIL import Image

from .exceptions import EmptyDocument, PasswordProtected, UnreadableDocument

PDFIUM_LOCK = threading.RLock()


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
        text = str(exc).lower()
        if "password" in text:
            raise PasswordProtected(
                "This PDF is password-protected. Remove the password (e.g. print it to a new PDF) and upload it again."
            ) from exc
        raise UnreadableDocument(
            f"This file could not be read as a PDF; it may be damaged or truncated ({exc})."
        ) from exc
    try:
        yield document
    finally:
        with PDFIUM_LOCK:
            document.close()


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
        title=str(meta.get("Title", "")),
        author=str(meta.get("Author", "")),
        producer=str(meta.get("Producer", "")),
    )


def page_texts(path: Path, first: int, last: int) -> Iterator[tuple[int, str]]:
    """Yield ``(page, text)`` for pages ``first``..``last`` (1-based) from the PDF's text layer."""
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
            yield number, text.replace("\r\n", "\n").replace("\r", "\n")


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
    """The pages ``first``..``last`` (1-based) as a standalone PDF, e.g. one chunk for an API that reads PDFs."""
    reader = pypdf.PdfReader(str(path))
    writer = pypdf.PdfWriter()
    for number in range(first, last + 1):
        writer.add_page(reader.pages[number - 1])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
