"""Recovery: one sweeper that takes back the work dead or stuck workers left behind.

Huey drops a task whose consumer is killed (SQLite and Redis alike), so Paperline finds such work in the store and
queues it again. Every worker runs ``Sweeper.sweep`` when it starts and every ``PAPERLINE_SWEEP_INTERVAL_S``; the
store hands each lost item to exactly one sweeper, so sweeping from several workers (and hosts) is safe.

- **stale**: running chunks whose heartbeat is older than ``PAPERLINE_STALE_AFTER_S``, jobs lost while preparing,
  merges that went quiet;
- **overdue**: chunks still running past ``PAPERLINE_CHUNK_TIME_LIMIT_S`` plus that grace (hung inside a page),
  retried while attempts remain, then failed;
- **stranded**: queued chunks and jobs with no message left in the queue (a worker killed between taking a task
  off the queue and claiming it), once their job has gone quiet.

Poison pills end: every claim of a chunk counts an attempt (since the job's last Retry), whatever ends it. A chunk
whose worker was lost is requeued while it has had fewer than ``PAPERLINE_CHUNK_ATTEMPTS``, then failed with the
pages it was reading, and the job goes on to its merge; a job's prepare, merge or embedding step lost that many times
fails the job. A chunk that raised an error or ran over its time limit (noticed by the worker or, hung, by this
sweep) is retried while it has had at most ``PAPERLINE_CHUNK_RETRIES`` + 1. Both rules read the same count, so a
chunk runs at most max(attempts, retries + 1) times. Stranded work was never claimed, so it costs no attempt.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from pipeline.core.settings import Settings
from pipeline.store import JobStore

if TYPE_CHECKING:
    from pipeline.jobs.ports import Scheduler

log = logging.getLogger("paperline.recovery")


class Sweeper:
    """Finds lost, overdue and stranded work in the store and queues it again."""

    def __init__(self, settings: Settings, store: JobStore, tasks: Scheduler) -> None:
        self.settings, self.store, self.tasks = settings, store, tasks
        self._beats_resume_at = 0.0  # monotonic: until then, heartbeats may still be catching up after an outage

    def sweep(self, now: float | None = None) -> int:
        """One pass over all three kinds of lost work; returns how many items were queued again. A pass that took
        longer than the stale timeout waited out an outage of the store (``pipeline.core.transient``), during which no
        worker could beat: the next passes give running work one stale timeout to beat again before judging it."""
        now = time.time() if now is None else now
        started = time.monotonic()
        try:
            stale = self.stale(now) if started >= self._beats_resume_at else 0
            return stale + self.overdue(now) + self.stranded(now)
        finally:
            if time.monotonic() - started > self.settings.stale_after_s:
                self._beats_resume_at = time.monotonic() + self.settings.stale_after_s

    def _priority(self, job_id: str) -> int:
        """The job's queue priority, so work taken back keeps its place ahead of less urgent work."""
        job = self.store.get(job_id)
        return job.priority if job is not None else 0

    def stale(self, now: float) -> int:
        chunks, preparing, merging = self.store.recover_stale(
            now - self.settings.stale_after_s, max_attempts=self.settings.chunk_attempts
        )
        for job_id, index in chunks:
            self.tasks.enqueue_chunk(job_id, index, priority=self._priority(job_id))
        for job_id in preparing:
            self.tasks.enqueue_document(job_id, priority=self._priority(job_id))
        for job_id in merging:
            self.tasks.enqueue_merge(job_id, priority=self._priority(job_id))
        if chunks or preparing or merging:
            log.warning(
                "recovered %d running chunks, %d preparations, %d merges (or failed them, out of attempts)",
                len(chunks),
                len(preparing),
                len(merging),
            )
        return len(chunks) + len(preparing) + len(merging)

    def overdue(self, now: float) -> int:
        """Chunks stuck past their time limit (a hung page never reaches the chunk's own check): the store fences
        the old attempt out, so whatever it writes later is ignored."""
        limit = self.settings.chunk_time_limit_s
        if not limit:
            return 0
        grace = self.settings.stale_after_s  # let the chunk's own check, which retries with backoff, act first
        requeued, merge = self.store.expire_overdue(
            now - limit - grace, max_attempts=self.settings.chunk_retries + 1, limit_s=limit
        )
        for job_id, index in requeued:
            self.tasks.enqueue_chunk(job_id, index, priority=self._priority(job_id))
        for job_id in merge:
            self.tasks.enqueue_merge(job_id, priority=self._priority(job_id))
        if requeued or merge:
            log.warning("took back %d chunks over their time limit", len(requeued) + len(merge))
        return len(requeued) + len(merge)

    def stranded(self, now: float) -> int:
        """Queued work with no message left in the queue, once its job has gone quiet; a duplicate would be
        harmless, as a claim only takes what is queued."""
        chunks, jobs = self.store.stranded(now - self.settings.stale_after_s)
        if not chunks and not jobs:
            return 0
        pending_chunks, pending_jobs = self.tasks.queued()
        lost_chunks = [c for c in chunks if c not in pending_chunks]
        lost_jobs = [j for j in jobs if j not in pending_jobs]
        for job_id, index in lost_chunks:
            self.tasks.enqueue_chunk(job_id, index, priority=self._priority(job_id))
        for job_id in lost_jobs:
            self.tasks.enqueue_document(job_id, priority=self._priority(job_id))
        if lost_chunks or lost_jobs:
            log.warning("queued again %d unclaimed chunks and %d queued jobs", len(lost_chunks), len(lost_jobs))
        return len(lost_chunks) + len(lost_jobs)
