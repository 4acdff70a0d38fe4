"""The retrieval profile as the registry sees it: the text (and JSON) of every page, then passages cut, embedded
and indexed after merging, so ``search`` finds them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.core.models import Job, PageText
from pipeline.profiles.base import Profile, as_json, pages_payload
from pipeline.profiles.retrieval.embedding import unavailable_reason
from pipeline.profiles.structured import passage_pages, tree
from pipeline.profiles.text import PAGE_SEPARATOR

#: the profile's name (``pipeline.profiles.retrieval.steps.PROFILE`` names it too)
PROFILE = "retrieval"


def _render(pages: Sequence[PageText], title: str, document: dict[str, Any]) -> dict[str, str]:
    # The text passages are cut from (their offsets point into it): the pages as read, or their structure. The
    # structure's elements go in the JSON too, with their boxes: the page view marks a search hit's region by them.
    from pipeline.documents.layout.document import document_elements, has_layout  # only when writing

    elements = document_elements(pages) if has_layout(pages) else None
    texts = passage_pages(pages, elements)
    extra = {"elements": tree(elements)} if elements is not None else {}
    payload = pages_payload(pages, PROFILE, document, **extra)
    for page, (_, page_text) in zip(payload["pages"], texts, strict=True):
        page["text"] = page_text  # result.txt is these pages joined, as for every profile
    return {"text": PAGE_SEPARATOR.join(page_text for _, page_text in texts) + "\n", "json": as_json(payload)}


# The steps after merging (and the store, retention and embedding they use) are imported by the worker that runs
# them, not by every process that reads the registry.
def _start(runner: Any, job: Job, pages: list[PageText]) -> None:
    from pipeline.profiles.retrieval import steps

    steps.start(runner, job, pages)


def _resume(runner: Any, job: Job) -> None:
    from pipeline.profiles.retrieval import steps

    steps.resume(runner, job)


RETRIEVAL = Profile(
    name=PROFILE,
    description="passages for search by meaning (indexed after extraction)",
    engines=("local", "claude"),
    # passages.jsonl is written once the passages are embedded
    formats=("text", "passages", "json"),
    render=_render,
    cacheable=False,  # a job's passages live in the store per job: it is extracted again rather than copied
    indexed=True,
    structure=True,
    unavailable=unavailable_reason,
    after_merge=_start,
    resume=_resume,
)
