"""Document structure on the real sample documents beside the project (``../shared/corpus``), as issue 24 names
them: the two-column paper's title, abstract and table; the pdflatex report's headings when its outline is gone."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from pipeline.core.elements import Element, Kind
from pipeline.documents.layout.document import document_elements
from pipeline.profiles.structured import to_markdown
from tests import structure_docs
from tests.unit.test_structure import pages_of


def elements_of(path: Path) -> list[Element]:
    return document_elements(pages_of(path))


def without_outline(source: Path, target: Path) -> Path:
    """The PDF with its bookmarks taken out: its headings must come from the pages alone."""
    writer = pypdf.PdfWriter(clone_from=str(source))
    del writer._root_object["/Outlines"]
    data = io.BytesIO()
    writer.write(data)
    target.write_bytes(data.getvalue())
    assert not pypdf.PdfReader(str(target)).outline
    return target


def test_the_two_column_paper_gives_its_title_abstract_and_table_apart(corpus: Path) -> None:
    elements = elements_of(corpus / "multicolumn.pdf")
    content = [e for e in elements if e.kind is not Kind.FURNITURE]
    assert (content[0].kind, content[0].text) == (Kind.TITLE, "Two-Column Document with Lorem Ipsum")
    abstract = next(i for i, e in enumerate(content) if e.text == "Abstract")
    assert content[abstract].kind is Kind.HEADING
    assert content[abstract + 1].kind is Kind.PARAGRAPH
    assert content[abstract + 1].text == "This is a sample document with two columns filled with Lorem Ipsum text."
    [table] = [e for e in elements if e.kind is Kind.TABLE]
    rows = table.rows()
    assert rows[0][:2] == ["Country", "Population (millions)"] and rows[0][3:] == ["Capital", "Official Language"]
    assert rows[1] == ["Austria", "8.9", "83,879", "Vienna", "German"], "numbers keep their exact characters"
    assert [row[0] for row in rows[1:]] == ["Austria", "Belgium", "Czech Republic", "Denmark", "Finland"]
    assert table.header_rows == 1
    caption = content[content.index(table) - 1]
    assert (caption.kind, caption.text) == (Kind.CAPTION, "Table 1: EU Countries Information")
    # The page numbers (well above the page's bottom edge in LaTeX) are furniture, not text joined to a paragraph.
    numbers = [e for e in elements if e.kind is Kind.FURNITURE and e.text.strip().isdigit()]
    assert sorted(int(e.text) for e in numbers) == sorted({e.page for e in elements})
    assert not any(e.text.startswith(("1 lacus", "2 ", "3 ")) for e in content if e.kind is Kind.PARAGRAPH)


def test_the_pdflatex_report_without_its_outline_gets_its_section_headings(corpus: Path, tmp_path: Path) -> None:
    pdf = without_outline(corpus / "pdflatex-outline.pdf", tmp_path / "no-outline.pdf")
    elements = elements_of(pdf)
    headings = [(e.text, e.level, e.page) for e in elements if e.kind is Kind.HEADING]
    sections = [(text, level) for text, level, page in headings if page > 1]
    names = ["Foo", "Bar", "Baz"] * 3
    assert sections == [(f"{n} {name}", sections[0][1]) for n, name in enumerate(names, start=1)]
    assert headings[0][:2] == ("Contents", sections[0][1]), "the contents heading is a section heading too"
    for page in (2, 3, 4):  # every page's printed number is furniture, and nothing else is
        furniture = [e.text for e in elements if e.page == page and e.kind is Kind.FURNITURE]
        assert furniture == [str(page)], (page, furniture)
    markdown = to_markdown(elements)
    assert "\n\n# 1 Foo\n\n" in markdown and "<!-- page 2 -->" in markdown


def test_a_long_report_gets_its_numbered_headings_nested_and_no_page_numbers(tmp_path: Path) -> None:
    """Sections and subsections in the same bold body-size font: their numbers give the levels."""
    pdf = structure_docs.numbered_chapters(tmp_path / "long.pdf", chapters=4)
    elements = elements_of(pdf)
    pages = {e.page for e in elements}
    assert len(pages) >= 8
    headings = [(e.text, e.level) for e in elements if e.kind is Kind.HEADING]
    assert headings == [(text, level) for _number, level, text in structure_docs.numbered_headings(4)]
    content = " ".join(e.text for e in elements if e.kind is not Kind.FURNITURE)
    assert structure_docs.Report.running_header not in content
    furniture = [e.text for e in elements if e.kind is Kind.FURNITURE]
    assert sorted(int(t) for t in furniture if t.isdigit()) == sorted(pages), "each page number, and only as furniture"
