"""The arithmetic of the budgets: render scales within the pixel budget, previews sharing it, pages opened at
intake, and the settings that carry them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.settings import Settings
from pipeline.documents.images import preview_side
from pipeline.documents.pdf import pages_to_open, render_scale


def test_an_ordinary_page_keeps_the_ocr_resolution() -> None:
    assert render_scale(595, 842, 300, 50_000_000) == 300 / 72  # A4: 2480 x 3508 pixels, 8.7 MP


def test_the_issue_22_page_is_rendered_within_the_budget() -> None:
    scale = render_scale(8880, 8880, 300, 50_000_000)
    side = math.ceil(8880 * scale)
    assert side * side <= 50_000_000 and side == 7064 and round(scale * 72) == 57


@given(
    width=st.floats(1, 200_000),
    height=st.floats(1, 200_000),
    dpi=st.integers(36, 1200),
    budget=st.integers(1_000, 500_000_000),
)
def test_no_render_exceeds_the_budget_nor_its_dpi(width: float, height: float, dpi: int, budget: int) -> None:
    scale = render_scale(width, height, dpi, budget)
    assert 0 < scale <= dpi / 72
    assert math.ceil(width * scale) * math.ceil(height * scale) <= max(budget, 1)


def test_a_preview_of_many_pages_shares_the_budget() -> None:
    assert preview_side(1, 2048, 50_000_000) == 2048
    assert preview_side(36, 2048, 50_000_000) == 1178
    assert 5000 * preview_side(5000, 2048, 50_000_000) ** 2 <= 50_000_000
    assert preview_side(10**9, 2048, 50_000_000) == 16, "never below a readable thumbnail"


@pytest.mark.parametrize(
    ("pages", "opened"),
    [(1, [0]), (3, [2, 0, 1]), (8, [7, 0, 1, 2, 3, 4, 5, 6]), (1_000_000, [999_999, 0, 142857, 285714])],
)
def test_intake_opens_the_last_page_first_then_a_spread(pages: int, opened: list[int]) -> None:
    chosen = pages_to_open(pages)
    assert chosen[: len(opened)] == opened and len(chosen) == min(pages, 8)


def test_the_budgets_are_settings_with_defaults() -> None:
    default = Settings.from_env({})
    assert (default.max_pages, default.worker_memory_mb, default.max_image_pixels) == (5000, 4096, 50_000_000)
    assert (default.intake_timeout_s, default.intake_memory_mb) == (30.0, 1024)
    env = {
        "PAPERLINE_MAX_PAGES": "10",
        "PAPERLINE_WORKER_MEMORY_MB": "0",
        "PAPERLINE_INTAKE_TIMEOUT_S": "2.5",
        "PAPERLINE_INTAKE_MEMORY_MB": "300",
    }
    chosen = Settings.from_env(env)
    assert (chosen.max_pages, chosen.worker_memory_mb, chosen.intake_timeout_s, chosen.intake_memory_mb) == (
        10,
        0,
        2.5,
        300,
    )
