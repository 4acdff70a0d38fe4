"""Characters into words, words into rows (the same baseline across the page) and rows into segments (the run of
a row within one column or table cell: a gap wider than a few spaces ends a segment)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Protocol, TypeVar

from pipeline.documents.layout.page import Char

#: a gap wider than this many font sizes between two words ends a segment (a column gutter, a table's column gap)
SEGMENT_GAP = 1.2


@dataclass(frozen=True)
class Word:
    """A word; its box spans its font's height above and below its baseline, whatever its letters' shapes."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    mono: bool
    baseline: float


@dataclass(frozen=True)
class Segment:
    """Words of one row that belong together: a line of a paragraph, a heading, a table cell's line. Its text, box
    and style are worked out once, when it is made (every one is read, and ``functools.cached_property`` takes a
    lock on each first read before Python 3.12)."""

    words: tuple[Word, ...]
    #: a line of a table of contents: a title and the page it is on, set apart (a gap or dot leaders)
    contents_entry: bool = False
    #: one of several pieces of its row set apart by wide gaps (a table's row, a statement's dates): never a heading
    beside: bool = False
    text: str = field(init=False)
    x0: float = field(init=False)
    x1: float = field(init=False)
    y0: float = field(init=False)
    y1: float = field(init=False)
    #: the size most of its characters have (a footnote mark does not make a line small)
    size: float = field(init=False)
    #: at least 80% of its characters bold
    bold: bool = field(init=False)
    mono: bool = field(init=False)

    def __post_init__(self) -> None:
        words = self.words
        sizes: dict[float, int] = {}
        letters = bold = 0
        for w in words:
            count = len(w.text)
            sizes[round(w.size, 1)] = sizes.get(round(w.size, 1), 0) + count
            letters += count
            bold += count if w.bold else 0
        for name, value in (
            ("text", " ".join(w.text for w in words)),
            ("x0", words[0].x0),
            ("x1", words[-1].x1),
            ("y0", min(w.y0 for w in words)),
            ("y1", max(w.y1 for w in words)),
            ("size", max(sizes, key=sizes.__getitem__)),
            ("bold", bold >= 0.8 * letters),
            ("mono", all(w.mono for w in words)),
        ):
            object.__setattr__(self, name, value)


def words_of(chars: Sequence[Char]) -> list[Word]:
    """Consecutive characters on one baseline with no space between them, as words (in the stream's order)."""
    words: list[Word] = []
    current: list[Char] = []
    last_x0 = last_x1 = last_baseline = last_size = 0.0  # the word's last character so far
    for char in chars:
        text, x0, _, x1, _, baseline, size, _, _ = char
        if text == " ":
            if current:
                words += [_word(piece) for piece in _pieces(current)]
                current = []
            continue
        if current:
            reach = max(last_size, size, 1.0)
            # (a ligature's letters share one box: only a step back past the previous letter starts a new word)
            if (
                not abs(baseline - last_baseline) < 0.3 * reach
                or x0 - last_x1 > 0.25 * reach
                or x1 < last_x0 - 0.25 * reach
            ):
                words += [_word(piece) for piece in _pieces(current)]
                current = []
        current.append(char)
        last_x0, last_x1, last_baseline, last_size = x0, x1, baseline, size
    if current:
        words += [_word(piece) for piece in _pieces(current)]
    return words


def _pieces(chars: list[Char]) -> list[list[Char]]:
    """A run of characters with no space between them cut where one gap stands out (a word space set tighter than
    a quarter of the font, with its letters set closer still: "TOTALAGENCY" in Chromium's capitals is two words):
    a gap of a tenth of the size or more and four times the run's usual gap or more."""
    if len(chars) < 6:
        return [chars]
    gaps = [b.x0 - a.x1 for a, b in itertools.pairwise(chars)]
    usual = sorted(gaps)[len(gaps) // 2]
    size = max(chars[0].size, 1.0)
    cuts = [n + 1 for n, gap in enumerate(gaps) if gap >= 0.1 * size and gap >= 4 * max(usual, 0.02 * size)]
    if not cuts:
        return [chars]
    return [chars[a:b] for a, b in zip([0, *cuts], [*cuts, len(chars)], strict=True)]


def _word(chars: list[Char]) -> Word:
    texts, x0s, _, x1s, _, baselines, sizes, bolds, monos = zip(*chars, strict=True)
    middle = len(chars) // 2
    size = sorted(sizes)[middle]
    baseline = sorted(baselines)[middle]
    return Word(
        "".join(texts),
        min(x0s),
        baseline - 0.22 * size,
        max(x1s),
        baseline + 0.78 * size,
        size,
        sum(bolds) * 2 >= len(chars),
        all(monos),
        baseline,
    )


class _Placed(Protocol):
    @property
    def baseline(self) -> float: ...
    @property
    def size(self) -> float: ...
    @property
    def x0(self) -> float: ...


_P = TypeVar("_P", bound=_Placed)


def rows_of(words: Sequence[_P], alone: Callable[[_P], bool] | None = None) -> list[list[_P]]:
    """Words (or anything set on a baseline) on one baseline (within a third of their size), top of the page first,
    each row left to right; what ``alone`` says stands alone (a table placed whole) is a row of its own."""
    ordered = sorted(words, key=lambda w: -w.baseline)
    rows: list[list[_P]] = []
    anchor: _P | None = None  # the row's largest word: its baseline is the row's
    for word in ordered:
        if rows and anchor is not None and not (alone and (alone(word) or alone(anchor))):
            # a smaller word (a superscript, a footnote mark) may sit higher or lower than the row's baseline
            small, large = sorted((word.size, anchor.size))
            reach = 0.33 if small >= 0.85 * large else 0.6
            if abs(anchor.baseline - word.baseline) < reach * max(large, 1.0):
                rows[-1].append(word)
                if word.size > anchor.size:
                    anchor = word
                continue
        rows.append([word])
        anchor = word
    return [sorted(row, key=lambda w: w.x0) for row in rows]


def segments_of(row: Sequence[Word], gap: float = SEGMENT_GAP) -> list[Segment]:
    """A row cut where the gap between two words is wider than ``gap`` font sizes."""
    segments: list[Segment] = []
    current: list[Word] = [row[0]]
    for word in row[1:]:
        previous = current[-1]
        if word.x0 - previous.x1 > gap * max(previous.size, word.size, 1.0):
            segments.append(Segment(tuple(current)))
            current = []
        current.append(word)
    segments.append(Segment(tuple(current)))
    return segments


def body_size(segments: Sequence[Segment]) -> float:
    """The font size of the page's running text: the size most characters have."""
    weights: dict[float, int] = {}
    for segment in segments:
        weights[segment.size] = weights.get(segment.size, 0) + len(segment.text)
    return max(weights, key=lambda s: weights[s]) if weights else 10.0


def line_height(segments: Sequence[Segment]) -> float:
    heights = [s.y1 - s.y0 for s in segments]
    return median(heights) if heights else 10.0
