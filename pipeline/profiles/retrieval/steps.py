"""The retrieval profile's steps after merging: cut passages, embed them in batches spread over workers, index.

``start`` runs in the merge task: it cuts the merged text into passages, records them and queues one embedding
task per ``embed_batch_passages`` passages, so any worker (on any host) takes a batch, as with chunks. Each task
embeds its batch with this process's model (loaded once) and stores the vectors; the store says which batch was
the last, and that task indexes the job: writes ``passages.jsonl`` and completes it. A job lost while embedding or
indexing is found by the recovery sweep like a lost merge, and ``resume`` queues what is left.
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

from pipeline.core import messages
from pipeline.core.models import Job, JobStatus, PageText, PassageRecord, Stage
from pipeline.core.settings import Settings
from pipeline.files.jobfiles import JobFiles, result_name
from pipeline.files.retention import enforce_limits
from pipeline.files.storage import FileStorage
from pipeline.profiles.retrieval.embedding import get_embedder
from pipeline.profiles.retrieval.passages import cut_passages, embedding_input, page_starts
from pipeline.profiles.structured import passage_pages
from pipeline.profiles.text import PAGE_SEPARATOR
from pipeline.store import JobStore


class EmbeddingQueue(Protocol):
    def enqueue_embedding(self, job_id: str, first: int) -> None: ...


class Processor(Protocol):
    """What these steps need of the job's runner (``pipeline.jobs.steps.Processor``), named here so the profile
    does not import the steps that call it."""

    settings: Settings
    store: JobStore
    storage: FileStorage | None

    @property
    def tasks(self) -> EmbeddingQueue: ...  # read-only, so a runner's wider Scheduler fits

    def files(self, job_id: str) -> JobFiles: ...


log = logging.getLogger("paperline.retrieval")
PROFILE = "retrieval"


def start(processor: Processor, job: Job, pages: list[PageText]) -> None:
    """Cut the merged pages into passages and queue their embedding (or complete an empty job, saying so)."""
    settings, store = processor.settings, processor.store
    texts = passage_pages(pages)
    text = PAGE_SEPARATOR.join(page_text for _, page_text in texts) + "\n"
    starts = page_starts(texts, PAGE_SEPARATOR)
    records = cut_passages(
        text,
        starts,
        get_embedder().token_offsets,
        target_tokens=settings.passage_tokens,
        overlap_tokens=settings.passage_overlap_tokens,
        job_id=job.id,
    )
    if not records:
        processor.files(job.id).write(result_name("passages"), "")
        store.add_note(job.id, messages.NOTHING_TO_INDEX)
        store.finish(job.id, JobStatus.COMPLETED, messages.indexed(job.pages, 0))
        return
    if store.start_embedding(job.id, records):
        for first in range(0, len(records), settings.embed_batch_passages):
            processor.tasks.enqueue_embedding(job.id, first)


def embed_batch(processor: Processor, job_id: str, first: int) -> None:
    """Embed passages ``first`` onwards (one batch) and store their vectors; the last batch indexes the job."""
    store = processor.store
    job = store.get(job_id)
    if job is None or job.status is not JobStatus.RUNNING or job.stage is not Stage.EMBEDDING:
        return  # canceled, or done by another attempt
    passages = store.passages_to_embed(job_id, first, processor.settings.embed_batch_passages)
    vectors = get_embedder().embed([embedding_input(p.text, p.headings) for p in passages]) if passages else []
    if store.save_vectors(job_id, [(p.index, v.tobytes()) for p, v in zip(passages, vectors, strict=True)]):
        index(processor, job_id)


def index(processor: Processor, job_id: str) -> None:
    """Write ``passages.jsonl`` (what LangChain- and LlamaIndex-style JSONL loaders read) and complete the job."""
    store = processor.store
    job = store.get(job_id)
    if job is None or job.status is not JobStatus.RUNNING or job.stage is not Stage.INDEXING:
        return
    passages = store.list_passages(job_id)
    files = processor.files(job_id)
    files.write(result_name("passages"), passages_jsonl(job, passages))
    store.finish(job_id, JobStatus.COMPLETED, messages.indexed(job.pages, len(passages)))
    enforce_limits(processor.settings, store, files.storage)  # the job ended here, not at its merge


def resume(processor: Processor, job: Job) -> None:
    """Carry on a job found stale while embedding (queue the batches still without vectors) or indexing."""
    if job.stage is Stage.INDEXING:
        index(processor, job.id)
        return
    batch = processor.settings.embed_batch_passages
    missing = processor.store.unembedded_passages(job.id)
    if not missing:  # every vector is in: only the hand-over to indexing was lost
        if processor.store.save_vectors(job.id, []):
            index(processor, job.id)
        return
    for first in sorted({index - index % batch for index in missing}):
        processor.tasks.enqueue_embedding(job.id, first)


def passage_dict(job: Job, passage: PassageRecord, *, vector: bool = False) -> dict[str, object]:
    """One line of ``passages.jsonl``: the text and the metadata a loader keeps with it."""
    row: dict[str, object] = {
        "id": f"{job.id}:{passage.index}",
        "text": passage.text,
        "metadata": {
            "job_id": job.id,
            "source": job.filename,
            "passage": passage.index,
            "pages": list(passage.pages),
            "start": passage.start,
            "end": passage.end,
            "headings": list(passage.headings),
            "tokens": passage.tokens,
        },
    }
    if vector and passage.vector is not None:
        import numpy as np

        row["embedding"] = [round(float(x), 7) for x in np.frombuffer(passage.vector, dtype=np.float32)]
    return row


def passages_jsonl(job: Job, passages: list[PassageRecord], *, vectors: bool = False) -> str:
    return "".join(json.dumps(passage_dict(job, p, vector=vectors), ensure_ascii=False) + "\n" for p in passages)
