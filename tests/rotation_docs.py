"""PDFs whose text is turned, drawn with fpdf2 and turned with pypdf: what each holds is written here, so a test
compares what the layout reader finds with what was drawn.

- ``turned_page``: one page (a heading, a paragraph, a ruled table, a closing paragraph) turned by a quarter turn
  in one of three ways real files do it: drawn turned and set upright again by the page's ``/Rotate`` (a landscape
  page, as LaTeX's pdflscape and many printers make it); drawn upright with a ``/Rotate`` (a page shown sideways);
  or drawn turned with no ``/Rotate`` at all (a landscape page drawn into a portrait box).
- ``sideways_table``: an upright page with a table set sideways in it (ruled, or aligned by whitespace alone),
  between two upright paragraphs, and an identifier set up the page's left margin.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
from fpdf import FPDF

from tests.structure_docs import BODY, TABLE

HEADING = "Quarterly Figures"
CLOSING = "The figures above were audited before the board approved the forecast."
#: how a page is turned: "drawn" (content turned, /Rotate turns it back), "shown" (only /Rotate), "content" (content
#: turned, no /Rotate)
MODES = ("drawn", "shown", "content")

SIDEWAYS = [
    ["Country", "Capital", "Population", "Area (km2)"],
    ["France", "Paris", "68,042,591", "551,695"],
    ["Germany", "Berlin", "84,482,267", "357,592"],
    ["Spain", "Madrid", "48,085,361", "505,990"],
    ["Portugal", "Lisbon", "10,467,366", "92,212"],
]
BEFORE = "The table below lists four countries of the union with their capitals and sizes."
AFTER = "Sources are the national statistics offices of each country for the year shown."
MARGIN_ID = "arXiv:2401.01234v2 [cs.DL] 12 Jan 2024"


def _upright_page() -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.set_xy(20, 25)
    pdf.cell(170, 9, HEADING)
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 40)
    pdf.multi_cell(170, 5.5, BODY)
    pdf.set_xy(20, pdf.get_y() + 6)
    for r, row in enumerate(TABLE):
        pdf.set_font("Helvetica", "B" if r == 0 else "", 10)
        for text in row:
            pdf.cell(50, 8, text, border=1)
        pdf.ln(8)
        pdf.set_x(20)
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, pdf.get_y() + 6)
    pdf.multi_cell(170, 5.5, CLOSING)
    return bytes(pdf.output())


def turned_page(path: Path, degrees: int, mode: str = "drawn") -> Path:
    """The upright page turned by ``degrees`` (90, 180, 270: clockwise, as ``/Rotate`` counts) the ``mode`` way."""
    assert mode in MODES and degrees % 90 == 0
    reader = pypdf.PdfReader(io.BytesIO(_upright_page()))
    writer = pypdf.PdfWriter()
    page = writer.add_page(reader.pages[0])
    if mode in ("drawn", "content"):
        page.rotate((360 - degrees) % 360)  # shown turned back, then that turn moved into the content itself
        page.transfer_rotation_to_content()
    if mode in ("drawn", "shown"):
        page.rotate(degrees)
    with path.open("wb") as file:
        writer.write(file)
    return path


def sideways_table(path: Path, *, ruled: bool = True, degrees: int = 90) -> Path:
    """An upright A4 page: a paragraph, ``SIDEWAYS`` set turned ``degrees`` counter-clockwise (read bottom to top
    at 90), a paragraph; ``MARGIN_ID`` up the left margin."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 25)
    pdf.multi_cell(170, 5.5, BEFORE)
    widths = [40, 30, 40, 35]
    # the table is drawn from a corner it turns about: 145 mm up (90) or down (270) the page from 45 mm below
    # its top, its five rows 40 mm across
    assert degrees in (90, 270)
    bottom = 45 + sum(widths)
    x0, y0 = (60, bottom) if degrees == 90 else (150, 45)
    with pdf.rotation(degrees, x=x0, y=y0):
        for r, row in enumerate(SIDEWAYS):
            pdf.set_xy(x0, y0 + r * 8)
            pdf.set_font("Helvetica", "B" if r == 0 else "", 10)
            for width, text in zip(widths, row, strict=True):
                pdf.cell(width, 8, text, border=1 if ruled else 0)
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, bottom + 10)
    pdf.multi_cell(170, 5.5, AFTER)
    pdf.set_font("Helvetica", size=9)
    with pdf.rotation(90, x=10, y=200):
        pdf.set_xy(10, 200)
        pdf.cell(120, 5, MARGIN_ID)
    pdf.output(str(path))
    return path


TURNED_HEADERS = [
    ["Permission", "Administrator", "Operator", "Auditor"],
    ["Read the job list", "X", "X", "X"],
    ["Cancel a job", "X", "X", ""],
    ["Change the settings", "X", "", ""],
]


def turned_headers(path: Path) -> Path:
    """An upright ruled grid (``TURNED_HEADERS``) whose header cells but the first are set turned up the page in
    narrow columns under a tall header row, below a paragraph."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 25)
    pdf.multi_cell(170, 5.5, BODY)
    top, first, narrow, tall, row = 50, 70, 12, 32, 8
    pdf.set_font("Helvetica", "B", 10)
    pdf.rect(20, top, first, tall)
    pdf.set_xy(20, top)
    pdf.cell(first, 8, TURNED_HEADERS[0][0])
    for c, text in enumerate(TURNED_HEADERS[0][1:]):
        x = 20 + first + c * narrow
        pdf.rect(x, top, narrow, tall)
        with pdf.rotation(90, x=x + 4, y=top + tall - 2):
            pdf.text(x + 4, top + tall - 2 + 3, text)  # baseline 3 mm below the pivot: the glyphs sit in the cell
    pdf.set_font("Helvetica", size=10)
    for r, cells in enumerate(TURNED_HEADERS[1:]):
        y = top + tall + r * row
        pdf.set_xy(20, y)
        pdf.cell(first, row, cells[0], border=1)
        for text in cells[1:]:
            pdf.cell(narrow, row, text, border=1, align="C")
    pdf.output(str(path))
    return path
