"""Recovery queries in SQLite: lost, overdue and stranded work, each handed to exactly one sweeper."""

from __future__ import annotations

import time

from ... import messages
from ...lifecycle import EventKind
from ...models import JobStatus, Stage
from .base import SqlBase


class SqlRecovery(SqlBase):
    """``RecoveryQueries`` in SQL."""

    def recover_stale(self, older_than: float) -> tuple[list[tuple[str, int]], list[str], list[str]]:
        """Requeue work lost with a dead worker: running chunks of running jobs whose heartbeat is older than
        ``older_than`` (epoch seconds), jobs stuck before their chunks were planned, and jobs whose merge (or
        embedding, or indexing) was lost. Each item is returned to exactly one caller, which enqueues it again."""
        with self.transaction() as conn:
            chunks = conn.execute(
                "SELECT c.job_id, c.idx FROM chunks c JOIN jobs j ON j.id = c.job_id WHERE c.status = 'running' "
                "AND j.status = 'running' AND COALESCE(c.heartbeat_at, c.started_at, 0) < ?",
                (older_than,),
            ).fetchall()
            rev = self._bump(conn) if chunks else 0
            for row in chunks:
                conn.execute(
                    "UPDATE chunks SET status = 'queued', pages_done = 0, rev = ?, error = ? "
                    "WHERE job_id = ? AND idx = ?",
                    (rev, messages.WORKER_LOST, row["job_id"], row["idx"]),
                )
                self._recount(conn, row["job_id"])
                self._event(
                    conn,
                    row["job_id"],
                    EventKind.CHUNK_RECOVERED,
                    messages.chunk_recovered(row["idx"]),
                    row["idx"],
                )
            preparing = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM jobs WHERE status = 'running' AND stage IN ('preparing', 'splitting') "
                    "AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM chunks WHERE job_id = jobs.id)",
                    (older_than,),
                )
            ]
            for job_id in preparing:
                self._update_job(
                    conn,
                    job_id,
                    "AND status = 'running'",
                    status=JobStatus.QUEUED,
                    stage=Stage.QUEUED,
                    message=messages.REQUEUED_WHILE_PREPARING,
                )
                self._event(conn, job_id, EventKind.RECOVERED, messages.REQUEUED_WHILE_PREPARING)
            # A lost merge, or a retrieval job's embedding or indexing that stopped moving: the merge task carries on
            # from the stage the job is in (embedding tasks are idempotent: a vector is written once).
            stale = conn.execute(
                "SELECT id, stage FROM jobs WHERE status = 'running' AND stage IN ('merging', 'embedding', 'indexing') "
                "AND updated_at < ?",
                (older_than,),
            ).fetchall()
            merging = [r["id"] for r in stale]
            for row in stale:
                again = messages.MERGING_AGAIN if row["stage"] == Stage.MERGING.value else messages.INDEXING_AGAIN
                self._update_job(conn, row["id"], "AND status = 'running'", message=again)
        return [(r["job_id"], r["idx"]) for r in chunks], preparing, merging

    def expire_overdue(
        self, started_before: float, *, max_attempts: int, limit_s: float
    ) -> tuple[list[tuple[str, int]], list[str]]:
        """Take back running chunks started before ``started_before`` (over their time limit, maybe hung):
        requeued while attempts remain, failed after. Returns the chunks to enqueue and the jobs to merge."""
        requeued: list[tuple[str, int]] = []
        merge: list[str] = []
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT c.job_id, c.idx, c.attempts FROM chunks c JOIN jobs j ON j.id = c.job_id "
                "WHERE c.status = 'running' AND j.status = 'running' AND c.started_at < ?",
                (started_before,),
            ).fetchall()
            for row in rows:
                job_id, index = row["job_id"], row["idx"]
                error = messages.chunk_stuck(index, limit_s)
                retry = row["attempts"] < max_attempts
                conn.execute(
                    "UPDATE chunks SET status = ?, error = ?, pages_done = CASE WHEN ? THEN 0 ELSE pages_done END, "
                    "finished_at = ?, rev = ? WHERE job_id = ? AND idx = ?",
                    (
                        "queued" if retry else "failed",
                        error,
                        retry,
                        None if retry else time.time(),
                        self._bump(conn),
                        job_id,
                        index,
                    ),
                )
                self._recount(conn, job_id)
                self._event(conn, job_id, EventKind.CHUNK_OVERTIME, messages.chunk_taken_back(error, retry), index)
                if retry:
                    requeued.append((job_id, index))
                elif self._fan_in(conn, job_id):
                    merge.append(job_id)
        return requeued, merge

    def stranded(self, older_than: float) -> tuple[list[tuple[str, int]], list[str]]:
        rows = self.connection.execute(
            "SELECT c.job_id, c.idx FROM chunks c JOIN jobs j ON j.id = c.job_id "
            "WHERE c.status = 'queued' AND j.status = 'running' AND j.updated_at < ? ORDER BY c.job_id, c.idx",
            (older_than,),
        ).fetchall()
        queued = self.connection.execute(
            "SELECT id FROM jobs WHERE status = 'queued' AND updated_at < ? ORDER BY created_at", (older_than,)
        ).fetchall()
        return [(r["job_id"], r["idx"]) for r in rows], [r["id"] for r in queued]
