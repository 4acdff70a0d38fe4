"""PDFs with a known structure, drawn with fpdf2: what each one holds is written here, so a test compares what the
layout reader finds with what was drawn (headings and their levels, columns, lists, ruled and booktabs tables, a
table across a page break, running headers and page numbers)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

BODY = (
    "The quarterly ledger was reviewed by the audit team and every invoice was matched against its contract "
    "before the budget forecast for the next period was approved by the board."
)
TABLE = [
    ["Region", "Revenue (EUR)", "Change"],
    ["North", "1,234.50", "+4.2%"],
    ["South", "987.00", "-1.5%"],
    ["East", "12,000.75", "+0.3%"],
]


class Report(FPDF):
    """A report with a running header and a page number in the footer of every page."""

    running_header = "ACME Holdings - Annual Report"

    def header(self) -> None:
        self.set_font("Helvetica", size=8)
        self.set_xy(20, 10)
        self.cell(0, 5, self.running_header)
        self.set_xy(20, 25)

    def footer(self) -> None:
        self.set_font("Helvetica", size=8)
        self.set_xy(100, 285)
        self.cell(10, 5, str(self.page_no()))


def _report() -> Report:
    pdf = Report(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 25, 20)
    return pdf


def _heading(pdf: FPDF, text: str, size: float) -> None:
    pdf.set_font("Helvetica", "B", size)
    pdf.ln(4)
    pdf.multi_cell(170, size * 0.5, text)
    pdf.ln(2)


def _paragraph(pdf: FPDF, text: str = BODY) -> None:
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(170, 5.5, text)
    pdf.ln(3)


def _grid_table(pdf: FPDF, rows: list[list[str]], top: float) -> None:
    """Every cell boxed; the first row bold."""
    pdf.set_xy(20, top)
    for r, row in enumerate(rows):
        pdf.set_font("Helvetica", "B" if r == 0 else "", 10)
        for text in row:
            pdf.cell(50, 8, text, border=1)
        pdf.ln(8)
        pdf.set_x(20)


def headings_and_lists(path: Path) -> Path:
    """Title; "1 Introduction" (section); "1.1 Scope" (subsection); a bullet list with one nested item; "2 Results"."""
    pdf = _report()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.multi_cell(170, 10, "Structure Test Report")
    pdf.ln(4)
    _heading(pdf, "1 Introduction", 16)
    _paragraph(pdf)
    _heading(pdf, "1.1 Scope", 13)
    _paragraph(pdf)
    pdf.set_font("Helvetica", size=11)
    for indent, item in ((0, "First point of the list"), (0, "Second point of the list"), (8, "A nested point")):
        pdf.set_x(20 + indent)
        pdf.cell(6, 6, "-")
        pdf.cell(150, 6, item)
        pdf.ln(7)
    pdf.ln(3)
    _heading(pdf, "2 Results", 16)
    _paragraph(pdf, "The results are shown in the table below.")
    _grid_table(pdf, TABLE, pdf.get_y() + 2)
    return _save(pdf, path)


def outlined_report(path: Path) -> Path:
    """A report whose outline (bookmarks) says what its fonts do not: "Overview" and "Background" are set alike
    (14 pt bold) but the outline puts "Background" under "Overview"; "Key Findings" is set as body text but the
    outline names it a section; "Appendix Z" is in the outline with no text on its page. On page 1 a paragraph reads
    "Details", which the outline names on page 2 only; page 2 has "Details" (outlined) and "Methods" (14 pt bold, not
    outlined). The title is not in the outline."""
    pdf = _report()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.multi_cell(170, 10, "Outline Test Report")
    pdf.ln(4)
    for text, level in (("Overview", 0), ("Background", 1)):
        pdf.start_section(text, level)
        _heading(pdf, text, 14)
        _paragraph(pdf)
    pdf.start_section("Key Findings", 0)
    _paragraph(pdf, "Key Findings")
    _paragraph(pdf)
    pdf.start_section("Appendix Z", 1)
    _paragraph(pdf, "Details")
    _paragraph(pdf)
    pdf.add_page()
    pdf.start_section("Details", 0)
    _heading(pdf, "Details", 14)
    _paragraph(pdf)
    _heading(pdf, "Methods", 14)
    _paragraph(pdf)
    return _save(pdf, path)


def column_text(column: str, sentences: int = 10) -> str:
    """Sentences of varied words, each naming its column and number, so reading order can be checked."""
    words = BODY.rstrip(".").split()
    out = []
    for n in range(1, sentences + 1):
        start = (n * 5) % len(words)
        picked = (words[start:] + words[:start])[: 6 + n % 5]
        out.append(f"{column} sentence {n}: " + " ".join(picked) + ".")
    return " ".join(out)


def two_columns(path: Path) -> Path:
    """A title across the page, then two columns whose lines share baselines: left is read before right."""
    pdf = _report()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(170, 9, "Two Column Layout", align="C")
    pdf.set_font("Helvetica", size=10)
    top = pdf.get_y() + 6
    for column, x in (("Left", 20), ("Right", 110)):
        pdf.set_xy(x, top)
        pdf.multi_cell(80, 5, column_text(column))
    return _save(pdf, path)


def booktabs_across_pages(path: Path) -> Path:
    """A table ruled only above, below and under its header (booktabs), running from page 1 onto page 2, where its
    header repeats; then a paragraph."""
    pdf = _report()
    rows = [["Item", "Quantity", "Unit price"]] + [
        [f"Part {n:02d}", str(n * 3), f"{n * 1.25:.2f}"] for n in range(1, 41)
    ]
    pages = [rows[:1] + rows[1:26], rows[:1] + rows[26:]]
    for page_rows in pages:
        pdf.add_page()
        y = 40.0 if page_rows is pages[1] else 60.0
        if page_rows is pages[0]:
            pdf.set_xy(20, 30)
            _paragraph(pdf, "Parts delivered this year are listed below, with their quantities and unit prices.")
        pdf.set_line_width(0.5)
        pdf.line(20, y, 170, y)
        for r, row in enumerate(page_rows):
            pdf.set_font("Helvetica", "B" if r == 0 else "", 10)
            pdf.set_xy(20, y + 1 + r * 6)
            for text, width in zip(row, (60, 45, 45), strict=True):
                pdf.cell(width, 6, text)
            if r == 0:
                pdf.set_line_width(0.3)
                pdf.line(20, y + 7, 170, y + 7)
        bottom = y + 1 + len(page_rows) * 6 + 1
        pdf.set_line_width(0.5)
        pdf.line(20, bottom, 170, bottom)
    pdf.set_xy(20, pdf.get_y() + 16)
    _paragraph(pdf, "All parts were delivered on time.")
    return _save(pdf, path)


def _save(pdf: FPDF, path: Path) -> Path:
    pdf.output(str(path))
    return path


SCANNED_LINES = [
    "The quarterly ledger was reviewed by the audit team and every invoice was checked against its con-",
    "tract before the budget forecast for the next period was approved by the board of directors.",
]


def scanned_report(path: Path, dpi: int = 200) -> Path:
    """A scan: a page with a heading (18 pt bold) and two paragraphs (11 pt, the first with "con-" / "tract"
    hyphenated at a line's end), rendered to an image and saved as a PDF with no text layer."""
    import io

    import pypdfium2 as pdfium

    drawn = FPDF(format="A4")
    drawn.add_page()
    drawn.set_font("Helvetica", "B", 18)
    drawn.set_xy(20, 25)
    drawn.cell(170, 9, "Annual Summary")
    drawn.set_font("Helvetica", size=11)
    for n, line in enumerate(SCANNED_LINES):
        drawn.set_xy(20, 42 + n * 5.5)
        drawn.cell(170, 5.5, line)
    drawn.set_xy(20, 60)
    drawn.multi_cell(170, 5.5, "Second paragraph. " + BODY)
    document = pdfium.PdfDocument(bytes(drawn.output()))
    image = document[0].render(scale=dpi / 72).to_pil().convert("L")
    document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    scan = FPDF(format="A4")
    scan.add_page()
    scan.image(buffer, x=0, y=0, w=scan.w, h=scan.h)
    return _save(scan, path)
