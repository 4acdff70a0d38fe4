"""Batches: documents submitted together, followed, canceled, retried and downloaded as one
(``pipeline.service.batches`` sums them up and writes their zip)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from pipeline.core import messages
from pipeline.core.batches import BatchView
from pipeline.core.errors import (
    BatchNotFound,
    InvalidRequest,
    WrongState,
)
from pipeline.core.models import (
    Batch,
    Job,
    Stage,
)
from pipeline.profiles.registry import default_profile
from pipeline.service.users import (
    LOCAL_USER,
)

if TYPE_CHECKING:  # (for types only: each is imported where first used, so a short command stays fast)
    from pipeline.documents.intake import Source


from pipeline.service.core import new_job_id
from pipeline.service.insight import Insight
from pipeline.service.job_actions import JobActions, check_priority
from pipeline.service.job_results import JobResults


class BatchActions(JobActions, JobResults, Insight):
    """Submit, follow, cancel, retry and download batches."""

    def submit_batch(
        self,
        sources: Sequence[tuple[Source, str | None]],
        *,
        name: str = "",
        user: str = LOCAL_USER,
        on_job: Callable[[Job], None] | None = None,
        **options: Any,
    ) -> tuple[Batch, list[Job]]:
        """Submit documents together as one batch: each (source, filename) becomes a job of it, as ``submit``
        makes one (``options``: profile, engine, instruction, priority), ``on_job`` told of each as it is made
        (intake reads each document in turn: a caller shows them arrive). A request that cannot run is refused
        before anything is recorded."""
        if not sources:
            raise InvalidRequest("A batch needs at least one document.")
        engine = options.get("engine", "local")
        profile = options.get("profile")
        self.check_request(
            engine, default_profile(engine) if profile is None else profile, options.get("instruction", "")
        )
        check_priority(options.get("priority", 0))
        batch = self.store.create_batch(
            Batch(new_job_id(), user, name or messages.batch_name(len(sources)), time.time(), len(sources))
        )
        jobs = []
        for source, filename in sources:
            jobs.append(self.submit(source, filename, user=user, batch_id=batch.id, **options))
            if on_job is not None:
                on_job(jobs[-1])
        return batch, jobs

    def batch(self, batch_id: str, *, user: str | None = None, eta: bool = True) -> BatchView:
        """The batch's status: its jobs summed up in one store query, and (``eta``) the seconds left, from the ETA
        model as each job's own."""
        totals = self.store.batch_totals(batch_id)
        if totals is None or (user is not None and totals.batch.user != user):
            raise BatchNotFound(f"No batch {batch_id!r}")
        if not eta or totals.is_final:
            return BatchView(totals, 0.0 if totals.is_final else None)
        from pipeline.insight.eta import batch_remaining_seconds

        jobs = self.batch_jobs(batch_id)
        seconds = batch_remaining_seconds(
            self.eta_model(),
            jobs,
            workers=len(self.workers()),
            extracting_since=self.extraction_starts([job for job in jobs if job.stage is Stage.EXTRACTING]),
        )
        return BatchView(totals, seconds)

    def batch_jobs(self, batch_id: str, *, user: str | None = None) -> list[Job]:
        """The batch's jobs, in the order they were submitted."""
        if user is not None:
            self.batch(batch_id, user=user, eta=False)
        return list(reversed(self.store.list_recent(batch=batch_id)))

    def batches(self, *, user: str | None = None, limit: int | None = None) -> list[Batch]:
        return self.store.list_batches(user=user, limit=limit)

    def cancel_batch(self, batch_id: str, *, user: str | None = None) -> BatchView:
        """Cancel every job of the batch that has not ended, and every document of it still to become a job (a drop
        still arriving): from now on none joins it."""
        view = self.batch(batch_id, user=user, eta=False)
        still_to_come = view.totals.total < view.totals.batch.jobs
        if still_to_come or any(not job.is_final for job in self.batch_jobs(batch_id)):
            self.store.cancel_batch(batch_id, time.time())  # first: a job made from here on is refused
        open_jobs = [job for job in self.batch_jobs(batch_id) if not job.is_final]
        if not open_jobs and not still_to_come:
            raise WrongState(messages.nothing_to_cancel_in(batch_id))
        for job in open_jobs:
            self.store.cancel(job.id, messages.canceled_by(user or view.totals.batch.user))
        return self.batch(batch_id, eta=False)

    def retry_batch(self, batch_id: str, *, user: str | None = None) -> BatchView:
        """Run the failed chunks of each failed job of the batch again (``retry`` per job); jobs refused at intake
        have none and are left as they are."""
        self.batch(batch_id, user=user, eta=False)
        again = [job for job in self.batch_jobs(batch_id) if job.can_retry]
        if not again:
            raise WrongState(messages.nothing_to_retry_in(batch_id))
        for job in again:
            self.retry(job.id)
        return self.batch(batch_id)

    def write_batch_results(self, batch_id: str, out: IO[bytes], *, user: str | None = None) -> list[dict[str, Any]]:
        """Every job's main result as one zip written to ``out`` (one result in memory at a time), with a manifest
        naming the jobs that have none and why; returns the manifest's entries."""
        from pipeline.service.batches import write_results_zip

        jobs = self.batch_jobs(batch_id, user=user)

        def read(job: Job) -> tuple[str, bytes] | None:
            try:
                fmt = self.result_format(job.id)
                return fmt, self.result_bytes(job.id, fmt)
            except InvalidRequest:
                return None

        return write_results_zip(out, jobs, read)
