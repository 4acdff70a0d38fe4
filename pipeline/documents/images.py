"""Image handling with Pillow: size checks before decoding, EXIF orientation, and WebP compression.

Uploads are checked against ``max_pixels`` from the header alone, before any pixel is decoded, so a
decompression bomb is refused without using the memory it asks for; Pillow's own bomb warning is an error here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from ..exceptions import ImageTooLarge, UnreadableDocument

# Only TIFF frames are pages; frames of other formats (animated WebP/PNG) are an animation, not a document.
PAGED_FORMATS = {"TIFF"}


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
def open_image(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    """Open an image lazily, refusing it if any frame has more than ``max_pixels`` pixels."""
    unreadable = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
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
                frames = getattr(image, "n_frames", 1)
                for index in range(frames):
                    if index:
                        image.seek(index)
                    width, height = image.size
                    if width * height > max_pixels:
                        raise _too_large((width, height), max_pixels)
                image.seek(0)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise _too_large(None, max_pixels) from exc
            except unreadable as exc:  # a damaged frame directory (TIFF) shows only when frames are counted
                raise _unreadable(exc) from exc
            yield image


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


def inspect_image(path: Path, max_pixels: int) -> ImageInfo:
    with open_image(path, max_pixels) as image:
        fmt = image.format or ""
        pages = getattr(image, "n_frames", 1) if fmt in PAGED_FORMATS else 1
        return ImageInfo(format=fmt, width=image.width, height=image.height, pages=pages)


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
    path: Path, max_pixels: int, first: int = 1, last: int | None = None
) -> Iterator[tuple[int, Image.Image]]:
    """Yield ``(page, image)`` for an image's pages (TIFF frames; 1 for other formats), upright and decoded."""
    with open_image(path, max_pixels) as image:
        pages = getattr(image, "n_frames", 1) if image.format in PAGED_FORMATS else 1
        last = pages if last is None else min(last, pages)
        for number in range(first, last + 1):
            image.seek(number - 1)
            yield number, _decode(image)


def compress_image(path: Path, dest: Path, *, max_side: int, quality: int, max_pixels: int) -> Compression:
    """Write an upright WebP of the image (first page) that fits in ``max_side`` x ``max_side``."""
    with open_image(path, max_pixels) as image:
        frames = [_decode(frame) for frame in ImageSequence.Iterator(image)] if image.format in PAGED_FORMATS else []
        first = frames[0] if frames else _decode(image)
    width, height = first.size
    pages = frames or [first]
    resized = []
    for page in pages:
        page = page.copy()
        page.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        resized.append(page)
    dest.parent.mkdir(parents=True, exist_ok=True)
    save_kwargs = {"quality": quality, "method": 4}
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
    )
