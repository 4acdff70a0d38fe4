"""RapidOCR (PP-OCRv6 detection and recognition in ONNX Runtime, Apache-2.0), for scanned pages Tesseract is
unsure of: handwriting and hard scans. Its weights ship inside its wheel (nothing is downloaded when it runs).

It is the optional ``ocr`` extra, not part of the default install: with its OpenCV (opencv-python-headless, 173 MB
installed) it adds about 224 MB, over the 150 MB the default install may grow by. Where it is installed, a page whose
Tesseract words have a mean confidence below ``PAPERLINE_OCR_CONFIDENCE`` is read again with it
(``PAPERLINE_BETTER_OCR=auto``), or every scanned page is (``always``). On generated letters in print and four
handwriting faces (``benchmarks/scans.py``) the mean character error rate was 0.055 with Tesseract alone, 0.088
with RapidOCR alone (it misreads a face Tesseract reads well) and 0.021 with RapidOCR only where Tesseract was
unsure, at about 7 times Tesseract's CPU on the pages it reads (2.95 s against 0.43 s). It is heavy on memory too:
a worker reading a 300 dpi statement page with it peaked at 0.88 GB (0.15 GB before the call), where Tesseract's
whole page stays near 0.2 GB; ``PAPERLINE_BETTER_OCR=off`` keeps a small worker from it.

Its lines come back as boxes and texts; they are made into the paragraphs and words the rest of Paperline reads
from Tesseract's hOCR (a line's words placed along it by their share of its letters).
"""

from __future__ import annotations

import importlib.util
import statistics
import threading
from typing import Any

import numpy as np
from PIL import Image

from pipeline.documents.layout.scanned import OcrWord

_engine: Any = None
_lock = threading.Lock()


def available() -> bool:
    """Whether RapidOCR is installed (the ``ocr`` extra)."""
    return importlib.util.find_spec("rapidocr") is not None


def _reader() -> Any:
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr import RapidOCR

            _engine = RapidOCR(params={"Global.log_level": "error"})
        return _engine


def read_lines(image: Image.Image) -> list[tuple[str, tuple[int, int, int, int], float]]:
    """The lines RapidOCR reads in ``image``: text, box (left, top, right, bottom in pixels) and score (0-1), top
    to bottom."""
    result = _reader()(np.asarray(image.convert("RGB")))
    if result.txts is None:
        return []
    lines = []
    for points, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if text.strip():
            lines.append((text.strip(), (int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))), float(score)))
    return sorted(lines, key=lambda line: (line[1][1], line[1][0]))


def line_words(text: str, box: tuple[int, int, int, int], score: float) -> tuple[OcrWord, ...]:
    """A line's words, each given the stretch of the line its letters take (RapidOCR boxes lines, not words)."""
    left, top, right, bottom = box
    height = bottom - top
    per_letter = (right - left) / max(1, len(text))
    words = []
    at = 0
    for word in text.split():
        start = text.index(word, at)
        at = start + len(word)
        x0, x1 = left + start * per_letter, left + at * per_letter
        words.append(
            OcrWord(word, (round(x0), top, round(x1), bottom), bottom - 0.2 * height, 0.8 * height, score * 100)
        )
    return tuple(words)


def paragraphs(
    lines: list[tuple[str, tuple[int, int, int, int], float]],
) -> list[list[tuple[str, tuple[int, int, int, int], float]]]:
    """Lines grouped into paragraphs: a line starts a new one when the gap above it is more than half a line, or it
    does not overlap the previous line across."""
    if not lines:
        return []
    height = statistics.median(line[1][3] - line[1][1] for line in lines)
    out = [[lines[0]]]
    for line in lines[1:]:
        previous = out[-1][-1][1]
        box = line[1]
        if box[1] - previous[3] > 0.5 * height or box[0] > previous[2] or box[2] < previous[0]:
            out.append([line])
        else:
            out[-1].append(line)
    return out
