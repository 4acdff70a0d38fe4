"""Throttled progress and heartbeat writes for a running chunk, and heartbeats of a job's longer steps.

A chunk reports every page; the store sees at most one write per ``interval`` (so a job stays near 10 writes a
second whatever its page rate), and a background ticker writes every ``interval`` even while one slow page (OCR,
an API call) is in progress: new pages as progress, otherwise a bare heartbeat. A live chunk is therefore never
mistaken for a dead one, and a chunk whose job was canceled learns it within one interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from pipeline.core import messages
from pipeline.core.errors import PaperlineError
from pipeline.core.models import Stage
from pipeline.store import JobStore


class ChunkAbandoned(PaperlineError, code="chunk_abandoned"):
    """The chunk is no longer this attempt's to finish: its job was canceled, or it was requeued after its worker
    was presumed dead. The extractor stops at its next page."""


class ChunkOverTime(PaperlineError, code="chunk_over_time"):
    """The chunk ran past its time limit; it is retried like a transient error, then failed."""


class WorkerStopping(PaperlineError, code="worker_stopping"):
    """The worker is shutting down (SIGINT/SIGTERM): the chunk is handed back to the queue at a page boundary,
    without counting against its attempts."""


class ChunkProgress:
    """Context manager that owns a chunk's progress writes while it runs."""

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        index: int,
        *,
        interval: float = 0.5,
        attempt: int | None = None,
        time_limit_s: float = 0.0,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.store, self.job_id, self.index, self.attempt = store, job_id, index, attempt
        self.stopping = stopping
        self.interval = interval
        self.time_limit_s = time_limit_s
        self._started = time.monotonic()
        self.pages_done = 0
        self.abandoned = False
        #: pages done when the store first refused this attempt's write (the cancel or reassignment was seen)
        self.abandoned_after: int | None = None
        self._last_write = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name=f"progress-{job_id}-{index}", daemon=True)

    def __enter__(self) -> ChunkProgress:
        self._started = self._last_write = time.monotonic()
        self._ticker.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)

    def advance(self, pages: int = 1) -> None:
        """Count pages done; write now if the last write is older than ``interval``. Raises ``ChunkAbandoned``
        once the store says the chunk is no longer this attempt's."""
        with self._lock:
            self.pages_done += pages
        if time.monotonic() - self._last_write >= self.interval:
            self._write()
        if self.abandoned:
            raise ChunkAbandoned(messages.chunk_abandoned(self.index, self.job_id))
        if self.stopping is not None and self.stopping():
            raise WorkerStopping(messages.chunk_handed_back(self.index))
        if self.time_limit_s and time.monotonic() - self._started > self.time_limit_s:
            raise ChunkOverTime(messages.chunk_over_time(self.index, self.time_limit_s))

    def _write(self) -> None:
        # The ticker and the extractor both write; a count read before a newer one may reach the store after it,
        # and the store keeps the larger (progress never steps back).
        with self._lock:
            pages = self.pages_done
            self._last_write = time.monotonic()
        if not self.store.update_chunk_progress(self.job_id, self.index, pages, attempt=self.attempt):
            if self.abandoned_after is None:
                self.abandoned_after = pages
            self.abandoned = True

    def _tick(self) -> None:
        while not self._stop.wait(self.interval) and not self.abandoned:
            try:
                self._write()
            except Exception:  # a missed heartbeat must not kill the chunk; the next tick tries again
                pass


class StepHeartbeat:
    """Context manager that beats for a job's step (preparing, merging, embedding) from its own thread while the
    step runs, however long one call of it takes (a slow download, a big merge), so recovery takes the step back
    only when its worker is gone."""

    def __init__(self, store: JobStore, job_id: str, stage: Stage, *, interval: float) -> None:
        self.store, self.job_id, self.stage, self.interval = store, job_id, stage, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"step-{job_id}", daemon=True)

    def __enter__(self) -> StepHeartbeat:
        try:
            self._began = self.store.begin_step(self.job_id, self.stage)
        except Exception:  # counting is for recovery's attempts only: the step itself goes on
            self._began = False
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._began:
            try:
                self.store.end_step(self.job_id)
            except Exception:  # left counted: recovery then takes the step for lost, once it goes quiet
                pass

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not self.store.beat_step(self.job_id, self.stage):
                    return  # the job moved on or ended
            except Exception:  # a missed beat must not end the step; the next one tries again
                pass
