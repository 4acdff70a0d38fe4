"""The ``local`` engine: the PDF's text layer, and Tesseract OCR for scanned pages and images. No network. A page
whose text layer is a few words over an image covering it (a stamp or a note over a scan) has its image read by OCR
too, and OCR's text is kept (with a note) where it holds clearly more.

Where the profile asks for structure, a born-digital page's layout is read from its characters
(``page_layouts``) and a scanned page's from what Tesseract sees (``scanned_layout``)."""

from __future__ import annotations

from typing import Any

from PIL import Image

from pipeline.core import messages
from pipeline.core.errors import OcrUnavailable
from pipeline.core.models import DocumentKind, PageText
from pipeline.core.settings import Settings
from pipeline.documents import rapid
from pipeline.documents.images import iter_pages
from pipeline.documents.ocr import OcrPage, OcrRead, ocr_image, ocr_page, scanned_layout
from pipeline.documents.pdf import image_cover, page_layouts, page_texts, render_page
from pipeline.engines.base import ChunkOutput, ChunkWork, Extractor, PageDone

#: a text layer of at most this many words over an image covering at least this share of the page (a scan with a
#: stamp, an annotation or a few words of a text layer) has the image read by OCR too (a born-digital page's figure
#: covers less: the charts and a map of ICDAR-2013's pages with a caption cover 52-57%); OCR's text is kept when it
#: has at least ``MORE_TEXT`` times the layer's words and ``MORE_WORDS`` more
SMALL_LAYER_WORDS = 40
IMAGE_COVER = 0.85
MORE_TEXT = 2
MORE_WORDS = 20


def _small_layer(text: str) -> bool:
    return len(text.split()) <= SMALL_LAYER_WORDS


def _holds_more(read: str, layer: str) -> bool:
    """Whether OCR read clearly more words in the page's image than its text layer has."""
    words, layer_words = len(read.split()), len(layer.split())
    return words >= MORE_TEXT * layer_words and words >= layer_words + MORE_WORDS


class Tally:
    """Pages read by RapidOCR, and pages Tesseract was unsure of (in reading order, for the job's notes)."""

    def __init__(self) -> None:
        self.page = 0
        self.better: list[int] = []
        self.unsure: list[int] = []

    def count(self, read: OcrRead, floor: float) -> None:
        if read.engine != "tesseract":
            self.better.append(self.page)
        elif read.confidence < floor:
            self.unsure.append(self.page)

    def notes(self, floor: float) -> list[str]:
        out = []
        if self.better:
            out.append(messages.read_by_better_ocr(self.better, floor))
        if self.unsure:
            out.append(messages.ocr_unsure(self.unsure, floor, installed=rapid.available()))
        return out


class LocalExtractor(Extractor):
    """The default engine: the PDF text layer, and Tesseract OCR for scanned pages and images. No network."""

    name = "local"

    def __init__(self, settings: Settings):
        self.settings = settings

    def _ocr(
        self,
        image: Image.Image,
        notes: list[str],
        *,
        structure: bool = False,
        dpi: float | None = None,
        tally: Tally | None = None,
    ) -> tuple[str, str, OcrPage | None]:
        """The text of ``image``, how it was read, and (``structure``) Tesseract's layout of it (or RapidOCR's, where
        Tesseract was unsure and it is installed); ``tally`` counts the page under the engine that read it, and as
        unsure."""
        settings = self.settings
        options = {
            "language": settings.ocr_language,
            "timeout_s": settings.ocr_timeout_s,
            "better": settings.better_ocr,
            "floor": settings.ocr_confidence,
        }
        scanned: OcrPage | None = None
        try:
            if structure:
                scanned = ocr_page(image, dpi=dpi, **options)  # type: ignore[arg-type]
                read = OcrRead(scanned.text, scanned.engine, scanned.confidence)
            else:
                read = ocr_image(image, **options)  # type: ignore[arg-type]
        except OcrUnavailable as exc:
            if str(exc) not in notes:
                notes.append(str(exc))
            return "", "empty", None
        text = read.text
        if tally is not None and text.strip():
            tally.count(read, settings.ocr_confidence)
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
        tally = Tally()
        if work.kind is DocumentKind.PDF:
            lowered: dict[int, float] = {}  # pages rendered below PAPERLINE_OCR_DPI, at what resolution
            under_layer: list[int] = []  # pages whose image held more text than their text layer
            layouts = page_layouts(work.source, work.first_page, work.last_page) if work.structure else None
            for number, layer in page_texts(work.source, work.first_page, work.last_page):
                layout = next(layouts)[1] if layouts is not None else None
                text, method, unreadable = layer.text, "text-layer", layer.unreadable
                # no text layer (or only glyphs that could not be read): OCR the page; a small one over an image
                # that covers the page (a stamp on a scan): OCR it too, and keep what holds more text
                under = bool(text.strip()) and _small_layer(text) and image_cover(work.source, number) >= IMAGE_COVER
                if not text.strip() or under:
                    rendered = render_page(work.source, number, settings.ocr_dpi, settings.max_image_pixels)
                    tally.page = number
                    read, how, scanned = self._ocr(
                        rendered.image, notes, structure=work.structure, dpi=rendered.dpi, tally=tally
                    )
                    size_pt = (rendered.image.width * 72 / rendered.dpi, rendered.image.height * 72 / rendered.dpi)
                    if not under or _holds_more(read, text):
                        if rendered.lowered:
                            lowered[number] = rendered.dpi
                        if under:
                            under_layer.append(number)
                        text, method = read, how
                        unreadable, layout = 0, self._scanned_layout(scanned, number, size_pt, layout)
                    del rendered  # the page's bitmap goes before the next page is rendered
                pages.append(PageText(number, text, method, unreadable, layout))
                page_done(1)
            if under_layer:
                notes.append(messages.read_under_text_layer(under_layer))
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
                tally.page = number
                text, method, scanned = self._ocr(image, notes, structure=work.structure, tally=tally)
                size_pt = (float(image.width), float(image.height))  # an image has no points: a pixel is one
                pages.append(PageText(number, text, method, 0, self._scanned_layout(scanned, number, size_pt, None)))
                page_done(1)
        return ChunkOutput(pages=pages, notes=notes + tally.notes(settings.ocr_confidence))
