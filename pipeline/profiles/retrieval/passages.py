"""Cutting a document's merged text into passages that follow its structure, for embedding and search.

A passage is a span of the merged text (exact character offsets, so a hit can be shown in place) that starts at a
heading or a paragraph where it can, holds at most ``target_tokens`` model tokens, and repeats the last
``overlap_tokens`` of the passage before it when a long section had to be cut by size (never across a heading).
Each carries its page numbers and the path of headings it sits under.

Token counts come from the embedding model's own tokenizer through ``TokenOffsets``; BERT's WordPiece never
makes a token across whitespace, so the tokens of a passage are the tokens of its parts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pipeline.core.models import PassageRecord

#: for each text, the (start, end) character offsets of its tokens
TokenOffsets = Callable[[Sequence[str]], list[list[tuple[int, int]]]]

_BLOCK = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")  # lines up to a blank line
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_MARKDOWN_HEADING = re.compile(r"#{1,6}(?=\s)")
_NUMBERED_HEADING = re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+\S")
_CAPITAL_AFTER_NUMBER = re.compile(r"[\d.]+\s+[A-Z]")
MAX_HEADING_WORDS = 12


def embedding_input(text: str, headings: Sequence[str]) -> str:
    """What is embedded for a passage: its heading path, then its text (the section says what it is about)."""
    if not headings or text.startswith(headings[-1]):
        return text
    return " > ".join(headings) + "\n" + text


def heading_level(line: str) -> int | None:
    """The level of a heading line (Markdown ``#``, numbered ``2.1 Results``, or an ALL CAPS title), else None."""
    line = line.strip()
    words = line.split()
    if not words or len(words) > MAX_HEADING_WORDS or line.endswith((".", ",", ";", ":")):
        return None
    if marks := _MARKDOWN_HEADING.match(line):
        return len(marks.group(0))
    if (number := _NUMBERED_HEADING.match(line)) and any(c.isalpha() for c in line):
        return number.group(1).count(".") + 1
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters):
        return 1
    return None


def heading_title(line: str) -> str:
    return line.strip().lstrip("#").strip()


@dataclass
class _Unit:
    """A piece the passages are packed from: a heading, a paragraph, a sentence or a window of a long sentence."""

    start: int
    end: int
    token_starts: list[int]  # absolute offset of each token
    heading: int | None = None  # its level, for a heading


@dataclass
class _Open:
    start: int
    end: int = 0
    token_starts: list[int] = field(default_factory=list)
    headings: tuple[str, ...] | None = None  # fixed at the first content that is not a heading
    only_headings: bool = True


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def _word_start(text: str, token_starts: list[int]) -> list[int]:
    """Drop leading tokens that continue a word (WordPiece's ``##`` pieces): an overlap starts on a word."""
    while len(token_starts) > 1:
        at = token_starts[0]
        if at == 0 or not (text[at - 1].isalnum() and text[at].isalnum()):
            break
        token_starts = token_starts[1:]
    return token_starts


def _split_headings(text: str, start: int, end: int) -> list[tuple[int, int, int | None]]:
    """A block as (start, end, heading level or None) parts: a heading line inside a block stands on its own (text
    layers rarely keep the blank line after a heading). Inside a block, a numbered heading must be capitalised."""
    parts: list[tuple[int, int, int | None]] = []
    run_start = None
    offset = start
    for line in text[start:end].split("\n"):
        line_start, line_end = _strip_span(text, offset, offset + len(line))
        offset += len(line) + 1
        level = heading_level(line) if line.strip() else None
        if (
            level is not None
            and _NUMBERED_HEADING.match(line.strip())
            and not _CAPITAL_AFTER_NUMBER.match(line.strip())
        ):
            level = None
        if level is None:
            run_start = line_start if run_start is None else run_start
            run_end = line_end
            continue
        if run_start is not None:
            parts.append((run_start, run_end, None))
            run_start = None
        parts.append((line_start, line_end, level))
    if run_start is not None:
        parts.append((run_start, run_end, None))
    return [(a, b, level) for a, b, level in parts if b > a]


def _units(text: str, offsets_of: TokenOffsets, target_tokens: int) -> list[_Unit]:
    blocks = []
    for match in _BLOCK.finditer(text):
        blocks.extend(_split_headings(text, *_strip_span(text, match.start(), match.end())))
    pieces: list[tuple[int, int, int | None]] = []
    for start, end, level in blocks:
        block = text[start:end]
        if level is not None:
            pieces.append((start, end, level))
            continue
        cut = start
        for match in _SENTENCE_END.finditer(block):
            pieces.append((cut, start + match.start(), None))
            cut = start + match.end()
        pieces.append((cut, end, None))
    token_lists = offsets_of([text[s:e] for s, e, _ in pieces])
    units: list[_Unit] = []
    for (start, end, level), tokens in zip(pieces, token_lists, strict=True):
        starts = [start + a for a, _ in tokens]
        ends = [start + b for _, b in tokens]
        if level is not None and len(starts) > target_tokens:
            level = None  # a "heading" as long as a passage is text
        if len(starts) <= target_tokens:
            units.append(_Unit(start, end, starts, level))
            continue
        for first in range(0, len(starts), target_tokens):  # one sentence longer than a passage: cut by tokens
            window = starts[first : first + target_tokens]
            last_end = ends[min(first + target_tokens, len(ends)) - 1]
            units.append(_Unit(window[0], end if first + target_tokens >= len(starts) else last_end, window))
    return units


def cut_passages(
    text: str,
    page_starts: Sequence[tuple[int, int]],
    offsets_of: TokenOffsets,
    *,
    target_tokens: int = 128,
    overlap_tokens: int = 16,
    job_id: str = "",
) -> list[PassageRecord]:
    """The passages of ``text`` (of job ``job_id``); ``page_starts`` lists (page number, offset where the page
    starts) in order."""
    if target_tokens < 8 or not 0 <= overlap_tokens < target_tokens // 2:
        raise ValueError("target_tokens must be at least 8 and overlap_tokens under half of it")
    offsets = [start for _, start in page_starts]
    numbers = [page for page, _ in page_starts]

    def pages_of(start: int, end: int) -> tuple[int, ...]:
        if not numbers:
            return ()
        first = max(0, bisect.bisect_right(offsets, start) - 1)
        last = max(0, bisect.bisect_right(offsets, end - 1) - 1)
        return tuple(numbers[first : last + 1])

    passages: list[PassageRecord] = []
    stack: list[tuple[int, str]] = []

    def close(current: _Open) -> None:
        if not current.token_starts:
            return
        headings = current.headings if current.headings is not None else tuple(t for _, t in stack)
        passages.append(
            PassageRecord(
                job_id=job_id,
                index=len(passages),
                text=text[current.start : current.end],
                start=current.start,
                end=current.end,
                pages=pages_of(current.start, current.end),
                headings=headings,
                tokens=len(current.token_starts),
            )
        )

    current: _Open | None = None
    for unit in _units(text, offsets_of, target_tokens):
        if unit.heading is not None:
            if current is not None and not current.only_headings:
                close(current)
                current = None
            stack[:] = [(level, title) for level, title in stack if level < unit.heading]
            stack.append((unit.heading, heading_title(text[unit.start : unit.end])))
        elif current is not None and len(current.token_starts) + len(unit.token_starts) > target_tokens:
            close(current)
            # a section cut by size: the next passage repeats the end of this one
            room = min(overlap_tokens, target_tokens - len(unit.token_starts))  # never past the target size
            kept = current.token_starts[len(current.token_starts) - room :] if room > 0 else []
            kept = _word_start(text, kept) if kept else kept
            current = _Open(start=kept[0] if kept else unit.start, token_starts=list(kept), only_headings=False)
            current.headings = tuple(t for _, t in stack)
        if current is None:
            current = _Open(start=unit.start)
        current.end = unit.end
        current.token_starts.extend(unit.token_starts)
        if unit.heading is None and current.headings is None:
            current.headings = tuple(t for _, t in stack)
        current.only_headings = current.only_headings and unit.heading is not None
    if current is not None:
        close(current)
    return passages


def page_starts(page_texts: Sequence[tuple[int, str]], separator: str) -> list[tuple[int, int]]:
    """Where each page starts in ``separator.join(texts)`` (how ``profiles.render_text`` merges pages)."""
    starts, offset = [], 0
    for page, page_text in page_texts:
        starts.append((page, offset))
        offset += len(page_text) + len(separator)
    return starts
