"""Generated documents for tests and benchmarks: long PDFs with known text on every page, and images."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

WORDS = (
    "ledger invoice quarterly revenue analyst extraction chunk worker summary appendix figure table "
    "policy contract clause schedule deadline budget forecast audit review"
).split()


def page_text(page: int, lines: int = 12) -> list[str]:
    """Deterministic sentences for a page, each naming the page so order and duplicates are visible."""
    out = []
    for line in range(lines):
        words = [WORDS[(page * 7 + line * 3 + k) % len(WORDS)] for k in range(8)]
        out.append(f"Page {page} line {line + 1}: " + " ".join(words) + ".")
    return out


def make_text_pdf(path: Path, pages: int, *, lines: int = 12, blank_pages: tuple[int, ...] = ()) -> Path:
    """A PDF of ``pages`` pages with a text layer; pages listed in ``blank_pages`` (1-based) carry no text."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=11)
    for page in range(1, pages + 1):
        pdf.add_page()
        if page in blank_pages:
            continue
        y = 20
        for text in page_text(page, lines):
            pdf.text(15, y, text)
            y += 8
    path = Path(path)
    pdf.output(str(path))
    return path


def make_text_image(text: str, *, size: tuple[int, int] = (1600, 300), fmt: str = "PNG") -> bytes:
    """A white image with large black text, readable by OCR."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=48)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    draw.text((40, 100), text, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def make_photo(size: tuple[int, int] = (3000, 2000), fmt: str = "JPEG", exif_orientation: int | None = None) -> bytes:
    """A large gradient image (no text), optionally with an EXIF orientation tag."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    kwargs = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def make_large_pdf(path: Path, min_bytes: int) -> Path:
    """A one-page PDF of at least ``min_bytes``: incompressible noise as an image, under a text layer."""
    import os

    side = int((min_bytes / 3) ** 0.5) + 64
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(noise, x=0, y=0, w=210, h=297)
    pdf.set_font("Helvetica", size=14)
    pdf.text(20, 20, "Large scanned appendix with a text layer.")
    pdf.output(str(path))
    return Path(path)


# Settings that make a job slow enough to interrupt (small chunks, OCR on every blank page) and recover fast.
SLOW_JOB_SETTINGS = {
    "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "5",
    "PAPERLINE_MEDIUM_CHUNK_PAGES": "5",
    "PAPERLINE_OCR_DPI": "150",
    "PAPERLINE_STALE_AFTER_S": "2",
    "PAPERLINE_SWEEP_INTERVAL_S": "0.5",
}


def make_slow_pdf(path: Path, pages: int = 30, *, lines: int = 12) -> Path:
    """Every second page has no text layer, so it goes through OCR (about 0.3 s a page at 150 dpi)."""
    return make_text_pdf(path, pages, lines=lines, blank_pages=tuple(range(2, pages + 1, 2)))


# Markup a document or a model may carry; each calls alert() with its own label, so a dialog names the surface.
HOSTILE = (
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    "<a href=\"javascript:alert('anchor')\">anchor link</a>",
    "<svg onload=alert('svg')>",
    "[markdown link](javascript:alert('md'))",
)


def make_hostile_pdf(path: Path, *, title: str = HOSTILE[1]) -> Path:
    """A one-page PDF whose text layer (one payload a line) and metadata title hold HTML and Markdown markup."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author(HOSTILE[0])
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line, text in enumerate(HOSTILE):
        pdf.text(15, 20 + 10 * line, text)
    pdf.output(str(path))
    return Path(path)
