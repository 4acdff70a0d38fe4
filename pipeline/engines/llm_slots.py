"""A limit on API calls in flight across every worker process on this machine (``PAPERLINE_LLM_CONCURRENCY``).

Each slot is a file under ``PAPERLINE_HOME/llm-slots`` held with ``flock``: the kernel releases it when the
holder exits, even after ``kill -9``, so a dead worker never keeps a slot.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SlotTimeout(TimeoutError):
    pass


class LlmSlots:
    def __init__(self, directory: Path, limit: int, *, poll_s: float = 0.05):
        self.directory, self.limit, self.poll_s = Path(directory), max(1, limit), poll_s

    @contextmanager
    def acquire(self, timeout_s: float = 3600.0) -> Iterator[int]:
        """Hold one free slot for the duration of the block; waits (bounded) while all are taken."""
        self.directory.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout_s
        while True:
            for slot in range(self.limit):
                fd = os.open(self.directory / f"{slot}.lock", os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield slot
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            if time.monotonic() >= deadline:
                raise SlotTimeout(f"no API slot came free within {timeout_s:.0f} s")
            time.sleep(self.poll_s)
