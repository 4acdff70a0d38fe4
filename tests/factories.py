"""Jobs and chunks built by hand with chosen timings, for analytics and ETA tests."""

from __future__ import annotations

from pipeline.core.models import Chunk, ChunkStatus, Job, JobStatus, Stage

DAY1 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
DAY2 = DAY1 + 86_400


def job(job_id: str, created: float, started: float | None, finished: float | None, **fields) -> Job:  # type: ignore[no-untyped-def]
    values = dict(
        id=job_id,
        filename=f"{job_id}.pdf",
        kind="pdf",
        profile="text",
        engine="local",
        status=JobStatus.COMPLETED,
        stage=Stage.COMPLETED,
        progress=100.0,
        message="",
        pages=10,
        pages_done=10,
        chunks_total=1,
        chunks_done=1,
        chunks_failed=0,
        created_at=created,
        started_at=started,
        finished_at=finished,
        updated_at=finished or created,
        error="",
        sha256=job_id,
        size_bytes=1000,
        user="ann",
        cached_from=None,
        compressed_bytes=None,
    )
    values.update(fields)
    return Job(**values)  # type: ignore[arg-type]


def chunk(job_id: str, index: int, start: float, end: float, worker: str = "w1", **fields) -> Chunk:  # type: ignore[no-untyped-def]
    values = dict(
        job_id=job_id,
        index=index,
        first_page=index * 5 + 1,
        last_page=index * 5 + 5,
        context_first=index * 5 + 1,
        context_last=index * 5 + 5,
        status=ChunkStatus.DONE,
        attempts=1,
        worker=worker,
        pages_done=5,
        started_at=start,
        finished_at=end,
        heartbeat_at=end,
        error="",
    )
    values.update(fields)
    return Chunk(**values)  # type: ignore[arg-type]
