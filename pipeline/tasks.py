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
from collections.abc import Callable
from functools import cache, partial

from huey import Huey
from huey.api import TaskWrapper

from huey_config import huey

from .config import Settings
from .processing import Processor
from .store import open_store

log = logging.getLogger("paperline.tasks")

if Settings.from_env().anthropic_api_key_set:
    # Load the Claude engine (and the anthropic SDK, ~1-3 s of CPU) once here, in the consumer before it forks
    # its workers, rather than in every worker on its first chunk. No client is made until a chunk needs one.
    from . import claude  # noqa: F401


@cache
def _processor(pid: int) -> Processor:
    # One store connection set per worker process, opened after the fork (never at import time).
    settings = Settings.from_env()
    return Processor(
        settings, open_store(settings), _enqueue_chunk, _enqueue_merge, _enqueue_document, partial(queued_tasks, huey)
    )


def queued_tasks(queue: Huey) -> tuple[set[tuple[str, int]], set[str]]:
    """What ``queue`` holds (waiting, or scheduled for a retry): chunk tasks as (job, index), and document tasks."""
    chunks: set[tuple[str, int]] = set()
    documents: set[str] = set()
    for task in [*queue.pending(), *queue.scheduled()]:
        if task.name == "process_chunk":
            chunks.add((task.args[0], task.args[1]))
        elif task.name == "process_document":
            documents.add(task.args[0])
    return chunks, documents


def processor() -> Processor:
    return _processor(os.getpid())


def _enqueue_chunk(job_id: str, index: int, delay: float) -> None:
    if delay > 0:
        process_chunk.schedule((job_id, index), delay=delay)
    else:
        process_chunk(job_id, index)


def _enqueue_merge(job_id: str) -> None:
    merge_document(job_id)


def _enqueue_document(job_id: str) -> None:
    process_document(job_id)


def _process_document(job_id: str) -> None:
    processor().prepare(job_id)


def _process_chunk(job_id: str, index: int) -> None:
    processor().run_chunk(job_id, index)


def _merge_document(job_id: str) -> None:
    processor().merge(job_id)


TASK_FUNCTIONS: dict[str, Callable[..., None]] = {
    "process_document": _process_document,
    "process_chunk": _process_chunk,
    "merge_document": _merge_document,
}
process_document = huey.task(name="process_document")(_process_document)
process_chunk = huey.task(name="process_chunk")(_process_chunk)
merge_document = huey.task(name="merge_document")(_merge_document)
_bound: dict[int, dict[str, TaskWrapper]] = {
    id(huey): {"process_document": process_document, "process_chunk": process_chunk, "merge_document": merge_document}
}


def tasks_for(queue: Huey) -> dict[str, TaskWrapper]:
    """The tasks bound to ``queue``: this module's for the configured queue, fresh bindings for another one
    (a notebook or test pointing at another PAPERLINE_HOME). Names match, so any consumer runs them."""
    if id(queue) not in _bound:
        _bound[id(queue)] = {name: queue.task(name=name)(fn) for name, fn in TASK_FUNCTIONS.items()}
    return _bound[id(queue)]


_beating: dict[int, threading.Event] = {}  # per worker process: set when it says goodbye
_beating_lock = threading.Lock()


def worker_id(pid: int | None = None) -> str:
    """How a worker process is named in the store: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


@huey.on_startup()
def start_heartbeat() -> None:
    """Record that this worker process is alive, every few seconds, so the CLI and dashboard can tell."""
    pid = os.getpid()
    with _beating_lock:
        if pid in _beating:
            return  # thread workers share a process: one heartbeat is enough
        stopped = _beating[pid] = threading.Event()
    proc = processor()
    me, host = worker_id(pid), socket.gethostname()

    def beat() -> None:
        while not stopped.is_set():
            try:
                proc.store.beat_worker(me, host, pid)
            except Exception:
                log.exception("worker heartbeat failed")
            stopped.wait(proc.settings.heartbeat_interval_s)

    def sweep() -> None:
        # Huey's SQLite queue drops a task its worker was running when the worker is killed: find such work by
        # its stale heartbeat and queue it again, at start and every few seconds (a conditional update in the
        # store hands each lost chunk to exactly one sweeper).
        stop = threading.Event()
        while True:
            try:
                proc.recover()
            except Exception:
                log.exception("recovery sweep failed")
            stop.wait(proc.settings.sweep_interval_s)

    threading.Thread(target=beat, name="paperline-heartbeat", daemon=True).start()
    threading.Thread(target=sweep, name="paperline-recovery", daemon=True).start()


@huey.on_shutdown()
def say_goodbye() -> None:
    """A worker that stops says so at once: the CLI, the dashboard and notebooks stop counting it as alive instead
    of trusting its last heartbeat for another few seconds."""
    with _beating_lock:
        stopped = _beating.pop(os.getpid(), None)
    if stopped is None:
        return
    stopped.set()
    try:
        processor().store.worker_stopped([worker_id()])
    except Exception:
        log.exception("could not record that the worker stopped")
