"""OCR with the Tesseract command-line program, for scanned pages and images: their text, and where a profile asks
for structure the layout Tesseract itself sees (its paragraphs and lines, with boxes and its estimate of each line's
text size), made into the same elements a born-digital page gives.

Tesseract runs as a subprocess (no Python binding to install), reading a PNG from stdin. Where it is missing,
callers get ``OcrUnavailable`` with the install command, and the job completes with that note.
"""

from __future__ import annotations

import io
import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from PIL import Image

from pipeline.core.elements import Element, Kind
from pipeline.core.errors import OcrUnavailable
from pipeline.core.settings import Settings

INSTALL_HINT = "Install it with 'apt-get install tesseract-ocr' (Debian/Ubuntu) or 'brew install tesseract' (macOS)."
# Tesseract gains nothing beyond this size and slows down sharply on huge scans.
MAX_OCR_SIDE = 5000
#: a paragraph of at most this many lines whose text is this many times the body's size is a heading: sizes read
#: from a scan are estimates, so only a clear difference counts
HEADING_LINES = 2
HEADING_RATIO = 1.3


def tesseract_binary() -> str | None:
    """The Tesseract program to run: ``PAPERLINE_TESSERACT`` if set, else ``tesseract`` on PATH."""
    return shutil.which(Settings.from_env().tesseract)


def unavailable_note() -> str:
    return (
        f"OCR is unavailable: Tesseract is not installed, so pages without a text layer were left empty. {INSTALL_HINT}"
    )


@dataclass(frozen=True)
class OcrLine:
    text: str
    #: left, top, right, bottom in pixels of the image Tesseract read
    box: tuple[int, int, int, int]
    #: Tesseract's estimate of the line's text size in pixels (hOCR ``x_size``): unlike the line's box, it does not
    #: shrink on a line without descenders, so a heading's size can be told from the body's
    size: float


@dataclass(frozen=True)
class OcrPage:
    """What Tesseract read on one image: its text, and its paragraphs of lines in reading order."""

    text: str
    paragraphs: list[list[OcrLine]]
    #: the size in pixels of the image Tesseract read (a huge scan is read smaller)
    image_size: tuple[int, int]


def ocr_image(image: Image.Image, *, language: str = "eng", timeout_s: float = 120.0) -> str:
    """The text Tesseract reads in ``image``."""
    image = _prepared(image)
    return _clean(_run(image, ["stdout"], language, timeout_s).decode("utf-8", "replace"))


def ocr_page(image: Image.Image, *, language: str = "eng", timeout_s: float = 120.0) -> OcrPage:
    """The text Tesseract reads in ``image`` and its layout, from one recognition (plain text and hOCR at once)."""
    image = _prepared(image)
    with tempfile.TemporaryDirectory(prefix="paperline-ocr-") as folder:
        base = Path(folder) / "page"
        _run(image, [str(base), "txt", "hocr"], language, timeout_s)
        text = _clean(base.with_suffix(".txt").read_text("utf-8", "replace"))
        hocr = base.with_suffix(".hocr").read_bytes()
    return OcrPage(text, _hocr_paragraphs(hocr), image.size)


def _prepared(image: Image.Image) -> Image.Image:
    if max(image.size) > MAX_OCR_SIDE:
        image = image.copy()
        image.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return image


def _clean(text: str) -> str:
    return text.replace("\x0c", "").strip()


def _run(image: Image.Image, outputs: list[str], language: str, timeout_s: float) -> bytes:
    binary = tesseract_binary()
    if binary is None:
        raise OcrUnavailable(unavailable_note())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    output, *configs = outputs
    try:
        done = subprocess.run(
            [binary, "stdin", output, "-l", language, *configs],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"OCR took longer than {timeout_s:.0f} s on one page and was stopped") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {done.returncode}"
        if "Failed loading language" in done.stderr.decode("utf-8", "replace"):
            raise OcrUnavailable(
                f"OCR is unavailable for language '{language}': its Tesseract data is not installed "
                f"(apt-get install tesseract-ocr-{language})."
            )
        raise RuntimeError(f"Tesseract failed: {detail}")
    return done.stdout


_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_X_SIZE = re.compile(r"x_size ([\d.]+)")
_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}


def _hocr_paragraphs(hocr: bytes) -> list[list[OcrLine]]:
    """Tesseract's paragraphs (``ocr_par``) of lines, each line's words joined, empty lines left out. Its hOCR is
    well-formed XHTML written by Tesseract; the DTD it names is never fetched."""
    root = ElementTree.fromstring(hocr)
    paragraphs: list[list[OcrLine]] = []
    for node in root.iter():
        if node.get("class") != "ocr_par":
            continue
        lines = []
        for line in node.iter():
            if line.get("class") not in _LINE_CLASSES:
                continue
            title = line.get("title", "")
            words = ["".join(word.itertext()).strip() for word in line.iter() if word.get("class") == "ocrx_word"]
            text = " ".join(w for w in words if w)
            box, size = _BBOX.search(title), _X_SIZE.search(title)
            if text and box:
                left, top, right, bottom = (int(v) for v in box.groups())
                lines.append(OcrLine(text, (left, top, right, bottom), float(size.group(1)) if size else bottom - top))
        if lines:
            paragraphs.append(lines)
    return paragraphs


def scanned_layout(page: OcrPage, number: int, width_pt: float, height_pt: float) -> dict[str, Any]:
    """A scanned page's layout in the shape a born-digital page's has (``pipeline.documents.pdf.page_layouts``):
    Tesseract's paragraphs, lines joined (a word hyphenated at a line's end made whole), boxes in PDF points; a
    short paragraph set clearly larger than the body text is a heading. Tables are not read from a scan."""
    from pipeline.documents.layout.reading import join_lines

    scale_x = width_pt / max(page.image_size[0], 1)
    scale_y = height_pt / max(page.image_size[1], 1)
    sizes = [line.size * scale_y for lines in page.paragraphs for line in lines]
    body = statistics.median(sizes) if sizes else 0.0
    elements = []
    for lines in page.paragraphs:
        texts = [
            # a hyphen at a line's end before a lower-case word is the scan's hyphenation: marked soft, join_lines
            # makes the word whole
            re.sub(r"(?<=[^\W\d_])-$", "\u00ad", line.text) if i < len(lines) - 1 else line.text
            for i, line in enumerate(lines)
        ]
        text = join_lines(texts).replace("\u00ad", "-")
        left = min(line.box[0] for line in lines) * scale_x
        right = max(line.box[2] for line in lines) * scale_x
        top = height_pt - min(line.box[1] for line in lines) * scale_y
        bottom = height_pt - max(line.box[3] for line in lines) * scale_y
        size = statistics.median(line.size for line in lines) * scale_y
        heading = len(lines) <= HEADING_LINES and body > 0 and size >= HEADING_RATIO * body
        # estimates from a scan: sizes rounded to 2 pt, so headings set alike rank alike
        elements.append(
            Element(
                Kind.HEADING if heading else Kind.PARAGRAPH,
                text,
                number,
                (round(left, 1), round(bottom, 1), round(right, 1), round(top, 1)),
                size=round(size / 2) * 2.0,
            )
        )
    return {
        "width": round(width_pt, 1),
        "height": round(height_pt, 1),
        "elements": [element.to_record() for element in elements],
        "scanned": True,
    }
