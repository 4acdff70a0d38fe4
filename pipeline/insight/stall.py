"""Whether a job that should be moving has stopped, and the plain reason, for the CLI and the dashboard."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.core import messages
from pipeline.core.models import Chunk, ChunkStatus, Job, JobStatus


def stall_reason(
    job: Job,
    chunks: Iterable[Chunk],
    *,
    workers_alive: int,
    now: float,
    stall_after_s: float,
    chunk_time_limit_s: float = 0.0,
) -> str:
    """ "" while the job moves; otherwise why it does not (no worker alive, a chunk over its time limit, or no
    progress for a while)."""
    if job.status is JobStatus.QUEUED:
        waited = now - job.created_at
        if not workers_alive and waited >= stall_after_s:
            return messages.stalled_queued(waited)
        return ""
    if job.status is not JobStatus.RUNNING:
        return ""
    chunks = list(chunks)
    if chunk_time_limit_s:
        for chunk in chunks:
            ran = now - chunk.started_at if chunk.status is ChunkStatus.RUNNING and chunk.started_at else 0.0
            if ran > chunk_time_limit_s:
                return messages.stalled_over_time(chunk.index, ran, chunk_time_limit_s)
    last_sign = max([job.updated_at, *(c.heartbeat_at or 0.0 for c in chunks)])
    quiet = now - last_sign
    if quiet < stall_after_s:
        return ""
    if not workers_alive:
        return messages.stalled_without_worker(quiet)
    return messages.stalled_with_worker(quiet)
