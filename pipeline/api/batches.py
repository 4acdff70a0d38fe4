"""The API's batch handlers: ``GET /batches/{id}``, its event stream, cancel all, retry the failed ones, and
every result as one zip.

The stream (``GET /batches/{id}/events/stream``) follows the process's one follower of the store
(``pipeline.live``, shared with the job streams and the dashboard): when a tick changes a job of a watched batch,
the batch is summed up again (one store query, however many clients watch it) and each stream is told. Messages:
``event: progress`` (the batch as ``GET /batches/{id}`` answers it, its ``progress`` never lower than one sent
before: a retried job going back to work holds the batch where it was) and ``event: end`` when every job of the
batch has ended. A comment line every heartbeat keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections import defaultdict
from typing import Any

from tornado.iostream import StreamClosedError

from pipeline.api.handlers import ApiHandler, DownloadHandler
from pipeline.api.problems import Problem
from pipeline.api.stream import HEARTBEAT_S, TOKEN_RECHECK_S, sse
from pipeline.core.batches import BatchView
from pipeline.core.metrics import API_STREAM_READS
from pipeline.live import ChangeFollower, Changes
from pipeline.server.context import server_context
from pipeline.service.paperline import Paperline

#: the zip is built in memory up to this size, on disk beyond it, then sent in pieces of ``SEND_BYTES``
SPOOL_BYTES = 8 * 1024 * 1024
SEND_BYTES = 256 * 1024


class BatchHub:
    """Fans the store's changes out to the streams of the batches they touch; listens only while someone watches."""

    def __init__(self, app: Paperline, follower: ChangeFollower) -> None:
        self.app, self.follower = app, follower
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = defaultdict(set)
        self._listening: int | None = None

    def subscribe(self, batch_id: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers[batch_id].add((loop, queue))
            if self._listening is None:
                self._listening = self.follower.listen(self)
                self.follower.start()

    def unsubscribe(self, batch_id: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers[batch_id].discard((loop, queue))
            if not self._subscribers[batch_id]:
                del self._subscribers[batch_id]
            if not self._subscribers and self._listening is not None:
                self.follower.forget(self._listening)
                self._listening = None

    def take_changes(self, changes: Changes, now: float) -> None:
        touched = {job.batch_id for job in changes.jobs if job.batch_id}
        with self._lock:
            watched = {batch_id: set(subs) for batch_id, subs in self._subscribers.items() if batch_id in touched}
        for batch_id, subscribers in watched.items():
            view = self.app.batch(batch_id, eta=False)
            API_STREAM_READS.inc()  # once per changed batch, however many watch it
            for loop, queue in subscribers:
                loop.call_soon_threadsafe(queue.put_nowait, view)

    def store_unreachable(self, now: float) -> None:
        """Streams keep waiting: the follower tries again, and a stream's own heartbeat keeps it open."""


_hub: BatchHub | None = None
_hub_lock = threading.Lock()


def shared_batch_hub() -> BatchHub:
    global _hub
    with _hub_lock:
        if _hub is None:
            context = server_context()
            _hub = BatchHub(context.app, context.follower)
        return _hub


class BatchHandler(ApiHandler):
    """``GET /batches/{id}``: counts by status, pages done of pages, progress, ETA."""

    async def get(self, batch_id: str) -> None:
        self.send_json((await self.run(self.app.batch, batch_id, user=self.scope)).to_dict())


class BatchActionHandler(ApiHandler):
    """``POST /batches/{id}/cancel`` (every job not yet ended) and ``POST /batches/{id}/retry`` (the failed
    chunks of each failed job)."""

    async def post(self, batch_id: str, action: str) -> None:
        act = self.app.cancel_batch if action == "cancel" else self.app.retry_batch
        self.send_json((await self.run(act, batch_id, user=self.scope)).to_dict())


class BatchResultsHandler(DownloadHandler):
    """``GET /batches/{id}/results``: each job's main result in one zip, with ``manifest.json`` listing every job
    (and why one has no result). Built into a spooled file (memory up to ``SPOOL_BYTES``, disk beyond) and sent
    in pieces."""

    async def get(self, batch_id: str) -> None:
        view = await self.run(self.app.batch, batch_id, user=self.scope, eta=False)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            await self.run(self.app.write_batch_results, batch_id, spool, user=self.scope)
            size = spool.tell()
            spool.seek(0)
            self.set_header("Content-Type", "application/zip")
            self.set_header("Content-Length", str(size))
            self.set_header("Content-Disposition", f'attachment; filename="paperline-batch-{view.id}.zip"')
            while piece := spool.read(SEND_BYTES):
                self.write(piece)
                await self.flush()
        self.finish()


class BatchStreamHandler(ApiHandler):
    """The stream of one batch (see the module's docstring)."""

    async def get(self, batch_id: str) -> None:
        view = await self.run(self.app.batch, batch_id, user=self.scope, eta=False)  # 404 for another's batch
        hub = shared_batch_hub()
        loop, queue = asyncio.get_running_loop(), asyncio.Queue[BatchView]()
        await self.run(hub.subscribe, batch_id, loop, queue)  # before reading the batch, so nothing falls between
        highest = 0.0

        def message(current: BatchView) -> dict[str, Any]:
            nonlocal highest
            highest = max(highest, current.totals.progress)
            return {**current.to_dict(), "progress": round(highest, 2)}

        try:
            self.set_header("Content-Type", "text/event-stream; charset=utf-8")
            self.set_header("X-Accel-Buffering", "no")
            view = await self.run(self.app.batch, batch_id)
            self.write(sse("progress", message(view)))
            await self.flush()
            checked = wrote = loop.time()
            sent = view.to_dict()
            while not view.is_final:
                try:
                    item: BatchView | None = await asyncio.wait_for(queue.get(), timeout=TOKEN_RECHECK_S)
                except TimeoutError:
                    item = None
                now = loop.time()
                if self.token is not None and (item is None or now - checked >= TOKEN_RECHECK_S):
                    checked = now
                    refusal = await self.run(self.token_refusal)
                    if refusal:
                        self.write(sse("end", Problem(401, refusal).to_dict()))
                        await self.flush()
                        return
                if item is None:
                    if now - wrote >= HEARTBEAT_S:
                        self.write(": keepalive\n\n")
                        await self.flush()
                        wrote = now
                    continue
                view = item
                if view.to_dict() != sent:  # several changes of one tick may sum up alike
                    sent = view.to_dict()
                    self.write(sse("progress", message(view)))
                    await self.flush()
                    wrote = now
            self.write(sse("end", message(await self.run(self.app.batch, batch_id))))
            await self.flush()
        except StreamClosedError:
            pass  # the client went away; opening the stream again gives the batch as it is
        finally:
            hub.unsubscribe(batch_id, loop, queue)
