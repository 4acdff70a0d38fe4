"""The table benchmark's scorer (benchmarks/structure_score.py) on a hand-made ICDAR 2013 ground truth."""

from collections import Counter

import pytest

from benchmarks.structure_score import (
    adjacency_relations,
    normalize,
    parse_ground_truth,
    score_document,
)

# Two tables. The first: a header spanning columns 1-2 over an empty corner, one empty body cell.
#          col 0      col 1          col 2
#   row 0  (empty)    Releases (spans 1-2)
#   row 1  Gas        to  air        to water
#   row 2  CO2        100            (empty)
#   row 3  CH4        ﬁve            10
GROUND_TRUTH = """<?xml version="1.0" encoding="UTF-8"?>
<document filename="tiny-str.xml">
  <table id="1">
    <region id="1" page="1" col-increment="0" row-increment="0">
      <cell id="1" start-row="0" start-col="1" end-col="2"><content>Releases</content></cell>
      <cell id="2" start-row="1" start-col="0"><content>Gas</content></cell>
      <cell id="3" start-row="1" start-col="1"><content>to
 air</content></cell>
      <cell id="4" start-row="1" start-col="2"><content>to water</content></cell>
      <cell id="5" start-row="2" start-col="0"><content>CO2</content></cell>
      <cell id="6" start-row="2" start-col="1"><content>100</content></cell>
      <cell id="7" start-row="2" start-col="2"><content></content></cell>
      <cell id="8" start-row="3" start-col="0"><content>CH4</content></cell>
      <cell id="9" start-row="3" start-col="1"><content>ﬁve</content></cell>
      <cell id="10" start-row="3" start-col="2"><content>10</content></cell>
    </region>
  </table>
  <table id="2">
    <region id="1" page="2" col-increment="0" row-increment="0">
      <cell id="1" start-row="0" start-col="0"><content>A</content></cell>
      <cell id="2" start-row="0" start-col="1"><content>B</content></cell>
    </region>
  </table>
</document>
"""


def test_ground_truth_is_one_grid_per_region_with_spans_in_their_top_left_cell():
    first, second = parse_ground_truth(GROUND_TRUTH)
    assert first == [
        ["", "Releases", ""],
        ["Gas", "to\n air", "to water"],
        ["CO2", "100", ""],
        ["CH4", "ﬁve", "10"],
    ]
    assert second == [["A", "B"]]


def test_normalize_applies_nfkc_lower_case_and_collapses_whitespace():
    assert normalize("  ﬁve\n  KG\u00a0/ Year ") == "five kg / year"


def test_relations_skip_empty_cells_to_the_next_non_empty_neighbour():
    first, _ = parse_ground_truth(GROUND_TRUTH)
    assert adjacency_relations(first) == Counter(
        {
            ("gas", "to air", "right"): 1,
            ("to air", "to water", "right"): 1,
            ("co2", "100", "right"): 1,
            ("ch4", "five", "right"): 1,
            ("five", "10", "right"): 1,
            ("releases", "to air", "below"): 1,
            ("gas", "co2", "below"): 1,
            ("co2", "ch4", "below"): 1,
            ("to air", "100", "below"): 1,
            ("100", "five", "below"): 1,
            ("to water", "10", "below"): 1,  # past the empty cell in row 2
        }
    )


def test_ragged_rows_and_none_cells_count_as_empty():
    assert adjacency_relations([["x", None, "y"], ["z"]]) == Counter(  # type: ignore[list-item]
        {("x", "y", "right"): 1, ("x", "z", "below"): 1}
    )


def test_a_perfect_extraction_scores_one():
    truth = parse_ground_truth(GROUND_TRUTH)
    score = score_document(truth, truth)
    assert (score.found, score.expected, score.matched) == (12, 12, 12)
    assert score.f1 == 1.0


def test_relations_are_pooled_over_tables_and_compared_as_multisets():
    truth = parse_ground_truth(GROUND_TRUTH)
    # The second table found twice, the first found with its header lost and two body cells swapped.
    extracted = [
        [["A", "B"]],
        [["A", "B"]],
        [["Gas", "to air", "to water"], ["CO2", "100", ""], ["CH4", "10", "five"]],
    ]
    score = score_document(extracted, truth)
    # Found: A>B twice; gas>to air, to air>to water, co2>100, ch4>10, 10>five; gas_co2, co2_ch4, to air_100,
    # 100_10, to water_five. Matched: A>B once, then the 6 the swap left alone.
    assert (score.found, score.expected, score.matched) == (12, 12, 7)
    assert score.precision == pytest.approx(7 / 12)
    assert score.recall == pytest.approx(7 / 12)
    assert score.f1 == pytest.approx(7 / 12)


def test_finding_nothing_scores_zero_not_an_error():
    score = score_document([], parse_ground_truth(GROUND_TRUTH))
    assert (score.precision, score.recall, score.f1) == (0.0, 0.0, 0.0)
