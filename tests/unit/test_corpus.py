"""The development corpus's ground truth (tests/corpus) and the scorers that read tools' output against it
(benchmarks/page_tests.py, benchmarks/structure_score.py): a perfect output passes every test a builder writes,
and each kind of wrong output fails the tests meant to catch it."""

from __future__ import annotations

import random
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from benchmarks.page_tests import markdown_tables, normalize, read_markdown, read_text, run_test
from benchmarks.structure_score import Grid, score_document, score_headers
from tests.corpus import drawn, html, printing
from tests.corpus.truth import DocTruth, TableTruth


def ideal_markdown(doc: DocTruth) -> str:
    """What a perfect tool writes: the blocks in reading order (headings at their levels), then every table as
    HTML with its spans and header cells; no furniture."""
    levels = dict(doc.headings)
    parts = [("#" * levels[b] + " " + b) if b in levels else b for b in doc.blocks]
    parts += [html.render_table(table, "grid") for table in doc.tables]
    return "\n\n".join(parts) + "\n"


def failures(doc: DocTruth, markdown: str) -> list[dict]:
    reading = read_markdown(markdown)
    return [test for test in doc.tests if not run_test(test, reading)]


@pytest.mark.parametrize("kind", sorted(html.BUILDERS))
def test_a_perfect_output_passes_every_test_of_each_html_kind(kind: str) -> None:
    for seed in range(3):
        doc = html.BUILDERS[kind](random.Random(f"unit:{kind}:{seed}"), 0).truth
        assert doc.tests, kind
        assert failures(doc, ideal_markdown(doc)) == []


@pytest.mark.parametrize("kind", sorted(drawn.BUILDERS))
def test_a_drawn_document_holds_its_truth_and_a_perfect_output_passes(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    doc = drawn.BUILDERS[kind](random.Random(f"unit:{kind}"), path)
    assert failures(doc, ideal_markdown(doc)) == []
    pdf = pypdfium2.PdfDocument(str(path))
    text = normalize(" ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))))
    pdf.close()
    assert doc.pages >= 1
    for table in doc.tables:  # every cell the truth names is printed
        assert all(normalize(cell) in text for row in table.rows for cell in row), kind
    for furniture in doc.furniture:
        assert normalize(furniture) in text


def test_a_rotated_page_keeps_its_text_and_gets_the_rotate_entry(tmp_path: Path) -> None:
    doc = drawn.table_doc(random.Random("unit:rotate"), tmp_path / "flat.pdf")
    printing.rotate_upright(tmp_path / "flat.pdf", tmp_path / "turned.pdf", 270)
    assert pypdf.PdfReader(tmp_path / "turned.pdf").pages[0].rotation == 270
    text = pypdf.PdfReader(tmp_path / "turned.pdf").pages[0].extract_text()
    assert doc.tables[0].rows[1][0] in text


def test_a_spanning_header_is_placed_over_its_columns() -> None:
    table = TableTruth.from_rows(
        [
            [("Group", 2, 1), ("Women", 1, 2), ("Men", 1, 2)],
            ["2019", "2020", "2019", "2020"],
            ["A", "1", "2", "3", "4"],
        ],
        2,
        "headers",
    )
    assert table.rows[0] == ["Group", "Women", "", "Men", ""]
    assert table.filled()[1] == ["Group", "2019", "2020", "2019", "2020"]
    assert table.filled()[0] == ["Group", "Women", "Women", "Men", "Men"]


# --- the scorers fail on wrong output -----------------------------------------------------------------------------

SPANNING = (
    "<table><tr><th rowspan='2'>Group</th><th colspan='2'>Women</th><th colspan='2'>Men</th></tr>"
    "<tr><th>2019</th><th>2020</th><th>2019</th><th>2020</th></tr>"
    "<tr><td>A</td><td>1</td><td>2</td><td>3</td><td>4</td></tr></table>"
)
TRUTH = Grid(
    [["Group", "Women", "", "Men", ""], ["", "2019", "2020", "2019", "2020"], ["A", "1", "2", "3", "4"]],
    2,
    ((0, 0, 2, 1), (0, 1, 1, 2), (0, 3, 1, 2)),
)


def test_html_tables_keep_spans_and_header_rows() -> None:
    [grid] = markdown_tables(SPANNING)
    assert grid.header_rows == 2 and grid.rows == TRUTH.rows and set(grid.spans) == set(TRUTH.spans)
    assert score_headers([grid], [TRUTH]).f1 == 1.0
    test = {"type": "table", "cell": "3", "left": "2", "right": "4", "top_heading": "2019"}
    assert run_test(test, read_markdown(SPANNING))
    assert run_test(test | {"top_heading": "Men"}, read_markdown(SPANNING))
    assert not run_test(test | {"top_heading": "Women"}, read_markdown(SPANNING))


def test_the_header_score_fails_a_group_header_over_the_wrong_columns_or_a_lost_header_row() -> None:
    dropped = SPANNING.replace(" colspan='2'", "")  # empty spans dropped: "Men" now over the second column
    assert score_headers(markdown_tables(dropped), [TRUTH]).f1 < 0.5
    one_header = Grid(TRUTH.rows, 1, TRUTH.spans)  # the second header row read as a body row
    assert score_headers([one_header], [TRUTH]).f1 < 0.5
    assert score_document([TRUTH.rows], [TRUTH.rows]).f1 == 1.0


def test_the_table_score_fails_a_table_cut_in_two_and_a_row_merged_into_one_cell() -> None:
    truth = [["Item", "2023", "2022"], ["Sales", "$1,200", "$1,100"], ["Costs", "(300)", "(250)"]]
    cut = score_document([truth[:2], truth[2:]], [truth])  # the relations across the cut are lost
    assert cut.precision == 1.0 and cut.recall < 0.8
    merged = [truth[0], ["Sales $1,200 $1,100"], truth[2]]
    assert score_document([merged], [truth]).f1 < 0.8
    sign_apart = [["Item", "", "2023", "", "2022"], ["Sales", "$", "1,200", "$", "1,100"]]
    assert score_document([sign_apart], [truth[:2]], normalize).f1 < 1.0
    joined_with_space = [["Item", "2023", "2022"], ["Sales", "$ 1,200", "$ 1,100"]]
    assert score_document([joined_with_space], [truth[:2]], normalize).f1 == 1.0


def test_page_tests_fail_furniture_interleaved_columns_runin_headings_and_chart_tables() -> None:
    left, right = "alpha beta gamma delta epsilon zeta", "one two three four five six"
    good = f"# Title\n\n{left}\n\n**Methods.** {right}\n"
    tests = [
        {"type": "order", "before": "alpha beta gamma", "after": "one two three"},
        {"type": "absent", "text": "Downloaded from https://x.org/ on 1 May 2020"},
        {"type": "not_heading", "text": "Methods."},
        {"type": "no_table", "text": "2,000"},
        {"type": "no_list", "text": "Parse"},
        {"type": "heading", "text": "Title"},
    ]
    assert all(run_test(t, read_markdown(good)) for t in tests)
    interleaved = "alpha beta one two gamma delta three four"
    assert not run_test(tests[0], read_text(interleaved))
    assert not run_test(tests[1], read_text(good + "Downloaded from https://x.org/ on 1 May 2020"))
    assert not run_test(tests[2], read_markdown(f"### Methods. {right}\n"))
    assert not run_test(tests[3], read_markdown("| 0 | 1,000 | 2,000 |\n|---|---|---|\n| a | b | c |\n"))
    assert not run_test(tests[4], read_markdown("- Input\n  - Parse\n"))
    assert not run_test(tests[5], read_text(good))


def test_scans_allow_a_few_misread_characters_and_no_more() -> None:
    test = {"type": "present", "text": "the quarterly ledger was reviewed"}
    assert run_test(test, read_text("The quarterIy ledger was rev1ewed"), fuzz=0.1)
    assert not run_test(test, read_text("The quarterIy ledger was rev1ewed"))
    assert not run_test(test, read_text("a different sentence altogether"), fuzz=0.1)
