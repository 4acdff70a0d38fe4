"""Chunk planning and merging: which pages each chunk owns, and how chunk results become one document.

A chunk *owns* a run of pages and may *read* ``overlap`` pages either side for context. Merging keeps each
page only from the chunk that owns it, so the merged result equals a single pass over the whole document
whatever the chunk size or overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipeline.core.models import ChunkSpan, PageText
from pipeline.core.settings import Settings


def chunk_size_for(pages: int, settings: Settings) -> int:
    """Pages per chunk: one chunk for short documents, smaller chunks as documents grow."""
    if pages <= settings.single_chunk_max_pages:
        return max(1, pages)
    if pages <= settings.medium_max_pages:
        return settings.medium_chunk_pages
    return settings.large_chunk_pages


def plan_chunks(pages: int, chunk_pages: int, overlap: int = 0) -> list[ChunkSpan]:
    """Split ``pages`` pages into runs of ``chunk_pages`` owned pages, each with ``overlap`` pages of context."""
    if pages < 1:
        raise ValueError("a document needs at least one page to plan chunks")
    if chunk_pages < 1:
        raise ValueError("chunk_pages must be at least 1")
    if overlap < 0:
        raise ValueError("overlap must not be negative")
    spans = []
    for index, first in enumerate(range(1, pages + 1, chunk_pages)):
        last = min(pages, first + chunk_pages - 1)
        spans.append(
            ChunkSpan(
                index=index,
                first_page=first,
                last_page=last,
                context_first=max(1, first - overlap),
                context_last=min(pages, last + overlap),
            )
        )
    return spans


def plan_for(pages: int, settings: Settings) -> list[ChunkSpan]:
    return plan_chunks(pages, chunk_size_for(pages, settings), settings.overlap_pages)


class IncompleteMerge(ValueError):
    """Chunk results do not cover every page exactly once."""


def merge_pages(
    spans: Sequence[ChunkSpan], results: Iterable[Sequence[PageText]], *, allow_missing: bool = False
) -> list[PageText]:
    """Keep every page once, from the chunk that owns it, in page order.

    ``results`` line up with ``spans``; a result may hold context pages, which are dropped here. With
    ``allow_missing`` (a partial result after failed chunks) pages of missing chunks are simply absent.
    """
    merged: dict[int, PageText] = {}
    for span, pages in zip(spans, results, strict=True):
        for page in pages:
            if span.first_page <= page.page <= span.last_page:
                if page.page in merged:
                    raise IncompleteMerge(f"page {page.page} was extracted twice by chunk {span.index + 1}")
                merged[page.page] = page
    if not allow_missing and spans:
        expected = set(range(spans[0].first_page, spans[-1].last_page + 1))
        missing = sorted(expected - merged.keys())
        if missing:
            raise IncompleteMerge(f"pages missing from the merged result: {missing[:10]}")
    return [merged[p] for p in sorted(merged)]
