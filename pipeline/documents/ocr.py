"""OCR with the Tesseract command-line program, for scanned pages and images.

Tesseract runs as a subprocess (no Python binding to install), reading a PNG from stdin. Where it is missing,
callers get ``OcrUnavailable`` with the install command, and the job completes with that note.
"""

from __future__ import annotations

import io
import shutil
import subprocess

from PIL import Image

from pipeline.core.errors import OcrUnavailable
from pipeline.core.settings import Settings

INSTALL_HINT = "Install it with 'apt-get install tesseract-ocr' (Debian/Ubuntu) or 'brew install tesseract' (macOS)."
# Tesseract gains nothing beyond this size and slows down sharply on huge scans.
MAX_OCR_SIDE = 5000


def tesseract_binary() -> str | None:
    """The Tesseract program to run: ``PAPERLINE_TESSERACT`` if set, else ``tesseract`` on PATH."""
    return shutil.which(Settings.from_env().tesseract)


def unavailable_note() -> str:
    return (
        f"OCR is unavailable: Tesseract is not installed, so pages without a text layer were left empty. {INSTALL_HINT}"
    )


def ocr_image(image: Image.Image, *, language: str = "eng", timeout_s: float = 120.0) -> str:
    """The text Tesseract reads in ``image``."""
    binary = tesseract_binary()
    if binary is None:
        raise OcrUnavailable(unavailable_note())
    if max(image.size) > MAX_OCR_SIDE:
        image = image.copy()
        image.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    try:
        done = subprocess.run(
            [binary, "stdin", "stdout", "-l", language],
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
    return done.stdout.decode("utf-8", "replace").replace("\x0c", "").strip()
