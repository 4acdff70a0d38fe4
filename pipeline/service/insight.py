"""What the history says: the ETA model and how far it was off, the history as DataFrames for notebooks, and what
extraction and answers cost per day (``pipeline.insight`` computes; this reads the store for it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline.core.models import (
    AskUsage,
    Job,
)

if TYPE_CHECKING:  # pandas costs ~0.6 s to import; only notebooks and analytics need it
    import pandas as pd

    from pipeline.insight.eta import EtaError, EtaModel


from pipeline.service.job_reading import JobReading


class Insight(JobReading):
    """ETA, notebooks' frames and costs, from the store's history."""

    def eta_model(self) -> EtaModel:
        """The ETA model fitted on this store's finished jobs."""
        from pipeline.insight.eta import EtaModel

        return EtaModel.fit(self.jobs())

    def extraction_starts(self, jobs: Iterable[Job]) -> dict[str, float]:
        """When each job's first chunk began (jobs not yet extracting are left out): what the ETA measures a job's
        own pace from (``EtaModel.remaining_seconds(extracting_since=...)``)."""
        from pipeline.insight.eta import first_chunk_start

        starts = {job.id: first_chunk_start(self.store.list_chunks(job.id)) for job in jobs}
        return {job_id: at for job_id, at in starts.items() if at is not None}

    def eta_error(self, *, held_back: float = 0.3) -> EtaError | None:
        """How far the ETA was from the truth on the most recent ``held_back`` share of finished jobs."""
        from pipeline.insight.eta import evaluate

        return evaluate(self.jobs(), self.events(), held_back=held_back)

    def jobs_frame(self, **filters: Any) -> pd.DataFrame:
        from pipeline.insight.frames import jobs_frame

        return jobs_frame(self.jobs(**filters))

    def chunks_frame(self, job_id: str | None = None) -> pd.DataFrame:
        from pipeline.insight.frames import chunks_frame

        return chunks_frame(self.chunks(job_id) if job_id else self.store.list_all_chunks())

    def events_frame(self, job_id: str | None = None) -> pd.DataFrame:
        from pipeline.insight.frames import events_frame

        return events_frame(self.events(job_id))

    def ask_usage(self, user: str | None = None, day: str | None = None) -> list[AskUsage]:
        """What answers cost per user and day (one user's, one day's when given), newest day first."""
        return self.store.list_ask_usage(user, day)

    def costs_by_day(self, user: str | None = None) -> list[dict[str, Any]]:
        """Per user and UTC day, extraction and answers side by side: tokens and estimated USD of each."""
        from pipeline.service.ask import costs_by_day

        return costs_by_day(self.jobs(user=user), self.ask_usage(user))
