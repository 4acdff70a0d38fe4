from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.models import PageText
from pipeline.core.settings import Settings
from pipeline.jobs.chunking import IncompleteMerge, chunk_size_for, merge_pages, plan_chunks, plan_for
from pipeline.profiles.text import render_text


def fake_page(page: int) -> PageText:
    return PageText(page, f"text of page {page}\nsecond line {page}")


def extract_with_context(span) -> list[PageText]:  # type: ignore[no-untyped-def]
    """What an extractor that also returns its context pages would give back."""
    return [fake_page(p) for p in range(span.context_first, span.context_last + 1)]


@pytest.mark.parametrize(
    ("pages", "chunk_pages", "chunks"),
    [(1, 1, 1), (30, 30, 1), (31, 20, 2), (100, 20, 5), (101, 15, 7), (300, 15, 20)],
)
def test_default_plan_follows_document_size(pages: int, chunk_pages: int, chunks: int) -> None:
    settings = Settings()
    assert chunk_size_for(pages, settings) == chunk_pages
    assert len(plan_for(pages, settings)) == chunks


def test_plan_sizes_are_configurable() -> None:
    settings = Settings(single_chunk_max_pages=5, medium_max_pages=10, medium_chunk_pages=3, large_chunk_pages=4)
    assert [s.last_page for s in plan_for(5, settings)] == [5]
    assert [s.last_page for s in plan_for(10, settings)] == [3, 6, 9, 10]
    assert [s.last_page for s in plan_for(11, settings)] == [4, 8, 11]


@given(pages=st.integers(1, 600), chunk_pages=st.integers(1, 60), overlap=st.integers(0, 8))
def test_chunks_own_every_page_exactly_once(pages: int, chunk_pages: int, overlap: int) -> None:
    spans = plan_chunks(pages, chunk_pages, overlap)
    owned = [p for s in spans for p in range(s.first_page, s.last_page + 1)]
    assert owned == list(range(1, pages + 1))
    for span in spans:
        assert 1 <= span.context_first <= span.first_page <= span.last_page <= span.context_last <= pages
        assert span.first_page - span.context_first == min(overlap, span.first_page - 1)
        assert span.context_last - span.last_page == min(overlap, pages - span.last_page)
        assert span.last_page - span.first_page + 1 <= chunk_pages
    assert [s.index for s in spans] == list(range(len(spans)))


@given(pages=st.integers(1, 400), chunk_pages=st.integers(1, 50), overlap=st.integers(0, 6))
def test_merged_result_equals_single_pass(pages: int, chunk_pages: int, overlap: int) -> None:
    spans = plan_chunks(pages, chunk_pages, overlap)
    merged = merge_pages(spans, [extract_with_context(s) for s in spans])
    single_pass = [fake_page(p) for p in range(1, pages + 1)]
    assert merged == single_pass
    assert render_text(merged) == render_text(single_pass)


@given(pages=st.integers(2, 200), chunk_pages=st.integers(1, 40), data=st.data())
def test_results_arriving_in_any_order_merge_in_page_order(pages: int, chunk_pages: int, data) -> None:  # type: ignore[no-untyped-def]
    spans = plan_chunks(pages, chunk_pages, 1)
    results = [list(reversed(extract_with_context(s))) for s in spans]
    order = data.draw(st.permutations(range(len(spans))))
    merged = merge_pages([spans[i] for i in order], [results[i] for i in order])
    assert [p.page for p in merged] == list(range(1, pages + 1))


def test_merge_refuses_a_missing_chunk() -> None:
    spans = plan_chunks(45, 15, 1)
    results = [extract_with_context(spans[0]), [], extract_with_context(spans[2])]
    with pytest.raises(IncompleteMerge, match="missing"):
        merge_pages(spans, results)
    partial = merge_pages(spans, results, allow_missing=True)
    assert [p.page for p in partial] == [*range(1, 16), *range(31, 46)]


def test_merge_refuses_a_page_twice() -> None:
    spans = plan_chunks(10, 5, 0)
    with pytest.raises(IncompleteMerge, match="twice"):
        merge_pages(spans, [[fake_page(1), fake_page(1)], extract_with_context(spans[1])])


@pytest.mark.parametrize(("pages", "chunk_pages", "overlap"), [(0, 5, 0), (5, 0, 0), (5, 5, -1)])
def test_plan_refuses_nonsense(pages: int, chunk_pages: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        plan_chunks(pages, chunk_pages, overlap)
