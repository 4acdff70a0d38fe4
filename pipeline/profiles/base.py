"""What a profile is: the formats it writes from a job's merged pages, the engines that offer it, and what it adds
around the job (an instruction, a step after merging). Core code asks a profile these things instead of comparing
profile names; ``pipeline.profiles.registry`` holds every profile by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.core.models import Job, PageText

#: a profile's renderer: the merged pages, the document's title and its metadata -> file content by format name
Renderer = Callable[[Sequence[PageText], str, dict[str, Any]], dict[str, str]]


def _available() -> str:
    return ""


@dataclass(frozen=True)
class Profile:
    """One way of turning a document into results (see the module's docstring)."""

    name: str
    #: one line for pickers and ``--help``
    description: str
    #: the engines that offer it, in the order they offer their profiles (an engine's first is its default)
    engines: tuple[str, ...]
    #: the formats it writes, its main format first (each registered in ``pipeline.files.jobfiles``)
    formats: tuple[str, ...]
    render: Renderer
    #: whether a job may be answered with a copy of an earlier job's results for the same bytes
    cacheable: bool = True
    #: whether the analyst writes what to extract (kept on the job as ``meta["instruction"]``); a model engine is
    #: then asked exactly that
    needs_instruction: bool = False
    #: what a model engine (Claude) is asked to extract for it; "" for the engine's faithful transcription
    model_task: str = ""
    #: whether a model's answer for each page is a JSON array of row objects (checked, and asked again if not)
    model_rows: bool = False
    #: whether its jobs go on after merging to embedding and indexing (the stages the page shows)
    indexed: bool = False
    #: why it cannot be used on this installation ("" when it can)
    unavailable: Callable[[], str] = _available
    #: runs after a clean merge instead of completing the job: ``after_merge(runner, job, pages)``; the runner is
    #: the job's steps (settings, store, storage, tasks, files)
    after_merge: Callable[[Any, Job, list[PageText]], None] | None = None
    #: carries on a job found stale in one of its own stages after merging: ``resume(runner, job)``
    resume: Callable[[Any, Job], None] | None = None
    #: whether the engine reads each page's layout for it (headings, lists, tables, reading order)
    structure: bool = False
    #: a list in its JSON result the page shows as a table (with these columns), e.g. sentences
    table: tuple[str, tuple[str, ...]] | None = None


def pages_payload(pages: Sequence[PageText], profile: str, document: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The JSON result every profile starts from: the document, the profile and each page's text."""
    return {
        "document": document,
        "profile": profile,
        "pages": [{"page": p.page, "method": p.method, "text": p.text} for p in pages],
        **extra,
    }


def as_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2)
