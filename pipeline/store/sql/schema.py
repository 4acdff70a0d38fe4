"""The job store's columns, and how rows become ``Job``, ``Chunk`` and ``Event`` snapshots (every SQL backend)."""

from __future__ import annotations

import json
from typing import Any

from pipeline.core.lifecycle import EventKind
from pipeline.core.models import Chunk, ChunkStatus, Event, Job, JobStatus, Stage

JOB_COLUMNS = (
    "id, filename, kind, profile, engine, status, stage, progress, message, pages, pages_done, chunks_total, "
    "chunks_done, chunks_failed, created_at, started_at, finished_at, updated_at, error, sha256, size_bytes, "
    '"user", cached_from, compressed_bytes, notes, meta, input_tokens, output_tokens, cost_usd, last_used_at, '
    "purged_at, step_recoveries"
)
CHUNK_COLUMNS = (
    "job_id, idx, first_page, last_page, context_first, context_last, status, attempts, worker, pages_done, "
    "started_at, finished_at, heartbeat_at, error, input_tokens, output_tokens, cost_usd, attempt_base"
)
EVENT_COLUMNS = "id, job_id, at, kind, status, stage, progress, chunk_index, message"


def job_from_row(row: Any) -> Job:
    data = dict(row)
    data["status"] = JobStatus(data["status"])
    data["stage"] = Stage(data["stage"])
    data["notes"] = tuple(json.loads(data["notes"]))
    data["meta"] = json.loads(data["meta"])
    return Job(**data)


def chunk_from_row(row: Any) -> Chunk:
    data = dict(row)
    data["index"] = data.pop("idx")
    data["status"] = ChunkStatus(data["status"])
    return Chunk(**data)


def event_from_row(row: Any) -> Event:
    data = dict(row)
    data["kind"] = EventKind(data["kind"])
    return Event(**data)
