"""The ``local`` engine: the PDF's text layer, and Tesseract OCR for scanned pages and images. No network."""

from __future__ import annotations

from ..chunking import PageText
from ..config import Settings
from ..documents.images import iter_pages
from ..documents.ocr import ocr_image
from ..documents.pdf import page_texts, render_page
from ..exceptions import OcrUnavailable
from ..models import DocumentKind
from .base import ChunkOutput, ChunkWork, Extractor, PageDone


class LocalExtractor(Extractor):
    """The default engine: the PDF text layer, and Tesseract OCR for scanned pages and images. No network."""

    name = "local"

    def __init__(self, settings: Settings):
        self.settings = settings

    def _ocr(self, image, notes: list[str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
        try:
            text = ocr_image(image, language=self.settings.ocr_language, timeout_s=self.settings.ocr_timeout_s)
        except OcrUnavailable as exc:
            if str(exc) not in notes:
                notes.append(str(exc))
            return "", "empty"
        return text, ("ocr" if text.strip() else "empty")

    def extract(self, work: ChunkWork, page_done: PageDone) -> ChunkOutput:
        # Page texts are independent, so the local engine needs no context pages; it reads only what it owns.
        pages: list[PageText] = []
        notes: list[str] = []
        if work.kind is DocumentKind.PDF:
            for number, layer in page_texts(work.source, work.first_page, work.last_page):
                text, method, unreadable = layer.text, "text-layer", layer.unreadable
                if not text.strip():  # no text layer (or only glyphs that could not be read): OCR the page
                    image = render_page(work.source, number, self.settings.ocr_dpi)
                    text, method = self._ocr(image, notes)
                    unreadable = 0
                pages.append(PageText(number, text, method, unreadable))
                page_done(1)
        else:
            for number, image in iter_pages(
                work.source, self.settings.max_image_pixels, work.first_page, work.last_page
            ):
                text, method = self._ocr(image, notes)
                pages.append(PageText(number, text, method))
                page_done(1)
        return ChunkOutput(pages=pages, notes=notes)
