"""Document structure from born-digital PDFs drawn with a known structure (``tests/structure_docs.py``): the
elements, their levels, the tables' cells and the reading order must be exactly what was drawn."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pipeline.core.elements import Kind
from pipeline.core.models import PageText
from pipeline.core.spreadsheet import defuse
from pipeline.documents import layout
from pipeline.documents.layout import reading
from pipeline.documents.pdf import page_layouts, page_texts
from pipeline.profiles.registry import render_results
from pipeline.profiles.structured import document_elements
from tests import structure_docs


def pages_of(path: Path) -> list[PageText]:
    import pypdfium2 as pdfium

    count = len(pdfium.PdfDocument(str(path)))
    layouts = dict(page_layouts(path, 1, count))
    return [PageText(n, layer.text, "text-layer", 0, layouts[n]) for n, layer in page_texts(path, 1, count)]


def outputs(path: Path) -> dict[str, str]:
    return render_results(pages_of(path), "markdown", title=path.name, document={"filename": path.name})


def test_headings_nest_by_size_under_the_title_and_lists_keep_their_depth(tmp_path: Path) -> None:
    elements = document_elements(pages_of(structure_docs.headings_and_lists(tmp_path / "report.pdf")))
    shaped = [(e.kind, e.level if e.kind in (Kind.TITLE, Kind.HEADING) else e.depth, e.text) for e in elements]
    body = [s for s in shaped if s[0] is not Kind.FURNITURE]
    assert body[:3] == [
        (Kind.PARAGRAPH, 0, "ACME Holdings - Annual Report"),  # one page only: a running header needs two
        (Kind.TITLE, 1, "Structure Test Report"),
        (Kind.HEADING, 2, "1 Introduction"),
    ]
    assert (Kind.HEADING, 3, "1.1 Scope") in body and (Kind.HEADING, 2, "2 Results") in body
    assert [(d, t) for k, d, t in body if k is Kind.LIST_ITEM] == [
        (0, "- First point of the list"),
        (0, "- Second point of the list"),
        (1, "- A nested point"),
    ]
    assert [e.text for e in elements if e.kind is Kind.FURNITURE] == ["1"], "the page number is furniture"


def test_a_ruled_table_keeps_its_cells_header_and_exact_numbers(tmp_path: Path) -> None:
    results = outputs(structure_docs.headings_and_lists(tmp_path / "report.pdf"))
    tables = json.loads(results["tables"])["tables"]
    assert len(tables) == 1
    assert tables[0]["rows"] == structure_docs.TABLE
    assert tables[0]["header_rows"] == 1 and tables[0]["pages"] == [1]
    assert "| Region | Revenue (EUR) | Change |\n|---|---|---|\n| North | 1,234.50 | +4.2% |" in results["markdown"]
    rows = list(csv.reader(io.StringIO(results["csv"])))
    # a cell that would start a spreadsheet formula ("+4.2%") is defused, as in every CSV Paperline writes
    assert rows[0][:1] == ["table"] and rows[1:] == [["1", *map(defuse, row)] for row in structure_docs.TABLE]


def test_without_the_table_finder_the_table_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table above comes from the table finder, not from a lucky reading of the text."""
    monkeypatch.setattr(reading, "find_tables", lambda rules, words, page: [])
    results = outputs(structure_docs.headings_and_lists(tmp_path / "report.pdf"))
    assert "tables" not in results and "csv" not in results, "no table found: no table files"
    assert "| North |" not in results["markdown"]


def test_two_columns_are_read_one_after_the_other_under_a_title_across_both(tmp_path: Path) -> None:
    results = outputs(structure_docs.two_columns(tmp_path / "columns.pdf"))
    markdown = results["markdown"]
    assert "# Two Column Layout" in markdown
    left, right = structure_docs.column_text("Left"), structure_docs.column_text("Right")
    assert f"\n\n{left}\n\n{right}\n" in markdown, "each column whole, left first"


def test_a_table_across_a_page_break_is_one_table_and_page_furniture_stays_out(tmp_path: Path) -> None:
    path = structure_docs.booktabs_across_pages(tmp_path / "parts.pdf")
    results = outputs(path)
    tables = json.loads(results["tables"])["tables"]
    assert len(tables) == 1, "the continuation on page 2 joins the table of page 1"
    table = tables[0]
    assert table["pages"] == [1, 2] and table["header_rows"] == 1
    assert table["rows"][0] == ["Item", "Quantity", "Unit price"]
    assert table["rows"][1:] == [[f"Part {n:02d}", str(n * 3), f"{n * 1.25:.2f}"] for n in range(1, 41)]
    assert "ACME Holdings" not in results["markdown"], "the running header is furniture"
    assert "ACME Holdings" in results["text"], "the text format stays the pages' text as read"
    tree = json.loads(results["json"])["elements"]
    furniture = [e for e in tree if e.get("furniture")]
    assert {e["text"] for e in furniture} == {"ACME Holdings - Annual Report", "1", "2"}
    assert all(len(e["bbox"]) == 4 for e in tree)


def test_pages_without_a_layout_come_in_as_paragraphs() -> None:
    """A scan read by OCR carries no fonts: its text is given as paragraphs, beside pages that have structure."""
    pages = [PageText(1, "First scanned paragraph.\n\nSecond scanned paragraph.", "ocr", 0, None)]
    elements = document_elements(pages)
    assert [(e.kind, e.text) for e in elements] == [
        (Kind.PARAGRAPH, "First scanned paragraph."),
        (Kind.PARAGRAPH, "Second scanned paragraph."),
    ]


def test_the_layout_package_names_its_rooms() -> None:
    assert layout.__doc__ and "reading" in layout.__doc__


def test_a_scanned_page_in_a_markdown_job_is_named_in_a_note(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A page with no text layer is read by OCR, which gives no layout: the job completes, and says so."""
    from pipeline.core.models import JobStatus
    from tests.docgen import make_text_image
    from tests.sync_runner import run_queued

    job = app.submit(make_text_image("Quarterly invoice total"), "scan.png", profile="markdown")
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert any("layout of pages 1 could not be read" in note for note in job.notes), job.notes
    assert "Quarterly invoice total" in app.result(job.id, "markdown"), "its text, as a paragraph"


def test_retrieval_passages_follow_the_headings_and_table_rows_carry_their_header(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pipeline.core.models import JobStatus
    from tests.sync_runner import run_queued

    job = app.submit(structure_docs.headings_and_lists(tmp_path / "report.pdf"), profile="retrieval")
    run_queued(app)
    assert app.get(job.id).status is JobStatus.COMPLETED
    passages = app.passages(job.id)
    north = next(p for p in passages if "North" in p["text"])
    assert "Region: North; Revenue (EUR): 1,234.50; Change: +4.2%" in north["text"], "the row names its columns"
    assert north["metadata"]["headings"][-1] == "2 Results", "the heading path comes from the real headings"
    scope = next(p for p in passages if "1.1 Scope" in p["metadata"]["headings"])
    assert scope["metadata"]["headings"] == ["Structure Test Report", "1 Introduction", "1.1 Scope"]


def test_claudes_markdown_is_kept_and_read_into_the_same_tree_and_tables() -> None:
    """Every engine answers json, tables and csv alike: Claude's Markdown stays as written, its structure is read."""
    pages = [
        PageText(
            1, "# Annual figures\n\nRevenue rose.\n\n| Region | Revenue |\n|---|---|\n| North | 1,234.50 |", "claude"
        ),
        PageText(2, "- first point\n  - nested point\n\n| Region | Revenue |\n|---|---|\n| South | 987.00 |", "claude"),
    ]
    results = render_results(pages, "markdown", title="r.pdf", document={})
    assert results["markdown"].startswith("<!-- page 1 -->\n# Annual figures"), "kept as Claude wrote it"
    tree = json.loads(results["json"])["elements"]
    assert [(e["type"], e.get("level"), e.get("depth")) for e in tree] == [
        ("heading", 1, None),
        ("paragraph", None, None),
        ("table", None, None),
        ("list_item", None, 0),
        ("list_item", None, 1),
        ("table", None, None),
    ]
    tables = json.loads(results["tables"])["tables"]
    assert [t["rows"] for t in tables] == [
        [["Region", "Revenue"], ["North", "1,234.50"]],
        [["Region", "Revenue"], ["South", "987.00"]],
    ]
    assert all(t["header_rows"] == 1 for t in tables)


def test_a_cut_paragraph_joins_the_one_it_follows_not_an_equal_one_before() -> None:
    """Claude's pages have no boxes: two equal paragraphs on one page are told apart by position only."""
    pages = [
        PageText(1, "Same words\n\nMiddle.\n\nSame words", "claude"),
        PageText(2, "go on here.", "claude"),
    ]
    tree = json.loads(render_results(pages, "markdown", title="r.pdf", document={})["json"])["elements"]
    assert [e["text"] for e in tree] == ["Same words", "Middle.", "Same words go on here."]


def test_each_character_carries_its_own_text_objects_font_and_size(tmp_path: Path) -> None:
    # Fonts are read once per text object: a word set in another font on the same line must not inherit the one
    # before it, and spaces between them stay spaces.
    import pypdfium2 as pdfium
    from fpdf import FPDF

    from pipeline.documents.layout.lines import words_of
    from pipeline.documents.layout.page import read_page

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_xy(20, 20)
    for family, style, size, word in [
        ("Helvetica", "", 10, "plain "),
        ("Helvetica", "B", 10, "bold "),
        ("Courier", "", 10, "code "),
        ("Helvetica", "", 16, "large "),
        ("Helvetica", "B", 7, "small"),
    ]:
        pdf.set_font(family, style, size)
        pdf.cell(pdf.get_string_width(word), 10, word)
    path = tmp_path / "fonts.pdf"
    pdf.output(str(path))
    document = pdfium.PdfDocument(str(path))
    try:
        chars = read_page(document[0]).chars
    finally:
        document.close()
    drawn = [
        ("plain", 10, False, False),
        ("bold", 10, True, False),
        ("code", 10, False, True),
        ("large", 16, False, False),
        ("small", 7, True, False),
    ]
    assert [(w.text, round(w.size), w.bold, w.mono) for w in words_of(chars)] == drawn
    letters = [(c.text, round(c.size), c.bold, c.mono) for c in chars if c.text != " "]
    assert letters == [(letter, *style) for word, *style in drawn for letter in word]
