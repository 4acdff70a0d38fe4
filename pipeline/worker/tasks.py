"""Huey tasks: the steps of a job bound to a queue once, and the worker's start and stop hooks.

``process_document`` plans the chunks and enqueues one ``process_chunk`` per chunk, so chunks spread over
every consumer worker (and every machine on a shared queue); the store decides which chunk was last, and that one
enqueues ``merge_document``; a retrieval job's merge enqueues one ``embed_passages`` per batch of passages the same
way. Huey's ``chord`` is not used: it never fires if a member is lost to a killed worker.

``bind_tasks(queue, make_processor)`` binds the steps to a queue, once per queue: the worker binds the configured
queue here (``huey_consumer pipeline.worker.tasks.huey`` finds it), ``Paperline`` binds its own queue to submit, and the
tests run what a ``Paperline`` queued in-process through the same binding.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from huey import Huey
from huey.api import Task, TaskWrapper

from huey_config import huey
from pipeline.core import transient
from pipeline.core.settings import Settings
from pipeline.jobs.steps import Processor
from pipeline.store import open_store
from pipeline.worker.life import WorkerLife, limit_process

log = logging.getLogger("paperline.tasks")
TASK_NAMES = ("process_document", "process_chunk", "merge_document", "embed_passages")
#: Huey priorities per step of a job's priority: its chunks at the first, its merge at the second (``_options``)
STEPS_PER_PRIORITY = 2


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


@dataclass
class BoundTasks:
    """The steps bound to one queue, and the enqueueing ``Processor`` and recovery use (they know no Huey)."""

    queue: Huey
    make_processor: Callable[[BoundTasks], Processor]
    #: seconds each enqueueing waits out an outage of the queue's database (a worker's budget; 0 fails fast)
    retry_s: float = 0.0
    process_document: TaskWrapper = field(init=False)
    process_chunk: TaskWrapper = field(init=False)
    merge_document: TaskWrapper = field(init=False)
    embed_passages: TaskWrapper = field(init=False)
    _processors: dict[int, Processor] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def processor(self) -> Processor:
        """This process's ``Processor``, made on first use after a fork (never at import time)."""
        pid = os.getpid()
        with self._lock:
            if pid not in self._processors:
                self._processors[pid] = self.make_processor(self)
            return self._processors[pid]

    def _options(self, priority: int, *, last_step: bool = False) -> dict[str, int]:
        """Huey's ``priority`` where the queue's storage honours it: SQLite and PostgreSQL order their task tables
        by it; plain Redis storage refuses any (``PriorityRedisHuey`` would keep a sorted set instead of the list
        a running deployment holds), so there the queue stays first in, first out.

        A job's last step (its merge) ranks just above its chunks and below the next user priority, so a job whose
        chunks are done ends before chunks of equally urgent jobs queued behind them run: a batch's documents
        become ready one by one, not all at its end."""
        rank = priority * STEPS_PER_PRIORITY + (1 if last_step else 0)
        return {"priority": rank} if rank and self.queue.storage.priority else {}

    def enqueue_document(self, job_id: str, *, priority: int = 0) -> None:
        self._enqueue(self.process_document.s(job_id, **self._options(priority)))

    def enqueue_chunk(self, job_id: str, index: int, delay: float = 0.0, *, priority: int = 0) -> None:
        # A delayed task carries its time to run (a retry's backoff); the consumer holds it until then.
        options: dict[str, float] = {**self._options(priority), **({"delay": delay} if delay > 0 else {})}
        self._enqueue(self.process_chunk.s(job_id, index, **options))

    def enqueue_merge(self, job_id: str, *, priority: int = 0) -> None:
        self._enqueue(self.merge_document.s(job_id, **self._options(priority, last_step=True)))

    def enqueue_embedding(self, job_id: str, first: int) -> None:
        self._enqueue(self.embed_passages.s(job_id, first))

    def queued(self) -> tuple[set[tuple[str, int]], set[str]]:
        return transient.retrying(lambda: queued_tasks(self.queue), budget_s=self.retry_s, service=transient.QUEUE)

    def _enqueue(self, task: Task) -> None:
        """One insert into the queue's table, so inserting again after a transient error is safe."""
        what = f"enqueue {task.name}"
        transient.retrying(lambda: self.queue.enqueue(task), budget_s=self.retry_s, service=transient.QUEUE, what=what)


_bindings: dict[int, BoundTasks] = {}
_bindings_lock = threading.Lock()


def bind_tasks(queue: Huey, make_processor: Callable[[BoundTasks], Processor]) -> BoundTasks:
    """Register the four steps (``TASK_NAMES``: prepare, run a chunk, merge, embed passages) on ``queue`` (once: a
    queue keeps its first binding, and that binding's processor runs whatever this process executes from it). Any
    consumer of the queue runs them by name."""
    with _bindings_lock:
        bound = _bindings.get(id(queue))
        if bound is None or bound.queue is not queue:
            bound = BoundTasks(queue, make_processor)

            def process_document(job_id: str) -> None:
                bound.processor().prepare(job_id)

            def process_chunk(job_id: str, index: int) -> None:
                bound.processor().run_chunk(job_id, index)

            def merge_document(job_id: str) -> None:
                bound.processor().merge(job_id)

            def embed_passages(job_id: str, first: int) -> None:
                bound.processor().embed(job_id, first)

            steps = (process_document, process_chunk, merge_document, embed_passages)
            for name, function in zip(TASK_NAMES, steps, strict=True):
                function.__module__ = __name__
                setattr(bound, name, queue.task(name=name)(function))
            _bindings[id(queue)] = bound
        return bound


def _processor_from_env(bound: BoundTasks) -> Processor:
    """A worker's processor: its store and its enqueueing wait out a restart of PostgreSQL (or a busy SQLite)
    for up to ``PAPERLINE_TRANSIENT_RETRY_S`` instead of failing the step, or raising after a chunk was marked done
    and leaving its merge to recovery."""
    settings = Settings.from_env()
    budget = settings.transient_retry_s
    store = transient.retrying(lambda: open_store(settings), budget_s=budget, service=transient.JOB_STORE)
    store.retry_s = bound.retry_s = budget
    return Processor(settings, store, bound)


TASKS = bind_tasks(huey, _processor_from_env)
process_document, process_chunk, merge_document = TASKS.process_document, TASKS.process_chunk, TASKS.merge_document
embed_passages = TASKS.embed_passages


@huey.on_startup()
def start_worker_life() -> None:
    """Budgets, heartbeat and recovery sweep for this worker process (see ``pipeline.worker.life``)."""
    processor = TASKS.processor()
    limit_process(processor.settings)
    WorkerLife.start(processor)


@huey.on_shutdown()
def end_worker_life() -> None:
    """Say goodbye in the store at once when this worker process stops."""
    with transient.without_retries():  # a goodbye does not wait for a database that is down
        WorkerLife.stop(TASKS.processor().store)
