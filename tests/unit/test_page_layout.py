"""The document view's reading of a JSON result: boxes placed on the page in percent, every header row kept, numbers
told apart, a passage's elements found, long documents shown by windows of pages, and document text kept as text."""

from __future__ import annotations

import json

import pytest

from dashboard.page_layout import boxes, document_html, marked_elements, read_layout, window
from tests.docgen import HOSTILE
from tests.unit.test_safe_html import live_markup

A4 = (595.0, 842.0)


def result(*elements: dict, pages: int = 1, methods: dict[int, str] | None = None) -> str:
    methods = methods or {}
    return json.dumps(
        {
            "pages": [{"page": n, "method": methods.get(n, "text-layer"), "text": ""} for n in range(1, pages + 1)],
            "elements": list(elements),
        }
    )


def element(kind: str, text: str, page: int = 1, bbox: tuple = (0, 0, 0, 0), **extra: object) -> dict:
    return {"type": kind, "text": text, "page": page, "bbox": list(bbox), **extra}


TABLE = element(
    "table",
    "",
    bbox=(59.5, 100, 535.5, 200),
    header_rows=2,
    cells=[
        {"row": 0, "col": 0, "text": "Region", "row_span": 2, "header": True},
        {"row": 0, "col": 1, "text": "Revenue", "col_span": 2, "header": True},
        {"row": 1, "col": 1, "text": "2025", "header": True},
        {"row": 1, "col": 2, "text": "2026", "header": True},
        {"row": 2, "col": 0, "text": "North"},
        {"row": 2, "col": 1, "text": "1,234.50"},
        {"row": 2, "col": 2, "text": "(12)"},
    ],
)


def test_boxes_are_placed_in_percent_of_the_page_from_its_top_left() -> None:
    layout = read_layout(result(element("heading", "Results", bbox=(59.5, 742.0, 297.5, 758.8), level=1), TABLE))
    heading, table = boxes(layout.pages[0], *A4, floor=88)
    assert heading["left"] == pytest.approx(10.0) and heading["width"] == pytest.approx(40.0)
    assert heading["top"] == pytest.approx(100 * (842 - 758.8) / 842, abs=0.01), "y rises from the bottom in PDF"
    assert heading["height"] == pytest.approx(100 * 16.8 / 842, abs=0.01)
    assert table["kind"] == "table" and table["el"] == 2 and table["top"] == pytest.approx(100 * 642 / 842, abs=0.01)
    no_box = read_layout(result(element("paragraph", "Claude's Markdown has no boxes")))
    assert boxes(no_box.pages[0], *A4, floor=88) == []


def test_every_header_row_is_a_header_and_numbers_are_told_apart() -> None:
    [table] = read_layout(result(TABLE)).pages[0].blocks
    assert [[cell.text for cell in row] for row in table.head] == [["Region", "Revenue"], ["2025", "2026"]]
    assert (table.head[0][0].row_span, table.head[0][1].col_span) == (2, 2)
    assert [cell.number for cell in table.body[0]] == [False, True, True]
    html = document_html(read_layout(result(TABLE)).pages, floor=88, total_pages=1)
    assert html.count("</th>") == 4 and '<td class="pl-num">1,234.50</td>' in html and 'rowspan="2"' in html


def test_a_passage_marks_the_elements_it_covers_only() -> None:
    layout = read_layout(
        result(
            element("heading", "Warranty"),
            element("paragraph", "The warranty expires on 31 March 2027 unless it is renewed in writing."),
            element("paragraph", "Payment is due within thirty days of the invoice date."),
            element("list_item", "- Renewal"),
        )
    )
    passage = "## Warranty\n\nThe warranty expires on 31 March 2027 unless it is renewed"
    assert marked_elements(layout.pages[0], passage) == [1, 2], "the heading it starts with, and its paragraph"
    assert marked_elements(layout.pages[0], "") == []


def test_a_long_document_is_shown_by_a_window_of_pages_around_the_one_on_screen() -> None:
    long = [element("paragraph", f"page {n} " + "word " * 200, page=n) for n in range(1, 41)]
    layout = read_layout(result(*long, pages=40))
    shown = window(layout, 30, budget=5_000)
    numbers = [page.number for page in shown]
    assert 30 in numbers and len(numbers) < 40 and numbers == list(range(numbers[0], numbers[-1] + 1))
    assert window(layout, 1) == layout.pages, "all of it when it fits"
    html = document_html(shown, floor=88, total_pages=40)
    assert f"Showing pages {numbers[0]}-{numbers[-1]} of 40" in html


def test_ocr_pages_and_unsure_regions_are_marked() -> None:
    layout = read_layout(
        result(
            element("paragraph", "clear text", bbox=(10, 10, 100, 20), confidence=96.0),
            element("paragraph", "sm0dged text", bbox=(10, 30, 100, 40), confidence=61.0),
            methods={1: "ocr"},
        )
    )
    found = boxes(layout.pages[0], *A4, floor=88)
    assert [box["low"] for box in found] == [False, True]
    html = document_html(layout.pages, floor=88, total_pages=1)
    assert "read by OCR" in html and "OCR unsure in places" in html and html.count("pl-low") == 1
    assert "OCR confidence 61" in html


def test_document_text_stays_text_in_the_view() -> None:
    hostile = " ".join(HOSTILE)
    layout = read_layout(
        result(element("heading", hostile), element("paragraph", hostile), {**TABLE, "cells": [{"text": hostile}]})
    )
    html = document_html(layout.pages, floor=88, total_pages=1)
    assert live_markup(html) == []
    assert "&lt;img" in html
    no_elements = read_layout(json.dumps({"pages": [{"page": 1, "text": hostile}]}))
    assert live_markup(document_html(no_elements.pages, floor=88, total_pages=1, mark_page=1, mark=hostile)) == []
