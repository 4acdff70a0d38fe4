"""A page as an image for a person to look at (the dashboard's page view, the API's page image): one page of a PDF
or an image, at a width the caller picks within bounds, as PNG or WebP.

Not OCR's rendering (``pdf.render_page``), which is sized by resolution for reading text: this one is sized by the
pixels a screen shows, and says the page's size in the coordinates of the result's boxes (PDF points with the
origin at the bottom left; an image's pixels as OCR read it), so a caller can draw those boxes on it.

PDFium and Pillow never run in the server (``inspection`` says why): ``render_page_image`` runs
``python -m pipeline.documents.page_images`` per page with the intake inspector's limits; the child writes the
image to a file and prints one JSON line (its size, the page's size, the document's pages), or the refusal.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core import messages
from pipeline.core.errors import DocumentRejected, PageNotFound, PaperlineError, ReaderFailed, error_of_code
from pipeline.documents.inspection import (
    PACKAGE_ROOT,
    STDERR_TAIL,
    Limits,
    child_answer,
    limit_self,
    reply,
    why_it_ended,
)

if TYPE_CHECKING:
    from PIL import Image

MIN_WIDTH = 600
MAX_WIDTH = 2000
DEFAULT_WIDTH = 1000
#: a page far taller than wide (a till receipt) is narrowed until its image is at most this many times its width
MAX_ASPECT = 3.0
#: format name -> media type
IMAGE_FORMATS = {"png": "image/png", "webp": "image/webp"}
WEBP_QUALITY = 82


@dataclass(frozen=True)
class PageImage:
    """One page's image and what a viewer needs to draw the result's boxes on it."""

    data: bytes
    media_type: str
    #: the image's size in pixels
    width: int
    height: int
    #: the page's size in the boxes' coordinates (PDF points; an image's pixels)
    page_width: float
    page_height: float
    #: how many pages the document has
    pages: int


def clamp_width(width: int) -> int:
    """``width`` within the bounds a page image may have."""
    return max(MIN_WIDTH, min(MAX_WIDTH, int(width)))


def render_page_image(
    path: Path, pdf: bool, number: int, *, width: int = DEFAULT_WIDTH, fmt: str = "png", limits: Limits
) -> PageImage:
    """Page ``number`` (1-based) of the stored document at ``path`` (a PDF, or an image with one page per TIFF
    frame), ``width`` pixels wide (clamped to ``MIN_WIDTH``-``MAX_WIDTH``; narrower where the page is very tall),
    in ``fmt`` (``png`` or ``webp``), drawn in a subprocess within ``limits``. A page the document does not have
    is ``PageNotFound``; a reader that crashes or runs out of time or memory is ``ReaderFailed``."""
    import subprocess  # the parent's alone

    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(IMAGE_FORMATS)}, not {fmt!r}")
    with tempfile.TemporaryDirectory(prefix="paperline-page-") as folder:
        out = Path(folder) / f"page.{fmt}"
        argv = [
            *[sys.executable, "-m", "pipeline.documents.page_images", "pdf" if pdf else "image", str(path)],
            *[str(number), str(clamp_width(width)), fmt, str(limits.max_pixels), str(limits.memory_mb)],
            *[str(limits.timeout_s), str(out)],
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])),
        }
        try:
            done = subprocess.run(
                argv, capture_output=True, timeout=limits.timeout_s, env=env, stdin=subprocess.DEVNULL, check=False
            )
        except subprocess.TimeoutExpired as exc:
            why = messages.reader_took_too_long(limits.timeout_s)
            raise ReaderFailed(messages.page_not_drawn(number, why)) from exc
        answer = child_answer(done.stdout)
        if done.returncode != 0 or answer is None:
            raise ReaderFailed(messages.page_not_drawn(number, why_it_ended(done.returncode, limits)))
        if "failed" in answer:
            why = str(answer["failed"])
            why = messages.reader_out_of_memory(limits.memory_mb) if why == "memory" else why
            raise ReaderFailed(messages.page_not_drawn(number, why))
        if "refused" in answer:
            kind = error_of_code(str(answer["refused"]))
            refused = kind if kind is not None and issubclass(kind, PaperlineError) else ReaderFailed
            raise refused(str(answer["message"]))
        return PageImage(
            out.read_bytes(),
            IMAGE_FORMATS[fmt],
            int(answer["width"]),
            int(answer["height"]),
            float(answer["page_width"]),
            float(answer["page_height"]),
            int(answer["pages"]),
        )


# -- the child ------------------------------------------------------------------------------------------------------
def draw_page(path: Path, pdf: bool, number: int, width: int, fmt: str, max_pixels: int) -> tuple[Image.Image, dict]:
    """The page's image and what the parent is told of it, in this process."""
    from PIL import Image

    width = clamp_width(width)
    image, (page_width, page_height), pages = (
        _pdf_page(path, number, width) if pdf else _image_page(path, number, max_pixels)
    )
    if image.width != width or image.height > MAX_ASPECT * width:
        scale = min(width / image.width, MAX_ASPECT * width / image.height)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    told = {"width": image.width, "height": image.height, "page_width": page_width, "page_height": page_height}
    return image, told | {"pages": pages}


def _pdf_page(path: Path, number: int, width: int) -> tuple[Image.Image, tuple[float, float], int]:
    # PDFium alone (not ``pdf.open_pdfium``, whose explanations need pypdf): intake has opened this file already
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        pages = len(document)
        if not 1 <= number <= pages:
            raise PageNotFound(messages.no_such_page(number, pages))
        page = document[number - 1]
        # the page as it is shown (its /Rotate applied): the frame the layout's boxes are in
        width_pt, height_pt = page.get_size()
        scale = min(width / max(width_pt, 1.0), MAX_ASPECT * width / max(height_pt, 1.0))
        image = page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    finally:
        document.close()
    return image, (round(width_pt, 2), round(height_pt, 2)), pages


def _image_page(path: Path, number: int, max_pixels: int) -> tuple[Image.Image, tuple[float, float], int]:
    """The image's page as OCR read it (upright, decoded the same way), so its pixels are the boxes' units."""
    from pipeline.documents.images import apply_pixel_budget, iter_pages, open_image, page_total

    apply_pixel_budget(max_pixels)
    with open_image(path, max_pixels) as opened:
        pages = page_total(opened)
    if not 1 <= number <= pages:
        raise PageNotFound(messages.no_such_page(number, pages))
    _, image = next(iter_pages(path, max_pixels, number, number))
    size = (float(image.width), float(image.height))
    return (image if image.mode in ("RGB", "L") else image.convert("RGB")), size, pages


def main(argv: list[str]) -> int:
    kind, path, number, width, fmt, max_pixels, memory_mb, timeout_s, out = argv
    limit_self(int(memory_mb), float(timeout_s))
    try:
        image, answer = draw_page(Path(path), kind == "pdf", int(number), int(width), fmt, int(max_pixels))
        if fmt == "webp":
            image.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
        else:
            image.save(out, format="PNG", compress_level=6)
    except (DocumentRejected, PageNotFound) as exc:
        answer = {"refused": exc.code, "message": str(exc)}
    except MemoryError:
        answer = {"failed": "memory"}
    except Exception as exc:  # a reader's own bug on this page: the parent says so, the server carries on
        print(f"{type(exc).__name__}: {exc}"[:STDERR_TAIL], file=sys.stderr)
        answer = {"failed": messages.reader_crashed(type(exc).__name__)}
    return reply(answer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
