"""Tables to work with: cells read as numbers, each table a DataFrame with every header row, every table in one
workbook read back with openpyxl, the caption naming each table; and the same from a real job through the service."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.core.errors import InvalidRequest
from pipeline.service.paperline import Paperline
from pipeline.tables.captions import table_captions
from pipeline.tables.frames import table_frame, table_frames
from pipeline.tables.numbers import read_number
from pipeline.tables.workbook import INDEX_COLUMNS, INDEX_SHEET, workbook_bytes
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued

#: a table as the ``tables`` result holds it: two header rows, "Region" spanning both, "2024" spanning two columns
TWO_HEADER_ROWS = {
    "index": 1,
    "pages": [3],
    "header_rows": 2,
    "rows": [
        ["Region", "2024", "", "Note"],
        ["", "Q1", "Q2", ""],
        ["North", "1,234", "(12)", '=HYPERLINK("http://x")'],
        ["South", "51,544", "—", "steady"],
        ["Total", "52,778", "$1,050.5", ""],
    ],
    "cells": [
        {"row": 0, "col": 0, "text": "Region", "row_span": 2, "col_span": 1, "header": True},
        {"row": 0, "col": 1, "text": "2024", "row_span": 1, "col_span": 2, "header": True},
        {"row": 0, "col": 3, "text": "Note", "row_span": 2, "col_span": 1, "header": True},
    ],
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234", 1234),
        ("(12)", -12),
        ("51,544", 51544),
        ("-3", -3),
        ("−4.25", -4.25),
        ("($1,234.50)", -1234.5),
        ("$(7)", -7),
        ("€ 12,50", 12.5),
        ("1.234,5", 1234.5),
        ("1\u202f234\u202f567", 1234567),
        ("12.5%", 0.125),
        ("(3%)", -0.03),
        ("+5", 5),
        ("2023", 2023),
    ],
)
def test_a_cell_is_read_as_the_number_it_prints(text: str, value: float) -> None:
    reading = read_number(text)
    assert reading is not None and reading.value == pytest.approx(value)
    assert type(reading.value) is type(value), "whole numbers stay whole"


@pytest.mark.parametrize("text", ["", "—", "n/a", "North", "12 345", "1e5", "Q1", "12-14"])
def test_text_dashes_and_two_numbers_run_together_are_no_number(text: str) -> None:
    assert read_number(text) is None


def test_a_table_with_two_header_rows_is_a_frame_with_a_column_multiindex_and_numbers() -> None:
    frame = table_frame(TWO_HEADER_ROWS, caption="Table 1: Sales")
    assert isinstance(frame.columns, pd.MultiIndex) and frame.columns.nlevels == 2
    assert list(frame.columns) == [("Region", ""), ("2024", "Q1"), ("2024", "Q2"), ("Note", "")], (
        "a header cell spanning two columns names both"
    )
    assert frame[("2024", "Q1")].tolist() == [1234, 51544, 52778]
    assert str(frame[("2024", "Q1")].dtype) == "Int64"
    q2 = frame[("2024", "Q2")]
    assert q2.dtype == "float64" and q2.iloc[0] == -12 and pd.isna(q2.iloc[1]) and q2.iloc[2] == 1050.5
    assert frame[("Region", "")].tolist() == ["North", "South", "Total"]
    assert frame[("Note", "")].iloc[0] == '=HYPERLINK("http://x")', "text stays text"
    assert frame.attrs == {"index": 1, "pages": [3], "caption": "Table 1: Sales", "header_rows": 2}
    assert frame[("2024", "Q1")].sum() == 1234 + 51544 + 52778


def test_raw_keeps_every_cell_as_printed() -> None:
    raw = table_frame(TWO_HEADER_ROWS, raw=True)
    assert raw[("2024", "Q1")].tolist() == ["1,234", "51,544", "52,778"]
    assert raw[("2024", "Q2")].tolist() == ["(12)", "—", "$1,050.5"]


def test_one_header_row_names_the_columns_and_none_numbers_them() -> None:
    rows = [["Name", "Amount"], ["a", "1,000"], ["b", "n/a"]]
    [one, none] = table_frames([{"index": 1, "header_rows": 1, "rows": rows}, {"index": 2, "rows": rows[1:]}])
    assert list(one.columns) == ["Name", "Amount"] and one["Amount"].tolist()[0] == 1000
    assert pd.isna(one["Amount"].iloc[1]), "n/a is a missing value in a column of numbers"
    assert list(none.columns) == [1, 2] and none[2].iloc[0] == 1000


def test_a_column_with_other_text_stays_text() -> None:
    frame = table_frame({"header_rows": 1, "rows": [["Year", "Code"], ["2023", "A1"], ["2024", "12"]]})
    assert frame["Year"].tolist() == [2023, 2024]
    assert frame["Code"].tolist() == ["A1", "12"], "one word in a column keeps the column as printed"


def test_the_workbook_reads_back_with_openpyxl() -> None:
    second = {"index": 2, "pages": [4, 5], "header_rows": 1, "rows": [["Item", "Share"], ["x", "12.5%"], ["y", "(3%)"]]}
    data = workbook_bytes([TWO_HEADER_ROWS, second], ["Table 1: Sales", ""], document="report.pdf")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == [INDEX_SHEET, "Table 1", "Table 2"]
    index = [[c.value for c in row] for row in book[INDEX_SHEET].iter_rows()]
    assert index[0] == list(INDEX_COLUMNS)
    assert index[1] == [1, "Table 1", "3", "Table 1: Sales", 5, 4]
    assert index[2] == [2, "Table 2", "4, 5", None, 3, 2]
    assert book.properties.title == "report.pdf"
    sheet = book["Table 1"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Region", "2024", None, "Note"] and values[1] == [None, "Q1", "Q2", None]
    assert values[2] == ["North", 1234, -12, '=HYPERLINK("http://x")']
    assert sheet["D3"].data_type == "s", "text that looks like a formula is stored as text, never run"
    assert values[3][2] == "—", "a dash is kept as printed"
    assert sheet["B3"].number_format == "#,##0" and sheet["C3"].number_format == "0;(0)"
    assert "B1:C1" in {str(r) for r in sheet.merged_cells.ranges}, "the spanning header cell is merged"
    assert sheet.freeze_panes == "A3", "the header rows stay in view"
    assert sheet["A1"].font.b
    shares = [[c.value for c in row] for row in book["Table 2"].iter_rows()]
    assert shares[1][1] == pytest.approx(0.125) and shares[2][1] == pytest.approx(-0.03)
    assert book["Table 2"]["B2"].number_format == "0.0%"
    back = pd.read_excel(io.BytesIO(data), sheet_name="Table 1", header=[0, 1])
    assert back.iloc[0, 1] == 1234, "pandas reads the numbers back as numbers"


def test_a_caption_beside_a_table_names_it() -> None:
    tree = [
        {"type": "heading", "text": "Results", "page": 1},
        {"type": "caption", "text": "Table 1: Revenue  by region", "page": 1},
        {"type": "table", "page": 1, "pages": [1]},
        {"type": "paragraph", "text": "Body", "page": 1},
        {"type": "table", "page": 2, "pages": [2, 3]},
        {"type": "caption", "text": "Figure 2: A chart", "page": 1},
        {"type": "table", "page": 4, "pages": [4]},
        {"type": "caption", "text": "Table 3. Costs", "page": 4},
    ]
    assert table_captions(tree) == ["Table 1: Revenue by region", "", "Table 3. Costs"]


def _table_pdf(path: Path) -> Path:
    from fpdf import FPDF

    from tests import structure_docs

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 28)
    pdf.cell(170, 6, "Table 1: Revenue by region")
    rows = [["Region", "Revenue", "Change"], ["North", "1,234", "(12)"], ["South", "51,544", "4.5%"]]
    structure_docs._grid_table(pdf, rows, 40)
    pdf.set_xy(20, 90)
    pdf.multi_cell(170, 5.5, structure_docs.BODY)
    pdf.output(str(path))
    return path


def test_a_jobs_tables_as_frames_and_as_a_workbook(app: Paperline, tmp_path: Path) -> None:
    """Through the service, on a real document: the tables as DataFrames, and an xlsx download named after the
    document, made from the stored tables (a job's stored results gain no file); a job without tables has none."""
    job = app.submit(_table_pdf(tmp_path / "Q3 report.pdf"), profile="markdown")
    plain = app.submit(make_text_pdf(tmp_path / "plain.pdf", 1), profile="markdown")
    with pytest.raises(InvalidRequest, match="no result yet"):
        app.tables(job.id)
    run_queued(app)
    [frame] = app.tables(job.id)
    assert list(frame.columns) == ["Region", "Revenue", "Change"]
    assert frame["Revenue"].tolist() == [1234, 51544]
    assert frame["Change"].tolist() == pytest.approx([-12, 0.045])
    assert frame.attrs["caption"] == "Table 1: Revenue by region" and frame.attrs["pages"] == [1]
    assert app.tables(job.id, raw=True)[0]["Change"].tolist() == ["(12)", "4.5%"]
    assert json.loads(app.result(job.id, "tables"))["tables"][0]["caption"] == "Table 1: Revenue by region"

    assert app.result_formats(job.id)[-1] == "xlsx"
    download = app.result_download(job.id, "xlsx")
    assert download.name == "Q3 report.xlsx"
    assert download.media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    assert [c.value for c in book[INDEX_SHEET][2]][:4] == [1, "Table 1", "1", "Table 1: Revenue by region"]
    assert [c.value for c in book["Table 1"][2]] == ["North", 1234, -12]
    assert "result.xlsx" not in app.files(job.id).names(), "made when asked for, never stored"
    names = {fmt: app.result_download(job.id, fmt).name for fmt in app.result_formats(job.id)}
    assert names == {
        "markdown": "Q3 report.md",
        "text": "Q3 report.txt",
        "json": "Q3 report.json",
        "tables": "Q3 report.tables.json",
        "csv": "Q3 report.csv",
        "xlsx": "Q3 report.xlsx",
    }, "each format saves under its own name"

    assert app.tables(plain.id) == [] and "xlsx" not in app.result_formats(plain.id)
    with pytest.raises(InvalidRequest, match="no xlsx result"):
        app.result_bytes(plain.id, "xlsx")
