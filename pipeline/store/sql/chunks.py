"""Chunk records in SQLite: planning, the claim, progress, retries and the end of a chunk.

The claim, attempt fencing (``AND attempts = ?``), monotonic progress and the fan-in are single conditional
statements inside one ``BEGIN IMMEDIATE`` transaction each: that is what makes them atomic across processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pipeline.core import messages
from pipeline.core.lifecycle import FINISHING_STAGES, PROGRESS_AFTER_SPLITTING, PROGRESS_QUEUED, EventKind
from pipeline.core.models import Chunk, ChunkSpan, ChunkStatus, JobStatus, Stage
from pipeline.core.text import strip_controls
from pipeline.store.sql.base import SqlBase, sql_list
from pipeline.store.sql.schema import CHUNK_COLUMNS, chunk_from_row


class SqlChunks(SqlBase):
    """``ChunkRecords`` in SQL."""

    def plan_chunks(self, job_id: str, spans: Iterable[ChunkSpan]) -> list[Chunk]:
        spans = list(spans)
        with self.transaction() as conn:
            rev = self._bump(conn)
            conn.executemany(
                "INSERT INTO chunks (job_id, idx, first_page, last_page, context_first, context_last, status, rev) "
                "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                [(job_id, s.index, s.first_page, s.last_page, s.context_first, s.context_last, rev) for s in spans],
            )
            message = messages.extracting(0, len(spans))
            self._update_job(
                conn,
                job_id,
                chunks_total=len(spans),
                stage=Stage.EXTRACTING,
                message=message,
                progress=PROGRESS_AFTER_SPLITTING,
            )
            self._event(conn, job_id, EventKind.STAGE, message)
        return self.list_chunks(job_id)

    def list_chunks(self, job_id: str) -> list[Chunk]:
        rows = self.connection.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE job_id = ? ORDER BY idx", (job_id,)
        ).fetchall()
        return [chunk_from_row(r) for r in rows]

    def list_all_chunks(self) -> list[Chunk]:
        rows = self.connection.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks ORDER BY job_id, idx").fetchall()
        return [chunk_from_row(r) for r in rows]

    def claim_chunk(self, job_id: str, index: int, worker: str) -> Chunk | None:
        now = time.time()
        with self.transaction() as conn:
            running = conn.execute("SELECT 1 FROM jobs WHERE id = ? AND status = 'running'", (job_id,)).fetchone()
            if not running:
                return None
            cursor = conn.execute(
                "UPDATE chunks SET status = 'running', attempts = attempts + 1, worker = ?, started_at = ?, "
                "heartbeat_at = ?, finished_at = NULL, pages_done = 0, rev = ? "
                "WHERE job_id = ? AND idx = ? AND status = 'queued'",
                (worker, now, now, self._bump(conn), job_id, index),
            )
            if cursor.rowcount != 1:
                return None
            self._recount(conn, job_id)
            self._event(conn, job_id, EventKind.CHUNK_STARTED, messages.chunk_started(index, worker), index)
            row = conn.execute(
                f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE job_id = ? AND idx = ?", (job_id, index)
            ).fetchone()
        return chunk_from_row(row)

    def update_chunk_progress(self, job_id: str, index: int, pages_done: int, *, attempt: int | None = None) -> bool:
        owner = "job_id = ? AND idx = ? AND status = 'running' AND attempts = COALESCE(?, attempts)"
        # A heartbeat (or a late, smaller count): no new revision, no event, and progress never steps back. It is
        # one statement on the heartbeats' own path, so it lands however long other writers hold the store.
        with self.beat_transaction() as conn:
            cursor = conn.execute(
                f"UPDATE chunks SET heartbeat_at = ? WHERE {owner} AND pages_done >= ?",
                (time.time(), job_id, index, attempt, pages_done),
            )
            if cursor.rowcount == 1:
                return True
        with self.transaction() as conn:
            row = conn.execute(f"SELECT pages_done FROM chunks WHERE {owner}", (job_id, index, attempt)).fetchone()
            if row is None:
                return False
            if row["pages_done"] >= pages_done:  # a beat that raced with a count of another thread of this attempt
                conn.execute(f"UPDATE chunks SET heartbeat_at = ? WHERE {owner}", (time.time(), job_id, index, attempt))
                return True
            conn.execute(
                f"UPDATE chunks SET pages_done = ?, heartbeat_at = ?, rev = ? WHERE {owner}",
                (pages_done, time.time(), self._bump(conn), job_id, index, attempt),
            )
            self._recount(conn, job_id)
            self._event(conn, job_id, EventKind.PROGRESS, messages.chunk_progress(index, pages_done), index)
        return True

    def requeue_chunk(self, job_id: str, index: int, error: str, *, attempt: int | None = None) -> None:
        error = strip_controls(error)
        with self.transaction() as conn:
            conn.execute(
                "UPDATE chunks SET status = 'queued', error = ?, pages_done = 0, rev = ? "
                "WHERE job_id = ? AND idx = ? AND status = 'running' AND attempts = COALESCE(?, attempts)",
                (error, self._bump(conn), job_id, index, attempt),
            )
            self._recount(conn, job_id)
            self._event(conn, job_id, EventKind.CHUNK_RETRY, messages.chunk_retry(index, error), index)

    def release_chunk(self, job_id: str, index: int, *, attempt: int) -> bool:
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE chunks SET status = 'queued', pages_done = 0, attempt_base = attempt_base + 1, rev = ? "
                "WHERE job_id = ? AND idx = ? AND status = 'running' AND attempts = ?",
                (self._bump(conn), job_id, index, attempt),
            )
            if cursor.rowcount != 1:
                return False
            self._recount(conn, job_id)
            self._event(conn, job_id, EventKind.CHUNK_RETRY, messages.chunk_handed_back(index), index)
        return True

    def record_chunk_usage(
        self, job_id: str, index: int, input_tokens: int, output_tokens: int, cost_usd: float
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE chunks SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
                "cost_usd = cost_usd + ?, rev = ? WHERE job_id = ? AND idx = ?",
                (input_tokens, output_tokens, cost_usd, self._bump(conn), job_id, index),
            )
            totals = conn.execute(
                "SELECT SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cost_usd) AS c "
                "FROM chunks WHERE job_id = ?",
                (job_id,),
            ).fetchone()
            self._update_job(
                conn,
                job_id,
                input_tokens=totals["i"] or 0,
                output_tokens=totals["o"] or 0,
                cost_usd=round(totals["c"] or 0.0, 6),
            )

    def retry_failed(self, job_id: str) -> list[int]:
        with self.transaction() as conn:
            failed = [
                row["idx"]
                for row in conn.execute(
                    "SELECT idx FROM chunks WHERE job_id = ? AND status = 'failed' ORDER BY idx", (job_id,)
                )
            ]
            if not failed:
                return []
            reopened = self._update_job(
                conn,
                job_id,
                "AND status = 'failed'",
                status=JobStatus.RUNNING,
                stage=Stage.EXTRACTING,
                finished_at=None,
                error="",
                message=messages.retrying(failed),
            )
            if not reopened:
                return []
            # A retried chunk gets its whole attempt budget again; ``attempts`` itself only grows, so an attempt
            # from before the retry stays fenced out.
            conn.execute(
                "UPDATE chunks SET status = 'queued', finished_at = NULL, attempt_base = attempts, rev = ? "
                "WHERE job_id = ? AND status = 'failed'",
                (self._bump(conn), job_id),
            )
            self._recount(conn, job_id)
            self._event(conn, job_id, EventKind.RETRY, messages.retrying_event(failed))
        return failed

    def run_canceled_again(self, job_id: str) -> tuple[str, list[int]]:
        with self.transaction() as conn:
            job = conn.execute("SELECT status, purged_at FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if job is None or job["status"] != JobStatus.CANCELED.value or job["purged_at"] is not None:
                return "", []
            chunks = conn.execute("SELECT idx, status FROM chunks WHERE job_id = ? ORDER BY idx", (job_id,)).fetchall()
            again = [row["idx"] for row in chunks if row["status"] != "done"]
            where = "AND status = 'canceled'"  # conditional: a second "run again" at the same moment changes nothing
            reopen: dict[str, object] = {"finished_at": None, "error": ""}
            if not chunks:  # canceled before it was split: prepared afresh, as a new upload is
                step = "document"
                reopened = self._update_job(
                    conn,
                    job_id,
                    where,
                    status=JobStatus.QUEUED,
                    stage=Stage.QUEUED,
                    progress=PROGRESS_QUEUED,
                    message=messages.RUN_AGAIN,
                    **reopen,
                )
            elif again:
                step = "chunks"
                reopened = self._update_job(
                    conn,
                    job_id,
                    where,
                    status=JobStatus.RUNNING,
                    stage=Stage.EXTRACTING,
                    message=messages.running_again(again),
                    **reopen,
                )
                if reopened:  # a chunk run again gets its whole attempt budget; an older attempt stays fenced out
                    conn.execute(
                        "UPDATE chunks SET status = 'queued', finished_at = NULL, error = '', attempt_base = attempts, "
                        "rev = ? WHERE job_id = ? AND status <> 'done'",
                        (self._bump(conn), job_id),
                    )
                    self._recount(conn, job_id)
            else:
                step = "merge"
                reopened = self._update_job(
                    conn,
                    job_id,
                    where,
                    status=JobStatus.RUNNING,
                    stage=Stage.MERGING,
                    message=messages.MERGING,
                    **reopen,
                )
            if not reopened:
                return "", []
            self._event(conn, job_id, EventKind.RETRY, messages.running_again(again) if again else messages.RUN_AGAIN)
        return step, again

    def retry_step(self, job_id: str) -> bool:
        with self.transaction() as conn:
            reopened = self._update_job(
                conn,
                job_id,
                f"AND status = 'failed' AND stage IN {sql_list(FINISHING_STAGES)} AND chunks_total > 0 "
                "AND NOT EXISTS (SELECT 1 FROM chunks WHERE job_id = jobs.id AND status <> 'done')",
                status=JobStatus.RUNNING,
                stage=Stage.MERGING,
                finished_at=None,
                error="",
                message=messages.MERGING,
            )
            if reopened:
                self._event(conn, job_id, EventKind.RETRY, messages.MERGING_RETRIED)
        return reopened

    def finish_chunk(
        self, job_id: str, index: int, status: ChunkStatus, *, error: str = "", attempt: int | None = None
    ) -> bool:
        status, error = ChunkStatus(status), strip_controls(error)
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE chunks SET status = ?, error = ?, finished_at = ?, heartbeat_at = ?, "
                "pages_done = CASE WHEN ? = 'done' THEN last_page - first_page + 1 ELSE pages_done END, rev = ? "
                "WHERE job_id = ? AND idx = ? AND status = 'running' AND attempts = COALESCE(?, attempts)",
                (
                    status.value,
                    error,
                    time.time(),
                    time.time(),
                    status.value,
                    self._bump(conn),
                    job_id,
                    index,
                    attempt,
                ),
            )
            if cursor.rowcount != 1:
                return False
            self._recount(conn, job_id)
            ended = messages.chunk_ended(index, status.value, error)
            self._event(conn, job_id, EventKind.chunk_ended(status.value), ended, index)
            return self._fan_in(conn, job_id)
