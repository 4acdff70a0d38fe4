"""Scans with a known content: pages drawn with fpdf2, rendered to an image, roughened the way a scanner does
(a slight skew, speckle noise, a blur) and saved as PDFs with no text layer, or with a small text layer over the
image (a stamp)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pypdfium2 as pdfium
from fpdf import FPDF
from PIL import Image, ImageFilter

INTRO = "The inspection results for the second quarter are listed in the table below."
GRID = [
    ["Site", "Inspected", "Passed", "Failed"],
    ["Aberdeen", "124", "118", "6"],
    ["Bristol", "98", "97", "1"],
    ["Cardiff", "143", "131", "12"],
    ["Dundee", "76", "70", "6"],
    ["Exeter", "51", "51", "0"],
]
OUTRO = "Failed inspections are repeated within thirty days of the first visit."


def _drawn_table(pdf: FPDF, rows: list[list[str]], top: float, widths: list[float], ruled: bool = True) -> float:
    pdf.set_xy(20, top)
    for r, row in enumerate(rows):
        pdf.set_font("Helvetica", "B" if r == 0 else "", 11)
        for width, text in zip(widths, row, strict=True):
            pdf.cell(width, 9, text, border=1 if ruled else 0)
        pdf.ln(9)
        pdf.set_x(20)
    return pdf.get_y()


def table_page(*, ruled: bool = True) -> FPDF:
    """A4: a heading, a sentence, ``GRID`` (every cell boxed, or no rule at all), a sentence."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_xy(20, 25)
    pdf.cell(170, 9, "Quarterly Inspections")
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 40)
    pdf.multi_cell(170, 5.5, INTRO)
    bottom = _drawn_table(pdf, GRID, 52, [50, 35, 35, 35], ruled)
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, bottom + 8)
    pdf.multi_cell(170, 5.5, OUTRO)
    return pdf


def scanned(
    drawn: FPDF, path: Path, *, dpi: int = 200, skew: float = 0.0, noise: float = 0.0, blur: float = 0.0, seed: int = 1
) -> Path:
    """``drawn`` rendered at ``dpi``, turned ``skew`` degrees, a share ``noise`` of its pixels flipped, blurred by
    ``blur`` pixels, saved as a PDF page of the same size holding only the image."""
    image = render(drawn, dpi)
    image = roughened(image, skew=skew, noise=noise, blur=blur, seed=seed)
    return image_pdf(image, path, drawn.w, drawn.h)


def render(drawn: FPDF, dpi: int) -> Image.Image:
    document = pdfium.PdfDocument(bytes(drawn.output()))
    try:
        return document[0].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        document.close()


def roughened(
    image: Image.Image, *, skew: float = 0.0, noise: float = 0.0, blur: float = 0.0, seed: int = 1
) -> Image.Image:
    if skew:
        image = image.rotate(skew, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    if noise:
        rng = random.Random(seed)
        pixels = image.load()
        assert pixels is not None
        width, height = image.size
        for _ in range(int(noise * width * height)):
            x, y = rng.randrange(width), rng.randrange(height)
            pixels[x, y] = 0 if rng.random() < 0.5 else 255
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def image_pdf(image: Image.Image, path: Path, width_mm: float, height_mm: float, stamp: str = "") -> Path:
    """A PDF page ``width_mm`` x ``height_mm`` holding ``image``; ``stamp``, if given, as a small text layer over
    it (a line of text at the page's top right, as a stamp or an annotation leaves)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF(format=(width_mm, height_mm))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.image(buffer, x=0, y=0, w=width_mm, h=height_mm)
    if stamp:
        pdf.set_font("Helvetica", size=8)
        pdf.set_xy(width_mm - 70, 8)
        pdf.cell(60, 4, stamp)
    pdf.output(str(path))
    return path


LETTER = [
    "Dear Margaret, thank you for the parcel you sent",
    "last week. The children loved the books and the",
    "garden seeds arrived just in time for spring. We",
    "planted beans, carrots and two rows of lettuce.",
    "Please write soon and tell us about your trip.",
]
#: faces that imitate handwriting, from Debian's fonts-* packages, by package
HANDWRITING_FONTS = {
    "fonts-dkg-handwriting": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "fonts-breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
    "fonts-humor-sans": "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "fonts-dancingscript": "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
}


def letter_page(font: str | None = None, size: float = 18) -> FPDF:
    """A5 landscape: ``LETTER`` set in the face at ``font`` (a TrueType or OpenType file; Helvetica if None)."""
    pdf = FPDF(orientation="L", format=(148, 210))  # A5 (fpdf2 warns on the name)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    if font:
        pdf.add_font("hand", "", font)
        pdf.set_font("hand", size=size)
    else:
        pdf.set_font("Helvetica", size=size * 0.75)
    for n, line in enumerate(LETTER):
        pdf.set_xy(15, 20 + n * size * 0.55)
        pdf.cell(180, size * 0.5, line)
    return pdf


def cer(text: str, truth: str) -> float:
    """Character error rate, case and spacing aside: edits to turn ``text`` into ``truth`` per letter of it."""
    a, b = " ".join(text.split()).lower(), " ".join(truth.split()).lower()
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1] / len(b)
