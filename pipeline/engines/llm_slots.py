"""A limit on API calls in flight (``PAPERLINE_LLM_CONCURRENCY``): across every worker process of this machine, or
of every host when the job store is on PostgreSQL.

On one machine each slot is a file under ``PAPERLINE_HOME/llm-slots`` held with ``flock``; across hosts each slot is
a PostgreSQL advisory lock held on a connection of its own. Either way the holder's death releases it (the kernel
closes the file, the server ends the session), even after ``kill -9``, so a dead worker never keeps a slot.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.settings import Settings


class SlotTimeout(TimeoutError):
    pass


# The first key of Paperline's advisory locks (the second is the slot number): Paperline's own namespace of locks.
ADVISORY_CLASS = 0x50504C4E


def llm_slots(settings: Settings) -> LlmSlots | PostgresSlots:
    """The slots for these settings: across hosts on PostgreSQL, else across this machine's processes."""
    if settings.database_url:
        return PostgresSlots(settings.database_url, settings.llm_concurrency)
    return LlmSlots(settings.llm_slots_dir, settings.llm_concurrency)


class PostgresSlots:
    """``limit`` slots shared by every host of one database, as advisory locks."""

    def __init__(self, url: str, limit: int, *, poll_s: float = 0.05):
        self.url, self.limit, self.poll_s = url, max(1, limit), poll_s

    @contextmanager
    def acquire(self, timeout_s: float = 3600.0) -> Iterator[int]:
        """Hold one free slot for the duration of the block; waits (bounded) while all are taken."""
        import psycopg

        from pipeline.store.postgres import named_conninfo

        deadline = time.monotonic() + timeout_s
        with psycopg.connect(named_conninfo(self.url, "llm-slot"), autocommit=True) as conn:
            while True:
                for slot in range(self.limit):
                    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (ADVISORY_CLASS, slot)).fetchone()
                    if row and row[0]:
                        try:
                            yield slot
                        finally:
                            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (ADVISORY_CLASS, slot))
                        return
                if time.monotonic() >= deadline:
                    raise SlotTimeout(f"no API slot came free within {timeout_s:.0f} s")
                time.sleep(self.poll_s)


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
