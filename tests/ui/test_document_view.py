"""The Result tab's document view in a real browser: the page image beside the extracted document with the result's
boxes on it; a click on an element or a table cell lights up its region, a click on a region finds its element;
tables with borders, every header row, numbers to the right; an OCR'd page says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.structure_docs import headings_and_lists, scanned_report
from tests.ui.page_view import wait_for_page_image

pytestmark = pytest.mark.ui


def chosen_boxes(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".pl-box.pl-chosen").evaluate_all("(nodes) => nodes.map((n) => n.dataset.el)")


def test_the_page_shows_its_boxes_and_clicks_find_regions_and_elements(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path, artifacts: Path
) -> None:
    start_worker(workers=1)
    report = app.submit(headings_and_lists(tmp_path / "report.pdf"), profile="markdown")
    scan = app.submit(scanned_report(tmp_path / "scan.pdf"), profile="markdown")
    done = app.wait([report.id, scan.id], timeout_s=180)
    assert {job.status for job in done} == {JobStatus.COMPLETED}, [job.error for job in done]

    page.goto(f"{dashboard}?job={report.id}")
    wait_for_page_image(page, "data:image/webp")
    boxes = page.locator(".pl-box")
    assert boxes.count() >= 10, "a box per element: title, headings, paragraphs, list items, the table"
    assert page.locator(".pl-box-table").count() == 1
    figure = page.locator(".pl-page-figure").bounding_box()
    table_box = page.locator(".pl-box-table").bounding_box()
    assert figure and table_box and figure["x"] <= table_box["x"] and table_box["y"] > figure["y"]
    page.screenshot(path=str(artifacts / "page-view-with-boxes.png"), full_page=True)

    # A click on a table cell: the table's region on the page lights up (cells carry no boxes of their own), the
    # cell itself is marked in the document.
    cell = page.locator(".pl-table td").filter(has_text="1,234.50").first
    cell.click()
    table_el = page.locator(".pl-table").first.get_attribute("data-el")
    assert chosen_boxes(page) == [table_el]
    assert "pl-cell-chosen" in (cell.get_attribute("class") or "")
    page.screenshot(path=str(artifacts / "table-cell-clicked.png"), full_page=True)

    # A click on a heading lights up its region; a click on a region finds (and lights up) its element.
    heading = page.locator(".pl-doc h3").filter(has_text="2 Results").first
    heading.click()
    assert chosen_boxes(page) == [heading.get_attribute("data-el")]
    title_box = page.locator(".pl-box-title").first
    title_box.click()
    title_el = title_box.get_attribute("data-el")
    assert page.locator(f".pl-doc [data-el='{title_el}']").first.inner_text() == "Structure Test Report"
    assert "pl-chosen" in (page.locator(f".pl-doc [data-el='{title_el}']").first.get_attribute("class") or "")

    # Tables to read: borders, numbers to the right, the header row as a header that stays while scrolling.
    table = page.locator(".pl-table").first
    assert table.locator("thead th").count() == 3
    number = table.locator("td.pl-num").filter(has_text="12,000.75").first
    assert number.evaluate("(n) => getComputedStyle(n).textAlign") == "right"
    assert table.locator("thead th").first.evaluate("(n) => getComputedStyle(n).position") == "sticky"
    assert number.evaluate("(n) => getComputedStyle(n).borderTopStyle") == "solid"
    assert table.locator("td").filter(has_text="North").first.evaluate("(n) => getComputedStyle(n).textAlign") in (
        "left",
        "start",
    )
    # Page markers are markers, not paragraphs.
    assert page.locator(".pl-doc p").filter(has_text="Page 1").count() == 0
    assert page.locator(".pl-page-marker").first.inner_text().startswith("PAGE 1")

    # An OCR'd page says so above the page and in the document.
    page.goto(f"{dashboard}?job={scan.id}")
    wait_for_page_image(page)
    assert "read by OCR" in page.locator(".pl-page-status").inner_text()
    assert page.locator(".pl-badge-ocr").count() >= 1
    assert page.locator(".pl-box").count() >= 2, "the scan's heading and paragraphs have boxes"
    page.screenshot(path=str(artifacts / "ocr-page.png"), full_page=True)
