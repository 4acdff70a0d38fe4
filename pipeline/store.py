"""The job store's interface: the one seam between Paperline and the database that holds its jobs.

Every reader and writer (worker, dashboard, CLI, notebooks) goes through ``JobStore``; SQLite is the
embedded default and a PostgreSQL backend is a new subclass, not a rewrite. ``tests/unit/test_store_contract.py``
holds the contract every backend must pass.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .config import Settings
from .models import Chunk, ChunkStatus, Event, Job, JobStatus, Stage, WorkerBeat


@dataclass(frozen=True)
class NewJob:
    """What intake knows about a document when it records the job."""

    id: str
    filename: str
    kind: str
    profile: str
    engine: str
    sha256: str
    size_bytes: int
    user: str
    pages: int = 0
    status: JobStatus = JobStatus.QUEUED
    stage: Stage = Stage.QUEUED
    message: str = "Queued"
    error: str = ""
    cached_from: str | None = None
    meta: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChunkSpan:
    """A planned chunk: the pages it owns and the wider page range it may read for context (1-based)."""

    index: int
    first_page: int
    last_page: int
    context_first: int
    context_last: int


@dataclass(frozen=True)
class Changes:
    """What changed in the store after a revision: the feed's unit of work."""

    revision: int
    jobs: list[Job]
    chunks: list[Chunk]


class JobStore(abc.ABC):
    """Jobs, their chunks and their events; every write is one transaction and bumps the store revision."""

    @abc.abstractmethod
    def initialize_schema(self) -> None:
        """Create tables and indexes if missing; safe to call from every process at start."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release this process's connections."""

    # -- jobs ---------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create(self, new: NewJob) -> Job:
        """Record a job (queued, or already failed when intake refused it) and its first event."""

    @abc.abstractmethod
    def get(self, job_id: str) -> Job | None: ...

    @abc.abstractmethod
    def list_recent(
        self, *, status: JobStatus | None = None, user: str | None = None, limit: int | None = None
    ) -> list[Job]:
        """Jobs newest first."""

    @abc.abstractmethod
    def user_usage(self, user: str, since: float) -> tuple[int, list[float]]:
        """What counts against a user's limits: jobs queued or running now, and the creation times of uploads
        since ``since`` (uploads refused for a limit do not count)."""

    @abc.abstractmethod
    def find_completed(self, sha256: str, profile: str, engine: str) -> Job | None:
        """The newest completed, non-cached job for the same bytes and settings, for answering from cache."""

    @abc.abstractmethod
    def start(self, job_id: str) -> bool:
        """Move a queued job to running/preparing; False when it is no longer queued (e.g. canceled)."""

    @abc.abstractmethod
    def set_stage(self, job_id: str, stage: Stage, message: str, progress: float | None = None) -> None: ...

    @abc.abstractmethod
    def record_document(
        self, job_id: str, *, pages: int, compressed_bytes: int | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        """Store what preparing learnt about the document (page count, compressed size, dimensions)."""

    @abc.abstractmethod
    def copy_outcome(self, job_id: str, source: Job) -> None:
        """Give a job answered from cache the page, chunk and size figures of the job it reuses."""

    @abc.abstractmethod
    def add_note(self, job_id: str, note: str) -> None:
        """Attach a note the analyst should read (e.g. OCR unavailable); duplicates are ignored."""

    @abc.abstractmethod
    def finish(self, job_id: str, status: JobStatus, message: str, *, error: str = "") -> bool:
        """End a running or queued job; False (and no change) when it had already ended."""

    # -- chunks -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def plan_chunks(self, job_id: str, spans: Iterable[ChunkSpan]) -> list[Chunk]:
        """Insert the job's chunks as queued and move the job to extracting."""

    @abc.abstractmethod
    def list_chunks(self, job_id: str) -> list[Chunk]: ...

    @abc.abstractmethod
    def claim_chunk(self, job_id: str, index: int, worker: str) -> Chunk | None:
        """Atomically take a queued chunk of a running job; None when it is not there to take."""

    @abc.abstractmethod
    def update_chunk_progress(self, job_id: str, index: int, pages_done: int, *, attempt: int | None = None) -> bool:
        """Record pages done (and a heartbeat) for a running chunk and recompute the job's progress; a count below
        the recorded one is only a heartbeat, so progress never steps back. False when the chunk is no longer this
        attempt's (canceled, or requeued after its worker was presumed dead)."""

    @abc.abstractmethod
    def requeue_chunk(self, job_id: str, index: int, error: str, *, attempt: int | None = None) -> None:
        """Put a running chunk back in the queue after a transient error, keeping the error for the record."""

    @abc.abstractmethod
    def record_chunk_usage(
        self, job_id: str, index: int, input_tokens: int, output_tokens: int, cost_usd: float
    ) -> None:
        """Add an API call's token counts and estimated cost to a chunk, and re-total the job."""

    @abc.abstractmethod
    def retry_failed(self, job_id: str) -> list[int]:
        """Reopen a failed job's failed chunks (as queued) and the job (as extracting); returns their indexes."""

    @abc.abstractmethod
    def finish_chunk(
        self, job_id: str, index: int, status: ChunkStatus, *, error: str = "", attempt: int | None = None
    ) -> bool:
        """End a chunk (only if ``attempt`` still owns it); True for exactly one caller: the one whose chunk was
        the job's last to end."""

    @abc.abstractmethod
    def expire_overdue(
        self, started_before: float, *, max_attempts: int, reason: str
    ) -> tuple[list[tuple[str, int]], list[str]]:
        """Requeue (or, out of attempts, fail) running chunks started before ``started_before``; returns the
        chunks to enqueue and the jobs whose last chunk this ended, to merge."""

    @abc.abstractmethod
    def stranded(self, older_than: float) -> tuple[list[tuple[str, int]], list[str]]:
        """Queued chunks of running jobs, and queued jobs, that have not changed since ``older_than``: candidates
        for work whose queue message was lost with a worker (the caller checks the queue before requeueing)."""

    @abc.abstractmethod
    def touch(self, job_id: str) -> None:
        """Record that a job's result was used (read or downloaded), for least-recently-used retention."""

    @abc.abstractmethod
    def purge_candidates(self) -> list[Job]:
        """Finished jobs whose files are still kept, least recently used first."""

    @abc.abstractmethod
    def mark_purged(self, job_id: str, note: str) -> None:
        """Record that a job's files were deleted; the job stays in history."""

    @abc.abstractmethod
    def cancel(self, job_id: str, message: str = "Canceled") -> bool:
        """Cancel a queued or running job; False when it had already ended. Canceled is final."""

    @abc.abstractmethod
    def recover_stale(self, older_than: float) -> tuple[list[tuple[str, int]], list[str], list[str]]:
        """Requeue chunks and jobs lost with dead workers: (chunks, jobs to prepare again, jobs to merge again)."""

    # -- events, changes, workers --------------------------------------------------------------------------
    @abc.abstractmethod
    def list_events(self, job_id: str | None = None, *, after_id: int = 0, limit: int | None = None) -> list[Event]: ...

    @abc.abstractmethod
    def list_all_chunks(self) -> list[Chunk]: ...

    @abc.abstractmethod
    def changes_since(self, revision: int) -> Changes:
        """Jobs and chunks written after ``revision``, read in one consistent snapshot."""

    @abc.abstractmethod
    def beat_worker(self, worker_id: str, host: str, pid: int) -> None:
        """Record that a worker process is alive now (a beat after a goodbye brings it back)."""

    @abc.abstractmethod
    def worker_stopped(self, worker_ids: Iterable[str]) -> None:
        """Record that these worker processes stopped: they are no longer alive, whatever their last beat says."""

    @abc.abstractmethod
    def list_workers(self, *, max_age_s: float | None = None) -> list[WorkerBeat]:
        """Workers that have not said goodbye and beat within ``max_age_s``, most recent beat first."""


def open_store(settings: Settings) -> JobStore:
    """The store for these settings: SQLite under ``PAPERLINE_HOME`` (the only backend so far)."""
    from .sqlite_store import SqliteJobStore

    store = SqliteJobStore(settings.store_path)
    store.initialize_schema()
    return store
