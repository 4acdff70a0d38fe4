"""Scanned pages (``tests/scan_docs.py``): a speckled, skewed, blurred scan of a ruled table gives the table's exact
cells; the image steps (skew, rules, speckle) on images drawn here; and without the rules found in the image no
table is read."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from pipeline.core.elements import Element, Kind
from pipeline.core.models import DocumentKind
from pipeline.core.settings import Settings
from pipeline.documents import ocr
from pipeline.documents.layout import scanned
from pipeline.engines.base import ChunkWork
from pipeline.engines.local import LocalExtractor
from tests import scan_docs

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed")


def structure_of(path: Path, kind: DocumentKind = DocumentKind.PDF) -> tuple[list[Element], dict[str, Any], list[str]]:
    work = ChunkWork("job", 0, kind, "markdown", path, 1, 1, 1, 1, structure=True)
    output = LocalExtractor(Settings.from_env()).extract(work, lambda done: None)
    (page,) = output.pages
    assert page.layout is not None
    return [Element.from_record(e) for e in page.layout["elements"]], page.layout, output.notes


@needs_tesseract
@pytest.mark.parametrize(
    ("skew", "noise", "blur"),
    [(0.0, 0.0, 0.0), (0.8, 0.01, 0.6), (-1.2, 0.0, 1.0)],
    ids=["clean", "speckled-skewed", "blurred-skewed"],
)
def test_a_scanned_ruled_table_gives_its_exact_cells_between_its_paragraphs(
    tmp_path: Path, skew: float, noise: float, blur: float
) -> None:
    path = scan_docs.scanned(scan_docs.table_page(), tmp_path / "scan.pdf", skew=skew, noise=noise, blur=blur)
    elements, layout, _ = structure_of(path)
    assert [(e.kind, e.text) for e in elements if e.kind is not Kind.TABLE] == [
        (Kind.HEADING, "Quarterly Inspections"),
        (Kind.PARAGRAPH, scan_docs.INTRO),
        (Kind.PARAGRAPH, scan_docs.OUTRO),
    ]
    assert [e.kind for e in elements][2] is Kind.TABLE, "the table between the paragraphs"
    assert elements[2].rows() == scan_docs.GRID
    assert elements[2].header_rows == 1, "the first row is set bold (its strokes are thicker)"
    assert layout["scanned"] is True and layout.get("skew", 0.0) == pytest.approx(skew, abs=0.15)
    # the grid was drawn 20 mm from the left and 52 mm from the top of an A4 page, 155 mm wide, 54 mm tall
    x0, y0, x1, y1 = elements[2].bbox
    pt = 72 / 25.4
    assert (x0, x1) == pytest.approx((20 * pt, 175 * pt), abs=4)
    assert (y1, y0) == pytest.approx((841.9 - 52 * pt, 841.9 - 106 * pt), abs=4)


@needs_tesseract
def test_a_scanned_table_without_rules_is_found_by_its_aligned_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The born-digital finder of tables aligned by whitespace runs on the scan's words too; without it the same
    scan gives no table."""
    path = scan_docs.scanned(scan_docs.table_page(ruled=False), tmp_path / "scan.pdf", skew=0.6, blur=0.5)
    elements, _, _ = structure_of(path)
    assert [e.rows() for e in elements if e.kind is Kind.TABLE] == [scan_docs.GRID]
    monkeypatch.setattr(ocr, "ALIGNED_ON_SCANS", False)
    elements, _, _ = structure_of(path)
    assert not any(e.kind is Kind.TABLE for e in elements)


@needs_tesseract
def test_without_the_rules_found_in_the_image_the_scanned_table_is_paragraphs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ocr, "find_rules", lambda image, dpi: [])
    monkeypatch.setattr(ocr, "ALIGNED_ON_SCANS", False)  # (a grid's words are aligned too)
    elements, _, _ = structure_of(scan_docs.scanned(scan_docs.table_page(), tmp_path / "scan.pdf"))
    assert not any(e.kind is Kind.TABLE for e in elements)


def lines_image(angle: float = 0.0, dots: int = 0) -> Image.Image:
    """A 150 dpi page: a 4 x 3 grid of rules and a line of letters under it, turned ``angle`` degrees, with
    ``dots`` single dark pixels strewn over it."""
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    for row in range(5):
        draw.line([(150, 300 + row * 60), (1050, 300 + row * 60)], fill=0, width=3)
    for col in range(4):
        draw.line([(150 + col * 300, 300), (150 + col * 300, 540)], fill=0, width=3)
    for n in range(40):
        draw.text((150 + n * 22, 650), "W", fill=0, font_size=28)
    if dots:
        pixels = image.load()
        assert pixels is not None
        for n in range(dots):
            pixels[(n * 7919) % 1240, (n * 104729) % 1754] = 0
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255) if angle else image


@pytest.mark.parametrize("angle", [0.0, 1.5, -2.3])
def test_the_skew_is_measured_and_the_rules_are_found_once_it_is_taken_out(angle: float) -> None:
    image = lines_image(angle)
    measured = scanned.skew_angle(image)
    assert measured == pytest.approx(angle, abs=0.1)
    rules = scanned.find_rules(scanned.deskewed(image, measured), 150)
    horizontal = sorted(r for r in rules if r[2] - r[0] > r[3] - r[1])
    vertical = sorted(r for r in rules if r[2] - r[0] < r[3] - r[1])
    assert len(horizontal) == 5 and len(vertical) == 4, rules  # the letters in a row are no rule
    assert all(abs((r[2] - r[0]) - 900) < 12 for r in horizontal) and all(
        abs((r[3] - r[1]) - 240) < 12 for r in vertical
    )


def test_a_speckled_scan_is_cleaned_and_a_clean_one_left_as_it_is() -> None:
    clean = lines_image()
    assert scanned.despeckled(clean) is clean
    speckled = lines_image(dots=3000)
    cleaned = scanned.despeckled(speckled)
    assert cleaned is not speckled
    assert int(scanned.dark_mask(cleaned).sum()) < int(scanned.dark_mask(speckled).sum()) - 2500


STAMP = "RECEIVED 14 MAR 2024"


@needs_tesseract
def test_a_scan_under_a_stamps_small_text_layer_is_read_by_ocr_and_the_notes_say_so(tmp_path: Path) -> None:
    """The page's text layer holds only the stamp; its image holds the page: OCR's text and table are kept, the
    stamp with them (it is drawn on the page), and a note names the page."""
    image = scan_docs.roughened(scan_docs.render(scan_docs.table_page(), 200), skew=0.5)
    path = scan_docs.image_pdf(image, tmp_path / "stamped.pdf", 210, 297, stamp=STAMP)
    elements, layout, notes = structure_of(path)
    assert layout["scanned"] is True
    assert [e.rows() for e in elements if e.kind is Kind.TABLE] == [scan_docs.GRID]
    assert any(e.text == scan_docs.OUTRO for e in elements)
    assert any("Pages 1 are images with more text than their small text layer" in note for note in notes), notes


@needs_tesseract
def test_a_born_digital_page_with_a_picture_keeps_its_text_layer(tmp_path: Path) -> None:
    """A few words of text layer over a picture with no more text in it: the text layer stands, no note."""
    image = Image.new("L", (1654, 2339), 255)
    ImageDraw.Draw(image).ellipse((200, 300, 1400, 1500), fill=90)
    path = scan_docs.image_pdf(image, tmp_path / "picture.pdf", 210, 297, stamp=STAMP)
    elements, layout, notes = structure_of(path)
    assert [e.text for e in elements] == [STAMP] and not layout.get("scanned")
    assert not any("small text layer" in note for note in notes), notes


@needs_tesseract
def test_without_reading_under_a_small_text_layer_the_stamped_scan_is_only_its_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.engines import local

    monkeypatch.setattr(local, "image_cover", lambda path, number: 0.0)
    image = scan_docs.render(scan_docs.table_page(), 200)
    elements, _, notes = structure_of(scan_docs.image_pdf(image, tmp_path / "stamped.pdf", 210, 297, stamp=STAMP))
    assert [e.text for e in elements] == [STAMP] and not notes


@needs_tesseract
@pytest.mark.parametrize("structure", [False, True], ids=["text", "structure"])
def test_a_handwritten_letter_tesseract_is_unsure_of_is_read_again_by_rapidocr(tmp_path: Path, structure: bool) -> None:
    """On a face that imitates handwriting Tesseract's words average below the confidence floor: with RapidOCR
    (better_ocr auto) the letter reads nearly exactly, and the notes say which engine read it; with it off, the
    text is Tesseract's, worse, and the notes say Tesseract was unsure."""
    from pipeline.documents import rapid

    font = scan_docs.HANDWRITING_FONTS["fonts-breip"]
    if not rapid.available() or not Path(font).exists():
        pytest.skip("needs the ocr extra and Debian's fonts-breip")
    path = tmp_path / "letter.png"
    scan_docs.roughened(scan_docs.render(scan_docs.letter_page(font), 200), skew=0.7, blur=0.7).save(path)
    truth = "\n".join(scan_docs.LETTER)
    read: dict[str, tuple[str, list[str]]] = {}
    for better in ("auto", "off"):
        work = ChunkWork("job", 0, DocumentKind.IMAGE, "markdown", path, 1, 1, 1, 1, structure=structure)
        output = LocalExtractor(Settings.from_env({"PAPERLINE_BETTER_OCR": better})).extract(work, lambda done: None)
        read[better] = (output.pages[0].text, output.notes)
    assert scan_docs.cer(read["auto"][0], truth) < 0.03 < scan_docs.cer(read["off"][0], truth)
    assert any("were read by RapidOCR" in note for note in read["auto"][1]), read["auto"][1]
    assert any("Tesseract was unsure of pages 1" in note for note in read["off"][1]), read["off"][1]


def test_a_blank_page_is_not_read_a_second_time_and_a_page_with_one_word_is_not_blank(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tesseract's confidence on a blank page is nil (no words), which alone would send it to RapidOCR; the page's
    ink says there is nothing to read. One short word is ink enough to be read again."""
    monkeypatch.setattr(ocr.rapid, "available", lambda: True)
    blank = Image.new("L", (1700, 2200), 255)
    assert ocr.is_blank(blank) and not ocr._wants_better("auto", 0.0, 88.0, blank)
    word = blank.copy()
    ImageDraw.Draw(word).text((200, 200), "Yes", fill=0, font_size=40)
    assert not ocr.is_blank(word) and ocr._wants_better("auto", 0.0, 88.0, word)
    assert not ocr._wants_better("auto", 95.0, 88.0, word) and ocr._wants_better("always", 95.0, 88.0, word)
