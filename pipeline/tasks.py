"""Huey tasks: thin wrappers that hand each step to ``Processor``, plus the worker's start-up hooks.

``process_document`` plans the chunks and enqueues one ``process_chunk`` per chunk, so chunks spread over
every consumer worker (and every machine on Redis); the store decides which chunk was last, and that one
enqueues ``merge_document``. Huey's ``chord`` is not used: it never fires if a member is lost to a killed worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from functools import cache

from huey_config import huey

from .config import Settings
from .processing import Processor
from .store import open_store

log = logging.getLogger("paperline.tasks")


@cache
def _processor(pid: int) -> Processor:
    # One store connection set per worker process, opened after the fork (never at import time).
    settings = Settings.from_env()
    return Processor(settings, open_store(settings), _enqueue_chunk, _enqueue_merge)


def processor() -> Processor:
    return _processor(os.getpid())


def _enqueue_chunk(job_id: str, index: int, delay: float) -> None:
    if delay > 0:
        process_chunk.schedule((job_id, index), delay=delay)
    else:
        process_chunk(job_id, index)


def _enqueue_merge(job_id: str) -> None:
    merge_document(job_id)


@huey.task()
def process_document(job_id: str) -> None:
    processor().prepare(job_id)


@huey.task()
def process_chunk(job_id: str, index: int) -> None:
    processor().run_chunk(job_id, index)


@huey.task()
def merge_document(job_id: str) -> None:
    processor().merge(job_id)


_beating: set[int] = set()
_beating_lock = threading.Lock()


@huey.on_startup()
def start_heartbeat() -> None:
    """Record that this worker process is alive, every few seconds, so the CLI and dashboard can tell."""
    pid = os.getpid()
    with _beating_lock:
        if pid in _beating:
            return  # thread workers share a process: one heartbeat is enough
        _beating.add(pid)
    proc = processor()
    worker_id, host = f"{socket.gethostname()}:{pid}", socket.gethostname()

    def beat() -> None:
        stop = threading.Event()
        while True:
            try:
                proc.store.beat_worker(worker_id, host, pid)
            except Exception:
                log.exception("worker heartbeat failed")
            stop.wait(proc.settings.heartbeat_interval_s)

    threading.Thread(target=beat, name="paperline-heartbeat", daemon=True).start()
