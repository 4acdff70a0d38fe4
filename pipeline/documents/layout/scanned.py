"""A scanned page's structure from its image: how far the scan is skewed (the angle at which its rows of ink are
sharpest, a projection profile), the straight rules drawn on it (long thin runs of dark pixels, found after the
skew is taken out), and the tables those rules make, with the OCR's words placed into their cells by the same
finder a born-digital page's tables go through (``pipeline.documents.layout.tables``).

The image is read with numpy (already a dependency, through pandas); no OpenCV: a headless OpenCV weighs about
170 MB installed, and what is needed here (thresholds, runs of pixels, a rotation) is a few array operations.
On a 200 dpi A4 page the skew and the rules take about 0.1-0.2 s of CPU, against 1-3 s for Tesseract itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from pipeline.documents.layout.lines import Word
from pipeline.documents.layout.page import Rule

#: skew angles looked at (degrees), and below which a scan is left as it is
MAX_SKEW = 5.0
MIN_SKEW = 0.1
#: a rule is this long at least, and this thick at most (points)
RULE_MIN_POINTS = 25.0
RULE_MAX_POINTS = 3.0
#: gaps this long (points) in a rule are bridged (a scanned line is broken by noise and faint toner), and this
#: share of a rule's length is ink before bridging
RULE_GAP_POINTS = 1.0
RULE_INK = 0.85
#: the most ink the rows beside a rule may hold (letters touching it, noise)
RULE_BESIDE = 0.3


@dataclass(frozen=True)
class OcrWord:
    """A word the OCR read: its text, box (left, top, right, bottom in pixels), baseline (pixels from the top),
    size (pixels) and confidence (0-100)."""

    text: str
    box: tuple[int, int, int, int]
    baseline: float
    size: float
    confidence: float
    #: set in heavier strokes than the page's text (``bold_words``)
    bold: bool = False


def dark_mask(image: Image.Image) -> np.ndarray:
    """The image's dark pixels (ink), by Otsu's threshold on its grey levels."""
    grey = np.asarray(image.convert("L"), dtype=np.uint8)
    counts = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(counts)
    total = weight[-1]
    mean = np.cumsum(counts * levels)
    between = (mean[-1] * weight / total - mean) ** 2 / np.maximum(weight * (total - weight), 1.0)
    threshold = int(np.argmax(between))
    return grey <= threshold


#: a scan is speckled (salt and pepper from dust, a dirty glass, a fax) when this share of its ink is dots of one
#: pixel with at most one dark neighbour: text strokes have more (0-0.01 on clean scans at 100-300 dpi)
SPECKLED = 0.02


def despeckled(image: Image.Image) -> Image.Image:
    """A speckled scan through a 3x3 median filter (which removes lone dots and keeps strokes wider than a pixel);
    any other image as it is. Judged on the middle third of the page (a third of the memory of the whole)."""
    width, height = image.size
    mask = dark_mask(image.crop((0, height // 3, width, max(height // 3 + 1, 2 * height // 3))))
    padded = np.pad(mask, 1).astype(np.uint8)
    rows, columns = mask.shape
    neighbours = np.zeros(mask.shape, dtype=np.uint8)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                neighbours += padded[1 + dy : 1 + dy + rows, 1 + dx : 1 + dx + columns]
    lone = int((mask & (neighbours <= 1)).sum())
    if lone <= SPECKLED * max(1, int(mask.sum())):
        return image
    return image.filter(ImageFilter.MedianFilter(3))


def skew_angle(image: Image.Image) -> float:
    """The angle (degrees, counter-clockwise) the page's content is turned by, within ``MAX_SKEW``: the turn back
    that makes its rows of ink sharpest (the largest sum of squared differences between neighbouring rows' ink)."""
    small = image.convert("L")
    scale = min(1.0, 1000 / max(small.size))
    if scale < 1.0:
        small = small.resize((max(1, round(small.width * scale)), max(1, round(small.height * scale))))
    ink = Image.fromarray((dark_mask(small) * 255).astype(np.uint8))

    def sharpness(angle: float) -> float:
        turned = np.asarray(ink.rotate(-angle, resample=Image.Resampling.NEAREST), dtype=np.float64)
        rows = turned.sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    coarse = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5), key=sharpness)
    fine = max(np.arange(coarse - 0.5, coarse + 0.51, 0.05), key=sharpness)
    return round(float(fine), 2)


def deskewed(image: Image.Image, angle: float) -> Image.Image:
    """The image turned back by ``angle`` (white where the turn brings in no page)."""
    if abs(angle) < MIN_SKEW:
        return image
    fill = 255 if image.mode == "L" else (255, 255, 255)
    return image.rotate(-angle, resample=Image.Resampling.BICUBIC, fillcolor=fill)


#: rules are looked for on the image at this resolution at most (a scan's lines are no thinner than a point)
RULE_DPI = 150


def find_rules(image: Image.Image, dpi: float) -> list[tuple[int, int, int, int]]:
    """The horizontal and vertical rules on an upright image: (left, top, right, bottom) in its pixels, right and
    bottom exclusive. Looked for at ``RULE_DPI`` at most (a quarter of the pixels of a 300 dpi scan)."""
    shrink = max(1, int(dpi // RULE_DPI))
    small = image.convert("L")
    if shrink > 1:
        small = small.reduce(shrink)
    mask = dark_mask(small)
    per_point = dpi / shrink / 72
    length = max(10, round(RULE_MIN_POINTS * per_point))
    thickness = max(3, round(RULE_MAX_POINTS * per_point))
    gap = max(1, round(RULE_GAP_POINTS * per_point))
    found = _long_runs(mask, length, thickness, gap)
    found += [(top, left, bottom, right) for left, top, right, bottom in _long_runs(mask.T, length, thickness, gap)]
    width, height = image.size
    return [(x0 * shrink, y0 * shrink, min(width, x1 * shrink), min(height, y1 * shrink)) for x0, y0, x1, y1 in found]


def _long_runs(mask: np.ndarray, length: int, thickness: int, gap: int) -> list[tuple[int, int, int, int]]:
    """Runs of ink along the rows at least ``length`` long (gaps up to ``gap`` bridged), stacked over neighbouring
    rows into bars at most ``thickness`` thick: (left, top, right, bottom)."""
    radius = (gap + 1) // 2  # a closing along the rows: gaps up to ``gap`` with ink on both sides filled
    bridged = ~_any_near(~_any_near(mask, radius), radius)
    edges = np.diff(np.pad(bridged, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    starts = np.argwhere(edges == 1)
    ends = np.argwhere(edges == -1)
    keep = ends[:, 1] - starts[:, 1] >= length
    runs = sorted(zip(starts[keep, 0].tolist(), starts[keep, 1].tolist(), ends[keep, 1].tolist(), strict=True))
    bars: list[list[int]] = []  # left, top, right, bottom (exclusive): the last ones may still grow
    for row, left, right in runs:
        if mask[row, left:right].mean() < RULE_INK:
            continue  # letters bridged into a run, not a drawn line
        grown = next(
            (bar for bar in reversed(bars[-64:]) if bar[3] == row and left < bar[2] and right > bar[0]),
            None,
        )
        if grown is None:
            bars.append([left, row, right, row + 1])
        else:
            grown[0], grown[2], grown[3] = min(grown[0], left), max(grown[2], right), row + 1
    return [(b[0], b[1], b[2], b[3]) for b in bars if b[3] - b[1] <= thickness and _clear_beside(mask, b)]


def _clear_beside(mask: np.ndarray, bar: list[int]) -> bool:
    """Whether the rows just above and below a bar are mostly white, as around a drawn line: a row of letters
    run together (bold type in a blurred scan) has their bodies on one side."""
    left, top, right, bottom = bar
    above = mask[max(0, top - 5) : max(0, top - 2), left:right]
    below = mask[bottom + 2 : bottom + 5, left:right]
    return max(above.mean() if above.size else 0.0, below.mean() if below.size else 0.0) < RULE_BESIDE


def _any_near(mask: np.ndarray, radius: int) -> np.ndarray:
    """Whether each pixel has ink within ``radius`` pixels along its row (a dilation along the rows)."""
    width = mask.shape[1]
    sums = np.pad(np.cumsum(mask, axis=1, dtype=np.int32), ((0, 0), (1, 0)))
    columns = np.arange(width)
    return (sums[:, np.minimum(columns + radius + 1, width)] - sums[:, np.maximum(columns - radius, 0)]) > 0


def erase_rules(image: Image.Image, rules: Sequence[tuple[int, int, int, int]], margin: int = 2) -> Image.Image:
    """The image with its rules painted white (with ``margin`` pixels around them, the blur of a scanned line), so
    the OCR does not read a table's lines as letters ("|", "_") beside the words they box."""
    if not rules:
        return image
    pixels = np.array(image)
    white = 255 if pixels.ndim == 2 else np.array([255] * pixels.shape[2], dtype=pixels.dtype)
    height, width = pixels.shape[:2]
    for left, top, right, bottom in rules:
        pixels[
            max(0, top - margin) : min(height, bottom + margin), max(0, left - margin) : min(width, right + margin)
        ] = white
    return Image.fromarray(pixels)


#: a word whose strokes are this many times as thick as the page's median word's (each against its size) is bold:
#: on generated scans bold table headers measure 1.3-1.5, regular words 0.85-1.1
BOLD_STROKE = 1.25


def bold_words(image: Image.Image, words: Sequence[OcrWord]) -> set[OcrWord]:
    """The words set bold, by the thickness of their strokes (twice their ink over its edge pixels: the mean width
    of a stroke), against their size and the page's median: a scan has no font to ask."""
    if len(words) < 4:
        return set()
    mask = dark_mask(image)
    inner = mask.copy()
    inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    edge = mask & ~inner
    strokes = []
    for word in words:
        left, top, right, bottom = word.box
        ink, rim = int(mask[top:bottom, left:right].sum()), int(edge[top:bottom, left:right].sum())
        strokes.append(2 * ink / max(rim, 1) / max(word.size, 1.0))
    middle = float(np.median(strokes))
    return {word for word, stroke in zip(words, strokes, strict=True) if stroke >= BOLD_STROKE * middle}


def page_words(words: Sequence[OcrWord], scale_x: float, scale_y: float, height_pt: float) -> list[Word]:
    """OCR words as a born-digital page's words (PDF points, the origin at the bottom left)."""
    out = []
    for w in words:
        size = w.size * scale_y
        baseline = height_pt - w.baseline * scale_y
        out.append(
            Word(
                w.text,
                w.box[0] * scale_x,
                baseline - 0.22 * size,
                w.box[2] * scale_x,
                baseline + 0.78 * size,
                size,
                w.bold,
                False,
                baseline,
            )
        )
    return out


def page_rules(
    rules: Sequence[tuple[int, int, int, int]], scale_x: float, scale_y: float, height_pt: float
) -> list[Rule]:
    """Rules found in pixels as a page's rules in PDF points."""
    return [
        Rule(x0 * scale_x, height_pt - y1 * scale_y, x1 * scale_x, height_pt - y0 * scale_y) for x0, y0, x1, y1 in rules
    ]
