"""The API's batch handlers: ``GET /batches/{id}``, its event stream, cancel all, retry the failed ones, and
every result as one zip.

The stream (``GET /batches/{id}/events/stream``) follows the process's one follower of the store
(``pipeline.live``, shared with the job streams and the dashboard): when a tick changes a job of a watched batch,
the batch is summed up again (one store query, however many clients watch it: ``BatchHub``) and each stream is
told. Messages:
``event: progress`` (the batch as ``GET /batches/{id}`` answers it, its ``progress`` never lower than one sent
before: a retried job going back to work holds the batch where it was) and ``event: end`` when every job of the
batch has ended; heartbeats and token checks as every stream of the API (``pipeline.api.sse``).
"""

from __future__ import annotations

import tempfile
from typing import Any

from pipeline.api.handlers import ApiHandler, DownloadHandler
from pipeline.api.sse import StreamHandler, StreamHub, sse
from pipeline.core.batches import BatchView
from pipeline.live import Changes

#: the zip is built in memory up to this size, on disk beyond it, then sent in pieces of ``SEND_BYTES``
SPOOL_BYTES = 8 * 1024 * 1024
SEND_BYTES = 256 * 1024


class BatchHub(StreamHub):
    """Keyed by batch: a batch whose jobs changed, summed up again."""

    def touched(self, changes: Changes) -> set[str]:
        return {job.batch_id for job in changes.jobs if job.batch_id}

    def items(self, batch_id: str, changes: Changes) -> list[Any]:
        return [self.app.batch(batch_id, eta=False)]


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


class BatchStreamHandler(StreamHandler):
    """The stream of one batch (see the module's docstring)."""

    hub = BatchHub

    async def get(self, batch_id: str) -> None:
        await self.run(self.app.batch, batch_id, user=self.scope, eta=False)  # 404 for another's batch
        self.highest, self.sent = 0.0, dict[str, Any]()
        await self.follow(batch_id)

    def _message(self, view: BatchView) -> dict[str, Any]:
        """The batch, its progress never lower than one sent before."""
        self.highest = max(self.highest, view.totals.progress)
        return {**view.to_dict(), "progress": round(self.highest, 2)}

    async def opening(self, batch_id: str) -> bool:
        view = await self.run(self.app.batch, batch_id)
        self.sent = view.to_dict()
        self.write(sse("progress", self._message(view)))
        return view.is_final

    async def take(self, item: Any) -> tuple[bool, bool]:
        view: BatchView = item
        if view.to_dict() == self.sent:  # several changes of one tick may sum up alike
            return False, view.is_final
        self.sent = view.to_dict()
        self.write(sse("progress", self._message(view)))
        return True, view.is_final

    async def closing(self, batch_id: str) -> None:
        self.write(sse("end", self._message(await self.run(self.app.batch, batch_id))))
