"""Text set at a quarter turn reads upright (``tests/rotation_docs.py``): a page turned by its ``/Rotate`` or drawn
turned, a table set sideways on an upright page, header cells set turned in an upright grid. Each must give
exactly what the same content gives drawn upright: texts, order and cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout import page as page_module
from pipeline.documents.layout.page import Frame, PageDrawing
from pipeline.documents.pdf import page_layouts
from tests import rotation_docs
from tests.structure_docs import BODY, TABLE


def elements_of(path: Path) -> tuple[list[Element], dict[str, Any]]:
    (_, layout), *_ = page_layouts(path, 1, 1)
    assert layout is not None
    return [Element.from_record(e) for e in layout["elements"]], layout


def shaped(elements: list[Element]) -> list[tuple[str, str, list[list[str]]]]:
    return [(e.kind.value, e.text, e.rows() if e.kind is Kind.TABLE else []) for e in elements]


UPRIGHT = [
    ("heading", rotation_docs.HEADING, []),
    ("paragraph", BODY, []),
    ("table", "", TABLE),
    ("paragraph", rotation_docs.CLOSING, []),
]


def test_the_upright_page_gives_its_heading_paragraphs_and_table(tmp_path: Path) -> None:
    elements, layout = elements_of(rotation_docs.turned_page(tmp_path / "upright.pdf", 0, "shown"))
    assert shaped(elements) == UPRIGHT
    assert (layout["width"], layout["height"]) == (595.3, 841.9)


@pytest.mark.parametrize("mode", rotation_docs.MODES)
@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_turned_page_reads_as_the_same_page_upright(tmp_path: Path, degrees: int, mode: str) -> None:
    """Drawn turned and set upright by /Rotate, shown turned by /Rotate alone, or drawn turned into a box of the
    other shape: the same elements, and boxes and a size in the frame the text stands upright in (a portrait page)."""
    upright, _ = elements_of(rotation_docs.turned_page(tmp_path / "upright.pdf", 0, "shown"))
    elements, layout = elements_of(rotation_docs.turned_page(tmp_path / f"{mode}{degrees}.pdf", degrees, mode))
    assert shaped(elements) == UPRIGHT
    assert (layout["width"], layout["height"]) == (595.3, 841.9)
    assert [v for e in elements for v in e.bbox] == pytest.approx([v for e in upright for v in e.bbox], abs=0.1)


@pytest.mark.parametrize(("degrees", "ruled"), [(90, True), (90, False), (270, True), (270, False)])
def test_a_sideways_table_is_read_in_its_own_frame_between_the_upright_paragraphs(
    tmp_path: Path, degrees: int, ruled: bool
) -> None:
    """Its words upright in its own frame, a grid's rules with them (or its columns by whitespace alone), placed
    where it sits; the identifier up the left margin is page furniture."""
    elements, layout = elements_of(rotation_docs.sideways_table(tmp_path / "side.pdf", ruled=ruled, degrees=degrees))
    assert shaped(elements) == [
        ("paragraph", rotation_docs.BEFORE, []),
        ("table", "", rotation_docs.SIDEWAYS),
        ("paragraph", rotation_docs.AFTER, []),
        ("furniture", rotation_docs.MARGIN_ID, []),
    ]
    assert (layout["width"], layout["height"]) == (595.3, 841.9)
    # the table was drawn 45 to 190 mm below the page's top, 60 to 100 mm (90) or 110 to 150 mm (270) from its left
    pt = 72 / 25.4
    left = 60 if degrees == 90 else 110
    x0, y0, x1, y1 = elements[1].bbox
    assert left * pt - 1 <= x0 < x1 <= (left + 40) * pt + 1 and (841.9 - 190 * pt) - 1 <= y0 < y1 <= 841.9 - 45 * pt + 1
    assert x1 - x0 > (35 if ruled else 25) * pt and y1 - y0 > (120 if ruled else 100) * pt


def test_header_cells_set_turned_in_an_upright_grid_are_its_header_row(tmp_path: Path) -> None:
    """The grid is the page's: turned text inside it is read as one word per line, in the cell it sits in."""
    elements, _ = elements_of(rotation_docs.turned_headers(tmp_path / "headers.pdf"))
    assert shaped(elements) == [("paragraph", BODY, []), ("table", "", rotation_docs.TURNED_HEADERS)]


def test_without_reading_turned_text_upright_it_comes_out_in_single_letters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tests above depend on the turning: with every character left where PDFium boxes it on the page (as
    before), the turned page's words fall apart and no table is found."""

    def unturned(upright: list[Any], turned: list[Any], rules: list[Any], box: Any, shown: int) -> PageDrawing:
        chars = upright + [c._replace(baseline=y) for _, c, _, y in turned if c is not None]
        return PageDrawing(box[2] - box[0], box[3] - box[1], chars, rules, Frame(0, box))

    monkeypatch.setattr(page_module, "_turned_drawing", unturned)
    elements, _ = elements_of(rotation_docs.turned_page(tmp_path / "drawn90.pdf", 90, "drawn"))
    assert shaped(elements) != UPRIGHT
    assert not any(rotation_docs.HEADING in e.text for e in elements)
    side, _ = elements_of(rotation_docs.sideways_table(tmp_path / "side.pdf"))
    assert not any(e.kind is Kind.TABLE and e.rows() == rotation_docs.SIDEWAYS for e in side)


@pytest.mark.parametrize("turn", range(4))
def test_a_frame_moves_points_there_and_back(turn: int) -> None:
    frame = Frame(turn, (10.0, 20.0, 210.0, 320.0))
    width, height = frame.size
    assert (width, height) == ((200.0, 300.0) if turn % 2 == 0 else (300.0, 200.0))
    for x, y in [(10.0, 20.0), (210.0, 320.0), (50.0, 100.0)]:
        fx, fy = frame.point(x, y)
        assert 0 <= fx <= width and 0 <= fy <= height
        assert frame.page_point(fx, fy) == pytest.approx((x, y))
    # text running in the turn's direction runs left to right in the frame
    direction = [(1, 0), (0, 1), (-1, 0), (0, -1)][turn]
    start, end = frame.point(100.0, 100.0), frame.point(100.0 + direction[0], 100.0 + direction[1])
    assert end[0] - start[0] == pytest.approx(1.0) and end[1] == pytest.approx(start[1])
