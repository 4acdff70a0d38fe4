"""What every part of the SQL stores shares: revisions, events, job updates, and the chunk rules each write
re-applies (recounting a job from its chunks, the fan-in to merging)."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from enum import Enum
from typing import Any

from pipeline.core import messages
from pipeline.core.lifecycle import (
    PROGRESS_BEFORE_MERGING,
    STEPS_COUNTED_AFRESH,
    EventKind,
    extraction_progress,
)
from pipeline.core.models import BatchTotals, Stage
from pipeline.core.text import strip_controls


def sql_list(stages: tuple[Stage, ...]) -> str:
    """``('merging', 'embedding')``: stages for an ``IN`` clause, from the lifecycle rather than retyped."""
    return "(" + ", ".join(f"'{stage.value}'" for stage in stages) + ")"


class SqlBase:
    """The SQL every backend shares; a backend supplies the connection and transactions.

    Statements are written with ``?`` placeholders in the SQL both SQLite and PostgreSQL accept; a backend's
    connection adapts them. Write transactions are serialized by the backend (SQLite's ``BEGIN IMMEDIATE``,
    PostgreSQL's lock on the revision row), which is what makes the chunk rules atomic.
    """

    #: the column that orders rows by insertion, to break ties between jobs created at the same instant
    INSERTION_ORDER = "rowid"

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Any]:
        raise NotImplementedError

    @property
    def connection(self) -> Any:
        raise NotImplementedError

    def add_note(self, job_id: str, note: str) -> None:
        raise NotImplementedError  # SqlJobs', which comes first in SqlStore's bases

    def _job_ended(self, conn: Any, job_id: str) -> None:
        """Write the webhook deliveries a job's end owes, in the transaction that ended it (SqlWebhooks')."""
        raise NotImplementedError

    def _batch_totals(self, conn: Any, batch_id: str) -> BatchTotals | None:
        """A batch's sums as ``conn`` sees them (SqlBatches')."""
        raise NotImplementedError

    def _job_outcome_changed(self, conn: Any, job_id: str) -> None:
        """An ended job's figures changed: its unsent deliveries carry it as it is now (SqlWebhooks')."""
        raise NotImplementedError

    def beat_transaction(self) -> AbstractContextManager[Any]:
        """Where heartbeats write: one statement each, that moves no revision. By default a write transaction like
        any other; a backend whose writers queue for a lock (PostgreSQL's revision row) gives beats their own
        connection outside it, so a long transaction or a busy pool never starves a heartbeat."""
        return self.transaction()

    @staticmethod
    def _bump(conn: Any) -> int:
        return conn.execute("UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value").fetchone()["value"]

    @staticmethod
    def _event(conn: Any, job_id: str, kind: EventKind, message: str = "", chunk_index: int | None = None) -> None:
        conn.execute(
            "INSERT INTO events (job_id, at, kind, status, stage, progress, chunk_index, message) "
            "SELECT id, CAST(? AS DOUBLE PRECISION), ?, status, stage, progress, CAST(? AS INTEGER), ? "
            "FROM jobs WHERE id = ?",
            (time.time(), kind.value, chunk_index, strip_controls(message), job_id),
        )

    def _update_job(self, conn: Any, job_id: str, where: str = "", **fields: Any) -> bool:
        fields["updated_at"] = time.time()
        if fields.get("stage") in STEPS_COUNTED_AFRESH:
            fields.setdefault("step_recoveries", 0)  # a new step has its own attempt budget
        fields["rev"] = self._bump(conn)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        # Messages and errors can quote a document or an API: no control characters reach the database.
        values = [
            v.value if isinstance(v, Enum) else strip_controls(v) if isinstance(v, str) else v for v in fields.values()
        ]
        cursor = conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ? {where}", (*values, job_id))
        return cursor.rowcount == 1

    # -- rules every chunk write re-applies --------------------------------------------------------------------
    @staticmethod
    def _chunk_message(conn: Any, job_id: str) -> str:
        row = conn.execute(
            "SELECT COUNT(*) AS total, SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done, "
            "SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running, "
            "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed FROM chunks WHERE job_id = ?",
            (job_id,),
        ).fetchone()
        return messages.extracting(row["done"] or 0, row["total"], row["running"] or 0, row["failed"] or 0)

    def _recount(self, conn: Any, job_id: str) -> None:
        """Derive the job's counters from its chunks, so they can never drift from the unit of truth."""
        row = conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN status = 'done' THEN last_page - first_page + 1 ELSE pages_done END), 0) "
            "AS pages_done, SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done, "
            "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed "
            "FROM chunks WHERE job_id = ?",
            (job_id,),
        ).fetchone()
        pages = conn.execute("SELECT pages FROM jobs WHERE id = ?", (job_id,)).fetchone()["pages"]
        self._update_job(
            conn,
            job_id,
            "AND status = 'running'",
            pages_done=row["pages_done"],
            chunks_done=row["done"] or 0,
            chunks_failed=row["failed"] or 0,
            progress=extraction_progress(row["pages_done"], pages),
            message=self._chunk_message(conn, job_id),
        )

    def _fan_in(self, conn: Any, job_id: str) -> bool:
        """Move the job to merging once no chunk is open; True for the one caller that did it."""
        open_chunks = conn.execute(
            "SELECT COUNT(*) AS n FROM chunks WHERE job_id = ? AND status IN ('queued', 'running')", (job_id,)
        ).fetchone()["n"]
        if open_chunks:
            return False
        # The conditional stage change is the fan-in: only one finisher can move extracting -> merging.
        last = self._update_job(
            conn,
            job_id,
            "AND status = 'running' AND stage = 'extracting'",
            stage=Stage.MERGING,
            message=messages.MERGING,
            progress=PROGRESS_BEFORE_MERGING,
        )
        if last:
            self._event(conn, job_id, EventKind.STAGE, messages.MERGING)
        return last
