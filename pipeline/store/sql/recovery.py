"""Recovery queries in SQLite: lost, overdue and stranded work, each handed to exactly one sweeper."""

from __future__ import annotations

import time
from typing import Any

from pipeline.core import messages
from pipeline.core.lifecycle import FINISHING_STAGES, PREPARATION_STAGES, EventKind
from pipeline.core.models import JobStatus, Stage
from pipeline.store.sql.base import SqlBase, sql_list


class SqlRecovery(SqlBase):
    """``RecoveryQueries`` in SQL."""

    def recover_stale(
        self, older_than: float, *, max_attempts: int
    ) -> tuple[list[tuple[str, int]], list[str], list[str]]:
        """Requeue work lost with a dead worker: running chunks of running jobs whose heartbeat is older than
        ``older_than`` (epoch seconds), jobs stuck before their chunks were planned, and jobs whose merge (or
        embedding, or indexing) was lost. Each item is returned to exactly one caller, which enqueues it again.
        Work lost ``max_attempts`` times is failed instead (a poison pill ends): a chunk fails, and the job goes on
        to its merge; a step fails its job."""
        merging: list[str] = []
        with self.transaction() as conn:
            # A lost merge, or a retrieval job's embedding or indexing that stopped moving: the merge task carries on
            # from the stage the job is in (embedding tasks are idempotent: a vector is written once).
            stale = conn.execute(
                "SELECT id, stage, step_recoveries, step_runs FROM jobs WHERE status = 'running' "
                f"AND stage IN {sql_list(FINISHING_STAGES)} AND updated_at < ?",
                (older_than,),
            ).fetchall()
            for row in stale:
                again = messages.MERGING_AGAIN if row["stage"] == Stage.MERGING.value else messages.INDEXING_AGAIN
                if not row["step_runs"]:
                    # No worker began it: its task waits in the queue behind others (or was lost before anyone took
                    # it). Queued again at no cost; the task is idempotent, and a later one finds the step done.
                    self._update_job(conn, row["id"], "AND status = 'running'", message=again)
                    merging.append(row["id"])
                    continue
                lost = row["step_recoveries"] + 1
                if lost >= max_attempts:
                    self._fail_job(conn, row["id"], messages.step_kept_dying(row["stage"], lost))
                    continue
                self._update_job(
                    conn, row["id"], "AND status = 'running'", message=again, step_recoveries=lost, step_runs=0
                )
                merging.append(row["id"])
            preparing: list[str] = []
            for row in conn.execute(
                "SELECT id, stage, step_recoveries FROM jobs WHERE status = 'running' "
                f"AND stage IN {sql_list(PREPARATION_STAGES)} AND updated_at < ? "
                "AND NOT EXISTS (SELECT 1 FROM chunks WHERE job_id = jobs.id)",
                (older_than,),
            ).fetchall():
                lost = row["step_recoveries"] + 1
                if lost >= max_attempts:
                    self._fail_job(conn, row["id"], messages.step_kept_dying(row["stage"], lost))
                    continue
                self._update_job(
                    conn,
                    row["id"],
                    "AND status = 'running'",
                    status=JobStatus.QUEUED,
                    stage=Stage.QUEUED,
                    message=messages.REQUEUED_WHILE_PREPARING,
                    step_recoveries=lost,
                )
                self._event(conn, row["id"], EventKind.RECOVERED, messages.REQUEUED_WHILE_PREPARING)
                preparing.append(row["id"])
            chunks = conn.execute(
                "SELECT c.job_id, c.idx, c.first_page, c.last_page, c.attempts - c.attempt_base AS used "
                "FROM chunks c JOIN jobs j ON j.id = c.job_id WHERE c.status = 'running' "
                "AND j.status = 'running' AND COALESCE(c.heartbeat_at, c.started_at, 0) < ?",
                (older_than,),
            ).fetchall()
            requeued: list[tuple[str, int]] = []
            for row in chunks:
                job_id, index = row["job_id"], row["idx"]
                # Every claim counted an attempt, and each of them ended with its worker: out of attempts, it fails.
                if row["used"] >= max_attempts:
                    error = messages.chunk_kept_dying(row["first_page"], row["last_page"], row["used"])
                    conn.execute(
                        "UPDATE chunks SET status = 'failed', error = ?, finished_at = ?, rev = ? "
                        "WHERE job_id = ? AND idx = ?",
                        (error, time.time(), self._bump(conn), job_id, index),
                    )
                    self._recount(conn, job_id)
                    ended = messages.chunk_ended(index, "failed", error)
                    self._event(conn, job_id, EventKind.chunk_ended("failed"), ended, index)
                    if self._fan_in(conn, job_id):
                        merging.append(job_id)
                    continue
                conn.execute(
                    "UPDATE chunks SET status = 'queued', pages_done = 0, rev = ?, error = ? "
                    "WHERE job_id = ? AND idx = ?",
                    (self._bump(conn), messages.WORKER_LOST, job_id, index),
                )
                self._recount(conn, job_id)
                self._event(conn, job_id, EventKind.CHUNK_RECOVERED, messages.chunk_recovered(index), index)
                requeued.append((job_id, index))
        return requeued, preparing, merging

    def begin_step(self, job_id: str, stage: Stage) -> bool:
        with self.beat_transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET step_runs = step_runs + 1, updated_at = ? "
                "WHERE id = ? AND status = 'running' AND stage = ?",
                (time.time(), job_id, Stage(stage).value),
            )
            return cursor.rowcount == 1

    def end_step(self, job_id: str) -> None:
        with self.beat_transaction() as conn:
            conn.execute(
                "UPDATE jobs SET step_runs = CASE WHEN step_runs > 0 THEN step_runs - 1 ELSE 0 END WHERE id = ?",
                (job_id,),
            )

    def beat_step(self, job_id: str, stage: Stage) -> bool:
        with self.beat_transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET updated_at = ? WHERE id = ? AND status = 'running' AND stage = ?",
                (time.time(), job_id, Stage(stage).value),
            )
            return cursor.rowcount == 1

    def _fail_job(self, conn: Any, job_id: str, error: str) -> None:
        """End a running job as failed (its open chunks canceled), in the caller's transaction."""
        now = time.time()
        if self._update_job(
            conn,
            job_id,
            "AND status = 'running'",
            status=JobStatus.FAILED,
            message=error,
            error=error,
            finished_at=now,
            step_runs=0,
        ):
            conn.execute(
                "UPDATE chunks SET status = 'canceled', finished_at = ?, rev = ? "
                "WHERE job_id = ? AND status IN ('queued', 'running')",
                (now, self._bump(conn), job_id),
            )
            self._event(conn, job_id, EventKind.STATUS, error)
            self._job_ended(conn, job_id)

    def expire_overdue(
        self, started_before: float, *, max_attempts: int, limit_s: float
    ) -> tuple[list[tuple[str, int]], list[str]]:
        """Take back running chunks started before ``started_before`` (over their time limit, maybe hung):
        requeued while attempts remain, failed after. Returns the chunks to enqueue and the jobs to merge."""
        requeued: list[tuple[str, int]] = []
        merge: list[str] = []
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT c.job_id, c.idx, c.attempts - c.attempt_base AS used FROM chunks c "
                "JOIN jobs j ON j.id = c.job_id "
                "WHERE c.status = 'running' AND j.status = 'running' AND c.started_at < ?",
                (started_before,),
            ).fetchall()
            for row in rows:
                job_id, index = row["job_id"], row["idx"]
                error = messages.chunk_stuck(index, limit_s)
                retry = row["used"] < max_attempts
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
