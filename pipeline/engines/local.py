"""The ``local`` engine: the PDF's text layer, and Tesseract OCR for scanned pages and images. No network."""

from __future__ import annotations

from PIL import Image

from pipeline.core import messages
from pipeline.core.errors import OcrUnavailable
from pipeline.core.models import DocumentKind, PageText
from pipeline.core.settings import Settings
from pipeline.documents.images import iter_pages
from pipeline.documents.ocr import ocr_image
from pipeline.documents.pdf import page_layouts, page_texts, render_page
from pipeline.engines.base import ChunkOutput, ChunkWork, Extractor, PageDone


class LocalExtractor(Extractor):
    """The default engine: the PDF text layer, and Tesseract OCR for scanned pages and images. No network."""

    name = "local"

    def __init__(self, settings: Settings):
        self.settings = settings

    def _ocr(self, image: Image.Image, notes: list[str]) -> tuple[str, str]:
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
        settings = self.settings
        if work.kind is DocumentKind.PDF:
            lowered: dict[int, float] = {}  # pages rendered below PAPERLINE_OCR_DPI, at what resolution
            layouts = page_layouts(work.source, work.first_page, work.last_page) if work.structure else None
            for number, layer in page_texts(work.source, work.first_page, work.last_page):
                layout = next(layouts)[1] if layouts is not None else None
                text, method, unreadable = layer.text, "text-layer", layer.unreadable
                if not text.strip():  # no text layer (or only glyphs that could not be read): OCR the page
                    rendered = render_page(work.source, number, settings.ocr_dpi, settings.max_image_pixels)
                    if rendered.lowered:
                        lowered[number] = rendered.dpi
                    text, method = self._ocr(rendered.image, notes)
                    del rendered  # the page's bitmap goes before the next page is rendered
                    unreadable, layout = 0, None  # a scan's words carry no fonts: given as paragraphs
                pages.append(PageText(number, text, method, unreadable, layout))
                page_done(1)
            if lowered:
                notes.append(
                    messages.rendered_lower(
                        list(lowered), min(lowered.values()), settings.ocr_dpi, settings.max_image_pixels
                    )
                )
        else:
            for number, image in iter_pages(
                work.source, settings.max_image_pixels, work.first_page, work.last_page, max_pages=settings.max_pages
            ):
                text, method = self._ocr(image, notes)
                pages.append(PageText(number, text, method))
                page_done(1)
        return ChunkOutput(pages=pages, notes=notes)
