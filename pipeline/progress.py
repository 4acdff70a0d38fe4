"""Throttled progress and heartbeat writes for a running chunk.

A chunk reports every page; the store sees at most one write per ``interval`` (so a job stays near 10 writes a
second whatever its page rate), and a background ticker writes at least every ``heartbeat`` seconds even while
one slow page (OCR, an API call) is in progress, so a live chunk is never mistaken for a dead one.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from .store import JobStore


class ChunkProgress:
    """Context manager that owns a chunk's progress writes while it runs."""

    def __init__(self, store: JobStore, job_id: str, index: int, *, interval: float = 0.5, heartbeat: float = 2.0):
        self.store, self.job_id, self.index = store, job_id, index
        self.interval, self.heartbeat = interval, heartbeat
        self.pages_done = 0
        self._written = -1
        self._last_write = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name=f"progress-{job_id}-{index}", daemon=True)

    def __enter__(self) -> ChunkProgress:
        self._last_write = time.monotonic()
        self._ticker.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)

    def advance(self, pages: int = 1) -> None:
        """Count pages done; write now if the last write is older than ``interval``."""
        with self._lock:
            self.pages_done += pages
        if time.monotonic() - self._last_write >= self.interval:
            self._write()

    def _write(self) -> None:
        with self._lock:
            pages = self.pages_done
            self._last_write = time.monotonic()
            self._written = pages
        self.store.update_chunk_progress(self.job_id, self.index, pages)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            since = time.monotonic() - self._last_write
            if (self._written != self.pages_done and since >= self.interval) or since >= self.heartbeat:
                try:
                    self._write()
                except Exception:  # a missed heartbeat must not kill the chunk; the next tick tries again
                    pass
