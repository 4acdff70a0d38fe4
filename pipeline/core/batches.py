"""What a batch's sums mean, the same for every backend and surface: one status for the batch, the line a person
reads ("3 of 10 ready, 1 failed") and the batch as the API answers it. The store sums a batch's jobs in one query
(``BatchTotals``); the service adds the seconds left; the store's outbox sends the same answer to webhooks when a
batch ends (``batch.completed``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.core import messages
from pipeline.core.models import BatchTotals, JobStatus


def batch_status(totals: BatchTotals) -> JobStatus:
    """One status for the batch: queued until a job starts, running while any is open; once all ended, completed
    when every job completed, failed when any failed, canceled otherwise."""
    counts = totals.counts
    if not totals.is_final:
        started = totals.started_at is not None or totals.ended > 0
        return JobStatus.RUNNING if started else JobStatus.QUEUED
    if counts[JobStatus.FAILED.value]:
        return JobStatus.FAILED
    if counts[JobStatus.CANCELED.value]:
        return JobStatus.CANCELED
    return JobStatus.COMPLETED


@dataclass(frozen=True)
class BatchView:
    """A batch as the API, CLI and page show it: the store's totals, a status, a line, and the seconds left."""

    totals: BatchTotals
    #: seconds until every job has ended (None: nothing to estimate from yet)
    eta_s: float | None = None

    @property
    def id(self) -> str:
        return self.totals.batch.id

    @property
    def status(self) -> JobStatus:
        return batch_status(self.totals)

    @property
    def is_final(self) -> bool:
        return self.totals.is_final

    @property
    def message(self) -> str:
        counts = self.totals.counts
        return messages.batch_rollup(self.totals.documents, counts["completed"], counts["failed"], counts["canceled"])

    def to_dict(self) -> dict[str, Any]:
        totals = self.totals
        return {
            **totals.batch.to_dict(),
            "status": self.status.value,
            "message": self.message,
            "counts": dict(totals.counts),
            "pages": totals.pages,
            "pages_done": totals.pages_done,
            "progress": round(totals.progress, 2),
            "started_at": totals.started_at,
            "finished_at": totals.finished_at,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
        }
