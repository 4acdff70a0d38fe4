"""Image handling with Pillow: size checks before decoding, EXIF orientation, and WebP compression.

Uploads are checked against ``max_pixels`` from the header alone, before any pixel is decoded, so a
decompression bomb is refused without using the memory it asks for; Pillow's own bomb warning is an error here.
A TIFF's frames (its pages) are counted from their directories up to ``max_pages`` and decoded one at a time, and
the compressed preview of all of them together stays within ``max_pixels``, so a frame bomb (thousands of frames,
or many large ones) costs one frame's memory.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.core import messages
from pipeline.core.errors import ImageTooLarge, TooManyPages, UnreadableDocument

# Only TIFF frames are pages; frames of other formats (animated WebP/PNG) are an animation, not a document.
PAGED_FORMATS = {"TIFF"}
# The smallest side of a page in a compressed preview, however many pages share the pixel budget.
MIN_PREVIEW_SIDE = 16


def apply_pixel_budget(max_pixels: int) -> None:
    """Pillow's own decompression-bomb limit for this process, from ``PAPERLINE_MAX_IMAGE_PIXELS``: it warns above
    it (an error inside ``open_image``) and refuses twice as many, wherever an image is opened."""
    if max_pixels > 0:
        Image.MAX_IMAGE_PIXELS = max_pixels


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    pages: int


@dataclass(frozen=True)
class Compression:
    """What compression did: sizes in bytes and pixels, before and after."""

    original_bytes: int
    compressed_bytes: int
    width: int
    height: int
    out_width: int
    out_height: int
    quality: int
    #: pages in the preview, and the longest side allowed for each (below ``max_side`` when the pages would not
    #: fit in the pixel budget together)
    pages: int = 1
    side: int = 0
    lowered: bool = False

    @property
    def ratio(self) -> float:
        return self.original_bytes / self.compressed_bytes if self.compressed_bytes else 0.0

    def as_meta(self) -> dict[str, int | float]:
        return {
            "original_bytes": self.original_bytes,
            "compressed_bytes": self.compressed_bytes,
            "width": self.width,
            "height": self.height,
            "out_width": self.out_width,
            "out_height": self.out_height,
            "webp_quality": self.quality,
            "compression_ratio": round(self.ratio, 2),
        }


@contextmanager
def open_image(path: Path, max_pixels: int, max_pages: int = 0) -> Iterator[Image.Image]:
    """Open an image lazily, refusing it if any frame has more than ``max_pixels`` pixels or a TIFF has more than
    ``max_pages`` frames (0: no limit). Only frame directories are read, no pixels."""
    unreadable = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError)
    with warnings.catch_warnings():
        # Pillow's bomb warning (above PAPERLINE_MAX_IMAGE_PIXELS once ``apply_pixel_budget`` ran) would refuse before
        # the size is known; the frame check below refuses with the size. Its error (twice the limit) refuses here.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        # Pillow warns about damaged metadata (e.g. "Corrupt EXIF data") and reads on; so does Paperline.
        warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
        try:
            image = Image.open(path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_large(None, max_pixels) from exc
        except unreadable as exc:
            raise _unreadable(exc) from exc
        with image:
            try:
                _check_frames(image, max_pixels, max_pages)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise _too_large(None, max_pixels) from exc
            except unreadable as exc:  # a damaged frame directory (TIFF) shows only when frames are counted
                raise _unreadable(exc) from exc
            yield image


def _check_frames(image: Image.Image, max_pixels: int, max_pages: int) -> None:
    """Every frame's size against ``max_pixels``, frame by frame (``n_frames`` would walk all of a TIFF's
    directories before any limit applies); other formats' frames share the first one's canvas."""
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large((width, height), max_pixels)
    if image.format not in PAGED_FORMATS:
        return
    index = 0
    while True:
        index += 1
        try:
            image.seek(index)
        except EOFError:
            break
        if max_pages and index >= max_pages:
            raise TooManyPages(messages.too_many_pages(max_pages))
        width, height = image.size
        if width * height > max_pixels:
            raise _too_large((width, height), max_pixels)
    image.seek(0)


def page_total(image: Image.Image) -> int:
    """Pages of an image opened by ``open_image`` (whose check has already counted a TIFF's frames)."""
    return getattr(image, "n_frames", 1) if image.format in PAGED_FORMATS else 1


def _unreadable(exc: Exception) -> UnreadableDocument:
    # Pillow's "cannot identify image file '/path/...'" would show the server's storage path: say it plainly.
    detail = "its content is not a valid image" if isinstance(exc, UnidentifiedImageError) else str(exc)
    return UnreadableDocument(f"This image could not be read; it may be damaged or truncated ({detail}).")


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> ImageTooLarge:
    what = f"{size[0]}x{size[1]} pixels" if size else "more pixels than allowed"
    return ImageTooLarge(
        f"This image is too large to process safely ({what}; the limit is {max_pixels / 1e6:.0f} megapixels). "
        "Scale it down and upload it again."
    )


def inspect_image(path: Path, max_pixels: int, max_pages: int = 0) -> ImageInfo:
    with open_image(path, max_pixels, max_pages) as image:
        return ImageInfo(format=image.format or "", width=image.width, height=image.height, pages=page_total(image))


def _decode(frame: Image.Image) -> Image.Image:
    """A decoded, upright copy of one frame in a mode WebP and Tesseract accept."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            upright = ImageOps.exif_transpose(frame)
            upright.load()
        except (OSError, ValueError, SyntaxError) as exc:
            raise UnreadableDocument(
                f"This image could not be decoded; it may be damaged or truncated ({exc})."
            ) from exc
    if upright.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        upright = upright.convert("I").point(lambda value: value / 256).convert("L")
    if upright.mode not in ("RGB", "RGBA", "L"):
        has_alpha = "A" in upright.getbands() or "transparency" in upright.info
        upright = upright.convert("RGBA" if has_alpha else "RGB")
    return upright


def iter_pages(
    path: Path, max_pixels: int, first: int = 1, last: int | None = None, *, max_pages: int = 0
) -> Iterator[tuple[int, Image.Image]]:
    """Yield ``(page, image)`` for an image's pages (TIFF frames; 1 for other formats), upright and decoded, one at
    a time (the caller drops each before the next is decoded)."""
    with open_image(path, max_pixels, max_pages) as image:
        pages = page_total(image)
        last = pages if last is None else min(last, pages)
        for number in range(first, last + 1):
            image.seek(number - 1)
            yield number, _decode(image)


def preview_side(pages: int, max_side: int, max_pixels: int) -> int:
    """The longest side of each page in a preview of ``pages`` pages: ``max_side``, or less so that all of them
    together stay within ``max_pixels``."""
    fits = math.isqrt(max(1, max_pixels // max(1, pages)))
    return max(MIN_PREVIEW_SIDE, min(max_side, fits))


def compress_image(
    path: Path,
    dest: Path,
    *,
    max_side: int,
    quality: int,
    max_pixels: int,
    max_pages: int = 0,
    on_page: Callable[[int, int], None] | None = None,
) -> Compression:
    """Write an upright WebP of the image (every page of a TIFF, as frames) that fits in ``max_side`` x
    ``max_side`` per page, less when many pages would not fit in ``max_pixels`` together. Pages are decoded and
    shrunk one at a time; ``on_page(done, total)`` after each (a long preparation shows it is alive)."""
    resized: list[Image.Image] = []
    lowered = False
    with open_image(path, max_pixels, max_pages) as image:
        pages = page_total(image)
        side = preview_side(pages, max_side, max_pixels)
        for number in range(pages):
            if number:
                image.seek(number)
            page = _decode(image)
            if not number:
                width, height = page.size
            lowered = lowered or (side < max_side and max(page.size) > side)
            page.thumbnail((side, side), Image.Resampling.LANCZOS)
            resized.append(page)
            del page  # the full-size frame goes before the next is decoded
            if on_page is not None:
                on_page(number + 1, pages)
    dest.parent.mkdir(parents=True, exist_ok=True)
    save_kwargs: dict[str, Any] = {"quality": quality, "method": 4}
    if len(resized) > 1:
        save_kwargs.update(save_all=True, append_images=resized[1:])
    resized[0].save(dest, format="WEBP", **save_kwargs)
    return Compression(
        original_bytes=path.stat().st_size,
        compressed_bytes=dest.stat().st_size,
        width=width,
        height=height,
        out_width=resized[0].width,
        out_height=resized[0].height,
        quality=quality,
        pages=pages,
        side=side,
        lowered=lowered,
    )
