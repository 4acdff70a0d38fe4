"""Extraction engines: one small interface, so ``local`` (text layer + OCR) and later ``claude`` plug in alike.

An extractor turns one chunk's pages into ``PageText``s and reports each finished page; it never writes to the
store itself, so the same extractor runs in the worker, in a notebook and in tests.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import PageText
from .config import Settings
from .exceptions import InvalidRequest, OcrUnavailable
from .images import iter_pages
from .models import DocumentKind
from .ocr import ocr_image
from .pdf import page_texts, render_page
from .profiles import ENGINES


@dataclass(frozen=True)
class ChunkWork:
    """What an extractor needs to know about the chunk it extracts."""

    job_id: str
    index: int
    kind: DocumentKind
    profile: str
    source: Path
    first_page: int
    last_page: int
    context_first: int
    context_last: int
    instruction: str = ""


@dataclass
class ChunkOutput:
    pages: list[PageText]
    notes: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    #: the model's answer(s) as received, kept beside the chunk's result
    raw_answer: str = ""


PageDone = Callable[[int], None]


class Extractor(abc.ABC):
    """Turns one chunk of a document into page texts."""

    name: str

    @abc.abstractmethod
    def extract(self, work: ChunkWork, page_done: PageDone) -> ChunkOutput:
        """Extract the pages ``work`` owns (it may read context pages), calling ``page_done(1)`` per page."""


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


def get_extractor(engine: str, settings: Settings) -> Extractor:
    if engine == "local":
        return LocalExtractor(settings)
    if engine == "claude":
        from .claude import ClaudeExtractor

        return ClaudeExtractor(settings)
    raise InvalidRequest(f"Unknown extraction engine {engine!r}; available: {', '.join(ENGINES)}")
