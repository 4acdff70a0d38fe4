"""Reading order, headings, furniture and figures on pages printed by real engines with a known structure
(``tests/page_docs.py``: journal articles printed by Chromium, reports drawn by fpdf2): what the layout reader makes
of each must be what was drawn, and each capability is shown to be what makes it so (switched off, the same check
fails)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout import figures, furniture, order, reading
from pipeline.documents.layout.document import document_elements
from pipeline.profiles.structured import to_markdown, tree
from tests import page_docs
from tests.unit.test_structure import pages_of

TEXT = (Kind.TITLE, Kind.HEADING, Kind.PARAGRAPH, Kind.CAPTION, Kind.FOOTNOTE, Kind.LIST_ITEM)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with page_docs.chromium() as browser:
        yield browser


def read(drawn: page_docs.Drawn) -> list[Element]:
    return document_elements(pages_of(drawn.path))


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w%]+", " ", text.casefold()).split())


def text_read(elements: list[Element]) -> str:
    """The document's text as read, in order: everything but furniture, figures and tables."""
    return norm(" ".join(e.text for e in elements if e.kind in TEXT))


def text_drawn(drawn: page_docs.Drawn) -> str:
    kinds = ("title", "heading", "paragraph", "footnote", "caption")
    return norm(" ".join(b.text for b in drawn.blocks if b.kind in kinds))


def headings_of(elements: list[Element]) -> list[str]:
    return [e.text for e in elements if e.kind in (Kind.TITLE, Kind.HEADING)]


def headings_drawn(drawn: page_docs.Drawn) -> list[str]:
    return [b.text for b in drawn.blocks if b.kind in ("title", "heading")]


#: two columns, the abstract set in bold in the first, run-in bold openings, footnotes, nothing at the edges
BOLD_ABSTRACT = {"columns": 2, "abstract": "bold-column", "figure": "none", "statement": False, "footnotes": True}
BARE = {"header": "none", "footer": "none"}


@pytest.mark.parametrize("seed", [2, 7, 19])
def test_two_columns_with_a_bold_abstract_read_column_by_column_and_bold_openings_are_no_headings(
    browser: Any, tmp_path: Path, seed: int
) -> None:
    drawn = page_docs.journal(browser, tmp_path / "article.pdf", seed, **BOLD_ABSTRACT, **BARE)
    elements = read(drawn)
    assert text_read(elements) == text_drawn(drawn), "every block whole, in the order drawn, nothing interleaved"
    assert headings_of(elements) == headings_drawn(drawn), "no line of the bold abstract nor a run-in is a heading"
    abstract = next(
        b.text for b in drawn.blocks if b.kind == "paragraph" and b.text[:1].isupper() and "," not in b.text
    )
    assert any(e.kind is Kind.PARAGRAPH and e.text == abstract for e in elements), "the bold abstract is one paragraph"


@pytest.mark.parametrize("seed", [3, 11])
def test_three_columns_under_a_title_and_abstract_across_them_keep_their_order(
    browser: Any, tmp_path: Path, seed: int
) -> None:
    drawn = page_docs.journal(
        browser, tmp_path / "article.pdf", seed, columns=3, abstract="spanning", figure="none", statement=False, **BARE
    )
    elements = read(drawn)
    assert text_read(elements) == text_drawn(drawn)
    assert headings_of(elements) == headings_drawn(drawn)


def test_without_the_column_cut_two_columns_are_read_across(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order above comes from the XY-cut: switched off, the lines of the two columns interleave."""
    drawn = page_docs.journal(browser, tmp_path / "article.pdf", 2, **BOLD_ABSTRACT, **BARE)
    monkeypatch.setattr(order, "XY_CUT", False)
    assert text_read(read(drawn)) != text_drawn(drawn)


def test_a_statements_dated_head_and_unit_line_are_never_headings(browser: Any, tmp_path: Path) -> None:
    """ "Year Ended December 31," over three years and "(In millions)", in bold over a table's amounts."""
    drawn = page_docs.journal(browser, tmp_path / "statement.pdf", 23, statement=True, figure="none", **BARE)
    elements = read(drawn)
    assert drawn.not_headings
    made = [norm(h) for h in headings_of(elements)]
    for line in drawn.not_headings:
        assert not any(norm(part) in made for part in [line, *line.split()]), (line, made)
    assert headings_of(elements) == headings_drawn(drawn)


@pytest.mark.parametrize("line", ["2023 2022 2021", "$ 1,204", "(In millions)"])
def test_without_the_heading_cues_a_statements_bold_dates_and_unit_line_read_as_headings(
    line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the printed statement the table now takes these lines in (above), so the cue is shown on the lines
    themselves: one bold line at the text's size, outside any table."""
    assert not reading._looks_like_heading(line, 10.0, True, 10.0, 1)
    monkeypatch.setattr(reading, "HEADING_CUES", False)
    assert reading._looks_like_heading(line, 10.0, True, 10.0, 1)


ONE_PAGE = {"sections": 2, "columns": 2, "figure": "none", "statement": False, "footnotes": False}


@pytest.mark.parametrize(
    ("header", "footer"), [("banner", "downloaded"), ("running", "revision"), ("banner", "page-of")]
)
def test_on_a_one_page_article_the_banner_stamps_and_codes_at_its_edges_are_furniture(
    browser: Any, tmp_path: Path, header: str, footer: str
) -> None:
    drawn = page_docs.journal(browser, tmp_path / "one.pdf", 5, header=header, footer=footer, **ONE_PAGE)
    elements = read(drawn)
    assert {e.page for e in elements} == {1}, "one page: nothing repeats"
    expected = sorted(b.text.replace("Page # of #", "Page 1 of 1") for b in drawn.blocks if b.kind == "furniture")
    assert sorted(e.text for e in elements if e.kind is Kind.FURNITURE) == expected
    assert text_read(elements) == text_drawn(drawn), "the body loses nothing"
    markdown = to_markdown(elements)
    assert all(text not in markdown for text in expected)
    assert {e["text"] for e in tree(elements) if e.get("furniture")} == set(expected), "the JSON keeps them"


def test_without_furniture_by_form_a_one_page_articles_banner_stays_in_the_text(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = page_docs.journal(browser, tmp_path / "one.pdf", 5, header="banner", footer="downloaded", **ONE_PAGE)
    monkeypatch.setattr(furniture, "BY_FORM", False)
    assert not any(e.kind is Kind.FURNITURE for e in read(drawn))


@pytest.mark.parametrize("pages", [3, 5])
def test_running_heads_and_footers_alternating_between_left_and_right_pages_are_furniture(
    tmp_path: Path, pages: int
) -> None:
    drawn = page_docs.alternating_report(tmp_path / "report.pdf", 4, pages=pages)
    elements = read(drawn)
    expected = sorted((b.page, b.text) for b in drawn.blocks if b.kind == "furniture")
    assert sorted((e.page, e.text) for e in elements if e.kind is Kind.FURNITURE) == expected
    assert text_read(elements) == text_drawn(drawn)


@pytest.mark.parametrize(("seed", "spans"), [(1, False), (4, True), (8, False)])
def test_a_charts_axis_labels_are_one_figure_never_a_table_or_paragraphs(
    browser: Any, tmp_path: Path, seed: int, spans: bool
) -> None:
    drawn = page_docs.journal(
        browser, tmp_path / "chart.pdf", seed, figure="chart", figure_spans=spans, statement=False, **BARE
    )
    elements = read(drawn)
    assert not any(e.kind is Kind.TABLE for e in elements), "tick labels line up, but are no table"
    [figure] = [e for e in elements if e.kind is Kind.FIGURE]
    words = set(norm(figure.text).split())
    upright = drawn.labels[:-2] + drawn.labels[-1:]  # (the y axis's title is set turned: read in pieces)
    assert all(set(norm(label).split()) <= words for label in upright), (upright, figure.text)
    assert text_read(elements) == text_drawn(drawn), "the text around the figure whole and in order, its caption too"
    markdown = to_markdown(elements)
    ticks = [label for label in drawn.labels if label.isdigit()]
    assert not any(line.strip() in ticks for line in markdown.splitlines()), "no tick label stands as a line"
    assert [e["type"] for e in tree(elements)].count("figure") == 1
    assert json.dumps(tree(elements)).count(drawn.labels[0]) >= 1, "the JSON keeps the labels"


def test_a_diagrams_scattered_labels_are_one_figure_never_a_list(browser: Any, tmp_path: Path) -> None:
    drawn = page_docs.journal(browser, tmp_path / "diagram.pdf", 6, figure="diagram", statement=False, **BARE)
    elements = read(drawn)
    [figure] = [e for e in elements if e.kind is Kind.FIGURE]
    assert set(drawn.labels) <= set(figure.text.split())
    assert not any(e.kind is Kind.LIST_ITEM for e in elements)
    assert text_read(elements) == text_drawn(drawn)


def test_without_figures_a_charts_labels_leak_into_the_text(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = page_docs.journal(browser, tmp_path / "chart.pdf", 1, figure="chart", statement=False, **BARE)
    monkeypatch.setattr(figures, "FIGURES", False)
    elements = read(drawn)
    assert not any(e.kind is Kind.FIGURE for e in elements)
    assert text_read(elements) != text_drawn(drawn) or any(e.kind is Kind.TABLE for e in elements)


def test_a_label_read_apart_and_placed_inside_a_figure_joins_it() -> None:
    """Text read in a frame of its own and placed back among a page's elements (an axis title set up the side)
    goes into the figure it stands in; text beside the figure stays."""
    chart = Element(Kind.FIGURE, "0 10 20", 1, (100, 400, 300, 500))
    title = Element(Kind.PARAGRAPH, "Share of cases (%)", 1, (102, 420, 112, 490))
    prose = Element(Kind.PARAGRAPH, "The chart shows the share of cases by year.", 1, (320, 420, 500, 440))
    assert figures.absorb([chart, title, prose]) == [chart, prose]
    assert chart.text == "0 10 20\nShare of cases (%)"


WRAPPED = (
    "The queue takes at most a fixed number of documents from one analyst at a time, and the maximum is 100. "
    "Documents over it wait in the browser until the ones before them have been read, and none is refused for it."
)
ITEMS = ["1. Open the page and drop the files on the upload area.", "2. Pick the profile", "3. Watch the cards."]


def wrapped_number_pdf(path: Path) -> Path:
    """A justified paragraph whose sentence wraps onto "100." at a line's start, then a numbered list whose second
    item ends without a stop: found by trying widths until a line opens with the number."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    width = next(
        w
        for w in range(60, 190)
        if any(line.startswith("100.") for line in pdf.multi_cell(w, 5, WRAPPED, dry_run=True, output="LINES")[1:])
    )
    pdf.multi_cell(width, 5, WRAPPED, align="J", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for item in ITEMS:
        pdf.multi_cell(width, 5, item, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


@pytest.mark.parametrize("wrapped_numbers", [True, False], ids=["kept", "switched-off"])
def test_a_number_a_sentence_wrapped_onto_a_lines_start_stays_in_its_paragraph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrapped_numbers: bool
) -> None:
    monkeypatch.setattr(reading, "WRAPPED_NUMBERS", wrapped_numbers)
    elements = document_elements(pages_of(wrapped_number_pdf(tmp_path / "wrapped.pdf")))
    paragraphs = [e.text for e in elements if e.kind is Kind.PARAGRAPH]
    items = [e.text for e in elements if e.kind is Kind.LIST_ITEM]
    assert items[-3:] == ITEMS, "a numbered list is still a list, an item ending without a stop too"
    if wrapped_numbers:
        assert paragraphs == [WRAPPED] and items == ITEMS
    else:
        assert paragraphs != [WRAPPED] and any(i.startswith("100.") for i in items)


BODY = " ".join(["The ledger was reviewed by the audit team and every invoice was matched against its contract."] * 3)


def title_page_pdf(path: Path, *, cover: bool) -> Path:
    """A spec's first page: a centred title over centred lines set like headings (group, author, address), then its
    sections; or (``cover``) a cover page: a title flush left, a subtitle, its authors at the foot, sections after."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()

    def line(text: str, size: float, align: str = "L", bold: bool = True, gap: float = 4) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    if cover:
        line("Ledger Toolkit", 24)
        line("A library for reading ledgers, for version 2.1, 4 May 2026", 11, bold=False)
        pdf.set_y(250)
        line("Jane Roe Richard Miles", 14)
        line("Anna Berg (ledger@example.org)", 14, bold=False)
        pdf.add_page()
    else:
        line("Shared Ledger Specification", 24, "C")
        line("Example Group (https://example.org)", 17, "C")
        line("Jane Roe", 17, "C")
        line("jane at example.org", 12, "C")
    line("Overview", 17)
    line(BODY, 10, bold=False)
    line("1. Scope", 17)
    line("1.1. Terms", 14)
    line(BODY, 10, bold=False)
    pdf.output(str(path))
    return path


@pytest.mark.parametrize("cover", [False, True], ids=["centred-block", "cover-page"])
@pytest.mark.parametrize("title_block", [True, False], ids=["kept", "switched-off"])
def test_a_title_blocks_authors_and_addresses_are_text_and_the_sections_stay_headings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cover: bool, title_block: bool
) -> None:
    from pipeline.documents.layout import headings

    monkeypatch.setattr(headings, "TITLE_BLOCK", title_block)
    elements = document_elements(pages_of(title_page_pdf(tmp_path / "spec.pdf", cover=cover)))
    found = [(e.kind, e.text) for e in elements if e.kind in (Kind.TITLE, Kind.HEADING)]
    block = (
        ["Jane Roe Richard Miles", "Anna Berg (ledger@example.org)"]
        if cover
        else ["Example Group (https://example.org)", "Jane Roe", "jane at example.org"]
    )
    sections = [(Kind.HEADING, "Overview"), (Kind.HEADING, "1. Scope"), (Kind.HEADING, "1.1. Terms")]
    assert found[0][0] is Kind.TITLE and found[-3:] == sections, "the sections, unnumbered too, stay headings"
    paragraphs = [e.text for e in elements if e.kind is Kind.PARAGRAPH]
    if title_block:
        assert len(found) == 4 and all(text in paragraphs for text in block)
    else:
        assert {text for _kind, text in found} & set(block), "without the rule the block reads as headings"


def test_a_one_page_notice_of_a_few_lines_keeps_its_headings(tmp_path: Path) -> None:
    """A title and a few short lines on the only page is a notice, not a cover page: its headings stay."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    for text, size, bold in [("Open Day", 24, True), ("When", 16, True), ("Saturday at three.", 10, False),
                             ("Where", 16, True), ("The main hall.", 10, False)]:  # fmt: skip
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(tmp_path / "notice.pdf"))
    elements = document_elements(pages_of(tmp_path / "notice.pdf"))
    assert [(e.kind, e.text) for e in elements if e.kind in (Kind.TITLE, Kind.HEADING)] == [
        (Kind.TITLE, "Open Day"),
        (Kind.HEADING, "When"),
        (Kind.HEADING, "Where"),
    ]
