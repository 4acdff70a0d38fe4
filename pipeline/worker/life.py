"""A worker process's life in the store: heartbeats while it runs, the recovery sweep, the webhook deliveries, a
goodbye when it stops.

Every consumer process registers itself as ``host:pid`` and beats every ``PAPERLINE_HEARTBEAT_INTERVAL_S``, so
the CLI, the dashboard and notebooks can tell whether anything will run their jobs. A process that stops says so
at once (its own shutdown hook, and the consumer for every process it joined); only one killed with -9 is left to
the age of its last beat.

Each worker process also takes its budgets at start (``limit_process``): an address-space ceiling of
``PAPERLINE_WORKER_MEMORY_MB``, so a document that needs more fails alone with a MemoryError instead of starving
the host, and Pillow's pixel limit from ``PAPERLINE_MAX_IMAGE_PIXELS``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.jobs.ports import Stopping, worker_id
from pipeline.store import JobStore
from pipeline.worker.recovery import Sweeper

if TYPE_CHECKING:
    from huey import Huey

    from pipeline.core.settings import Settings
    from pipeline.jobs.steps import Processor

log = logging.getLogger("paperline.worker")


def limit_process(settings: Settings) -> None:
    """Budgets for this worker process: Pillow's decompression-bomb limit, and ``RLIMIT_AS`` lowered to
    ``PAPERLINE_WORKER_MEMORY_MB`` (0: left as it is; never raised above what the host already imposes). Where
    the ``resource`` module is missing (not POSIX) only the pixel budget applies. Tesseract, started by this
    process, inherits the ceiling."""
    from pipeline.documents.images import apply_pixel_budget

    apply_pixel_budget(settings.max_image_pixels)
    if settings.worker_memory_mb <= 0:
        return
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    wanted = settings.worker_memory_mb * 2**20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft == resource.RLIM_INFINITY or wanted < soft:
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


class WorkerLife:
    """The heartbeat, sweep and webhook threads of this process (thread workers share a process, and one of each)."""

    _stopped: dict[int, threading.Event] = {}
    _lock = threading.Lock()

    @classmethod
    def start(cls, processor: Processor) -> None:
        pid = os.getpid()
        with cls._lock:
            if pid in cls._stopped:
                return
            stopped = cls._stopped[pid] = threading.Event()
        store, settings = processor.store, processor.settings
        me, host = worker_id(pid), socket.gethostname()
        sweeper = Sweeper(settings, store, processor.tasks)

        def beat() -> None:
            while not stopped.is_set():
                try:
                    store.beat_worker(me, host, pid)
                except Exception:
                    log.exception("worker heartbeat failed")
                stopped.wait(settings.heartbeat_interval_s)

        def sweep() -> None:
            while not stopped.is_set():
                try:
                    sweeper.sweep()
                except Exception:
                    log.exception("recovery sweep failed")
                stopped.wait(settings.sweep_interval_s)

        def deliver() -> None:
            from pipeline.webhooks.dispatcher import Dispatcher

            dispatcher = Dispatcher(settings, store)
            try:
                dispatcher.run(stopped)
            finally:
                dispatcher.close()

        threading.Thread(target=beat, name="paperline-heartbeat", daemon=True).start()
        threading.Thread(target=sweep, name="paperline-recovery", daemon=True).start()
        threading.Thread(target=deliver, name="paperline-webhooks", daemon=True).start()

    @classmethod
    def stop(cls, store: JobStore) -> None:
        """Stop beating and record the goodbye, so nothing counts this process as alive any more."""
        with cls._lock:
            stopped = cls._stopped.pop(os.getpid(), None)
        if stopped is None:
            return
        stopped.set()
        try:
            store.worker_stopped([worker_id()])
        except Exception:
            log.exception("could not record that the worker stopped")


def prepare_metrics(settings: Settings) -> Path:
    """Multiprocess mode for prometheus_client: call before anything imports it (and before the consumer forks)."""
    directory = settings.home / "metrics" / str(os.getpid())
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def serve_metrics(store: JobStore, address: str, port: int) -> None:
    """``/metrics`` for this worker host: the consumer's processes summed, and the store's view."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    from pipeline.worker.metrics import StoreCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(StoreCollector(store))
    start_http_server(port, addr=address, registry=registry)


def run_consumer(
    queue: Huey,
    settings: Settings,
    store: JobStore,
    *,
    workers: int,
    worker_type: str,
    metrics: tuple[str, int] | None = None,
) -> None:
    """Run Huey's consumer until it is stopped; then record every one of its processes as stopped. With
    ``metrics`` (address, port), serve ``/metrics`` for the host meanwhile."""
    from pipeline.profiles.registry import load_plugins

    load_plugins(settings)  # before the workers fork: every one renders with the same profiles, plug-ins included
    if metrics is not None:
        serve_metrics(store, *metrics)
    if settings.anthropic_api_key_set:
        # Load the Claude engine (and the anthropic SDK, ~1 s of CPU) once, here before the consumer forks its
        # workers, rather than in every worker on its first chunk (or in every process that merely submits).
        from pipeline.engines import claude  # noqa: F401
    consumer = queue.create_consumer(
        workers=workers,
        worker_type=worker_type,
        max_delay=settings.worker_poll_max_delay_s,
        initial_delay=min(0.05, settings.worker_poll_max_delay_s),
        periodic=True,
        check_worker_health=True,
        # A stop asks running chunks to let go at their next page (Stopping.asked); a page still running
        # after the grace is interrupted, and its chunk handed back too.
        shutdown_timeout=settings.shutdown_grace_s,
    )
    Stopping.flag = consumer.stop_flag  # before the workers fork, so each inherits it
    try:
        consumer.run()
    finally:
        # Graceful stops say goodbye from each worker process; SIGTERM ends them without it, so the consumer
        # records them all (kill -9 leaves it to the heartbeat's age). Each is joined first (bounded), so no
        # heartbeat of a dying process lands after the goodbye.
        processes = [process for _, process in consumer.worker_threads]
        deadline = time.monotonic() + 10
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        pids = {os.getpid(), *(getattr(process, "pid", None) for process in processes)}
        store.worker_stopped([worker_id(pid) for pid in pids if pid])
