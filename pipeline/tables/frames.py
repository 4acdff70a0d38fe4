"""A table of a job's ``tables`` result as a pandas DataFrame: every header row kept (one row: plain column names;
several: a column MultiIndex, a header cell that spans columns named on each of them), and each column of numbers
read as numbers (``pipeline.tables.numbers``). ``raw=True`` keeps every cell's text as printed instead.

A column becomes numeric when at least one of its cells is a number and every other cell is a number or stands for
none (empty, a dash, "n/a": missing values); a column with any other text stays text, as printed. Each frame's
``attrs`` say which table it is: ``index`` (from 1), ``pages``, ``caption`` and ``header_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline.tables.numbers import is_missing, read_number

if TYPE_CHECKING:
    import pandas as pd


def header_grid(table: dict[str, Any]) -> list[list[str]]:
    """The table's header rows with a spanning header cell's text on every column it spans (the rows of the
    ``tables`` result keep it in its first column only)."""
    rows = [list(row) for row in table.get("rows", [])[: int(table.get("header_rows", 0) or 0)]]
    for cell in table.get("cells", []):
        row, col, span = int(cell.get("row", 0)), int(cell.get("col", 0)), int(cell.get("col_span", 1) or 1)
        if row < len(rows) and span > 1:
            for spanned in range(col + 1, min(col + span, len(rows[row]))):
                rows[row][spanned] = rows[row][spanned] or str(cell.get("text", ""))
    return rows


def numeric_columns(body: Sequence[Sequence[str]], width: int) -> list[bool]:
    """Which columns of ``body`` are columns of numbers (see the module's docstring)."""
    found = []
    for col in range(width):
        cells = [row[col] if col < len(row) else "" for row in body]
        numbers = [read_number(cell) for cell in cells]
        found.append(
            any(n is not None for n in numbers)
            and all(n is not None or is_missing(cell) for n, cell in zip(numbers, cells, strict=True))
        )
    return found


def table_frame(table: dict[str, Any], *, raw: bool = False, caption: str = "") -> pd.DataFrame:
    """One table of the ``tables`` result as a DataFrame (see the module's docstring)."""
    import pandas as pd

    rows = [list(map(str, row)) for row in table.get("rows", [])]
    header_rows = min(int(table.get("header_rows", 0) or 0), len(rows))
    width = max((len(row) for row in rows), default=0)
    rows = [row + [""] * (width - len(row)) for row in rows]
    body = rows[header_rows:]
    header = [row + [""] * (width - len(row)) for row in header_grid(table)][:header_rows]
    columns: pd.Index
    if header_rows > 1:
        columns = pd.MultiIndex.from_arrays(header)
    elif header_rows == 1:
        columns = pd.Index(header[0])
    else:
        columns = pd.RangeIndex(1, width + 1)
    frame = pd.DataFrame(body, columns=columns) if width else pd.DataFrame()
    if not raw and width:
        for col, numeric in enumerate(numeric_columns(body, width)):
            if numeric:
                frame.isetitem(col, _numbers([row[col] for row in body]).array)
    frame.attrs.update(
        index=int(table.get("index", 0)),
        pages=list(table.get("pages", [])),
        caption=caption or str(table.get("caption", "") or ""),
        header_rows=header_rows,
    )
    return frame


def _numbers(cells: Sequence[str]) -> pd.Series:
    import pandas as pd

    values = [reading.value if (reading := read_number(cell)) is not None else None for cell in cells]
    if all(isinstance(v, int) or v is None for v in values):
        return pd.Series(values, dtype="Int64")  # whole numbers stay whole beside a missing value
    return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")


def table_frames(
    tables: Sequence[dict[str, Any]], *, raw: bool = False, captions: Sequence[str] = ()
) -> list[pd.DataFrame]:
    """Every table of a ``tables`` result as a DataFrame, in the document's order (``captions`` by position)."""
    return [
        table_frame(table, raw=raw, caption=captions[n] if n < len(captions) else "") for n, table in enumerate(tables)
    ]
