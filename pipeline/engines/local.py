"""The ``local`` engine: the PDF's text layer, and Tesseract OCR for scanned pages and images. No network.

Where the profile asks for structure, a born-digital page's layout is read from its characters
(``page_layouts``) and a scanned page's from what Tesseract sees (``scanned_layout``)."""

from __future__ import annotations

from typing import Any

from PIL import Image

from pipeline.core import messages
from pipeline.core.errors import OcrUnavailable
from pipeline.core.models import DocumentKind, PageText
from pipeline.core.settings import Settings
from pipeline.documents.images import iter_pages
from pipeline.documents.ocr import OcrPage, ocr_image, ocr_page, scanned_layout
from pipeline.documents.pdf import page_layouts, page_texts, render_page
from pipeline.engines.base import ChunkOutput, ChunkWork, Extractor, PageDone


class LocalExtractor(Extractor):
    """The default engine: the PDF text layer, and Tesseract OCR for scanned pages and images. No network."""

    name = "local"

    def __init__(self, settings: Settings):
        self.settings = settings

    def _ocr(
        self, image: Image.Image, notes: list[str], *, structure: bool = False, dpi: float | None = None
    ) -> tuple[str, str, OcrPage | None]:
        """The text of ``image``, how it was read, and (``structure``) Tesseract's layout of it."""
        language, timeout_s = self.settings.ocr_language, self.settings.ocr_timeout_s
        scanned: OcrPage | None = None
        try:
            if structure:
                scanned = ocr_page(image, language=language, timeout_s=timeout_s, dpi=dpi)
                text = scanned.text
            else:
                text = ocr_image(image, language=language, timeout_s=timeout_s)
        except OcrUnavailable as exc:
            if str(exc) not in notes:
                notes.append(str(exc))
            return "", "empty", None
        return text, ("ocr" if text.strip() else "empty"), scanned if text.strip() else None

    @staticmethod
    def _scanned_layout(
        scanned: OcrPage | None, number: int, size_pt: tuple[float, float], read: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """A scanned page's layout from Tesseract's, keeping the outline entries the PDF has for the page."""
        if scanned is None:
            return None
        layout = scanned_layout(scanned, number, *size_pt)
        return layout | ({"outline": read["outline"]} if read and read.get("outline") else {})

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
                    text, method, scanned = self._ocr(rendered.image, notes, structure=work.structure, dpi=rendered.dpi)
                    size_pt = (rendered.image.width * 72 / rendered.dpi, rendered.image.height * 72 / rendered.dpi)
                    del rendered  # the page's bitmap goes before the next page is rendered
                    unreadable, layout = 0, self._scanned_layout(scanned, number, size_pt, layout)
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
                text, method, scanned = self._ocr(image, notes, structure=work.structure)
                size_pt = (float(image.width), float(image.height))  # an image has no points: a pixel is one
                pages.append(PageText(number, text, method, 0, self._scanned_layout(scanned, number, size_pt, None)))
                page_done(1)
        return ChunkOutput(pages=pages, notes=notes)
