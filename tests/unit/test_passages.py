"""Passages follow the document's structure and cover its merged text once, with exact offsets (real tokenizer)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.models import PassageRecord
from pipeline.profiles.retrieval.embedding import get_embedder
from pipeline.profiles.retrieval.passages import cut_passages, heading_level, page_starts

TARGET, OVERLAP = 48, 8
SENTENCE = "The committee approved the {n}th budget for the harbour works after a long debate."


@pytest.fixture(scope="module")
def offsets_of():  # type: ignore[no-untyped-def]
    return get_embedder().token_offsets


def merged(pages: list[str]) -> tuple[str, list[tuple[int, int]]]:
    texts = [(n, page.strip("\n")) for n, page in enumerate(pages, start=1)]
    return "\n\n".join(t for _, t in texts) + "\n", page_starts(texts, "\n\n")


def check_invariants(text: str, starts: list[tuple[int, int]], passages: list[PassageRecord], offsets_of) -> None:  # type: ignore[no-untyped-def]
    covered = [False] * len(text)
    for p in passages:
        assert p.text == text[p.start : p.end], "a passage is exactly its span of the merged text"
        assert p.text == p.text.strip() and p.tokens <= TARGET
        assert p.tokens == len(offsets_of([p.text])[0]), "its token count is the model's"
        for i in range(p.start, p.end):
            covered[i] = True
        page_of = [n for n, (page, at) in enumerate(starts) if at <= p.start][-1]
        last_page = [n for n, (page, at) in enumerate(starts) if at < p.end][-1]
        assert p.pages == tuple(page for page, _ in starts[page_of : last_page + 1])
    missed = [i for i, c in enumerate(text) if not c.isspace() and not covered[i]]
    assert missed == [], f"text no passage holds: {text[missed[0] : missed[0] + 40]!r}"
    for before, after in itertools.pairwise(passages):
        assert after.start >= before.start and after.index == before.index + 1
        if after.start < before.end:  # repeated: only the configured overlap, never across a heading
            assert len(offsets_of([text[after.start : before.end]])[0]) <= OVERLAP
            assert after.headings == before.headings


def test_headings_paragraphs_and_long_sections(offsets_of) -> None:  # type: ignore[no-untyped-def]
    long_section = " ".join(SENTENCE.format(n=n) for n in range(12))
    pages = [
        "ANNUAL REPORT\n\n1 Overview\n\nA short opening paragraph.\n\n1.1 Scope\n" + long_section,
        "2 Harbour works\nThe works began in May.\n\n# Appendix\n\nTables follow.",
    ]
    text, starts = merged(pages)
    passages = cut_passages(text, starts, offsets_of, target_tokens=TARGET, overlap_tokens=OVERLAP)
    check_invariants(text, starts, passages, offsets_of)
    by_heading = {p.headings: p for p in passages}
    # ANNUAL REPORT (capitals), 1 Overview and # Appendix are all level 1: each replaces the one before
    assert by_heading[("1 Overview",)].text.startswith("ANNUAL REPORT\n\n1 Overview"), "headings only: one passage"
    scope = [p for p in passages if p.headings == ("1 Overview", "1.1 Scope")]
    assert len(scope) >= 3, "a long section is cut by size"
    assert all(b.start < a.end for a, b in itertools.pairwise(scope)), "with the overlap repeated"
    harbour = by_heading[("2 Harbour works",)]
    assert harbour.text.startswith("2 Harbour works") and harbour.pages == (2,), "a heading starts a passage"
    assert by_heading[("Appendix",)].text.startswith("# Appendix")
    spanning = [p for p in passages if len(p.pages) > 1]
    assert all(p.pages == (1, 2) for p in spanning)


def test_a_sentence_longer_than_a_passage_is_cut_by_tokens(offsets_of) -> None:  # type: ignore[no-untyped-def]
    text, starts = merged(["word " * 300])
    passages = cut_passages(text, starts, offsets_of, target_tokens=TARGET, overlap_tokens=OVERLAP)
    assert len(passages) >= 6 and all(p.tokens <= TARGET for p in passages)
    check_invariants(text, starts, passages, offsets_of)


def test_empty_text_has_no_passages(offsets_of) -> None:  # type: ignore[no-untyped-def]
    text, starts = merged(["", "  \n  "])
    assert cut_passages(text, starts, offsets_of) == []


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("# Title", 1),
        ("### Deep", 3),
        ("2.1 Results", 2),
        ("3 Harbour works", 1),
        ("ANNUAL REPORT 2024", 1),
        ("The works began in May.", None),
        ("Results:", None),
        ("12 of the 40 pumps failed in the first week of the trial and were sent back", None),
        ("", None),
    ],
)
def test_heading_levels(line: str, level: int | None) -> None:
    assert heading_level(line) == level


PARAGRAPH = st.lists(
    st.sampled_from(["Alpha beta gamma.", "Ünïcode wörds here!", "数字 123 and more", "a-b_c/d e", "x" * 30]),
    min_size=1,
    max_size=12,
).map(" ".join)
BLOCK = st.one_of(PARAGRAPH, st.sampled_from(["1 Intro", "2.3 Costs", "# Notes", "SUMMARY"]))
PAGE = st.lists(BLOCK, max_size=6).map("\n\n".join)


@given(pages=st.lists(PAGE, min_size=1, max_size=4))
def test_any_text_is_covered_once_with_exact_offsets(pages: list[str]) -> None:
    offsets_of = get_embedder().token_offsets
    text, starts = merged(pages)
    passages = cut_passages(text, starts, offsets_of, target_tokens=TARGET, overlap_tokens=OVERLAP)
    check_invariants(text, starts, passages, offsets_of)
