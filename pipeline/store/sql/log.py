"""The event log, the changes feed, the worker registry and retention records in SQLite."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pipeline.core.lifecycle import EventKind
from pipeline.core.models import Event, Job, WorkerBeat
from pipeline.store.interface import Changes
from pipeline.store.sql.base import SqlBase
from pipeline.store.sql.schema import (
    CHUNK_COLUMNS,
    EVENT_COLUMNS,
    JOB_COLUMNS,
    chunk_from_row,
    event_from_row,
    job_from_row,
)


class SqlLog(SqlBase):
    """``EventLog``, ``WorkerRegistry`` and ``RetentionRecords`` in SQL."""

    def list_events(self, job_id: str | None = None, *, after_id: int = 0, limit: int | None = None) -> list[Event]:
        params: list[Any] = [after_id]
        where = "WHERE id > ?"
        if job_id is not None:
            where += " AND job_id = ?"
            params.append(job_id)
        limit_sql = f"LIMIT {int(limit)}" if limit else ""
        rows = self.connection.execute(
            f"SELECT {EVENT_COLUMNS} FROM events {where} ORDER BY id {limit_sql}", params
        ).fetchall()
        return [event_from_row(r) for r in rows]

    def changes_since(self, revision: int) -> Changes:
        # An idle poll is one indexed read; only when the revision moved is a snapshot transaction opened.
        conn = self.connection
        if conn.execute("SELECT value FROM revision WHERE id = 1").fetchone()["value"] == revision:
            return Changes(revision, [], [])
        with self.transaction(write=False) as conn:
            current = conn.execute("SELECT value FROM revision WHERE id = 1").fetchone()["value"]
            jobs = conn.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE rev > ? ORDER BY created_at", (revision,)
            ).fetchall()
            chunks = conn.execute(
                f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE rev > ? ORDER BY job_id, idx", (revision,)
            ).fetchall()
        return Changes(current, [job_from_row(r) for r in jobs], [chunk_from_row(r) for r in chunks])

    def record_wait(self, job_id: str, message: str, chunk_index: int | None = None) -> None:
        with self.transaction() as conn:
            self._event(conn, job_id, EventKind.WAITING, message, chunk_index)

    def beat_job(self, job_id: str) -> None:
        with self.transaction() as conn:  # no revision: nothing a reader shows changed
            conn.execute("UPDATE jobs SET updated_at = ? WHERE id = ? AND status = 'running'", (time.time(), job_id))

    def beat_worker(self, worker_id: str, host: str, pid: int) -> None:
        now = time.time()
        with self.beat_transaction() as conn:
            conn.execute(
                "INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, "
                "started_at = CASE WHEN workers.stopped_at IS NULL THEN workers.started_at "
                "ELSE excluded.started_at END, stopped_at = NULL",
                (worker_id, host, pid, now, now),
            )

    def worker_stopped(self, worker_ids: Iterable[str]) -> None:
        now = time.time()
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE workers SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL", [(now, w) for w in worker_ids]
            )

    def list_workers(self, *, max_age_s: float | None = None) -> list[WorkerBeat]:
        since = time.time() - max_age_s if max_age_s is not None else 0.0
        rows = self.connection.execute(
            "SELECT id, host, pid, started_at, heartbeat_at FROM workers "
            "WHERE heartbeat_at >= ? AND stopped_at IS NULL ORDER BY heartbeat_at DESC",
            (since,),
        ).fetchall()
        return [WorkerBeat(**dict(r)) for r in rows]

    def touch(self, job_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET last_used_at = ? WHERE id = ?", (time.time(), job_id))

    def purge_candidates(self, user: str | None = None) -> list[Job]:
        mine, params = ('AND "user" = ? ', (user,)) if user is not None else ("", ())
        rows = self.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ('completed', 'failed', 'canceled') AND purged_at IS NULL "
            f"{mine}ORDER BY COALESCE(last_used_at, finished_at, created_at), {self.INSERTION_ORDER}",
            params,
        ).fetchall()
        return [job_from_row(r) for r in rows]

    def mark_purged(self, job_id: str, note: str) -> None:
        with self.transaction() as conn:
            self._update_job(conn, job_id, purged_at=time.time())
            conn.execute("DELETE FROM passages WHERE job_id = ?", (job_id,))  # search forgets them with the files
            self._event(conn, job_id, EventKind.PURGED, note)
        self.add_note(job_id, note)
