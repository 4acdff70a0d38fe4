"""What the feed prepares once per server process for every session: the ETA model and the analytics frames.

Both are rebuilt only when jobs end (the history grew), from what the feed already holds in memory, plus one read
of every chunk for analytics at most every ``interval`` seconds; sessions read them and never query the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import pandas as pd

from pipeline import Chunk, Job
from pipeline.insight.eta import EtaModel


class EtaSnapshot:
    """The ETA model fitted on the finished jobs the feed knows; refitted (milliseconds, from memory) as jobs end."""

    def __init__(self) -> None:
        self.model = EtaModel()

    def refit(self, jobs: Iterable[Job]) -> None:
        self.model = EtaModel.fit(list(jobs))

    def remaining(self, job: Job, *, load: int, now: float | None = None) -> float | None:
        """Seconds until ``job`` ends, from the model and the job's progress so far."""
        return self.model.remaining_seconds(job, now=now, load=load)


class AnalyticsSnapshot:
    """The jobs and chunks frames the Analytics tab draws from, shared by every session of the process."""

    def __init__(self, read_chunks: Callable[[], list[Chunk]], *, interval: float = 2.0) -> None:
        self.read_chunks, self.interval = read_chunks, interval
        #: (jobs, chunks) frames, or None before the first snapshot
        self.frames: tuple[pd.DataFrame, pd.DataFrame] | None = None
        self._due = True
        self._taken_at = 0.0

    def history_grew(self) -> None:
        """Jobs ended: the next ``take`` rebuilds the frames."""
        self._due = True

    def take(self, jobs: Iterable[Job]) -> bool:
        """Rebuild the frames if jobs ended since the last snapshot and ``interval`` has passed; returns whether
        there is a new snapshot."""
        now = time.monotonic()
        if not self._due or now - self._taken_at < self.interval:
            return False
        from pipeline.insight.frames import chunks_frame, jobs_frame

        self.frames = (jobs_frame(list(jobs)), chunks_frame(self.read_chunks()))
        self._due, self._taken_at = False, now
        return True
