"""Job records in SQLite: recording, stages, notes and the end of a job."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pipeline.core import messages
from pipeline.core.errors import BatchCanceled
from pipeline.core.lifecycle import PROGRESS_DONE, PROGRESS_PREPARING, PROGRESS_QUEUED, EventKind
from pipeline.core.models import Job, JobStatus, Stage
from pipeline.core.text import strip_controls
from pipeline.store.interface import NewJob
from pipeline.store.sql.base import SqlBase
from pipeline.store.sql.schema import JOB_COLUMNS, job_from_row

#: a job's metadata that is its own request, never copied from the job it is answered from (another user's, maybe)
OWN_META = ("callback_url",)


def _shared_meta(meta: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in meta.items() if key not in OWN_META}


class SqlJobs(SqlBase):
    """``JobRecords`` in SQL."""

    def create(self, new: NewJob) -> Job:
        with self.transaction() as conn:
            self._insert_job(conn, new)
        return self._created(new.id)

    def create_within_limits(self, new: NewJob, *, since: float, check: Callable[[int, list[float]], None]) -> Job:
        with self.transaction() as conn:  # a write transaction: creations are serialized from its first statement
            self._lock_user(conn, new.user)
            check(*self._usage(conn, new.user, since))
            self._insert_job(conn, new)
        return self._created(new.id)

    def _lock_user(self, conn: Any, user: str) -> None:
        """Serialize creations for ``user`` within the transaction; SQLite's ``BEGIN IMMEDIATE`` already does."""

    def _created(self, job_id: str) -> Job:
        job = self.get(job_id)
        assert job is not None
        return job

    def _insert_job(self, conn: Any, new: NewJob) -> None:
        now = time.time()
        final = new.status.is_final
        if new.batch_id is not None and not final:
            batch = conn.execute("SELECT canceled_at FROM batches WHERE id = ?", (new.batch_id,)).fetchone()
            if batch is not None and batch["canceled_at"] is not None:
                raise BatchCanceled(new.batch_id)
        conn.execute(
            "INSERT INTO jobs (id, filename, kind, profile, engine, status, stage, progress, message, pages, "
            'created_at, started_at, finished_at, updated_at, error, sha256, size_bytes, "user", cached_from, '
            f"meta, batch_id, priority, rev) VALUES ({', '.join('?' * 23)})",
            (
                new.id,
                new.filename,
                new.kind,
                new.profile,
                new.engine,
                new.status.value,
                new.stage.value,
                PROGRESS_DONE if new.status is JobStatus.COMPLETED else PROGRESS_QUEUED,
                strip_controls(new.message),
                new.pages,
                now,
                now if final else None,
                now if final else None,
                now,
                strip_controls(new.error),
                new.sha256,
                new.size_bytes,
                new.user,
                new.cached_from,
                json.dumps(new.meta or {}),
                new.batch_id,
                new.priority,
                self._bump(conn),
            ),
        )
        self._event(conn, new.id, EventKind.CREATED, new.message)
        if final:
            self._event(conn, new.id, EventKind.STATUS, new.error or new.message)
            self._job_ended(conn, new.id)

    def copy_outcome(self, job_id: str, source: Job) -> None:
        """Fill a cache-served job with the figures of the job it was answered from."""
        with self.transaction() as conn:
            self._update_job(
                conn,
                job_id,
                pages=source.pages,
                pages_done=source.pages,
                chunks_total=source.chunks_total,
                chunks_done=source.chunks_done,
                compressed_bytes=source.compressed_bytes,
                notes=json.dumps(list(source.notes)),
                meta=json.dumps({**_shared_meta(source.meta), **self._own_meta(conn, job_id)}),
            )
            self._job_outcome_changed(conn, job_id)

    @staticmethod
    def _own_meta(conn: Any, job_id: str) -> dict[str, Any]:
        """What of a job's own metadata survives copying another's outcome: where its webhook goes."""
        row = conn.execute("SELECT meta FROM jobs WHERE id = ?", (job_id,)).fetchone()
        meta = json.loads(row["meta"]) if row else {}
        return {key: meta[key] for key in OWN_META if key in meta}

    def get(self, job_id: str) -> Job | None:
        row = self.connection.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return job_from_row(row) if row else None

    def list_recent(
        self,
        *,
        status: JobStatus | None = None,
        user: str | None = None,
        limit: int | None = None,
        name: str | None = None,
        after: str | None = None,
        batch: str | None = None,
    ) -> list[Job]:
        clauses, params = [], []
        if batch is not None:
            clauses.append("batch_id = ?")
            params.append(batch)
        if status is not None:
            clauses.append("status = ?")
            params.append(JobStatus(status).value)
        if user is not None:
            clauses.append('"user" = ?')
            params.append(user)
        if name:
            clauses.append("LOWER(filename) LIKE ? ESCAPE '!'")
            escaped = name.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
            params.append(f"%{escaped}%")
        if after is not None:  # keyset pagination: the jobs listed after this one, in the same order
            order = self.INSERTION_ORDER
            clauses.append(
                f"(created_at < (SELECT created_at FROM jobs WHERE id = ?) OR (created_at = "
                f"(SELECT created_at FROM jobs WHERE id = ?) AND {order} < (SELECT {order} FROM jobs WHERE id = ?)))"
            )
            params.extend([after, after, after])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit_sql = f"LIMIT {int(limit)}" if limit else ""
        rows = self.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs {where} ORDER BY created_at DESC, {self.INSERTION_ORDER} DESC {limit_sql}",
            params,
        ).fetchall()
        return [job_from_row(r) for r in rows]

    def user_usage(self, user: str, since: float) -> tuple[int, list[float]]:
        with self.transaction(write=False) as conn:
            return self._usage(conn, user, since)

    @staticmethod
    def _usage(conn: Any, user: str, since: float) -> tuple[int, list[float]]:
        active = conn.execute(
            "SELECT COUNT(*) AS n FROM jobs WHERE \"user\" = ? AND status IN ('queued', 'running')", (user,)
        ).fetchone()["n"]
        uploads = conn.execute(
            'SELECT created_at, meta FROM jobs WHERE "user" = ? AND created_at >= ? ORDER BY created_at',
            (user, since),
        ).fetchall()
        return active, [row["created_at"] for row in uploads if "refused" not in json.loads(row["meta"])]

    def status_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        with self.transaction(write=False) as conn:
            jobs = conn.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
            chunks = conn.execute("SELECT status, COUNT(*) AS n FROM chunks GROUP BY status").fetchall()
        return {row["status"]: int(row["n"]) for row in jobs}, {row["status"]: int(row["n"]) for row in chunks}

    def oldest_queued(self) -> Job | None:
        row = self.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1"
        ).fetchone()
        return job_from_row(row) if row else None

    def find_completed(self, sha256: str, profile: str, engine: str, *, user: str | None = None) -> Job | None:
        mine, params = ('AND "user" = ?', (user,)) if user is not None else ("", ())
        row = self.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE sha256 = ? AND profile = ? AND engine = ? AND status = ? "
            f"AND cached_from IS NULL {mine} ORDER BY finished_at DESC LIMIT 1",
            (sha256, profile, engine, JobStatus.COMPLETED.value, *params),
        ).fetchone()
        return job_from_row(row) if row else None

    def start(self, job_id: str) -> bool:
        with self.transaction() as conn:
            started = self._update_job(
                conn,
                job_id,
                "AND status = 'queued'",
                status=JobStatus.RUNNING,
                stage=Stage.PREPARING,
                started_at=time.time(),
                message=messages.PREPARING,
                progress=PROGRESS_PREPARING,
            )
            if started:
                self._event(conn, job_id, EventKind.STAGE, messages.PREPARING)
        return started

    def set_stage(self, job_id: str, stage: Stage, message: str, progress: float | None = None) -> None:
        fields: dict[str, Any] = {"stage": stage, "message": message}
        if progress is not None:
            fields["progress"] = progress
        with self.transaction() as conn:
            if self._update_job(conn, job_id, "AND status = 'running'", **fields):
                self._event(conn, job_id, EventKind.STAGE, message)

    def record_document(
        self, job_id: str, *, pages: int, compressed_bytes: int | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        with self.transaction() as conn:
            current = conn.execute("SELECT meta FROM jobs WHERE id = ?", (job_id,)).fetchone()
            merged = {**json.loads(current["meta"]), **(meta or {})} if current else dict(meta or {})
            self._update_job(conn, job_id, pages=pages, compressed_bytes=compressed_bytes, meta=json.dumps(merged))

    def add_note(self, job_id: str, note: str) -> None:
        note = strip_controls(note)
        with self.transaction() as conn:
            row = conn.execute("SELECT notes FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            notes = json.loads(row["notes"])
            if note in notes:
                return
            self._update_job(conn, job_id, notes=json.dumps([*notes, note]))
            self._event(conn, job_id, EventKind.NOTE, note)

    def finish(self, job_id: str, status: JobStatus, message: str, *, error: str = "") -> bool:
        status = JobStatus(status)
        fields: dict[str, Any] = {"status": status, "message": message, "error": error, "finished_at": time.time()}
        if status is JobStatus.COMPLETED:
            fields.update(stage=Stage.COMPLETED, progress=PROGRESS_DONE)
        with self.transaction() as conn:
            ended = self._update_job(conn, job_id, "AND status IN ('queued', 'running')", **fields)
            if ended:
                if status is not JobStatus.COMPLETED:
                    # In the same transaction, so no reader sees an ended job with chunks still open.
                    conn.execute(
                        "UPDATE chunks SET status = 'canceled', finished_at = ?, rev = ? "
                        "WHERE job_id = ? AND status IN ('queued', 'running')",
                        (fields["finished_at"], self._bump(conn), job_id),
                    )
                self._event(conn, job_id, EventKind.STATUS, error or message)
                self._job_ended(conn, job_id)
        return ended
