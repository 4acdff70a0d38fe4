"""Document structure from born-digital PDFs drawn with a known structure (``tests/structure_docs.py``): the
elements, their levels, the tables' cells and the reading order must be exactly what was drawn."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.elements import Element, Kind
from pipeline.core.models import PageText
from pipeline.core.spreadsheet import defuse
from pipeline.documents import layout
from pipeline.documents.layout import reading
from pipeline.documents.layout.document import document_elements
from pipeline.documents.pdf import page_layouts, page_texts
from pipeline.profiles.registry import render_results
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
    """The table above comes from the table finders, not from a lucky reading of the text."""
    monkeypatch.setattr(reading, "find_tables", lambda rules, words, page: [])
    monkeypatch.setattr(reading, "find_aligned_tables", lambda words, taken, page: [])
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
    """A page with no text layer is read by OCR, whose layout gives paragraphs (and the tables the rules drawn on it
    make): the job completes, and says so."""
    from pipeline.core.models import JobStatus
    from tests.docgen import make_text_image
    from tests.sync_runner import run_queued

    job = app.submit(make_text_image("Quarterly invoice total"), "scan.png", profile="markdown")
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert any("Pages 1 are scans" in note and "tables are read from OCR" in note for note in job.notes), job.notes
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


def test_a_one_column_page_with_indented_code_and_lists_keeps_its_paragraphs_and_code_blocks_whole(
    tmp_path: Path,
) -> None:
    """Indented code and lists leave a white band at the left that looks like a gutter; the full-width paragraph
    lines crossing it must still be one paragraph, and a code example with a blank line one code block."""
    elements = [e for e in document_elements(pages_of(structure_docs.manual_page(tmp_path / "manual.pdf")))]
    kinds = [(e.kind, e.text) for e in elements if e.kind is not Kind.FURNITURE]
    paragraph = structure_docs.MANUAL_PARAGRAPH
    assert kinds[:3] == [
        (Kind.HEADING, "2 Syntax"),
        (Kind.PARAGRAPH, paragraph),
        (Kind.CODE, "\n".join(structure_docs.MANUAL_CODE)),
    ]
    items = [(e.text, e.depth) for e in elements if e.kind is Kind.LIST_ITEM]
    names = ["INTEGER", "BOOLEAN", "OCTET STRING", "UTF8String", "SEQUENCE OF"]
    assert items == [(f"- {name};", 0) for name in names], "a list indented under the text is still at depth 0"
    assert kinds[-1] == (Kind.PARAGRAPH, paragraph)


def test_a_table_with_no_rules_is_found_by_its_aligned_columns(tmp_path: Path) -> None:
    results = outputs(structure_docs.borderless_table(tmp_path / "borderless.pdf"))
    tables = json.loads(results["tables"])["tables"]
    assert len(tables) == 1
    assert tables[0]["rows"] == structure_docs.BORDERLESS, "exact cells; a name over two lines is one cell"
    assert tables[0]["header_rows"] == 1
    elements = document_elements(pages_of(tmp_path / "borderless.pdf"))
    body = [(e.kind, e.text) for e in elements if e.kind is not Kind.FURNITURE]
    assert [k for k, _ in body[-3:]] == [Kind.PARAGRAPH, Kind.TABLE, Kind.PARAGRAPH], "read in place"
    assert body[-1][1] == "All figures are in thousands of units sold."


def test_contents_lists_footnotes_and_prose_columns_are_not_tables(tmp_path: Path) -> None:
    path = structure_docs.lists_and_contents(tmp_path / "contents.pdf")
    elements = document_elements(pages_of(path))
    assert [e for e in elements if e.kind is Kind.TABLE] == []
    texts = [e.text for e in elements]
    assert any(t.startswith("2.1 Sampling") for t in texts), "contents lines stay text"
    items = [e.text for e in elements if e.kind is Kind.LIST_ITEM]
    assert [f"{n}. {item}" for n, item in enumerate(structure_docs.NUMBERED, start=1)] == items
    markdown = outputs(path)["markdown"]
    left, right = structure_docs.column_text("Left"), structure_docs.column_text("Right")
    assert f"\n\n{left}\n\n{right}\n" in markdown, "two columns of prose are read one after the other"


def test_the_outline_confirms_headings_and_levels_the_fonts_cannot_tell(tmp_path: Path) -> None:
    """Bookmarks say what the fonts do not: a heading set like its parent sits under it, a line set as body text is
    a section; an entry with no text on its page makes nothing, and a paragraph the outline names on another page
    stays a paragraph."""
    pages = pages_of(structure_docs.outlined_report(tmp_path / "outlined.pdf"))
    assert pages[0].layout is not None and pages[0].layout["outline"] == [
        {"title": "Overview", "level": 1},
        {"title": "Background", "level": 2},
        {"title": "Key Findings", "level": 1},
        {"title": "Appendix Z", "level": 2},
    ]
    elements = document_elements(pages)
    shaped = [(e.kind, e.level, e.text) for e in elements if e.kind in (Kind.TITLE, Kind.HEADING)]
    assert shaped == [
        (Kind.TITLE, 1, "Outline Test Report"),  # not in the outline: the outline's levels start under it
        (Kind.HEADING, 2, "Overview"),
        (Kind.HEADING, 3, "Background"),  # 14 pt bold like "Overview": its level is the outline's
        (Kind.HEADING, 2, "Key Findings"),  # set as body text: the outline names it
        (Kind.HEADING, 2, "Details"),
        (Kind.HEADING, 2, "Methods"),  # not outlined: the level the outline gives its style
    ]
    assert (Kind.PARAGRAPH, "Details") in [(e.kind, e.text) for e in elements if e.page == 1]
    assert not any("Appendix Z" in e.text for e in elements)
    assert "### Background" in outputs(tmp_path / "outlined.pdf")["markdown"]


def test_an_outline_entry_names_a_numbered_heading_and_takes_its_level() -> None:
    def heading(text: str, size: float) -> dict[str, Any]:
        return Element(Kind.HEADING, text, 1, (0, 0, 0, 0), size=size, bold=True).to_record()

    layout = {
        "width": 600,
        "height": 800,
        "elements": [heading("1 Foo", 14), heading("Chapter 2. Bar", 14), heading("Baz", 14)],
        "outline": [{"title": "Foo", "level": 1}, {"title": "Bar", "level": 2}, {"title": "Quux", "level": 1}],
    }
    elements = document_elements([PageText(1, "", "text-layer", 0, layout)])
    assert [(e.text, e.level) for e in elements] == [("1 Foo", 1), ("Chapter 2. Bar", 2), ("Baz", 1)]
    without = document_elements([PageText(1, "", "text-layer", 0, {**layout, "outline": []})])
    assert [(e.text, e.level) for e in without] == [("1 Foo", 1), ("Chapter 2. Bar", 1), ("Baz", 1)], "as numbered"


def test_a_latex_outline_keeps_its_sections_as_headings_and_the_contents_page_as_text(corpus: Path) -> None:
    source = corpus / "pdflatex-outline.pdf"
    elements = document_elements(pages_of(source))
    headings = [(e.page, e.level, e.text) for e in elements if e.kind is Kind.HEADING]
    assert headings[0] == (1, 1, "Contents")
    sections = [
        (2, "Foo"),
        (2, "Bar"),
        (2, "Baz"),
        (2, "Foo"),
        (3, "Bar"),
        (3, "Baz"),
        (3, "Foo"),
        (4, "Bar"),
        (4, "Baz"),
    ]
    assert [h for h in headings if h[0] > 1] == [(page, 1, f"{n} {name}") for n, (page, name) in enumerate(sections, 1)]
    assert all(e.kind is not Kind.HEADING for e in elements if e.page == 1 and e.text.endswith(("Foo", "Bar", "Baz")))


def test_a_scanned_page_gets_tesseracts_paragraphs_and_a_heading_set_larger(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A scan has no fonts: Tesseract's own layout gives its paragraphs (lines joined, a word hyphenated at a line's
    end made whole) and the line set clearly larger as a heading, with boxes in PDF points, and the job's notes say
    how it was read."""
    from pipeline.core.models import JobStatus
    from tests.sync_runner import run_queued

    if shutil.which("tesseract") is None:
        pytest.skip("Tesseract is not installed")
    job = app.submit(structure_docs.scanned_report(tmp_path / "scan.pdf"), "scan.pdf", profile="markdown")
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert any("Pages 1 are scans" in note and "tables are read from OCR" in note for note in job.notes), job.notes
    assert not any("could not be read" in note for note in job.notes), job.notes
    elements = json.loads(app.result(job.id, "json"))["elements"]
    assert [(e["type"], e.get("level")) for e in elements] == [("heading", 1), ("paragraph", None), ("paragraph", None)]
    heading, first, second = elements
    assert heading["text"] == "Annual Summary"
    assert first["text"] == " ".join(structure_docs.SCANNED_LINES).replace("con- tract", "contract")
    assert second["text"].startswith("Second paragraph. The quarterly ledger")
    x0, y0, x1, y1 = heading["bbox"]  # drawn 20 mm from the left, 25 mm from the top of an A4 page (841.9 pt)
    assert 50 < x0 < 62 and 150 < x1 < 250 and 750 < y1 < 780 and y0 < y1 and first["bbox"][3] < y0
    assert app.result(job.id, "markdown").startswith("<!-- page 1 -->\n\n# Annual Summary\n\nThe quarterly ledger")


def test_a_grid_with_no_verticals_at_its_sides_keeps_its_first_and_last_columns(tmp_path: Path) -> None:
    """Reports often rule a table's rows and part its columns but draw no vertical at its outer sides: the first
    and last columns end where the horizontal rules do."""
    results = outputs(structure_docs.open_sided_grid(tmp_path / "open.pdf"))
    tables = json.loads(results["tables"])["tables"]
    assert len(tables) == 1
    assert tables[0]["rows"] == structure_docs.OPEN_GRID
    assert tables[0]["header_rows"] == 1
    assert "Figures are for the calendar year." in results["markdown"].split("| Total |")[1], "read in place"


def test_body_rows_with_no_rules_between_them_are_rows_of_their_own(tmp_path: Path) -> None:
    """A grid ruled under its header and above its total, its body rows spaced apart only: each text line all the
    columns share is a row; a name wrapped over two lines stays one cell, a row with empty cells stays a row."""
    results = outputs(structure_docs.unruled_body_grid(tmp_path / "unruled.pdf"))
    tables = json.loads(results["tables"])["tables"]
    assert len(tables) == 1
    assert tables[0]["rows"] == structure_docs.UNRULED_BODY
    assert tables[0]["header_rows"] == 1, "the bold header, though the plain total row repeats its word 'Total'"


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


@pytest.mark.parametrize(
    ("font", "bold"),
    [
        ("ABCDEF+SFBX1000", True),  # TeX's bold extended (cm-super), with a subset prefix
        ("CMBX12", True),
        ("CMB10", True),
        ("NimbusRomNo9L-Medi", True),  # TeX's Times bold
        ("Arial-BoldMT", True),
        ("SourceSansPro-Semibold", True),
        ("ABCDEF+SFRM1000", False),
        ("CMR10", False),
        ("CMBY10", False),
        ("NimbusRomNo9L-Regu", False),
        ("Helvetica", False),
        ("Courier", False),
    ],
)
def test_a_bold_face_is_known_by_its_name_where_its_weight_is_not_given(font: str, bold: bool) -> None:
    """PDFium reports weight 250 for TeX's Type 1 fonts, bold or not: the name tells (a "5.1 Methods" heading set
    in SFBX1000 at the text's size is a heading only if its boldness is seen)."""
    from pipeline.documents.layout.page import is_bold

    assert is_bold(font.lower(), 250) is bold


@pytest.mark.parametrize(
    ("font", "weight", "bold"),
    [
        ("BAAAAA+Caladea-Regular", 704, False),  # Chromium's PDF: PDFium takes a weight from the stem width
        ("AAAAAA+Caladea-Bold", 952, True),
        ("Times-Roman", 700, False),
        ("LiberationSerif-Italic", 650, False),
        ("CAAAAA+Caladea-BoldItalic", 1204, True),
        ("BAAAAA+FreeSerif", 625, False),
        ("GillSansMyriad-Condensed", 716, False),
        ("F1", 700, True),  # a name that says nothing: the weight tells
        ("F1", 400, False),
    ],
)
def test_a_face_its_name_calls_regular_is_not_bold_whatever_its_weight(font: str, weight: int, bold: bool) -> None:
    from pipeline.documents.layout.page import is_bold

    assert is_bold(font.lower(), weight) is bold


def test_a_table_of_contents_gives_one_paragraph_per_entry_and_no_heading(tmp_path: Path) -> None:
    """Each entry, its number, title and page (set apart by dot leaders or a gap, the number in a column of its
    own) is one line of text: never a heading, never cut in pieces, never joined to the next entry."""
    elements = document_elements(pages_of(structure_docs.lists_and_contents(tmp_path / "contents.pdf")))
    page_one = [e for e in elements if e.page == 1 and e.kind is not Kind.FURNITURE]
    second = next(i for i, e in enumerate(page_one) if e.text == "Contents again")
    entries = page_one[second + 1 : second + 1 + len(structure_docs.CONTENTS)]
    expected = [f"{number} {title} {page}" for number, title, page in structure_docs.CONTENTS]
    assert [(e.kind, e.text) for e in entries] == [(Kind.PARAGRAPH, text) for text in expected]
    leaders = page_one[1 : 1 + len(structure_docs.CONTENTS)]
    assert all(e.kind is Kind.PARAGRAPH for e in leaders), leaders
    assert [e.text.split(" ", 1)[0] for e in leaders] == [number for number, _title, _page in structure_docs.CONTENTS]
    assert [e.text.rsplit(" ", 1)[-1] for e in leaders] == [page for _number, _title, page in structure_docs.CONTENTS]


def test_a_bold_heading_run_into_its_paragraph_is_a_heading_and_a_bold_word_of_emphasis_is_not(tmp_path: Path) -> None:
    elements = document_elements(pages_of(structure_docs.run_in_headings(tmp_path / "run-in.pdf")))
    got = [(e.kind, e.text[:30]) for e in elements]
    (lead1, rest1), (lead2, rest2), (word, rest3) = structure_docs.RUN_IN
    assert got == [
        (Kind.HEADING, lead1),
        (Kind.PARAGRAPH, rest1[:30]),
        (Kind.HEADING, lead2),
        (Kind.PARAGRAPH, rest2[:30]),
        (Kind.PARAGRAPH, f"{word} {rest3}"[:30]),
    ]
