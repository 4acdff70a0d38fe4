"""What a job's steps need from whatever runs them, without knowing it is Huey: a way to queue follow-ups, the
name of this worker, and whether this worker is stopping.

The worker (``pipeline.worker``) plugs into these; the steps never import it, so the dependency points one way.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Protocol


class Scheduler(Protocol):
    """How the steps queue their follow-ups (``pipeline.worker.tasks.BoundTasks``; anything alike in tests). A task
    of a higher ``priority`` (the job's) is taken first where the queue honours priorities."""

    def enqueue_document(self, job_id: str, *, priority: int = 0) -> None: ...

    def enqueue_chunk(self, job_id: str, index: int, delay: float = 0.0, *, priority: int = 0) -> None: ...

    def enqueue_merge(self, job_id: str, *, priority: int = 0) -> None: ...

    def enqueue_embedding(self, job_id: str, first: int) -> None: ...

    def queued(self) -> tuple[set[tuple[str, int]], set[str]]:
        """The chunk tasks (job, index) and document tasks the queue holds, waiting or scheduled."""
        ...


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


class Stopping:
    """This process's consumer stop flag, set by the worker before it forks (so each worker process inherits it):
    a running chunk checks it between pages and hands itself back."""

    flag: StopFlag | None = None

    @classmethod
    def asked(cls) -> bool:
        """Whether this worker's consumer is stopping (SIGINT/SIGTERM)."""
        return cls.flag is not None and cls.flag.is_set()


def worker_id(pid: int | None = None) -> str:
    """How a worker process is named in the store: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def worker_name() -> str:
    """This worker as chunks record it: ``host:pid``, and the thread for thread workers."""
    thread = threading.current_thread().name
    return worker_id() + ("" if thread == "MainThread" else f"/{thread}")
