"""The engines and transformations behind the corpus: headless Chromium printing HTML to PDF (Playwright, Debian's
chromium), pages turned by ``/Rotate`` with their content turned back (so they display upright, as scanners and
landscape layouts write them), and pages rasterised as scans (resolution, skew, blur, noise) to PNG and to PDFs of
images only."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
from PIL import Image, ImageFilter

CHROMIUM = os.environ.get("PAPERLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]


_OVERFLOW = """() => {
  for (const sheet of document.querySelectorAll('.sheet')) {
    const box = sheet.getBoundingClientRect();
    for (const e of sheet.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      const out = r.bottom > box.bottom + 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.left < box.left - 1;
      if (r.width && out) return true;
    }
  }
  return false;
}"""


class Printer:
    """One headless Chromium for many documents: ``print(html, path)`` writes the PDF and returns its page count."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self._page = self._browser.new_page()
        self._page.emulate_media(media="print")

    @property
    def browser(self) -> Any:
        """The Chromium it prints with (for builders that open pages of their own: tests/page_docs.py)."""
        return self._browser

    def print(self, html: str, path: Path) -> tuple[int, bool]:
        """Print ``html`` to ``path``: its page count, and whether anything on a fixed-size ``.sheet`` page ran
        over the sheet's edge (where it would be cut off)."""
        self._page.set_content(html, wait_until="load")
        over = bool(self._page.evaluate(_OVERFLOW))
        self._page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)
        return page_count(path), over

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def page_count(path: Path) -> int:
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def rotate_upright(source: Path, target: Path, angle: int) -> None:
    """Each page's content turned by ``-angle`` and the page given ``/Rotate angle``: a viewer shows it as before,
    but the content stream draws it sideways or upside down (what a page rotated for display holds)."""
    writer = pypdf.PdfWriter(clone_from=str(source))
    for page in writer.pages:
        page.rotate((360 - angle) % 360)
        page.transfer_rotation_to_content()
        page.rotate(angle)
    with target.open("wb") as out:
        writer.write(out)


def scan_pages(source: Path, rng: random.Random) -> tuple[list[Image.Image], dict[str, Any]]:
    """The PDF's pages as a scanner gives them: grey, at 150-300 dpi, turned by a small angle, blurred a little,
    with noise."""
    dpi = rng.choice([150, 200, 200, 300])
    skew = round(rng.uniform(-1.5, 1.5), 2)
    blur = round(rng.uniform(0.0, 1.0), 2)
    noise = round(rng.uniform(4, 18), 1)
    pdf = pypdfium2.PdfDocument(str(source))
    images = []
    try:
        for index in range(len(pdf)):
            image = pdf[index].render(scale=dpi / 72).to_pil().convert("L")
            image = image.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
            if blur:
                image = image.filter(ImageFilter.GaussianBlur(blur))
            grain = Image.effect_noise(image.size, noise)
            image = Image.blend(image, grain, 0.12)
            images.append(image.point(lambda v: min(255, int(v * 1.08))))
    finally:
        pdf.close()
    return images, {"dpi": dpi, "skew_deg": skew, "blur_px": blur, "noise": noise}


def save_png(image: Image.Image, path: Path, dpi: int) -> None:
    image.save(path, format="PNG", dpi=(dpi, dpi), optimize=False)


def save_image_pdf(images: list[Image.Image], path: Path, dpi: int) -> None:
    """A PDF of page images only (no text layer), each page the image's size at ``dpi``."""
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    path.write_bytes(buffer.getvalue())
