"""Tables on generated documents (tests/corpus: printed by Chromium from HTML, drawn by fpdf2, each with its known
cells): the table the layout reader finds must be the one drawn, cell for cell, header rows and spans included; the
Markdown, HTML, passages and CSV written from it must keep every header row over the right columns. Each capability
is shown to be what makes it so: switched off, the same check fails."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.elements import Cell, Element, Kind
from pipeline.documents.layout import aligned, booktabs, cells, figures, page, tables, textgrid
from pipeline.documents.layout.document import document_elements
from pipeline.documents.layout.lines import Word
from pipeline.profiles.structured import _table_lines, column_names, to_markdown
from tests import page_docs, structure_docs
from tests.corpus import drawn, html, printing
from tests.corpus.truth import DocTruth, TableTruth
from tests.unit.test_structure import pages_of


@pytest.fixture(scope="module")
def printer() -> Iterator[printing.Printer]:
    with printing.Printer() as printer:
        yield printer


def printed(
    printer: printing.Printer,
    kind: str,
    path: Path,
    nth: int = 0,
    where: Callable[[DocTruth], bool] = lambda doc: True,
    **notes: object,
) -> DocTruth:
    """The ``nth`` document of an HTML kind whose notes (its drawn style) are ``notes`` and that ``where`` takes,
    printed to ``path``."""
    found = 0
    for seed in range(500):
        built = html.BUILDERS[kind](random.Random(f"tables:{kind}:{seed}"), 0)
        if all(built.truth.notes.get(name) == value for name, value in notes.items()) and where(built.truth):
            if found == nth:
                printer.print(built.html, path)
                return built.truth
            found += 1
    raise LookupError(f"no {kind} document with {notes}")


def found_tables(path: Path) -> list[Element]:
    return [e for e in document_elements(pages_of(path)) if e.kind is Kind.TABLE]


def spans(element: Element) -> set[tuple[int, int, int, int]]:
    return {(c.row, c.col, c.row_span, c.col_span) for c in element.cells if c.row_span > 1 or c.col_span > 1}


def assert_same(element: Element, truth: TableTruth) -> None:
    assert element.rows() == truth.rows
    assert element.header_rows == truth.header_rows
    assert spans(element) == {tuple(s) for s in truth.spans}


# --- header rows and spanning headers -----------------------------------------------------------------------------


@pytest.mark.parametrize("nth", [0, 1, 2])
def test_a_grid_with_group_headers_keeps_every_header_row_and_its_spans(
    printer: printing.Printer, tmp_path: Path, nth: int
) -> None:
    doc = printed(printer, "headers", tmp_path / "headers.pdf", nth, style="grid")
    [table] = found_tables(tmp_path / "headers.pdf")
    assert_same(table, doc.tables[0])


def three_rows(doc: DocTruth) -> bool:
    return doc.tables[0].header_rows == 3


def test_a_header_over_groups_spans_them_all_and_without_group_spans_only_the_columns_its_name_crosses(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A title over two groups' sub-columns is far shorter than what it spans: only the rules under it tell."""
    doc = printed(printer, "headers", tmp_path / "headers.pdf", 0, three_rows, style="grid")
    [table] = found_tables(tmp_path / "headers.pdf")
    assert_same(table, doc.tables[0])
    monkeypatch.setattr(tables, "GROUP_SPANS", False)
    [table] = found_tables(tmp_path / "headers.pdf")
    assert spans(table) != {tuple(s) for s in doc.tables[0].spans}


def test_the_header_is_read_from_the_tables_shape_where_no_bold_tells_and_not_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Set in the body's weight, a stub header spanning two rows and a group header over named sub-columns still
    make a header of two rows; a row of labels over columns of figures makes one."""
    plain = [Cell(c.row, c.col, c.text, c.row_span, c.col_span) for c in SPANNING.cells]
    labels = [Cell(0, 0, "Region"), Cell(0, 1, "Revenue"), Cell(1, 0, "North"), Cell(1, 1, "1,204")]
    labels += [Cell(2, 0, "South"), Cell(2, 1, "987")]
    assert cells.head_rows(plain, [False] * 4) == 2
    assert cells.head_rows(labels, [False] * 3) == 1
    monkeypatch.setattr(cells, "HEAD_FROM_SHAPE", False)
    assert cells.head_rows(plain, [False] * 4) == 1, "its first row spans columns: that much is said"
    assert cells.head_rows(labels, [False] * 3) == 0


def fpdf_table(path: Path, layout: str, nth: int = 0) -> DocTruth:
    """The ``nth`` fpdf2 table drawn in ``layout`` with a stub header over two rows beside group headers."""
    found = 0
    for attempt in range(400):
        rng = random.Random(f"tables:fpdf:{attempt}")
        doc = drawn.table_doc(rng, path)
        if doc.notes["layout"] == layout and doc.tables[0].header_rows == 2:
            if found == nth:
                return doc
            found += 1
    raise LookupError(layout)


@pytest.mark.parametrize(
    ("layout", "nth"),
    [("ALL", 0), ("ALL", 1), ("NO_HORIZONTAL_LINES", 0), ("HORIZONTAL_LINES", 0), ("HORIZONTAL_LINES", 2)],
)
def test_fpdf2_tables_keep_a_group_header_over_its_sub_columns(tmp_path: Path, layout: str, nth: int) -> None:
    """fpdf2's border layouts (every rule; verticals only; rules between rows only): a stub header over two rows
    beside group headers over their sub-columns, header cells of two lines beside ones centred on them."""
    doc = fpdf_table(tmp_path / "table.pdf", layout, nth)
    [table] = found_tables(tmp_path / "table.pdf")
    assert_same(table, doc.tables[0])


def test_without_phrase_spans_a_group_header_in_a_grid_without_rows_falls_in_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verticals only: a group header's two words stand either side of the border missing under it."""
    doc = drawn.table_doc(random.Random("31:fpdf-table:4"), tmp_path / "table.pdf")  # (the corpus's fpdf-table-004)
    assert doc.notes["layout"] == "NO_HORIZONTAL_LINES"
    assert_same(one_table(tmp_path / "table.pdf"), doc.tables[0])
    monkeypatch.setattr(tables, "PHRASE_SPANS", False)
    assert spans(one_table(tmp_path / "table.pdf")) != {tuple(s) for s in doc.tables[0].spans}


# --- writing the header out ---------------------------------------------------------------------------------------

#: "Race/ethnicity" spanning both header rows, "Total PK-12" over "Women" and "Men", an empty body cell
SPANNING = Element(
    Kind.TABLE,
    "",
    1,
    (0.0, 0.0, 100.0, 100.0),
    cells=[
        Cell(0, 0, "Race/ethnicity", 2, 1, True),
        Cell(0, 1, "Total PK-12", 1, 2, True),
        Cell(0, 3, "PK-8", 1, 1, True),
        Cell(1, 1, "Women", 1, 1, True),
        Cell(1, 2, "Men", 1, 1, True),
        Cell(2, 0, "Asian/Pacific Islander"),
        Cell(2, 1, "54,862"),
        Cell(2, 2, ""),
        Cell(2, 3, "38,569"),
        Cell(3, 0, "Black"),
        Cell(3, 1, "12,001"),
        Cell(3, 3, "9,870"),
    ],
    header_rows=2,
    pages=[1],
)


def test_a_spanning_header_is_written_as_html_with_every_cell_placed() -> None:
    markdown = to_markdown([SPANNING])
    assert markdown == (
        "<!-- page 1 -->\n\n<table>\n<thead>\n"
        '<tr><th rowspan="2">Race/ethnicity</th><th colspan="2">Total PK-12</th><th>PK-8</th></tr>\n'
        "<tr><th>Women</th><th>Men</th><th></th></tr>\n"
        "</thead>\n<tbody>\n"
        "<tr><td>Asian/Pacific Islander</td><td>54,862</td><td></td><td>38,569</td></tr>\n"
        "<tr><td>Black</td><td>12,001</td><td></td><td>9,870</td></tr>\n"
        "</tbody></table>\n"
    )


def test_two_header_rows_with_no_span_are_written_as_html_and_one_as_gfm() -> None:
    two = Element(
        Kind.TABLE,
        "",
        1,
        (0.0, 0.0, 1.0, 1.0),
        cells=[
            *(Cell(0, 0, "", header=True), Cell(0, 1, "Women", header=True)),
            *(Cell(1, 0, "", header=True), Cell(1, 1, "2020", header=True)),
            *(Cell(2, 0, "A"), Cell(2, 1, "1")),
        ],
        header_rows=2,
    )
    assert "<th>Women</th>" in to_markdown([two]) and "<th>2020</th>" in to_markdown([two])
    one = Element(Kind.TABLE, "", 1, two.bbox, cells=[c for c in two.cells if c.row != 1], header_rows=1)
    assert "| Women |" in to_markdown([one])


def test_a_row_passage_names_its_columns_through_every_header_row() -> None:
    assert column_names(SPANNING) == ["Race/ethnicity", "Total PK-12 / Women", "Total PK-12 / Men", "PK-8"]
    assert _table_lines(SPANNING).split("\n") == [
        "Race/ethnicity: Asian/Pacific Islander; Total PK-12 / Women: 54,862; PK-8: 38,569",
        "Race/ethnicity: Black; Total PK-12 / Women: 12,001; PK-8: 9,870",
    ]


# --- tables with no vertical rules: statements, price lists, cells of several lines, group headers ------------------


def one_table(path: Path) -> Element:
    [table] = found_tables(path)
    return table


@pytest.mark.parametrize(("nth", "leaders"), [(0, True), (1, True), (0, False), (1, False)])
def test_a_statement_is_one_table_with_its_dated_head_unit_line_and_signs_joined(
    printer: printing.Printer, tmp_path: Path, nth: int, leaders: bool
) -> None:
    """A 10-K statement of operations: "$" in a column of its own beside each amount, leader dots after the labels
    (or none), "Year Ended" over the dates, the unit line beside them, amounts underlined and totals overlined."""
    doc = printed(printer, "financial", tmp_path / "statement.pdf", nth, leaders=leaders)
    assert_same(one_table(tmp_path / "statement.pdf"), doc.tables[0])


def test_without_joined_signs_a_statements_dollar_signs_stand_apart(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed(printer, "financial", tmp_path / "statement.pdf", 0, leaders=True)
    monkeypatch.setattr(textgrid, "JOIN_SIGNS", False)
    rows = one_table(tmp_path / "statement.pdf").rows()
    assert any(cell == "$" for row in rows for cell in row)


def test_without_the_head_above_a_statement_loses_its_year_ended_line(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = printed(printer, "financial", tmp_path / "statement.pdf", 0, leaders=False)
    monkeypatch.setattr(aligned, "HEADS_ABOVE", False)
    table = one_table(tmp_path / "statement.pdf")
    assert table.header_rows < doc.tables[0].header_rows
    assert not any(doc.tables[0].rows[0][1] in row for row in table.rows())


def test_without_growing_past_its_rules_a_statement_loses_its_labels(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules underline only the amounts: the labels left of them are the table's by their rows alone."""
    doc = printed(printer, "financial", tmp_path / "statement.pdf", 0, leaders=False)
    monkeypatch.setattr(booktabs, "GROW", False)
    cells = {cell for table in found_tables(tmp_path / "statement.pdf") for row in table.rows() for cell in row}
    assert doc.tables[0].rows[-1][0] not in cells, "'Net income (loss)' under the last rule"


@pytest.mark.parametrize("nth", [0, 1, 2])
def test_a_price_list_led_by_dots_is_a_table_without_its_leaders(
    printer: printing.Printer, tmp_path: Path, nth: int
) -> None:
    doc = printed(printer, "leaders", tmp_path / "prices.pdf", nth)
    assert_same(one_table(tmp_path / "prices.pdf"), doc.tables[0])


def test_without_leader_tables_a_price_list_is_taken_for_contents(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed(printer, "leaders", tmp_path / "prices.pdf", 0)
    monkeypatch.setattr(aligned, "LEADER_TABLES", False)
    assert found_tables(tmp_path / "prices.pdf") == []


def test_without_dropping_leaders_a_price_lists_items_keep_their_dots(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed(printer, "leaders", tmp_path / "prices.pdf", 0)
    monkeypatch.setattr(textgrid, "DROP_LEADERS", False)
    tables = found_tables(tmp_path / "prices.pdf")
    assert not tables or any(". . ." in cell for row in tables[0].rows() for cell in row)


@pytest.mark.parametrize(
    ("style", "lists"),
    [("booktabs", False), ("ruleless", False), ("shaded", False), ("booktabs", True), ("ruleless", True)],
)
def test_cells_of_several_lines_and_lists_in_cells_stay_whole(
    printer: printing.Printer, tmp_path: Path, style: str, lists: bool
) -> None:
    doc = printed(printer, "multiline", tmp_path / "cells.pdf", 0, style=style, lists=lists)
    assert_same(one_table(tmp_path / "cells.pdf"), doc.tables[0])


def test_without_cell_lines_each_line_of_a_cell_is_a_row(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = printed(printer, "multiline", tmp_path / "cells.pdf", 0, style="booktabs", lists=False)
    monkeypatch.setattr(textgrid, "CELL_LINES", False)
    assert one_table(tmp_path / "cells.pdf").n_rows > len(doc.tables[0].rows)


@pytest.mark.parametrize(("style", "nth"), [("booktabs", 0), ("booktabs", 1), ("ruleless", 0), ("ruleless", 2)])
def test_group_headers_without_vertical_rules_span_their_sub_columns(
    printer: printing.Printer, tmp_path: Path, style: str, nth: int
) -> None:
    doc = printed(printer, "headers", tmp_path / "headers.pdf", nth, style=style)
    assert_same(one_table(tmp_path / "headers.pdf"), doc.tables[0])


def test_without_group_headers_a_rule_less_group_header_spans_only_what_it_touches(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = printed(printer, "headers", tmp_path / "headers.pdf", 0, style="ruleless")
    monkeypatch.setattr(textgrid, "GROUP_HEADERS", False)
    assert spans(one_table(tmp_path / "headers.pdf")) != {tuple(s) for s in doc.tables[0].spans}


# --- stacked tables, shaded rows, a table beside running text -------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "nth"), [("booktabs", 0), ("booktabs", 2), ("grid", 5), ("ruleless", 0), ("shaded", 3)]
)
def test_stacked_tables_are_read_apart_each_whole(
    printer: printing.Printer, tmp_path: Path, style: str, nth: int
) -> None:
    """Two or three tables on one page, each with its caption (over it or under it)."""
    doc = printed(printer, "stacked", tmp_path / "stacked.pdf", nth, style=style)
    found = found_tables(tmp_path / "stacked.pdf")
    assert len(found) == len(doc.tables)
    for table, truth in zip(found, doc.tables, strict=True):
        assert_same(table, truth)


def test_without_splitting_stacked_rules_two_booktabs_tables_read_as_one(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One table's bottom rule right over the next one's top rule (its caption under it): nothing between."""
    doc = printed(printer, "stacked", tmp_path / "stacked.pdf", 2, style="booktabs")
    monkeypatch.setattr(booktabs, "SPLIT_STACKED", False)
    assert len(found_tables(tmp_path / "stacked.pdf")) < len(doc.tables)


def test_without_splitting_at_a_header_a_table_takes_the_next_ones_header_row(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = printed(printer, "stacked", tmp_path / "stacked.pdf", 3, style="shaded")
    monkeypatch.setattr(aligned, "SPLIT_AT_HEADS", False)
    assert [t.rows() for t in found_tables(tmp_path / "stacked.pdf")] != [t.rows for t in doc.tables]


@pytest.mark.parametrize("nth", [0, 1])
def test_a_shaded_head_and_zebra_rows_make_one_table_with_its_header(
    printer: printing.Printer, tmp_path: Path, nth: int
) -> None:
    doc = printed(printer, "headers", tmp_path / "shaded.pdf", nth, style="shaded")
    assert_same(one_table(tmp_path / "shaded.pdf"), doc.tables[0])


def test_without_shading_told_from_rules_the_shaded_boxes_cut_the_table(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edges of the shaded boxes are nobody's rules: read as a grid, the head and the rows fall apart."""
    doc = printed(printer, "headers", tmp_path / "shaded.pdf", 0, style="shaded")
    monkeypatch.setattr(page, "SHADING_IS_NO_RULE", False)
    assert [t.rows() for t in found_tables(tmp_path / "shaded.pdf")] != [doc.tables[0].rows]


def tall_head(doc: DocTruth) -> bool:
    """A header cell of three lines ("Asian/ Pacific/ Islander"): the shaded head is as tall as a small chart."""
    return any(cell.count("/") >= 2 for row in doc.tables[0].rows[: doc.tables[0].header_rows] for cell in row)


def test_without_shaded_cells_told_from_figures_a_shaded_head_is_taken_for_a_figure(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = printed(printer, "headers", tmp_path / "shaded.pdf", 1, tall_head, style="shaded")
    assert_same(one_table(tmp_path / "shaded.pdf"), doc.tables[0])
    monkeypatch.setattr(figures, "SHADED_CELLS", False)
    tables_found = found_tables(tmp_path / "shaded.pdf")
    assert not tables_found or tables_found[0].header_rows < doc.tables[0].header_rows


def test_a_statement_beside_running_text_takes_none_of_it(
    printer: printing.Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A two-column journal page with a statement in one column: the other column's lines share the statement's
    baselines, and stay text; the statement keeps its dated head."""
    drawn = page_docs.journal(printer.browser, tmp_path / "statement.pdf", 23, statement=True, figure="none")
    [table] = found_tables(drawn.path)
    assert table.rows()[0][1] == "Year Ended December 31,"
    assert all(len(cell.split()) <= 4 for row in table.rows() for cell in row)
    monkeypatch.setattr(aligned, "PROSE_BESIDE", False)
    assert any(len(cell.split()) > 6 for t in found_tables(drawn.path) for row in t.rows() for cell in row)


def test_a_figure_set_closer_than_a_column_gap_but_further_than_a_word_space_starts_a_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def word(text: str, x0: float) -> Word:
        return Word(text, x0, 0.0, x0 + 5.0 * len(text), 10.0, 10.0, False, False, 2.0)

    # 7 points apart (0.7 of the size): a name and its first amount, two amounts; a word space (3 points) is not
    row = [word("Option", 0.0), word("Weight", 33.0), word("861", 70.0), word("36,430", 92.0), word("$", 130.0)]
    row += [word("12", 138.0)]
    assert [s.text for s in textgrid.column_segments(row)] == ["Option Weight", "861", "36,430", "$ 12"]
    monkeypatch.setattr(textgrid, "FIGURES_APART", False)
    assert [s.text for s in textgrid.column_segments(row)] == ["Option Weight 861 36,430 $ 12"]


@pytest.mark.parametrize("style", ["ruleless", "booktabs", "grid"])
def test_a_table_set_sideways_reads_upright_with_names_set_left_over_figures_set_right(
    printer: printing.Printer, tmp_path: Path, style: str
) -> None:
    doc = printed(printer, "sideways", tmp_path / "sideways.pdf", 0, style=style)
    assert_same(one_table(tmp_path / "sideways.pdf"), doc.tables[0])


def test_a_grid_ruled_only_inside_keeps_its_head_above_the_first_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No frame: nothing rules over the group header, but the column rules reach up through it."""
    doc = drawn.table_doc(random.Random("31:fpdf-table:11"), tmp_path / "table.pdf")  # (the corpus's fpdf-table-011)
    assert doc.notes["layout"] == "INTERNAL"
    assert_same(one_table(tmp_path / "table.pdf"), doc.tables[0])
    monkeypatch.setattr(tables, "OPEN_ENDS", False)
    assert one_table(tmp_path / "table.pdf").rows()[0] != doc.tables[0].rows[0]


def test_a_retrieval_passage_names_a_cells_column_by_its_whole_header_path(
    printer: printing.Printer, tmp_path: Path, app: Any
) -> None:
    """A table with a group header over its sub-columns, through the retrieval profile: each row passage names
    every value's column by the group and the sub-column ("Policy / 2018: 87,248")."""
    from pipeline.core.models import JobStatus
    from tests.sync_runner import run_queued

    doc = printed(printer, "headers", tmp_path / "headers.pdf", 0, style="grid")
    truth = doc.tables[0]
    job = app.submit(tmp_path / "headers.pdf", profile="retrieval")
    run_queued(app)
    assert app.get(job.id).status is JobStatus.COMPLETED
    text = "\n".join(p["text"] for p in app.passages(job.id))
    filled = truth.filled()
    row = truth.rows[truth.header_rows]
    for col in range(1, len(row)):
        if row[col]:
            path = " / ".join(dict.fromkeys(h[col] for h in filled[: truth.header_rows] if h[col]))
            assert f"{path}: {row[col]}" in text, (path, row[col])


def test_dense_statistics_led_by_dots_keep_every_figure_in_its_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """7-point figures set 7 mm apart, names led by dots: one row per state, one cell per figure (not
    "8.8 0.3 20.1 17.0" in one cell), the leaders dropped."""
    path = structure_docs.dense_statistics(tmp_path / "dense.pdf")
    table = one_table(path)
    assert table.rows() == structure_docs.DENSE and table.header_rows == 1
    monkeypatch.setattr(textgrid, "FIGURES_APART", False)
    assert [t.rows() for t in found_tables(path)] != [structure_docs.DENSE], "the figures run together"


def test_a_grid_ruled_only_inside_with_a_shaded_head_keeps_its_head_a_row_of_its_own(
    structure_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Korean report's table (../shared, docling's sample): no rule closes the shaded head at its top or bottom,
    the column rules reach up through it; the head and the first row are two rows."""
    path = structure_corpus / "docling" / "normal_4pages.pdf"
    [table] = found_tables(path)
    assert table.rows()[:2] == [["구분", "개정전", "개정후"], ["분류", "1군 감염병", "1급 감염병"]]
    monkeypatch.setattr(tables, "OPEN_ENDS", False)
    assert found_tables(path)[0].rows()[0] != ["구분", "개정전", "개정후"]


@pytest.mark.parametrize(
    "seed",
    [
        "31:financial:11:0",  # "SEGMENT RESULTS" centred over the statement: its title, not a header
        "31:financial:14:0",  # the statement's two title lines, the first reaching over the labels' column
        "31:stacked:6:0",  # a second table's only header cell, over its one column of figures
        "31:leaders:13:0",  # a column gap leaving two dots of a label's leaders
    ],
)
def test_corpus_documents_that_once_went_wrong_are_read_as_drawn(
    printer: printing.Printer, tmp_path: Path, seed: str
) -> None:
    """Documents of the development corpus (benchmarks/structure.py builds them from these seeds) that a rule
    once got wrong, each kept as a case."""
    kind = seed.split(":")[1]
    built = html.BUILDERS[kind](random.Random(seed), 0)
    printer.print(built.html, tmp_path / "doc.pdf")
    found = found_tables(tmp_path / "doc.pdf")
    assert len(found) == len(built.truth.tables)
    for table, truth in zip(found, built.truth.tables, strict=True):
        assert_same(table, truth)
