"""Reading jobs back: one job, lists of them, their chunks and events, the changes a follower polls, live workers,
the queue's health, and waiting for jobs to end."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.core import messages
from pipeline.core.errors import (
    InvalidRequest,
    JobNotFound,
    NoWorkerRunning,
)
from pipeline.core.models import (
    Chunk,
    Event,
    Job,
    JobStatus,
    WorkerBeat,
)
from pipeline.files.jobfiles import (
    JobFiles,
    job_files,
)
from pipeline.store import Changes

if TYPE_CHECKING:  # (for types only: each is imported where first used, so a short command stays fast)
    from prometheus_client import CollectorRegistry


from pipeline.service.core import ServiceCore


@dataclass(frozen=True)
class QueueHealth:
    """The queue at one moment: what waits, what runs, who works on it."""

    queued: int
    running: int
    #: chunks waiting for a worker (of running jobs as well as queued ones)
    chunks_queued: int
    workers: list[WorkerBeat]
    #: the queued job that has waited longest (None when nothing waits)
    oldest_queued: Job | None

    def to_dict(self, now: float) -> dict[str, Any]:
        oldest = self.oldest_queued
        return {
            "queued": self.queued,
            "running": self.running,
            "chunks_queued": self.chunks_queued,
            "workers": len(self.workers),
            "oldest_queued": None
            if oldest is None
            else {"id": oldest.id, "filename": oldest.filename, "waiting_s": round(now - oldest.created_at, 1)},
        }


class JobReading(ServiceCore):
    """Jobs, chunks and events as the store has them, scoped to a user where one is named."""

    def get(self, job_id: str, *, user: str | None = None) -> Job:
        job = self.store.get(job_id)
        if job is None or (user is not None and job.user != user):
            raise JobNotFound(f"No job {job_id!r}")
        return job

    def jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        user: str | None = None,
        limit: int | None = None,
        name: str | None = None,
        after: str | None = None,
    ) -> list[Job]:
        status = JobStatus(status) if status else None
        return self.store.list_recent(status=status, user=user, limit=limit, name=name, after=after)

    def chunks(self, job_id: str, *, user: str | None = None) -> list[Chunk]:
        if user is not None:
            self.get(job_id, user=user)
        return self.store.list_chunks(job_id)

    def events(self, job_id: str | None = None, *, after_id: int = 0, user: str | None = None) -> list[Event]:
        """Events in the order they happened, of one job or all, after event ``after_id``."""
        if user is not None:
            if job_id is None:
                raise InvalidRequest("Name a job to read its events as a user.")
            self.get(job_id, user=user)
        return self.store.list_events(job_id, after_id=after_id)

    def all_chunks(self) -> list[Chunk]:
        """Every job's chunks, for analytics over the whole history."""
        return self.store.list_all_chunks()

    def status_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Jobs and chunks by status: what health checks and metrics report."""
        return self.store.status_counts()

    def changes_since(self, revision: int) -> Changes:
        """Jobs and chunks written after ``revision``, and the revision read up to."""
        return self.store.changes_since(revision)

    def wait_for_change(self, timeout_s: float) -> bool:
        """Block until the store may have changed (at once on PostgreSQL's NOTIFY), or ``timeout_s`` passed."""
        return self.store.wait_for_change(timeout_s)

    @property
    def notifies_changes(self) -> bool:
        return self.store.notifies_changes

    def store_metrics(self) -> CollectorRegistry:
        """Prometheus metrics read from the store when scraped: jobs by status, queue depth, live workers."""
        from pipeline.worker.metrics import store_registry

        return store_registry(self.store)

    def workers(self, *, max_age_s: float | None = None) -> list[WorkerBeat]:
        """Worker processes alive now: they beat recently and have not said goodbye; on this host, their process
        must also still exist (a worker killed with -9 cannot say goodbye, but its pid is gone)."""
        age = max_age_s if max_age_s is not None else max(10.0, 3 * self.settings.heartbeat_interval_s)
        import socket

        here = socket.gethostname()
        return [w for w in self.store.list_workers(max_age_s=age) if w.host != here or _process_exists(w.pid)]

    def files(self, job_id: str) -> JobFiles:
        return job_files(self.settings, self.storage, job_id)

    def stall_reason(self, job: Job, chunks: list[Chunk] | None = None) -> str:
        """Why a queued or running job is not moving ("" when it is)."""
        from pipeline.insight.stall import stall_reason

        chunks = self.chunks(job.id) if chunks is None else chunks
        return stall_reason(
            job,
            chunks,
            workers_alive=len(self.workers()),
            now=time.time(),
            stall_after_s=self.settings.stall_after_s,
            chunk_time_limit_s=self.settings.chunk_time_limit_s,
        )

    def queue_health(self) -> QueueHealth:
        """The queue at a glance (``paperline status`` without a job): jobs queued and running, chunks waiting,
        live workers, and the job waiting longest."""
        jobs, chunks = self.status_counts()
        return QueueHealth(
            queued=jobs.get(JobStatus.QUEUED.value, 0),
            running=jobs.get(JobStatus.RUNNING.value, 0),
            chunks_queued=chunks.get(JobStatus.QUEUED.value, 0),
            workers=self.workers(),
            oldest_queued=self.store.oldest_queued(),
        )

    def wait(
        self,
        job_ids: Iterable[str],
        *,
        timeout_s: float | None = None,
        poll_s: float = 0.2,
        on_update: Callable[[list[Job]], None] | None = None,
    ) -> list[Job]:
        """Block until every job has ended (or ``timeout_s`` passes); returns the latest snapshots.

        Never waits on nothing: when no worker has been alive for ``settings.stall_after_s`` while jobs are still
        queued or running, raises ``NoWorkerRunning`` saying how to start one."""
        ids = list(job_ids)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        alive_at = time.monotonic()
        checked_at = 0.0
        while True:
            jobs = [self.get(job_id) for job_id in ids]
            if on_update is not None:
                on_update(jobs)
            now = time.monotonic()
            if all(job.is_final for job in jobs) or (deadline is not None and now >= deadline):
                return jobs
            if now - checked_at >= 1.0:
                checked_at = now
                if self.workers():
                    alive_at = now
                elif now - alive_at >= self.settings.stall_after_s:
                    waiting = sum(1 for job in jobs if not job.is_final)
                    raise NoWorkerRunning(messages.no_worker_to_finish(waiting))
            time.sleep(poll_s)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
