"""PDFs with a known structure, drawn with fpdf2: what each one holds is written here, so a test compares what the
layout reader finds with what was drawn (headings and their levels, columns, lists, ruled and booktabs tables, a
table across a page break, a table with no rules at all, grids open at their sides or with unruled body rows,
running headers and page numbers; and lists and tables of
contents whose text lines up in columns but which are not tables)."""

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


MANUAL_PARAGRAPH = (
    "The parser reads the definitions line by line and stops at the first error it finds, naming the line and "
    "the token it could not place, so that a definition can be corrected before the library is built again."
)
MANUAL_CODE = ["Example ::= SEQUENCE {", "  id INTEGER,", "", "  name UTF8String", "}"]


def manual_page(path: Path) -> Path:
    """A manual's page in one column: a heading, a paragraph across the full width, an indented code example in a
    fixed-width font with a blank line inside it, and an indented bullet list (so whole lines of the paragraph
    cross the white band that the indented part leaves at the left). No running header: one page cannot show one."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 25, 20)
    pdf.add_page()
    _heading(pdf, "2 Syntax", 16)
    _paragraph(pdf, MANUAL_PARAGRAPH)
    for line in MANUAL_CODE:
        pdf.set_font("Courier", size=10)
        pdf.set_x(40)
        pdf.cell(120, 5, line)
        pdf.ln(5)
    pdf.ln(3)
    _paragraph(pdf, "The types the parser knows:")
    for item in ("INTEGER", "BOOLEAN", "OCTET STRING", "UTF8String", "SEQUENCE OF"):
        pdf.set_font("Helvetica", size=11)
        pdf.set_x(30)
        pdf.cell(120, 5.5, f"- {item};")
        pdf.ln(5.5)
    pdf.ln(3)
    _paragraph(pdf, MANUAL_PARAGRAPH)
    return _save(pdf, path)


#: a table drawn with no rules, its columns only whitespace: header, stub and numbers (one stub over two lines)
BORDERLESS = [
    ["Country", "2019", "2020", "Change"],
    ["Austria", "1,204", "1,310", "+8.8%"],
    ["Belgium", "987", "1,002", "+1.5%"],
    ["United Kingdom", "12,450", "11,980", "-3.8%"],
    ["Czech Republic", "3,310", "3,402", "+2.8%"],
    ["Denmark", "640", "655", "+2.3%"],
]


def borderless_table(path: Path) -> Path:
    """A paragraph, a table aligned by whitespace alone (bold header, left-aligned names, right-aligned numbers;
    "United Kingdom" over two lines), then a paragraph."""
    pdf = _report()
    pdf.add_page()
    _paragraph(pdf, "Sales by country are given below, with the change from one year to the next.")
    top = pdf.get_y() + 4
    y = top
    for r, row in enumerate(BORDERLESS):
        pdf.set_font("Helvetica", "B" if r == 0 else "", 10)
        name = ["United", "Kingdom"] if row[0] == "United Kingdom" else [row[0]]
        for line, text in enumerate(name):
            pdf.set_xy(20, y + line * 4.5)
            pdf.cell(50, 6, text)
        for text, x in zip(row[1:], (75, 110, 145), strict=True):
            pdf.set_xy(x, y)
            pdf.cell(25, 6, text, align="R")
        y += 7 + 4.5 * (len(name) - 1)
    pdf.set_xy(20, y + 6)
    _paragraph(pdf, "All figures are in thousands of units sold.")
    return _save(pdf, path)


#: a dense statistical table: a state's name led by dots to six narrow columns of figures set close together
DENSE = [
    ["State", "2000", "2005", "2010", "2015", "2020", "2021"],
    ["Alabama", "25.1", "29.8", "31.9", "37.7", "29.7", "36.9"],
    ["Alaska", "1.6", "18.9", "37.8", "26.1", "36.1", "5.0"],
    ["Arizona", "19.0", "10.2", "22.0", "23.2", "1.0", "9.1"],
    ["Arkansas", "8.8", "0.3", "20.1", "17.0", "32.0", "6.0"],
    ["California", "24.9", "5.5", "0.6", "34.9", "8.8", "9.0"],
    ["Colorado", "39.3", "35.0", "11.9", "38.5", "21.8", "27.3"],
    ["Connecticut", "12.2", "40.0", "3.3", "14.4", "2.5", "18.1"],
]


def dense_statistics(path: Path) -> Path:
    """``DENSE`` in 7-point type with no rules: names led by dot leaders, figures right-aligned 7 mm apart (the
    gap between two figures is under a column gap, over a word space)."""
    pdf = _report()
    pdf.add_page()
    _paragraph(pdf, "Rates per thousand residents by state and year are given below.")
    y = pdf.get_y() + 4
    for r, row in enumerate(DENSE):
        pdf.set_font("Helvetica", "B" if r == 0 else "", 7)
        pdf.set_xy(20, y)
        pdf.cell(40, 3.6, row[0] if r == 0 else f"{row[0]} " + ". " * ((110 - 4 * len(row[0])) // 5))
        for n, text in enumerate(row[1:]):
            pdf.set_xy(60 + n * 7, y)
            pdf.cell(6.5, 3.6, text, align="R")
        y += 3.6
    pdf.set_xy(20, y + 6)
    _paragraph(pdf, "Source: a survey of every state's records.")
    return _save(pdf, path)


CONTENTS = [("1", "Introduction", "3"), ("2", "Methods", "7"), ("2.1", "Sampling", "9"), ("3", "Results", "15")]
NUMBERED = ["Collect the invoices", "Match each invoice to its contract", "Send the report to the board"]


def lists_and_contents(path: Path) -> Path:
    """What lines up in columns but is no table: a table of contents with dot leaders, one with right-aligned page
    numbers and section numbers set apart, a numbered list whose markers stand in a column of their own, and
    footnotes; then two columns of prose on page 2."""
    pdf = _report()
    pdf.add_page()
    _heading(pdf, "Contents", 16)
    pdf.set_font("Helvetica", size=11)
    for number, title, page in CONTENTS:
        pdf.set_x(20)
        pdf.cell(150, 6, f"{number} {title} " + "." * (60 - 2 * len(title)))
        pdf.cell(20, 6, page, align="R")
        pdf.ln(7)
    _heading(pdf, "Contents again", 16)
    pdf.set_font("Helvetica", size=11)
    for number, title, page in CONTENTS:
        pdf.set_x(20)
        pdf.cell(15, 6, number)
        pdf.cell(135, 6, title)
        pdf.cell(20, 6, page, align="R")
        pdf.ln(7)
    _heading(pdf, "Steps", 16)
    pdf.set_font("Helvetica", size=11)
    for n, item in enumerate(NUMBERED, start=1):
        pdf.set_x(20)
        pdf.cell(12, 6, f"{n}.")
        pdf.cell(150, 6, item)
        pdf.ln(7)
    pdf.set_xy(20, 240)
    pdf.set_font("Helvetica", size=8)
    for n, note in enumerate(("See the annual accounts.", "Figures as of 31 March.", "Rounded."), start=1):
        pdf.set_x(20)
        pdf.cell(8, 4, str(n))
        pdf.cell(150, 4, note)
        pdf.ln(4.5)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for column, x in (("Left", 20), ("Right", 110)):
        pdf.set_xy(x, 30)
        pdf.multi_cell(80, 5, column_text(column))
    return _save(pdf, path)


def numbered_chapters(path: Path, chapters: int = 4) -> Path:
    """A long report: chapters ("3 Methods", set large), sections ("3.2 ...") and subsections ("3.2.1 ...") set in
    the same bold body-size font, so only their numbers tell their levels; a running header and page numbers on
    every page, a new page for each chapter. Returns the path; the headings are ``numbered_headings(chapters)``."""
    pdf = _report()
    pdf.set_auto_page_break(True, margin=25)
    for _number, level, text in numbered_headings(chapters):
        if level == 1:
            pdf.add_page()
            _heading(pdf, text, 18)
        else:
            pdf.set_font("Helvetica", "B", 11)
            pdf.ln(3)
            pdf.multi_cell(170, 5.5, text)
            pdf.ln(1)
        _paragraph(pdf, f"{BODY} {BODY}" if level == 3 else BODY)
    return _save(pdf, path)


def numbered_headings(chapters: int = 4) -> list[tuple[str, int, str]]:
    """(number, level, heading) of ``numbered_chapters``, in order."""
    names = ["Scope", "Methods", "Findings", "Costs", "Outlook", "Risks"]
    out: list[tuple[str, int, str]] = []
    for c in range(1, chapters + 1):
        out.append((f"{c}", 1, f"{c} {names[(c - 1) % len(names)]}"))
        for s in range(1, 4):
            out.append((f"{c}.{s}", 2, f"{c}.{s} {names[(c + s) % len(names)]} of part {c}"))
            for u in range(1, 3):
                out.append((f"{c}.{s}.{u}", 3, f"{c}.{s}.{u} Detail {u} of {names[(c + s) % len(names)].lower()}"))
    return out


#: a grid ruled between its rows and its columns but not at its left and right sides, as reports often draw them
OPEN_GRID = [
    ["Programme", "Participants", "Females (%)", "Change"],
    ["Vocational training", "79,935", "55", "+2.1%"],
    ["Labour market courses", "51,955", "52", "-0.4%"],
    ["Open university", "57,986", "80", "+1.2%"],
    ["Total", "189,876", "61", "+1.0%"],
]


def open_sided_grid(path: Path) -> Path:
    """A paragraph, then a grid whose horizontal rules run the table's width and whose columns are parted by inner
    verticals only (none at the outer sides); bold header; then a paragraph."""
    pdf = _report()
    pdf.add_page()
    _paragraph(pdf, "Participants in adult education, by programme, are shown below.")
    top, left, widths, height = pdf.get_y() + 4, 20.0, (60.0, 35.0, 35.0, 30.0), 8.0
    right = left + sum(widths)
    for r, row in enumerate(OPEN_GRID):
        pdf.set_font("Helvetica", "B" if r == 0 else "", 10)
        x = left
        for text, width in zip(row, widths, strict=True):
            pdf.set_xy(x, top + r * height)
            pdf.cell(width, height, text, align="L" if x == left else "R")
            x += width
    bottom = top + len(OPEN_GRID) * height
    for r in range(len(OPEN_GRID) + 1):
        pdf.line(left, top + r * height, right, top + r * height)
    x = left
    for width in widths[:-1]:
        x += width
        pdf.line(x, top, x, bottom)
    pdf.set_xy(20, bottom + 6)
    _paragraph(pdf, "Figures are for the calendar year.")
    return _save(pdf, path)


#: a grid ruled under its header and above its total, its columns boxed, its body rows parted by whitespace only
#: (one name wraps over two lines in its narrow column; one row leaves two cells empty)
UNRULED_BODY = [
    ["Country", "Cohesion Fund", "Regional Fund", "Total"],
    ["Bulgaria", "2.3", "3.2", "5.5"],
    ["Czech Republic and its regions", "8.8", "13.4", "22.2"],
    ["Estonia", "1.1", "1.9", "3.0"],
    ["Technical assistance", "", "0.87", ""],
    ["Latvia", "1.5", "2.4", "3.9"],
    ["Total", "13.7", "21.77", "34.6"],
]


def unruled_body_grid(path: Path) -> Path:
    """A paragraph, then a boxed grid: rules at the top, under the bold header, above the total row and at the
    bottom, verticals between and around all columns, and no rules between the body rows; then a paragraph."""
    pdf = _report()
    pdf.add_page()
    _paragraph(pdf, "Allocations by country, in billions of euros, are listed below.")
    top, left, widths, line = pdf.get_y() + 4, 20.0, (40.0, 35.0, 35.0, 30.0), 5.0
    edges = [top]
    y = top + 1
    for r, row in enumerate(UNRULED_BODY):
        pdf.set_font("Helvetica", "B" if r == 0 else "", 10)
        if r in (1, len(UNRULED_BODY) - 1):  # the rule under the header and the one over the total
            y += 1
            edges.append(y)
            y += 1
        x, lines = left, 1
        for text, width in zip(row, widths, strict=True):
            pdf.set_xy(x + 1, y)
            pdf.multi_cell(width - 2, line, text, align="L" if x == left else "R")
            lines = max(lines, round((pdf.get_y() - y) / line))
            x += width
        y += lines * line + 1
    edges.append(y + 1)
    right = left + sum(widths)
    for edge in edges:
        pdf.line(left, edge, right, edge)
    x = left
    for width in (0.0, *widths):
        x += width
        pdf.line(x, top, x, edges[-1])
    pdf.set_xy(20, edges[-1] + 6)
    _paragraph(pdf, "Technical assistance is shared by all countries.")
    return _save(pdf, path)


def run_in_headings(path: Path) -> Path:
    """Paragraphs opened by a bold run-in heading ("Elastic Stop Nut The elastic stop nut is ..."), one opened by a
    bold word of emphasis ("Note" ...), which stays a paragraph; no running header (one page)."""
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 25, 20)
    pdf.add_page()
    for lead, rest in RUN_IN:
        pdf.set_font("Helvetica", "B", 11)
        pdf.write(5.5, lead + " ")
        pdf.set_font("Helvetica", size=11)
        pdf.write(5.5, rest)
        pdf.ln(9)
    return _save(pdf, path)


RUN_IN = [
    (
        "Elastic Stop Nut",
        "The elastic stop nut is a standard nut with the height increased to hold a fiber collar. " * 2,
    ),
    ("Boots Self-Locking Nut", "The Boots nut is of one piece, all-metal construction designed to hold tight. " * 2),
    ("Note", "that a self-locking nut must never be used on a part that turns while the aircraft is in use. " * 2),
]


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
