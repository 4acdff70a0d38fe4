"""The interface every extraction engine implements: one chunk's pages in, page texts out.

An extractor turns one chunk's pages into ``PageText``s and reports each finished page; it never writes to the
store itself, so the same extractor runs in the worker, in a notebook and in tests.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.models import DocumentKind, PageText


@dataclass(frozen=True)
class ChunkWork:
    """What an extractor needs to know about the chunk it extracts."""

    job_id: str
    index: int
    kind: DocumentKind
    profile: str
    source: Path
    first_page: int
    last_page: int
    context_first: int
    context_last: int
    instruction: str = ""
    #: what a model engine is asked to extract (the profile's ``model_task``, or the analyst's instruction);
    #: "" for a faithful transcription
    task: str = ""
    #: whether a model's answer for each page is a JSON array of row objects (the profile's ``model_rows``)
    rows: bool = False
    #: read each page's layout too (headings, lists, tables, reading order), for profiles that write structure
    structure: bool = False


@dataclass
class ChunkOutput:
    pages: list[PageText]
    notes: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    #: the model's answer(s) as received, kept beside the chunk's result
    raw_answer: str = ""


PageDone = Callable[[int], None]


class Extractor(abc.ABC):
    """Turns one chunk of a document into page texts."""

    name: str

    @abc.abstractmethod
    def extract(self, work: ChunkWork, page_done: PageDone) -> ChunkOutput:
        """Extract the pages ``work`` owns (it may read context pages), calling ``page_done(1)`` per page."""
