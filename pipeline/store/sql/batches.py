"""Batches in SQL (``BatchRecords``): the batch row, and its jobs summed up in one grouped query."""

from __future__ import annotations

from typing import Any

from pipeline.core.lifecycle import PROGRESS_DONE
from pipeline.core.models import Batch, BatchTotals, JobStatus
from pipeline.core.text import strip_controls
from pipeline.store.sql.base import SqlBase
from pipeline.store.sql.schema import columns_of

BATCH_COLUMNS = columns_of(Batch)
FINAL = "('completed', 'failed', 'canceled')"
# One row per batch: a count per status, pages, progress (an ended job counts whole), first start, last end.
TOTALS = ", ".join(
    [
        *(f"SUM(CASE WHEN j.status = '{s.value}' THEN 1 ELSE 0 END) AS n_{s.value}" for s in JobStatus),
        "COALESCE(SUM(j.pages), 0) AS pages",
        "COALESCE(SUM(CASE WHEN j.status = 'completed' THEN j.pages ELSE j.pages_done END), 0) AS pages_done",
        f"COALESCE(SUM(CASE WHEN j.status IN {FINAL} THEN {PROGRESS_DONE} ELSE j.progress END), 0) AS progress_sum",
        "MIN(j.started_at) AS started_at",
        "MAX(j.finished_at) AS finished_at",
    ]
)


def _batch(row: Any) -> Batch:
    return Batch(**{name: row[name] for name in ("id", "user", "name", "created_at", "jobs", "canceled_at")})


class SqlBatches(SqlBase):
    def create_batch(self, batch: Batch) -> Batch:
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO batches ({BATCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (batch.id, batch.user, strip_controls(batch.name), batch.created_at, batch.jobs, batch.canceled_at),
            )
            self._bump(conn)
        found = self.get_batch(batch.id)
        assert found is not None
        return found

    def cancel_batch(self, batch_id: str, at: float) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE batches SET canceled_at = ? WHERE id = ? AND canceled_at IS NULL", (at, batch_id))
            self._bump(conn)

    def get_batch(self, batch_id: str) -> Batch | None:
        row = self.connection.execute(f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return _batch(row) if row else None

    def list_batches(self, *, user: str | None = None, limit: int | None = None) -> list[Batch]:
        where, params = ('WHERE "user" = ?', (user,)) if user is not None else ("", ())
        limit_sql = f"LIMIT {int(limit)}" if limit else ""
        rows = self.connection.execute(
            f"SELECT {BATCH_COLUMNS} FROM batches {where} ORDER BY created_at DESC, id {limit_sql}", params
        ).fetchall()
        return [_batch(row) for row in rows]

    def batch_totals(self, batch_id: str) -> BatchTotals | None:
        return self._batch_totals(self.connection, batch_id)

    def _batch_totals(self, conn: Any, batch_id: str) -> BatchTotals | None:
        """The batch's sums read on ``conn`` (inside a transaction: as that transaction sees them)."""
        row = conn.execute(
            f'SELECT b.id, b."user", b.name, b.created_at, b.jobs, b.canceled_at, {TOTALS} '
            "FROM batches b LEFT JOIN jobs j ON j.batch_id = b.id WHERE b.id = ? "
            'GROUP BY b.id, b."user", b.name, b.created_at, b.jobs, b.canceled_at',
            (batch_id,),
        ).fetchone()
        if row is None:
            return None
        counts = {s.value: int(row[f"n_{s.value}"] or 0) for s in JobStatus}
        everything_ended = sum(counts.values()) > 0 and counts["queued"] + counts["running"] == 0
        return BatchTotals(
            batch=_batch(row),
            counts=counts,
            pages=int(row["pages"]),
            pages_done=int(row["pages_done"]),
            progress_sum=float(row["progress_sum"]),
            started_at=row["started_at"],
            finished_at=row["finished_at"] if everything_ended else None,
        )
