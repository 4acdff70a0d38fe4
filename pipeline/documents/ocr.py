"""OCR with the Tesseract command-line program, for scanned pages and images: their text, and where a profile asks
for structure the layout Tesseract itself sees (its paragraphs and lines, with boxes and its estimate of each line's
text size), made into the same elements a born-digital page gives. For structure the scan is first made level (its
skew taken out) and the rules drawn on it are found and painted out before Tesseract reads it
(``pipeline.documents.layout.scanned``): the tables they make get the words Tesseract read in their cells.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from PIL import Image

from pipeline.core.elements import Element, Kind
from pipeline.core.errors import OcrUnavailable
from pipeline.core.settings import Settings
from pipeline.documents import rapid
from pipeline.documents.layout.scanned import (
    OcrWord,
    bold_words,
    deskewed,
    despeckled,
    erase_rules,
    find_rules,
    page_rules,
    page_words,
    skew_angle,
)

INSTALL_HINT = "Install it with 'apt-get install tesseract-ocr' (Debian/Ubuntu) or 'brew install tesseract' (macOS)."
# Tesseract gains nothing beyond this size and slows down sharply on huge scans.
MAX_OCR_SIDE = 5000
#: whether tables aligned by whitespace alone (no rules) are looked for among a scan's words too
ALIGNED_ON_SCANS = True
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
    words: tuple[OcrWord, ...] = ()


@dataclass(frozen=True)
class OcrPage:
    """What Tesseract read on one image: its text, and its paragraphs of lines in reading order."""

    text: str
    paragraphs: list[list[OcrLine]]
    #: the size in pixels of the image Tesseract read (a huge scan is read smaller)
    image_size: tuple[int, int]
    #: the rules found on the image, (left, top, right, bottom) in its pixels, and the skew taken out (degrees)
    rules: tuple[tuple[int, int, int, int], ...] = ()
    skew: float = 0.0
    #: the engine whose text and lines these are, and Tesseract's mean word confidence (0-100)
    engine: str = "tesseract"
    confidence: float = 100.0


@dataclass(frozen=True)
class OcrRead:
    """The text read in an image, by which engine, and Tesseract's mean word confidence (0-100)."""

    text: str
    engine: str = "tesseract"
    confidence: float = 100.0


#: ``better`` values: read again with RapidOCR never, where Tesseract is unsure, or always
BETTER_OCR = ("off", "auto", "always")


#: a page with fewer dark pixels than this share of its own (a dot or two) is blank: nothing for a second reader
BLANK_INK = 1 / 20_000


def _wants_better(better: str, confidence: float, floor: float, image: Image.Image) -> bool:
    """Whether RapidOCR reads the page again: asked for, installed, and not a blank page (where Tesseract's
    confidence is nil because there is nothing to read, and a second reader costs seconds for nothing)."""
    asked = better == "always" or (better == "auto" and confidence < floor)
    return asked and rapid.available() and not is_blank(image)


def is_blank(image: Image.Image) -> bool:
    """No ink on the page: almost no pixel darker than mid-grey (counted in C, from the grey histogram)."""
    dark = sum(image.convert("L").histogram()[:128])
    return dark < BLANK_INK * image.width * image.height


def ocr_image(
    image: Image.Image, *, language: str = "eng", timeout_s: float = 120.0, better: str = "off", floor: float = 88.0
) -> OcrRead:
    """The text Tesseract reads in ``image`` (a speckled scan cleaned first), or RapidOCR's where ``better`` asks for
    it (``"auto"``: where Tesseract's mean word confidence is below ``floor``) and it is installed."""
    image = despeckled(_prepared(image))
    with tempfile.TemporaryDirectory(prefix="paperline-ocr-") as folder:
        base = Path(folder) / "page"
        _run(image, [str(base), "txt", "tsv"], language, timeout_s)
        text = _clean(base.with_suffix(".txt").read_text("utf-8", "replace"))
        confidence = _tsv_confidence(base.with_suffix(".tsv").read_text("utf-8", "replace"))
    if not _wants_better(better, confidence, floor, image):
        return OcrRead(text, confidence=confidence)
    lines = rapid.read_lines(image)
    return OcrRead(
        "\n\n".join("\n".join(line[0] for line in par) for par in rapid.paragraphs(lines)), "rapidocr", confidence
    )


def _tsv_confidence(tsv: str) -> float:
    """The mean confidence of the words in Tesseract's TSV output (0 when it read none)."""
    confidences = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) >= 12 and cells[11].strip() and float(cells[10]) >= 0:
            confidences.append(float(cells[10]))
    return statistics.fmean(confidences) if confidences else 0.0


def ocr_page(
    image: Image.Image,
    *,
    language: str = "eng",
    timeout_s: float = 120.0,
    dpi: float | None = None,
    better: str = "off",
    floor: float = 88.0,
) -> OcrPage:
    """The text Tesseract reads in ``image`` and its layout, from one recognition (plain text and hOCR at once), on
    the image made level and with its rules painted out (their places kept for the tables). ``dpi``: the image's
    resolution, if known (rules are told from letters by their length in points). RapidOCR's text and lines instead
    where ``better`` asks for them (as for ``ocr_image``)."""
    image = despeckled(_prepared(image).convert("L"))  # (Tesseract reads grey levels: a third of the pixels)
    angle = skew_angle(image)
    image = deskewed(image, angle)
    dpi = dpi or _resolution(image)
    rules = find_rules(image, dpi)
    image = erase_rules(image, rules, margin=max(1, round(dpi / 100)))
    with tempfile.TemporaryDirectory(prefix="paperline-ocr-") as folder:
        base = Path(folder) / "page"
        _run(image, [str(base), "txt", "hocr"], language, timeout_s)
        text = _clean(base.with_suffix(".txt").read_text("utf-8", "replace"))
        hocr = base.with_suffix(".hocr").read_bytes()
    paragraphs = _hocr_paragraphs(hocr)
    if rules:  # a table's header row is told by its bold type
        paragraphs = _with_bold(paragraphs, image)
    confidences = [word.confidence for lines in paragraphs for line in lines for word in line.words]
    confidence = statistics.fmean(confidences) if confidences else 0.0
    skew = angle if abs(angle) >= 0.1 else 0.0
    if not _wants_better(better, confidence, floor, image):
        return OcrPage(text, paragraphs, image.size, tuple(rules), skew, confidence=confidence)
    read = [
        [OcrLine(line, box, 0.8 * (box[3] - box[1]), rapid.line_words(line, box, score)) for line, box, score in par]
        for par in rapid.paragraphs(rapid.read_lines(image))
    ]
    text = "\n\n".join("\n".join(line.text for line in par) for par in read)
    return OcrPage(text, read, image.size, tuple(rules), skew, "rapidocr", confidence)


def _with_bold(paragraphs: list[list[OcrLine]], image: Image.Image) -> list[list[OcrLine]]:
    bold = bold_words(image, [word for lines in paragraphs for line in lines for word in line.words])
    if not bold:
        return paragraphs
    return [
        [replace(line, words=tuple(replace(w, bold=True) if w in bold else w for w in line.words)) for line in lines]
        for lines in paragraphs
    ]


def _resolution(image: Image.Image) -> float:
    """An image's resolution: as its file says, or as if it were a page of A4's height (a photo or a scan saved
    without it)."""
    said = image.info.get("dpi")
    if isinstance(said, tuple) and said and float(said[0]) >= 100:
        return float(said[0])
    return max(72.0, max(image.size) / 11.69)


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
_BASELINE = re.compile(r"baseline ([-\d.]+) ([-\d.]+)")
_CONFIDENCE = re.compile(r"x_wconf (\d+)")
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
            box, size = _BBOX.search(title), _X_SIZE.search(title)
            if not box:
                continue
            left, top, right, bottom = (int(v) for v in box.groups())
            height = float(size.group(1)) if size else bottom - top
            words = _hocr_words(line, (left, bottom), _BASELINE.search(title), height)
            text = " ".join(w.text for w in words)
            if text:
                lines.append(OcrLine(text, (left, top, right, bottom), height, tuple(words)))
        if lines:
            paragraphs.append(lines)
    return paragraphs


def _hocr_words(
    line: ElementTree.Element, corner: tuple[int, int], baseline: re.Match[str] | None, size: float
) -> list[OcrWord]:
    """A line's words, each on the line's baseline (hOCR gives it as a slope and an offset from the line box's
    bottom left corner)."""
    slope, offset = (float(baseline.group(1)), float(baseline.group(2))) if baseline else (0.0, 0.0)
    words = []
    for node in line.iter():
        if node.get("class") != "ocrx_word":
            continue
        text = "".join(node.itertext()).strip()
        title = node.get("title", "")
        box = _BBOX.search(title)
        if not text or not box:
            continue
        left, top, right, bottom = (int(v) for v in box.groups())
        confidence = _CONFIDENCE.search(title)
        at = corner[1] + offset + slope * ((left + right) / 2 - corner[0])
        words.append(
            OcrWord(text, (left, top, right, bottom), at, size, float(confidence.group(1)) if confidence else 0)
        )
    return words


def scanned_layout(page: OcrPage, number: int, width_pt: float, height_pt: float) -> dict[str, Any]:
    """A scanned page's layout in the shape a born-digital page's has (``pipeline.documents.pdf.page_layouts``):
    the tables the rules found on the image make, with the words Tesseract read in their cells; Tesseract's
    paragraphs of the other words, lines joined (a word hyphenated at a line's end made whole), boxes in PDF points;
    a short paragraph set clearly larger than the body text is a heading. Tables are placed before the first
    paragraph below their top."""
    from pipeline.documents.layout.reading import join_lines

    scale_x = width_pt / max(page.image_size[0], 1)
    scale_y = height_pt / max(page.image_size[1], 1)
    tables, taken = _scanned_tables(page, number, scale_x, scale_y, height_pt)
    paragraphs = [kept for lines in page.paragraphs if (kept := [ln for ln in _untaken(lines, taken) if ln.text])]
    sizes = [line.size * scale_y for lines in paragraphs for line in lines]
    body = statistics.median(sizes) if sizes else 0.0
    elements = []
    for lines in paragraphs:
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
        confidences = [word.confidence for line in lines for word in line.words]
        # estimates from a scan: sizes rounded to 2 pt, so headings set alike rank alike
        elements.append(
            Element(
                Kind.HEADING if heading else Kind.PARAGRAPH,
                text,
                number,
                (round(left, 1), round(bottom, 1), round(right, 1), round(top, 1)),
                size=round(size / 2) * 2.0,
                confidence=round(statistics.fmean(confidences), 1) if confidences else None,
            )
        )
    for table in sorted(tables, key=lambda t: -t.bbox[3]):
        table.size = round(body / 2) * 2.0
        table.bbox = tuple(round(v, 1) for v in table.bbox)  # type: ignore[assignment]
        at = next((i for i, e in enumerate(elements) if e.kind is not Kind.TABLE and e.bbox[3] < table.bbox[3]), None)
        elements.insert(len(elements) if at is None else at, table)
    return {
        "width": round(width_pt, 1),
        "height": round(height_pt, 1),
        "elements": [element.to_record() for element in elements],
        "scanned": True,
    } | ({"skew": page.skew} if page.skew else {})


def _scanned_tables(
    page: OcrPage, number: int, scale_x: float, scale_y: float, height_pt: float
) -> tuple[list[Element], set[OcrWord]]:
    """The tables on a scan, by the born-digital finders: those the rules found on it make, then those aligned by
    whitespace alone among the other words; and the words they took."""
    from pipeline.documents.layout.aligned import find_aligned_tables
    from pipeline.documents.layout.tables import find_tables

    words = [word for lines in page.paragraphs for line in lines for word in line.words]
    placed = page_words(words, scale_x, scale_y, height_pt)
    found = find_tables(page_rules(page.rules, scale_x, scale_y, height_pt), placed, number) if page.rules else []
    taken_ids: set[int] = set().union(*(table.words for table in found)) if found else set()
    if ALIGNED_ON_SCANS:
        found += find_aligned_tables(placed, taken_ids, number)
    taken = {words[i] for table in found for i in table.words}
    return [table.element for table in found], taken


def _untaken(lines: list[OcrLine], taken: set[OcrWord]) -> list[OcrLine]:
    """A paragraph's lines without the words a table took (a line left with none is left out)."""
    if not taken:
        return lines
    out = []
    for line in lines:
        words = [w for w in line.words if w not in taken]
        if len(words) == len(line.words):
            out.append(line)
        elif words:
            box = (
                min(w.box[0] for w in words),
                min(w.box[1] for w in words),
                max(w.box[2] for w in words),
                max(w.box[3] for w in words),
            )
            out.append(OcrLine(" ".join(w.text for w in words), box, line.size, tuple(words)))
    return out
