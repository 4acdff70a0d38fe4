"""Every table of a job in one Excel workbook (what analysts send on): a first sheet naming each table's sheet, page
and caption, then one sheet per table. Header rows are bold, spanning header cells merged, and the panes frozen below
them; numbers are numbers, shown as printed (thousands grouped, negatives in parentheses, percentages), and any
other cell is text, never a formula (``=HYPERLINK(...)`` from a document stays text).

Written with openpyxl (already the reader analysts' pandas uses for .xlsx), in memory: tables are small.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline.tables.frames import numeric_columns
from pipeline.tables.numbers import Reading, read_number

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

INDEX_SHEET = "Tables"
INDEX_COLUMNS = ("Table", "Sheet", "Pages", "Caption", "Rows", "Columns")
#: Excel's longest cell text; longer text is cut there (Excel would refuse the file)
MAX_CELL_CHARS = 32767


def sheet_name(index: int) -> str:
    return f"Table {index}"


def workbook_bytes(tables: Sequence[dict[str, Any]], captions: Sequence[str] = (), *, document: str = "") -> bytes:
    """The workbook of ``tables`` (a ``tables`` result's list), ``captions`` by position, as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    index = book.active
    assert index is not None  # a new workbook has its first sheet
    index.title = INDEX_SHEET
    book.properties.title = _text(document)[:255] or None
    index.append([_text(name) for name in INDEX_COLUMNS])
    for cell in index[1]:
        cell.font = Font(bold=True)
    for n, table in enumerate(tables):
        number = int(table.get("index", n + 1))
        rows = table.get("rows", [])
        caption = captions[n] if n < len(captions) else str(table.get("caption", "") or "")
        pages = ", ".join(str(p) for p in table.get("pages", []))
        width = max((len(r) for r in rows), default=0)
        index.append([number, sheet_name(number), _text(pages), _text(caption), len(rows), width])
        _table_sheet(book.create_sheet(sheet_name(number)), table)
    index.column_dimensions["D"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table_sheet(sheet: Worksheet, table: dict[str, Any]) -> None:
    from openpyxl.styles import Alignment, Font

    rows = [[str(c) for c in row] for row in table.get("rows", [])]
    header_rows = min(int(table.get("header_rows", 0) or 0), len(rows))
    width = max((len(r) for r in rows), default=0)
    numeric = numeric_columns(rows[header_rows:], width)
    for r, texts in enumerate(rows, start=1):
        for c, text in enumerate(texts, start=1):
            reading = read_number(text) if r > header_rows and numeric[c - 1] else None
            if reading is not None and reading.value is not None:
                cell = sheet.cell(row=r, column=c, value=reading.value)
                cell.number_format = _number_format(reading)
            elif text:
                cell = sheet.cell(row=r, column=c)
                cell.value = _text(text)
                cell.data_type = "s"  # text, even one starting with "=": openpyxl would take it for a formula
            if r <= header_rows:
                header = sheet.cell(row=r, column=c)
                header.font = Font(bold=True)
                header.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in table.get("cells", []):
        row, col = int(cell.get("row", 0)), int(cell.get("col", 0))
        row_span, col_span = int(cell.get("row_span", 1) or 1), int(cell.get("col_span", 1) or 1)
        if row < header_rows and (row_span > 1 or col_span > 1):
            sheet.merge_cells(
                start_row=row + 1, start_column=col + 1, end_row=row + row_span, end_column=col + col_span
            )
    if header_rows:
        sheet.freeze_panes = sheet.cell(row=header_rows + 1, column=1)


def _number_format(reading: Reading) -> str:
    decimals = "." + "0" * reading.decimals if reading.decimals else ""
    if reading.percent:
        return f"0{decimals}%"
    plain = f"#,##0{decimals}" if reading.grouped else f"0{decimals}"
    return f"{plain};({plain})" if reading.parentheses else plain


def _text(text: str) -> str:
    """Text a cell can hold: without the control characters the file format forbids, at most Excel's length."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]
