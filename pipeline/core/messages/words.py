"""Words every message uses: counts with their noun, page lists as runs."""

from __future__ import annotations

from collections.abc import Sequence


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 page", "3 pages"."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def format_pages(pages: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    ordered = sorted(pages)
    if not ordered:
        return ""
    runs: list[str] = []
    start = prev = ordered[0]
    for page in ordered[1:]:
        if page == prev + 1:
            prev = page
        else:
            runs.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = page
    runs.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(runs)
